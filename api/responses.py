"""Response helpers shared by every view: JSON bodies, conditional GETs, links."""

import hashlib
from collections import OrderedDict
from urllib.parse import urlencode

from flask import Response, current_app, g, request

from api.models import dataset_revision, dataset_version

JSON_MEDIA_TYPE = "application/json"
DATASET_VERSION_HEADER = "Dataset-Version"

CACHED_HEADERS = ("ETag", "Cache-Control", "Link", "Last-Modified", "Vary")


def current_revision():
    """The dataset revision this request reads: looked up once, then shared by the view and its headers."""
    if "dataset_revision" not in g:
        g.dataset_revision = dataset_revision()
    return g.dataset_revision


def add_dataset_version(response):
    """Every response names the dataset version it was read from, so what was pulled can be cited."""
    try:
        revision = current_revision()
    except Exception:  # an unreachable database: /readyz reports it, the other answers go without the header
        return response
    response.headers[DATASET_VERSION_HEADER] = dataset_version(revision)
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


def request_etag(revision, variant=""):
    """The ETag of this GET: the dataset revision and the exact request, without building the body.

    `variant` names a representation chosen by content negotiation (an `Accept`-ed CSV export).
    """
    return path_etag(revision, request.full_path, variant)


def path_etag(revision, full_path, variant=""):
    """The ETag a GET of `full_path` (path, `?` and query, as Flask's `request.full_path`) would carry."""
    digest = hashlib.sha1((full_path + variant).encode(), usedforsecurity=False).hexdigest()[:16]
    return f'"r{revision}-{digest}"'


def not_modified(etag, ensure_exists=None):
    """A 304 for a matching If-None-Match, else None.

    `*` matches any current representation, so it first asks `ensure_exists` (which raises a 404).
    """
    if request.if_none_match.star_tag:
        if ensure_exists:
            ensure_exists()
        return Response(status=304, headers=caching_headers(etag))
    if request.if_none_match.contains_weak(etag.strip('"')):
        return Response(status=304, headers=caching_headers(etag))
    return None


def caching_headers(etag):
    return {"ETag": etag, "Cache-Control": current_app.config["CACHE_CONTROL"]}


def url_with(**changes):
    """This request's URL with some query parameters replaced (None removes one)."""
    params = [(key, value) for key, value in request.args.items(multi=True) if key not in changes]
    params += [(key, value) for key, value in changes.items() if value is not None]
    query = urlencode(params)
    return request.base_url + (f"?{query}" if query else "")
