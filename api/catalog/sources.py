"""Sources: the documents the dataset rests on, graded for reliability."""

from api.catalog.declarations import FieldFilter, Relation, RelationFilter, ResourceSpec, SortKey, record_sort_keys
from api.tables import ClaimSource, EventSource, Source
from schemas.envelopes import SourceDetailSchema, SourceListSchema
from schemas.query import SourceQueryArgs
from schemas.records import SourceSchema

spec = ResourceSpec(
    name="sources",
    singular="source",
    description="Sources: the documents every record traces to, with an Admiralty reliability grade; "
    "a source known only second-hand names the source that reports it.",
    model=Source,
    schema=SourceSchema(),
    list_args=SourceQueryArgs,
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
    filters=(
        FieldFilter("type", Source.type),
        FieldFilter("publisher", Source.publisher, normalise="lower"),
        FieldFilter("reliability", Source.reliability),
        RelationFilter("event", "events"),
        RelationFilter("claim", "claims"),
    ),
    relations={
        "events": Relation(
            "events", "events", EventSource, EventSource.source, EventSource.event, ("excerpt",), owned=False
        ),
        "claims": Relation(
            "claims", "claims", ClaimSource, ClaimSource.source, ClaimSource.claim, ("stance", "excerpt"), owned=False
        ),
    },
)
