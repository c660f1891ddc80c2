"""Claims: statements under uncertainty, with status, credibility, who asserts or denies them, and sources."""

from api.catalog.declarations import FieldFilter, Relation, RelationFilter, ResourceSpec, SortKey, record_sort_keys
from api.tables import Claim, ClaimActor, ClaimEvent, ClaimSource
from schemas.envelopes import ClaimDetailSchema, ClaimListSchema
from schemas.query import ClaimQueryArgs
from schemas.records import ClaimSchema

spec = ResourceSpec(
    name="claims",
    singular="claim",
    description="Claims: one-sentence statements with a status (confirmed ... refuted), an Admiralty "
    "credibility grade, the actors' stances and the sources' stances with verbatim excerpts.",
    model=Claim,
    schema=ClaimSchema(),
    list_args=ClaimQueryArgs,
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
    filters=(
        FieldFilter("status", Claim.status),
        FieldFilter("credibility", Claim.credibility, normalise="int"),
        RelationFilter("actor", "actors", attribute_param="stance", attribute="stance"),
        RelationFilter("event", "events"),
        RelationFilter("source", "sources"),
    ),
    relations={
        "actors": Relation("actors", "actors", ClaimActor, ClaimActor.claim, ClaimActor.actor, ("stance",)),
        "sources": Relation(
            "sources", "sources", ClaimSource, ClaimSource.claim, ClaimSource.source, ("stance", "excerpt")
        ),
        "events": Relation("events", "events", ClaimEvent, ClaimEvent.claim, ClaimEvent.event),
    },
)
