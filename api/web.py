"""The web layer shared by every route: blueprints and their query parser, conditional GETs,
JSON bodies, headers and links, and the documentation of headers and error responses."""

import hashlib
import json
import math
import re
from collections import OrderedDict
from functools import partial, wraps
from urllib.parse import unquote, urlencode

import orjson
from flask import Response, current_app, g, request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from api.db import read_snapshot
from api.errors import BadParameter
from api.reading.pagination import CursorCodec
from api.reading.render import select_fields
from api.tables import dataset_state, dataset_version, stored_cursor_secret
from api.writing.checks import flatten_messages
from api.writing.editing import InvalidRecord, field_errors
from schemas.envelopes import ProblemSchema

JSON_MEDIA_TYPE = "application/json"
# The one security scheme of the OpenAPI document: every operation that needs a key names it.
SECURITY_SCHEME = "ApiKey"
SECURITY = [{SECURITY_SCHEME: []}]
HTML_MEDIA_TYPE = "text/html"
LD_MEDIA_TYPE = "application/ld+json"
DATASET_VERSION = "Dataset-Version"

CACHED_HEADERS = ("ETag", "Cache-Control", "Link", "Last-Modified", "Vary")
MAX_NOTE_LENGTH = 2000
MAX_IDEMPOTENCY_KEY_LENGTH = 255


def current_revision():
    """The dataset revision this request reads: looked up once, then shared by the view and its headers."""
    if "dataset_revision" not in g:
        g.dataset_revision, g.resource_revisions = dataset_state()
    return g.dataset_revision


# Query parameters that page or shape a list without choosing its records: the rest name its matches.
NOT_MATCHING = frozenset(("cursor", "limit", "sort", "fields", "include", "facets", "format", "bom"))


def count_matches(query):
    """The exact count of a list's matches, kept while the resources it reads do not change."""
    current_revision()
    resource_revisions = g.get("resource_revisions")
    if resource_revisions is None:  # the revision was set by a write; its request reads no list
        return query.count()
    matching = sorted((name, value) for name, value in request.args.items(multi=True) if name not in NOT_MATCHING)
    key = (request.path, tuple(matching))
    return current_app.extensions["eventledger.counts"].count(key, query, resource_revisions)


# Probes and static files answer without the database: a liveness probe must not fail with it.
WITHOUT_DATABASE = frozenset(("meta.Health", "meta.Ready", "static", "docs_assets.swagger_ui_asset"))


def add_dataset_version(response):
    """Every dataset response names the dataset version it was read from, so what was pulled can be cited."""
    if request.endpoint in WITHOUT_DATABASE or response.status_code == 503:  # a 503 is the database not answering
        return response
    try:
        revision = current_revision()
    except Exception:  # an unreachable database: /readyz reports it, the other answers go without the header
        return response
    response.headers[DATASET_VERSION] = dataset_version(revision)
    return response


class ResponseCache:
    """Finished GET bodies by (dataset revision, request): the same key the ETag is made of.

    Within one revision a URL's answer cannot change, so a repeated request is served
    after the revision lookup alone; a new revision simply stops matching old entries.
    """

    def __init__(self, max_size):
        self.max_size = max_size
        self._entries = OrderedDict()

    def get(self, revision):
        entry = self._entries.get((revision, request.full_path))
        if entry is None:
            return None
        body, headers = entry
        return json_response(body, headers=dict(headers))

    def store(self, revision, response):
        if response.status_code == 200:
            headers = {name: value for name, value in response.headers.items() if name in CACHED_HEADERS}
            self._entries[(revision, request.full_path)] = (response.get_data(), headers)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)
        return response


def json_response(body, status=200, headers=None):
    return Response(body, status=status, mimetype=JSON_MEDIA_TYPE, headers=headers)


def envelope_response(data, meta, links=None, headers=None, status=200):
    """Every JSON answer of the dataset in the one envelope, `{"data", "meta", "links"}` (`links` when given).

    `data` may be JSON already: records rendered once are kept as bytes, and a page joins them as they are.
    """
    tail = orjson.dumps({"meta": meta} if links is None else {"meta": meta, "links": links})
    encoded = data if isinstance(data, bytes) else orjson.dumps(data)
    return json_response(b'{"data":' + encoded + b"," + tail[1:], status=status, headers=headers)


def paged_headers(etag, next_link):
    """The caching headers of a page, and its next page as an RFC 8288 `Link`."""
    headers = caching_headers(etag)
    if next_link:
        headers["Link"] = f'<{next_link}>; rel="next"'
    return headers


