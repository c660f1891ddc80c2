"""Measure streamed exports: time to first byte, rows per second and the gunicorn worker's memory.

    python bench/export_bench.py --database /tmp/eventledger-1m.sqlite3 [--check] [--extra] [--only events-csv,...]

Starts `eventledger serve --workers 1 --port <free port>` (its gthread worker; `--threads N` is passed
on) on the database, logging to server.log in the output directory, waits for /readyz, warms the worker
up with one small page, then streams each export with `http.client`, one after another, writing the
body to a file. For each run it records:

* the time to the first body byte (TTFB) and to the first byte of the first *record*, past the CSV
  header or the `{"data":[` preamble that an export sends before its query returns a row; the total
  time and the bytes;
* the worker's resident memory: VmRSS before the request, the peak of VmRSS polled every 50 ms from
  /proc/<worker>/status during the download, and VmHWM (the kernel's own peak, reset before each run
  by writing 5 to /proc/<worker>/clear_refs); the worker is the one child of the gunicorn master,
  which is the `eventledger serve` process itself;
* the worker's CPU seconds (utime + stime) over the run, the 1-minute load average at its start
  (the box is shared), and whether the worker was replaced (a gunicorn timeout);
* after the download, the rows in the body, counted by parsing it (csv reader, one JSON document per
  NDJSON line, or the `data`/`features` array element by element with low memory), checked against a
  COUNT on the database and against the body's own `meta.count`/`metadata.count`.

`--extra` adds exports whose order no index gives (SQLite sorts every match before the first row).
`--concurrency N` downloads each export N times at once from the one worker.

Prints a Markdown table and writes it, with results.json and server.log, to the output directory
(default /tmp/eventledger-export-bench/<UTC timestamp>). `--check` exits 1 when any run has a peak
RSS >= 200 MB (`--max-rss-mb`), a TTFB >= 1 s (`--max-ttfb`), or an incomplete or wrong body;
`--strict` also holds the first record to `--max-ttfb`. Targets 127.0.0.1 only.
"""

import argparse
import codecs
import contextlib
import csv
import hashlib
import http.client
import json
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024  # the table's "MB" are MiB, as /proc reports kB = KiB

# name -> (path, extra request headers, format, SQL counting the rows the export must hold)
ALL_EVENTS = "SELECT COUNT(*) FROM event"
RUNS = {
    "events-csv": ("/api/v1/events?format=csv", {}, "csv", ALL_EVENTS),
    "events-ndjson": ("/api/v1/events?format=ndjson", {}, "ndjson", ALL_EVENTS),
    "events-json": ("/api/v1/events?format=json", {}, "json", ALL_EVENTS),
    "events-geojson": (
        "/api/v1/events?format=geojson",
        {},
        "geojson",
        "SELECT COUNT(*) FROM event WHERE latitude IS NOT NULL AND longitude IS NOT NULL",
    ),
    "claims-csv": ("/api/v1/claims?format=csv", {}, "csv", "SELECT COUNT(*) FROM claim"),
    "events-csv-filtered": (
        "/api/v1/events?type=weapons_testing&format=csv",
        {},
        "csv",
        "SELECT COUNT(*) FROM event WHERE type = 'weapons_testing'",
    ),
    "events-accept-csv": ("/api/v1/events", {"Accept": "text/csv"}, "csv", ALL_EVENTS),
}
# With --extra: exports whose order no index gives, so SQLite sorts every match before the first row.
HALF_THE_TYPES = "weapons_testing,accusation,sanctions_imposed,official_denial,military_attack,official_assessment"
EXTRA_RUNS = {
    "events-csv-6-types": (
        f"/api/v1/events?type={HALF_THE_TYPES}&format=csv",
        {},
        "csv",
        "SELECT COUNT(*) FROM event WHERE type IN ('" + HALF_THE_TYPES.replace(",", "','") + "')",
    ),
    "events-ndjson-date-from": (
        "/api/v1/events?date_from=2020&format=ndjson",
        {},
        "ndjson",
        "SELECT COUNT(*) FROM event WHERE date_end >= '2020-01-01'",
    ),
    "events-ndjson-sort-title": ("/api/v1/events?sort=title&format=ndjson", {}, "ndjson", ALL_EVENTS),
    "events-ndjson-q": (
        "/api/v1/events?q=kyiv&format=ndjson",
        {},
        "ndjson",
        """SELECT COUNT(*) FROM event_search WHERE event_search MATCH '"kyiv"*'""",
    ),
}


