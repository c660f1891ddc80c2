"""A benchmark SQLite file copied into PostgreSQL, in eventledger's own schema (for `sizes.py --postgres`).

    python bench/pg_copy.py copy /tmp/el-bench/events-100k.sqlite3 postgresql://postgres@127.0.0.1:5432/el_bench_100k
    python bench/pg_copy.py explain postgresql://.../el_bench_100k '/api/v1/events?limit=50&q=satellite'

`copy` (what `sizes.py --postgres` calls before it starts its servers) leaves the database alone when it is a
complete copy of the file: the same `dataset_state` (revision, and the cursor secret made at random when the file
was built) and the same number of events, and the mark that the copy finished (the database's comment). Else it
drops and creates the database, lets eventledger make its schema (`create_tables()`: tables, indexes, the
generated `search_vector` columns and their GIN indexes), and copies every row of every table the file and the
schema share: the records, their `*_json` stored representations, the link tables (with their copies of the
events' dates and `leading`), dataset_state and the (empty) tables of keys, changes and webhooks; SQLite's FTS5
tables are left out (PostgreSQL's search reads its generated columns). The rows go through COPY ... FORMAT csv
in batches read by sqlite3, with `session_replication_role = replica` (no foreign-key triggers), the indexes
that back no constraint dropped for the copy and made again from their own definitions after it; then the id
sequences are set past the largest id, and VACUUM ANALYZE. Every table's row count is checked against the file.

`explain` prints EXPLAIN (ANALYZE, BUFFERS) of each statement eventledger runs for a request on that database
(peewee's SQL, captured around two test-client requests with RESPONSE_CACHE_SIZE=0; the second is what a
benchmark repeats: a list's count is kept from the first), with `--json` as JSON.
"""

import argparse
import datetime
import io
import json
import logging
import re
import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import psycopg2.extensions

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BATCH = 10_000
FTS5_SHADOWS = ("_data", "_idx", "_docsize", "_config", "_content")
# The names this benchmark may create and drop, and nothing else.
DATABASE_NAME = re.compile(r"el_bench_[0-9a-z]+")


def database_name(url):
    name = urlparse(url).path.lstrip("/")
    if not DATABASE_NAME.fullmatch(name):
        raise ValueError(f"{url}: the benchmark only makes databases named el_bench_<size>")
    return name


def admin_connection(url):
    conn = psycopg2.connect(url.replace(urlparse(url).path, "/postgres"))
    conn.autocommit = True
    return conn


def sqlite_state(path):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        revision, secret = conn.execute("SELECT revision, cursor_secret FROM dataset_state WHERE id = 1").fetchone()
        events = conn.execute("SELECT count(*) FROM event").fetchone()[0]
    finally:
        conn.close()
    return {"revision": revision, "cursor_secret": secret, "events": events}


def copied_state(url):
    """The copy's dataset_state, event count and its mark ({} when the database is missing or half made)."""
    admin = admin_connection(url)
    try:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (database_name(url),),
            )
            found = cur.fetchone()
    finally:
        admin.close()
    if not found or not found[0]:
        return {}
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT revision, cursor_secret FROM dataset_state WHERE id = 1")
            revision, secret = cur.fetchone() or (None, None)
            cur.execute("SELECT count(*) FROM event")
            events = cur.fetchone()[0]
    except psycopg2.Error:
        return {}
    finally:
        conn.close()
    return {"revision": revision, "cursor_secret": secret, "events": events, "mark": json.loads(found[0])}


def ensure_copy(path, url, log=print):
    """The database as a copy of the file: made when missing or not the file's. {"copied": this run or not,
    "seconds": of the copy that made it, "tables": rows per table, ...}."""
    want, have = sqlite_state(path), copied_state(url)
    if have and all(have[key] == want[key] for key in want):
        log(
            f"{url}: already a copy of {path} (revision {want['revision']}, {want['events']:,} events), "
            f"made {have['mark']['date']} in {have['mark']['seconds']:.0f} s"
        )
        return {**have["mark"], "copied": False}
    if have:
        log(
            f"{url}: revision {have['revision']}, {have['events']:,} events; the file has revision "
            f"{want['revision']}, {want['events']:,} events: copying again"
        )
    return {**copy(path, url, log), "copied": True}


