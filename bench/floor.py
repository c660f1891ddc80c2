"""The floor: eventledger's read requests answered by a bare WSGI app, stdlib sqlite3 + orjson only.

    FLOOR_DB=/tmp/el-bench/events-100k.sqlite3 CURSOR_SECRET=... gunicorn -w 4 -b 127.0.0.1:8101 bench.floor:app

It answers the same URLs as eventledger (`/api/v1/events?...`, `/api/v1/events/<id>`) with the same
bodies (the same records in the same order, the same envelope, counts, signed cursors and links) by
running, statement for statement, the SQL that eventledger runs for them with its whole-response cache
off (`RESPONSE_CACHE_SIZE=0`). The statements were captured with peewee's logger around test-client
requests (`python bench/sizes.py 10k --sql` prints both apps' statements, and every `sizes.py` run checks
that they are still the same) and are kept here as text:

- every request first reads the dataset revision and each resource's revision (`dataset_state`);
- a page: one SELECT of the page's ids and sort keys (limit + 1 rows) joined to the stored JSON of
  those rows (`event_json`), whose bytes are joined into the body as they are;
- `meta.count`: `SELECT COUNT(*) FROM (<the matches>)`, run once per list, filter and resource
  revisions in each worker, and kept, as eventledger's CountCache keeps it;
- `q`: the page joined to the FTS5 matches ranked by bm25, then one statement for the rank and snippet of
  the page's 50 records;
- a detail: the stored JSON of the record, the summaries of its actors and sources, its claim links and
  the claims' summaries (IN lists padded to a power of two, as `api.db.padded_ids` pads them);
- `include=actors,sources`: the page, then the stored JSON of the related records in one IN query each;
- `format=csv`: one SELECT of every event's stored CSV row in the default order, read 1,000 rows at a time
  inside one read transaction; per batch the claim links and the labels of related records not seen
  before, which fill the row's slots (names, titles, claim ids and statements).

What it leaves out is what a framework adds: routing, query-argument schemas, the rate limiter,
CORS headers, the record renderer's caches and marshmallow (the stored JSON and the summaries' raw
columns are already what the API shows). Only the parameters those requests use are understood
(`limit`, `cursor`, `actor`, `date_from`, `date_to`, `q`, `include`, `format=csv`); anything else is a
400 that says so. `GET /ping` answers `{}` without the database: the HTTP server's own ceiling.
"""

import base64
import calendar
import hashlib
import hmac
import html
import os
import re
import sqlite3
import threading
import unicodedata
import zlib
from collections import defaultdict
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

import orjson

DB_PATH = os.environ.get("FLOOR_DB", "eventledger.sqlite3")
CURSOR_SECRET = os.environ.get("CURSOR_SECRET", "eventledger-public-cursor-key").encode()
CACHE_CONTROL = os.environ.get("CACHE_CONTROL", "public, max-age=60, stale-while-revalidate=300")
# eventledger's connection settings (api/db.py SQLITE_PRAGMAS), applied to each new connection.
PRAGMAS = (("journal_mode", "wal"), ("foreign_keys", 1), ("synchronous", "normal"), ("busy_timeout", 30000))
PRAGMAS += (("cache_size", -8000),)
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
BATCH_SIZE = 1000  # rows per CSV batch (api/reading/exports.py)

# --- The statements, as eventledger's peewee renders them -------------------------------------------

