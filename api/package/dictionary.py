"""The data dictionary page: every table, field and vocabulary of the data package, as HTML.

Generated from the same descriptor `/api/v1/datapackage.json` serves, so the page and the
package cannot disagree. Python chooses what the page shows (which descriptions, vocabularies
and constraints); the Jinja2 template `api/package/templates/data_dictionary.html` holds all the markup.
Autoescaping is on, so every value from the data is escaped unless it is already `Markup`, and
only `_escape` and the `code_spans` filter here make `Markup`, each from text they escape first.
"""

import html
import re

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from api.package import datapackage
from schemas import vocabulary as vocab


def _escape(value):
    """Every `{{ value }}` of the template: escaped as `html.escape` does (`&quot;`, `&#x27;`), unless already markup.

    Autoescaping would escape it too, with markupsafe's entities (`&#34;`, `&#39;`); escaping here
    first, to `Markup`, keeps the page's entities those of `html.escape`, as the page has always had.
    """
    if hasattr(value, "__html__"):
        return Markup(value.__html__())
    return Markup(html.escape(str(value)))


def _code_spans(value):
    """Escaped text, with descriptions' `backticked` names and values as code."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(_escape(value))))


_environment = Environment(
    loader=PackageLoader("api.package", "templates"),
    autoescape=select_autoescape(("html",), default_for_string=True, default=True),
    finalize=_escape,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=StrictUndefined,
)
_environment.filters["code_spans"] = _code_spans
_template = _environment.get_template("data_dictionary.html")


def _anchor(kind, *names):
    return "-".join([kind, *names])


def _field_vocabulary(field):
    categories = field.get("categories")
    return datapackage.vocabulary_of([item["value"] for item in categories]) if categories else None


def _vocabulary_link(vocabulary_id):
    return {"anchor": _anchor("vocabulary", vocabulary_id), "title": datapackage.vocabulary_title(vocabulary_id)}


def _meaning(field, vocabulary_id, references):
    """The parts of a field's meaning, in order, each a dict with a `kind`: description, vocabulary, reference."""
    description = field.get("description", "")
    parts = []
    if vocabulary_id:
        # The vocabulary's table below gives each value's meaning; the field need not repeat it.
        description = description.replace(vocab.describe(datapackage.vocabularies()[vocabulary_id]), "").strip()
        parts.append({"kind": "vocabulary", **_vocabulary_link(vocabulary_id)})
    if description:
        parts.insert(0, {"kind": "description", "text": description})
    if field["name"] in references:
        target = references[field["name"]]
        parts.append({"kind": "reference", "anchor": _anchor("table", target), "name": target})
    return parts


def _type(field):
    if field["type"] == "array":
        return f"array of {field.get('arrayItem', {}).get('type', 'any')} (JSON)"
    if "format" in field:
        return f"{field['type']} ({field['format']})"
    return field["type"]


def _bound(constraints, low, high):
    if low in constraints and high in constraints:
        return f"{constraints[low]} to {constraints[high]}"
    if low in constraints:
        return f"at least {constraints[low]}"
    return f"at most {constraints[high]}"


def _constraints(field, vocabulary_id, primary_key):
    """The field's constraints, in order, each a dict with a `kind`: text, one_of, pattern, other."""
    constraints = dict(field.get("constraints", {}))
    items = []
    if field["name"] in primary_key:
        items.append({"kind": "text", "text": "primary key" if len(primary_key) == 1 else "part of the primary key"})
    if constraints.pop("required", False):
        empty = "; may be empty text" if field.get("missingValues") == [] else ""
        items.append({"kind": "text", "text": "required" + empty})
    else:
        items.append({"kind": "text", "text": "optional: an empty cell is null"})
    if "enum" in constraints:
        values = constraints.pop("enum")
        if not vocabulary_id:
            items.append({"kind": "one_of", "values": values})
    if "pattern" in constraints:
        items.append({"kind": "pattern", "pattern": constraints.pop("pattern")})
    for low, high, label in (("minLength", "maxLength", "length "), ("minimum", "maximum", "")):
        if constraints.keys() & {low, high}:
            items.append({"kind": "text", "text": label + _bound(constraints, low, high)})
            for name in (low, high):
                constraints.pop(name, None)
    # Whatever else a field constrains is shown as it is declared rather than left out.
    items += [{"kind": "other", "name": name, "value": value} for name, value in constraints.items()]
    return items


def _table(resource):
    schema = resource["schema"]
    primary_key = schema.get("primaryKey", [])
    references = {key["fields"][0]: key["reference"]["resource"] for key in schema.get("foreignKeys", [])}
    fields = []
    for field in schema["fields"]:
        vocabulary_id = _field_vocabulary(field)
        fields.append(
            {
                "anchor": _anchor("field", resource["name"], field["name"]),
                "name": field["name"],
                "type": _type(field),
                "meaning": _meaning(field, vocabulary_id, references),
                "constraints": _constraints(field, vocabulary_id, primary_key),
            }
        )
    return {
        "anchor": _anchor("table", resource["name"]),
        "name": resource["name"],
        "title": resource["title"],
        "description": resource["description"],
        "path": resource["path"],
        "primary_key": primary_key,
        "fields": fields,
    }


def _vocabulary(vocabulary_id, values, users):
    return {
        **_vocabulary_link(vocabulary_id),
        "used_by": [
            {"anchor": _anchor("field", table, field), "table": table, "field": field} for table, field in users
        ],
        "values": list(values.items()),
    }


def _link(title, path):
    # Only web addresses become links: a source's path is data, and data must not script the page.
    url = path if isinstance(path, str) and path.startswith(("https://", "http://")) else None
    return {"title": title, "url": url}


def render_dictionary(package, links):
    """The dictionary page: every table and field of the descriptor, and every vocabulary value."""
    users = {}
    for resource in package["resources"]:
        for field in resource["schema"]["fields"]:
            vocabulary_id = _field_vocabulary(field)
            if vocabulary_id:
                users.setdefault(vocabulary_id, []).append((resource["name"], field["name"]))
    all_vocabularies = datapackage.vocabularies()
    return _template.render(
        version=package["version"],
        description=package["description"],
        created=package.get("created"),
        licences=[_link(licence["name"], licence.get("path")) for licence in package.get("licenses", [])],
        sources=[_link(source["title"], source.get("path")) for source in package.get("sources", [])],
        links=links,
        tables=[_table(resource) for resource in package["resources"]],
        vocabularies=[
            _vocabulary(vocabulary_id, values, users.get(vocabulary_id, []))
            for vocabulary_id, values in all_vocabularies.items()
        ],
    )
