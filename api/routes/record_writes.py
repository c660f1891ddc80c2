"""The write endpoints of a resource (POST, PATCH, DELETE) and its history: thin views over api/editing.py.

Every write needs a `read-write` API key, runs in one `write_transaction` (nothing is half
written on any error) and answers with the record as a GET of it would, with the new ETag.
"""

from urllib.parse import unquote

import orjson
from flask import Response, g, request, url_for
from flask.views import MethodView
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from api.auth import require_scope
from api.changelog.history import history_page
from api.changelog.transaction import write_transaction
from api.errors import BadParameter, RecordNotFound
from api.tables import dataset_revision
from api.web import (
    caching_headers,
    conditional_get,
    current_etag,
    current_revision,
    document_errors,
    if_match_revision,
    json_response,
    last_modified,
    path_etag,
    render_detail,
    url_with,
)
from api.writing import editing
from schemas.fields import is_slug
from schemas.writes import DeleteArgs, HistoryArgs, HistorySchema

SECURITY_SCHEME = "ApiKey"
SECURITY = [{SECURITY_SCHEME: []}]
MAX_NOTE_LENGTH = 2000
MAX_IDEMPOTENCY_KEY_LENGTH = 255

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
    "description": 'The ETag of a GET made after the record\'s last change (`"r<revision>-..."`: any ETag whose '
    "revision is at least the record's `revision`), or `*`. Without it 428; when the record changed since, 412.",
}
EDIT_NOTE = {
    "in": "header",
    "name": "X-Edit-Note",
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_NOTE_LENGTH},
    "description": "Why the change was made; kept with it in the record's history (percent-encode non-ASCII text).",
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
    "description": "A unique string per intended create. A retry with the same key and body gets the first "
    "response again and writes nothing; the same key with another body is a 422. Keys are per API key, kept 24 h.",
}
WRITE_HEADERS = {
    "ETag": {
        "description": "The ETag of the record's detail after the write: send it as If-Match next time.",
        "schema": {"type": "string"},
    },
    "Dataset-Version": {"description": "The dataset version after the write.", "schema": {"type": "string"}},
}
WRITE_PROBLEMS = {
    400: "The body is not valid JSON, or a parameter or header is malformed.",
    401: "No API key, or one that is unknown or revoked (`WWW-Authenticate: Bearer`). Nothing was changed.",
    403: "The API key's scope does not allow writes.",
    404: "No record has this id.",
    409: "The id is or was used (ids are never reused), or the record is still referred to by others "
    "(`errors` names them; `?detach=true` removes the links).",
    412: "If-Match names a revision older than the record's last change: GET it again.",
    415: "The body is not `application/json`.",
    422: "The record is not valid: `errors` names each field by its dotted path in the body (location `body`), "
    "including references to records that do not exist and excerpts not found in their source.",
    428: "If-Match is missing.",
}


def request_body():
    """The JSON object sent, as (canonical bytes, dict): 415 for another media type, 400 for bad JSON."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("Send the record as JSON, with `Content-Type: application/json`.")
    try:
        body = orjson.loads(request.get_data())
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"The body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object of the record's fields.")
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS), body


def edit_note():
    note = request.headers.get("X-Edit-Note")
    if note is None or not note.strip():
        return None
    note = unquote(note.strip())
    if len(note) > MAX_NOTE_LENGTH:
        raise BadParameter("X-Edit-Note", f"longer than {MAX_NOTE_LENGTH} characters", location="header")
    return note


def idempotency_key():
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise BadParameter("Idempotency-Key", f"1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters", location="header")
    return key


def written_response(spec, record_id, writes, status):
    """The record as GET renders it, read inside the write's transaction, with the ETag that GET will carry."""
    revision = writes.revision if writes.changes else dataset_revision()
    g.dataset_revision = revision
    row = spec.model.select().where(spec.model.id == record_id).dicts().first()
    body = orjson.dumps({"data": render_detail(spec, row, {}), "meta": {"dataset_revision": revision}})
    path = url_for(f"{spec.name}.Item", record_id=record_id)
    headers = {
        "ETag": path_etag(revision, path + "?"),
        "Last-Modified": last_modified(row),
        "Cache-Control": "no-store",
    }
    if status == 201:
        headers["Location"] = path
    return json_response(body, status=status, headers=headers)


def create_response(spec):
    fingerprint_body, body = request_body()
    key, idempotency = g.api_key, idempotency_key()
    fingerprint = editing.fingerprint("POST", request.path, fingerprint_body)
    with write_transaction(key.name, edit_note()) as writes:
        if idempotency:
            first = editing.replayed(key.id, idempotency, fingerprint)
            if first:
                status, headers, data = first
                return json_response(data, status=status, headers=headers)
        record_id = editing.create(writes, spec.name, body)
        response = written_response(spec, record_id, writes, 201)
        if idempotency:
            headers = {name: value for name, value in response.headers.items() if name != "Content-Length"}
            editing.remember(key.id, idempotency, fingerprint, 201, headers, response.get_data())
    return response


def update_response(spec, record_id):
    _ensure_slug(spec, record_id)
    _, body = request_body()
    with write_transaction(g.api_key.name, edit_note()) as writes:
        editing.update(writes, spec.name, record_id, body, spec.patch_schema(), if_match_revision())
        return written_response(spec, record_id, writes, 200)


