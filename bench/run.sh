#!/usr/bin/env bash
# Benchmark eventledger against the bare sqlite3 + orjson baseline (bench/bare_app.py).
#
#   bench/run.sh                      # dataset /tmp/eventledger-bench.sqlite3, built if missing
#   BENCH_DB=/path/db.sqlite3 DURATION=15 CONNECTIONS=4 MAX_WAIT=900 bench/run.sh
#
# Every app runs under gunicorn with the same settings (WORKERS sync workers, 127.0.0.1
# only, no access log); each scenario is checked with curl (expected status), warmed for
# WARMUP seconds, then measured with wrk. Raw wrk output and response bodies go to
# bench/results/<timestamp>/ (OUT), the markdown table to stdout and OUT/table.md.
# All servers are killed on exit (trap).
#
# Scenarios a-f are the benchmark proper. CONTEXT=1 (default) adds reference rows:
#   0   GET /ping on the bare app: an empty JSON body, no database (gunicorn's own ceiling here);
#   s1  the bare app and s2 eventledger, on the shipped seed dataset (19 events).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck disable=SC1091
. .venv/bin/activate

BENCH_DB="${BENCH_DB:-/tmp/eventledger-bench.sqlite3}"
SEED_DB="${BENCH_DB%.sqlite3}-seed.sqlite3"
PORT_BASE="${PORT_BASE:-8101}"     # uses PORT_BASE .. PORT_BASE+3
WORKERS="${WORKERS:-2}"
DURATION="${DURATION:-12}"
WARMUP="${WARMUP:-3}"
CONNECTIONS="${CONNECTIONS:-4}"
THREADS="${THREADS:-2}"
CONTEXT="${CONTEXT:-1}"
MAX_LOAD="${MAX_LOAD:-1.5}"        # wait up to MAX_WAIT seconds for the 1-min load average to drop below this
MAX_WAIT="${MAX_WAIT:-0}"
DETAIL_ID="${DETAIL_ID:-event-00042}"
OUT="${OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"

command -v wrk >/dev/null || { echo "wrk not found: apt-get update && apt-get install -y wrk" >&2; exit 1; }

if [ ! -f "$BENCH_DB" ]; then
    echo "Building dataset $BENCH_DB ..."
    python bench/make_dataset.py "$BENCH_DB"
fi
if [ "$CONTEXT" = 1 ] && [ ! -f "$SEED_DB" ]; then
    DATABASE_URL="sqlite:///$SEED_DB" eventledger seed
fi

load1() { cut -d' ' -f1 /proc/loadavg; }
waited=0
while awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN { exit !(l >= m) }' && [ "$waited" -lt "$MAX_WAIT" ]; do
    echo "load average $(load1) > $MAX_LOAD; waiting ($waited/${MAX_WAIT}s)"
    sleep 30
    waited=$((waited + 30))
done
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

wait_up() {
    for _ in $(seq 1 150); do
        curl -fs -o /dev/null "http://127.0.0.1:$1$2" && return 0
        sleep 0.1
    done
    echo "server on port $1 did not come up; see $OUT/*.log" >&2
    exit 1
}

# start NAME PORT APP [ENV=VALUE ...]
start() {
    local name="$1" port="$2" app="$3"
    shift 3
    env "$@" gunicorn --workers "$WORKERS" --worker-class sync --log-level warning --limit-request-line 0 \
        --bind "127.0.0.1:$port" "$app" >"$OUT/$name.log" 2>&1 &
    PIDS+=($!)
}

BARE_PORT=$PORT_BASE
OURS_PORT=$((PORT_BASE + 1))
SEED_BARE_PORT=$((PORT_BASE + 2))
SEED_OURS_PORT=$((PORT_BASE + 3))

