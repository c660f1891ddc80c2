"""Load `eventledger serve` with mixed reads and writes, then audit that no acknowledged write was lost.

    python bench/load_audit.py                                   # SQLite, a fresh seeded file
    python bench/load_audit.py --database-url postgresql://postgres@127.0.0.1:5432/load_audit
    python bench/load_audit.py --connections 200 --seconds 60 --writes 0.2

It starts `eventledger serve` (the README's defaults, rate limits off) on a fresh database holding the
shipped dataset, makes a read-write key, and runs `--connections` clients for `--seconds`: each request is
a write with probability `--writes` (create an actor, or change one the client created before, with
If-Match `*`), else a read (a list page, a filter, a search, a detail, the changes feed). Every client owns
its actors, so the last acknowledged change of each is what the database must hold. Afterwards:

- every acknowledged write is there: each actor a client created or changed holds the name of its last
  acknowledged write, at the version that write answered;
- the changes feed, walked from the start with its cursor, lists each acknowledged write exactly once
  (resource, id and version), and no version twice;
- no response was a 5xx.

It prints requests, status counts, latency percentiles and the audit, as Markdown, and exits 1 when the
audit fails. Targets 127.0.0.1 only.
"""

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

BIN = Path(sys.executable).parent
READS = [
    "/api/v1/events?limit=20",
    "/api/v1/events?limit=20&sort=-date",
    "/api/v1/events?actor=china&limit=10",
    "/api/v1/events?q=drone",
    "/api/v1/actors?limit=50",
    "/api/v1/actors?q=load",
    "/api/v1/claims?status=alleged",
    "/api/v1/events/beijing-denies-awareness",
    "/api/v1/actors/china",
    "/api/v1/changes?limit=50",
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client(threading.Thread):
    def __init__(self, number, port, key, deadline, write_share, results):
        super().__init__(daemon=True)
        self.number, self.port, self.key, self.deadline = number, port, key, deadline
        self.write_share, self.results = write_share, results
        self.rng = random.Random(number)
        self.owned = {}  # actor id -> (name, version) of the last acknowledged write
        self.acknowledged = []  # (actor id, version) of every acknowledged write
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    self.results.append(("error", "connection", time.perf_counter() - started))
                    return None, None
                continue
            self.results.append((method, response.status, time.perf_counter() - started))
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            return response.status, data
        return None, None

    def write(self):
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        if not self.owned or self.rng.random() < 0.3:
            actor_id = f"load-{self.number}-{len(self.owned)}"
            name = f"Load actor {self.number} {len(self.owned)} v1"
            body = {"id": actor_id, "name": name, "kind": "group", "description": "made by the load test"}
            status, data = self.request("POST", "/api/v1/actors", json.dumps(body), headers)
        else:
            actor_id = self.rng.choice(list(self.owned))
            name = f"{actor_id} renamed {self.rng.randrange(10**9)}"
            headers["If-Match"] = "*"
            status, data = self.request("PATCH", f"/api/v1/actors/{actor_id}", json.dumps({"name": name}), headers)
        if status in (200, 201):
            version = json.loads(data)["data"]["version"]
            self.owned[actor_id] = (name, version)
            self.acknowledged.append((actor_id, version))

    def run(self):
        while time.monotonic() < self.deadline:
            if self.rng.random() < self.write_share:
                self.write()
            else:
                self.request("GET", self.rng.choice(READS))


def start_server(database_url, port, workdir):
    env = {**os.environ, "DATABASE_URL": database_url, "RATE_LIMIT_ENABLED": "0", "PORT": str(port)}
    subprocess.run([str(BIN / "eventledger"), "init-db"], env=env, check=True, capture_output=True)
    subprocess.run([str(BIN / "eventledger"), "seed"], env=env, check=True, capture_output=True)
    key = subprocess.run(
        [str(BIN / "eventledger"), "keys", "create", "load-audit", "--scope", "read-write"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen([str(BIN / "eventledger"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/readyz")
            break
        except OSError:
            time.sleep(0.1)
    time.sleep(1)
    return server, key


def changes_feed(port):
    """Every change, walked from the start with the feed's cursor: [(resource, record id, version)]."""
    connection, seen, since = http.client.HTTPConnection("127.0.0.1", port, timeout=60), [], None
    while True:
        query = urllib.parse.urlencode({"limit": 200, **({"since": since} if since else {})})
        connection.request("GET", f"/api/v1/changes?{query}")
        page = json.loads(connection.getresponse().read())
        seen += [(change["resource"], change["record_id"], change["version"]) for change in page["data"]]
        since = page["meta"]["next_cursor"]
        if not page["meta"]["has_more"]:
            return seen


def audit(port, clients):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    lost = []
    for client in clients:
        for actor_id, (name, version) in client.owned.items():
            connection.request("GET", f"/api/v1/actors/{actor_id}")
            response = connection.getresponse()
            data = json.loads(response.read())
            if response.status != 200 or (data["data"]["name"], data["data"]["version"]) != (name, version):
                lost.append(actor_id)
    feed = Counter(changes_feed(port))
    acknowledged = [("actors", actor_id, version) for client in clients for actor_id, version in client.acknowledged]
    missing = [write for write in acknowledged if feed[write] == 0]
    repeated = [change for change, count in feed.items() if count > 1]
    return {
        "acknowledged writes": len(acknowledged),
        "lost": len(lost),
        "missing from the feed": len(missing),
        "repeated in the feed": len(repeated),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--writes", type=float, default=0.2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="load-audit-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'load.sqlite3'}"
    port = free_port()
    server, key = start_server(database_url, port, workdir)
    try:
        results = []
        deadline = time.monotonic() + args.seconds
        clients = [Client(n, port, key, deadline, args.writes, results) for n in range(args.connections)]
        started = time.monotonic()
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        elapsed = time.monotonic() - started
        outcome = audit(port, clients)
    finally:
        server.terminate()
        server.wait(timeout=60)
    latencies = sorted(seconds * 1000 for _, _, seconds in results)
    statuses = Counter(f"{method} {status}" for method, status, _ in results)
    centiles = statistics.quantiles(latencies, n=100)
    server_errors = sum(count for label, count in statuses.items() if label.split()[1].startswith("5"))
    print(
        f"### {args.connections} connections, {args.seconds:g} s, {args.writes:.0%} writes, "
        f"{'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'}\n"
    )
    print(
        f"{len(results):,} requests in {elapsed:.1f} s ({len(results) / elapsed:,.0f}/s); "
        f"p50 {centiles[49]:.1f} ms, p95 {centiles[94]:.1f} ms, p99 {centiles[98]:.1f} ms.\n"
    )
    print("| status | count |\n|---|---:|")
    for label, count in sorted(statuses.items()):
        print(f"| {label} | {count:,} |")
    print("\n| audit | |\n|---|---:|")
    for label, value in {**outcome, "5xx": server_errors}.items():
        print(f"| {label} | {value:,} |")
    failed = outcome["lost"] or outcome["missing from the feed"] or outcome["repeated in the feed"] or server_errors
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
