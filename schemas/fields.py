"""Field types shared by the record, fixture and query schemas."""

import re

from marshmallow import ValidationError, fields, validate

from schemas.dates import PARTIAL_DATE_PATTERN, QUERY_DATE_PATTERN, date_range

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
# The longest strings a record takes, the same on both databases (a short text is a VARCHAR(255) on
# PostgreSQL): beyond them a write is a 422, so no one record floods the pages, feeds and exports it rides in.
SHORT_TEXT_MAX = 255  # names, places, publishers
TITLE_MAX = 1_000  # titles and claim statements
LONG_TEXT_MAX = 20_000  # summaries, descriptions, rationales, notes, excerpts
URL_MAX = 2_000
MAX_ALIASES = 50
# No NUL (PostgreSQL cannot store one) nor any other control character but tab and line breaks: a pattern,
# so that the OpenAPI document and the data package state it too.
printable = validate.Regexp(
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",
    error="Must not contain control characters (only tabs and line breaks).",
)


def bounded_text(max_length, min_length=None, **kwargs):
    """A string of at most `max_length` characters without control characters; `validate` adds checks."""
    extra = kwargs.pop("validate", None)
    checks = [validate.Length(min=min_length, max=max_length), printable]
    checks += extra if isinstance(extra, list) else [extra] if extra else []
    return fields.String(validate=checks, **kwargs)


_SLUG = re.compile(SLUG_PATTERN)


def is_slug(text):
    return len(text) <= 80 and _SLUG.match(text) is not None


def Slug(**kwargs):
    kwargs.setdefault("metadata", {}).setdefault(
        "description", "Stable slug identifier (lower-case letters, digits and hyphens)."
    )
    return fields.String(validate=[validate.Length(min=1, max=80), validate.Regexp(SLUG_PATTERN)], **kwargs)


def CountryCode(**kwargs):
    kwargs.setdefault("metadata", {}).setdefault("description", "ISO 3166-1 alpha-2 country code.")
    return fields.String(validate=validate.Regexp(r"^[A-Z]{2}$"), **kwargs)


def Choice(vocabulary, **kwargs):
    """A string restricted to the keys of a vocabulary."""
    return fields.String(validate=validate.OneOf(list(vocabulary)), **kwargs)


class PartialDate(fields.String):
    """An ISO 8601 / EDTF-style partial date; `XXXX-MM` marks a month whose year is unstated."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Regexp(PARTIAL_DATE_PATTERN))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
            value = str(value)  # a year written unquoted in YAML
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            date_range(text)
        except ValueError as error:
            raise ValidationError(str(error)) from error
        return text


class QueryDate(fields.String):
    """A full or partial date in a query (`2024`, `2024-09`, `2024-09-25`), loaded as its DateRange."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {})["pattern"] = QUERY_DATE_PATTERN
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if not text[:4].isdigit():
                raise ValueError(f"'{text}' is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD.")
            return date_range(text)
        except ValueError as error:
            raise ValidationError(str(error)) from error


class MultiValue(fields.List):
    """A query parameter that may repeat or hold a comma list; every value is OR-ed.

    `?type=a&type=b` and `?type=a,b` both load as `["a", "b"]`.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        raw = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in raw):
            raise ValidationError("Must be a string or a comma-separated list of strings.")
        items = [part.strip() for item in raw for part in item.split(",") if part.strip()]
        if not items:
            raise ValidationError("Must not be empty.")
        return super()._deserialize(items, attr, data, **kwargs)
