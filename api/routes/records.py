"""Every route of a resource: list, detail, related lists, create, change, delete and history.

`resource_blueprint` is the table of contents: it declares each route of one resource, from its
catalog declaration, as a thin view. What each view answers is below it, reads first, then writes:
every GET goes through `conditional_get` (api/web.py), every write through one `write_transaction`.
"""

from functools import wraps

import orjson
from flask import Response, g, request, stream_with_context, url_for
from flask.views import MethodView

from api.auth import require_scope
from api.changelog.history import history_page
from api.changelog.transaction import write_transaction
from api.db import select_by_shape
from api.errors import RecordNotFound
from api.reading import provenance
from api.reading.exports import Export, check_csv_only, export_content, export_file_name, negotiated_format
from api.reading.facets import list_facets
from api.reading.queries import Listing, RelatedScope
from api.reading.render import select_fields, with_links, with_stored_json
from api.reading.search import add_matches
from api.tables import dataset_revision, dataset_version
from api.web import (
    API_PREFIX,
    BODY_LOCATION,
    CACHE_CONTROL_HEADER,
    CONTENT_DISPOSITION_HEADER,
    DATASET_VERSION_HEADER,
    ETAG_HEADER,
    HTML_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    LAST_MODIFIED_HEADER,
    LD_MEDIA_TYPE,
    LINK_HEADER,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_NOTE_LENGTH,
    RATE_LIMIT_HEADERS,
    SECURITY,
    ApiBlueprint,
    caching_headers,
    conditional_get,
    count_matches,
    current_etag,
    current_revision,
    cursors,
    document_errors,
    edit_note,
    envelope_response,
    idempotency_key,
    if_match_revision,
    json_response,
    last_modified,
    older_page,
    older_page_start,
    paged_headers,
    path_etag,
    render_detail,
    renderer,
    request_body,
    url_with,
    vary_on_accept,
)
from api.writing import editing
from schemas.envelopes import related_list_envelope
from schemas.fields import is_slug
from schemas.writes import DeleteArgs, HistoryArgs, HistorySchema

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


# --- Operation ids and the links between operations ------------------------------------


def operation_ids(spec):
    """The OpenAPI operationId of each route of a resource (generated clients name their methods after them)."""
    singular, plural = spec.singular.title(), spec.name.title()
    ids = {
        "list": f"list{plural}",
        "get": f"get{singular}",
        "create": f"create{singular}",
        "update": f"update{singular}",
        "delete": f"delete{singular}",
        "history": f"get{singular}History",
    }
    return ids | {relation.name: f"list{singular}{relation.name.title()}" for relation in spec.relations.values()}


def record_links(spec):
    """OpenAPI links from an answer holding one record (its detail, or a write's) to what can be done with it
    next: read it, change or delete it (with the answer's ETag as If-Match), its history, its related lists."""
    ids = operation_ids(spec)
    record_id = {"record_id": "$response.body#/data/id"}
    precondition = {**record_id, "header.If-Match": "$response.header.ETag"}
    reads = ("get", "history", *spec.relations)
    links = {ids[name]: {"operationId": ids[name], "parameters": record_id} for name in reads}
    for name in ("update", "delete"):
        links[ids[name]] = {
            "operationId": ids[name],
            "parameters": precondition,
            "description": f"With this answer's ETag as If-Match, so that it applies to the {spec.singular} as read.",
        }
    return links


# --- The routes ----------------------------------------------------------------------


