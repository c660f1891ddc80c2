"""One command per dataset size: eventledger against its floor, cold and warm, at 10 and 100 connections.

    python bench/sizes.py 10k|100k|1m [--duration 10] [--datasette-results /tmp/bench/results/<run>.json ...]
    python bench/sizes.py 10k --verify-only     # build, start, check every answer and the SQL; no load
    python bench/sizes.py 10k --sql             # print eventledger's and the floor's SQL per request
    python bench/sizes.py --report              # README section and plot again, from bench/results/sizes-*.json
    python bench/sizes.py 100k --postgres --servers floor,cold,cold-pg   # and eventledger on PostgreSQL

On a shared machine run it under the CPU lock: `flock /tmp/cpu.lock python bench/sizes.py 100k`.

1. The database `/tmp/el-bench/events-<size>.sqlite3` (`--data-dir`) is built if missing by
   `make_large_dataset.py` (eventledger's own schema; 10,000 / 100,000 / 1,000,000 events); then
   `eventledger init-db` brings it up to the app's current schema and renders any record's stored JSON
   and CSV row (`event_json`, ...) that is missing; a record still without them stops the run.
2. Servers, each in a session of its own on 127.0.0.1 (ports 8101-8105), all on that one file:
   `floor` (bench/floor.py: eventledger's SQL in a bare WSGI app) and `cold` / `warm` (`api:create_app()`
   with `RESPONSE_CACHE_SIZE=0` / default settings) under `gunicorn --workers 4 --worker-class sync`,
   no access log; `serve-cold` is `eventledger serve` with its README defaults (4 gthread workers x 4
   threads) and `RESPONSE_CACHE_SIZE=0` (`serve-warm`, the same with the cache, runs when named in
   `--servers`). eventledger gets DATABASE_URL, CURSOR_SECRET (the floor's too) and RATE_LIMIT=1000000000/60.
3. Checks, before any timing, and exits 1 when one fails: every server's answer to every request has the
   floor's records, in its order, with its count (CSV: the same rows; in full up to 100,000 events, else
   a 200-row sample and the row count of the timed download); and eventledger's SQL for each request,
   captured with peewee's logger around test-client requests, is statement for statement the floor's
   (`--allow-sql-drift` measures anyway and records the difference).
4. Load: each request with `wrk -t2` at 10 and at 100 connections (`--connections`), servers interleaved,
   a warm-up before each cell and a wait until every server is idle after it (for a PostgreSQL server,
   PostgreSQL's processes too: a query wrk abandoned runs on there); peak RSS of the server's process tree
   sampled from /proc every 0.2 s. A cell with fewer answers than connections (a request longer than the
   cell) runs once more for `--timeout` seconds, marked "over N s" in the tables. The CSV export is read by
   one client, for at most `--csv-seconds` (60), from the floor and the cold servers (no response cache
   holds an export).
5. Writes bench/results/sizes-<size>.json, regenerates the section between `<!-- sizes:begin -->` and
   `<!-- sizes:end -->` in bench/README.md (one table per size found in bench/results/) and draws
   bench/throughput-by-size.png. `--datasette-results` adds the `datasette-4w` column from the shared
   harness's results JSON (same number of events; matched by request and connections).

`--postgres` adds the server `cold-pg`: `cold` (the same gunicorn command and settings) with DATABASE_URL
postgresql://postgres@127.0.0.1:5432/el_bench_<size> (`--pg-url`). Before the servers start, bench/pg_copy.py
makes that database a copy of the file unless it is one already (the same dataset revision, cursor secret and
number of events): eventledger's create_tables() makes the schema, every table the two share is copied with
COPY (FTS5 tables and PostgreSQL's generated search columns left out), then VACUUM ANALYZE; `eventledger
init-db` runs on it as on the file, and a table whose rows differ from the file's or a record without its stored
representation stops the run. Its answers are checked as the others', but for the full-text search, which
PostgreSQL ranks and stems otherwise: there a 200 with a count and at most `limit` records (both counts are
recorded); the SQL check is SQLite's alone. It reads the CSV export like `cold`. After the load, EXPLAIN (ANALYZE,
BUFFERS) of eventledger's statements for cold-pg's slowest request, and for the one furthest behind `cold`, goes
into the results. A run with a PostgreSQL server writes bench/results/sizes-<size>-pg.json, not sizes-<size>.json,
so that it replaces no SQLite-only run: the README shows it as a section of its own after that size's, with the
line "PostgreSQL ÷ SQLite (cold, 4 sync)", and the plot draws cold-pg from it.
"""

import argparse
import csv
import datetime
import http.client
import io
import json
import logging
import os
import platform
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
RESULTS = HERE / "results"
README = HERE / "README.md"
PLOT = HERE / "throughput-by-size.png"
BEGIN, END = "<!-- sizes:begin -->", "<!-- sizes:end -->"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
CURSOR_SECRET = "bench-sizes-cursor-secret"
EL_ENV = {"CURSOR_SECRET": CURSOR_SECRET, "RATE_LIMIT": "1000000000/60"}
GUNICORN = [str(BIN / "gunicorn"), "--workers", "4", "--worker-class", "sync", "--backlog", "2048"]
# --timeout 600: a sync worker streaming a 1M-event export must not be killed by the 30 s heartbeat timeout.
GUNICORN += ["--log-level", "warning", "--timeout", "600"]

# name: (label in the tables, what runs, extra environment, whether it measures the CSV export)
SERVERS = {
    "floor": ("floor", "floor", {}, True),
    "cold": ("cold, 4 sync", "app", {"RESPONSE_CACHE_SIZE": "0"}, True),
    "warm": ("warm, 4 sync", "app", {}, False),
    "serve-cold": ("cold, `serve`", "serve", {"RESPONSE_CACHE_SIZE": "0"}, True),
    "serve-warm": ("warm, `serve`", "serve", {}, False),
    "cold-pg": ("cold, 4 sync, PostgreSQL", "app", {"RESPONSE_CACHE_SIZE": "0"}, True),
}
PG_SERVERS = ("cold-pg",)  # on the PostgreSQL copy of the file, DATABASE_URL `--pg-url`
PG_URL = "postgresql://postgres@127.0.0.1:5432/el_bench_{size}"
DEFAULT_SERVERS = ("floor", "cold", "warm", "serve-cold")
FIRST_PORT = 8101
# Settings of the app and of gunicorn that the caller's environment must not change for a server.
STRIPPED_ENV = (
    "RESPONSE_CACHE_SIZE",
    "COUNT_CACHE_SIZE",
    "CACHE_CONTROL",
    "RATE_LIMIT_ENABLED",
    "RATE_LIMIT_KEY",
    "RATE_LIMIT_STORAGE",
    "TRUSTED_PROXIES",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_CMD_ARGS",
    "ACCESS_LOG",
)