def sqlite_tables(lite):
    """{table: [columns]} of the file's ordinary tables, without FTS5 tables and their shadow tables."""
    rows = lite.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    shadows = {f"{name}{suffix}" for name in virtual for suffix in FTS5_SHADOWS}
    return {
        name: [row[1] for row in lite.execute(f'PRAGMA table_info("{name}")')]
        for name, _ in rows
        if name not in virtual and name not in shadows and not name.startswith("sqlite_")
    }


def pg_columns(cur):
    """{table: [(column, data type)]} of the schema's tables, generated columns left out, in table order."""
    cur.execute(
        "SELECT c.table_name, c.column_name, c.data_type, c.is_generated FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
        "ORDER BY c.table_name, c.ordinal_position"
    )
    tables, generated = {}, []
    for table, column, data_type, is_generated in cur.fetchall():
        if is_generated != "NEVER":
            generated.append(f"{table}.{column}")
            continue
        tables.setdefault(table, []).append((column, data_type))
    return tables, generated


def _text(value):
    return '"' + str(value).replace('"', '""') + '"'


def _converter(data_type):
    """A value of SQLite's as a CSV field for a PostgreSQL column: NULL an unquoted empty field, every
    string quoted (an empty string is then not NULL), 0/1 of a boolean column t/f."""
    if data_type == "boolean":
        return lambda v: "" if v is None else ("t" if v else "f")
    if data_type == "bytea":
        return lambda v: "" if v is None else "\\x" + bytes(v).hex()

    def convert(v):
        if v is None:
            return ""
        if isinstance(v, int | float):
            return repr(v)
        return _text(v)

    return convert