# --- The server ------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid):
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def proc_status(pid):
    """{field: kB} of the VmRSS/VmHWM lines of /proc/<pid>/status; {} once the process is gone."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0])
    except OSError:
        pass
    return values


def cpu_seconds(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_hwm(pid):
    """Reset the kernel's peak RSS of `pid` (Linux >= 4.0); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Server:
    def __init__(self, database, port, log_path, timeout, threads=None):
        self.port = port
        self.log_path = log_path
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
        command = [str(Path(sys.executable).parent / "eventledger"), "serve", "--workers", "1", "--port", str(port)]
        if threads:
            command += ["--threads", str(threads)]
        self.command = command
        self.log = open(log_path, "ab")  # noqa: SIM115 - open for the life of the server
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited with {self.process.returncode}; see {log_path}")
            try:
                status, _ = get(port, "/readyz", timeout=2)
                if status == 200 and self.worker():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"server not ready after {timeout} s; see {log_path}")

    @property
    def master(self):
        return self.process.pid

    def worker(self):
        workers = children(self.master)
        return workers[0] if len(workers) == 1 else None

    def stop(self):
        """SIGTERM to the master (gunicorn stops its worker), then SIGKILL by pid if it hangs."""
        worker = self.worker()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                if worker and Path(f"/proc/{worker}").exists():  # orphaned by the killed master
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker, signal.SIGKILL)
        self.log.close()


def get(port, path, headers=None, timeout=30):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- One run -----------------------------------------------------------------------


class Sampler(threading.Thread):
    """Polls the worker's VmRSS every `interval` seconds until stopped."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            rss = proc_status(self.pid).get("VmRSS")
            if rss:
                self.peak_kb = max(self.peak_kb, rss)
                self.samples += 1
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()


def first_record_started(kind, head):
    """Whether the body's start `head` holds a byte of the first record, past a CSV header or a JSON preamble."""
    if kind == "ndjson":
        return bool(head)
    end = head.find(b"\n" if kind == "csv" else b"[")
    return end >= 0 and len(head) > end + 1 and head[end + 1 : end + 2] != b"]"


def download(port, path, headers, body_path, timeout, kind):
    """Stream one response to a file; returns the timings, status, headers and how it ended."""
    result = {"complete": False, "error": None}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    size = 0
    started = time.perf_counter()
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        result["headers_s"] = time.perf_counter() - started
        result["status"] = response.status
        result["content_type"] = response.getheader("Content-Type")
        result["chunked"] = response.chunked
        head = b""  # the body's start, until the first record is seen
        with open(body_path, "wb") as body:
            while True:
                chunk = response.read1(1 << 20)
                if not chunk:
                    break
                if size == 0:
                    result["ttfb_s"] = time.perf_counter() - started
                size += len(chunk)
                body.write(chunk)
                if "first_record_s" not in result:
                    head += chunk
                    if first_record_started(kind, head):
                        result["first_record_s"] = time.perf_counter() - started
                        head = b""
        result["complete"] = True
    except (OSError, http.client.HTTPException) as error:
        result["error"] = f"{type(error).__name__}: {error}"
    finally:
        connection.close()
    result["total_s"] = time.perf_counter() - started
    result["bytes"] = size
    return result


def count_csv(path):
    rows, widths = 0, set()
    with open(path, newline="", encoding="utf-8-sig") as body:
        reader = csv.reader(body)
        header = next(reader, None)
        for row in reader:
            rows += 1
            widths.add(len(row))
    problems = [] if widths <= {len(header or ())} else [f"rows of {sorted(widths)} cells, header has {len(header)}"]
    return rows, None, problems


def count_ndjson(path):
    rows, problems = 0, []
    with open(path, "rb") as body:
        for line in body:
            record = json.loads(line)
            if not isinstance(record, dict) or "id" not in record:
                problems.append(f"line {rows + 1} is not a record")
                break
            rows += 1
    return rows, None, problems


