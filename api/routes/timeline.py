"""GET /api/v1/timeline: the events list's matches and their claims, by day, month or year."""

from flask import request
from flask.views import MethodView

from api.catalog import claims, events
from api.reading.timeline import timeline
from api.web import (
    API_PREFIX,
    CACHE_CONTROL_HEADER,
    ETAG_HEADER,
    RATE_LIMIT_HEADERS,
    ApiBlueprint,
    caching_headers,
    conditional_get,
    current_etag,
    current_revision,
    document_errors,
    envelope_response,
)
from schemas.timeline import timeline_query_args, timeline_schema

# An event's summary says how precise its date is, which is what places it in a period.
EVENT_COLUMNS = tuple(dict.fromkeys((*events.spec.summary_fields, "date_precision")))
CLAIM_COLUMNS = claims.spec.summary_fields
# The events list's filters, search and `updated_since`, with the same meaning.
TimelineQueryArgs = timeline_query_args(
    {
        **events.spec.filter_parameters,
        **{name: events.spec.list_args._declared_fields[name] for name in ("q", "updated_since")},
    }
)

blueprint = ApiBlueprint(
    "timeline",
    "timeline",
    url_prefix=f"{API_PREFIX}/timeline",
    description="Events and their claims in date order, grouped by day, month or year, honouring each "
    "event's date precision.",
)


@blueprint.route("")
class Timeline(MethodView):
    @blueprint.arguments(TimelineQueryArgs(), location="query")
    @blueprint.response(
        200,
        timeline_schema(EVENT_COLUMNS, CLAIM_COLUMNS),
        headers={"ETag": ETAG_HEADER, "Cache-Control": CACHE_CONTROL_HEADER, **RATE_LIMIT_HEADERS},
    )
    @document_errors(blueprint, 400)
    @conditional_get()
    @blueprint.doc(operationId="getTimeline")
    def get(self, args):
        """Events and claims by period

        Takes the events list's filters. An event sits in the period of its date cut to the coarser
        of `interval` and its precision; a claim sits in the period of each matching event it belongs
        to, once per period. Each period counts all its events and claims and lists the first
        `per_period` of each.
        """
        revision = current_revision()
        result = timeline(events.spec, claims.spec, args, EVENT_COLUMNS, CLAIM_COLUMNS)
        meta = {
            "interval": args["interval"],
            "per_period": args["per_period"],
            "totals": {"periods": len(result.periods), "events": result.events, "claims": result.claims},
            "undated_events": result.undated_events,
            "dataset_revision": revision,
        }
        links = {"self": request.url}
        return envelope_response(result.periods, meta, links, headers=caching_headers(current_etag()))
