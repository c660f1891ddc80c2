"""Schemas of the write API: PATCH bodies, the delete and history parameters, and a record's history."""

import copy

from marshmallow import fields, missing

from schemas.envelopes import ListLinksSchema
from schemas.query import DEFAULT_LIMIT, MAX_LIMIT, older_page_fields, page_size
from schemas.records import AcceptsReadShape, StrictSchema, UtcDateTime


def patch_schema(input_class):
    """The input schema with every member optional and without `id`: a PATCH sends what it changes.

    A class of its own (`EventPatch`) so that the OpenAPI document names it. Members left out get no
    default, and a member sent is checked whole: a link or a location must hold its required members.
    """
    declared = {}
    for name, field in input_class._declared_fields.items():
        if name == "id":
            continue
        field = copy.copy(field)
        field.required = False
        field.load_default = missing
        declared[name] = field
    bases = (StrictSchema,)
    if issubclass(input_class, AcceptsReadShape):  # a PATCH takes a record read as it is, too
        bases = (AcceptsReadShape, StrictSchema)
        declared["read_schema"] = input_class.read_schema
    return type(input_class.__name__.replace("Input", "Patch"), bases, declared)


class DeleteArgs(StrictSchema):
    detach = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Remove the links that other records hold to this one (each such record gets an "
            "update of its own in the change log), then delete. Without it, a record still referred to is "
            "not deleted (409)."
        },
    )


HistoryArgs = StrictSchema.from_dict(
    {
        "limit": page_size(DEFAULT_LIMIT, f"Changes per page, 1-{MAX_LIMIT}."),
        **older_page_fields("changes"),
    },
    name="HistoryArgs",
)


class FieldChangeSchema(StrictSchema):
    """A field's value before and after a change: in a record's history, the changes feed and webhooks."""

    # Raw: a field's value may be any JSON (a string, a number, a list of links). `from` is a Python keyword.
    from_ = fields.Raw(
        attribute="from",
        data_key="from",
        required=True,
        allow_none=True,
        metadata={"description": "The value before the change; null on a create (or when the field was empty)."},
    )
    to = fields.Raw(
        required=True,
        allow_none=True,
        metadata={"description": "The value after the change; null on a delete (or when the field was emptied)."},
    )


class HistoryEntrySchema(StrictSchema):
    change = fields.Integer(
        attribute="id", metadata={"description": "The change's id: its position in the dataset's change log."}
    )
    kind = fields.String(metadata={"description": "create, update or delete (a tombstone)."})
    version = fields.Integer(metadata={"description": "The record's version after the change (a delete counts one)."})
    changed_at = UtcDateTime(metadata={"description": "When the change was committed (UTC)."})
    author = fields.String(metadata={"description": "The name of the API key that made it (`seed` for fixtures)."})
    note = fields.String(allow_none=True, metadata={"description": "The editor's note (X-Edit-Note), if any."})
    fields_ = fields.Dict(
        data_key="fields",
        attribute="fields",
        keys=fields.String(),
        values=fields.Nested(FieldChangeSchema),
        metadata={
            "description": "Each stored field that changed, with its value before and after: columns as the data "
            "package names them (a partial date with its derived start/end/precision, an event's location as "
            "place/country/latitude/longitude) and owned links as lists of link rows."
        },
    )


class HistoryMetaSchema(StrictSchema):
    limit = fields.Integer(required=True, metadata={"description": "Page size."})
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "`cursor` of the next (older) page; null at the end."}
    )
    next_before = fields.Integer(
        required=True, allow_none=True, metadata={"description": "`before` of the next (older) page; null at the end."}
    )
    dataset_revision = fields.Integer(required=True, metadata={"description": "Revision the page was read from."})


class HistorySchema(StrictSchema):
    data = fields.List(fields.Nested(HistoryEntrySchema), required=True, metadata={"description": "Newest first."})
    meta = fields.Nested(HistoryMetaSchema, required=True)
    links = fields.Nested(ListLinksSchema, required=True)
