"""Claims: statements under uncertainty, with status, credibility, who asserts or denies them, and sources."""

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
from api.catalog.excerpts import excerpt_relation
from api.tables import Actor, Claim, ClaimActor, ClaimEvent, ClaimSource, Event, Source
from schemas import vocabulary as vocab
from schemas.envelopes import ClaimDetailSchema, ClaimListSchema
from schemas.query import choices, slugs
from schemas.records import ClaimInput, ClaimSchema

OWN_FIELDS = ("statement", "status", "status_rationale", "credibility", "credibility_rationale")


def own_fields(record):
    return {key: record[key] for key in OWN_FIELDS}


spec = ResourceSpec(
    name="claims",
    singular="claim",
    description="Claims: one-sentence statements with a status (confirmed ... refuted), an Admiralty "
    "credibility grade, the actors' stances and the sources' stances with verbatim excerpts.",
    model=Claim,
    schema=ClaimSchema(),
    input_schema=ClaimInput,
    list_schema=ClaimListSchema,
    detail_schema=ClaimDetailSchema,
    summary_fields=("id", "statement", "status", "credibility"),
    text_columns=(Claim.statement, Claim.status_rationale, Claim.credibility_rationale),
    sort_keys={
        "credibility": SortKey(Claim.credibility),
        "status": SortKey(Claim.status),
        "statement": SortKey(Claim.statement),
        **record_sort_keys(Claim),
    },
    default_sort="id",
    to_columns=own_fields,
    to_input=own_fields,
    filters=(
        FieldFilter("status", Claim.status, choices(vocab.CLAIM_STATUSES, "Claim status.")),
        FieldFilter(
            "credibility",
            Claim.credibility,
            choices(vocab.CREDIBILITY_GRADES, "Admiralty credibility grade, 1-6."),
            normalise="int",
        ),
        RelationFilter(
            "actor",
            "actors",
            slugs("Claims an actor takes a stance on (by actor id)."),
            attribute="stance",
            attribute_field=choices(vocab.CLAIM_ACTOR_STANCES, "Actor stance; with `actor`, the stance of that actor."),
        ),
        RelationFilter("event", "events", slugs("Claims that belong to an event (by event id).")),
        RelationFilter("source", "sources", slugs("Claims a source bears on (by source id).")),
    ),
    relations={
        "actors": Relation("actors", "actors", ClaimActor, ClaimActor.claim, ClaimActor.actor, ("stance",)),
        "sources": excerpt_relation("sources", "sources", ClaimSource, ClaimSource.claim, ClaimSource.source),
        "events": Relation("events", "events", ClaimEvent, ClaimEvent.claim, ClaimEvent.event, bare=True),
    },
    facets=(
        ColumnFacet("status", Claim.status),
        ColumnFacet("credibility", Claim.credibility),
        LinkFacet("actor", "actors", label=Actor.name),
        LinkFacet("stance", "actors", attribute="stance"),
        LinkFacet("source", "sources", label=Source.title),
        LinkFacet("event", "events", label=Event.title),
    ),
)