STATE_SQL = "SELECT revision, resource_revisions FROM dataset_state WHERE id = 1"
DATE_KEY = "COALESCE({}.\"date_start\", '9999-99-99')"  # the `date` sort key: undated events last
PAGE_SQL = (
    'SELECT "page"."id", "t1"."json" AS "representation", "page"."date_start" FROM (SELECT "t2"."id", '
    '"t2"."date_start" FROM "event" AS "t2"{where} ORDER BY ' + DATE_KEY.format('"t2"') + ' ASC, "t2"."id" ASC '
    'LIMIT ?) AS "page" LEFT OUTER JOIN "event_json" AS "t1" ON ("t1"."id" = "page"."id") '
    "ORDER BY " + DATE_KEY.format('"page"') + ' ASC, "page"."id" ASC'
)
# "Events of one actor": a walk of the link rows, which carry their events' dates (api.reading.queries.LinkWalk).
WALK_PAGE_SQL = (
    'SELECT "page"."id", "t1"."json" AS "representation", "page"."date_start" FROM (SELECT "t2"."event_id" AS "id", '
    '"t2"."date_start" AS "date_start" FROM "event_actor" AS "t2" WHERE {where} ORDER BY '
    + DATE_KEY.format('"t2"')
    + ' ASC, "t2"."event_id" ASC LIMIT ?) AS "page" LEFT OUTER JOIN "event_json" AS "t1" ON ("t1"."id" = "page"."id") '
    "ORDER BY " + DATE_KEY.format('"page"') + ' ASC, "page"."id" ASC'
)
WALK_COUNT_SQL = 'SELECT COUNT(*) FROM (SELECT 1 FROM "event_actor" AS "t1" WHERE {where}) AS matches'
BM25 = 'bm25("event_search", ?, ?, ?, ?)'
BM25_WEIGHTS = (1.0, 0.25, 0.1, 0.1)  # title, summary, place, date_note (api/reading/search.py WEIGHTS)
SEARCH_PAGE_SQL = (
    'SELECT "page"."id", "t1"."json" AS "representation", "page"."relevance" FROM (SELECT "t2"."id", '
    '"search"."score" AS "relevance" FROM "event" AS "t2" INNER JOIN (SELECT rowid AS "rowid", ' + BM25 + ' AS "score" '
    'FROM "event_search" AS "t3" WHERE ("event_search" MATCH ?)) AS "search" ON ("search"."rowid" = "t2"."rowid") '
    'ORDER BY "search"."score" ASC, "t2"."id" ASC LIMIT ?) AS "page" LEFT OUTER JOIN "event_json" AS "t1" '
    'ON ("t1"."id" = "page"."id") ORDER BY "page"."relevance" ASC, "page"."id" ASC'
)
COUNT_SQL = 'SELECT COUNT(*) FROM (SELECT 1 FROM "event" AS "t1"{where}) AS matches'
MATCHES_SQL = (
    'SELECT "t1"."id", (' + BM25 + ' * ?) AS "rank", snippet("event_search", ?, ?, ?, ?, ?) AS "snippet" '
    'FROM "event" AS "t1" INNER JOIN "event_search" AS "t2" ON ("t2"."rowid" = "t1"."rowid") '
    'WHERE (("event_search" MATCH ?) AND ("t1"."id" IN ({marks})))'
)
SNIPPET_ARGS = (-1, "\x02", "\x03", "…", 16)  # column, mark start and end, ellipsis, tokens
# A search's first page, when `q` alone chooses the records: ranked by the FTS5 table alone with the snippets
# in the same pass, the page and RANKED_TIES more rows read so that ties on the score are ordered by id;
# then the records of those rowids. When more rows tie with the last kept than were read, the page
# query above decides (and MATCHES_SQL gives the rank and snippets).
RANKED_TIES = 64
RANKING_SQL = (
    "SELECT rowid, " + BM25 + ' AS "score", snippet("event_search", ?, ?, ?, ?, ?) AS "snippet" '
    'FROM "event_search" AS "t1" WHERE ("event_search" MATCH ?) ORDER BY score LIMIT ?'
)
RANKED_RECORDS_SQL = (
    'SELECT "t1"."rowid" AS "rowid", "t1"."id", "t2"."json" AS "representation" FROM "event" AS "t1" '
    'LEFT OUTER JOIN "event_json" AS "t2" ON ("t2"."id" = "t1"."id") WHERE ("t1"."rowid" IN ({marks}))'
)
INDEX_COUNT_SQL = (
    'SELECT COUNT(*) FROM (SELECT 1 FROM "event_search" AS "t1" WHERE ("event_search" MATCH ?)) AS matches'
)
DETAIL_SQL = (
    'SELECT "t1"."id", "t2"."json" AS "representation", "t1"."updated_at" FROM "event" AS "t1" '
    'LEFT OUTER JOIN "event_json" AS "t2" ON ("t2"."id" = "t1"."id") WHERE ("t1"."id" = ?)'
)
# The export reads each event's stored CSV row (`event_json.csv`: JSON `[pieces, ids]`, the row encoded but for
# the slots of its related records' labels and of its claims, which an export fills in).
EXPORT_SQL = (
    'SELECT "t1"."id", "t2"."csv" AS "csv" FROM "event" AS "t1" LEFT OUTER JOIN "event_json" AS "t2" '
    'ON ("t2"."id" = "t1"."id") ORDER BY ' + DATE_KEY.format('"t1"') + ' ASC, "t1"."id" ASC'
)
# The related resources: their summary columns (the label second), and the relation's link attributes.
SUMMARY_COLUMNS = {
    "actor": ("id", "name", "kind", "country"),
    "source": ("id", "title", "publisher", "type", "reliability"),
    "claim": ("id", "statement", "status", "credibility"),
}
RELATIONS = {"actors": ("actor", ("role",)), "sources": ("source", ("excerpt",)), "claims": ("claim", ())}
CLAIM_LINKS_SQL = (
    'SELECT "t1"."event_id" AS "local_id", "t1"."claim_id" AS "id" FROM "claim_event" AS "t1" '
    'WHERE ("t1"."event_id" IN ({marks})) ORDER BY "t1"."event_id", "t1"."position", "t1"."id"'
)


