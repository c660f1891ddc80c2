"""The whole dataset as a citable Frictionless data package, and the data dictionary generated from it.

`/api/v1/datapackage.json` is the descriptor, `/api/v1/dataset.zip` the descriptor with every
table as CSV, streamed, and `/docs/data-dictionary` the descriptor and the vocabularies as a page.
All three are conditional GETs on the dataset revision, like every other GET.
"""

import html
import re

from flask import Response, g, stream_with_context, url_for
from flask.views import MethodView

from api import datapackage
from api.resources import API_PREFIX, CACHE_CONTROL_HEADER, ETAG_HEADER, ApiBlueprint, document_errors, responses
from api.responses import caching_headers, current_revision, json_response, not_modified, request_etag
from schemas import vocabulary as vocab
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
HEADERS = {"ETag": ETAG_HEADER, "Cache-Control": CACHE_CONTROL_HEADER}


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
        def get(self, _args):
            """The data package descriptor

            Every table (events, actors, claims, sources and the join tables) with its fields' types,
            meanings, constraints and vocabularies, its primary and foreign keys; the licence, the
            source documents, and the dataset version (`r<revision>`) as the package `version`.
            """
            revision = current_revision()
            cached = not_modified(request_etag(revision)) or responses().get(revision)
            if cached:
                return cached
            with datapackage.snapshot() as snap:
                body = datapackage.descriptor_bytes(datapackage.descriptor(snap))
            _read_revision(snap)
            headers = caching_headers(request_etag(snap.revision))
            return responses().store(snap.revision, json_response(body, headers=headers))

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
        def get(self, _args):
            """The whole dataset as a zip

            The data package: `datapackage.json` and one CSV per table under `data/`, which
            `frictionless validate` accepts. Streamed as it is read, in one snapshot of the dataset.
            """
            revision = current_revision()
            etag = request_etag(revision)
            cached = not_modified(etag)
            if cached:
                return cached
            headers = {
                **caching_headers(etag),
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
        def get(self, _args):
            """The data dictionary

            Every table and field of the data package with its type, meaning and constraints, and
            every vocabulary value with its meaning, generated from the same schemas.
            """
            revision = current_revision()
            cached = not_modified(request_etag(revision))
            if cached:
                return cached
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
    with datapackage.snapshot() as snap:
        if snap.revision != revision:
            # The headers already name `revision`; a newer revision's bytes would be cached under them.
            raise DatasetChanged(f"revision {revision} was superseded by {snap.revision} before the zip began")
        yield from datapackage.zip_chunks(snap)


# --- The data dictionary page ---------------------------------------------------------------------

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 76rem; padding: 1rem 2rem; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #d0d0d0; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code { font: 0.9em ui-monospace, monospace; background: #f3f3f3; padding: 0 0.2em; overflow-wrap: anywhere; }
section { margin-bottom: 2rem; }
dt { font-weight: 600; }
"""


def _text(value):
    """Escaped text, with descriptions' `backticked` names and values as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(str(value)))


def _attr(value):
    return html.escape(str(value), quote=True)


def _anchor(kind, *names):
    return "-".join([kind, *names])


def _field_vocabulary(field):
    categories = field.get("categories")
    return datapackage.vocabulary_of([item["value"] for item in categories]) if categories else None


def _meaning(field, vocabulary_id, references):
    description = field.get("description", "")
    parts = []
    if vocabulary_id:
        # The vocabulary's table below gives each value's meaning; the field need not repeat it.
        description = description.replace(vocab.describe(datapackage.vocabularies()[vocabulary_id]), "").strip()
        title = _text(datapackage.vocabulary_title(vocabulary_id))
        parts.append(f'Values: <a href="#{_anchor("vocabulary", vocabulary_id)}">{title}</a>.')
    if description:
        parts.insert(0, _text(description))
    if field["name"] in references:
        target = references[field["name"]]
        parts.append(f'References <a href="#{_anchor("table", target)}">{_text(target)}</a>.<code>id</code>.')
    return " ".join(parts)


def _type(field):
    if field["type"] == "array":
        return f"array of {_text(field.get('arrayItem', {}).get('type', 'any'))} (JSON)"
    if "format" in field:
        return f"{_text(field['type'])} ({_text(field['format'])})"
    return _text(field["type"])


def _bound(constraints, low, high):
    if low in constraints and high in constraints:
        return f"{_text(constraints[low])} to {_text(constraints[high])}"
    if low in constraints:
        return f"at least {_text(constraints[low])}"
    return f"at most {_text(constraints[high])}"


def _constraints(field, vocabulary_id, primary_key):
    constraints = dict(field.get("constraints", {}))
    items = []
    if field["name"] in primary_key:
        items.append("primary key" if len(primary_key) == 1 else "part of the primary key")
    if constraints.pop("required", False):
        items.append("required" + ("; may be empty text" if field.get("missingValues") == [] else ""))
    else:
        items.append("optional: an empty cell is null")
    if "enum" in constraints:
        values = constraints.pop("enum")
        if not vocabulary_id:
            items.append("one of " + ", ".join(f"<code>{_text(value)}</code>" for value in values))
    if "pattern" in constraints:
        items.append(f"matches <code>{_text(constraints.pop('pattern'))}</code>")
    for low, high, label in (("minLength", "maxLength", "length "), ("minimum", "maximum", "")):
        if constraints.keys() & {low, high}:
            items.append(label + _bound(constraints, low, high))
            for name in (low, high):
                constraints.pop(name, None)
    # Whatever else a field constrains is shown as it is declared rather than left out.
    items += [f"{_text(name)}: <code>{_text(value)}</code>" for name, value in constraints.items()]
    return "; ".join(items)


def _table_section(resource):
    schema = resource["schema"]
    primary_key = schema.get("primaryKey", [])
    references = {key["fields"][0]: key["reference"]["resource"] for key in schema.get("foreignKeys", [])}
    rows = []
    for field in schema["fields"]:
        vocabulary_id = _field_vocabulary(field)
        rows.append(
            f'<tr id="{_attr(_anchor("field", resource["name"], field["name"]))}">'
            f"<td><code>{_text(field['name'])}</code></td><td>{_type(field)}</td>"
            f"<td>{_meaning(field, vocabulary_id, references)}</td>"
            f"<td>{_constraints(field, vocabulary_id, primary_key)}</td></tr>"
        )
    keys = f"Primary key: {', '.join(f'<code>{_text(name)}</code>' for name in primary_key)}."
    return (
        f'<section id="{_attr(_anchor("table", resource["name"]))}">'
        f"<h3>{_text(resource['title'])}: <code>{_text(resource['name'])}</code></h3>"
        f"<p>{_text(resource['description'])}</p>"
        f"<p>File <code>{_text(resource['path'])}</code>. {keys}</p>"
        "<table><thead><tr><th>Field</th><th>Type</th><th>Meaning</th><th>Constraints</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _vocabulary_section(vocabulary_id, values, users):
    used_by = ", ".join(
        f'<a href="#{_attr(_anchor("field", table, field))}"><code>{_text(table)}.{_text(field)}</code></a>'
        for table, field in users
    )
    rows = "".join(
        f"<tr><td><code>{_text(value)}</code></td><td>{_text(meaning)}</td></tr>" for value, meaning in values.items()
    )
    return (
        f'<section id="{_attr(_anchor("vocabulary", vocabulary_id))}">'
        f"<h3>{_text(datapackage.vocabulary_title(vocabulary_id))}</h3>"
        f"<p>Used by: {used_by or 'no field'}.</p>"
        "<table><thead><tr><th>Value</th><th>Meaning</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _link(title, path):
    # Only web addresses become links: a source's path is data, and data must not script the page.
    if isinstance(path, str) and path.startswith(("https://", "http://")):
        return f'<a href="{_attr(path)}">{_text(title)}</a>'
    return _text(title)


def render_dictionary(package, links):
    """The dictionary page: every table and field of the descriptor, and every vocabulary value."""
    users = {}
    for resource in package["resources"]:
        for field in resource["schema"]["fields"]:
            vocabulary_id = _field_vocabulary(field)
            if vocabulary_id:
                users.setdefault(vocabulary_id, []).append((resource["name"], field["name"]))
    all_vocabularies = datapackage.vocabularies()
    contents = "".join(
        f'<li><a href="#{_attr(_anchor("table", resource["name"]))}">{_text(resource["name"])}</a></li>'
        for resource in package["resources"]
    )
    vocabulary_contents = "".join(
        f'<li><a href="#{_attr(_anchor("vocabulary", vocabulary_id))}">'
        f"{_text(datapackage.vocabulary_title(vocabulary_id))}</a></li>"
        for vocabulary_id in all_vocabularies
    )
    licences = ", ".join(_link(licence["name"], licence.get("path")) for licence in package.get("licenses", []))
    sources = "".join(f"<li>{_link(source['title'], source.get('path'))}</li>" for source in package.get("sources", []))
    changed = f", last changed {_text(package['created'])}" if "created" in package else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>eventledger data dictionary, {_text(package['version'])}</title><style>{STYLE}</style></head><body>"
        "<header><h1>eventledger data dictionary</h1>"
        f"<p>{_text(package['description'])}</p><dl>"
        f"<dt>Dataset version</dt><dd><code>{_text(package['version'])}</code>{changed}</dd>"
        f"<dt>Licence</dt><dd>{licences}</dd>"
        f'<dt>Download</dt><dd><a href="{_attr(links["archive"])}">{_text(links["archive_name"])}</a>: '
        f'the Frictionless data package (descriptor <a href="{_attr(links["descriptor"])}">datapackage.json</a> '
        "and every table as CSV); or <code>eventledger export DIR</code>.</dd>"
        f'<dt>API</dt><dd><a href="{_attr(links["docs"])}">interactive documentation</a>, '
        f'<a href="{_attr(links["openapi"])}">OpenAPI document</a></dd></dl></header>'
        f"<nav><h2>Contents</h2><p>Tables:</p><ul>{contents}</ul><p>Vocabularies:</p><ul>{vocabulary_contents}</ul>"
        '<p><a href="#sources">Sources of the dataset</a></p></nav>'
        '<main><h2 id="tables">Tables</h2>'
        + "".join(_table_section(resource) for resource in package["resources"])
        + '<h2 id="vocabularies">Vocabularies</h2>'
        + "".join(
            _vocabulary_section(vocabulary_id, values, users.get(vocabulary_id, []))
            for vocabulary_id, values in all_vocabularies.items()
        )
        + f'<h2 id="sources">Sources of the dataset</h2><ul>{sources}</ul></main></body></html>\n'
    )
