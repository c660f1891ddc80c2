"""The W3C Entity Reconciliation API (0.2), which OpenRefine speaks: one service for actors and one for events
(`api/reading/reconcile.py` matches and scores). A column of names is sent as `queries` (form-encoded POST, or
GET), and comes back with each row's candidates, scores and `match` flags; `suggest` and `preview` serve
OpenRefine's pickers."""

import html

import orjson
from flask import Response, request
from flask.views import MethodView
from werkzeug.exceptions import BadRequest, NotFound

from api.reading import reconcile
from api.web import API_PREFIX, ApiBlueprint, conditional_get, document_errors, json_response
from schemas.reconcile import (
    RECONCILE_RESPONSE,
    SUGGEST_RESPONSE,
    PreviewArgs,
    ReconcileArgs,
    ReconcileBatchArgs,
    SuggestArgs,
)

blueprint = ApiBlueprint(
    "reconcile",
    "reconcile",
    url_prefix=f"{API_PREFIX}/reconcile",
    description="Reconciliation (W3C Entity Reconciliation API 0.2, as OpenRefine speaks it): match a column of "
    "names to actor or event ids, by names and aliases, with `country`, `kind` or `type` as constraints.",
)
PREVIEW_SIZE = (400, 160)


def manifest(resource):
    kind = reconcile.TYPES[resource]
    root = request.url_root.rstrip("/")
    service = f"{root}{API_PREFIX}/reconcile/{resource}"
    return {
        "versions": ["0.2"],
        "name": f"eventledger {resource}",
        "identifierSpace": f"{root}{API_PREFIX}/{resource}/",
        "schemaSpace": f"{root}{API_PREFIX}/reconcile/properties/",
        "defaultTypes": [{"id": kind.type_id, "name": kind.name}],
        "view": {"url": f"{root}{API_PREFIX}/{resource}/{{{{id}}}}"},
        "preview": {"url": f"{service}/preview?id={{{{id}}}}", "width": PREVIEW_SIZE[0], "height": PREVIEW_SIZE[1]},
        "suggest": {
            "entity": {"service_url": service, "service_path": "/suggest/entity"},
            "property": {"service_url": service, "service_path": "/suggest/property"},
        },
    }


def _queries(resource, text):
    try:
        queries = reconcile.parse_queries(text)
    except reconcile.QueryError as error:
        raise BadRequest(str(error)) from None
    return json_response(orjson.dumps(reconcile.reconcile(resource, queries)))


def _route(resource):
    kind = reconcile.TYPES[resource]

    class Service(MethodView):
        @blueprint.arguments(ReconcileArgs, location="query")
        @blueprint.response(200, RECONCILE_RESPONSE, description="The manifest, or the candidates of each query.")
        @blueprint.doc(operationId=f"reconcile{kind.name}s", summary=f"Reconcile names to {resource}")
        @document_errors(blueprint, 400)
        @conditional_get(cache=False)
        def get(self, args):
            """The service manifest, or (with `queries`) the candidates of a batch of queries"""
            if "queries" not in args:
                return json_response(orjson.dumps(manifest(resource)))
            return _queries(resource, args["queries"])

        @blueprint.arguments(ReconcileBatchArgs, location="form")
        @blueprint.response(200, RECONCILE_RESPONSE, description="The candidates of each query, best first.")
        @blueprint.doc(operationId=f"reconcile{kind.name}sBatch", summary=f"Reconcile a batch of names to {resource}")
        @document_errors(blueprint, 400, conditional=False)
        def post(self, args):
            """A batch of queries, form-encoded as OpenRefine sends it (`queries=...`)"""
            return _queries(resource, args["queries"])

    class SuggestEntity(MethodView):
        @blueprint.arguments(SuggestArgs, location="query")
        @blueprint.response(200, SUGGEST_RESPONSE, description="Records whose name or alias starts so.")
        @blueprint.doc(operationId=f"suggest{kind.name}s", summary=f"Suggest {resource} as a name is typed")
        @document_errors(blueprint, 400)
        @conditional_get(cache=False)
        def get(self, args):
            """Records whose name (or an alias, or a word of either) starts with the prefix"""
            found = reconcile.suggest(resource, args["prefix"], limit=10 + args["cursor"])
            return json_response(orjson.dumps({"result": found[args["cursor"] :]}))

    class SuggestProperty(MethodView):
        @blueprint.arguments(SuggestArgs, location="query")
        @blueprint.response(200, SUGGEST_RESPONSE, description="The properties a query may constrain.")
        @blueprint.doc(operationId=f"suggest{kind.name}Properties", summary=f"Suggest the properties of {resource}")
        @document_errors(blueprint, 400)
        def get(self, args):
            """The properties a query may constrain (`country`, `kind`, `type`)"""
            return json_response(orjson.dumps({"result": reconcile.suggest_properties(resource, args["prefix"])}))

    class Preview(MethodView):
        @blueprint.arguments(PreviewArgs, location="query")
        @blueprint.response(200, {"type": "string"}, content_type="text/html", description="A small page.")
        @blueprint.doc(operationId=f"preview{kind.name}", summary=f"Preview one of the {resource}")
        @document_errors(blueprint, 400, 404)
        @conditional_get(cache=False)
        def get(self, args):
            """A small page naming and describing one record, for OpenRefine's preview"""
            found = reconcile.preview(resource, args["id"])
            if found is None:
                raise NotFound(f"No {kind.type_id} with id '{args['id']}'.")
            name, description, properties = found
            facts = "".join(
                f"<dt>{html.escape(label)}</dt><dd>{html.escape(str(value))}</dd>"
                for label, value in properties.items()
                if value is not None
            )
            page = (
                f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(name)}</title>'
                "<style>body{font:13px/1.4 system-ui,sans-serif;margin:6px}dl{display:grid;"
                "grid-template-columns:max-content 1fr;gap:0 8px}dt{font-weight:600}</style></head><body>"
                f"<strong>{html.escape(name)}</strong> <code>{html.escape(args['id'])}</code>"
                f"<p>{html.escape(description or '')}</p><dl>{facts}</dl></body></html>"
            )
            return Response(page, mimetype="text/html")

    for view, path in ((Service, ""), (SuggestEntity, "/suggest/entity"), (SuggestProperty, "/suggest/property")):
        blueprint.route(f"/{resource}{path}", endpoint=f"{resource}{view.__name__}")(view)
    blueprint.route(f"/{resource}/preview", endpoint=f"{resource}Preview")(Preview)


for _resource in reconcile.TYPES:
    _route(_resource)
