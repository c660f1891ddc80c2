"""Record schemas: what the API returns, and what fixtures (and later writes) put in.

Each resource has a fields class shared by both directions, an output schema
(`EventSchema`) that adds the read-only bookkeeping fields and the related
records, and an input schema (`EventInput`) that adds the id and the relations
as references. Related records appear as *links*: the related record's id, the
attributes of the relation (role, stance, excerpt) and, on detail responses or
with `include`, the related record's fields themselves.
"""

import copy
import hashlib

import orjson
from marshmallow import RAISE, Schema, ValidationError, fields, pre_dump, pre_load, validate, validates_schema

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


class AcceptsReadShape:
    """An input schema that also takes a record as the API returns it, so a record read can be edited and
    written back as is: the output's read-only members (bookkeeping, derived dates, related lists the record
    does not own, a search `match`) are left out, and each owned link may come in its read shape (`{"id",
    ...the related record's fields, ...the link's attributes}`), its `id` standing for the link's reference.
    A member neither schema knows is still refused."""

    read_schema = None  # the output schema whose shape is accepted

    @pre_load
    def from_read_shape(self, data, **_kwargs):
        if not isinstance(data, dict):
            return data
        read_fields = self.read_schema._declared_fields
        data = {
            name: value
            for name, value in data.items()
            if name in self.fields or not (name in read_fields and read_fields[name].dump_only)
        }
        if "id" not in self.fields:  # a PATCH: the route has checked that an `id` sent is the record's own
            data.pop("id", None)
        for name, field in self.fields.items():
            read_field = read_fields.get(name)
            is_link_list = isinstance(read_field, fields.List) and isinstance(read_field.inner, fields.Nested)
            if is_link_list and isinstance(field, fields.List) and isinstance(data.get(name), list):
                read_link = read_field.inner.schema
                data[name] = [_link_from_read_shape(item, field.inner, read_link) for item in data[name]]
        return data


def _link_from_read_shape(item, input_field, read_link):
    """One link as its input takes it: a bare link is the related id; another has its reference for `id`,
    and loses the related record's fields, which only a read shows."""
    if not isinstance(item, dict) or "id" not in item:
        return item
    if not isinstance(input_field, fields.Nested):
        return item["id"] if set(item) <= set(read_link.fields) else item
    link_input = input_field.schema
    reference = link_input.reference
    shown = set(read_link.fields) - set(link_input.fields)
    link = {reference: item["id"]} if reference not in item else {}
    link.update({key: value for key, value in item.items() if key not in shown})
    return link


def output_schema(schema_class):
    """Mark an output schema's fields optional but `id`: `fields` may leave any other out of a response, and
    keeps `id` always, so a generated client can rely on it.

    The fields are shared with the input schemas, where `required` matters, so each
    is replaced by a copy rather than changed in place.
    """
    for name, field in list(schema_class._declared_fields.items()):
        if field.required != (name == "id"):
            changed = copy.copy(field)
            changed.required = name == "id"
            schema_class._declared_fields[name] = changed
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

DOCUMENT_MAX = 500_000  # characters of a source's text: a long report, within the 1 MiB body limit
SHA256_PATTERN = r"^[0-9a-f]{64}$"


def retrieval_date(**kwargs):
    return fields.String(
        validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", error="Not a date (YYYY-MM-DD)."),
        allow_none=True,
        metadata={"description": "When the text was retrieved (YYYY-MM-DD), where known."},
        **kwargs,
    )


def archive_url(**kwargs):
    return fields.Url(
        allow_none=True,
        validate=validate.Length(max=URL_MAX),
        metadata={"description": "An archived copy of the text (for example on the Wayback Machine), where known."},
        **kwargs,
    )