# The logical requests, named as the shared harness names them (its results JSON gives Datasette's column).
REQUESTS = {
    "first_page": "first page",
    "deep_page": "page at 80 % (cursor)",
    "filter_actor_date": "actor + date range",
    "search": "full-text search",
    "detail": "detail",
    "list_include": "include=actors,sources",
    "csv_export": "CSV export",
}
LOADED = [name for name in REQUESTS if name != "csv_export"]


def request_paths(p):
    """The path of each request, the same for every server (the floor answers eventledger's URLs)."""
    list_path = "/api/v1/events?limit=50"
    return {
        "first_page": list_path,
        "deep_page": f"{list_path}&cursor={p['cursor']}",
        "filter_actor_date": f"{list_path}&actor={quote(p['actor'])}&date_from={p['date_from']}&date_to={p['date_to']}",
        "search": f"{list_path}&q={quote(p['term'])}",
        "detail": f"/api/v1/events/{quote(p['event_id'])}",
        "list_include": f"{list_path}&include=actors,sources",
        "csv_export": "/api/v1/events?format=csv",
    }


CSV_SAMPLE = "/api/v1/events?format=csv&limit=200"  # the export's statements and rows, on 200 rows


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", nargs="?", choices=list(SIZES))
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per cell (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of untimed wrk before each cell (default 2)")
    parser.add_argument("--connections", default="10,100", help="wrk connection counts (default 10,100)")
    parser.add_argument("--timeout", type=float, help="wrk request timeout, s (default 10; 30 at 1m)")
    parser.add_argument("--servers", default=",".join(DEFAULT_SERVERS), help=f"of {', '.join(SERVERS)}")
    parser.add_argument("--requests", default=",".join(REQUESTS), help=f"of {', '.join(REQUESTS)}")
    parser.add_argument("--csv-seconds", type=float, default=60, help="read an export for at most this long")
    parser.add_argument("--term", default="satellite", help="the full-text search term (default satellite)")
    parser.add_argument("--date-from", default="2010-01-01")
    parser.add_argument("--date-to", default="2019-12-31")
    parser.add_argument("--data-dir", default=os.environ.get("EL_BENCH_DIR", "/tmp/el-bench"))
    parser.add_argument(
        "--datasette-results",
        action="append",
        default=[],
        metavar="JSON",
        help="a results JSON of the shared harness (run.py) with datasette-4w, for this size; repeatable",
    )
    parser.add_argument("--verify-only", action="store_true", help="check answers and SQL, then stop")
    parser.add_argument("--sql", action="store_true", help="print each request's SQL in both apps, then stop")
    parser.add_argument("--allow-sql-drift", action="store_true", help="measure even if the SQL differs")
    parser.add_argument("--report", action="store_true", help="only regenerate the README section and the plot")
    parser.add_argument("--postgres", action="store_true", help="add cold-pg: `cold` on a PostgreSQL copy of the file")
    parser.add_argument("--pg-url", help=f"the copy's database (default {PG_URL}); it is dropped and made anew")
    args = parser.parse_args()
    if not args.size and not args.report:
        parser.error("give a size (10k, 100k, 1m), or --report")
    args.servers = args.servers.split(",")
    if args.postgres and not any(name in PG_SERVERS for name in args.servers):
        args.servers.append("cold-pg")
    args.postgres = any(name in PG_SERVERS for name in args.servers)
    args.pg_url = args.pg_url or PG_URL.format(size=args.size)
    args.requests = args.requests.split(",")
    unknown = (set(args.servers) - set(SERVERS)) | (set(args.requests) - set(REQUESTS))
    if unknown or "floor" not in args.servers:
        parser.error(f"unknown servers or requests {sorted(unknown)}; the floor is always needed")
    args.connections = [int(c) for c in args.connections.split(",")]
    if args.timeout is None:
        args.timeout = 30.0 if args.size == "1m" else 10.0
    return args


_STARTED = time.monotonic()


def log(message):
    print(f"[{time.monotonic() - _STARTED:6.0f} s] {message}", flush=True)


# --- The database -------------------------------------------------------------------------------------

JSON_TABLES = ("event", "actor", "source", "claim")


def missing_stored(path):
    """{table: records without their stored representation}: no `<table>_json` row, or a NULL in one of its
    columns (the JSON, and the CSV row where the schema keeps one)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        missing = {}
        for table in JSON_TABLES:
            stored = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}_json")') if row[1] != "id"]
            absent = " OR ".join(["j.id IS NULL", *(f'j."{column}" IS NULL' for column in stored)])
            sql = f'SELECT count(*) FROM "{table}" t LEFT JOIN "{table}_json" j ON j.id = t.id WHERE {absent}'
            if count := conn.execute(sql).fetchone()[0]:
                missing[table] = count
        return missing
    finally:
        conn.close()


def ensure_database(path, events):
    """Build the file if missing; then `eventledger init-db` brings it to the app's current schema (a column or
    a search table added since it was built, each record's stored JSON and CSV row), as it would a user's."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        log(f"building {path} ({events:,} events) with make_large_dataset.py ...")
        started = time.monotonic()
        command = [sys.executable, str(HERE / "make_large_dataset.py"), "--database", str(path)]
        subprocess.run([*command, "--events", str(events), "--fts", "rebuild", "--quiet"], check=True, cwd=ROOT)
        log(f"built in {time.monotonic() - started:.0f} s")
    started = time.monotonic()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    subprocess.run([str(BIN / "eventledger"), "init-db"], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    log(f"eventledger init-db: {time.monotonic() - started:.0f} s")
    missing = missing_stored(path)
    if missing:
        sys.exit(f"{path}: records without their stored representation after init-db: {missing}")


def ensure_postgres(path, url):
    """The PostgreSQL copy of the file (bench/pg_copy.py), brought up to date by `eventledger init-db` as the
    file is, and checked: {version, mib, settings, copy: how and when it was made}."""
    import pg_copy

    copied = pg_copy.ensure_copy(path, url, log)
    if copied["copied"]:
        log(f"PostgreSQL copy made in {copied['seconds']:.0f} s")
    started = time.monotonic()
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(BIN / "eventledger"), "init-db"], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    log(f"eventledger init-db on {url}: {time.monotonic() - started:.0f} s")
    problems = pg_copy.check(path, url, JSON_TABLES)
    if problems:
        sys.exit(f"{url} is not a whole copy of {path}:\n  " + "\n  ".join(problems))
    return {"url": url, **pg_copy.describe(url), "copy": copied}


def derive_params(path, args):
    """The requests' parameters, read from the file: the same for every server."""
    sys.path.insert(0, str(ROOT))
    from api.reading.pagination import CursorCodec

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    n = conn.execute("SELECT count(*) FROM event").fetchone()[0]
    date_key = "COALESCE(date_start, '9999-99-99')"  # eventledger's default order: (date_start, id), undated last
    deep = int(n * 0.8)
    deep_date, deep_id = conn.execute(
        f"SELECT {date_key}, id FROM event ORDER BY {date_key}, id LIMIT 1 OFFSET ?", (deep - 1,)
    ).fetchone()
    actor, actor_events = conn.execute(
        "SELECT actor_id, count(DISTINCT event_id) FROM event_actor GROUP BY actor_id ORDER BY 2 DESC, 1 LIMIT 1"
    ).fetchone()
    event_id = conn.execute(
        "SELECT id FROM event e WHERE rowid >= ?"
        " AND (SELECT count(*) FROM event_actor WHERE event_id = e.id) >= 2"
        " AND (SELECT count(*) FROM event_source WHERE event_id = e.id) >= 2"
        " AND (SELECT count(*) FROM claim_event WHERE event_id = e.id) >= 1 LIMIT 1",
        (n // 2,),
    ).fetchone()[0]
    actor_matches = conn.execute(
        "SELECT count(*) FROM event WHERE id IN (SELECT event_id FROM event_actor WHERE actor_id = ?)"
        " AND date_end >= ? AND date_start <= ?",
        (actor, args.date_from, args.date_to),
    ).fetchone()[0]
    term_matches = conn.execute(
        "SELECT count(*) FROM event_search WHERE event_search MATCH ?", ('"' + args.term + '"*',)
    ).fetchone()[0]
    conn.close()
    return {
        "events": n,
        "deep_position": deep,
        "deep_date": deep_date,
        "deep_id": deep_id,
        "cursor": CursorCodec(CURSOR_SECRET).encode("date", [deep_date, deep_id]),
        "actor": actor,
        "actor_events": actor_events,
        "actor_matches": actor_matches,
        "date_from": args.date_from,
        "date_to": args.date_to,
        "term": args.term,
        "term_matches": term_matches,
        "event_id": event_id,
    }


def read_through(path):
    """Read the file once so that every server starts with it in the OS page cache."""
    for name in (path, Path(f"{path}-wal")):
        if name.exists():
            with open(name, "rb") as f:
                while f.read(1 << 20):
                    pass


# --- The SQL each app runs --------------------------------------------------------------------------------


def sql_statements(path, paths):
    """{request: (eventledger's statements, the floor's)} over two requests of each, in process.

    eventledger's come from peewee's logger (test client, RESPONSE_CACHE_SIZE=0: the cold app), the floor's
    from its connection; each is [(SQL, number of parameters)]. The second request of a list finds its
    count kept, in both. BEGIN/COMMIT are left out (peewee does not log them).
    """
    os.environ.update(FLOOR_DB=str(path), CURSOR_SECRET=CURSOR_SECRET)
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    import floor
    from werkzeug.test import Client

    from api import create_app

    config = {"DATABASE_URL": f"sqlite:///{path}", "RESPONSE_CACHE_SIZE": 0, **EL_ENV}
    client = create_app(config).test_client()
    floor_client = Client(floor.app)
    captured = []

    class Capture(logging.Handler):
        def emit(self, record):
            if isinstance(record.msg, tuple):
                sql, params = record.msg
                captured.append((sql, len(params or ())))

    class Recording:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, params=()):
            if sql not in ("BEGIN", "COMMIT"):
                captured.append((sql, len(params)))
            return self.conn.execute(sql, params)

    floor._local.conn = Recording(floor.connection())
    peewee_log = logging.getLogger("peewee")
    handler = Capture()
    peewee_log.addHandler(handler)
    peewee_log.setLevel(logging.DEBUG)
    found = {}
    try:
        for name, url in paths.items():
            runs = []
            for http_client in (client, floor_client):
                statements = []
                for _ in range(2):
                    captured.clear()
                    response = http_client.get(url)
                    response.get_data()
                    if response.status_code != 200:
                        sys.exit(f"SQL check: {url} answered {response.status_code}: {response.get_data()[:300]!r}")
                    statements.append(list(captured))
                runs.append(statements)
            found[name] = runs
    finally:
        peewee_log.removeHandler(handler)
        peewee_log.setLevel(logging.WARNING)
    return found


def sql_check(path, paths):
    """{request: {"same", "statements" (per request, after the first), and both lists when they differ}}."""
    checked = {}
    for name, (app_runs, floor_runs) in sql_statements(path, paths).items():
        same = app_runs == floor_runs
        entry = {"same": same, "statements": len(app_runs[1]), "first_request": len(app_runs[0])}
        if not same:
            entry["eventledger"], entry["floor"] = app_runs, floor_runs
        checked[name] = entry
    return checked


def print_sql(path, paths):
    for name, (app_runs, floor_runs) in sql_statements(path, paths).items():
        print(f"\n## {name}: {paths[name]}  ({'the same' if app_runs == floor_runs else 'DIFFERENT'})")
        for who, runs in (("eventledger", app_runs), ("floor", floor_runs)):
            for number, statements in enumerate(runs, 1):
                print(f"  {who}, request {number}:")
                for sql, count in statements:
                    short = re.sub(r"\?(, \?){3,}", "?, ..., ?", sql)
                    print(f"    [{count} params] {short}")


# --- Servers ----------------------------------------------------------------------------------------------


class Server:
    def __init__(self, name, port, path, log_dir, pg_url=None):
        self.name, self.port = name, port
        self.label, kind, extra, self.exports = SERVERS[name]
        bind = ["--bind", f"127.0.0.1:{port}"]
        if kind == "floor":
            self.env = {"FLOOR_DB": str(path), "CURSOR_SECRET": CURSOR_SECRET}
            self.cmd = [*GUNICORN, *bind, "--chdir", str(HERE), "floor:app"]
        else:
            url = pg_url if name in PG_SERVERS else f"sqlite:///{path}"
            self.env = {"DATABASE_URL": url, **EL_ENV, **extra}
            if kind == "serve":  # the README's command and defaults; HOST and PORT from the environment
                self.env.update(HOST="127.0.0.1", PORT=str(port))
                self.cmd = [str(BIN / "eventledger"), "serve"]
            else:
                self.cmd = [*GUNICORN, *bind, "api:create_app()"]
        self.log_path = log_dir / f"{name}.log"
        self.proc = None
        self.pg_url = pg_url if name in PG_SERVERS else None

    def start(self):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                sys.exit(f"{self.name}: port {self.port} is already in use")
        self.log_file = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        env = {key: value for key, value in os.environ.items() if key not in STRIPPED_ENV}
        # A session of its own, so that stop() ends the server and its workers, and nothing else.
        self.proc = subprocess.Popen(
            self.cmd,
            env={**env, **self.env},
            cwd=ROOT,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, seconds=180):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if http_get(self.port, "/api/v1/events?limit=1", timeout=10)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        sys.exit(f"{self.name} did not answer within {seconds} s; see {self.log_path}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.log_file.close()

    def pids(self):
        return process_tree(self.proc.pid)

    def busy_pids(self):
        """The processes whose CPU says whether the server is still at work: its own, and for a PostgreSQL
        server every process of PostgreSQL's, where a query wrk abandoned goes on running."""
        return self.pids() + (postgres_pids(self.pg_url) if self.pg_url else [])


_POSTMASTER = {}


def postgres_pids(url):
    """PostgreSQL's processes (the postmaster's tree: backends, parallel workers, background processes)."""
    if url not in _POSTMASTER:
        import psycopg2

        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                backend = cur.fetchone()[0]
            with open(f"/proc/{backend}/stat") as f:
                _POSTMASTER[url] = int(f.read().rsplit(")", 1)[1].split()[1])
        finally:
            conn.close()
    return process_tree(_POSTMASTER[url])


def http_get(port, path, timeout=600):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def process_tree(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def rss_mib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total / 1024


class PeakRss(threading.Thread):
    """The peak RSS of a server's process tree while a cell runs, sampled every 0.2 s."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server, self.peak, self.stopped = server, 0.0, threading.Event()

    def run(self):
        pids, scanned = self.server.pids(), time.monotonic()
        while True:
            self.peak = max(self.peak, rss_mib(pids))
            if self.stopped.wait(0.2):
                return
            if time.monotonic() - scanned > 2:  # a worker may have been replaced
                pids, scanned = self.server.pids(), time.monotonic()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.join()


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def settle(servers, seconds=0.5, cap=180):
    """Idle `seconds`, then until every server is idle: one that fell behind goes on serving what wrk
    abandoned, and that must not eat into the next cell's CPU. Returns the seconds waited."""
    started = time.monotonic()
    time.sleep(seconds)
    pids = sorted({pid for server in servers for pid in server.busy_pids()})
    hz = os.sysconf("SC_CLK_TCK")
    while time.monotonic() - started < cap:
        before = cpu_ticks(pids)
        time.sleep(0.5)
        if cpu_ticks(pids) - before <= 0.05 * 0.5 * hz:
            break
    return time.monotonic() - started


# --- Checking the answers -----------------------------------------------------------------------------------


def normalised(body, port):
    """The JSON document with this server's address taken out of its links."""
    return json.loads(body.replace(f"127.0.0.1:{port}".encode(), b"HOST"))


def compare_json(name, floor_doc, doc):
    """None when `doc` holds the floor's records in its order with its count, else what differs."""
    if name == "detail":
        want, got = floor_doc["data"], doc.get("data") or {}
        if got.get("id") != want["id"]:
            return f"detail of {got.get('id')!r}, expected {want['id']!r}"
        for relation in ("actors", "sources", "claims"):
            if [link["id"] for link in got.get(relation, [])] != [link["id"] for link in want[relation]]:
                return f"{relation} of {want['id']} differ"
        return None
    want_ids = [record["id"] for record in floor_doc["data"]]
    got_ids = [record.get("id") for record in doc.get("data", [])]
    if got_ids != want_ids:
        return f"{len(got_ids)} records starting {got_ids[:2]}, expected {len(want_ids)} starting {want_ids[:2]}"
    if doc.get("meta", {}).get("count") != floor_doc["meta"]["count"]:
        return f"meta.count {doc.get('meta', {}).get('count')}, expected {floor_doc['meta']['count']}"
    return None


def csv_ids(body):
    rows = csv.reader(io.StringIO(body.decode()))
    header = next(rows)
    return header, [row[0] for row in rows]


def search_only(body, path):
    """(error or None, what was found) of a PostgreSQL search answer: PostgreSQL ranks and stems otherwise than
    FTS5, so only a count > 0 and at most `limit` records are checked."""
    limit = int(re.search(r"[?&]limit=(\d+)", path).group(1))
    doc = json.loads(body)
    count, records = doc.get("meta", {}).get("count"), len(doc.get("data", []))
    found = f"{records} records, count {count}"
    if not isinstance(count, int) or count <= 0 or records > limit or (records == 0):
        return f"{found}: expected a count > 0 and 1..{limit} records", found
    return None, found


def verify(servers, paths, params):
    """{request: {server: "identical" | "same records"}} (a PostgreSQL search: "search: <what it found>, the
    floor's count <n>"); exits 1 on any other answer."""
    floor = servers[0]
    checks, failures = {}, []
    to_check = {name: path for name, path in paths.items() if name != "csv_export"}
    if "csv_export" in paths:
        to_check["csv_sample"] = CSV_SAMPLE
        if params["events"] <= 100_000:
            to_check["csv_export"] = paths["csv_export"]
    for name, path in to_check.items():
        status, _, floor_body = http_get(floor.port, path)
        if status != 200:
            sys.exit(f"the floor answered {path} with HTTP {status}: {floor_body[:300]!r}")
        for server in servers[1:]:
            if name == "csv_export" and server.name not in ("cold", *PG_SERVERS):
                continue  # the full export once per database (every server of one runs the same code on it)
            status, _, body = http_get(server.port, path)
            pg_search = name == "search" and server.name in PG_SERVERS
            if status != 200:
                error = f"HTTP {status}: {body[:300]!r}"
            elif pg_search:
                error, found = search_only(body, path)
            elif name.startswith("csv"):
                (want_header, want), (header, got) = csv_ids(floor_body), csv_ids(body)
                error = None if (header, got) == (want_header, want) else f"{len(got)} rows, expected {len(want)}"
                if not error and name == "csv_export" and len(got) != params["events"]:
                    error = f"{len(got)} rows, expected every one of {params['events']} events"
            else:
                error = compare_json(name, normalised(floor_body, floor.port), normalised(body, server.port))
            if error:
                failures.append(f"{server.name} {name}: {error}")
                verdict = "WRONG: " + error
            elif pg_search:
                verdict = f"search: {found}, the floor's count {json.loads(floor_body)['meta']['count']}"
            elif name.startswith("csv"):
                verdict = "identical" if body == floor_body else "same rows"
            else:
                same = normalised(body, server.port) == normalised(floor_body, floor.port)
                verdict = "identical" if same else "same records"
            checks.setdefault(name, {})[server.name] = verdict
            log(f"  verify {server.name:11} {name:18} {verdict}")
    if failures:
        sys.exit("eventledger's answers differ from the floor's; nothing was timed:\n  " + "\n  ".join(failures))
    return checks


# --- Load -------------------------------------------------------------------------------------------------


def wrk(url, seconds, connections, args):
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", f"--timeout={args.timeout:g}s"]
    command += ["-s", str(HERE / "wrk_report.lua"), url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + args.timeout + 60)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    result = json.loads(lines[-1])
    errors = sum(result[key] for key in ("connect", "read", "write", "status", "timeout"))
    return {
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p90_ms": result["p90_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "max_ms": result["max_us"] / 1000,
        "requests": result["requests"],
        "errors": errors,
        "timeouts": result["timeout"],
        "non_2xx": result["status"],
        "bytes": result["bytes"],
    }


def load(servers, requests, paths, args):
    results = {}
    for name in requests:
        for connections in args.connections:
            turn = (list(paths).index(name) + args.connections.index(connections)) % len(servers)
            for server in servers[turn:] + servers[:turn]:
                url = f"http://127.0.0.1:{server.port}{paths[name]}"
                if args.warmup:
                    wrk(url, args.warmup, connections, args)
                    settle(servers)
                with PeakRss(server) as peak:
                    result = wrk(url, args.duration, connections, args)
                waited = settle(servers)
                longer = int(args.timeout)
                if result["requests"] < connections and args.duration < longer:
                    # Fewer answers than connections: a request takes longer than the cell. Once more, for as
                    # long as wrk's timeout, so that a rate and latencies can be read at all (`seconds`).
                    again = f"{result['requests']} answers in {args.duration} s: again, {longer} s"
                    log(f"  {name:18} c{connections:<4} {server.name:11} {again}")
                    with PeakRss(server) as peak:
                        result = wrk(url, longer, connections, args)
                    result["seconds"] = longer
                    waited = settle(servers)
                result["peak_rss_mib"] = round(peak.peak, 1)
                results.setdefault(name, {}).setdefault(server.name, {})[str(connections)] = result
                log(
                    f"  {name:18} c{connections:<4} {server.name:11} {result['rps']:9.1f} req/s"
                    f"  p50 {result['p50_ms']:8.2f}  p99 {result['p99_ms']:8.2f} ms  errors {result['errors']}"
                    f"  RSS {peak.peak:5.0f} MiB" + (f"  (idle after {waited:.0f} s)" if waited > 2 else "")
                )
    return results


def download(server, path, events, seconds):
    """One client reads the export, for at most `seconds`: first byte, rows/s, and the time of the whole."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    with PeakRss(server) as peak:
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        if response.status != 200:
            sys.exit(f"{server.name} answered the export with HTTP {response.status}")
        chunk = response.read(1)
        first_byte = time.perf_counter() - started
        lines, size, last, complete = 0, len(chunk), chunk, False
        deadline = started + seconds
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                complete = True
                break
            size += len(chunk)
            lines += (last[-1:] + chunk).count(b"\r\n")  # rows end in CRLF; line breaks inside cells are LF
            last = chunk
            if time.perf_counter() > deadline:
                break
        elapsed = time.perf_counter() - started
    conn.close()
    rows = max(lines - 1, 0)  # the header
    if complete and rows != events:
        sys.exit(f"{server.name}: the export held {rows} rows, expected {events}")
    rate = rows / elapsed if elapsed else 0.0
    return {
        "complete": complete,
        "seconds": elapsed if complete else (events / rate if rate else None),
        "read_seconds": elapsed,
        "rows": rows,
        "rows_per_s": rate,
        "first_byte_ms": first_byte * 1000,
        "mib": size / 2**20,
        "peak_rss_mib": round(peak.peak, 1),
    }


# --- PostgreSQL's plans ------------------------------------------------------------------------------------


def slowest_pg(results):
    """The requests whose plans to keep: cold-pg's slowest (least req/s), and the one furthest behind cold."""
    cells = [
        (name, result["rps"], results[name].get("cold", {}).get(c, {}).get("rps"))
        for name in results
        for server in PG_SERVERS
        for c, result in results[name].get(server, {}).items()
    ]
    if not cells:
        return []
    chosen = [min(cells, key=lambda cell: cell[1])[0]]
    behind = [(name, rps / cold) for name, rps, cold in cells if cold]
    if behind and (worst := min(behind, key=lambda cell: cell[1])[0]) not in chosen:
        chosen.append(worst)
    return chosen


def explain_pg(url, path, name):
    """EXPLAIN (ANALYZE, BUFFERS) of each statement eventledger runs for `path` on PostgreSQL (bench/pg_copy.py,
    in a process of its own)."""
    command = [sys.executable, str(HERE / "pg_copy.py"), "explain", url, path, "--json"]
    out = subprocess.run([*command, "--cursor-secret", CURSOR_SECRET], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        log(f"EXPLAIN of {name} failed: {out.stderr[-2000:]}")
        return [{"error": out.stderr[-2000:]}]
    found = json.loads(out.stdout)
    for entry in found:
        log(
            f"EXPLAIN (ANALYZE, BUFFERS), {name} on PostgreSQL, "
            f"{'every request' if entry['repeated'] else 'first request only'}: {entry['sql']}\n"
            f"  params {entry['params']}\n" + entry["plan"]
        )
    return found


# --- Machine, commit --------------------------------------------------------------------------------------


def git(*args):
    return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout.strip()


def read_text(path):
    with open(path) as f:
        return f.read()


def machine():
    cpu = next((line.split(":", 1)[1] for line in read_text("/proc/cpuinfo").splitlines() if "model name" in line), "?")
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("[")[0].strip()
    from importlib.metadata import version

    return {
        "cpu": cpu.strip(),
        "cores": os.cpu_count(),
        "mem_gib": round(int(read_text("/proc/meminfo").split()[1]) / 2**20),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "gunicorn": version("gunicorn"),
        "wrk": wrk_version,
        "loadavg_before": read_text("/proc/loadavg").split()[:3],
    }


# --- Datasette's column, from the shared harness ---------------------------------------------------------


def datasette_column(files, events):
    """{request: {connections: {rps, p50_ms, p99_ms}}} of `datasette-4w` from the shared harness's results JSON."""
    column, sources, workload = {}, [], {}
    for file in files:
        data = json.loads(Path(file).read_text())
        measured = data["params"]["_events"]
        if measured != events:
            sys.exit(f"{file} measured {measured:,} events, not {events:,}")
        workload = {  # its own file: the filter and the search match other numbers of events than ours
            "actor_matches": data["params"]["_matches_filter_actor_date"],
            "term": data["params"]["term"],
            "term_matches": data["params"]["_matches_search"],
        }
        for key, result in data["results"].items():
            server, name = key.split("/", 1)
            if server != "datasette-4w" or name not in REQUESTS:
                continue
            entry = {k: result[k] for k in ("rps", "p50_ms", "p99_ms", "errors", "rss_mib") if k in result}
            if name == "csv_export":
                entry["seconds"] = result["p50_ms"] / 1000  # a whole download, as the harness times it
            column.setdefault(name, {})[str(result["connections"])] = entry
        sources.append(os.path.basename(file))
    return {"sources": sources, "workload": workload, "results": column} if column else None


# --- The report: README section and plot -----------------------------------------------------------------


def fmt_rate(x):
    if x is None:
        return "–"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}" if x >= 10 else f"{x:.2f}"


def fmt_ratio(x):
    return "–" if x is None else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def size_section(data):
    servers = [name for name in SERVERS if name in data["servers"]]
    el = [name for name in servers if name != "floor"]
    ds = (data.get("datasette") or {}).get("results") or {}
    p, m, s = data["params"], data["machine"], data["settings"]
    changed = f" plus uncommitted changes to {', '.join(data['uncommitted'])}" if data.get("uncommitted") else ""
    sql_same = all(entry["same"] for entry in data["sql_check"].values())
    identical = all(v == "identical" for checks in data["verification"].values() for v in checks.values())
    pg = data.get("postgres")
    title = f"#### {p['events']:,} events (`results/sizes-{data['size']}.json`)"
    if pg:
        title = f"#### {p['events']:,} events, PostgreSQL beside SQLite (`results/sizes-{data['size']}-pg.json`)"
    lines = [
        title,
        "",
        " ".join(
            [
                f"{data['date'][:16].replace('T', ' ')} UTC, commit `{data['commit']}`{changed};",
                f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, SQLite {m['sqlite']},",
                f"gunicorn {m['gunicorn']}, {m['wrk']}; load average before {' '.join(m['loadavg_before'])}"
                + (f", after {' '.join(m['loadavg_after'])}." if "loadavg_after" in m else "."),
                f"wrk -t2, {s['duration']} s per cell after {s['warmup']} s of warm-up, timeout {s['timeout']:g} s;",
                "servers interleaved, each idle before the next cell.",
                f"Database {data['database']['mib']:,.0f} MiB.",
                f"Actor `{p['actor']}` (the busiest: {p['actor_events']:,} events,",
                f"{p['actor_matches']:,} in {p['date_from']}..{p['date_to']});",
                f"search `{p['term']}` ({p['term_matches']:,} matches); detail `{p['event_id']}`;",
                f"cursor page after position {p['deep_position']:,}.",
                *([pg_sentence(pg)] if pg else []),
            ]
        ),
        "",
        "Checked before timing: every eventledger answer holds the floor's records in its order with its count"
        + (" (and is byte for byte the floor's, links' port aside)" if identical else "")
        + (pg_search_note(data) if pg else "")
        + "; eventledger's SQL "
        + ("on SQLite " if pg else "")
        + (
            "is the floor's, statement for statement, for every request."
            if sql_same
            else "**differs** from the floor's: "
            + ", ".join(name for name, entry in data["sql_check"].items() if not entry["same"])
            + "."
        ),
        "",
    ]
    header = ["request", "conns", "floor", *(["Datasette-4w"] if ds else []), *(SERVERS[n][0] for n in el)]
    lines.append("req/s (÷ floor" + (", ÷ Datasette-4w" if ds else "") + "):")
    lines += ["", "| " + " | ".join(header) + " |", "|---|---:|" + "---:|" * (len(header) - 2)]
    for name in REQUESTS:
        if name not in data["results"]:
            continue
        for c in map(str, s["connections"]):
            floor_rps = data["results"][name]["floor"][c]["rps"]
            ds_rps = ds.get(name, {}).get(c, {}).get("rps")
            cells = [REQUESTS[name], c, fmt_rate(floor_rps)]
            if ds:
                cells.append(fmt_rate(ds_rps))
            for server in el:
                r = data["results"][name].get(server, {}).get(c)
                if r is None:
                    cells.append("–")
                    continue
                ratios = [fmt_ratio(r["rps"] / floor_rps if floor_rps else None)]
                if ds:
                    ratios.append(fmt_ratio(r["rps"] / ds_rps if ds_rps else None))
                errors = f", {r['errors']} errors" if r["errors"] else ""
                errors += f", over {r['seconds']:g} s" if r.get("seconds") else ""
                cells.append(f"{fmt_rate(r['rps'])} ({', '.join(ratios)}{errors})")
            lines.append("| " + " | ".join(cells) + " |")
    if "cold-pg" in el and "cold" in el:
        lines += ["", pg_ratio_line(data)]
    if pg and pg.get("explain"):
        explained = ", ".join(REQUESTS[name] for name in pg["explain"])
        lines += ["", f"EXPLAIN (ANALYZE, BUFFERS) of cold-pg's statements for {explained}: `postgres.explain` there."]
    if ds:
        w = data["datasette"].get("workload", {})
        lines += [
            "",
            f"Datasette-4w: the shared harness ({', '.join(data['datasette']['sources'])}), on its own file of "
            f"{p['events']:,} events, where the actor filter matches {w.get('actor_matches', '?'):,} events (its "
            f"10th busiest actor) and `{w.get('term', '?')}` {w.get('term_matches', '?'):,}: compare its filter "
            "and search rows with that in mind.",
        ]
    lines += ["", "Latency p50 / p99, ms:", ""]
    header = ["request", "conns", "floor", *(["Datasette-4w"] if ds else []), *(SERVERS[n][0] for n in el)]
    lines += ["| " + " | ".join(header) + " |", "|---|---:|" + "---:|" * (len(header) - 2)]
    for name in REQUESTS:
        if name not in data["results"]:
            continue
        for c in map(str, s["connections"]):
            cells = [REQUESTS[name], c]
            for server in ["floor", *(["ds"] if ds else []), *el]:
                r = ds.get(name, {}).get(c) if server == "ds" else data["results"][name].get(server, {}).get(c)
                cells.append(f"{r['p50_ms']:,.1f} / {r['p99_ms']:,.1f}" if r else "–")
            lines.append("| " + " | ".join(cells) + " |")
    if data.get("csv"):
        ds_csv = ds.get("csv_export", {})
        ds_note = ""
        if ds_csv:
            c, r = next(iter(ds_csv.items()))
            ds_note = f" Datasette-4w (shared harness, {c} clients at once): {r['seconds']:,.1f} s per download."
        lines += [
            "",
            f"CSV export of all {p['events']:,} events (`/api/v1/events?format=csv`), one client, read for at most "
            f"{s['csv_seconds']:g} s (a download cut there is extrapolated from its rows/s: `~`).{ds_note}",
            "",
            "| server | s per download | rows/s | ÷ floor | first byte ms | MiB read | peak RSS MiB |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        floor_rate = data["csv"]["floor"]["rows_per_s"]
        for server, r in data["csv"].items():
            secs = "–" if r["seconds"] is None else f"{'' if r['complete'] else '~'}{r['seconds']:,.1f}"
            lines.append(
                f"| {SERVERS[server][0]} | {secs} | {r['rows_per_s']:,.0f} | {fmt_ratio(r['rows_per_s'] / floor_rate)}"
                f" | {r['first_byte_ms']:,.0f} | {r['mib']:,.0f} | {r['peak_rss_mib']:,.0f} |"
            )
    lines += [
        "",
        "Peak RSS of each server's process tree over the run, MiB (idle after start-up): "
        + ", ".join(f"{SERVERS[n][0]} {data['peak_rss_mib'][n]:,.0f} ({data['idle_rss_mib'][n]:,.0f})" for n in servers)
        + ".",
        "",
    ]
    return lines


def pg_sentence(pg):
    copy, settings = pg["copy"], pg["settings"]
    tuned = ", ".join(f"{key} {value}" for key, value in settings.items())
    return (
        f"PostgreSQL {pg['version'].split()[0]} on the same machine ({tuned}): `{pg['url'].rsplit('/', 1)[1]}`, "
        f"{pg['mib']:,.0f} MiB, a copy of the file made {copy['date'][:16].replace('T', ' ')} UTC by "
        f"bench/pg_copy.py in {copy['seconds']:,.0f} s; the peak RSS below is gunicorn's alone, not PostgreSQL's."
    )


def pg_search_note(data):
    verdicts = [v for server, v in data["verification"].get("search", {}).items() if server in PG_SERVERS]
    return (
        ", but for cold-pg's full-text search, which PostgreSQL ranks and stems otherwise: a 200 with a count and at "
        "most `limit` records (" + "; ".join(v.removeprefix("search: ") for v in verdicts) + ")"
    )


def pg_ratio_line(data):
    """req/s of cold-pg ÷ req/s of cold, per request and connections."""
    parts = []
    for name in REQUESTS:
        per = data["results"].get(name, {})
        cells = []
        for c in map(str, data["settings"]["connections"]):
            pg_result, cold_result = per.get("cold-pg", {}).get(c), per.get("cold", {}).get(c)
            if pg_result and cold_result and cold_result["rps"]:
                cells.append(f"{fmt_ratio(pg_result['rps'] / cold_result['rps'])} (c{c})")
        if cells:
            parts.append(f"{REQUESTS[name]} {', '.join(cells)}")
    csv_pg, csv_cold = data.get("csv", {}).get("cold-pg"), data.get("csv", {}).get("cold")
    if csv_pg and csv_cold and csv_cold["rows_per_s"]:
        parts.append(f"CSV export rows/s {fmt_ratio(csv_pg['rows_per_s'] / csv_cold['rows_per_s'])}")
    return "PostgreSQL ÷ SQLite (cold, 4 sync), req/s of cold-pg ÷ cold: " + "; ".join(parts) + "."


def load_results():
    found = {}
    for size in SIZES:
        for key in (size, f"{size}-pg"):  # a run with PostgreSQL has a file of its own (see main)
            path = RESULTS / f"sizes-{key}.json"
            if path.exists():
                found[key] = json.loads(path.read_text())
    return found


def write_readme(all_results):
    lines = [
        BEGIN,
        "",
        "### Per-size runs: `bench/sizes.py` (generated: edit `sizes.py`, not this section)",
        "",
        'One command per size (`python bench/sizes.py 10k|100k|1m`, see "How to run") builds the file through '
        "eventledger's own schema, checks every answer and eventledger's SQL against the floor (`floor.py`: the "
        "same statements in a bare WSGI app, stdlib sqlite3 + orjson), then loads each server with wrk. Servers: "
        "`floor`; `cold, 4 sync` and `warm, 4 sync` are `api:create_app()` under `gunicorn --workers 4 "
        "--worker-class sync` with `RESPONSE_CACHE_SIZE=0` / the default settings (wrk repeats one URL, so warm "
        "measures the response cache); `cold, serve` is `eventledger serve` as the README runs it (4 gthread "
        "workers x 4 threads) with `RESPONSE_CACHE_SIZE=0`. Every eventledger server has "
        "`RATE_LIMIT=1000000000/60`. Datasette-4w comes from the shared harness (`../shared/bench`, its own "
        "synthetic file of the same size, same requests), when its results were given."
        + (
            " `cold, 4 sync, PostgreSQL` (`--postgres`) is `cold, 4 sync` on a PostgreSQL copy of the file "
            "(bench/pg_copy.py), in a run of its own beside floor and cold: its section follows that size's."
            if any(key.endswith("-pg") for key in all_results)
            else ""
        ),
        "",
        "![req/s against the number of events, per request](throughput-by-size.png)",
        "",
    ]
    for data in all_results.values():
        lines += size_section(data)
    lines.append(END)
    text = README.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{README}: the markers {BEGIN} / {END} are missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + "\n".join(lines) + tail)


def draw(all_results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    styles = {"floor": ("black", "floor"), "cold": ("tab:blue", "cold"), "warm": ("tab:orange", "warm")}
    styles["cold-pg"] = ("tab:green", "cold, PostgreSQL")
    names = [
        name
        for name in REQUESTS
        if any(name in d["results"] or (name == "csv_export" and d.get("csv")) for d in all_results.values())
    ]
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5), constrained_layout=True)
    axes = axes.flatten()
    # cold-pg from the runs with PostgreSQL (files of their own); every other server from the SQLite runs.
    runs_by_kind = {True: [], False: []}
    for key, d in all_results.items():
        runs_by_kind[key.endswith("-pg")].append(d)
    sizes, pg_sizes = (sorted(runs_by_kind[kind], key=lambda d: d["params"]["events"]) for kind in (False, True))
    for ax, name in zip(axes, names, strict=False):
        for server, (colour, label) in styles.items():
            runs = pg_sizes if server in PG_SERVERS else sizes
            if name == "csv_export":
                points = [
                    (d["params"]["events"], d["csv"][server]["rows_per_s"]) for d in runs if server in d.get("csv", {})
                ]
                if points:
                    ax.plot(*zip(*points, strict=True), "o-", color=colour, label=f"{label}, 1 client")
                continue
            for connections, line in (("100", "o-"), ("10", "s--")):
                points = [
                    (d["params"]["events"], d["results"][name][server][connections]["rps"])
                    for d in runs
                    if connections in d["results"].get(name, {}).get(server, {})
                ]
                if points:
                    ax.plot(*zip(*points, strict=True), line, color=colour, label=f"{label}, c{connections}", alpha=0.9)
        ax.set_xscale("log")
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, high / 10), high * 1.5)  # at least a decade, so that the log axis has labels
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(5_000, 2_000_000)
        ax.set_xticks([10_000, 100_000, 1_000_000], ["10k", "100k", "1M"])
        ax.set_title(REQUESTS[name] if name != "csv_export" else "CSV export (rows/s)", fontsize=10)
        ax.set_xlabel("events")
        ax.set_ylabel("rows/s" if name == "csv_export" else "req/s")
        ax.grid(True, which="both", alpha=0.3)
    for ax in axes[len(names) :]:
        ax.axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    csv_handles = axes[names.index("csv_export")].get_legend_handles_labels() if "csv_export" in names else ([], [])
    axes[-1].legend(handles + csv_handles[0], labels + csv_handles[1], loc="center", fontsize=9, frameon=False)
    run_dates = ", ".join(f"{d['size']} {d['date'][:10]} `{d['commit']}`" for d in sizes)
    if pg_sizes:
        run_dates += "; PostgreSQL " + ", ".join(f"{d['size']} {d['date'][:10]} `{d['commit']}`" for d in pg_sizes)
    fig.suptitle(f"eventledger against its floor, by dataset size (bench/sizes.py; {run_dates})".replace("`", ""))
    fig.savefig(PLOT, dpi=90)
    plt.close(fig)


