"""Test databases restored from templates made once per worker: an empty one and one holding the shipped dataset.

Creating the tables (and their search indexes) and loading the seed take longer than most tests;
restoring them is a file copy on SQLite and a DELETE plus INSERT ... SELECT on PostgreSQL.
A test may drop, alter or empty any table: SQLite gets a new file every time, and PostgreSQL's
schema is compared with the template's before each restore and made anew when it differs.

The records a test loads into a fresh database are kept the same way, under the records given
(`save_state`), so that the next test loading the same ones gets them restored (`restore_state`).
"""

import copy
import os
import shutil
import sqlite3
from pathlib import Path

import psycopg2
import pytest

from api.db import bind_database, database
from api.migrations import create_tables
from api.tables import ALL_MODELS, JOIN_MODELS, RECORD_MODELS, STORED_JSON, Change, DatasetState, SourceDocument
from seed.loader import write_fixtures

TEMPLATES = ("empty", "seeded")

# What a load writes: the records, their links, the change log and the revision (in the order they refer).
DATA_MODELS = (*RECORD_MODELS, SourceDocument, *STORED_JSON.values(), *JOIN_MODELS, Change, DatasetState)


def postgres_unavailable(url):
    """Why PostgreSQL cannot be used, or None."""
    try:
        psycopg2.connect(url, connect_timeout=3).close()
    except Exception as error:  # any failure to connect is a reason to skip
        return f"PostgreSQL not reachable at {url}: {error}".strip()
    return None


def require_postgres(url):
    """Skip the test when PostgreSQL cannot be reached, or fail it where it is required (REQUIRE_POSTGRES=1)."""
    reason = postgres_unavailable(url)
    if reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _build(url, seed_fixtures, seeded):
    bind_database(url)
    with database.connection_context():
        database.drop_tables(ALL_MODELS, safe=True, cascade=url.startswith("postgres"))
        create_tables()
        if seeded:
            write_fixtures(copy.deepcopy(seed_fixtures))
    database.close_all()


class SqliteTemplates:
    def __init__(self, directory, seed_fixtures):
        self.directory = Path(directory)
        self.states, self.summaries, self._columns = {}, {}, {}
        self.files = {}
        for name in TEMPLATES:
            path = Path(directory) / f"{name}.sqlite3"
            _build(f"sqlite:///{path}", seed_fixtures, seeded=name == "seeded")
            # Closing the last connection checkpointed the write-ahead log into the file: it is all there.
            assert not Path(f"{path}-wal").exists()
            self.files[name] = path

    def restore(self, url, seeded):
        self._copy(self.files["seeded" if seeded else "empty"], url)

    @staticmethod
    def _copy(source, url):
        path = Path(url.removeprefix("sqlite:///"))
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(source, path)

    def save_state(self, url, key):
        self.states[key] = self.directory / f"state-{len(self.states)}.sqlite3"
        with sqlite3.connect(url.removeprefix("sqlite:///")) as source, sqlite3.connect(self.states[key]) as copy_:
            source.backup(copy_)
        # `with` commits but does not close: the copy must be whole on disk before it is read.
        source.close()
        copy_.close()

    def restore_state(self, url, key):
        database.close_all()
        self._copy(self.states[key], url)
        return True


# The tables, columns, indexes and triggers of a schema, in one string: a test that dropped or
# altered anything changes it.
SCHEMA_SHAPE = """
SELECT string_agg(concat_ws(':', c.relname, c.relkind, cols.names, trg.names), ',' ORDER BY c.relname)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (SELECT string_agg(a.attname, '|' ORDER BY a.attnum) AS names FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) cols ON true
LEFT JOIN LATERAL (SELECT string_agg(t.tgname, '|' ORDER BY t.tgname) AS names FROM pg_trigger t
                   WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) trg ON true
WHERE n.nspname = %s
"""


