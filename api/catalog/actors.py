"""Actors: states, governments, bodies, companies, facilities, people and groups."""

import orjson
from marshmallow import fields, validate

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
from api.tables import Actor, Claim, ClaimActor, Event, EventActor
from schemas import vocabulary as vocab
from schemas.envelopes import ActorDetailSchema, ActorListSchema
from schemas.fields import MultiValue
from schemas.query import OR_NOTE, choices, slugs
from schemas.records import ActorInput, ActorSchema

OWN_FIELDS = ("name", "kind", "country", "parent", "description")
ParentActor = Actor.alias("parent_actor")


def to_columns(record):
    return {**{key: record[key] for key in OWN_FIELDS}, "aliases": orjson.dumps(record["aliases"]).decode()}


def to_input(row):
    return {**{key: row[key] for key in OWN_FIELDS}, "aliases": orjson.loads(row["aliases"])}


spec = ResourceSpec(
    name="actors",
    singular="actor",
    description="Actors: who takes part in events and takes a stance on claims, with their parent actor.",
    model=Actor,
    schema=ActorSchema(),
    input_schema=ActorInput,
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
    to_columns=to_columns,
    json_columns=("aliases",),
    to_input=to_input,
    parent_key="parent",
    filters=(
        FieldFilter("kind", Actor.kind, choices(vocab.ACTOR_KINDS, "Actor kind.")),
        FieldFilter(
            "country",
            Actor.country,
            MultiValue(
                fields.String(validate=validate.Regexp(r"^[A-Z]{2}$")),
                metadata={"description": "Country (ISO 3166-1 alpha-2)." + OR_NOTE},
            ),
        ),
        FieldFilter("parent", Actor.parent, slugs("Actors that belong to a parent actor (by actor id).")),
        RelationFilter("event", "events", slugs("Actors that take part in an event (by event id).")),
        RelationFilter("claim", "claims", slugs("Actors that take a stance on a claim (by claim id).")),
    ),
    relations={
        "events": Relation("events", "events", EventActor, EventActor.actor, EventActor.event, ("role",), owned=False),
        "claims": Relation(
            "claims", "claims", ClaimActor, ClaimActor.actor, ClaimActor.claim, ("stance",), owned=False
        ),
    },
    facets=(
        ColumnFacet("kind", Actor.kind),
        ColumnFacet("country", Actor.country),
        ColumnFacet("parent", Actor.parent, label=ParentActor.name, join=(ParentActor, Actor.parent == ParentActor.id)),
        LinkFacet("event", "events", label=Event.title),
        LinkFacet("claim", "claims", label=Claim.statement),
    ),
)
