"""Webhook subscriptions, their deliveries, and the payload a receiver gets."""

from urllib.parse import urlsplit

from marshmallow import ValidationError, fields, validate

from api.catalog import RESOURCE_NAMES
from api.changelog import targets
from schemas.envelopes import ListLinksSchema
from schemas.query import MAX_LIMIT, QueryArgs, choices, older_page_fields, page_size
from schemas.records import StrictSchema, UtcDateTime

WEBHOOK_KINDS = ("create", "update", "delete")
DELIVERY_STATUSES = {
    "pending": "Not delivered yet: waiting for its first attempt or for a retry at `next_attempt_at`.",
    "delivered": "The receiver answered 2xx.",
    "failed": "Every attempt failed; no more will be made.",
}
MAX_URL_LENGTH = 2000


def validate_webhook_url(value):
    """http or https with a host, no credentials, and no address of the server's own network
    (api/changelog/targets.py); nothing else can be POSTed to."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError as error:
        raise ValidationError(f"Not a valid URL: {error}.") from error
    if parts.scheme not in ("http", "https"):
        raise ValidationError("Must be an http or https URL.")
    if not host:
        raise ValidationError("Must name a host.")
    if any(character.isspace() for character in value):
        raise ValidationError("Must not contain whitespace.")
    no_control_characters(value)
    try:
        targets.check_url(value)
    except targets.TargetRefused as error:
        raise ValidationError(str(error)) from error


def no_control_characters(value):
    # PostgreSQL refuses a NUL in text, and no URL or note needs one.
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise ValidationError("Must not contain control characters.")


def _unique(values):
    if len(set(values)) != len(values):
        raise ValidationError("Must not repeat a value.")


class WebhookInput(StrictSchema):
    url = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_URL_LENGTH), validate_webhook_url],
        metadata={"description": "Where each change is POSTed: an http or https URL."},
    )
    resources = fields.List(
        fields.String(validate=validate.OneOf(RESOURCE_NAMES)),
        load_default=lambda: list(RESOURCE_NAMES),
        validate=[validate.Length(min=1), _unique],
        metadata={"description": "Which resources' changes to send (default all)."},
    )
    kinds = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_KINDS)),
        load_default=lambda: list(WEBHOOK_KINDS),
        validate=[validate.Length(min=1), _unique],
        metadata={"description": "Which kinds of change to send: create, update, delete (default all)."},
    )
    description = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=500), no_control_characters],
        metadata={"description": "A note for yourself: what the subscription is for."},
    )


class WebhookSchema(StrictSchema):
    id = fields.Integer(required=True, metadata={"description": "The subscription's id."})
    url = fields.String(required=True, metadata={"description": "Where changes are POSTed."})
    resources = fields.List(
        fields.String(validate=validate.OneOf(RESOURCE_NAMES)),
        required=True,
        metadata={"description": "The resources whose changes are sent."},
    )
    kinds = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_KINDS)),
        required=True,
        metadata={"description": "The kinds of change sent."},
    )
    description = fields.String(allow_none=True, required=True, metadata={"description": "The subscriber's note."})
    created_at = UtcDateTime(
        required=True,
        metadata={"description": "When it was made (UTC); only changes after it are sent."},
    )


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(
        required=True,
        metadata={
            "description": "The signing secret (`whsec_...`). Shown only in this response: keep it to verify "
            "`Eventledger-Signature`."
        },
    )


class WebhookEnvelope(StrictSchema):
    data = fields.Nested(WebhookSchema, required=True)


class WebhookCreatedEnvelope(StrictSchema):
    data = fields.Nested(WebhookCreatedSchema, required=True)


class WebhookListEnvelope(StrictSchema):
    data = fields.List(fields.Nested(WebhookSchema), required=True)


class AttemptSchema(StrictSchema):
    number = fields.Integer(required=True, metadata={"description": "1 for the first try, 2 for the first retry..."})
    started_at = UtcDateTime(required=True, metadata={"description": "When the request was sent (UTC)."})
    duration_ms = fields.Integer(required=True, metadata={"description": "How long the receiver took, in ms."})
    status_code = fields.Integer(
        allow_none=True, required=True, metadata={"description": "The receiver's HTTP status; null if none came."}
    )
    error = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Why no answer came (connection refused, timeout...); null when one did."},
    )
    succeeded = fields.Boolean(required=True, metadata={"description": "Whether the answer was 2xx."})


class DeliverySchema(StrictSchema):
    id = fields.Integer(required=True, metadata={"description": "The delivery id, sent as `Eventledger-Delivery`."})
    change_id = fields.Integer(required=True, metadata={"description": "The change delivered (its feed position)."})
    event = fields.String(
        required=True, metadata={"description": "`<resource>.<kind>`, as sent in `Eventledger-Event`."}
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(list(DELIVERY_STATUSES)),
        metadata={"description": "; ".join(f"`{name}`: {text}" for name, text in DELIVERY_STATUSES.items())},
    )
    attempts = fields.Integer(required=True, metadata={"description": "Attempts made so far."})
    next_attempt_at = UtcDateTime(
        allow_none=True, required=True, metadata={"description": "Pending only: when the next attempt is due (UTC)."}
    )
    delivered_at = UtcDateTime(
        allow_none=True, required=True, metadata={"description": "When the receiver accepted it (UTC)."}
    )
    created_at = UtcDateTime(required=True, metadata={"description": "When it was queued (UTC)."})
    attempt_log = fields.List(
        fields.Nested(AttemptSchema), required=True, metadata={"description": "Every attempt, first first."}
    )


class DeliveryListMetaSchema(StrictSchema):
    limit = fields.Integer(required=True, metadata={"description": "The page size asked for."})
    next_cursor = fields.String(
        allow_none=True, required=True, metadata={"description": "Pass as `cursor` for the next (older) page."}
    )
    next_before = fields.Integer(
        allow_none=True, required=True, metadata={"description": "Pass as `before` for the next (older) page."}
    )


class DeliveryListEnvelope(StrictSchema):
    data = fields.List(fields.Nested(DeliverySchema), required=True)
    meta = fields.Nested(DeliveryListMetaSchema, required=True)
    links = fields.Nested(ListLinksSchema, required=True)


DeliveryQueryArgs = QueryArgs.from_dict(
    {
        "limit": page_size(50, f"Page size, 1-{MAX_LIMIT}."),
        **older_page_fields("deliveries"),
        "status": choices(DELIVERY_STATUSES, "Only deliveries in this state."),
    },
    name="DeliveryQueryArgs",
)


class WebhookPayloadSchema(StrictSchema):
    """The JSON body POSTed to a subscriber for each change."""

    id = fields.Integer(required=True, metadata={"description": "The change id: its position in the changes feed."})
    resource = fields.String(
        required=True, validate=validate.OneOf(RESOURCE_NAMES), metadata={"description": "The record's resource."}
    )
    record_id = fields.String(required=True, metadata={"description": "The record's id."})
    version = fields.Integer(required=True, metadata={"description": "The record's version after the change."})
    kind = fields.String(
        required=True, validate=validate.OneOf(WEBHOOK_KINDS), metadata={"description": "create, update or delete."}
    )
    changed_at = fields.String(required=True, metadata={"description": "When it changed (RFC 3339, UTC)."})
    author = fields.String(required=True, metadata={"description": "Who changed it (the API key's name)."})
    note = fields.String(allow_none=True, required=True, metadata={"description": "The author's note, if any."})
    fields_ = fields.Dict(
        data_key="fields",
        required=True,
        metadata={"description": "`{field: {from, to}}` for every field that changed (a missing side is null)."},
    )
    subscription_id = fields.Integer(required=True, metadata={"description": "The subscription it is sent for."})
    delivery_id = fields.Integer(
        required=True, metadata={"description": "Same as `Eventledger-Delivery`: retries repeat it, so dedupe on it."}
    )
