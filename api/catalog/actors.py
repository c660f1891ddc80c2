"""Actors: states, governments, bodies, companies, facilities, people and groups."""

from api.catalog.declarations import FieldFilter, Relation, RelationFilter, ResourceSpec, SortKey, record_sort_keys
from api.tables import Actor, ClaimActor, EventActor
from schemas.envelopes import ActorDetailSchema, ActorListSchema
from schemas.query import ActorQueryArgs
from schemas.records import ActorSchema

spec = ResourceSpec(
    name="actors",
    singular="actor",
    description="Actors: who takes part in events and takes a stance on claims, with their parent actor.",
    model=Actor,
    schema=ActorSchema(),
    list_args=ActorQueryArgs,
    list_schema=ActorListSchema,
    detail_schema=ActorDetailSchema,
    summary_fields=("id", "name", "kind", "country"),
    text_columns=(Actor.name, Actor.aliases, Actor.description),
    sort_keys={
        "name": SortKey(Actor.name),
        "kind": SortKey(Actor.kind),
        "country": SortKey(Actor.country, null_low="", null_high="~~"),
        **record_sort_keys(Actor),
    },
    default_sort="name",
    filters=(
        FieldFilter("kind", Actor.kind),
        FieldFilter("country", Actor.country),
        FieldFilter("parent", Actor.parent),
        RelationFilter("event", "events"),
        RelationFilter("claim", "claims"),
    ),
    relations={
        "events": Relation("events", "events", EventActor, EventActor.actor, EventActor.event, ("role",), owned=False),
        "claims": Relation(
            "claims", "claims", ClaimActor, ClaimActor.actor, ClaimActor.claim, ("stance",), owned=False
        ),
    },
)
