"""Events: what happened, when and where, who took part, and which source says so."""

from api.catalog.declarations import (
    DateOverlapFilter,
    FieldFilter,
    Relation,
    RelationFilter,
    ResourceSpec,
    SortKey,
    record_sort_keys,
)
from api.tables import ClaimEvent, Event, EventActor, EventSource
from schemas.envelopes import EventDetailSchema, EventListSchema
from schemas.query import EventQueryArgs
from schemas.records import EventSchema

spec = ResourceSpec(
    name="events",
    singular="event",
    description="Events of the story: each with its date and its precision, its location, "
    "the actors and their roles, and the verbatim source excerpts that support it.",
    model=Event,
    schema=EventSchema(),
    list_args=EventQueryArgs,
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
    export_formats=("csv", "ndjson", "json", "geojson"),
    filters=(
        FieldFilter("type", Event.type),
        FieldFilter("country", Event.country),
        DateOverlapFilter(Event.date_start, Event.date_end),
        RelationFilter("actor", "actors", attribute_param="role", attribute="role"),
        RelationFilter("source", "sources"),
        RelationFilter("claim", "claims"),
    ),
    relations={
        "actors": Relation("actors", "actors", EventActor, EventActor.event, EventActor.actor, ("role",)),
        "sources": Relation("sources", "sources", EventSource, EventSource.event, EventSource.source, ("excerpt",)),
        "claims": Relation("claims", "claims", ClaimEvent, ClaimEvent.event, ClaimEvent.claim, owned=False),
    },
)
