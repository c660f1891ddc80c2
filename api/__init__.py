"""The eventledger app factory."""

import http

from flask import Flask
from flask_compress import Compress
from flask_cors import CORS
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import fields
from werkzeug.middleware.proxy_fix import ProxyFix

from api import commands, db, errors, observability, ratelimit, security
from api.catalog import SPECS
from api.config import LICENSE, Config
from api.errors import PROBLEM_MEDIA_TYPE
from api.reading.counts import CountCache
from api.reading.pagination import CursorCodec
from api.reading.render import RecordRenderer
from api.routes import documents, meta, package, reconcile, timeline
from api.routes import webhooks as webhook_routes
from api.routes.changes import blueprint as changes_blueprint
from api.routes.records import resource_blueprint
from api.web import RATE_LIMIT_HEADER_COMPONENTS, SECURITY_SCHEME, ResponseCache, add_dataset_version
from schemas.envelopes import ProblemSchema

OPENAPI_INFO = {
    "description": (
        "A curated dataset of events, actors, claims and sources about a developing story, "
        "in which every record traces to a verbatim excerpt of its source and nothing is more "
        "certain than the source says. Lists use cursor pagination (`meta.next_cursor`, `Link` header); "
        "every GET carries an ETag and answers 304 to a matching If-None-Match; errors are RFC 9457 "
        "problem+json. Every list also downloads whole, streamed, as CSV, NDJSON, JSON or (events) GeoJSON "
        "(`format=` or `Accept`), counts its matches per value with `facets=`, and searches with `q` "
        "through the database's full-text index, ranked, with highlighted snippets; `/api/v1/timeline` "
        "groups events and claims by day, month or year. `/api/v1/changes` is the feed of every create, "
        "update and delete in commit order, resumable by cursor and cheap to poll (also as Atom). Every "
        "response names the `Dataset-Version` it was read from. Requests are rate-limited per API key, or per "
        "client address without one: every answer says the policy and what is left in `RateLimit-Policy` and "
        "`RateLimit`, a spent budget is a 429 with `Retry-After`, and a 304 costs nothing. The whole dataset is "
        "a citable Frictionless "
        "[data package](/api/v1/datapackage.json), downloadable as [CSV in one zip](/api/v1/dataset.zip) "
        "(or written by `eventledger export DIR`), and described field by field, with every vocabulary, "
        "in the [data dictionary](/docs/data-dictionary)."
    ),
    "license": LICENSE,
}


class EventledgerApi(Api):
    """flask-smorest's Api, documenting every error response as RFC 9457 problem+json (and the rate-limit headers)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any other error, as problem+json.", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)
        for name, header in RATE_LIMIT_HEADER_COMPONENTS.items():
            self.spec.components.header(name, header)


def new_caches(config):
    """The app's caches of rendered records and finished responses, empty."""
    return {
        "eventledger.renderer": RecordRenderer(SPECS),
        "eventledger.counts": CountCache(SPECS, config["COUNT_CACHE_SIZE"]),
        "eventledger.responses": ResponseCache(config["RESPONSE_CACHE_SIZE"]),
    }


def create_app(config=None):
    app = Flask(__name__)
    app.config.from_object(Config)
    app.config["API_SPEC_OPTIONS"] = {"info": OPENAPI_INFO}
    if config:
        app.config.update(config)
    app.json.sort_keys = False
    # First, so that its after-request step runs last: the security headers hash a page before it is compressed.
    Compress(app)

    db.init_app(app)
    CORS(
        app,
        origins=app.config["CORS_ORIGINS"],
        send_wildcard=app.config["CORS_ORIGINS"] == ["*"],
        expose_headers=[
            "ETag",
            "Location",
            "Link",
            "Last-Modified",
            "Cache-Control",
            "Content-Disposition",
            "Dataset-Version",
            "Poll-Interval",
            "RateLimit",
            "RateLimit-Policy",
            "Retry-After",
            "X-Request-Id",
        ],
        max_age=86400,
    )
    api = EventledgerApi(app)
    # OpenAPI's standard format for a URL; apispec's default, `url`, is unknown to client generators.
    api.register_field(fields.Url, "string", "uri")
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (`el_<prefix>_<secret>`) as `Authorization: Bearer <key>`. Reads are public; "
            "creating, changing and deleting records needs a key with the `read-write` scope.",
        },
    )
    for spec in SPECS.values():
        api.register_blueprint(resource_blueprint(spec, SPECS))
    api.register_blueprint(timeline.blueprint)
    api.register_blueprint(changes_blueprint)
    api.register_blueprint(meta.meta_blueprint(SPECS))
    api.register_blueprint(package.package_blueprint())
    api.register_blueprint(documents.blueprint())
    api.register_blueprint(reconcile.blueprint)
    webhook_routes.register(api)
    app.register_blueprint(meta.docs_assets)
    observability.init_app(app)
    errors.init_app(app)
    ratelimit.init_app(app)
    app.after_request(add_dataset_version)
    security.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    app.extensions.update(new_caches(app.config))
    # Without CURSOR_SECRET, the codec is made on first use from the database's own secret (api/web.py cursors).
    app.extensions["eventledger.cursors"] = (
        CursorCodec(app.config["CURSOR_SECRET"]) if app.config["CURSOR_SECRET"] else None
    )
    app.extensions["eventledger.api"] = api
    app.extensions["eventledger.specs"] = SPECS
    commands.init_app(app)
    return app
