"""Record schemas: what the API returns, and what fixtures (and later writes) put in.

Each resource has a fields class shared by both directions, an output schema
(`EventSchema`) that adds the read-only bookkeeping fields and the related
records, and an input schema (`EventInput`) that adds the id and the relations
as references. Related records appear as *links*: the related record's id, the
attributes of the relation (role, stance, excerpt) and, on detail responses or
with `include`, the related record's fields themselves.
"""

import copy

import orjson
from marshmallow import RAISE, Schema, fields, pre_dump, validate

from schemas import vocabulary as vocab
from schemas.fields import (
    LONG_TEXT_MAX,
    MAX_ALIASES,
    SHORT_TEXT_MAX,
    TITLE_MAX,
    URL_MAX,
    Choice,
    CountryCode,
    PartialDate,
    Slug,
    bounded_text,
)


def text(description, max_length=LONG_TEXT_MAX, **kwargs):
    """Free text: a description for the spec, at most `max_length` characters, no control characters."""
    if kwargs.get("dump_only"):
        return fields.String(metadata={"description": description}, **kwargs)
    return bounded_text(max_length, metadata={"description": description}, **kwargs)


class UtcDateTime(fields.DateTime):
    """A UTC timestamp, written as RFC 3339 with a `Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.isoformat(timespec="microseconds") + "Z"


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class IdentifiedSchema(StrictSchema):
    id = Slug(dump_only=True)


class BookkeepingSchema(StrictSchema):
    created_at = UtcDateTime(dump_only=True, metadata={"description": "When the record was first loaded (UTC)."})
    updated_at = UtcDateTime(dump_only=True, metadata={"description": "When the record last changed (UTC)."})
    version = fields.Integer(dump_only=True, metadata={"description": "Starts at 1; grows by one with every change."})
    revision = fields.Integer(
        dump_only=True,
        metadata={
            "description": "The dataset revision of the record's last change: an If-Match ETag of this revision "
            'or later (`"r<revision>-..."`) may change or delete it.'
        },
    )


def output_schema(schema_class):
    """Mark an output schema's fields optional: `fields` may leave any of them out of a response.

    The fields are shared with the input schemas, where `required` matters, so each
    is replaced by an optional copy rather than changed in place.
    """
    for name, field in list(schema_class._declared_fields.items()):
        if field.required:
            optional = copy.copy(field)
            optional.required = False
            schema_class._declared_fields[name] = optional
    return schema_class


def link_list(schema_name, description):
    return fields.List(fields.Nested(schema_name), dump_only=True, metadata={"description": description})


class MatchSchema(StrictSchema):
    rank = fields.Float(
        allow_none=True,
        metadata={
            "description": "Relevance to `q`, higher is better: comparable between the records of one search only "
            "(the scale depends on the database and the dataset)."
        },
    )
    snippet = fields.String(
        allow_none=True,
        metadata={
            "description": "Where the record matches: an excerpt of its text fields, HTML-escaped, with the "
            "matching words in `<mark>` elements, and `…` where text is left out. Safe to insert as HTML."
        },
    )


def match_field():
    return fields.Nested(
        MatchSchema,
        dump_only=True,
        metadata={"description": "How the record matches `q`: only in lists requested with `q`, on every record."},
    )


# --- Sources -----------------------------------------------------------------


class SourceFields(StrictSchema):
    type = Choice(vocab.SOURCE_TYPES, required=True, metadata={"description": vocab.describe(vocab.SOURCE_TYPES)})
    title = text("Title as published.", TITLE_MAX, required=True, validate=validate.Length(min=1))
    publisher = text(
        "Who published it, where known.",
        SHORT_TEXT_MAX,
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1),
    )
    author = text("Author, where known.", SHORT_TEXT_MAX, allow_none=True, load_default=None)
    url = fields.Url(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=URL_MAX),
        metadata={"description": "Where it can be read, where known."},
    )
    published = PartialDate(
        allow_none=True,
        load_default=None,
        metadata={"description": "Publication date: YYYY, YYYY-MM, YYYY-MM-DD, or XXXX-MM when the year is unstated."},
    )
    published_note = text("What is known about the publication date.", allow_none=True, load_default=None)
    language = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$"),
        metadata={"description": "BCP 47 language tag, where known (null for a source known only second-hand)."},
    )
    reliability = Choice(
        vocab.RELIABILITY_GRADES,
        required=True,
        metadata={"description": "Admiralty source reliability. " + vocab.describe(vocab.RELIABILITY_GRADES)},
    )
    reliability_rationale = text("Why the source has its reliability grade.", required=True)
    document = text(
        "File name of the source's full text, shipped with the dataset, that excerpts are checked against.",
        SHORT_TEXT_MAX,
        allow_none=True,
        load_default=None,
    )
    reported_in = Slug(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "For a source known only second-hand: the source that reports it, "
            "whose text holds its excerpts."
        },
    )


@output_schema
class SourceSchema(BookkeepingSchema, SourceFields, IdentifiedSchema):
    published_start = text("First day the publication date covers.", dump_only=True, allow_none=True)
    published_end = text("Last day the publication date covers.", dump_only=True, allow_none=True)
    published_precision = text(vocab.describe(vocab.DATE_PRECISIONS), dump_only=True, allow_none=True)
    events = link_list("SourceEventLinkSchema", "Events this source supports, with the excerpt.")
    claims = link_list("SourceClaimLinkSchema", "Claims this source bears on, with its stance and the excerpt.")
    match = match_field()


class SourceInput(SourceFields):
    id = Slug(required=True)


# --- Actors ------------------------------------------------------------------


class ActorFields(StrictSchema):
    name = text(
        "Name as the source gives it; unnamed actors are described.",
        SHORT_TEXT_MAX,
        required=True,
        validate=validate.Length(min=1),
    )
    kind = Choice(vocab.ACTOR_KINDS, required=True, metadata={"description": vocab.describe(vocab.ACTOR_KINDS)})
    country = CountryCode(allow_none=True, load_default=None)
    aliases = fields.List(
        bounded_text(SHORT_TEXT_MAX, min_length=1),
        load_default=list,
        validate=validate.Length(max=MAX_ALIASES),
        metadata={"description": "Other names the sources use."},
    )
    parent = Slug(allow_none=True, load_default=None, metadata={"description": "Id of the actor this one belongs to."})
    description = text("Who the actor is, as the sources describe it.", required=True)


@output_schema
class ActorSchema(BookkeepingSchema, ActorFields, IdentifiedSchema):
    events = link_list("ActorEventLinkSchema", "Events the actor takes part in, with its role.")
    claims = link_list("ActorClaimLinkSchema", "Claims the actor takes a stance on, with the stance.")
    match = match_field()

    @pre_dump
    def decode_aliases(self, row, **_kwargs):
        if isinstance(row.get("aliases"), str):
            row = {**row, "aliases": orjson.loads(row["aliases"])}
        return row


class ActorInput(ActorFields):
    id = Slug(required=True)


# --- Events ------------------------------------------------------------------


LOCATION_COLUMNS = ("place", "country", "latitude", "longitude")


class LocationSchema(StrictSchema):
    place = text("Place name as the source gives it.", SHORT_TEXT_MAX, allow_none=True, load_default=None)
    country = CountryCode(allow_none=True, load_default=None)
    latitude = fields.Float(
        allow_none=True,
        load_default=None,
        validate=validate.Range(-90, 90),
        metadata={"description": "WGS 84 latitude, only where known."},
    )
    longitude = fields.Float(
        allow_none=True,
        load_default=None,
        validate=validate.Range(-180, 180),
        metadata={"description": "WGS 84 longitude, only where known."},
    )


class EventFields(StrictSchema):
    title = text("Short neutral title.", TITLE_MAX, required=True, validate=validate.Length(min=1))
    summary = text("What happened, in the sources' terms.", required=True)
    type = Choice(vocab.EVENT_TYPES, required=True, metadata={"description": vocab.describe(vocab.EVENT_TYPES)})
    date = PartialDate(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "When: YYYY, YYYY-MM, YYYY-MM-DD, XXXX-MM when the year is unstated, or null when undated."
        },
    )
    date_approximate = fields.Boolean(
        load_default=False, metadata={"description": "True when the date is inferred rather than stated."}
    )
    date_note = text("What the sources say about the timing.", allow_none=True, load_default=None)
    location = fields.Nested(
        LocationSchema,
        load_default=dict,
        metadata={"description": "Where: place, country and coordinates where known."},
    )


@output_schema
class EventSchema(BookkeepingSchema, EventFields, IdentifiedSchema):
    date_start = text("First day the date covers (null when unknown).", dump_only=True, allow_none=True)
    date_end = text("Last day the date covers (null when unknown).", dump_only=True, allow_none=True)
    date_precision = text(vocab.describe(vocab.DATE_PRECISIONS), dump_only=True, allow_none=True)
    actors = link_list("EventActorLinkSchema", "Actors with their role in the event.")
    sources = link_list("EventSourceLinkSchema", "Sources with the verbatim excerpt that supports the event.")
    claims = link_list("EventClaimLinkSchema", "Claims that belong to the event.")
    match = match_field()

    @pre_dump
    def nest_location(self, row, **_kwargs):
        if "location" not in row and any(key in row for key in LOCATION_COLUMNS):
            row = {**row, "location": {key: row.get(key) for key in LOCATION_COLUMNS}}
        return row


class EventActorInput(StrictSchema):
    actor = Slug(required=True)
    role = Choice(vocab.EVENT_ROLES, required=True, metadata={"description": vocab.describe(vocab.EVENT_ROLES)})


class EventSourceInput(StrictSchema):
    source = Slug(required=True)
    excerpt = text("Verbatim excerpt of the source.", required=True, validate=validate.Length(min=1))


class EventInput(EventFields):
    id = Slug(required=True)
    actors = fields.List(fields.Nested(EventActorInput), required=True, validate=validate.Length(min=1))
    sources = fields.List(fields.Nested(EventSourceInput), required=True, validate=validate.Length(min=1))


# --- Claims ------------------------------------------------------------------


class ClaimFields(StrictSchema):
    statement = text("The claim, in one sentence.", TITLE_MAX, required=True, validate=validate.Length(min=1))
    status = Choice(vocab.CLAIM_STATUSES, required=True, metadata={"description": vocab.describe(vocab.CLAIM_STATUSES)})
    status_rationale = text("Why the claim has its status, in the sources' terms.", required=True)
    credibility = fields.Integer(
        required=True,
        validate=validate.OneOf(list(vocab.CREDIBILITY_GRADES)),
        metadata={"description": "Admiralty information credibility. " + vocab.describe(vocab.CREDIBILITY_GRADES)},
    )
    credibility_rationale = text("Why the claim has its credibility grade.", required=True)


@output_schema
class ClaimSchema(BookkeepingSchema, ClaimFields, IdentifiedSchema):
    actors = link_list("ClaimActorLinkSchema", "Actors with their stance on the claim.")
    sources = link_list("ClaimSourceLinkSchema", "Sources with their stance and the verbatim excerpt.")
    events = link_list("ClaimEventLinkSchema", "Events the claim belongs to.")
    match = match_field()


class ClaimActorInput(StrictSchema):
    actor = Slug(required=True)
    stance = Choice(
        vocab.CLAIM_ACTOR_STANCES, required=True, metadata={"description": vocab.describe(vocab.CLAIM_ACTOR_STANCES)}
    )


class ClaimSourceInput(StrictSchema):
    source = Slug(required=True)
    stance = Choice(
        vocab.CLAIM_SOURCE_STANCES, required=True, metadata={"description": vocab.describe(vocab.CLAIM_SOURCE_STANCES)}
    )
    excerpt = text("Verbatim excerpt of the source.", required=True, validate=validate.Length(min=1))


class ClaimInput(ClaimFields):
    id = Slug(required=True)
    events = fields.List(Slug(), required=True, validate=validate.Length(min=1))
    actors = fields.List(fields.Nested(ClaimActorInput), required=True, validate=validate.Length(min=1))
    sources = fields.List(fields.Nested(ClaimSourceInput), required=True, validate=validate.Length(min=1))


# --- Links: a related record plus the attributes of the relation ---------------


def _role():
    return Choice(vocab.EVENT_ROLES, metadata={"description": "The actor's role in the event."})


def _actor_stance():
    return Choice(vocab.CLAIM_ACTOR_STANCES, metadata={"description": "The actor's stance on the claim."})


def _source_stance():
    return Choice(vocab.CLAIM_SOURCE_STANCES, metadata={"description": "The source's stance on the claim."})


def _excerpt():
    return text("Verbatim excerpt of the source that supports the record.")


class EventActorLinkSchema(ActorSchema):
    role = _role()


class EventSourceLinkSchema(SourceSchema):
    excerpt = _excerpt()


class EventClaimLinkSchema(ClaimSchema):
    pass


class ClaimActorLinkSchema(ActorSchema):
    stance = _actor_stance()


class ClaimSourceLinkSchema(SourceSchema):
    stance = _source_stance()
    excerpt = _excerpt()


class ClaimEventLinkSchema(EventSchema):
    pass


class ActorEventLinkSchema(EventSchema):
    role = _role()


class ActorClaimLinkSchema(ClaimSchema):
    stance = _actor_stance()


class SourceEventLinkSchema(EventSchema):
    excerpt = _excerpt()


class SourceClaimLinkSchema(ClaimSchema):
    stance = _source_stance()
    excerpt = _excerpt()