def summaries_sql(table, n):
    columns = ", ".join(f'"t1"."{column}"' for column in SUMMARY_COLUMNS[table])
    return f'SELECT {columns} FROM "{table}" AS "t1" WHERE ("t1"."id" IN ({marks(n)}))'


def full_records_sql(table, n):
    return (
        f'SELECT "t1"."id", "t2"."json" AS "representation" FROM "{table}" AS "t1" LEFT OUTER JOIN "{table}_json" '
        f'AS "t2" ON ("t2"."id" = "t1"."id") WHERE ("t1"."id" IN ({marks(n)}))'
    )


def marks(n):
    return ", ".join("?" * n)


def padded(ids):
    """`ids` with the last repeated up to a power of two (api.db.padded_ids): few statement shapes."""
    ids = list(ids)
    size = 1 << max(len(ids) - 1, 0).bit_length()
    return ids + ids[-1:] * (size - len(ids))


# --- Connection, cursors, search words ----------------------------------------------------------------

_local = threading.local()


def connection():
    """One connection per thread (a sync worker has one), opened after gunicorn forks, set up as eventledger's."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB_PATH, isolation_level=None, check_same_thread=False)
        for name, value in PRAGMAS:
            conn.execute(f"PRAGMA {name} = {value}")
        _local.conn = conn
    return conn


class BadRequest(Exception):
    pass


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data):
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


_CURSOR_KEY = hashlib.sha1(b"eventledger.cursor" + b"signer" + CURSOR_SECRET).digest()


def _cursor_mac(value):
    return _b64(hmac.new(_CURSOR_KEY, value, hashlib.sha1).digest())


def encode_cursor(signature, values):
    """eventledger's cursor (itsdangerous URLSafeSerializer, salt `eventledger.cursor`, orjson), in the stdlib."""
    payload = orjson.dumps([signature, values])
    compressed = zlib.compress(payload)
    value = b"." + _b64(compressed) if len(compressed) < len(payload) - 1 else _b64(payload)
    return (value + b"." + _cursor_mac(value)).decode()


def decode_cursor(token, signature):
    value, _, mac = token.encode().rpartition(b".")
    if not value or not hmac.compare_digest(mac, _cursor_mac(value)):
        raise BadRequest("cursor: not one this API issued")
    payload = zlib.decompress(_unb64(value[1:])) if value.startswith(b".") else _unb64(value)
    made_for, values = orjson.loads(payload)
    if made_for != signature:
        raise BadRequest(f"cursor: made for sort {made_for!r}")
    return values


def fts_match(q):
    """Each word of `q` with a letter or digit, quoted, as a prefix (api/reading/search.py)."""
    words = [w for w in unicodedata.normalize("NFC", q).split() if any(unicodedata.category(c)[0] in "LN" for c in w)]
    if not words:
        raise BadRequest("q: no word")
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


_MARKS = re.compile("([\x02\x03])")


def snippet_html(text):
    """The marked snippet as HTML: text escaped, marks as balanced <mark> elements."""
    if text is None:
        return None
    pieces, marking = [], False
    for piece in _MARKS.split(text):
        if piece == "\x02":
            if not marking:
                pieces.append("<mark>")
            marking = True
        elif piece == "\x03":
            if marking:
                pieces.append("</mark>")
            marking = False
        else:
            pieces.append(html.escape(piece))
    if marking:
        pieces.append("</mark>")
    return "".join(pieces)


