"""The commands of the `eventledger` group (also `flask --app api ...`): init-db, seed, serve, export, keys, worker."""

import multiprocessing
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication

from api.auth import SCOPES, create_key, revoke_key
from api.changelog.webhooks import Worker
from api.config import display_url
from api.db import database
from api.errors import MAX_HEADER_FIELD_READ
from api.migrations import create_tables, migrate_database
from api.package import datapackage
from api.tables import ApiKey, dataset_revision
from seed.loader import DATA_DIR, DOCUMENTS_DIR, SeedError, load


def database_label():
    """The database this command uses, as it may be printed (without a password)."""
    return display_url(current_app.config["DATABASE_URL"])


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the tables if they do not exist."""
    with database.connection_context():
        create_tables()
    click.echo(f"Tables ready in {database_label()}")


@click.command("seed")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Directory of fixture files (default: the dataset shipped with eventledger).",
)
@with_appcontext
def seed_command(data_dir):
    """Validate and load the fixtures: idempotent, and all or nothing."""
    try:
        with database.connection_context():
            summary = load(data_dir or DATA_DIR)
    except SeedError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Seeded {database_label()}: {summary}")


# A worker's threads take turns holding the GIL: a thread rendering a page keeps it for up to the switch
# interval (5 ms by default) while the others wait, which makes the slow tail of cheap requests. 1 ms
# turns halved p99 at 10 connections in bench/ runs (bench/README.md) without costing throughput.
THREAD_SWITCH_INTERVAL = 0.001


def _shorter_thread_turns(_worker):
    sys.setswitchinterval(THREAD_SWITCH_INTERVAL)


@click.command("migrate")
@with_appcontext
def migrate_command():
    """Bring the database's schema up to date: each migration once, in order (back the database up first)."""
    url = database_label()
    with database.connection_context():
        before, after = migrate_database(DOCUMENTS_DIR, report=click.echo)
    state = "already up to date" if before == after else f"migrated from version {before}"
    click.echo(f"Schema version {after} in {url} ({state}).")


@click.command("serve")
@click.option("--host", default=None, help="Address to bind (default HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Worker processes (default WEB_CONCURRENCY or 2 x cores).")
@click.option("--threads", type=int, default=None, help="Threads per worker (default GUNICORN_THREADS or 4).")
@with_appcontext
def serve_command(host, port, workers, threads):
    """Serve the API with gunicorn, creating and seeding the database on first start."""
    app = current_app._get_current_object()
    click.echo(f"Database: {database_label()}", err=True)
    with database.connection_context():
        create_tables()
        if dataset_revision() == 0:
            click.echo(f"Seeding a new database: {load()}")
    database.close_all()  # workers are forked: each must open its own connections

    options = {
        "bind": f"{host or app.config['HOST']}:{port or app.config['PORT']}",
        "workers": workers or int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count())),
        # Threads, not sync workers: a streamed export of a large dataset runs for minutes, which a sync
        # worker would be killed for (its heartbeat stops while it serves), and it would hold a whole process.
        "worker_class": "gthread",
        "threads": threads or int(os.environ.get("GUNICORN_THREADS", 4)),
        # An access-log line per request costs the throughput of a cheap request a tenth, and more at p99:
        # off unless asked (`ACCESS_LOG=-` for stdout, or a file).
        "accesslog": os.environ.get("ACCESS_LOG") or None,
        # Each access line ends with the request's id (api/observability.py) and its duration.
        "access_log_format": '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(a)s" %({x-request-id}o)s %(M)sms',
        "limit_request_line": 0,  # api.errors enforces the URL limit with a problem+json 414
        # ... and the header limits with a problem+json 431: gunicorn reads fields up to this size (its
        # default, 8,190 bytes, would answer larger ones itself in plain text), at most 100 of them.
        "limit_request_field_size": MAX_HEADER_FIELD_READ,
        "post_worker_init": _shorter_thread_turns,
    }

    class Server(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--zip",
    "as_zip",
    is_flag=True,
    help="Write one archive, DIRECTORY/eventledger-r<revision>.zip (the bytes GET /api/v1/dataset.zip serves).",
)
@click.option("--force", is_flag=True, help="Write into DIRECTORY even if it is not empty, replacing package files.")
@with_appcontext
def export_command(directory, as_zip, force):
    """Write the dataset as a Frictionless data package: DIRECTORY/datapackage.json and DIRECTORY/data/*.csv."""
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise click.BadParameter(
            f"'{directory}' is not empty; pass --force to write the package into it anyway.", param_hint="'DIRECTORY'"
        )
    directory.mkdir(parents=True, exist_ok=True)
    with database.connection_context(), datapackage.snapshot() as snap:
        counts = datapackage.row_counts()
        # The bar goes to stderr, and only animates on a terminal: piped or logged, click prints its label once.
        with click.progressbar(
            length=sum(counts.values()),
            label=f"Exporting {snap.version}",
            file=sys.stderr,
            item_show_func=lambda table: table.path if table else None,
        ) as bar:

            def progress(rows, table):
                bar.update(rows, table)

            if as_zip:
                written = [directory / datapackage.archive_name(snap.revision)]
                with open(written[0], "wb") as archive:
                    for chunk in datapackage.zip_chunks(snap, progress):
                        archive.write(chunk)
            else:
                written = datapackage.write_directory(snap, directory, progress)
    for table in datapackage.tables():
        click.echo(f"{table.path}: {counts[table.name]} rows")
    click.echo(
        f"Wrote eventledger {snap.version} of {database_label()} "
        f"({len(counts)} tables, {sum(counts.values())} rows): " + ", ".join(str(path) for path in written)
    )


