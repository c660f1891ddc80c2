"""The timeline's query parameters and response: events and claims grouped into periods of their dates."""

from marshmallow import fields, validate

from schemas import vocabulary as vocab
from schemas.query import QueryArgs
from schemas.records import ClaimSchema, EventSchema, StrictSchema

INTERVALS = ("day", "month", "year")
DEFAULT_PER_PERIOD = 20
MAX_PER_PERIOD = 100


def timeline_query_args(event_filters):
    """The timeline's parameters: the events list's filters (`event_filters`, by name), then its own."""
    return QueryArgs.from_dict(
        {
            **event_filters,
            "interval": fields.String(
                load_default="month",
                validate=validate.OneOf(INTERVALS),
                metadata={
                    "description": "Group by day, month or year (default month). An event sits in the period of its "
                    "date cut to the coarser of this and its own precision: with `day`, a month-precision event "
                    "sits in its month. `XXXX-MM` events (year unstated) keep their month period at every interval."
                },
            ),
            "per_period": fields.Integer(
                load_default=DEFAULT_PER_PERIOD,
                validate=validate.Range(0, MAX_PER_PERIOD),
                metadata={
                    "description": f"How many events and how many claims to list per period, 0-{MAX_PER_PERIOD} "
                    f"(default {DEFAULT_PER_PERIOD}); the counts always cover them all. 0 gives the counts alone."
                },
            ),
        },
        name="TimelineQueryArgs",
    )


class TimelineTotalsSchema(StrictSchema):
    periods = fields.Integer(required=True, metadata={"description": "How many periods the timeline has."})
    events = fields.Integer(required=True, metadata={"description": "How many events match the filters."})
    claims = fields.Integer(
        required=True,
        metadata={"description": "How many distinct claims belong to them (a claim may sit in several periods)."},
    )


class TimelineMetaSchema(StrictSchema):
    interval = fields.String(required=True, validate=validate.OneOf(INTERVALS))
    per_period = fields.Integer(required=True, metadata={"description": "The cap on items per period."})
    totals = fields.Nested(TimelineTotalsSchema, required=True)
    undated_events = fields.Integer(
        required=True, metadata={"description": "How many matching events have no date (the period null)."}
    )
    dataset_revision = fields.Integer(
        required=True, metadata={"description": "Revision of the dataset the timeline was read from."}
    )


class TimelineLinksSchema(StrictSchema):
    self = fields.String(required=True, metadata={"description": "This timeline."})


def _summary(record_schema, names, name):
    return StrictSchema.from_dict({field: record_schema._declared_fields[field] for field in names}, name=name)


def _group(item_schema, name, what):
    return StrictSchema.from_dict(
        {
            "count": fields.Integer(required=True, metadata={"description": f"How many {what} sit in the period."}),
            "items": fields.List(
                fields.Nested(item_schema),
                required=True,
                metadata={"description": "The first `per_period` of them, in date order, then by id."},
            ),
        },
        name=name,
    )


def timeline_schema(event_fields, claim_fields):
    """The response, its summaries made of the fields the resources summarise themselves by."""
    events = _group(_summary(EventSchema, event_fields, "TimelineEvent"), "TimelineEvents", "matching events")
    claims = _group(
        _summary(ClaimSchema, claim_fields, "TimelineClaim"), "TimelineClaims", "claims of the matching events"
    )
    period = StrictSchema.from_dict(
        {
            "period": fields.String(
                required=True,
                allow_none=True,
                metadata={
                    "description": "The period as a partial date (`2024`, `2024-09`, `2024-09-25`), `XXXX-MM` for a "
                    "month whose year is unstated, or null for the undated events."
                },
            ),
            "precision": fields.String(
                required=True,
                allow_none=True,
                validate=validate.OneOf(list(vocab.DATE_PRECISIONS)),
                metadata={"description": "The period's precision: year, month or day; null for the undated."},
            ),
            "start": fields.String(
                required=True, allow_none=True, metadata={"description": "First day of the period; null if unknown."}
            ),
            "end": fields.String(
                required=True, allow_none=True, metadata={"description": "Last day of the period; null if unknown."}
            ),
            "events": fields.Nested(events, required=True),
            "claims": fields.Nested(claims, required=True),
        },
        name="TimelinePeriod",
    )
    return StrictSchema.from_dict(
        {
            "data": fields.List(
                fields.Nested(period),
                required=True,
                metadata={
                    "description": "The periods in chronological order, a coarser period before the finer ones it "
                    "holds (`2024`, `2024-09`, `2024-09-01`, `2024-10`), then the `XXXX-MM` periods, then null."
                },
            ),
            "meta": fields.Nested(TimelineMetaSchema, required=True),
            "links": fields.Nested(TimelineLinksSchema, required=True),
        },
        name="Timeline",
    )
