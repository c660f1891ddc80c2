"""Response envelopes and the problem+json error body."""

from marshmallow import fields

from schemas.records import ActorSchema, ClaimSchema, EventSchema, SourceDocumentSchema, SourceSchema, StrictSchema


class FacetValueSchema(StrictSchema):
    value = fields.Raw(
        required=True,
        allow_none=True,
        metadata={
            "type": ["string", "integer"],
            "description": "The value, as the matching filter takes it (an id for a related record); "
            "null for records without one.",
        },
    )
    label = fields.String(
        allow_none=True,
        metadata={"description": "The related record's name or title (relation facets), or how a value is spelt."},
    )
    count = fields.Integer(required=True, metadata={"description": "How many matching records have this value."})


class FacetSchema(StrictSchema):
    values = fields.List(
        fields.Nested(FacetValueSchema),
        required=True,
        metadata={"description": "By count, highest first, then by value; null last among equal counts."},
    )
    truncated = fields.Boolean(required=True, metadata={"description": "True when values were left out by the cap."})
    other_values = fields.Integer(required=True, metadata={"description": "How many values were left out."})
    other_count = fields.Integer(
        required=True, metadata={"description": "The sum of the counts of the values left out."}
    )


class ListMetaSchema(StrictSchema):
    count = fields.Integer(required=True, metadata={"description": "How many records match the filters in all pages."})
    limit = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Page size; for a `format=json` export, its explicit cap, or null for all records."},
    )
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "Cursor of the next page; null on the last page."}
    )
    dataset_revision = fields.Integer(
        required=True, metadata={"description": "Revision of the dataset the page was read from."}
    )
    dataset_version = fields.String(
        required=True,
        metadata={"description": "The citable version of that revision, as in the Dataset-Version header (`r12`)."},
    )
    facets = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(FacetSchema),
        metadata={"description": "With `facets`: per facet asked, the counts of its values over every page."},
    )


class ListLinksSchema(StrictSchema):
    self = fields.String(required=True, metadata={"description": "This page."})
    next = fields.String(
        required=True, allow_none=True, metadata={"description": "The next page; null on the last page."}
    )


def list_envelope(record_schema, name):
    return StrictSchema.from_dict(
        {
            "data": fields.List(fields.Nested(record_schema), required=True),
            "meta": fields.Nested(ListMetaSchema, required=True),
            "links": fields.Nested(ListLinksSchema, required=True),
        },
        name=name,
    )


def related_list_envelope(record_schema, link_fields, name):
    """A related list (`/claims/{id}/sources`): each record carries `links`, the attributes of every link between
    it and the record the list belongs to (an actor may hold two roles in one event)."""
    link_schema = StrictSchema.from_dict(link_fields, name=f"{name}Link")
    links = fields.List(
        fields.Nested(link_schema),
        metadata={
            "description": "The relation's attributes: one entry per link, in curated order. On every record of a "
            "page; an export (`format`) gives the records alone."
        },
    )
    item = type(f"{name}ItemSchema", (type(record_schema),), {"links": links})
    return list_envelope(item, name)


EventListSchema = list_envelope(EventSchema, "EventList")
ActorListSchema = list_envelope(ActorSchema, "ActorList")
ClaimListSchema = list_envelope(ClaimSchema, "ClaimList")
SourceListSchema = list_envelope(SourceSchema, "SourceList")


class DetailMetaSchema(StrictSchema):
    dataset_revision = fields.Integer(
        required=True, metadata={"description": "Revision of the dataset the record was read from."}
    )


def detail_envelope(record_schema, name):
    return StrictSchema.from_dict(
        {"data": fields.Nested(record_schema, required=True), "meta": fields.Nested(DetailMetaSchema, required=True)},
        name=name,
    )


EventDetailSchema = detail_envelope(EventSchema, "EventDetail")
ActorDetailSchema = detail_envelope(ActorSchema, "ActorDetail")
ClaimDetailSchema = detail_envelope(ClaimSchema, "ClaimDetail")
SourceDetailSchema = detail_envelope(SourceSchema, "SourceDetail")


class ParameterErrorSchema(StrictSchema):
    parameter = fields.String(
        required=True, metadata={"description": "The offending parameter (dotted path for nested fields)."}
    )
    location = fields.String(required=True, metadata={"description": "Where it was: query, path, header or body."})
    messages = fields.List(fields.String(), required=True)


class ProblemSchema(StrictSchema):
    """RFC 9457 problem details."""

    type = fields.String(required=True, metadata={"description": "URI reference identifying the kind of problem."})
    title = fields.String(required=True, metadata={"description": "Short summary of the kind of problem."})
    status = fields.Integer(required=True, metadata={"description": "HTTP status code."})
    detail = fields.String(
        required=True, metadata={"description": "What went wrong with this request, naming the parameter."}
    )
    instance = fields.String(metadata={"description": "The request path."})
    errors = fields.List(
        fields.Nested(ParameterErrorSchema), metadata={"description": "One entry per invalid parameter."}
    )


class ResourceLinkSchema(StrictSchema):
    name = fields.String(required=True)
    href = fields.String(required=True)
    description = fields.String(required=True)


class ApiIndexSchema(StrictSchema):
    name = fields.String(required=True)
    version = fields.String(required=True)
    dataset_revision = fields.Integer(required=True)
    resources = fields.List(fields.Nested(ResourceLinkSchema), required=True)
    links = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class HealthSchema(StrictSchema):
    status = fields.String(required=True)
    database = fields.String()


SourceDocumentEnvelopeSchema = detail_envelope(SourceDocumentSchema, "SourceDocumentEnvelopeSchema")
