"""The bar: a bare sqlite3 + orjson WSGI app serving GET /api/v1/events?limit=N like eventledger does.

    BENCH_DB=/tmp/bench.sqlite3 gunicorn -w 2 -b 127.0.0.1:8101 bench.bare_app:app

It runs, per request, the SQL eventledger runs for the default events list when
none of the page's records is rendered yet (a cold render; captured with peewee
DEBUG logging):

    1. SELECT revision FROM dataset_state WHERE id = 1     (ETag / meta.dataset_revision)
    2. SELECT COUNT(1) FROM (SELECT 1 FROM event)          (meta.count)
    3. SELECT id, version, updated_at, date_start FROM event
       ORDER BY COALESCE(date_start, '9999-99-99'), id LIMIT 51
       (the narrow keyset page; the literal stand-in lets the event_date_ascending
       expression index serve the ORDER BY)
    4. SELECT <all event columns> FROM event WHERE id IN (<page ids>)   (full rows)
    5. SELECT event_id, actor_id, role FROM event_actor WHERE event_id IN (<page ids>) ORDER BY ...
    6. SELECT event_id, source_id, excerpt FROM event_source WHERE event_id IN (<page ids>) ORDER BY ...

A warm eventledger (render cache holding the page) runs only 1-3; this app caches
nothing, so it runs 4-6 and builds every record on every request. It returns the
same envelope ({"data", "meta", "links"}), record shape (nested `location`,
RFC 3339 `Z` timestamps, owned links as {id, role}/{id, excerpt}), signed next
cursor, and ETag / Cache-Control / Link headers. Only the default-sort first
page is implemented (no filters, no cursor).
GET /ping answers `{}` without touching the database: the HTTP server's ceiling.
"""

import base64
import hashlib
import hmac
import os
import sqlite3
from collections import defaultdict
from urllib.parse import parse_qs

import orjson

DB_PATH = os.environ.get("BENCH_DB", "/tmp/bench.sqlite3")
SECRET = os.environ.get("CURSOR_SECRET", "eventledger-public-cursor-key").encode()
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"

EVENT_COLUMNS = (
    "id, created_at, updated_at, version, title, summary, type, date, date_start, date_end, date_precision, "
    "date_approximate, date_note, place, country, latitude, longitude"
)
PAGE_SQL = (
    "SELECT id, version, updated_at, date_start FROM event "
    "ORDER BY COALESCE(date_start, '9999-99-99') ASC, id ASC LIMIT ?"
)
ROWS_SQL = f"SELECT {EVENT_COLUMNS} FROM event WHERE id IN ({{}})"
COUNT_SQL = "SELECT COUNT(1) FROM (SELECT 1 FROM event) AS _wrapped LIMIT ?"
REVISION_SQL = "SELECT revision FROM dataset_state WHERE id = 1"
ACTORS_SQL = (
    "SELECT event_id AS local_id, actor_id AS id, role FROM event_actor WHERE event_id IN ({}) "
    "ORDER BY event_id, position, id"
)
SOURCES_SQL = (
    "SELECT event_id AS local_id, source_id AS id, excerpt FROM event_source WHERE event_id IN ({}) "
    "ORDER BY event_id, position, id"
)

_connection = None


def connection():
    """One connection per worker process (gunicorn sync workers fork, then call us)."""
    global _connection
    if _connection is None:
        _connection = sqlite3.connect(DB_PATH, check_same_thread=False)
        for pragma in ("journal_mode=wal", "foreign_keys=1", "synchronous=normal", "cache_size=-32000"):
            _connection.execute(f"PRAGMA {pragma}")
    return _connection


def timestamp(value):
    """'2025-01-02 03:04:05.123456' -> '2025-01-02T03:04:05.123456Z' (as isoformat(timespec=microseconds))."""
    if value is None:
        return None
    if "." not in value:
        value += ".000000"
    return value.replace(" ", "T", 1) + "Z"


def sign_cursor(values):
    payload = orjson.dumps(["date", values])
    token = hmac.new(SECRET, payload, hashlib.sha256).digest()[:12] + payload
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode()


def events_page(environ, limit):
    db = connection()
    row = db.execute(REVISION_SQL).fetchone()
    revision = row[0] if row else 0
    count = db.execute(COUNT_SQL, (1,)).fetchone()[0]
    keys = db.execute(PAGE_SQL, (limit + 1,)).fetchall()
    next_cursor = None
    if len(keys) > limit:
        keys = keys[:limit]
        last = keys[-1]
        next_cursor = sign_cursor([last[3] if last[3] is not None else "9999-99-99", last[0]])
    ids = [key[0] for key in keys]
    marks = ",".join("?" * len(ids))
    actors, sources = defaultdict(list), defaultdict(list)
    rows = []
    if ids:
        by_id = {row[0]: row for row in db.execute(ROWS_SQL.format(marks), ids)}
        rows = [by_id[record_id] for record_id in ids]
        for local_id, actor_id, role in db.execute(ACTORS_SQL.format(marks), ids):
            actors[local_id].append({"id": actor_id, "role": role})
        for local_id, source_id, excerpt in db.execute(SOURCES_SQL.format(marks), ids):
            sources[local_id].append({"id": source_id, "excerpt": excerpt})
    data = [
        {
            "id": r[0],
            "title": r[4],
            "summary": r[5],
            "type": r[6],
            "date": r[7],
            "date_approximate": bool(r[11]),
            "date_note": r[12],
            "location": {"place": r[13], "country": r[14], "latitude": r[15], "longitude": r[16]},
            "created_at": timestamp(r[1]),
            "updated_at": timestamp(r[2]),
            "version": r[3],
            "date_start": r[8],
            "date_end": r[9],
            "date_precision": r[10],
            "actors": actors.get(r[0], []),
            "sources": sources.get(r[0], []),
        }
        for r in rows
    ]
    host = environ.get("HTTP_HOST", "localhost")
    base = f"http://{host}{environ['PATH_INFO']}"
    query = environ.get("QUERY_STRING", "")
    self_url = f"{base}?{query}" if query else base
    next_link = f"{base}?limit={limit}&cursor={next_cursor}" if next_cursor else None
    body = orjson.dumps(
        {
            "data": data,
            "meta": {"count": count, "limit": limit, "next_cursor": next_cursor, "dataset_revision": revision},
            "links": {"self": self_url, "next": next_link},
        }
    )
    full_path = f"{environ['PATH_INFO']}?{query}"
    etag = f'"r{revision}-{hashlib.sha1(full_path.encode(), usedforsecurity=False).hexdigest()[:16]}"'
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("ETag", etag),
        ("Cache-Control", CACHE_CONTROL),
    ]
    if next_link:
        headers.append(("Link", f'<{next_link}>; rel="next"'))
    return body, headers


def app(environ, start_response):
    if environ["PATH_INFO"] == "/ping":  # the HTTP server's own ceiling: no database, a 2-byte body
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    if environ["REQUEST_METHOD"] != "GET" or environ["PATH_INFO"] != "/api/v1/events":
        body = b'{"title":"Not Found","status":404}'
        start_response("404 Not Found", [("Content-Type", "application/problem+json")])
        return [body]
    params = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        limit = int(params.get("limit", ["50"])[0])
    except ValueError:
        limit = 0
    if not 1 <= limit <= 200 or set(params) - {"limit"}:
        body = b'{"title":"Bad Request","status":400}'
        start_response("400 Bad Request", [("Content-Type", "application/problem+json")])
        return [body]
    body, headers = events_page(environ, limit)
    start_response("200 OK", headers)
    return [body]
