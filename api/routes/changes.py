"""GET /api/v1/changes (JSON, resumable by cursor) and /api/v1/changes.atom: every write to the dataset, in order."""

from flask import Response, current_app, request
from flask.views import MethodView

from api.changelog.feed import (
    ATOM_MEDIA_TYPE,
    atom_feed,
    change_document,
    dataset_changed_at,
    feed_page,
    latest_changes,
)
from api.tables import dataset_version
from api.web import (
    API_PREFIX,
    DATASET_VERSION_HEADER,
    ETAG_HEADER,
    ApiBlueprint,
    conditional_get,
    current_etag,
    current_revision,
    cursors,
    document_errors,
    envelope_response,
    url_with,
)
from schemas.changes import AtomQueryArgs, ChangesFeedSchema, ChangesQueryArgs

POLL_INTERVAL = "Poll-Interval"

blueprint = ApiBlueprint(
    "changes",
    "changes",
    url_prefix=API_PREFIX,
    description="Every create, update and delete of a record, in commit order: a feed to poll and resume by "
    "cursor, to keep a copy of the dataset in step, and the same changes as Atom.",
)

FEED_HEADERS = {
    "ETag": ETAG_HEADER,
    "Cache-Control": {
        "description": "`public, no-cache` by default: a cache may keep a page but asks again each time, which a "
        "matching ETag answers with a 304, so a poller is never handed a stale end of the feed.",
        "schema": {"type": "string"},
    },
    "Dataset-Version": DATASET_VERSION_HEADER,
    POLL_INTERVAL: {
        "description": "Seconds a poller should wait before asking again (like GitHub's X-Poll-Interval). "
        "Send the ETag back in If-None-Match: while nothing changed the answer is a bodiless 304.",
        "schema": {"type": "integer"},
    },
}


def _feed_headers(response):
    """Pollers revalidate every time (a 304 is cheap) and are told how often to come back."""
    response.headers["Cache-Control"] = current_app.config["FEED_CACHE_CONTROL"]
    response.headers[POLL_INTERVAL] = str(current_app.config["POLL_INTERVAL"])
    return response


def _api_root():
    return request.host_url.rstrip("/") + API_PREFIX


@blueprint.route("/changes")
class Changes(MethodView):
    @blueprint.arguments(ChangesQueryArgs(), location="query")
    @blueprint.response(200, ChangesFeedSchema, headers=FEED_HEADERS)
    @document_errors(blueprint, 400)
    @conditional_get(finish=_feed_headers)
    @blueprint.doc(operationId="listChanges")
    def get(self, args):
        """The changes feed

        Oldest first. Keep `meta.next_cursor` and pass it back as `since` to get the changes made after
        the last one you saw: each change is seen exactly once, in commit order, also while writes go on.
        `meta.next_cursor` is returned on every page, empty ones included, and `meta.has_more` says whether
        to ask again at once or after `Poll-Interval` seconds. A `delete` stays in the feed as a tombstone.
        """
        revision = current_revision()
        page = feed_page(cursors(), args)
        root = _api_root()
        meta = {
            "limit": args["limit"],
            "next_cursor": page.next_cursor,
            "has_more": page.has_more,
            "dataset_revision": revision,
            "dataset_version": dataset_version(revision),
        }
        links = {"self": request.url, "next": url_with(since=page.next_cursor)}
        data = [change_document(row, root) for row in page.changes]
        return envelope_response(data, meta, links, headers={"ETag": current_etag()})


@blueprint.route("/changes.atom")
class ChangesAtom(MethodView):
    @blueprint.arguments(AtomQueryArgs(), location="query")
    @blueprint.response(200, headers=FEED_HEADERS)
    @blueprint.doc(
        responses={
            200: {
                "description": "An Atom feed (RFC 4287).",
                "content": {
                    ATOM_MEDIA_TYPE: {
                        "schema": {
                            "type": "string",
                            "description": "One entry per change, newest first, with the id "
                            "`urn:eventledger:change:<feed position>`, a title naming the record and what changed, "
                            "the author, a link to the record and every field's old and new value as escaped HTML.",
                        }
                    }
                },
            }
        }
    )
    @document_errors(blueprint, 400)
    @conditional_get(cache=False, finish=_feed_headers)
    @blueprint.doc(operationId="getChangesAtom")
    def get(self, args):
        """The latest changes as Atom

        For feed readers: the newest `limit` changes (default 50), newest first, with the same filters as the
        JSON feed.
        """
        rows = latest_changes(args)
        root = _api_root()
        # An empty feed still needs an `updated`: when the dataset last changed.
        updated = None if rows else dataset_changed_at()
        body = atom_feed(rows, self_url=request.url, alternate_url=f"{root}/changes", root=root, updated=updated)
        return Response(body, mimetype=ATOM_MEDIA_TYPE, headers={"ETag": current_etag()})
