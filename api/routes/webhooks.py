"""Webhook subscriptions: made, listed and deleted with an API key; delivered by `eventledger worker`."""

import re

from flask import g, request, url_for
from flask.views import MethodView
from werkzeug.exceptions import NotFound

from api.auth import require_scope
from api.changelog.webhooks import (
    create_subscription,
    delete_subscription,
    delivery_page,
    find_subscription,
    subscription_data,
    visible_subscriptions,
)
from api.web import API_PREFIX, SECURITY, ApiBlueprint, document_errors, older_page, older_page_start
from schemas.webhooks import (
    DeliveryListEnvelope,
    DeliveryQueryArgs,
    WebhookCreatedEnvelope,
    WebhookEnvelope,
    WebhookInput,
    WebhookListEnvelope,
    WebhookPayloadSchema,
)

PRIVATE = {"Cache-Control": "no-store"}
LOCATION_HEADER = {"description": "The new subscription's URL.", "schema": {"type": "string"}}
ID_PATTERN = re.compile(r"[0-9]{1,10}")
MAX_ID = 2**31 - 1  # the id columns' range: a larger number names nothing, rather than overflowing a query

WEBHOOK_DESCRIPTION = """Subscriptions to the dataset's changes, delivered as signed HTTP POSTs.

Every create, update and delete of a record that a subscription's `resources` and `kinds` match
is POSTed to its `url` by the delivery worker (`eventledger worker`), in change order, as JSON
(the `WebhookPayload` schema): `id` (the change id), `resource`, `record_id`, `version`, `kind`,
`changed_at`, `author`, `note`, `fields` (`{field: {from, to}}`), `subscription_id` and `delivery_id`.

Headers: `Content-Type: application/json`; `Eventledger-Event: <resource>.<kind>`;
`Eventledger-Delivery: <delivery id>` (a retry repeats it: dedupe on it); and
`Eventledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the
subscription's secret>`. Verify by recomputing the HMAC over the raw body, comparing in constant
time, and rejecting a `t` more than a few minutes old.

A 2xx answer within 10 seconds is a delivery. Anything else (another status, a redirect, a
refused connection, a timeout) is retried with exponential backoff (30 s doubling, with jitter)
up to 8 attempts in all, then the delivery is marked failed. Every attempt is listed under
`/api/v1/webhooks/{id}/deliveries`. A subscription hears only of changes made after it is created.
"""

blueprint = ApiBlueprint("webhooks", "webhooks", url_prefix=f"{API_PREFIX}/webhooks", description=WEBHOOK_DESCRIPTION)

WEBHOOK_PROBLEMS = {
    401: "No API key, or one that is not valid or was revoked (`WWW-Authenticate: Bearer`).",
    403: "The key's scope is too narrow: this needs read-write.",
    404: "No subscription with this id is visible to this key.",
    400: "A query parameter is unknown or invalid; `errors` names it.",
    422: "The body is invalid; `errors` names each field (location `json`).",
}


def documented(*statuses, descriptions=None):
    """Bearer security and the problem+json errors of one operation (`descriptions` override, by status)."""

    def decorate(view):
        view = document_errors(
            blueprint, *statuses, descriptions={**WEBHOOK_PROBLEMS, **(descriptions or {})}, conditional=False
        )(view)
        return blueprint.doc(security=SECURITY)(view)

    return decorate


def subscription_or_404(subscription_id, own_only=False):
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    number = int(subscription_id) if ID_PATTERN.fullmatch(subscription_id) else None
    row = None
    if number is not None and 0 < number <= MAX_ID:
        row = find_subscription(g.api_key, number, own_only=own_only)
    if row is None:
        raise NotFound(f"No webhook subscription with id '{subscription_id}'.")
    return row


# What a new subscription's answer leads to (OpenAPI links): the subscription, its deliveries, its deletion.
SUBSCRIPTION_LINKS = {
    operation: {"operationId": operation, "parameters": {"subscription_id": "$response.body#/data/id"}}
    for operation in ("getWebhook", "listWebhookDeliveries", "deleteWebhook")
}


@blueprint.route("")
class Webhooks(MethodView):
    @require_scope("read-write")
    @blueprint.arguments(WebhookInput, location="json", error_status_code=422)
    @blueprint.response(201, WebhookCreatedEnvelope, headers={"Location": LOCATION_HEADER})
    @blueprint.doc(operationId="createWebhook", responses={201: {"links": SUBSCRIPTION_LINKS}})
    @documented(400, 401, 403, 422, descriptions={400: "The body is not JSON."})
    def post(self, body):
        """Subscribe a URL to changes

        The answer holds the signing `secret`, which is never shown again.
        """
        row, secret = create_subscription(g.api_key, **body)
        data = {**subscription_data(row), "secret": secret}
        location = url_for("webhooks.Webhook", subscription_id=str(row.id))
        return {"data": data}, {**PRIVATE, "Location": location}

    @require_scope("read-write")
    @blueprint.response(200, WebhookListEnvelope)
    @blueprint.doc(operationId="listWebhooks")
    @documented(401, 403)
    def get(self):
        """List subscriptions

        The key's own subscriptions; an admin key sees everyone's.
        """
        rows = visible_subscriptions(g.api_key)
        return {"data": [subscription_data(row) for row in rows]}, PRIVATE


@blueprint.route("/<string:subscription_id>")
class Webhook(MethodView):
    @require_scope("read-write")
    @blueprint.response(200, WebhookEnvelope)
    @blueprint.doc(operationId="getWebhook")
    @documented(401, 403, 404)
    def get(self, subscription_id):
        """Get one subscription (without its secret)"""
        return {"data": subscription_data(subscription_or_404(subscription_id))}, PRIVATE

    @require_scope("read-write")
    @blueprint.response(204)
    @blueprint.doc(operationId="deleteWebhook")
    @documented(401, 403, 404)
    def delete(self, subscription_id):
        """Delete a subscription, with its pending deliveries and their history"""
        delete_subscription(subscription_or_404(subscription_id))
        return "", PRIVATE


@blueprint.route("/<string:subscription_id>/deliveries")
class Deliveries(MethodView):
    @require_scope("read-write")
    @blueprint.arguments(DeliveryQueryArgs, location="query")
    @blueprint.response(200, DeliveryListEnvelope)
    @blueprint.doc(operationId="listWebhookDeliveries")
    @documented(400, 401, 403, 404)
    def get(self, args, subscription_id):
        """List a subscription's deliveries, newest first, with every attempt

        Only the subscriber's own key sees them.
        """
        row = subscription_or_404(subscription_id, own_only=True)
        deliveries, next_before = delivery_page(row, args["limit"], older_page_start(args), args.get("status"))
        next_cursor, next_link = older_page(next_before)
        body = {
            "data": deliveries,
            "meta": {"limit": args["limit"], "next_cursor": next_cursor, "next_before": next_before},
            "links": {"self": request.url, "next": next_link},
        }
        return body, PRIVATE


def register(api):
    """The blueprint, and the payload schema receivers get."""
    api.spec.components.schema("WebhookPayload", schema=WebhookPayloadSchema)
    api.register_blueprint(blueprint)