start bare "$BARE_PORT" bench.bare_app:app BENCH_DB="$BENCH_DB"
start ours "$OURS_PORT" 'api:create_app()' DATABASE_URL="sqlite:///$BENCH_DB"
if [ "$CONTEXT" = 1 ]; then
    start seed-bare "$SEED_BARE_PORT" bench.bare_app:app BENCH_DB="$SEED_DB"
    start seed-ours "$SEED_OURS_PORT" 'api:create_app()' DATABASE_URL="sqlite:///$SEED_DB"
    wait_up "$SEED_BARE_PORT" /ping
    wait_up "$SEED_OURS_PORT" /healthz
fi
wait_up "$BARE_PORT" /ping
wait_up "$OURS_PORT" /healthz

BARE="http://127.0.0.1:$BARE_PORT"
OURS="http://127.0.0.1:$OURS_PORT"
LIST="/api/v1/events?limit=50"
ETAG="$(curl -fsS -D - -o /dev/null "$OURS$LIST" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag" {print $2}')"
[ -n "$ETAG" ] || { echo "no ETag from $OURS$LIST" >&2; exit 1; }

# name|url|expected status|extra request header (optional)
SCENARIOS=()
[ "$CONTEXT" = 1 ] && SCENARIOS+=("0 gunicorn ceiling: bare GET /ping (no DB)|$BARE/ping|200|")
SCENARIOS+=(
    "a bare list|$BARE$LIST|200|"
    "b ours list|$OURS$LIST|200|"
    "c ours list, If-None-Match (304)|$OURS$LIST|304|If-None-Match: $ETAG"
    "d ours detail $DETAIL_ID|$OURS/api/v1/events/$DETAIL_ID|200|"
    "e ours list include=actors,sources|$OURS$LIST&include=actors,sources|200|"
    "f ours list type=accusation date_from=2023|$OURS$LIST&type=accusation&date_from=2023|200|"
)
[ "$CONTEXT" = 1 ] && SCENARIOS+=(
    "s1 bare list, seed data (19 events)|http://127.0.0.1:$SEED_BARE_PORT$LIST|200|"
    "s2 ours list, seed data (19 events)|http://127.0.0.1:$SEED_OURS_PORT$LIST|200|"
)

{
    echo "# Run $(date -u +%FT%TZ)"
    echo
    echo "nproc $(nproc); $(python --version); gunicorn $(python -c "import gunicorn; print(gunicorn.__version__)"), $WORKERS sync workers;" \
        "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency after a ${WARMUP}s warm-up"
    echo "dataset: $BENCH_DB; 1/5/15-min load average at start: $LOAD_START"
    echo
    echo "| scenario | status | body bytes | req/s | avg latency | p50 | p90 | p99 | bad responses | socket errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
} | tee "$OUT/table.md"

for scenario in "${SCENARIOS[@]}"; do
    IFS='|' read -r name url expected header <<<"$scenario"
    slug="${name%% *}"
    hdr_args=()
    [ -n "$header" ] && hdr_args=(-H "$header")
    : >"$OUT/$slug.body"
    status="$(curl -sS -o "$OUT/$slug.body" -w '%{http_code}' "${hdr_args[@]}" "$url")"
    bytes="$(wc -c <"$OUT/$slug.body")"
    if [ "$status" != "$expected" ]; then
        echo "scenario '$name': expected HTTP $expected, got $status for $url" >&2
        exit 1
    fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "${hdr_args[@]}" "$url" >/dev/null
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${hdr_args[@]}" "$url" >"$OUT/$slug.wrk"
    awk -v name="$name" -v status="$status" -v bytes="$bytes" '
        /Requests\/sec:/ { rps = $2 }
        $1 == "Latency" && NF >= 4 && !avg { avg = $2 }
        $1 == "50%" { p50 = $2 } $1 == "90%" { p90 = $2 } $1 == "99%" { p99 = $2 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        /Socket errors:/ { sub(/.*Socket errors: /, ""); errs = $0 }
        END { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
              name, status, bytes, rps, avg, p50, p90, p99, bad ? bad : 0, errs ? errs : "none" }
    ' "$OUT/$slug.wrk" | tee -a "$OUT/table.md"
done

{
    echo
    echo "1/5/15-min load average at end (includes this benchmark's own load): $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$OUT/table.md"
echo "raw output: $OUT"
