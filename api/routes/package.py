"""The whole dataset as a citable Frictionless data package, and the data dictionary generated from it.

`/api/v1/datapackage.json` is the descriptor, `/api/v1/dataset.zip` the descriptor with every
table as CSV, streamed, and `/docs/data-dictionary` the descriptor and the vocabularies as a page.
All three are conditional GETs on the dataset revision, like every other GET.
"""

from flask import Response, g, stream_with_context, url_for
from flask.views import MethodView

from api.package import datapackage
from api.package.dictionary import render_dictionary
from api.reading.exports import release_freed_memory
from api.web import (
    API_PREFIX,
    CACHE_CONTROL_HEADER,
    ETAG_HEADER,
    RATE_LIMIT_HEADERS,
    ApiBlueprint,
    caching_headers,
    conditional_get,
    current_etag,
    current_revision,
    document_errors,
    json_response,
    request_etag,
)
from schemas.records import StrictSchema

ZIP_MEDIA_TYPE = "application/zip"
HTML_MEDIA_TYPE = "text/html"
DICTIONARY_PATH = "/docs/data-dictionary"

DESCRIPTOR_SCHEMA = {
    "type": "object",
    "description": "A Frictionless Data Package descriptor (Data Package v2, https://datapackage.org).",
    "required": ["$schema", "name", "version", "licenses", "resources"],
    "properties": {
        "$schema": {"type": "string", "description": "The Data Package profile the descriptor follows."},
        "name": {"type": "string", "description": "The package's name."},
        "title": {"type": "string", "description": "The package's title."},
        "description": {"type": "string", "description": "What the data is and how the CSVs are written."},
        "version": {"type": "string", "description": "The dataset version: `r` and the dataset revision."},
        "created": {"type": "string", "format": "date-time", "description": "When the dataset last changed (UTC)."},
        "licenses": {"type": "array", "items": {"type": "object"}, "description": "The data's licence."},
        "sources": {"type": "array", "items": {"type": "object"}, "description": "The documents it rests on."},
        "resources": {
            "type": "array",
            "items": {"type": "object", "required": ["name", "path", "schema"]},
            "description": "One CSV table per record type and per join table, with its Table Schema.",
        },
    },
}
CONTENT_DISPOSITION_HEADER = {
    "description": 'Download as `eventledger-r<revision>.zip`: `attachment; filename="eventledger-r42.zip"`.',
    "schema": {"type": "string"},
}
HEADERS = {"ETag": ETAG_HEADER, "Cache-Control": CACHE_CONTROL_HEADER, **RATE_LIMIT_HEADERS}


class PackageQueryArgs(StrictSchema):
    """No query parameters: an unknown one is a 400, as on every other endpoint."""


class DatasetChanged(RuntimeError):
    """The dataset moved to a new revision between a zip's headers and its first byte."""


def package_blueprint():
    blueprint = ApiBlueprint(
        "package",
        "package",
        description="The whole dataset as a citable Frictionless data package: the descriptor, every table as "
        f"CSV in one zip, and the [data dictionary]({DICTIONARY_PATH}).",
    )

    @blueprint.route(f"{API_PREFIX}/datapackage.json")
    class DataPackage(MethodView):
        @blueprint.arguments(PackageQueryArgs, location="query")
        @blueprint.response(
            200, DESCRIPTOR_SCHEMA, content_type="application/json", headers=HEADERS, description="The descriptor."
        )
        @document_errors(blueprint, 400)
        @conditional_get()
        @blueprint.doc(operationId="getDataPackage")
        def get(self, _args):
            """The data package descriptor

            Every table (events, actors, claims, sources and the join tables) with its fields' types,
            meanings, constraints and vocabularies, its primary and foreign keys; the licence, the
            source documents, and the dataset version (`r<revision>`) as the package `version`.
            """
            with datapackage.snapshot() as snap:
                body = datapackage.descriptor_bytes(datapackage.descriptor(snap))
            _read_revision(snap)
            return json_response(body, headers=caching_headers(request_etag(snap.revision)))

    @blueprint.route(f"{API_PREFIX}/dataset.zip")
    class DatasetZip(MethodView):
        @blueprint.arguments(PackageQueryArgs, location="query")
        @blueprint.response(
            200,
            {"type": "string", "format": "binary"},
            content_type=ZIP_MEDIA_TYPE,
            headers={**HEADERS, "Content-Disposition": CONTENT_DISPOSITION_HEADER},
            description="The package: `datapackage.json` and `data/<table>.csv`.",
        )
        @document_errors(blueprint, 400)
        @conditional_get(cache=False)
        @blueprint.doc(operationId="getDatasetZip")
        def get(self, _args):
            """The whole dataset as a zip

            The data package: `datapackage.json` and one CSV per table under `data/`, which
            `frictionless validate` accepts. Streamed as it is read, in one snapshot of the dataset.
            """
            revision = current_revision()
            headers = {
                **caching_headers(current_etag()),
                "Content-Disposition": f'attachment; filename="{datapackage.archive_name(revision)}"',
            }
            return Response(stream_with_context(_zip_stream(revision)), mimetype=ZIP_MEDIA_TYPE, headers=headers)

    @blueprint.route(DICTIONARY_PATH)
    class DataDictionary(MethodView):
        @blueprint.arguments(PackageQueryArgs, location="query")
        @blueprint.response(
            200, {"type": "string"}, content_type=HTML_MEDIA_TYPE, headers=HEADERS, description="The page."
        )
        @document_errors(blueprint, 400)
        @conditional_get(cache=False)
        @blueprint.doc(operationId="getDataDictionary")
        def get(self, _args):
            """The data dictionary

            Every table and field of the data package with its type, meaning and constraints, and
            every vocabulary value with its meaning, generated from the same schemas.
            """
            with datapackage.snapshot() as snap:
                package = datapackage.descriptor(snap)
            _read_revision(snap)
            links = {
                "descriptor": url_for("package.DataPackage"),
                "archive": url_for("package.DatasetZip"),
                "archive_name": datapackage.archive_name(snap.revision),
                "docs": url_for("api-docs.openapi_swagger_ui"),
                "openapi": url_for("api-docs.openapi_json"),
            }
            headers = caching_headers(request_etag(snap.revision))
            return Response(render_dictionary(package, links), mimetype=HTML_MEDIA_TYPE, headers=headers)

    return blueprint


def _read_revision(snap):
    # A change between the revision lookup and the snapshot: the body is of the snapshot's revision,
    # so the ETag and the Dataset-Version header must name that one.
    g.dataset_revision = snap.revision


def _zip_stream(revision):
    # The snapshot opens here, not in the view: a transaction must not outlive the request's
    # connection, and the stream runs after the view has returned.
    try:
        with datapackage.snapshot() as snap:
            if snap.revision != revision:
                # The headers already name `revision`; a newer revision's bytes would be cached under them.
                raise DatasetChanged(f"revision {revision} was superseded by {snap.revision} before the zip began")
            yield from datapackage.zip_chunks(snap)
    finally:
        release_freed_memory()
