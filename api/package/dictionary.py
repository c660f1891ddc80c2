"""The data dictionary page: every table, field and vocabulary of the data package, as HTML.

Generated from the same descriptor `/api/v1/datapackage.json` serves, so the page and the
package cannot disagree. Every value from the data is escaped.
"""

import html
import re

from api.package import datapackage
from schemas import vocabulary as vocab

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
