"""Sources: the documents the dataset rests on, graded for reliability."""

from marshmallow import fields, validate
from peewee import fn

from api.catalog.declarations import (
    ColumnFacet,
    FieldFilter,
    LinkFacet,
    RelationFilter,
    ResourceSpec,
    SortKey,
    record_sort_keys,
)
from api.catalog.excerpts import excerpt_relation
from api.tables import Claim, ClaimSource, Event, EventSource, Source, SourceDocument
from schemas import vocabulary as vocab
from schemas.dates import date_range
from schemas.envelopes import SourceDetailSchema, SourceListSchema
from schemas.fields import MultiValue
from schemas.query import OR_NOTE, choices, slugs
from schemas.records import DOCUMENT_COLUMNS, SourceInput, SourceSchema, document_digest, document_of_row

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
    "reported_in",
)


def to_columns(record):
    """A source's row. Its document arrives with its text, or with the digest of the stored text it keeps
    (`api.writing.editing` fills that text in first): the row holds the description, `companion` the text."""
    published = date_range(record["published"]) if record["published"] else None
    document = record["document"]
    if document is not None and document.get("text") is not None:
        document = {
            **document,
            "sha256": document_digest(document["text"]),
            "characters": len(document["text"]),
        }
    return {
        **{key: record[key] for key in OWN_FIELDS},
        "published_start": published.start if published else None,
        "published_end": published.end if published else None,
        "published_precision": published.precision if published else None,
        **{column: document[key] if document else None for key, column in DOCUMENT_COLUMNS.items()},
        "access": "first_hand" if record["reported_in"] is None else "second_hand",
    }


def to_input(row):
    """A stored source in its input form: its document as described, without the text, which a write keeps."""
    return {**{key: row[key] for key in OWN_FIELDS}, "document": document_of_row(row)}


class DocumentText:
    """A source's text, in its own table: written when the record's digest changes, gone with the record."""

    @staticmethod
    def write(record_id, record, current):
        document = record["document"]
        if document is None:
            SourceDocument.delete().where(SourceDocument.source == record_id).execute()
        elif current is None or current["document_sha256"] != document_digest(document["text"]):
            DocumentText.store(record_id, document["text"])

    @staticmethod
    def store(record_id, text):
        SourceDocument.insert(source=record_id, text=text).on_conflict(
            conflict_target=[SourceDocument.source], update={SourceDocument.text: text}
        ).execute()

    @staticmethod
    def delete(record_id):
        SourceDocument.delete().where(SourceDocument.source == record_id).execute()


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
    companion=DocumentText,
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
        FieldFilter("access", Source.access, choices(vocab.SOURCE_ACCESS, "How the dataset reached the source.")),
        RelationFilter("event", "events", slugs("Sources that support an event (by event id).")),
        RelationFilter("claim", "claims", slugs("Sources that bear on a claim (by claim id).")),
    ),
    relations={
        "events": excerpt_relation("events", "events", EventSource, EventSource.source, EventSource.event, owned=False),
        "claims": excerpt_relation("claims", "claims", ClaimSource, ClaimSource.source, ClaimSource.claim, owned=False),
    },
    facets=(
        ColumnFacet("type", Source.type),
        ColumnFacet("reliability", Source.reliability),
        ColumnFacet("access", Source.access),
        # The `publisher` filter ignores case, so the facet does too; the label is one spelling of it.
        ColumnFacet("publisher", fn.LOWER(Source.publisher), label=Source.publisher),
        ColumnFacet("language", Source.language),
        LinkFacet("event", "events", label=Event.title),
        LinkFacet("claim", "claims", label=Claim.statement),
    ),
)