class PostgresTemplates:
    """The test schema, and a schema per template holding a copy of each table's rows."""

    def __init__(self, server_url, schema, seed_fixtures):
        self.server_url, self.schema, self.seed_fixtures = server_url, schema, seed_fixtures
        # JIT compiles a query the planner thinks costly, which for these small tables costs more than it saves
        # (0.3 s for the schema's shape); the app's own queries of a test's few rows are no different.
        self.url = f"{server_url}?options=-c%20search_path%3D{schema}%20-c%20jit%3Doff"
        self.tables = [model._meta.table_name for model in ALL_MODELS]
        self.serial_tables = [
            model._meta.table_name for model in ALL_MODELS if model._meta.primary_key.field_type == "AUTO"
        ]
        self.states, self.summaries, self._columns = {}, {}, {}
        self.connection = psycopg2.connect(server_url, options="-c jit=off")
        self.connection.autocommit = True
        for name in TEMPLATES:
            self._execute(f"DROP SCHEMA IF EXISTS {self._template(name)} CASCADE; CREATE SCHEMA {self._template(name)}")
            self._make_schema()
            _build(self.url, seed_fixtures, seeded=name == "seeded")
            for table in self.tables:
                columns = self._stored(table)
                self._execute(
                    f'CREATE TABLE {self._template(name)}."{table}" AS SELECT {columns} FROM {schema}."{table}"'
                )
        self.shape = self._shape()

    def _stored(self, table):
        """The table's columns but generated ones (a stored tsvector), which PostgreSQL computes on insert."""
        if table not in self._columns:
            rows = self._execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "AND is_generated = 'NEVER' ORDER BY ordinal_position",
                (self.schema, table),
            )
            self._columns[table] = ", ".join(f'"{name}"' for (name,) in rows)
        return self._columns[table]

    def _template(self, name):
        return f"{self.schema}_{name}"

    def _execute(self, sql, params=None):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else None

    def _make_schema(self):
        self._execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE; CREATE SCHEMA {self.schema}")
        bind_database(self.url)
        with database.connection_context():
            create_tables()
        database.close_all()

    def _shape(self):
        return self._execute(SCHEMA_SHAPE, (self.schema,))[0][0]

    def restore(self, url, seeded):
        if self._shape() != self.shape:
            self._make_schema()
        template = self._template("seeded" if seeded else "empty")
        # DELETE, children first: on a few rows it is far cheaper than TRUNCATE, which makes new files.
        statements = ["BEGIN", *(f'DELETE FROM {self.schema}."{table}"' for table in reversed(self.tables))]
        statements += [
            f'INSERT INTO {self.schema}."{table}" ({self._stored(table)}) TABLE {template}."{table}"'
            for table in self.tables
        ]
        statements += [
            f"SELECT setval(pg_get_serial_sequence('{self.schema}.\"{table}\"', 'id'), "
            f'coalesce((SELECT max(id) FROM {self.schema}."{table}"), 0) + 1, false)'
            for table in self.serial_tables
        ]
        self._execute("; ".join([*statements, "COMMIT"]))

    def save_state(self, url, key):
        state = f"{self.schema}_state_{len(self.states)}"
        self._execute(f"DROP SCHEMA IF EXISTS {state} CASCADE; CREATE SCHEMA {state}")
        for model in DATA_MODELS:
            table = model._meta.table_name
            self._execute(
                f'CREATE TABLE {state}."{table}" AS SELECT {self._stored(table)} FROM {self.schema}."{table}"'
            )
        self.states[key] = state

    def restore_state(self, url, key):
        """The data tables as `save_state` kept them; False (and nothing changed) when other rows refer to them."""
        state = self.states[key]
        statements = ["BEGIN"]
        statements += [f'DELETE FROM {self.schema}."{m._meta.table_name}"' for m in reversed(DATA_MODELS)]
        statements += [
            f'INSERT INTO {self.schema}."{m._meta.table_name}" ({self._stored(m._meta.table_name)}) '
            f'TABLE {state}."{m._meta.table_name}"'
            for m in DATA_MODELS
        ]
        statements += [
            f"SELECT setval(pg_get_serial_sequence('{self.schema}.\"{m._meta.table_name}\"', 'id'), "
            f'coalesce((SELECT max(id) FROM {self.schema}."{m._meta.table_name}"), 0) + 1, false)'
            for m in DATA_MODELS
            if m._meta.primary_key.field_type == "AUTO"
        ]
        try:
            self._execute("; ".join([*statements, "COMMIT"]))
        except psycopg2.errors.ForeignKeyViolation:
            self._execute("ROLLBACK")
            return False
        return True

    def drop(self):
        database.close_all()
        for schema in (self.schema, *(self._template(name) for name in TEMPLATES), *self.states.values()):
            self._execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self.connection.close()