def count_array(path, key):
    """Parse a JSON document whose `key` member is a huge array, one element at a time.

    Returns the number of elements, the document without the array (holding `meta` or
    `metadata`), and problems. Memory stays at one block of the file plus one element.
    """
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    rows, problems = 0, []
    with open(path, "rb") as body:

        def more():
            block = body.read(8 * MB)
            return utf8.decode(block, final=not block), bool(block)

        buffer, _ = more()
        marker = f'"{key}":['
        start = buffer.find(marker)
        if start < 0:
            return 0, None, [f"no {marker} in the first block"]
        head = buffer[: start + len(marker)]
        position = start + len(marker)
        eof = False
        while True:
            while position < len(buffer) and buffer[position] in " \n\r\t,":
                position += 1
            if position >= len(buffer) - 1 and not eof:
                text, got = more()
                buffer, position = buffer[position:] + text, 0
                eof = not got
                continue
            if position < len(buffer) and buffer[position] == "]":
                break
            try:
                _, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError:
                if eof:
                    return rows, None, [f"element {rows + 1} does not parse (truncated body?)"]
                text, got = more()
                buffer, position = buffer[position:] + text, 0
                eof = not got
                continue
            rows += 1
            position = end
            if len(buffer) - position < MB and not eof:
                text, got = more()
                buffer, position = buffer[position:] + text, 0
                eof = not got
        tail = buffer[position:]
        while not eof:
            text, got = more()
            tail += text
            eof = not got
    try:
        document = json.loads(head + tail)
    except json.JSONDecodeError as error:
        return rows, None, [f"the document around the array does not parse: {error}"]
    return rows, document, problems


def count_rows(kind, path):
    if kind == "csv":
        return count_csv(path)
    if kind == "ndjson":
        return count_ndjson(path)
    rows, document, problems = count_array(path, "data" if kind == "json" else "features")
    declared = None
    if document is not None:
        declared = (document.get("meta") or document.get("metadata") or {}).get("count")
        if declared != rows:
            problems.append(f"the body declares count {declared}, it holds {rows}")
    return rows, declared, problems