def date_bound(text, end):
    """The first (or last) day of a YYYY, YYYY-MM or YYYY-MM-DD query date."""
    parts = text.split("-")
    if not (1 <= len(parts) <= 3 and all(part.isdigit() for part in parts)):
        raise BadRequest(f"not a date: {text!r}")
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else (12 if end else 1)
    day = int(parts[2]) if len(parts) > 2 else (calendar.monthrange(year, month)[1] if end else 1)
    return f"{year:04d}-{month:02d}-{day:02d}"


# --- Requests -------------------------------------------------------------------------------------------

LIST_PARAMS = frozenset(("limit", "cursor", "actor", "date_from", "date_to", "q", "include", "format"))
NOT_MATCHING = frozenset(("cursor", "limit", "include", "format"))  # the others choose the records: a count key
_counts = {}  # (path, matching params) -> (resource revisions, count), as eventledger's CountCache per worker


def state(conn):
    row = conn.execute(STATE_SQL).fetchone()
    return (row[0], row[1] or "{}") if row else (0, "{}")


def etag(revision, full_path):
    return f'"r{revision}-{hashlib.sha1(full_path.encode(), usedforsecurity=False).hexdigest()[:16]}"'


def and_all(conditions):
    """Conditions ANDed as peewee nests successive `.where()`s: ((a AND b) AND c)."""
    expression = conditions[0]
    for condition in conditions[1:]:
        expression = f"({expression} AND {condition})"
    return expression


def walks(params):
    """Whether eventledger reads the page and count from the link rows: one actor chooses the events."""
    return bool(params.get("actor")) and "," not in params["actor"]


def walk_filters(params, alias):
    """(conditions, arguments) of a walk: the actor's leading links, then the date overlap on their copies."""
    window, window_args = date_window(params, alias)
    conditions = [f'({alias}."actor_id" = ?)', f'({alias}."leading" = ?)', *window]
    args = [params["actor"], True, *window_args]
    # The window as bounds on the index key: a record ending on or after date_from starts in its year or later.
    if params.get("date_from"):
        conditions.append(f"({DATE_KEY.format(alias)} >= ?)")
        args.append(date_bound(params["date_from"], end=False)[:4] + "-01-01")
    if params.get("date_to"):
        conditions.append(f"({DATE_KEY.format(alias)} <= ?)")
        args.append(date_bound(params["date_to"], end=True))
    return conditions, args


def filters(params, alias, subquery_alias):
    """(conditions, arguments) of the filters, in eventledger's order: actor, then the date overlap."""
    conditions, args = [], []
    if params.get("actor"):
        actors = params["actor"].split(",")
        conditions.append(
            f'({alias}."id" IN (SELECT {subquery_alias}."event_id" FROM "event_actor" AS {subquery_alias} '
            f'WHERE ({subquery_alias}."actor_id" IN ({marks(len(actors))}))))'
        )
        args += actors
    window, window_args = date_window(params, alias)
    return conditions + window, args + window_args


def date_window(params, alias):
    """(conditions, arguments) of the date overlap: ends on or after date_from, starts on or before date_to."""
    conditions, args = [], []
    if params.get("date_from"):
        conditions.append(f'({alias}."date_end" >= ?)')
        args.append(date_bound(params["date_from"], end=False))
    if params.get("date_to"):
        conditions.append(f'({alias}."date_start" <= ?)')
        args.append(date_bound(params["date_to"], end=True))
    return conditions, args


def count(conn, params, revisions):
    key = tuple(sorted((name, value) for name, value in params.items() if name not in NOT_MATCHING))
    kept = _counts.get(key)
    if kept is not None and kept[0] == revisions:
        return kept[1]
    if params.get("q"):  # `q` alone: the FTS5 table's matches, one row per record (the floor answers no other)
        sql, args = INDEX_COUNT_SQL, [fts_match(params["q"])]
    elif walks(params):
        conditions, args = walk_filters(params, '"t1"')
        sql = WALK_COUNT_SQL.format(where=and_all(conditions))
    else:
        conditions, args = filters(params, '"t1"', '"t2"')
        sql = COUNT_SQL.format(where=" WHERE " + and_all(conditions) if conditions else "")
    number = conn.execute(sql, args).fetchone()[0]
    _counts[key] = (revisions, number)
    return number