def request_etag(revision, variant=""):
    """The ETag of this GET: the dataset revision and the exact request, without building the body.

    `variant` names a representation chosen by content negotiation (an `Accept`-ed CSV export).
    """
    return path_etag(revision, request.full_path, variant)


def path_etag(revision, full_path, variant=""):
    """The ETag a GET of `full_path` (path, `?` and query, as Flask's `request.full_path`) would carry."""
    digest = hashlib.sha1((full_path + variant).encode(), usedforsecurity=False).hexdigest()[:16]
    return f'"r{revision}-{digest}"'


# A compressed answer's ETag carries the encoding (`"r12-…:gzip"`, flask-compress): it names the same data.
ETAG_REVISION = re.compile(r"^r(\d{1,18})-[0-9a-f]{16}(?::(?:gzip|br|zstd|deflate))?$")
ENCODING_SUFFIX = re.compile(r":(?:gzip|br|zstd|deflate)$")


def if_match_revision():
    """The newest dataset revision at which this request's If-Match is the ETag of the record it edits.

    None without the header, infinity for `*`, -1 when no tag is one. A tag counts only if it is exactly
    what `GET <this record's URL>` carried at some revision, no later than the current one: any revision
    since the record last changed names the same version of it, which is what the check is for (an edit
    elsewhere in the dataset must not make a client's tag stale). Weak tags count too: a proxy that
    compressed a GET may have weakened its ETag.
    """
    if "If-Match" not in request.headers:
        return None
    if request.if_match.star_tag:
        return math.inf
    newest, current = -1, None
    for tag in request.if_match.as_set(include_weak=True):
        match = ETAG_REVISION.match(tag or "")
        if match is None:
            continue
        revision = int(match.group(1))
        current = current_revision() if current is None else current
        if revision <= current and path_etag(revision, request.path + "?") == f'"{ENCODING_SUFFIX.sub("", tag)}"':
            newest = max(newest, revision)
    return newest


def not_modified(etag, ensure_exists=None):
    """A 304 for a matching If-None-Match, else None.

    `*` matches any current representation, so it first asks `ensure_exists` (which raises a 404).
    """
    if request.if_none_match.star_tag:
        if ensure_exists:
            ensure_exists()
        return Response(status=304, headers=caching_headers(etag))
    tags = {ENCODING_SUFFIX.sub("", tag) for tag in request.if_none_match.as_set(include_weak=True)}
    if etag.strip('"') in tags:
        return Response(status=304, headers=caching_headers(etag))
    return None


def conditional_get(*, cache=True, exists=None, variant=None, finish=None):
    """Every GET of the dataset, around its view: the revision, the ETag, the 304, the finished-response cache.

    The whole answer reads one snapshot of the data (`read_snapshot`): a page, its count, its embedded
    records and its revision agree, whatever commits meanwhile. The ETag is made of the dataset revision
    and the exact request (`variant` names a representation chosen by content negotiation), so a matching
    If-None-Match is answered before any query of the data, and within a revision a finished body is
    served again from the cache. The view reads the
    ETag with `current_etag()`; its 200 is kept when `cache` (a bool, or a function of the view's
    arguments) says so, under the revision the view read (it may have moved to a snapshot's). `exists`,
    called with the view's arguments, raises the 404 that `If-None-Match: *` must get for a missing
    record; `finish` sets what every answer of the view carries, a 304 and a cached one included.
    """

    def decorate(view):
        @wraps(view)
        def answer(*args, **kwargs):
            cursors()  # a database without a cursor secret yet gets one before the read-only snapshot
            with read_snapshot():
                return _answer(*args, **kwargs)

        def _answer(*args, **kwargs):
            revision = current_revision()
            g.etag = request_etag(revision, variant(*args, **kwargs) if variant else "")
            keep = cache(*args, **kwargs) if callable(cache) else cache
            response = not_modified(g.etag, exists and partial(exists, *args, **kwargs))
            if response is None and keep:
                response = responses().get(revision)
            if response is None:
                response = view(*args, **kwargs)
                if keep:
                    responses().store(current_revision(), response)
            return finish(response) if finish else response

        return answer

    return decorate


def current_etag():
    """The ETag `conditional_get` made for this request."""
    return g.etag


def caching_headers(etag):
    return {"ETag": etag, "Cache-Control": current_app.config["CACHE_CONTROL"]}


def url_with(**changes):
    """This request's URL with some query parameters replaced (None removes one)."""
    params = [(key, value) for key, value in request.args.items(multi=True) if key not in changes]
    params += [(key, value) for key, value in changes.items() if value is not None]
    query = urlencode(params)
    return request.base_url + (f"?{query}" if query else "")