def measure(server, name, args, out):
    path, headers, kind, count_sql = {**RUNS, **EXTRA_RUNS}[name]
    try:
        with sqlite3.connect(f"file:{args.database}?mode=ro", uri=True) as db:
            expected = db.execute(count_sql).fetchone()[0]
    except sqlite3.Error as error:  # e.g. a database made before the search tables
        expected = f"unknown ({error})"
    worker = server.worker()
    hwm_reset = reset_hwm(worker)
    before = proc_status(worker)
    cpu_before = cpu_seconds(worker)
    load = os.getloadavg()[0]
    sampler = Sampler(worker, args.interval)
    sampler.start()
    body_paths = [out / f"{name}.{copy}.body" for copy in range(args.concurrency)]
    log_offset = server.log_path.stat().st_size
    client_cpu = time.process_time()
    request_headers = {"Accept-Encoding": "identity", **headers}
    started = time.perf_counter()
    if args.concurrency == 1:
        copies = [download(server.port, path, request_headers, body_paths[0], args.timeout, kind)]
    else:
        copies = [None] * args.concurrency

        def fetch(copy):
            copies[copy] = download(server.port, path, request_headers, body_paths[copy], args.timeout, kind)

        threads = [threading.Thread(target=fetch, args=(copy,)) for copy in range(args.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    wall = time.perf_counter() - started
    result = dict(copies[0])
    if args.concurrency > 1:  # the slowest copy's latencies, every copy's bytes
        for key in ("headers_s", "ttfb_s", "first_record_s"):
            values = [copy.get(key) for copy in copies]
            result[key] = None if None in values else max(values)
        result.update(
            total_s=wall,
            bytes=sum(copy["bytes"] for copy in copies),
            complete=all(copy["complete"] for copy in copies),
            error="; ".join(copy["error"] for copy in copies if copy["error"]) or None,
            status=next((copy.get("status") for copy in copies if copy.get("status") != 200), 200),
            copy_bytes=[copy["bytes"] for copy in copies],
        )
    sampler.stop()
    result["client_cpu_s"] = time.process_time() - client_cpu
    if not result["complete"]:
        time.sleep(2)  # let gunicorn log why and replace the worker
    after = proc_status(worker)
    cpu_after = cpu_seconds(worker)
    result.update(
        name=name if args.concurrency == 1 else f"{name} x{args.concurrency}",
        request=path + "".join(f" ({key}: {value})" for key, value in headers.items()),
        load_1min=load,
        expected_rows=expected,
        worker=worker,
        worker_after=server.worker(),
        rss_before_mb=before.get("VmRSS", 0) / 1024,
        rss_after_mb=after.get("VmRSS", 0) / 1024,
        peak_rss_sampled_mb=sampler.peak_kb / 1024,
        rss_samples=sampler.samples,
        vmhwm_mb=after.get("VmHWM", 0) / 1024 if after else None,
        vmhwm_reset=hwm_reset,
        worker_cpu_s=(cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None else None,
    )
    result["peak_rss_mb"] = max(result["peak_rss_sampled_mb"], result["vmhwm_mb"] or 0)
    problems = []
    if result.get("status") != 200:
        problems.append(f"HTTP {result.get('status')}")
    if result["worker_after"] != worker:
        problems.append(f"worker {worker} was replaced by {result['worker_after']} (gunicorn timeout?)")
    if not result["complete"]:
        problems.append(f"download ended early: {result['error']}")
    with open(server.log_path, "rb") as log:
        log.seek(log_offset)
        logged = log.read().decode(errors="replace").splitlines()
    problems += [line for line in logged if "WORKER TIMEOUT" in line or "[CRITICAL]" in line][:3]
    counted = time.perf_counter()
    try:  # the first copy is parsed; the others must be byte for byte the same size
        rows, declared, count_problems = count_rows(kind, body_paths[0])
    except (ValueError, UnicodeDecodeError, csv.Error) as error:
        rows, declared, count_problems = None, None, [f"body does not parse: {type(error).__name__}: {error}"]
    problems += count_problems
    if rows != expected:
        problems.append(f"{rows} rows, the database has {expected}")
    if len({path.stat().st_size for path in body_paths if path.exists()}) > 1:
        problems.append(f"the {args.concurrency} copies differ in size: {result.get('copy_bytes')}")
    result.update(rows=rows, declared_count=declared, parse_s=time.perf_counter() - counted, problems=problems)
    result["rows_per_s"] = rows * args.concurrency / result["total_s"] if rows else None
    if not args.keep_bodies:
        for body_path in body_paths:
            body_path.unlink(missing_ok=True)
    return result


# --- Report ------------------------------------------------------------------------


def fmt(value, pattern="{:,.0f}", missing="-"):
    return missing if value is None else pattern.format(value)


def table(results, max_rss, max_ttfb, strict=False):
    lines = [
        "| run | request | TTFB | first record | total | body | rows | rows/s | RSS before | peak RSS | VmHWM"
        " | worker CPU | load | ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        problems = failures(r, max_rss, max_ttfb, strict)
        verdict = "**no**: " + "; ".join(problems) if problems else "yes"
        first = r.get("first_record_s")
        if not strict and r["rows"] and first is not None and first >= max_ttfb:
            verdict += f" (first record after {first:.1f} s)"
        lines.append(
            f"| {r['name']} | `{r['request']}` | {fmt(r.get('ttfb_s'), '{:.3f} s')} "
            f"| {fmt(r.get('first_record_s'), '{:.3f} s')} | {r['total_s']:.1f} s | {r['bytes'] / MB:,.0f} MB "
            f"| {fmt(r['rows'])} | {fmt(r['rows_per_s'])} | {r['rss_before_mb']:.0f} MB "
            f"| {r['peak_rss_sampled_mb']:.0f} MB | {fmt(r['vmhwm_mb'], '{:.0f} MB')} "
            f"| {fmt(r['worker_cpu_s'], '{:.1f} s')} | {r['load_1min']:.2f} | {verdict} |"
        )
    return "\n".join(lines)


def failures(result, max_rss, max_ttfb, strict=False):
    found = list(result["problems"])
    if result["peak_rss_mb"] >= max_rss:
        found.append(f"peak RSS {result['peak_rss_mb']:.0f} MB >= {max_rss}")
    ttfb = result.get("ttfb_s")
    if ttfb is None or ttfb >= max_ttfb:
        found.append(f"TTFB {fmt(ttfb, '{:.3f}')} s >= {max_ttfb} s")
    first = result.get("first_record_s")
    if strict and result["rows"] and (first is None or first >= max_ttfb):
        found.append(f"first record after {fmt(first, '{:.3f}')} s")
    return found


def passed(result, max_rss, max_ttfb, strict=False):
    return not failures(result, max_rss, max_ttfb, strict)


def machine(database):
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    import gunicorn

    def git(*command):
        return subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True).stdout.rstrip("\n")

    digests = {
        name: hashlib.sha1((ROOT / name).read_bytes()).hexdigest()[:10]
        for name in (
            "api/reading/exports.py",
            "api/reading/render.py",
            "api/reading/queries.py",
            "api/catalog/tabular.py",
        )
        if (ROOT / name).exists()
    }
    dirty = [line[3:] for line in git("status", "--porcelain", "--", "api", "schemas").splitlines()]
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gb": os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "gunicorn": gunicorn.__version__,
        "head": git("rev-parse", "--short", "HEAD").strip(),
        "uncommitted": dirty,
        "sha1": digests,
        "database": str(database),
        "database_mb": database.stat().st_size / MB,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, type=Path, help="e.g. from bench/make_large_dataset.py")
    parser.add_argument("--only", help=f"comma-separated runs (default all): {', '.join({**RUNS, **EXTRA_RUNS})}")
    parser.add_argument("--extra", action="store_true", help=f"add {', '.join(EXTRA_RUNS)}")
    parser.add_argument("--out", type=Path, help="default /tmp/eventledger-export-bench/<UTC timestamp>")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every run meets the targets")
    parser.add_argument("--max-rss-mb", type=float, default=200)
    parser.add_argument("--max-ttfb", type=float, default=1.0)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="--check also requires the first record (after a CSV header or a JSON preamble) within --max-ttfb",
    )
    parser.add_argument("--interval", type=float, default=0.05, help="RSS polling interval, seconds")
    parser.add_argument("--timeout", type=float, default=600, help="socket timeout of a download, seconds")
    parser.add_argument("--threads", type=int, help="eventledger serve --threads (default: serve's own)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="download each export this many times at once from the one worker (its threads serve them)",
    )
    parser.add_argument("--fresh-server", action="store_true", help="start a new server for every run")
    parser.add_argument("--keep-bodies", action="store_true", help="keep the downloaded bodies in --out")
    args = parser.parse_args()
    args.database = args.database.resolve()
    if not args.database.exists():
        parser.error(f"{args.database} does not exist; build it with bench/make_large_dataset.py")
    names = args.only.split(",") if args.only else [*RUNS, *(EXTRA_RUNS if args.extra else ())]
    unknown = set(names) - {*RUNS, *EXTRA_RUNS}
    if unknown:
        parser.error(f"unknown runs {sorted(unknown)}; choose from {', '.join({**RUNS, **EXTRA_RUNS})}")
    out = args.out or Path("/tmp/eventledger-export-bench") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    info = machine(args.database)
    info["load_start"] = os.getloadavg()
    info["concurrency"] = args.concurrency
    print(json.dumps(info), flush=True)

    results, server = [], None
    try:
        for name in names:
            if server is None:
                server = Server(args.database, free_port(), out / "server.log", 180, args.threads)
                get(server.port, "/api/v1/events?limit=1")  # the worker's first request: imports
                print(f"server: {' '.join(server.command)}", flush=True)
                print(f"server: master {server.master}, worker {server.worker()}, port {server.port}", flush=True)
            result = measure(server, name, args, out)
            results.append(result)
            print(
                f"{name}: TTFB {fmt(result.get('ttfb_s'), '{:.3f}')} s, {result['total_s']:.1f} s, "
                f"{fmt(result['rows'])} rows, {fmt(result['rows_per_s'])} rows/s, "
                f"RSS {result['rss_before_mb']:.0f} -> peak {result['peak_rss_mb']:.0f} MB"
                + (f"; problems: {result['problems']}" if result["problems"] else ""),
                flush=True,
            )
            if args.fresh_server or result["worker_after"] != result["worker"]:
                server.stop()
                server = None
    finally:
        if server is not None:
            info["master_rss_mb"] = proc_status(server.master).get("VmRSS", 0) / 1024
            server.stop()
    info["load_end"] = os.getloadavg()

    markdown = table(results, args.max_rss_mb, args.max_ttfb, args.strict)
    (out / "table.md").write_text(markdown + "\n")
    (out / "results.json").write_text(json.dumps({"machine": info, "results": results}, indent=2) + "\n")
    print()
    print(markdown)
    print(f"\noutput: {out}")
    if args.check and not all(passed(r, args.max_rss_mb, args.max_ttfb, args.strict) for r in results):
        print("check: FAILED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
