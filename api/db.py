"""The one database handle: a proxy bound by the app factory from DATABASE_URL."""

import importlib.util
import select
import time
from pathlib import Path
from urllib.parse import urlparse

from peewee import DatabaseProxy
from playhouse.db_url import parse
from playhouse.pool import PooledSqliteDatabase
from playhouse.postgres_ext import PooledPostgresqlExtDatabase

from api.config import default_database_url

database = DatabaseProxy()

SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("synchronous", "normal"),
    # Writes are serialised (BEGIN IMMEDIATE): a writer queues behind the others instead of failing fast,
    # for at most this long (ms); then its request is a 503 with Retry-After (api/errors.py).
    ("busy_timeout", 10000),
    # 8 MB per connection: each worker thread keeps its own pooled connection and that much page
    # cache (and as much again for a sort), so this bounds a worker's memory; the OS caches the rest.
    ("cache_size", -8000),
)


PG_CONNECT_TIMEOUT = 2  # seconds per attempt (libpq makes two with sslmode=prefer, the default)
PG_STATEMENT_TIMEOUT_MS = 30_000  # an export streams many short fetches; no single statement runs this long
# How long a request waits for any one answer of PostgreSQL: past the statement timeout, which the server
# enforces, only a stalled server or network is silent this long (`_bounded_wait`).
PG_STALL_TIMEOUT = PG_STATEMENT_TIMEOUT_MS / 1000 + 5


def _unicode_lower(text):
    return text.lower() if isinstance(text, str) else text


class MissingDriver(RuntimeError):
    """The database the URL names needs a driver that is not installed."""


def open_database(url):
    """Build a pooled database for a sqlite:/// or postgresql:// URL."""
    scheme = urlparse(url).scheme
    params = parse(url)
    if scheme == "sqlite":
        path = params.pop("database")
        if url == default_database_url():
            # The default lives in a directory of its own, made on first use; a path given is taken as given.
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Threaded workers hand pooled connections from one thread to the next, one thread at a time.
        db = PooledSqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            max_connections=32,
            stale_timeout=300,
            check_same_thread=False,
        )
        # SQLite's own lower() folds ASCII only; search must fold "Ü" as PostgreSQL does.
        db.register_function(_unicode_lower, "lower", 1, deterministic=True)
        return db
    if scheme in ("postgres", "postgresql"):
        if importlib.util.find_spec("psycopg2") is None:
            raise MissingDriver(
                "DATABASE_URL names PostgreSQL, but its driver is not installed: pip install 'eventledger[postgres]'"
            )
        name = params.pop("database")
        # A server that is down or stalled must not hold a request for long: connecting and each statement
        # are bounded (the URL's own settings win), and the request becomes a 503 (api/errors.py).
        params.setdefault("connect_timeout", PG_CONNECT_TIMEOUT)
        options = params.get("options", "")
        if "statement_timeout" not in options:
            params["options"] = f"{options} -c statement_timeout={PG_STATEMENT_TIMEOUT_MS}".strip()
        _bound_every_wait()
        # The Ext database can stream a query through a server-side cursor (exports use it).
        return PooledPostgresqlExtDatabase(name, max_connections=32, stale_timeout=300, **params)
    raise ValueError(f"DATABASE_URL: unsupported scheme '{scheme}' (use sqlite:/// or postgresql://)")


def _bound_every_wait():
    """Make psycopg2 wait for PostgreSQL through `_bounded_wait`.

    libpq blocks in the kernel for as long as an open connection stays silent: a server paused or a
    network dropping packets in the middle of a query would hold the request, and its worker thread,
    until the worker is killed. With a wait callback psycopg2 drives libpq without blocking and lets the
    callback wait, which gives up after a bounded time; the request is then a 503 (api/errors.py) and the
    connection, closed by psycopg2, leaves the pool. psycopg2 allows no COPY while a callback is set; this
    app uses none (a tool that does unsets it: `psycopg2.extensions.set_wait_callback(None)`).
    """
    import psycopg2.extensions  # the PostgreSQL driver is an optional dependency

    psycopg2.extensions.set_wait_callback(_bounded_wait)


def _bounded_wait(connection):
    import psycopg2
    from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE, STATUS_SETUP

    if connection.status == STATUS_SETUP:  # connecting: libpq leaves its connect_timeout to the caller here
        limit = float(connection.info.dsn_parameters.get("connect_timeout") or PG_CONNECT_TIMEOUT)
    else:
        limit = PG_STALL_TIMEOUT
    deadline = time.monotonic() + limit
    waiting = select.poll()
    while (state := connection.poll()) != POLL_OK:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise psycopg2.OperationalError(f"PostgreSQL did not answer within {limit:g} seconds (timed out)")
        events = select.POLLIN if state == POLL_READ else select.POLLOUT if state == POLL_WRITE else None
        if events is None:
            raise psycopg2.OperationalError(f"unexpected state {state} while waiting for PostgreSQL")
        waiting.register(connection.fileno(), events)
        waiting.poll(remaining * 1000)


# SQL text by (database class, shape): see `select_by_shape`.
_STATEMENTS = {}


def select_by_shape(shape, build, params):
    """The rows, as dicts of raw column values, of a SELECT whose SQL depends only on `shape`.

    Building a statement with peewee costs more than running a small one on SQLite, so the hot
    statements of a fixed shape (an IN list of a given length) are built once per database kind and
    then only executed. `build()` makes the query; its parameters must be `params`, in that order.
    """
    key = (type(database.obj), shape)
    sql = _STATEMENTS.get(key)
    if sql is None:
        sql, built = build().sql()
        if list(built) != list(params):
            raise ValueError(f"the statement of shape {shape!r} takes other parameters than those given")
        _STATEMENTS[key] = sql
    cursor = database.execute_sql(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def padded_ids(ids):
    """`ids` repeated at the end up to a power of two: the same IN list, of one of few lengths, so that
    `select_by_shape` keeps a handful of statements instead of one per batch size of an export."""
    ids = list(ids)
    size = 1 << max(len(ids) - 1, 0).bit_length()
    return ids + ids[-1:] * (size - len(ids))


def read_snapshot():
    """One read transaction, so that every statement of a GET sees the same committed data: SQLite's WAL
    gives each transaction its snapshot; PostgreSQL needs REPEATABLE READ for one (READ ONLY as well)."""
    if isinstance(database.obj, PooledPostgresqlExtDatabase):
        return database.atomic(isolation_level="REPEATABLE READ, READ ONLY")
    return database.atomic()


def bind_database(url):
    database.initialize(open_database(url))
    return database


def init_app(app):
    """Bind the database; a request connects on its first query and gives the connection back to the pool."""
    bind_database(app.config["DATABASE_URL"])

    @app.teardown_appcontext
    def _release(_exc):
        if not database.is_closed():
            database.close()
