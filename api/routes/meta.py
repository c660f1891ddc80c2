"""The API's front door: the resource index, health checks and the docs' local assets."""

from concurrent.futures import ThreadPoolExecutor

import orjson
from flask import Blueprint as FlaskBlueprint
from flask import current_app, send_from_directory, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import ServiceUnavailable

from api.db import database
from api.errors import OUTAGE_RETRY_AFTER, problem_response
from api.web import (
    API_PREFIX,
    RATE_LIMIT_HEADERS,
    caching_headers,
    conditional_get,
    current_etag,
    current_revision,
    document_errors,
    json_response,
)
from schemas.envelopes import ApiIndexSchema, HealthSchema, ProblemSchema

docs_assets = FlaskBlueprint("docs_assets", __name__)


READY_TIMEOUT = 2.0  # seconds: an orchestrator's probe gets its answer, whatever state the database is in
# One probe at a time: a stalled database holds this thread, and the probes after it answer 503 in time.
_READINESS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readiness")


def _database_answers(app):
    with app.app_context(), database.connection_context():
        database.execute_sql("SELECT 1").fetchone()


def _not_ready(detail):
    error = ServiceUnavailable(detail)
    error.data = {"headers": {"Retry-After": str(OUTAGE_RETRY_AFTER), "Cache-Control": "no-store"}}
    return problem_response(error)


def meta_blueprint(specs):
    blueprint = Blueprint("meta", "meta", description="The resource index and health checks.")

    @blueprint.route(API_PREFIX)
    class Index(MethodView):
        @blueprint.response(200, ApiIndexSchema, headers=RATE_LIMIT_HEADERS)
        @document_errors(blueprint)
        @conditional_get(cache=False)
        @blueprint.doc(operationId="getApiIndex")
        def get(self):
            """List the resources, with links"""
            revision = current_revision()
            body = {
                "name": "eventledger",
                "version": "1",
                "dataset_revision": revision,
                "resources": [
                    {"name": spec.name, "href": url_for(f"{spec.name}.Collection"), "description": spec.description}
                    for spec in specs.values()
                ],
                "links": {
                    "openapi": url_for("api-docs.openapi_json"),
                    "timeline": url_for("timeline.Timeline"),
                    "changes": url_for("changes.Changes"),
                    "changes_atom": url_for("changes.ChangesAtom"),
                    "docs": url_for("api-docs.openapi_swagger_ui"),
                    "health": url_for("meta.Health"),
                    "ready": url_for("meta.Ready"),
                    "datapackage": url_for("package.DataPackage"),
                    "data_dictionary": url_for("package.DataDictionary"),
                },
            }
            return json_response(orjson.dumps(body), headers=caching_headers(current_etag()))

    @blueprint.route("/healthz")
    class Health(MethodView):
        @blueprint.response(200, HealthSchema)
        @blueprint.doc(operationId="getHealth")
        def get(self):
            """Liveness: the process answers (without the database)"""
            return json_response(orjson.dumps({"status": "ok"}), headers={"Cache-Control": "no-store"})

    @blueprint.route("/readyz")
    class Ready(MethodView):
        @blueprint.response(200, HealthSchema)
        @blueprint.alt_response(
            503,
            schema=ProblemSchema,
            description="The database cannot be reached.",
            content_type="application/problem+json",
        )
        @blueprint.doc(operationId="getReadiness")
        def get(self):
            """Readiness: the database answers a query within 2 seconds"""
            probe = _READINESS.submit(_database_answers, current_app._get_current_object())
            try:
                probe.result(timeout=READY_TIMEOUT)
            except TimeoutError:
                return _not_ready(f"The database did not answer within {READY_TIMEOUT:g} seconds.")
            except Exception as error:  # noqa: BLE001 - any driver error means not ready
                return _not_ready(f"Database unreachable: {type(error).__name__}")
            return json_response(
                orjson.dumps({"status": "ok", "database": "ok"}), headers={"Cache-Control": "no-store"}
            )

    return blueprint


@docs_assets.route("/docs/assets/<path:filename>")
def swagger_ui_asset(filename):
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