def report(size=None, datasette=None):
    all_results = load_results()
    if size and datasette:
        data = all_results.get(size)
        if data is None:
            sys.exit(f"no {RESULTS / f'sizes-{size}.json'} to add Datasette's column to")
        data["datasette"] = datasette
        (RESULTS / f"sizes-{size}.json").write_text(json.dumps(data, indent=1) + "\n")
    if not all_results:
        sys.exit(f"no {RESULTS}/sizes-*.json yet: run a size first")
    write_readme(all_results)
    draw(all_results)
    log(f"wrote the section of {README.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


# --- The run ---------------------------------------------------------------------------------------------------


def main():
    args = parse_args()
    events = SIZES.get(args.size)
    datasette = datasette_column(args.datasette_results, events) if args.datasette_results and events else None
    if args.report:
        report(args.size, datasette)
        return
    path = Path(args.data_dir) / f"events-{args.size}.sqlite3"
    ensure_database(path, events)
    params = derive_params(path, args)
    paths = {name: path_ for name, path_ in request_paths(params).items() if name in args.requests}
    sql_paths = {name: path_ for name, path_ in paths.items() if name != "csv_export"}
    if "csv_export" in paths:
        sql_paths["csv_export"] = CSV_SAMPLE
    if args.sql:
        print_sql(path, sql_paths)
        return
    log(f"{params['events']:,} events in {path}; checking eventledger's SQL against the floor's ...")
    sql = sql_check(path, sql_paths)
    for name, entry in sql.items():
        log(f"  SQL {name:18} {'the same' if entry['same'] else 'DIFFERENT'} ({entry['statements']} statements)")
    drift = [name for name, entry in sql.items() if not entry["same"]]
    if drift and not args.allow_sql_drift:
        sys.exit(
            f"eventledger's SQL differs from bench/floor.py's for {drift}: see `python bench/sizes.py "
            f"{args.size} --sql`, bring floor.py up to date (or pass --allow-sql-drift)"
        )

    postgres = ensure_postgres(path, args.pg_url) if args.postgres else None

    started_at = datetime.datetime.now(datetime.UTC)
    mach = machine()
    read_through(path)
    if postgres:
        import pg_copy

        blocks = pg_copy.prewarm(args.pg_url)
        log(f"PostgreSQL {postgres['version']}, {postgres['mib']:,.0f} MiB; read once: {blocks:,} blocks")
    log_dir = Path(args.data_dir) / "logs" / started_at.strftime("%Y-%m-%dT%H-%M-%S")
    log_dir.mkdir(parents=True, exist_ok=True)
    servers = [Server(name, FIRST_PORT + i, path, log_dir, args.pg_url) for i, name in enumerate(args.servers)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
            log(f"{server.name} ready on port {server.port}: {' '.join(server.cmd)}")
        settle(servers, 1)
        idle = {server.name: round(rss_mib(server.pids()), 1) for server in servers}
        verification = verify(servers, paths, params)
        if args.verify_only:
            return
        results = load(servers, [n for n in LOADED if n in paths], paths, args)
        exports = {}
        if "csv_export" in paths:
            for server in servers:
                if server.exports:
                    exports[server.name] = download(server, paths["csv_export"], params["events"], args.csv_seconds)
                    r = exports[server.name]
                    log(
                        f"  csv_export         {server.name:11} {r['rows_per_s']:9,.0f} rows/s, "
                        f"{'' if r['complete'] else '~'}{r['seconds'] or 0:,.1f} s per download, first byte "
                        f"{r['first_byte_ms']:.0f} ms, RSS {r['peak_rss_mib']:.0f} MiB"
                    )
                    settle(servers, 1)
    finally:
        for server in servers:
            server.stop()

    mach["loadavg_after"] = read_text("/proc/loadavg").split()[:3]
    if postgres:
        postgres["explain"] = {name: explain_pg(args.pg_url, paths[name], name) for name in slowest_pg(results)}
    peaks = {}
    for server in servers:
        cells = [cell for per in results.values() for cell in per.get(server.name, {}).values()]
        cells += [exports[server.name]] if server.name in exports else []
        peaks[server.name] = max([idle[server.name], *(cell["peak_rss_mib"] for cell in cells)])
    uncommitted = sorted({line[3:].split("/")[0] + "/" for line in git("status", "--porcelain").splitlines()})
    data = {
        "size": args.size,
        "date": started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": [d for d in uncommitted if d in ("api/", "schemas/", "seed/")],
        "machine": mach,
        "settings": {
            "duration": args.duration,
            "warmup": args.warmup,
            "timeout": args.timeout,
            "connections": args.connections,
            "csv_seconds": args.csv_seconds,
            "wrk_threads": 2,
        },
        "database": {"path": str(path), "mib": round(path.stat().st_size / 2**20, 1)},
        "params": params,
        "servers": {s.name: {"label": s.label, "cmd": s.cmd, "env": s.env} for s in servers},
        "sql_check": sql,
        "verification": verification,
        "results": results,
        "csv": exports,
        "idle_rss_mib": idle,
        "peak_rss_mib": peaks,
        "datasette": datasette,
    }
    if postgres:
        data["postgres"] = postgres
    RESULTS.mkdir(exist_ok=True)
    # A run with PostgreSQL goes to a file of its own, so that it replaces no run of the SQLite servers.
    out = RESULTS / f"sizes-{args.size}{'-pg' if postgres else ''}.json"
    out.write_text(json.dumps(data, indent=1) + "\n")
    log(f"wrote {out.relative_to(ROOT)}")
    report()
    print("\n".join(size_section(data)), flush=True)


if __name__ == "__main__":
    main()
