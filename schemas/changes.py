"""The changes feed: its query parameters and its JSON envelope (the Atom variant is documented by media type)."""

from marshmallow import fields, validate

from api.catalog import RESOURCE_NAMES
from api.tables import CHANGE_KINDS
from schemas.query import MAX_LIMIT, QueryArgs, choices, page_size
from schemas.records import StrictSchema, UtcDateTime
from schemas.writes import FieldChangeSchema

ATOM_DEFAULT_LIMIT = 50
FEED_DEFAULT_LIMIT = 50
SINCE_NOW = "now"


def _filters():
    return {
        "resource": choices(RESOURCE_NAMES, "Only changes to records of these resources."),
        "kind": choices(CHANGE_KINDS, "Only changes of these kinds (`delete` changes are tombstones)."),
    }


class ChangesQueryArgs(QueryArgs):
    since = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={
            "description": "Resume after this position: `meta.next_cursor` of the previous page (opaque, signed). "
            f"Without it the feed starts at its first change; `{SINCE_NOW}` starts at its current end, for a "
            "poller that wants only the changes made from now on (the page is empty and its `next_cursor` "
            "is where to poll from)."
        },
    )
    limit = page_size(FEED_DEFAULT_LIMIT, f"Most changes in a page, 1-{MAX_LIMIT}.")
    resource = _filters()["resource"]
    kind = _filters()["kind"]


class AtomQueryArgs(QueryArgs):
    limit = page_size(ATOM_DEFAULT_LIMIT, f"How many of the latest changes the feed holds, 1-{MAX_LIMIT}.")
    resource = _filters()["resource"]
    kind = _filters()["kind"]


class ChangeLinksSchema(StrictSchema):
    record = fields.String(
        required=True,
        metadata={"description": "The record's API URL; after a delete it answers 404 (the change is a tombstone)."},
    )


class ChangeSchema(StrictSchema):
    id = fields.Integer(
        required=True,
        metadata={"description": "The change's position in the feed: grows with commit order, never reused."},
    )
    resource = fields.String(
        required=True,
        validate=validate.OneOf(RESOURCE_NAMES),
        metadata={"description": "The changed record's resource."},
    )
    record_id = fields.String(required=True, metadata={"description": "The changed record's id."})
    version = fields.Integer(required=True, metadata={"description": "The record's version after the change."})
    kind = fields.String(
        required=True,
        validate=validate.OneOf(CHANGE_KINDS),
        metadata={
            "description": "`create`, `update` or `delete`. A change of a record's relations (its actors, "
            "sources, events) is an `update` of the record that owns the links, with the link fields in `fields`. "
            "A `delete` stays in the feed as a tombstone, its fields going to null."
        },
    )
    changed_at = UtcDateTime(
        required=True,
        metadata={"description": "When the change was written (UTC); the record's `updated_at` after it."},
    )
    author = fields.String(required=True, metadata={"description": "Who made the change (`seed` for the fixtures)."})
    note = fields.String(required=True, allow_none=True, metadata={"description": "Why, as its author put it."})
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.Nested(FieldChangeSchema),
        required=True,
        metadata={"description": "Every field whose value changed, with its value before and after."},
    )
    links = fields.Nested(ChangeLinksSchema, required=True)


class ChangesMetaSchema(StrictSchema):
    limit = fields.Integer(required=True, metadata={"description": "The page size asked for."})
    next_cursor = fields.String(
        required=True,
        metadata={
            "description": "Where to resume, as `since`: after the last change of this page, or, on an empty "
            "page, the same position as this request. Always present: a poller keeps it and asks again."
        },
    )
    has_more = fields.Boolean(
        required=True,
        metadata={"description": "True when more changes follow now; false when the feed is drained (poll later)."},
    )
    dataset_revision = fields.Integer(
        required=True, metadata={"description": "Revision of the dataset the page was read from."}
    )
    dataset_version = fields.String(
        required=True, metadata={"description": "The citable version of that revision (`r12`)."}
    )


class ChangesLinksSchema(StrictSchema):
    self = fields.String(required=True, metadata={"description": "This page."})
    next = fields.String(required=True, metadata={"description": "Where to resume: this URL with `since=next_cursor`."})


class ChangesFeedSchema(StrictSchema):
    data = fields.List(fields.Nested(ChangeSchema), required=True)
    meta = fields.Nested(ChangesMetaSchema, required=True)
    links = fields.Nested(ChangesLinksSchema, required=True)