class DocumentInput(StrictSchema):
    """A source's full text as written: `text` sets or replaces it; a document read from the API
    (its `sha256`, no `text`) keeps the stored text when the digest is that of the stored text."""

    text = bounded_text(
        DOCUMENT_MAX,
        min_length=1,
        load_default=None,
        metadata={"description": "The full text. Every excerpt citing the source is located in it."},
    )
    sha256 = fields.String(
        load_default=None,
        validate=validate.Regexp(SHA256_PATTERN),
        metadata={"description": "SHA-256 of the text's UTF-8 bytes: without `text`, names the stored text to keep."},
    )
    media_type = Choice(
        vocab.DOCUMENT_MEDIA_TYPES,
        load_default="text/plain",
        metadata={"description": vocab.describe(vocab.DOCUMENT_MEDIA_TYPES)},
    )
    characters = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "The text's length in characters, as a read gives it; checked when sent."},
    )
    retrieved = retrieval_date(load_default=None)
    archive_url = archive_url(load_default=None)

    @validates_schema
    def text_or_digest(self, data, **_kwargs):
        if data.get("text") is None and data.get("sha256") is None:
            raise ValidationError("Give the document's `text` (or, to keep the stored text, its `sha256`).", "text")
        if data.get("text") is not None:
            digest = document_digest(data["text"])
            if data.get("sha256") is not None and data["sha256"] != digest:
                raise ValidationError(f"Not the SHA-256 of `text` ({digest}).", "sha256")
            if data.get("characters") is not None and data["characters"] != len(data["text"]):
                raise ValidationError(f"`text` has {len(data['text'])} characters.", "characters")


def document_digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DocumentSchema(StrictSchema):
    sha256 = fields.String(metadata={"description": "SHA-256 of the text's UTF-8 bytes: what a copy is checked by."})
    media_type = Choice(vocab.DOCUMENT_MEDIA_TYPES, metadata={"description": "The text's media type."})
    characters = fields.Integer(metadata={"description": "The text's length in characters (selectors count these)."})
    retrieved = retrieval_date()
    archive_url = archive_url()


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
    document = fields.Nested(
        DocumentInput,
        allow_none=True,
        load_default=None,
        metadata={
            "description": "The source's full text, where the dataset holds it (null for a source known only "
            "second-hand). Served at `/api/v1/sources/{id}/document`; a changed text is refused if an excerpt "
            "citing it would no longer be found in it."
        },
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
    document = fields.Nested(
        DocumentSchema,
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "The source's full text as stored (its digest, media type, length, retrieval and "
            "archive), null when the dataset holds none; the text is at `/api/v1/sources/{id}/document`."
        },
    )
    access = Choice(
        vocab.SOURCE_ACCESS,
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "How the dataset reached the source (null for a source stored by 1.0, until it is "
            "written again). " + vocab.describe(vocab.SOURCE_ACCESS)
        },
    )
    events = link_list("SourceEventLinkSchema", "Events this source bears on, with its stance and the excerpt.")
    claims = link_list("SourceClaimLinkSchema", "Claims this source bears on, with its stance and the excerpt.")
    match = match_field()

    @pre_dump
    def nest_document(self, row, **_kwargs):
        if "document" not in row and "document_sha256" in row:
            row = {**row, "document": document_of_row(row)}
        return row


DOCUMENT_COLUMNS = {
    "sha256": "document_sha256",
    "media_type": "document_media_type",
    "characters": "document_characters",
    "retrieved": "document_retrieved",
    "archive_url": "document_archive_url",
}


def document_of_row(row):
    """A source row's document description (no text), or None when it holds no text."""
    if row.get("document_sha256") is None:
        return None
    return {key: row[column] for key, column in DOCUMENT_COLUMNS.items()}


class SourceInput(AcceptsReadShape, SourceFields):
    read_schema = SourceSchema
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


class ActorInput(AcceptsReadShape, ActorFields):
    read_schema = ActorSchema
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
    reference = "actor"
    actor = Slug(required=True)
    role = Choice(vocab.EVENT_ROLES, required=True, metadata={"description": vocab.describe(vocab.EVENT_ROLES)})


