"""In-process cost per request, and a cProfile of eventledger, without HTTP or gunicorn.

    python bench/profile_requests.py /tmp/eventledger-bench.sqlite3                  # timings of every scenario
    python bench/profile_requests.py /tmp/eventledger-bench.sqlite3 --profile b -n 500 [--sort tottime] [--top 35]

Timings: mean wall-clock ms per request over -n requests through a WSGI test
client, after a warm-up (so the render cache is warm, as in a running server).
This measures the application alone; the HTTP server and the load generator
add the same cost to both apps.
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def scenarios(etag):
    return {
        "a": ("bare", "/api/v1/events?limit=50", {}),
        "b": ("ours", "/api/v1/events?limit=50", {}),
        "c": ("ours", "/api/v1/events?limit=50", {"If-None-Match": etag}),
        "d": ("ours", "/api/v1/events/event-00042", {}),
        "e": ("ours", "/api/v1/events?limit=50&include=actors,sources", {}),
        "f": ("ours", "/api/v1/events?limit=50&type=accusation&date_from=2023", {}),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--profile", help="scenario letter to profile instead of timing all")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = f"sqlite:///{Path(args.db).resolve()}"
    os.environ["BENCH_DB"] = str(Path(args.db).resolve())
    from werkzeug.test import Client

    from api import create_app
    from bench.bare_app import app as bare_app

    clients = {"ours": create_app().test_client(), "bare": Client(bare_app)}
    etag = clients["ours"].get("/api/v1/events?limit=50").headers["ETag"]
    table = scenarios(etag)

    def run(letter, n):
        which, path, headers = table[letter]
        client = clients[which]
        for _ in range(n):
            response = client.get(path, headers=headers)
            response.close()
        return response

    if args.profile:
        run(args.profile, 50)
        profiler = cProfile.Profile()
        profiler.enable()
        run(args.profile, args.n)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
        return

    print(f"{'scenario':<10}{'status':>7}{'ms/request':>12}")
    for letter, (which, path, _headers) in table.items():
        response = run(letter, 30)  # warm: render cache, sqlite page cache
        started = time.perf_counter()
        run(letter, args.n)
        elapsed = (time.perf_counter() - started) / args.n * 1000
        print(f"{letter} {which:<8}{response.status_code:>7}{elapsed:>12.2f}   {path}")


if __name__ == "__main__":
    main()