def delete_response(spec, record_id, detach):
    _ensure_slug(spec, record_id)
    with write_transaction(g.api_key.name, edit_note()) as writes:
        editing.delete(writes, spec.name, record_id, detach, if_match_revision())
    g.dataset_revision = writes.revision
    return Response(status=204)


def _history_exists(spec, record_id, args):
    history_page(spec, record_id, 1)


@conditional_get(cache=False, exists=_history_exists)
def history_response(spec, record_id, args):
    revision = current_revision()
    entries, next_before = history_page(spec, record_id, args["limit"], args.get("before"))
    next_link = url_with(before=next_before) if next_before else None
    body = HistorySchema().dump(
        {
            "data": entries,
            "meta": {"limit": args["limit"], "next_before": next_before, "dataset_revision": revision},
            "links": {"self": request.url, "next": next_link},
        }
    )
    headers = caching_headers(current_etag())
    if next_link:
        headers["Link"] = f'<{next_link}>; rel="next"'
    return json_response(orjson.dumps(body), headers=headers)


def _ensure_slug(spec, record_id):
    if not is_slug(record_id):
        raise RecordNotFound(spec.singular, record_id)


def write_routes(blueprint, spec, detail_headers):
    """POST on the collection, PATCH and DELETE on a record, and GET of a record's history."""
    input_schema, patch_schema = spec.input_schema, spec.patch_schema
    singular = spec.singular
    history_headers = {name: detail_headers[name] for name in ("ETag", "Cache-Control", "Dataset-Version")}

    def body(schema):
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    # flask-smorest reads docstrings when a route is registered, and these name the resource: so `doc`.
    create_doc = {
        "summary": f"Create a {singular}",
        "description": f"The body is the {singular} as the seed fixtures hold it: an unused `id` (ids are never "
        "reused, also after a delete) and its fields, with its links by id, checked as the seed loader checks "
        "them. Answers 201 with the record as GET renders it. Needs a `read-write` API key.",
    }
    patch_doc = {
        "summary": f"Change a {singular}",
        "description": "Send only the members that change; each replaces the stored value whole (a link list such "
        "as `actors` or `sources` replaces the whole list, `location` the whole location). Needs If-Match and a "
        "`read-write` API key.",
    }
    delete_doc = {
        "summary": f"Delete a {singular}",
        "description": "Its own links go with it and its history keeps a `delete` entry holding its last values. "
        "A record other records still refer to is refused (409, naming them) unless `detach=true`. Needs If-Match "
        "and a `read-write` API key.",
    }
    history_doc = {
        "summary": f"The history of a {singular}",
        "description": "Every change, newest first, with who made it, the note and each field's value before and "
        "after; a deleted record's history starts with its tombstone. 404 only for an id never used.",
    }

    @blueprint.route("", endpoint="Create")
    class Create(MethodView):
        @blueprint.response(
            201,
            spec.detail_schema,
            headers={**WRITE_HEADERS, "Location": {"description": "Its URL.", "schema": {"type": "string"}}},
        )
        @blueprint.doc(
            security=SECURITY, parameters=[IDEMPOTENCY_KEY, EDIT_NOTE], requestBody=body(input_schema), **create_doc
        )
        @document_errors(blueprint, 400, 401, 403, 409, 415, 422, descriptions=WRITE_PROBLEMS, conditional=False)
        @require_scope("read-write")
        def post(self):
            return create_response(spec)

    @blueprint.route("/<string:record_id>", endpoint="Edit")
    class Edit(MethodView):
        @blueprint.response(200, spec.detail_schema, headers=WRITE_HEADERS)
        @blueprint.doc(security=SECURITY, parameters=[IF_MATCH, EDIT_NOTE], requestBody=body(patch_schema), **patch_doc)
        @document_errors(
            blueprint, 400, 401, 403, 404, 412, 415, 422, 428, descriptions=WRITE_PROBLEMS, conditional=False
        )
        @require_scope("read-write")
        def patch(self, record_id):
            return update_response(spec, record_id)

        @blueprint.response(204, headers={"Dataset-Version": WRITE_HEADERS["Dataset-Version"]})
        @blueprint.doc(security=SECURITY, parameters=[IF_MATCH, EDIT_NOTE], **delete_doc)
        @document_errors(blueprint, 400, 401, 403, 404, 409, 412, 428, descriptions=WRITE_PROBLEMS, conditional=False)
        @require_scope("read-write")
        @blueprint.arguments(DeleteArgs, location="query")
        def delete(self, args, record_id):
            return delete_response(spec, record_id, args["detach"])

    @blueprint.route("/<string:record_id>/history", endpoint="History")
    class History(MethodView):
        @blueprint.arguments(HistoryArgs, location="query")
        @blueprint.response(200, HistorySchema, headers=history_headers)
        @blueprint.doc(**history_doc)
        @document_errors(blueprint, 400, 404, descriptions=WRITE_PROBLEMS, conditional=False)
        def get(self, args, record_id):
            _ensure_slug(spec, record_id)
            return history_response(spec, record_id, args)
