"""A source's document: its stored text as plain text, as JSON with every excerpt citing it, and as an HTML
page with each excerpt marked and linked to the records it bears on (api/reading/provenance.py)."""

import base64

from flask import Response, g, request, url_for
from flask.views import MethodView
from marshmallow import fields, validate
from werkzeug.exceptions import NotFound

from api.errors import RecordNotFound
from api.reading import provenance
from api.web import (
    API_PREFIX,
    CACHE_CONTROL_HEADER,
    DATASET_VERSION_HEADER,
    ETAG_HEADER,
    RATE_LIMIT_HEADERS,
    ApiBlueprint,
    caching_headers,
    conditional_get,
    current_etag,
    current_revision,
    document_errors,
    envelope_response,
    vary_on_accept,
)
from schemas.envelopes import SourceDocumentEnvelopeSchema
from schemas.fields import is_slug
from schemas.records import StrictSchema

JSON, TEXT, HTML = "application/json", "text/plain", "text/html"
FORMATS = {"json": JSON, "txt": TEXT, "html": HTML}
HEADERS = {
    "ETag": ETAG_HEADER,
    "Cache-Control": CACHE_CONTROL_HEADER,
    "Dataset-Version": DATASET_VERSION_HEADER,
    "Repr-Digest": {
        "description": "RFC 9530 digest of the plain text (`sha-256=:<base64>:`), the document's `sha256`.",
        "schema": {"type": "string"},
    },
    **RATE_LIMIT_HEADERS,
}


class DocumentQueryArgs(StrictSchema):
    format = fields.String(
        validate=validate.OneOf(list(FORMATS)),
        metadata={
            "description": "`txt`, `json` or `html`, instead of the Accept header (which chooses among "
            "`application/json`, the default, `text/plain` and `text/html`)."
        },
    )


class NoDocument(NotFound):
    pass


def blueprint():
    documents = ApiBlueprint(
        "documents",
        "documents",
        description="Source documents: the stored text every excerpt is located in, and every excerpt citing it.",
    )

    @documents.route(f"{API_PREFIX}/sources/<string:source_id>/document")
    class Document(MethodView):
        @documents.arguments(DocumentQueryArgs, location="query")
        @documents.response(
            200,
            SourceDocumentEnvelopeSchema,
            headers=HEADERS,
            description="The document: JSON with its excerpts, its plain text, or its HTML page.",
        )
        @documents.doc(
            operationId="getSourceDocument",
            summary="Get a source's document",
            responses={
                200: {
                    "content": {
                        TEXT: {"schema": {"type": "string", "description": "The text exactly as stored (UTF-8)."}},
                        HTML: {"schema": {"type": "string", "description": "The text with every excerpt marked."}},
                    }
                }
            },
        )
        @document_errors(documents, 400, 404)
        def get(self, args, source_id):
            """The full text of a source, and where each excerpt stands in it

            JSON (the default) holds the text, its SHA-256, and every excerpt an event or a claim cites from
            it, with its W3C TextQuoteSelector and TextPositionSelector and the record it bears on. `text/plain`
            is the text exactly as stored, with a `Repr-Digest` to check a copy by. `text/html` is a page with
            each excerpt in a `<mark>` and linked to its records. A source known only second-hand has no
            document: its excerpts are in the document of the source it is reported in.
            """
            return document_response(source_id, args)

    return documents


def _media_type(args):
    if "media_type" not in g:
        if args.get("format"):
            g.media_type = FORMATS[args["format"]]
        else:
            g.media_type = request.accept_mimetypes.best_match([JSON, TEXT, HTML], default=JSON)
    return g.media_type


def _variant(source_id, args):
    return "" if args.get("format") else _media_type(args)


def _is_json(source_id, args):
    return _media_type(args) == JSON


def _exists(source_id, args):
    _document(source_id)


def _document(source_id):
    row = provenance.stored_document(source_id) if is_slug(source_id) else None
    if row is None:
        raise RecordNotFound("source", source_id)
    if row["text"] is None:
        holder = f" Its excerpts are located in the document of '{row['reported_in']}'." if row["reported_in"] else ""
        raise NoDocument(f"The source '{source_id}' holds no document.{holder}")
    return row


def record_url(resource, record_id):
    return url_for(f"{resource}.Item", record_id=record_id)


@conditional_get(cache=_is_json, exists=_exists, variant=_variant, finish=vary_on_accept)
def document_response(source_id, args):
    row = _document(source_id)
    media_type = _media_type(args)
    headers = caching_headers(current_etag())
    digest = bytes.fromhex(row["document_sha256"])
    headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(digest).decode()}:" if media_type == TEXT else None
    headers = {name: value for name, value in headers.items() if value is not None}
    if media_type == TEXT:
        return Response(row["text"], mimetype=TEXT, headers=headers)
    cited = provenance.citations(source_id)
    if media_type == HTML:
        urls = {
            "source": record_url("sources", source_id),
            "text": url_for("documents.Document", source_id=source_id, format="txt"),
            "json": url_for("documents.Document", source_id=source_id, format="json"),
            "record": record_url,
        }
        return Response(provenance.document_page(row, cited, urls), mimetype=HTML, headers=headers)
    data = provenance.document_json(row, cited, record_url)
    return envelope_response(data, {"dataset_revision": current_revision()}, headers=headers)
