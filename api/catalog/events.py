"""Events: what happened, when and where, who took part, and which source says so."""

from marshmallow import fields, validate
from peewee import SQL, Case, fn

from api.catalog.declarations import (
    ColumnFacet,
    DateOverlapFilter,
    FieldFilter,
    LinkFacet,
    Relation,
    RelationFilter,
    ResourceSpec,
    SortKey,
    record_sort_keys,
)
from api.catalog.excerpts import excerpt_relation
from api.tables import EVENT_DATE_COPIES, Actor, Claim, ClaimEvent, Event, EventActor, EventSource, Source
from schemas import vocabulary as vocab
from schemas.dates import date_range
from schemas.envelopes import EventDetailSchema, EventListSchema
from schemas.fields import MultiValue, QueryDate
from schemas.query import OR_NOTE, choices, slugs
from schemas.records import LOCATION_COLUMNS, EventInput, EventSchema

# SQL literals rather than bound parameters: PostgreSQL accepts a selected or ordered expression
# only if it is the grouped one, and to it two bound parameters are two different expressions.
_ONE, _FOUR, _SEVEN = SQL("1"), SQL("4"), SQL("7")

OWN_FIELDS = ("title", "summary", "type", "date", "date_approximate", "date_note")


def to_columns(record):
    dates = date_range(record["date"]) if record["date"] else None
    location = record["location"]
    return {
        **{key: record[key] for key in OWN_FIELDS},
        "date_start": dates.start if dates else None,
        "date_end": dates.end if dates else None,
        "date_precision": dates.precision if dates else None,
        **{key: location.get(key) for key in LOCATION_COLUMNS},
    }


def to_input(row):
    return {**{key: row[key] for key in OWN_FIELDS}, "location": {key: row[key] for key in LOCATION_COLUMNS}}


spec = ResourceSpec(
    name="events",
    singular="event",
    description="Events of the story: each with its date and its precision, its location, "
    "the actors and their roles, and the verbatim source excerpts that support it.",
    model=Event,
    schema=EventSchema(),
    input_schema=EventInput,
    list_schema=EventListSchema,
    detail_schema=EventDetailSchema,
    summary_fields=("id", "title", "type", "date"),
    text_columns=(Event.title, Event.summary, Event.place, Event.date_note),
    sort_keys={
        "date": SortKey(Event.date_start, null_low="0000-00-00", null_high="9999-99-99"),
        "title": SortKey(Event.title),
        "type": SortKey(Event.type),
        **record_sort_keys(Event),
    },
    default_sort="date",
    to_columns=to_columns,
    to_input=to_input,
    export_formats=("csv", "ndjson", "json", "geojson"),
    filters=(
        FieldFilter("type", Event.type, choices(vocab.EVENT_TYPES, "Event type.")),
        RelationFilter(
            "actor",
            "actors",
            slugs("Events an actor takes part in (by actor id)."),
            attribute="role",
            attribute_field=choices(vocab.EVENT_ROLES, "Actor role; with `actor`, the role of that actor."),
        ),
        FieldFilter(
            "country",
            Event.country,
            MultiValue(
                fields.String(validate=validate.Regexp(r"^[A-Z]{2}$")),
                metadata={"description": "Location country (ISO 3166-1 alpha-2)." + OR_NOTE},
            ),
        ),
        DateOverlapFilter(
            Event.date_start,
            Event.date_end,
            QueryDate(
                metadata={
                    "description": "Events whose date range ends on or after this date (YYYY, YYYY-MM or YYYY-MM-DD)."
                }
            ),
            QueryDate(
                metadata={
                    "description": "Events whose date range starts on or before this date "
                    "(YYYY, YYYY-MM or YYYY-MM-DD)."
                }
            ),
        ),
        RelationFilter("claim", "claims", slugs("Events a claim belongs to (by claim id).")),
        RelationFilter("source", "sources", slugs("Events a source supports (by source id).")),
    ),
    relations={
        "actors": Relation(
            "actors", "actors", EventActor, EventActor.event, EventActor.actor, ("role",), copies=EVENT_DATE_COPIES
        ),
        "sources": excerpt_relation(
            "sources", "sources", EventSource, EventSource.event, EventSource.source, copies=EVENT_DATE_COPIES
        ),
        "claims": Relation("claims", "claims", ClaimEvent, ClaimEvent.event, ClaimEvent.claim, owned=False),
    },
    # Event dates: `year` is that of every event whose year is known; `month` that of every event known
    # to the month or the day (`XXXX-09` when the year is unstated), and null for a year-precision or
    # undated event, which lies in no one month.
    facets=(
        ColumnFacet("type", Event.type),
        ColumnFacet("country", Event.country),
        ColumnFacet("date_precision", Event.date_precision),
        ColumnFacet("year", fn.SUBSTR(Event.date_start, _ONE, _FOUR)),
        ColumnFacet(
            "month",
            Case(None, [(Event.date_precision == SQL("'year'"), SQL("NULL"))], fn.SUBSTR(Event.date, _ONE, _SEVEN)),
        ),
        LinkFacet("actor", "actors", label=Actor.name),
        LinkFacet("role", "actors", attribute="role"),
        LinkFacet("source", "sources", label=Source.title),
        LinkFacet("claim", "claims", label=Claim.statement),
    ),
    facets_note=" `year` and `month` follow each event's precision: a year-precision event has no month (null),"
    " `XXXX-09` counts under `XXXX-09` (no year), an undated event under null.",
)
