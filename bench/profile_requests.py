"""In-process cost per request of eventledger (cold and warm) and of its floor, or a cProfile of one of them.

    python bench/profile_requests.py 10k                                  # ms/request of every request
    python bench/profile_requests.py 100k --profile search --app cold -n 300 [--sort tottime] [--top 40]

The database is sizes.py's (`/tmp/el-bench/events-<size>.sqlite3`, built by `python bench/sizes.py <size>
--verify-only` if missing), and so are the requests and their parameters. Timings are the mean wall-clock
ms per request over -n requests through a WSGI test client, after a warm-up: the application alone,
without HTTP, gunicorn or the load generator. `cold` is `RESPONSE_CACHE_SIZE=0`, `warm` the defaults
(a repeated URL is answered from the response cache), `floor` is bench/floor.py. The CSV export is left
out unless named with --requests (it is the whole table).
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import sizes  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", choices=list(sizes.SIZES))
    parser.add_argument("--data-dir", default=os.environ.get("EL_BENCH_DIR", "/tmp/el-bench"))
    parser.add_argument("--requests", default=",".join(sizes.LOADED))
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--profile", help="a request to profile instead of timing all")
    parser.add_argument("--app", choices=("cold", "warm", "floor"), default="cold", help="what --profile profiles")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    path = Path(args.data_dir) / f"events-{args.size}.sqlite3"
    if not path.exists():
        sys.exit(f"{path} is missing: python bench/sizes.py {args.size} --verify-only builds it")
    defaults = argparse.Namespace(date_from="2010-01-01", date_to="2019-12-31", term="satellite")
    params = sizes.derive_params(path, defaults)
    paths = {name: p for name, p in sizes.request_paths(params).items() if name in args.requests.split(",")}

    os.environ.update(FLOOR_DB=str(path), CURSOR_SECRET=sizes.CURSOR_SECRET)
    import floor
    from werkzeug.test import Client

    from api import create_app

    config = {"DATABASE_URL": f"sqlite:///{path}", **sizes.EL_ENV}
    clients = {
        "cold": create_app({**config, "RESPONSE_CACHE_SIZE": 0}).test_client(),
        "warm": create_app(config).test_client(),
        "floor": Client(floor.app),
    }

    def run(client, url, n):
        for _ in range(n):
            response = client.get(url)
            response.get_data()
            response.close()
        return response

    if args.profile:
        client, url = clients[args.app], paths[args.profile]
        run(client, url, 20)
        profiler = cProfile.Profile()
        profiler.enable()
        run(client, url, args.n)
        profiler.disable()
        pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
        return

    print(f"{params['events']:,} events, ms per request (mean of {args.n}, after 20 to warm up)")
    print(f"{'request':<20}" + "".join(f"{name:>10}" for name in clients) + "   cold ÷ floor")
    for name, url in paths.items():
        timings = {}
        for which, client in clients.items():
            response = run(client, url, 20)
            if response.status_code != 200:
                sys.exit(f"{which} {url}: HTTP {response.status_code}")
            started = time.perf_counter()
            run(client, url, args.n)
            timings[which] = (time.perf_counter() - started) / args.n * 1000
        cells = "".join(f"{timings[which]:>10.2f}" for which in clients)
        print(f"{name:<20}{cells}   {timings['cold'] / timings['floor']:>8.1f}")


if __name__ == "__main__":
    main()