def resource_blueprint(spec, specs):
    """Every route of one resource: list, detail and related lists, then create, change, delete and history."""
    blueprint = ApiBlueprint(spec.name, spec.name, url_prefix=f"{API_PREFIX}/{spec.name}", description=spec.description)
    list_args, list_schema, detail_schema = spec.list_args, spec.list_schema, spec.detail_schema
    detail_arguments = spec.detail_args()
    list_headers = {
        "ETag": ETAG_HEADER,
        "Link": LINK_HEADER,
        "Cache-Control": CACHE_CONTROL_HEADER,
        "Dataset-Version": DATASET_VERSION_HEADER,
        "Content-Disposition": CONTENT_DISPOSITION_HEADER,
        **RATE_LIMIT_HEADERS,
    }
    detail_headers = {
        "ETag": ETAG_HEADER,
        "Last-Modified": LAST_MODIFIED_HEADER,
        "Cache-Control": CACHE_CONTROL_HEADER,
        "Dataset-Version": DATASET_VERSION_HEADER,
        **RATE_LIMIT_HEADERS,
    }

    ids, links = operation_ids(spec), record_links(spec)
    detail_content = {HTML_MEDIA_TYPE: {"schema": {"type": "string", "description": "The record's page."}}}
    if spec.name == "claims":
        detail_content[LD_MEDIA_TYPE] = {
            "schema": {"type": "object", "description": "The claim as schema.org ClaimReview (JSON-LD)."}
        }

    @blueprint.route("")
    class Collection(MethodView):
        @blueprint.arguments(list_args(), location="query")
        @blueprint.response(200, list_schema, headers=list_headers)
        @blueprint.doc(
            operationId=ids["list"],
            summary=f"List {spec.name}",
            description="Filters combine with AND; values of one filter with OR.",
            responses={200: {"content": export_content(spec)}},
        )
        @document_errors(blueprint, 400)
        def get(self, args):
            return list_response(spec, args)

    @blueprint.route("/<string:record_id>")
    class Item(MethodView):
        @blueprint.arguments(detail_arguments, location="query")
        @blueprint.response(200, detail_schema, headers=detail_headers)
        @blueprint.doc(
            operationId=ids["get"],
            summary=f"Get one {spec.singular}",
            description="Related records are embedded as summaries; `include` embeds them whole. "
            "`Accept: text/html` answers the record's page, each source excerpt linked to its place in its "
            "document"
            + (
                "; `Accept: application/ld+json`, the claim as schema.org ClaimReview."
                if spec.name == "claims"
                else "."
            ),
            responses={200: {"links": links, "content": detail_content}},
        )
        @document_errors(blueprint, 400, 404)
        def get(self, args, record_id):
            return detail_response(spec, record_id, args)

    for relation in spec.relations.values():
        _related_route(blueprint, spec, relation, specs, list_headers)
    _write_routes(blueprint, spec, detail_headers)
    return blueprint


def _related_route(blueprint, spec, relation, specs, headers):
    target = specs[relation.target]
    target_args = target.list_args

    # The same join table seen from the listed records' side, when they declare it.
    own_side = next(
        (
            candidate
            for candidate in target.relations.values()
            if candidate.join_model is relation.join_model and candidate.local_key.name == relation.remote_key.name
        ),
        None,
    )

    def get(self, args, record_id):
        if own_side is not None:
            scope = RelatedScope(own_side, record_id)
        else:
            scope = target.model.id.in_(
                relation.join_model.select(relation.remote_key).where(relation.local_key == record_id)
            )
        return list_response(target, args, scope, parent=(spec, record_id), relation=relation)

    get.__doc__ = (
        f"List the {relation.target} of one {spec.singular}\n\nAccepts every parameter of the {relation.target} list."
    )
    get = document_errors(blueprint, 400, 404)(get)
    operation_id = operation_ids(spec)[relation.name]
    get = blueprint.doc(operationId=operation_id, responses={200: {"content": export_content(target)}})(get)
    get = blueprint.response(200, _related_list_schema(spec, relation, target), headers=headers)(get)
    get = blueprint.arguments(target_args(), location="query")(get)
    view = type(f"{spec.singular.title()}{relation.name.title()}", (MethodView,), {"get": get})
    blueprint.route(f"/<string:record_id>/{relation.name}")(view)


def _related_list_schema(spec, relation, target):
    """The list's schema: the listed records', each with `links` when the relation has attributes."""
    if not relation.attributes:
        return target.list_schema
    link_schema = spec.schema.fields[relation.name].inner.schema
    link_fields = {name: field for name, field in link_schema.fields.items() if name not in target.schema.fields}
    name = f"{spec.singular.title()}{relation.name.title()}List"
    return related_list_envelope(target.schema, link_fields, name)


def _article(noun):
    return "an" if noun[0] in "aeiou" else "a"