@click.group("keys")
@with_appcontext
def keys_group():
    """Create, list and revoke the API keys that may write (in the database at DATABASE_URL)."""
    # On stderr, so that `KEY=$(eventledger keys create bot)` still captures the key alone.
    click.echo(f"Database: {database_label()}", err=True)


def _api_key_table():
    """ApiKey, once its table is known to exist (a clear error, not a traceback, on a database never set up)."""
    if not ApiKey.table_exists():
        raise click.ClickException(f"{database_label()} has no API key table yet; run `eventledger init-db` first.")
    return ApiKey


@keys_group.command("create")
@click.argument("name")
@click.option(
    "--scope",
    type=click.Choice(list(SCOPES)),
    default="read-write",
    show_default=True,
    help="read-write changes records; admin also manages what other keys made.",
)
@with_appcontext
def keys_create_command(name, scope):
    """Make a key called NAME and print it, once.

    The key alone goes to standard output (`KEY=$(eventledger keys create bot)`); what it is, and the
    warning, go to standard error.
    """
    if not name.strip():
        raise click.BadParameter("give the key a name that says who holds it.", param_hint="'NAME'")
    with database.connection_context():
        _api_key_table()
        row, key = create_key(name.strip(), scope)
    click.echo(f"Created API key '{row.name}' with prefix {row.prefix} and scope {row.scope}:", err=True)
    click.echo(key)
    click.echo(
        "Store it now: it cannot be shown again (only its prefix and a hash are kept). "
        f"Revoke it with `eventledger keys revoke {row.prefix}`.",
        err=True,
    )


def _timestamp(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"


@keys_group.command("list")
@with_appcontext
def keys_list_command():
    """Show every key: prefix, name, scope, when it was created and revoked (never the key or its hash)."""
    with database.connection_context():
        api_key = _api_key_table()
        rows = list(api_key.select().order_by(api_key.created_at, api_key.id))
    if not rows:
        click.echo("No API keys yet; make one with `eventledger keys create NAME`.")
        return
    table = [("PREFIX", "NAME", "SCOPE", "CREATED", "REVOKED")]
    table += [(r.prefix, r.name, r.scope, _timestamp(r.created_at), _timestamp(r.revoked_at)) for r in rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@keys_group.command("revoke")
@click.argument("prefix")
@with_appcontext
def keys_revoke_command(prefix):
    """Revoke the key with PREFIX (the second part of `el_<prefix>_...`, as `keys list` shows it).

    It stops working at once. Revoking a revoked key changes nothing and says so.
    """
    with database.connection_context():
        api_key = _api_key_table()
        row = api_key.get_or_none(api_key.prefix == prefix)
        if row is None:
            raise click.ClickException(f"No API key has the prefix '{prefix}'; `eventledger keys list` shows them.")
        if not revoke_key(prefix):
            click.echo(f"API key {prefix} ('{row.name}') was already revoked at {_timestamp(row.revoked_at)}.")
            return
    click.echo(f"Revoked API key {prefix} ('{row.name}'): it no longer authenticates.")


@click.command("worker")
@click.option("--once", is_flag=True, help="Queue new changes, send every delivery that is due, and exit.")
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds to sleep between passes.")
@with_appcontext
def worker_command(once, interval):
    """Deliver webhooks: queue each new change for its subscriptions and send what is due, with retries.

    Run as many as you like: each claims its own deliveries. SIGTERM lets the delivery in flight finish.
    """
    with database.connection_context():
        create_tables()
    worker = Worker()
    if once:
        queued, attempts = worker.run_once()
        click.echo(f"Queued {queued} deliveries; made {attempts} attempts ({database_label()}).")
        return
    worker.stop_on_signals()
    click.echo(f"Delivering webhooks from {database_label()} (Ctrl-C or SIGTERM to stop)")
    worker.run_forever(interval)
    click.echo("Worker stopped.")


def init_app(app):
    commands = (init_db_command, seed_command, migrate_command, serve_command, export_command, keys_group)
    for command in (*commands, worker_command):
        app.cli.add_command(command)