MAX_LOG_ID = 2**31 - 1  # change and delivery ids are 32-bit
OLDER_PAGE = "before"  # what a log page's cursor was made for: a position in a log, newest first


def older_page_start(args):
    """Where a page of a log (a record's history, a webhook's deliveries) starts: the id its `cursor` carries,
    or the plain `before` of 1.0; None for the newest page."""
    if args.get("cursor") and args.get("before"):
        raise BadParameter("cursor", "Give `cursor` or `before`, not both.")
    if not args.get("cursor"):
        return args.get("before")
    (start,) = cursors().decode(args["cursor"], OLDER_PAGE, 1)
    if not isinstance(start, int) or isinstance(start, bool) or not 1 <= start <= MAX_LOG_ID:
        raise BadParameter("cursor", CursorCodec.NOT_OURS)
    return start


def older_page(next_before):
    """(next cursor, next link) of a log page whose next, older page starts before `next_before` (or None)."""
    if next_before is None:
        return None, None
    cursor = cursors().encode(OLDER_PAGE, [next_before])
    return cursor, url_with(cursor=cursor, before=None)


def cursors():
    codec = current_app.extensions["eventledger.cursors"]
    if codec is None:
        codec = current_app.extensions["eventledger.cursors"] = CursorCodec(stored_cursor_secret())
    return codec


API_PREFIX = "/api/v1"


BODY_LOCATION = "body"


class ApiParser(FlaskParser):
    """Query parameters and request bodies, as the API answers for them.

    Malformed query parameters are a 400 Bad Request, not webargs' default 422, and unknown ones are
    errors too: the schemas' own `unknown = RAISE` decides, not webargs' EXCLUDE. A record body comes
    from the `body` location: a JSON object or a 415/400, and a body its schema refuses is a 422 naming
    each field by its dotted path.
    """

    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}
    __location_map__ = {**FlaskParser.__location_map__, BODY_LOCATION: "load_json_object"}

    def load_json_object(self, _request, _schema):
        return request_body()[1]

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        if BODY_LOCATION in error.messages:
            raise InvalidRecord(field_errors(flatten_messages(error.messages[BODY_LOCATION])))
        super().handle_error(error, req, schema, error_status_code=error_status_code, error_headers=error_headers)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        BODY_LOCATION: JSON_MEDIA_TYPE,
    }


ETAG_HEADER = {
    "description": "Entity tag of the response; send it back in If-None-Match.",
    "schema": {"type": "string"},
}
LINK_HEADER = {
    "description": 'RFC 8288 link to the next page (rel="next"), when there is one.',
    "schema": {"type": "string"},
}
LAST_MODIFIED_HEADER = {"description": "When the record last changed.", "schema": {"type": "string"}}
CACHE_CONTROL_HEADER = {"description": "Caching policy for this public dataset.", "schema": {"type": "string"}}
DATASET_VERSION_HEADER = {
    "description": "Version of the dataset the response was read from (`r` and the revision): cite it.",
    "schema": {"type": "string"},
}
CONTENT_DISPOSITION_HEADER = {
    "description": 'Exports only: `attachment; filename="eventledger-<resource>-<dataset version>.<format>"`.',
    "schema": {"type": "string"},
}

# Rate limits (api/ratelimit.py), in the syntax of draft-ietf-httpapi-ratelimit-headers: defined once as
# components (EventledgerApi registers them) and referenced by name from every limited response.
RATE_LIMIT_HEADER_COMPONENTS = {
    "RateLimitPolicy": {
        "description": (
            'The rate limit that applies: `"address";q=600;w=60` is 600 requests per 60 seconds for a client '
            'without an API key (by address), `"key"` the budget of a valid API key. Absent when limits are off.'
        ),
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": (
            'Where the client stands: `"address";r=599;t=42` is 599 requests left, the budget renewing in 42 '
            "seconds. A 304 Not Modified costs nothing."
        ),
        "schema": {"type": "string"},
    },
    "RetryAfter": {"description": "Seconds until the budget renews.", "schema": {"type": "integer"}},
}
RATE_LIMIT_HEADERS = {"RateLimit-Policy": "RateLimitPolicy", "RateLimit": "RateLimit"}


# What each error status means for a read of the dataset; other operations pass `descriptions` that say
# what the status means there (a 404 of a webhook subscription, a 422 of a record body).
PROBLEM_DESCRIPTIONS = {
    400: "A query parameter is unknown or invalid; `errors` names it.",
    404: "No record has this id.",
}