def ranked(conn, match, count):
    """The `count` best matches as page rows, best first then by id, and {id: (rank, snippet)}; None when more
    matches tie with the last kept than were read, or a match has no record."""
    looked_at = count + max(count, RANKED_TIES)
    ranking = conn.execute(RANKING_SQL, [*BM25_WEIGHTS, *SNIPPET_ARGS, match, looked_at]).fetchall()
    if len(ranking) > count:
        last_kept = ranking[count - 1][1]
        if len(ranking) == looked_at and ranking[-1][1] == last_kept:
            return None
        ranking = [row for row in ranking if row[1] <= last_kept]
    rowids = padded(rowid for rowid, _, _ in ranking)
    records = {row[0]: row for row in conn.execute(RANKED_RECORDS_SQL.format(marks=marks(len(rowids))), rowids)}
    if len(records) < len(ranking):
        return None
    rows, found = [], {}
    for rowid, score, snippet in ranking:
        _, record_id, representation = records[rowid]
        rows.append((record_id, representation, score))
        found[record_id] = (-score, snippet)
    rows.sort(key=lambda row: (row[2], row[0]))
    return rows[:count], found


def page_rows(conn, params, limit):
    """The page's (id, stored JSON, sort key) rows, limit + 1 of them, the sort signature and the matches found."""
    if params.get("q"):
        if set(params) & {"cursor", "actor", "date_from", "date_to"}:
            raise BadRequest("the floor answers q alone")
        match = fts_match(params["q"])
        first = ranked(conn, match, limit + 1)
        if first:
            return first[0], "relevance", first[1]
        args = [*BM25_WEIGHTS, match, limit + 1]
        return conn.execute(SEARCH_PAGE_SQL, args).fetchall(), "relevance", None
    walk = walks(params)
    conditions, args = walk_filters(params, '"t2"') if walk else filters(params, '"t2"', '"t3"')
    if params.get("cursor"):
        date_key, last_id = decode_cursor(params["cursor"], "date")
        key, id_column = DATE_KEY.format('"t2"'), '"t2"."event_id"' if walk else '"t2"."id"'
        conditions.append(f"(({key} >= ?) AND (({key} > ?) OR (({id_column} > ?) AND ({key} = ?))))")
        args += [date_key, date_key, last_id, date_key]
    if walk:
        sql = WALK_PAGE_SQL.format(where=and_all(conditions))
    else:
        sql = PAGE_SQL.format(where=" WHERE " + and_all(conditions) if conditions else "")
    return conn.execute(sql, [*args, limit + 1]).fetchall(), "date", None


def related(conn, table, ids, full):
    """{id: the related record}: its stored JSON, bytes (`include`), or its summary, in one IN query."""
    if not ids:
        return {}
    ids = padded(ids)
    if full:
        rows = conn.execute(full_records_sql(table, len(ids)), ids).fetchall()
        return {record_id: representation.encode() for record_id, representation in rows}
    columns = SUMMARY_COLUMNS[table]
    return {row[0]: dict(zip(columns, row, strict=True)) for row in conn.execute(summaries_sql(table, len(ids)), ids)}


def embedded(encoded, link):
    """`{**related record, **link}` written as the stored record's bytes with the link's own members (role,
    excerpt) added at the end, where the merge puts them: no related record is parsed to be written again."""
    if encoded is None:
        return link
    own = {name: value for name, value in link.items() if name != "id"}
    return orjson.Fragment(encoded[:-1] + b"," + orjson.dumps(own)[1:] if own else encoded)


def claim_links(conn, records):
    """Set each record's `claims` to its claim links, [{id}], read in one query."""
    ids = padded(record["id"] for record in records)
    grouped = defaultdict(list)
    for local_id, claim_id in conn.execute(CLAIM_LINKS_SQL.format(marks=marks(len(ids))), ids):
        grouped[local_id].append({"id": claim_id})
    for record in records:
        record["claims"] = grouped.get(record["id"], [])


