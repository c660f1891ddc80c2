"""Query-string schemas: the parameters every list shares, and the makers of each resource's own.

A resource's list parameters are made from its catalog declaration (api/catalog/declarations.py:
`list_query_args`): its filters, sort keys, fields, relations and facets.

Unknown parameters are rejected, so a misspelt filter is an error instead of a
silently unfiltered answer.
"""

import re

from marshmallow import ValidationError, fields, post_load, pre_load, validate

from schemas.fields import SLUG_PATTERN, MultiValue
from schemas.records import StrictSchema

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
FACET_LIMIT = 50
OR_NOTE = " Repeat the parameter or give a comma-separated list to match any of several values."

# The longest cursor the API makes (api/reading/queries.py names a row instead of a longer one), and accepts.
MAX_CURSOR_LENGTH = 2_000


def slugs(description):
    return MultiValue(
        fields.String(validate=validate.Regexp(SLUG_PATTERN)),
        metadata={"description": description + OR_NOTE},
    )


def choices(values, description):
    return MultiValue(
        fields.String(validate=validate.OneOf([str(v) for v in values])),
        metadata={"description": description + OR_NOTE},
    )


def sort_param(keys, default):
    keys = [*keys, "relevance"]
    allowed = [*keys, *(f"-{key}" for key in keys)]
    return MultiValue(
        fields.String(validate=validate.OneOf(allowed)),
        validate=validate.Length(max=3),
        metadata={
            "description": f"Sort order: up to three of {', '.join(keys)}; prefix `-` for descending. "
            f"Default `{default}`, or `relevance` when `q` is given. Ties are broken by id. `relevance` (only "
            "with `q`) puts the best match first, `-relevance` last."
        },
    )


def fields_param(schema):
    names = sorted(name for name in schema._declared_fields)
    return MultiValue(
        fields.String(validate=validate.OneOf(names)),
        metadata={"description": "Sparse fieldset: return only these fields (id is always returned)."},
    )


def include_param(relations):
    return MultiValue(
        fields.String(validate=validate.OneOf(relations)),
        metadata={
            "description": "Embed the related records of these relations, each with the relation's "
            f"attributes. One of: {', '.join(relations)}."
        },
    )


def facets_param(names, note=""):
    return MultiValue(
        fields.String(validate=validate.OneOf(names, error="Unknown facet '{input}'; one of: {choices}.")),
        metadata={
            "description": "Count the records matching the filters (all pages) per value of these fields, "
            "in `meta.facets`: each value with its count (and the related record's name or title as `label`), "
            f"highest count first, then by value, null last; at most {FACET_LIMIT} values per facet, with "
            f"`truncated`, `other_values` and `other_count` for the rest.{note} One of: {', '.join(names)}."
        },
    )


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


# Said in a user's words: what form is expected, with an example (marshmallow's "Not a valid aware datetime."
# names neither).
TIMESTAMP_EXPECTED = (
    "Expected a date and time with a time zone (RFC 3339), such as 2024-09-01T00:00:00Z or 2024-09-01T09:30:00+02:00."
)


def page_size(default, description):
    """A `limit` query parameter: a whole number from 1 to MAX_LIMIT, its error saying so with an example."""
    expected = f"Expected a whole number from 1 to {MAX_LIMIT}, such as {default}."
    return fields.Integer(
        load_default=default,
        validate=validate.Range(1, MAX_LIMIT, error=expected),
        error_messages={"invalid": expected},
        metadata={"description": description},
    )


class QueryArgs(StrictSchema):
    """Base of every query schema: control characters (NUL above all) never reach the database."""

    @pre_load
    def reject_control_characters(self, data, **_kwargs):
        errors = {}
        for key in data:
            values = data.get(key)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, str) and _CONTROL_CHARACTERS.search(value):
                    errors[key] = ["Must not contain control characters."]
        if errors:
            raise ValidationError(errors)
        return data

    @post_load
    def drop_blank_search(self, data, **_kwargs):
        """A search box submitted empty (or with spaces) searches for nothing: every record matches."""
        if isinstance(data.get("q"), str) and not data["q"].strip():
            del data["q"]
        return data


def format_param(formats):
    return fields.String(
        validate=validate.OneOf(formats),
        metadata={
            "description": "Export the whole result (every page, with the same filters, `q` and `sort`) as "
            f"{', '.join(formats)}, streamed; `Accept: text/csv`, `application/x-ndjson`"
            + (", `application/geo+json`" if "geojson" in formats else "")
            + " does the same. An explicit `limit` caps the export, a `cursor` starts it after that page."
        },
    )


def older_page_fields(log):
    """`cursor` and the plain `before` of a page of a log (a record's history, a webhook's deliveries)."""
    return {
        "cursor": fields.String(
            validate=validate.Length(min=1, max=MAX_CURSOR_LENGTH),
            metadata={
                "description": "Opaque cursor from `meta.next_cursor` of the previous page: the next, older one."
            },
        ),
        # Log ids are 32-bit: a larger one is a 400, not a 500.
        "before": fields.Integer(
            validate=validate.Range(min=1, max=2**31 - 1),
            metadata={
                "description": f"Only {log} with a smaller id: `meta.next_before` of the previous page. Kept for "
                "clients of 1.0; `cursor` does the same."
            },
        ),
    }


class ListQueryArgs(QueryArgs):
    format = format_param(["csv", "ndjson", "json"])
    bom = fields.Boolean(
        load_default=False,
        metadata={
            "description": "CSV only: start with a UTF-8 byte order mark, so that Excel opens the file "
            "by double-click with its accents and quotation marks intact."
        },
    )
    limit = page_size(DEFAULT_LIMIT, f"Page size, 1-{MAX_LIMIT}.")
    cursor = fields.String(
        validate=validate.Length(min=1, max=MAX_CURSOR_LENGTH),
        metadata={"description": "Opaque cursor from `meta.next_cursor` of the previous page."},
    )
    q = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "Full-text search: every word must match a word of the record's text fields, or its "
            "beginning (`drone` finds `drones`), regardless of case and of English word endings. "
            "Punctuation and operators are plain text. Without `sort`, results come best match first; each "
            "record then carries `match`, its rank and a highlighted snippet."
        },
    )
    updated_since = fields.AwareDateTime(
        format="iso",
        error_messages={"invalid": TIMESTAMP_EXPECTED, "invalid_awareness": TIMESTAMP_EXPECTED},
        metadata={"description": "Only records changed at or after this RFC 3339 timestamp (with offset or Z)."},
    )


def detail_args(list_args):
    """The detail endpoint of a resource accepts its list's `fields` and `include`."""
    name = list_args.__name__.replace("QueryArgs", "DetailArgs")
    return QueryArgs.from_dict(
        {"fields": list_args._declared_fields["fields"], "include": list_args._declared_fields["include"]},
        name=name,
    )