def copy(path, url, log=print):
    name = database_name(url)
    started = time.monotonic()
    admin = admin_connection(url)
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()

    sys.path.insert(0, str(ROOT))
    from api import create_app
    from api.db import database
    from api.migrations import create_tables

    app = create_app({"DATABASE_URL": url})
    with app.app_context(), database.connection_context():
        create_tables()
    database.close_all()
    # The app waits for PostgreSQL through a psycopg2 wait callback (api.db._bounded_wait), under which
    # psycopg2 refuses COPY: this process's own connection copies without it.
    psycopg2.extensions.set_wait_callback(None)
    schema_seconds = time.monotonic() - started

    lite = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn = psycopg2.connect(url)
    timings, counts = {}, {}
    try:
        with conn, conn.cursor() as cur:
            in_file = sqlite_tables(lite)
            in_schema, generated = pg_columns(cur)
            shared = [table for table in in_schema if table in in_file]
            only_file = sorted(set(in_file) - set(in_schema))
            only_schema = sorted(set(in_schema) - set(in_file))
            log(
                f"copy {path} -> {url}: {len(shared)} tables; not in the schema {only_file or 'none'}, "
                f"not in the file {only_schema or 'none'}; generated (left to PostgreSQL) {generated}"
            )
            for table in shared:
                mine = {column for column, _ in in_schema[table]}
                theirs = set(in_file[table])
                if mine != theirs:
                    raise RuntimeError(
                        f"{table}: columns only in the file {sorted(theirs - mine)}, "
                        f"only in PostgreSQL {sorted(mine - theirs)}"
                    )
            cur.execute("SET session_replication_role = replica")
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in shared))  # create_tables' dataset_state row
            cur.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relnamespace = current_schema()::regnamespace "
                "AND t.relname = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                (shared,),
            )
            indexes = cur.fetchall()
            for index, _ in indexes:
                cur.execute(f"DROP INDEX {index}")
            for table in shared:
                table_started = time.monotonic()
                columns = [column for column, _ in in_schema[table]]
                convert = [_converter(data_type) for _, data_type in in_schema[table]]
                quoted = ", ".join(f'"{column}"' for column in columns)
                rows = lite.execute(f'SELECT {quoted} FROM "{table}"')
                statement = f'COPY "{table}" ({quoted}) FROM STDIN WITH (FORMAT csv)'
                while batch := rows.fetchmany(BATCH):
                    text = "\n".join(",".join([f(v) for f, v in zip(convert, row, strict=True)]) for row in batch)
                    cur.copy_expert(statement, io.StringIO(text + "\n"))
                timings[table] = time.monotonic() - table_started
            index_started = time.monotonic()
            for _, definition in indexes:
                cur.execute(definition)
            timings["(indexes)"] = time.monotonic() - index_started
            for table in shared:
                if dict(in_schema[table]).get("id") in ("integer", "bigint"):
                    cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',))
                    sequence = cur.fetchone()[0]
                    if sequence:
                        cur.execute(
                            f'SELECT setval(%s, max(id)) FROM "{table}" HAVING max(id) IS NOT NULL', (sequence,)
                        )
        conn.autocommit = True
        with conn.cursor() as cur:
            vacuum_started = time.monotonic()
            cur.execute("VACUUM ANALYZE")
            timings["(vacuum analyze)"] = time.monotonic() - vacuum_started
        counts, wrong = table_counts(lite, conn, shared)
        if wrong:
            raise RuntimeError(f"rows after the copy differ from the file's: {wrong}")
        seconds = time.monotonic() - started
        mark = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "source": str(path),
            "seconds": round(seconds, 1),
            "schema_seconds": round(schema_seconds, 1),
            "table_seconds": {table: round(value, 1) for table, value in timings.items()},
            "tables": counts,
        }
        with conn.cursor() as cur:
            cur.execute(f'COMMENT ON DATABASE "{name}" IS %s', (json.dumps(mark),))  # the copy is complete
    finally:
        conn.close()
        lite.close()
    slowest = sorted(timings.items(), key=lambda item: -item[1])[:6]
    log(
        f"copied {sum(counts.values()):,} rows in {seconds:.0f} s (schema {schema_seconds:.0f} s; "
        + ", ".join(f"{table} {value:.0f} s" for table, value in slowest)
        + ")"
    )
    return mark


def table_counts(lite, conn, tables):
    """({table: rows in PostgreSQL}, {table: (file's, PostgreSQL's)} where they differ)."""
    counts, wrong = {}, {}
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cur.fetchone()[0]
            theirs = lite.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if theirs != counts[table]:
                wrong[table] = (theirs, counts[table])
    return counts, wrong


def check(path, url, stored_tables):
    """What is missing in the copy: [problem], empty when none (every shared table has the file's rows, the
    file's dataset revision, and every record its stored JSON and CSV row)."""
    lite = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn = psycopg2.connect(url)
    problems = []
    try:
        with conn.cursor() as cur:
            in_schema, _ = pg_columns(cur)
        shared = [table for table in in_schema if table in sqlite_tables(lite)]
        _, wrong = table_counts(lite, conn, shared)
        problems += [
            f"{table}: {theirs:,} rows in the file, {mine:,} in PostgreSQL" for table, (theirs, mine) in wrong.items()
        ]
        have, want = copied_state(url), sqlite_state(path)
        if have.get("revision") != want["revision"]:
            problems.append(f"dataset revision {have.get('revision')}, the file's {want['revision']}")
        with conn.cursor() as cur:
            for table in stored_tables:
                stored = [column for column, _ in in_schema[f"{table}_json"] if column != "id"]
                absent = " OR ".join(["j.id IS NULL", *(f'j."{column}" IS NULL' for column in stored)])
                cur.execute(
                    f'SELECT count(*) FROM "{table}" t LEFT JOIN "{table}_json" j ON j.id = t.id WHERE {absent}'
                )
                if missing := cur.fetchone()[0]:
                    problems.append(f"{table}: {missing:,} records without their stored representation")
    finally:
        conn.close()
        lite.close()
    return problems


