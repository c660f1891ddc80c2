"""Sources: the documents the dataset rests on, graded for reliability."""

from marshmallow import fields, validate
from peewee import fn

from api.catalog.declarations import (
    ColumnFacet,
    FieldFilter,
    LinkFacet,
    Relation,
    RelationFilter,
    ResourceSpec,
    SortKey,
    record_sort_keys,
)
from api.tables import Claim, ClaimSource, Event, EventSource, Source
from schemas import vocabulary as vocab
from schemas.dates import date_range
from schemas.envelopes import SourceDetailSchema, SourceListSchema
from schemas.fields import MultiValue
from schemas.query import OR_NOTE, choices, slugs
from schemas.records import SourceInput, SourceSchema

OWN_FIELDS = (
    "type",
    "title",
    "publisher",
    "author",
    "url",
    "published",
    "published_note",
    "language",
    "reliability",
    "reliability_rationale",
    "document",
    "reported_in",
)


def to_columns(record):
    published = date_range(record["published"]) if record["published"] else None
    return {
        **{key: record[key] for key in OWN_FIELDS},
        "published_start": published.start if published else None,
        "published_end": published.end if published else None,
        "published_precision": published.precision if published else None,
    }


def to_input(row):
    return {key: row[key] for key in OWN_FIELDS}


spec = ResourceSpec(
    name="sources",
    singular="source",
    description="Sources: the documents every record traces to, with an Admiralty reliability grade; "
    "a source known only second-hand names the source that reports it.",
    model=Source,
    schema=SourceSchema(),
    input_schema=SourceInput,
    list_schema=SourceListSchema,
    detail_schema=SourceDetailSchema,
    summary_fields=("id", "title", "publisher", "type", "reliability"),
    text_columns=(Source.title, Source.publisher, Source.author, Source.reliability_rationale),
    sort_keys={
        "published": SortKey(Source.published_start, null_low="0000-00-00", null_high="9999-99-99"),
        "title": SortKey(Source.title),
        "publisher": SortKey(Source.publisher, null_low="", null_high="~~"),
        "reliability": SortKey(Source.reliability),
        **record_sort_keys(Source),
    },
    default_sort="id",
    to_columns=to_columns,
    to_input=to_input,
    parent_key="reported_in",
    filters=(
        FieldFilter("type", Source.type, choices(vocab.SOURCE_TYPES, "Source type.")),
        FieldFilter(
            "publisher",
            Source.publisher,
            MultiValue(
                fields.String(validate=validate.Length(min=1, max=200)),
                metadata={"description": "Publisher, matched without regard to case." + OR_NOTE},
            ),
            normalise="lower",
        ),
        FieldFilter(
            "reliability", Source.reliability, choices(vocab.RELIABILITY_GRADES, "Admiralty reliability grade, A-F.")
        ),
        RelationFilter("event", "events", slugs("Sources that support an event (by event id).")),
        RelationFilter("claim", "claims", slugs("Sources that bear on a claim (by claim id).")),
    ),
    relations={
        "events": Relation(
            "events", "events", EventSource, EventSource.source, EventSource.event, ("excerpt",), owned=False
        ),
        "claims": Relation(
            "claims", "claims", ClaimSource, ClaimSource.source, ClaimSource.claim, ("stance", "excerpt"), owned=False
        ),
    },
    facets=(
        ColumnFacet("type", Source.type),
        ColumnFacet("reliability", Source.reliability),
        # The `publisher` filter ignores case, so the facet does too; the label is one spelling of it.
        ColumnFacet("publisher", fn.LOWER(Source.publisher), label=Source.publisher),
        ColumnFacet("language", Source.language),
        LinkFacet("event", "events", label=Event.title),
        LinkFacet("claim", "claims", label=Claim.statement),
    ),
)