def document_errors(blueprint, *statuses, descriptions=None, conditional=True):
    """Document each given error status as problem+json: the one way every operation documents its errors.

    A `conditional` GET may also answer 304, and every rate-limited read 429.
    """
    descriptions = {**PROBLEM_DESCRIPTIONS, **(descriptions or {})}

    def decorate(view):
        if conditional:
            view = blueprint.alt_response(
                304, description="Not modified: the If-None-Match ETag is current.", headers=RATE_LIMIT_HEADERS
            )(view)
            view = blueprint.alt_response(
                429,
                schema=ProblemSchema,
                description="The client's rate limit is spent; retry after `Retry-After` seconds.",
                content_type="application/problem+json",
                headers={"Retry-After": "RetryAfter", **RATE_LIMIT_HEADERS},
            )(view)
        for status in statuses:
            view = blueprint.alt_response(
                status, schema=ProblemSchema, description=descriptions[status], content_type="application/problem+json"
            )(view)
        return view

    return decorate


def vary_on_accept(response):
    """For answers chosen by content negotiation: caches keep one per Accept."""
    response.vary.add("Accept")
    return response


def renderer():
    return current_app.extensions["eventledger.renderer"]


def responses():
    return current_app.extensions["eventledger.responses"]


def render_detail(spec, row, args):
    """A record as its detail response holds it: its own fields and links, and every related record embedded."""
    record = renderer().records(spec, [row])[0]
    included = set(args.get("include", []))
    for relation_name in spec.relations:
        renderer().embed(spec, [record], relation_name, full=relation_name in included)
    if args.get("fields"):
        record = select_fields(record, set(args["fields"]) | included)
    return record


def last_modified(row):
    return row["updated_at"].strftime("%a, %d %b %Y %H:%M:%S GMT")


MAX_BODY_DEPTH = 16  # a record nests three levels deep (a claim's source links); nothing needs more


def _refuse_duplicate_members(pairs):
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise BadRequest(f"The body names a member more than once: {', '.join(repeated)}.")
    return dict(pairs)


def _refuse_constant(name):
    raise BadRequest(f"The body holds {name}, which is not a JSON number.")


def _finite_number(text):
    number = float(text)
    if not math.isfinite(number):
        raise BadRequest(f"The body holds the number {text[:40]}, beyond the range of a double.")
    return number


def _depth(value):
    """How deeply `value` nests, counted without recursion (a body may be hostile)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_BODY_DEPTH:
                return depth
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def request_body():
    """The JSON object sent, as (canonical bytes, dict): 415 for another media type or charset, 400 for bad
    JSON, a member named twice, NaN or Infinity, or nesting deeper than MAX_BODY_DEPTH.

    Read once per request: a PATCH reads it for its syntax before its preconditions, then for its schema.
    Its size is bounded before it is read (MAX_CONTENT_LENGTH: a 413).
    """
    if "request_body" not in g:
        if request.mimetype != "application/json":
            raise UnsupportedMediaType("Send the record as JSON, with `Content-Type: application/json`.")
        if request.mimetype_params.get("charset", "utf-8").lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(
                "Send JSON as UTF-8 (RFC 8259): `Content-Type: application/json; charset=utf-8`."
            )
        try:
            body = json.loads(
                request.get_data().decode("utf-8"),
                object_pairs_hook=_refuse_duplicate_members,
                parse_constant=_refuse_constant,
                parse_float=_finite_number,
            )
        except UnicodeDecodeError:
            raise BadRequest("The body is not valid UTF-8.") from None
        except RecursionError:
            raise BadRequest(f"The body nests deeper than {MAX_BODY_DEPTH} levels.") from None
        except ValueError as error:
            raise BadRequest(f"The body is not valid JSON: {error}") from None
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object of the record's fields.")
        if _depth(body) > MAX_BODY_DEPTH:
            raise BadRequest(f"The body nests deeper than {MAX_BODY_DEPTH} levels.")
        try:
            canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError as error:  # an integer beyond 64 bits
            raise BadRequest(f"The body holds a value out of range: {error}.") from None
        g.request_body = canonical, body
    return g.request_body


def edit_note():
    note = request.headers.get("X-Edit-Note")
    if note is None or not note.strip():
        return None
    note = unquote(note.strip())
    if len(note) > MAX_NOTE_LENGTH:
        raise BadParameter("X-Edit-Note", f"longer than {MAX_NOTE_LENGTH} characters", location="header")
    if any(ord(character) < 32 and character not in "\t\n\r" or character == "\x7f" for character in note):
        raise BadParameter("X-Edit-Note", "holds a control character", location="header")
    return note


def idempotency_key():
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise BadParameter("Idempotency-Key", f"1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters", location="header")
    return key