def describe(url):
    """PostgreSQL's version and settings, and the database's size."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
            cur.execute("SELECT pg_database_size(current_database())")
            size = cur.fetchone()[0]
            settings = {}
            for setting in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit"):
                cur.execute(f"SHOW {setting}")
                settings[setting] = cur.fetchone()[0]
    finally:
        conn.close()
    return {"version": version, "mib": round(size / 2**20, 1), "settings": settings}


def prewarm(url):
    """Read every relation of the database once (pg_prewarm 'read': into the OS page cache), as sizes.py reads
    the SQLite file before its servers start."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cur.execute(
                "SELECT coalesce(sum(pg_prewarm(c.oid::regclass, 'read')), 0) FROM pg_class c "
                "WHERE c.relkind IN ('r', 'i', 't') AND c.relpersistence = 'p' "
                "AND c.relnamespace IN (current_schema()::regnamespace, 'pg_toast'::regnamespace)"
            )
            return cur.fetchone()[0]
    finally:
        conn.close()


# --- EXPLAIN of eventledger's statements ----------------------------------------------------------------------


def app_statements(url, path, config):
    """[[(sql, params)] of the first request, of the second] that eventledger runs for `path` on `url`."""
    sys.path.insert(0, str(ROOT))
    from api import create_app

    client = create_app({"DATABASE_URL": url, "RESPONSE_CACHE_SIZE": 0, **config}).test_client()
    captured = []

    class Capture(logging.Handler):
        def emit(self, record):
            if isinstance(record.msg, tuple):
                captured.append((record.msg[0], list(record.msg[1] or ())))

    peewee_log = logging.getLogger("peewee")
    handler = Capture()
    peewee_log.addHandler(handler)
    peewee_log.setLevel(logging.DEBUG)
    runs = []
    try:
        for _ in range(2):
            captured.clear()
            response = client.get(path)
            response.get_data()
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}: {response.get_data()[:300]!r}")
            runs.append(list(captured))
    finally:
        peewee_log.removeHandler(handler)
    return runs


def explain(url, path, config):
    """[{"sql", "params", "repeated" (in the second request too), "plan"}] for each statement of the first
    request, each EXPLAINed twice and the second (cached) plan kept."""
    first, second = app_statements(url, path, config)
    repeated = [sql for sql, _ in second]
    conn = psycopg2.connect(url)
    found = []
    try:
        with conn.cursor() as cur:
            for sql, params in first:
                for _ in range(2):
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    plan = "\n".join(row[0] for row in cur.fetchall())
                conn.rollback()
                found.append({"sql": sql, "params": params, "repeated": sql in repeated, "plan": plan})
    finally:
        conn.close()
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    copying = commands.add_parser("copy", help="make the database a copy of the file (if it is not)")
    copying.add_argument("sqlite")
    copying.add_argument("url")
    copying.add_argument("--force", action="store_true", help="copy even if it is a copy already")
    explaining = commands.add_parser("explain", help="EXPLAIN (ANALYZE, BUFFERS) eventledger's SQL for a request")
    explaining.add_argument("url")
    explaining.add_argument("path")
    explaining.add_argument("--cursor-secret", default="bench-sizes-cursor-secret")
    explaining.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.command == "copy":
        print(json.dumps(copy(args.sqlite, args.url) if args.force else ensure_copy(args.sqlite, args.url), indent=1))
        return
    config = {"CURSOR_SECRET": args.cursor_secret, "RATE_LIMIT": "1000000000/60"}
    found = explain(args.url, args.path, config)
    if args.json:
        print(json.dumps(found))
        return
    for entry in found:
        print(f"-- {'every request' if entry['repeated'] else 'first request only'}; params {entry['params']}")
        print(entry["sql"])
        print(entry["plan"], end="\n\n")


if __name__ == "__main__":
    main()