class SourceLinkInput(StrictSchema):
    """A source's excerpt as evidence for a record, and what it does for it."""

    reference = "source"
    source = Slug(required=True)
    stance = Choice(
        vocab.EVIDENCE_STANCES, required=True, metadata={"description": vocab.describe(vocab.EVIDENCE_STANCES)}
    )
    excerpt = text("Verbatim excerpt of the source.", required=True, validate=validate.Length(min=1))
    occurrence = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1),
        metadata={
            "description": "Which occurrence of the excerpt in the document is meant (1 is the first): required "
            "when the excerpt occurs more than once."
        },
    )


class EventSourceInput(SourceLinkInput):
    pass


class EventInput(AcceptsReadShape, EventFields):
    read_schema = EventSchema
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
    reference = "actor"
    actor = Slug(required=True)
    stance = Choice(
        vocab.CLAIM_ACTOR_STANCES, required=True, metadata={"description": vocab.describe(vocab.CLAIM_ACTOR_STANCES)}
    )


class ClaimSourceInput(SourceLinkInput):
    pass


class ClaimInput(AcceptsReadShape, ClaimFields):
    read_schema = ClaimSchema
    id = Slug(required=True)
    events = fields.List(Slug(), required=True, validate=validate.Length(min=1))
    actors = fields.List(fields.Nested(ClaimActorInput), required=True, validate=validate.Length(min=1))
    sources = fields.List(fields.Nested(ClaimSourceInput), required=True, validate=validate.Length(min=1))


# --- Links: a related record plus the attributes of the relation ---------------


# A link's attributes are always in it, whatever `fields` and `include` choose: required in the spec.
def _role():
    return Choice(vocab.EVENT_ROLES, required=True, metadata={"description": "The actor's role in the event."})


def _actor_stance():
    return Choice(
        vocab.CLAIM_ACTOR_STANCES, required=True, metadata={"description": "The actor's stance on the claim."}
    )


def _source_stance():
    return Choice(
        vocab.EVIDENCE_STANCES,
        required=True,
        allow_none=True,
        metadata={
            "description": "What the excerpt does for the record (null only on an event's link stored by 1.0, "
            "which had none, until the event is written again). " + vocab.describe(vocab.EVIDENCE_STANCES)
        },
    )


def _excerpt():
    return text("Verbatim excerpt of the source that bears on the record.", required=True)


def _occurrence():
    return fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "Which occurrence of the excerpt in the document is meant (null, as `target`, for a link "
            "stored before excerpts were located, until its record is written again)."
        },
    )


class TextSelectorSchema(StrictSchema):
    """One W3C Web Annotation selector (https://www.w3.org/TR/annotation-model/#selectors)."""

    type = Choice(
        {"TextQuoteSelector": "exact, prefix, suffix", "TextPositionSelector": "start, end"},
        required=True,
        metadata={"description": "`TextQuoteSelector` (exact, prefix, suffix) or `TextPositionSelector` (start, end)."},
    )
    exact = fields.String(metadata={"description": "TextQuoteSelector: the excerpt."})
    prefix = fields.String(metadata={"description": "TextQuoteSelector: up to 32 characters before it."})
    suffix = fields.String(metadata={"description": "TextQuoteSelector: up to 32 characters after it."})
    start = fields.Integer(
        metadata={
            "description": "TextPositionSelector: its first character's offset, from 0, in Unicode code points "
            "(as W3C specifies; JavaScript's string indices count UTF-16 units, which differ after a character "
            "outside the Basic Multilingual Plane)."
        }
    )
    end = fields.Integer(metadata={"description": "TextPositionSelector: the offset just past its last character."})


class AnnotationTargetSchema(StrictSchema):
    source = Slug(
        required=True,
        metadata={
            "description": "The source whose document holds the excerpt: the linked source, or for a source known "
            "second-hand the source it is reported in (`/api/v1/sources/{source}/document`)."
        },
    )
    selector = fields.List(
        fields.Nested(TextSelectorSchema),
        required=True,
        metadata={"description": "A TextQuoteSelector and a TextPositionSelector, checked when the link was written."},
    )


