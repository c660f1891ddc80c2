"""One generic set of read endpoints, configured per resource by a ResourceSpec.

`resource_blueprint` gives a resource its list, detail and related-list routes;
the blueprint modules beside this file only describe their resource.
"""


import orjson
from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView

from api.errors import RecordNotFound
from api.reading.exports import Export, check_csv_only, export_content, export_file_name, negotiated_format
from api.reading.facets import list_facets
from api.reading.queries import Listing
from api.reading.render import select_fields
from api.reading.search import add_matches
from api.routes.record_writes import write_routes
from api.tables import dataset_version
from api.web import (
    API_PREFIX,
    CACHE_CONTROL_HEADER,
    CONTENT_DISPOSITION_HEADER,
    DATASET_VERSION_HEADER,
    ETAG_HEADER,
    LAST_MODIFIED_HEADER,
    LINK_HEADER,
    RATE_LIMIT_HEADERS,
    ApiBlueprint,
    caching_headers,
    conditional_get,
    current_etag,
    current_revision,
    document_errors,
    json_response,
    last_modified,
    render_detail,
    renderer,
    url_with,
)
from schemas.fields import is_slug


def ensure_exists(spec, record_id):
    """404 for an id that is not a slug (without a query) or names no record."""
    if not is_slug(record_id) or not spec.model.select().where(spec.model.id == record_id).exists():
        raise RecordNotFound(spec.singular, record_id)


def _negotiated_variant(spec, args, scope=None, parent=None):
    """The representation an `Accept` header chose (it names the ETag's variant); a bad `format` is a 400."""
    export = negotiated_format(spec, args, request.accept_mimetypes)
    check_csv_only(args, export)
    return export.name if export and not args.get("format") else ""


def _parent_exists(spec, args, scope=None, parent=None):
    if parent:
        ensure_exists(*parent)


def _is_page(spec, args, scope=None, parent=None):
    return negotiated_format(spec, args, request.accept_mimetypes) is None


def _vary_on_accept(response):
    response.vary.add("Accept")
    return response


@conditional_get(cache=_is_page, exists=_parent_exists, variant=_negotiated_variant, finish=_vary_on_accept)
def list_response(spec, args, scope=None, parent=None):
    """A page of `spec` records, or the whole list exported; `parent` (spec, id) scopes a related list."""
    if parent:
        ensure_exists(*parent)
    export = negotiated_format(spec, args, request.accept_mimetypes)
    revision, etag = current_revision(), current_etag()
    if export:
        return export_response(spec, args, export, revision, etag, scope)
    listing = Listing(spec, args, current_app.extensions["eventledger.cursors"], scope)
    page = listing.page(args["limit"])
    entries = renderer().render(spec, page.rows)
    next_link = url_with(cursor=page.next_cursor) if page.next_cursor else None
    envelope_tail = orjson.dumps(
        {
            "meta": {
                "count": page.count,
                "limit": args["limit"],
                "next_cursor": page.next_cursor,
                "dataset_revision": revision,
                "dataset_version": dataset_version(revision),
                **list_facets(listing),
            },
            "links": {"self": request.url, "next": next_link},
        }
    )
    if args.get("include") or args.get("fields") or args.get("q"):
        records = [dict(record) for record, _ in entries]
        for relation_name in args.get("include", []):
            renderer().embed(spec, records, relation_name, full=True)
        if args.get("fields"):
            records = [select_fields(record, set(args["fields"]) | set(args.get("include", []))) for record in records]
        if args.get("q"):
            add_matches(listing.search, records)
        data = orjson.dumps(records)
    else:
        data = b"[" + b",".join(encoded for _, encoded in entries) + b"]"
    body = b'{"data":' + data + b"," + envelope_tail[1:]
    headers = caching_headers(etag)
    headers["Vary"] = "Accept"
    if next_link:
        headers["Link"] = f'<{next_link}>; rel="next"'
    return json_response(body, headers=headers)


def export_response(spec, args, export, revision, etag, scope):
    """The whole result streamed in `export`'s format, as a download named after the dataset version."""
    export_walk = Export(
        spec,
        args,
        export,
        scope,
        renderer=renderer(),
        codec=current_app.extensions["eventledger.cursors"],
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


@conditional_get(exists=_record_exists)
def detail_response(spec, record_id, args):
    row = spec.model.select().where(spec.model.id == record_id).dicts().first() if is_slug(record_id) else None
    if row is None:
        raise RecordNotFound(spec.singular, record_id)
    headers = caching_headers(current_etag())
    headers["Last-Modified"] = last_modified(row)
    body = orjson.dumps({"data": render_detail(spec, row, args), "meta": {"dataset_revision": current_revision()}})
    return json_response(body, headers=headers)


def resource_blueprint(spec, specs):
    """The list, detail and related-list endpoints of one resource."""
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

    @blueprint.route("")
    class Collection(MethodView):
        @blueprint.arguments(list_args(), location="query")
        @blueprint.response(200, list_schema, headers=list_headers)
        @blueprint.doc(responses={200: {"content": export_content(spec)}})
        @document_errors(blueprint, 400)
        def get(self, args):
            return list_response(spec, args)

    Collection.get.__doc__ = f"List {spec.name}\n\nFilters combine with AND; values of one filter with OR."

    @blueprint.route("/<string:record_id>")
    class Item(MethodView):
        @blueprint.arguments(detail_arguments, location="query")
        @blueprint.response(200, detail_schema, headers=detail_headers)
        @document_errors(blueprint, 400, 404)
        def get(self, args, record_id):
            return detail_response(spec, record_id, args)

    Item.get.__doc__ = (
        f"Get one {spec.singular}\n\nRelated records are embedded as summaries; `include` embeds them whole."
    )

    for relation in spec.relations.values():
        _related_route(blueprint, spec, relation, specs, list_headers)
    write_routes(blueprint, spec, detail_headers)
    return blueprint


def _related_route(blueprint, spec, relation, specs, headers):
    target = specs[relation.target]
    target_args, target_list_schema = target.list_args, target.list_schema

    def get(self, args, record_id):
        scope = target.model.id.in_(
            relation.join_model.select(relation.remote_key).where(relation.local_key == record_id)
        )
        return list_response(target, args, scope, parent=(spec, record_id))

    get.__doc__ = (
        f"List the {relation.target} of one {spec.singular}\n\nAccepts every parameter of the {relation.target} list."
    )
    get = document_errors(blueprint, 400, 404)(get)
    get = blueprint.doc(responses={200: {"content": export_content(target)}})(get)
    get = blueprint.response(200, target_list_schema, headers=headers)(get)
    get = blueprint.arguments(target_args(), location="query")(get)
    view = type(f"{spec.singular.title()}{relation.name.title()}", (MethodView,), {"get": get})
    blueprint.route(f"/<string:record_id>/{relation.name}")(view)