def _write_routes(blueprint, spec, detail_headers):
    """POST on the collection, PATCH and DELETE on a record, and GET of a record's history."""
    input_schema, patch_schema = spec.input_schema, spec.patch_schema
    singular = spec.singular
    ids, links = operation_ids(spec), record_links(spec)
    history_headers = {name: detail_headers[name] for name in ("ETag", "Cache-Control", "Dataset-Version")}

    # flask-smorest reads docstrings when a route is registered, and these name the resource: so `doc`.
    create_doc = {
        "operationId": ids["create"],
        "responses": {201: {"links": links}},
        "summary": f"Create {_article(singular)} {singular}",
        "description": f"The body is the {singular} as the seed fixtures hold it: an unused `id` (ids are never "
        "reused, also after a delete) and its fields, with its links by id, checked as the seed loader checks "
        "them. Answers 201 with the record as GET renders it. Needs a `read-write` API key.",
    }
    patch_doc = {
        "operationId": ids["update"],
        "responses": {200: {"links": links}},
        "summary": f"Change {_article(singular)} {singular}",
        "description": "Send only the members that change; each replaces the stored value whole (a link list such "
        "as `actors` or `sources` replaces the whole list, `location` the whole location). Needs If-Match and a "
        "`read-write` API key.",
    }
    delete_doc = {
        "operationId": ids["delete"],
        "summary": f"Delete {_article(singular)} {singular}",
        "description": "Its own links go with it and its history keeps a `delete` entry holding its last values. "
        "A record other records still refer to is refused (409, naming them) unless `detach=true`. Needs If-Match "
        "and a `read-write` API key.",
    }
    history_doc = {
        "operationId": ids["history"],
        "summary": f"The history of {_article(singular)} {singular}",
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
        @blueprint.doc(security=SECURITY, parameters=[IDEMPOTENCY_KEY, EDIT_NOTE], **create_doc)
        @document_errors(blueprint, 400, 401, 403, 409, 415, 422, descriptions=WRITE_PROBLEMS, conditional=False)
        @require_scope("read-write")
        @blueprint.arguments(input_schema, location=BODY_LOCATION)
        def post(self, record):
            return create_response(spec, record)

    @blueprint.route("/<string:record_id>", endpoint="Edit")
    class Edit(MethodView):
        @blueprint.response(200, spec.detail_schema, headers=WRITE_HEADERS)
        @blueprint.doc(security=SECURITY, parameters=[IF_MATCH, EDIT_NOTE], **patch_doc)
        @document_errors(
            blueprint, 400, 401, 403, 404, 412, 415, 422, 428, descriptions=WRITE_PROBLEMS, conditional=False
        )
        @require_scope("read-write")
        @editable(spec)
        @blueprint.arguments(patch_schema, location=BODY_LOCATION)
        def patch(self, changes, record_id):
            return update_response(spec, record_id, changes)

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


# --- Reads ---------------------------------------------------------------------------


def ensure_exists(spec, record_id):
    """404 for an id that is not a slug (without a query) or names no record."""
    if not is_slug(record_id) or not spec.model.select().where(spec.model.id == record_id).exists():
        raise RecordNotFound(spec.singular, record_id)


def _negotiated_export(spec, args):
    """The export this request asks for (None for a JSON page), chosen once per request."""
    if "negotiated_export" not in g:
        g.negotiated_export = negotiated_format(spec, args, request.accept_mimetypes)
    return g.negotiated_export


def _negotiated_variant(spec, args, scope=None, parent=None, relation=None):
    """The representation an `Accept` header chose (it names the ETag's variant); a bad `format` is a 400."""
    export = _negotiated_export(spec, args)
    check_csv_only(args, export)
    return export.name if export and not args.get("format") else ""


def _parent_exists(spec, args, scope=None, parent=None, relation=None):
    if parent:
        ensure_exists(*parent)


def _is_page(spec, args, scope=None, parent=None, relation=None):
    return _negotiated_export(spec, args) is None


@conditional_get(cache=_is_page, exists=_parent_exists, variant=_negotiated_variant, finish=vary_on_accept)
def list_response(spec, args, scope=None, parent=None, relation=None):
    """A page of `spec` records, or the whole list exported; `parent` (spec, id) scopes a related list, whose
    records each carry the attributes of their links (`relation`, seen from the parent)."""
    if parent:
        ensure_exists(*parent)
    export = _negotiated_export(spec, args)
    revision, etag = current_revision(), current_etag()
    if export:
        return export_response(spec, args, export, revision, etag, scope)
    listing = Listing(spec, args, cursors(), scope)
    page = listing.page(args["limit"], count_matches)
    encoded = renderer().encoded(spec, page.rows)
    related_links = _page_links(relation, parent, page.rows)
    meta = {
        "count": page.count,
        "limit": args["limit"],
        "next_cursor": page.next_cursor,
        "dataset_revision": revision,
        "dataset_version": dataset_version(revision),
        **list_facets(listing),
    }
    links = {"self": request.url, "next": url_with(cursor=page.next_cursor) if page.next_cursor else None}
    if args.get("include") or args.get("fields") or args.get("q"):
        records = [orjson.loads(record) for record in encoded]
        for relation_name in dict.fromkeys(args.get("include", [])):
            renderer().embed(spec, records, relation_name, full=True, fragments=True)
        if args.get("fields"):
            records = [select_fields(record, set(args["fields"]) | set(args.get("include", []))) for record in records]
        if args.get("q"):
            add_matches(listing.search, records)
        if related_links is not None:
            for record in records:
                record["links"] = related_links.get(record["id"], [])
        data = records
    else:
        if related_links is not None:
            pairs = zip(encoded, page.rows, strict=True)
            encoded = [with_links(record, related_links.get(row["id"], [])) for record, row in pairs]
        data = b"[" + b",".join(encoded) + b"]"
    return envelope_response(data, meta, links, headers={**paged_headers(etag, links["next"]), "Vary": "Accept"})


def _page_links(relation, parent, rows):
    """{record id: its links to the parent record}, for a related list whose relation has attributes."""
    if relation is None or not relation.attributes:
        return None
    grouped = {}
    for link in relation.links_between(parent[1], [row["id"] for row in rows]):
        grouped.setdefault(link.pop("id"), []).append(link)
    return grouped


def export_response(spec, args, export, revision, etag, scope):
    """The whole result streamed in `export`'s format, as a download named after the dataset version."""
    export_walk = Export(
        spec,
        args,
        export,
        scope,
        renderer=renderer(),
        codec=cursors(),
        # An explicit `limit` caps an export (a sample); by default it is the whole result.
        cap=args["limit"] if "limit" in request.args else None,
        self_url=request.url,
    )
    body = stream_with_context(export_walk.body())
    headers = caching_headers(etag)
    headers["Vary"] = "Accept"
    headers["Content-Disposition"] = f'attachment; filename="{export_file_name(spec, export, revision)}"'
    content_type = export.media_type
    if export.name == "csv":
        content_type += "; charset=utf-8; header=present"
    return Response(body, content_type=content_type, headers=headers)


def _record_exists(spec, record_id, args):
    ensure_exists(spec, record_id)


def detail_media_types(spec):
    """What a record's URL answers: JSON first (the default for `*/*`), its HTML page, and for a claim
    schema.org ClaimReview JSON-LD."""
    return (JSON_MEDIA_TYPE, HTML_MEDIA_TYPE, *((LD_MEDIA_TYPE,) if spec.name == "claims" else ()))


def _detail_media_type(spec):
    if "detail_media_type" not in g:
        g.detail_media_type = request.accept_mimetypes.best_match(detail_media_types(spec), default=JSON_MEDIA_TYPE)
    return g.detail_media_type


def _detail_variant(spec, record_id, args):
    media_type = _detail_media_type(spec)
    return "" if media_type == JSON_MEDIA_TYPE else media_type


def _detail_is_json(spec, record_id, args):
    return _detail_media_type(spec) == JSON_MEDIA_TYPE


@conditional_get(exists=_record_exists, cache=_detail_is_json, variant=_detail_variant, finish=vary_on_accept)
def detail_response(spec, record_id, args):
    row = _detail_row(spec, record_id) if is_slug(record_id) else None
    if row is None:
        raise RecordNotFound(spec.singular, record_id)
    headers = {**caching_headers(current_etag()), "Last-Modified": last_modified(row)}
    media_type = _detail_media_type(spec)
    # A ClaimReview is whole, whatever `fields` asks.
    record = render_detail(spec, row, {} if media_type == LD_MEDIA_TYPE else args)
    if media_type == HTML_MEDIA_TYPE:
        urls = {
            "list": url_for(f"{spec.name}.Collection"),
            "record": lambda resource, related_id: url_for(f"{resource}.Item", record_id=related_id),
            "document": lambda source_id: url_for("documents.Document", source_id=source_id),
        }
        return Response(provenance.record_page(spec, record, urls), mimetype=HTML_MEDIA_TYPE, headers=headers)
    if media_type == LD_MEDIA_TYPE:
        review = provenance.claim_review(
            record,
            claim_url=url_for("claims.Item", record_id=record_id, _external=True),
            actor_url=lambda actor_id: url_for("actors.Item", record_id=actor_id, _external=True),
            source_url=lambda source_id: url_for("sources.Item", record_id=source_id, _external=True),
        )
        return Response(orjson.dumps(review), mimetype=LD_MEDIA_TYPE, headers=headers)
    return envelope_response(record, {"dataset_revision": current_revision()}, headers=headers)


# --- Writes --------------------------------------------------------------------------


def _detail_row(spec, record_id):
    """The record's stored JSON and `updated_at` (its Last-Modified), or None."""
    model = spec.model

    def build():
        return with_stored_json(model.select(), model, model.updated_at).where(model.id == record_id)

    rows = select_by_shape(("detail", model), build, [record_id])
    if not rows:
        return None
    return {**rows[0], "updated_at": model.updated_at.python_value(rows[0]["updated_at"])}


def written_response(spec, record_id, writes, status):
    """The record as GET renders it, read inside the write's transaction, with the ETag that GET will carry."""
    revision = writes.revision if writes.changes else dataset_revision()
    g.dataset_revision = revision
    writes.render()
    row = _detail_row(spec, record_id)
    path = url_for(f"{spec.name}.Item", record_id=record_id)
    headers = {
        "ETag": path_etag(revision, path + "?"),
        "Last-Modified": last_modified(row),
        "Cache-Control": "no-store",
    }
    if status == 201:
        headers["Location"] = path
    meta = {"dataset_revision": revision}
    return envelope_response(render_detail(spec, row, {}), meta, status=status, headers=headers)


def editable(spec):
    """A PATCH is refused in the order its parts are read: the id (404), the body's syntax and its headers
    (415, 400), the record (404), If-Match (428, 412); only then is the body checked against its schema (422)."""

    def decorate(view):
        @wraps(view)
        def checked(*args, record_id):
            _ensure_slug(spec, record_id)
            _, body = request_body()
            edit_note()  # a malformed header is a 400 before any precondition
            editing.check_editable(spec.name, record_id, if_match_revision())
            if "id" in body and body["id"] != record_id:  # a record read and written back carries its own id
                error = {"parameter": "id", "location": "body", "messages": ["An id cannot change."]}
                raise editing.InvalidRecord([error])
            return view(*args, record_id=record_id)

        return checked

    return decorate


def create_response(spec, record):
    key, idempotency = g.api_key, idempotency_key()
    fingerprint = editing.fingerprint("POST", request.path, request_body()[0])
    with write_transaction(key.name, edit_note()) as writes:
        if idempotency:
            first = editing.replayed(key.id, idempotency, fingerprint)
            if first:
                status, headers, data = first
                return json_response(data, status=status, headers=headers)
        record_id = editing.create(writes, spec.name, record)
        response = written_response(spec, record_id, writes, 201)
        if idempotency:
            headers = {name: value for name, value in response.headers.items() if name != "Content-Length"}
            editing.remember(key.id, idempotency, fingerprint, 201, headers, response.get_data())
    return response


def update_response(spec, record_id, changes):
    with write_transaction(g.api_key.name, edit_note()) as writes:
        editing.update(writes, spec.name, record_id, changes, if_match_revision())
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
    entries, next_before = history_page(spec, record_id, args["limit"], older_page_start(args))
    next_cursor, next_link = older_page(next_before)
    meta = {
        "limit": args["limit"],
        "next_cursor": next_cursor,
        "next_before": next_before,
        "dataset_revision": revision,
    }
    body = HistorySchema().dump(
        {
            "data": entries,
            "meta": meta,
            "links": {"self": request.url, "next": next_link},
        }
    )
    return envelope_response(
        body["data"], body["meta"], body["links"], headers=paged_headers(current_etag(), next_link)
    )


def _ensure_slug(spec, record_id):
    if not is_slug(record_id):
        raise RecordNotFound(spec.singular, record_id)