# A link's target as a table stores it, one column per member (the data package's join tables).
ANCHOR_FIELDS = {
    "target_source": Slug(metadata={"description": "The source whose document holds the excerpt."}),
    "target_start": fields.Integer(
        metadata={"description": "TextPositionSelector start: the excerpt's first character, from 0, in code points."}
    ),
    "target_end": fields.Integer(metadata={"description": "TextPositionSelector end: just past its last character."}),
    "target_prefix": fields.String(metadata={"description": "TextQuoteSelector prefix: up to 32 characters before."}),
    "target_suffix": fields.String(metadata={"description": "TextQuoteSelector suffix: up to 32 characters after."}),
}


def _target():
    return fields.Nested(
        AnnotationTargetSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Where the excerpt stands: a W3C Web Annotation target (document and selectors)."},
    )


class EventActorLinkSchema(ActorSchema):
    role = _role()


class EventSourceLinkSchema(SourceSchema):
    stance = _source_stance()
    excerpt = _excerpt()
    occurrence = _occurrence()
    target = _target()


class EventClaimLinkSchema(ClaimSchema):
    pass


class ClaimActorLinkSchema(ActorSchema):
    stance = _actor_stance()


class ClaimSourceLinkSchema(SourceSchema):
    stance = _source_stance()
    excerpt = _excerpt()
    occurrence = _occurrence()
    target = _target()


class ClaimEventLinkSchema(EventSchema):
    pass


class ActorEventLinkSchema(EventSchema):
    role = _role()


class ActorClaimLinkSchema(ClaimSchema):
    stance = _actor_stance()


class SourceEventLinkSchema(EventSchema):
    stance = _source_stance()
    excerpt = _excerpt()
    occurrence = _occurrence()
    target = _target()


class SourceClaimLinkSchema(ClaimSchema):
    stance = _source_stance()
    excerpt = _excerpt()
    occurrence = _occurrence()
    target = _target()


# --- A source's document, with every excerpt citing it -----------------------------


class CitingRecordSchema(StrictSchema):
    resource = fields.String(required=True, metadata={"description": "`events` or `claims`."})
    id = Slug(required=True)
    label = fields.String(required=True, metadata={"description": "The event's title or the claim's statement."})
    url = fields.String(required=True, metadata={"description": "The record's URL (its page, with Accept: text/html)."})


class DocumentExcerptSchema(StrictSchema):
    record = fields.Nested(CitingRecordSchema, required=True, metadata={"description": "The record it bears on."})
    source = Slug(
        required=True,
        metadata={
            "description": "The source the record links: this one, or one reported in it (known only second-hand)."
        },
    )
    stance = _source_stance()
    excerpt = _excerpt()
    occurrence = _occurrence()
    selector = fields.List(
        fields.Nested(TextSelectorSchema),
        required=True,
        metadata={"description": "Its TextQuoteSelector and TextPositionSelector in this document."},
    )
    anchor = fields.String(
        required=True,
        metadata={
            "description": "The id of its mark on the document's HTML page: "
            "`excerpt-<resource>-<record id>-<source>-<start>`."
        },
    )


class SourceDocumentSchema(DocumentSchema):
    source = Slug(required=True, metadata={"description": "The source the document is the text of."})
    title = fields.String(required=True, metadata={"description": "The source's title."})
    language = fields.String(allow_none=True, metadata={"description": "BCP 47 language tag, where known."})
    url = fields.String(allow_none=True, metadata={"description": "Where the source can be read, where known."})
    published = fields.String(allow_none=True, metadata={"description": "Publication date, as the source gives it."})
    text = fields.String(required=True, metadata={"description": "The full text, exactly as stored."})
    excerpts = fields.List(
        fields.Nested(DocumentExcerptSchema),
        required=True,
        metadata={"description": "Every excerpt that an event or a claim cites from this document, in text order."},
    )