def list_page(conn, environ, params, revision, revisions):
    limit = int(params.get("limit", DEFAULT_LIMIT))
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest("limit: 1-200")
    rows, signature, found = page_rows(conn, params, limit)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last_id, _, key = rows[-1]
        next_cursor = encode_cursor(signature, [key if key is not None else "9999-99-99", last_id])
    number = count(conn, params, revisions)
    if any(representation is None for _, representation, _ in rows):
        raise LookupError("a record without stored JSON: run `eventledger init-db`")
    include = [name for name in params.get("include", "").split(",") if name]
    if params.get("q") or include:
        records = [orjson.loads(representation) for _, representation, _ in rows]
        for name in include:
            if name not in ("actors", "sources"):
                raise BadRequest("include: actors, sources")
            full = related(conn, RELATIONS[name][0], {link["id"] for r in records for link in r[name]}, full=True)
            for record in records:
                record[name] = [embedded(full.get(link["id"]), link) for link in record[name]]
        if params.get("q"):
            ids = [record["id"] for record in records]
            if found is None or not all(record_id in found for record_id in ids):
                args = [*BM25_WEIGHTS, -1, *SNIPPET_ARGS, fts_match(params["q"]), *ids]
                sql = MATCHES_SQL.format(marks=marks(len(ids)))
                found = {record_id: (rank, snippet) for record_id, rank, snippet in conn.execute(sql, args)}
            for record in records:
                rank, snippet = found.get(record["id"], (None, None))
                record["match"] = {"rank": rank, "snippet": snippet_html(snippet)}
        data = orjson.dumps(records)
    else:
        data = b"[" + b",".join(representation.encode() for _, representation, _ in rows) + b"]"
    base = f"http://{environ.get('HTTP_HOST', 'localhost')}{environ['PATH_INFO']}"
    query = environ.get("QUERY_STRING", "")
    next_link = None
    if next_cursor:
        kept = [(name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name != "cursor"]
        next_link = base + "?" + urlencode([*kept, ("cursor", next_cursor)])
    meta = {
        "count": number,
        "limit": limit,
        "next_cursor": next_cursor,
        "dataset_revision": revision,
        "dataset_version": f"r{revision}",
    }
    links = {"self": base + ("?" + query if query else ""), "next": next_link}
    body = b'{"data":' + data + b"," + orjson.dumps({"meta": meta, "links": links})[1:]
    headers = [("ETag", etag(revision, f"{environ['PATH_INFO']}?{query}")), ("Cache-Control", CACHE_CONTROL)]
    if next_link:
        headers.append(("Link", f'<{next_link}>; rel="next"'))
    return body, [*headers, ("Vary", "Accept")]


def detail(conn, environ, record_id, revision):
    row = conn.execute(DETAIL_SQL, (record_id,)).fetchone()
    if row is None:
        return None
    _, representation, updated_at = row
    record = orjson.loads(representation)
    for name in ("actors", "sources"):
        summaries = related(conn, RELATIONS[name][0], {link["id"] for link in record[name]}, full=False)
        record[name] = [{**summaries.get(link["id"], {}), **link} for link in record[name]]
    claim_links(conn, [record])
    summaries = related(conn, "claim", {link["id"] for link in record["claims"]}, full=False)
    record["claims"] = [{**summaries.get(link["id"], {}), **link} for link in record["claims"]]
    body = b'{"data":' + orjson.dumps(record) + b',"meta":' + orjson.dumps({"dataset_revision": revision}) + b"}"
    modified = datetime.fromisoformat(updated_at).strftime("%a, %d %b %Y %H:%M:%S GMT")
    path = environ["PATH_INFO"]
    query = environ.get("QUERY_STRING", "")
    headers = [("ETag", etag(revision, f"{path}?{query}")), ("Cache-Control", CACHE_CONTROL)]
    return body, [*headers, ("Last-Modified", modified)]


# --- CSV --------------------------------------------------------------------------------------------------

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = (
    "id,title,summary,type,date,date_approximate,date_note,place,country,latitude,longitude,created_at,updated_at,"
    "version,revision,date_start,date_end,date_precision,actor_ids,actor_names,actor_roles,source_ids,source_titles,"
    "source_excerpts,claim_ids,claim_statements\r\n"
)
# The label of each related resource in a CSV row (its second summary field), and its statement.
LABEL_COLUMNS = {"actor": "name", "source": "title", "claim": "statement"}
_QUOTED = re.compile(r'[",\r\n]')


def labels_sql(table, n):
    label = LABEL_COLUMNS[table]
    return f'SELECT "t1"."id", "t1"."{label}" AS "label" FROM "{table}" AS "t1" WHERE ("t1"."id" IN ({marks(n)}))'


def cell(text):
    """A text cell as csv.writer (QUOTE_MINIMAL, CRLF) writes it, neutralised for spreadsheets (api.catalog.tabular)."""
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"' if _QUOTED.search(text) else text


def csv_body(conn, cap):
    """The export, streamed: the header, then each batch of 1,000 events as it is read, in one read transaction.

    Each row is its stored template with four slots filled: the actors' names and the sources' titles (ids
    in the template), the claim ids and the claims' statements (from the claim links of the batch). Each
    related record's label is read once per export.
    """
    conn.execute("BEGIN")
    try:
        yield CSV_HEADER.encode()
        cursor = conn.execute(EXPORT_SQL + " LIMIT ?", (cap,)) if cap is not None else conn.execute(EXPORT_SQL)
        known = {table: {} for table in LABEL_COLUMNS}
        while rows := cursor.fetchmany(BATCH_SIZE):
            templates = [orjson.loads(template) for _, template in rows]
            ids = padded(event_id for event_id, _ in rows)
            claims = defaultdict(list)
            for event_id, claim_id in conn.execute(CLAIM_LINKS_SQL.format(marks=marks(len(ids))), ids):
                claims[event_id].append(claim_id)
            wanted = {
                "actor": {i for _, slots in templates for i in slots[0]},
                "source": {i for _, slots in templates for i in slots[1]},
                "claim": {i for linked in claims.values() for i in linked},
            }
            for table, needed in wanted.items():
                labels, missing = known[table], needed.difference(known[table])
                if missing:
                    missing = padded(missing)
                    labels.update(conn.execute(labels_sql(table, len(missing)), missing).fetchall())
            actors, sources, statements = known["actor"], known["source"], known["claim"]
            lines = []
            for (event_id, _), (pieces, slots) in zip(rows, templates, strict=True):
                linked = claims.get(event_id, ())
                names = "; ".join("" if actors.get(i) is None else str(actors[i]) for i in slots[0])
                titles = "; ".join("" if sources.get(i) is None else str(sources[i]) for i in slots[1])
                said = "\n".join("" if statements.get(i) is None else str(statements[i]) for i in linked)
                filled = (cell(names), cell(titles), cell("; ".join(linked)), cell(said))
                lines.append(pieces[0] + "".join(text + after for text, after in zip(filled, pieces[1:], strict=True)))
            yield "".join(lines).encode()
    finally:
        conn.execute("COMMIT")


# --- WSGI -------------------------------------------------------------------------------------------------


def problem(start_response, status, detail_text):
    body = orjson.dumps({"title": status.split(" ", 1)[1], "status": int(status[:3]), "detail": detail_text})
    start_response(status, [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/ping":
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    if not path.startswith("/api/v1/events") or environ["REQUEST_METHOD"] != "GET":
        return problem(start_response, "404 Not Found", "not in the floor")
    conn = connection()
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    try:
        revision, revisions = state(conn)
        version = ("Dataset-Version", f"r{revision}")
        if path == "/api/v1/events":
            if set(params) - LIST_PARAMS:
                raise BadRequest(f"the floor does not answer {sorted(set(params) - LIST_PARAMS)}")
            if params.get("format"):
                if params["format"] != "csv" or set(params) - {"format", "limit"}:
                    raise BadRequest("the floor exports format=csv of every event (and a limit)")
                query = environ.get("QUERY_STRING", "")
                headers = [
                    ("ETag", etag(revision, f"{path}?{query}")),
                    ("Cache-Control", CACHE_CONTROL),
                    ("Vary", "Accept"),
                    ("Content-Disposition", f'attachment; filename="eventledger-events-r{revision}.csv"'),
                    ("Content-Type", "text/csv; charset=utf-8; header=present"),
                    version,
                ]
                cap = int(params["limit"]) if "limit" in params else None
                if cap is not None and not 1 <= cap <= MAX_LIMIT:
                    raise BadRequest("limit: 1-200")
                start_response("200 OK", headers)
                return csv_body(conn, cap)
            body, headers = list_page(conn, environ, params, revision, revisions)
        else:
            record_id = path[len("/api/v1/events/") :]
            if "/" in record_id or params:
                raise BadRequest("the floor answers a plain detail")
            answer = detail(conn, environ, record_id, revision)
            if answer is None:
                return problem(start_response, "404 Not Found", f"no event {record_id!r}")
            body, headers = answer
    except (BadRequest, ValueError, sqlite3.OperationalError) as error:
        return problem(start_response, "400 Bad Request", str(error))
    headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body))), version]
    start_response("200 OK", headers)
    return [body]
