"""Webhooks: subscriptions, the delivery queue and the worker that drains it.

Nothing is sent from a request. `Worker.run_once` first queues a `webhook_delivery` row for
every change past each subscription's cursor that matches its resources and kinds, then
claims due rows and POSTs each, signed, recording every attempt. Change ids are handed out in
commit order (api/changelog/transaction.py), so reading past the cursor never misses a change that commits
later, and a worker that was down catches up.
"""

import hashlib
import hmac
import http.client
import logging
import random
import secrets
import signal
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from peewee import JOIN, PostgresqlDatabase, chunked, fn

from api.auth import SCOPE_RANK
from api.changelog import targets
from api.db import database
from api.tables import ApiKey, Change, WebhookAttempt, WebhookDelivery, WebhookSubscription, utc_now

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "Eventledger-Signature"
DELIVERY_HEADER = "Eventledger-Delivery"
EVENT_HEADER = "Eventledger-Event"
USER_AGENT = "eventledger-webhooks/1"

SEND_TIMEOUT = 10  # seconds for the receiver to answer
MAX_ATTEMPTS = 8
BACKOFF_BASE = 30  # seconds before the 2nd attempt; doubles per attempt
BACKOFF_CAP = 6 * 3600
CLAIM_BATCH = 10
# Changes queued per subscription per pass: a worker back after a long outage catches up in
# bounded transactions instead of one that holds the queue's lock for minutes.
ENQUEUE_WINDOW = 5000
# A claim outlives the slowest batch (every send timing out), so no live worker loses its rows;
# a crashed worker's rows become claimable again once it has passed.
CLAIM_LEASE = timedelta(seconds=CLAIM_BATCH * (SEND_TIMEOUT + 5) + 60)


def _dumps(value):
    return orjson.dumps(value).decode()


def _is_postgres():
    return isinstance(database.obj, PostgresqlDatabase)


# Subscriptions ------------------------------------------------------------------------------------------------------


def create_subscription(api_key, url, resources, kinds, description=None):
    """A new subscription for `api_key`; returns (row, secret). It hears of changes from now on only."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with database.atomic():
        latest = Change.select(fn.MAX(Change.id)).scalar() or 0
        row = WebhookSubscription.create(
            api_key=api_key,
            url=url,
            resources=_dumps(list(resources)),
            kinds=_dumps(list(kinds)),
            description=description,
            secret=secret,
            cursor=latest,
            created_at=utc_now(),
        )
    return row, secret


def visible_subscriptions(api_key):
    """The subscriptions this key may see: its own, or every one for an admin key."""
    query = WebhookSubscription.select().order_by(WebhookSubscription.id)
    if SCOPE_RANK[api_key.scope] < SCOPE_RANK["admin"]:
        query = query.where(WebhookSubscription.api_key == api_key.id)
    return query


def find_subscription(api_key, subscription_id, own_only=False):
    """The subscription if this key may see it (own, or any for admin unless `own_only`), else None.

    Someone else's subscription is reported as missing, so ids reveal nothing.
    """
    query = WebhookSubscription.select().where(WebhookSubscription.id == subscription_id)
    if own_only or SCOPE_RANK[api_key.scope] < SCOPE_RANK["admin"]:
        query = query.where(WebhookSubscription.api_key == api_key.id)
    return query.first()


def delete_subscription(subscription):
    """Delete it with its queue and attempts (the foreign keys cascade)."""
    WebhookSubscription.delete().where(WebhookSubscription.id == subscription.id).execute()


def subscription_data(row):
    return {
        "id": row.id,
        "url": row.url,
        "resources": orjson.loads(row.resources),
        "kinds": orjson.loads(row.kinds),
        "description": row.description,
        "created_at": row.created_at,
    }


def delivery_page(subscription, limit, before=None, status=None):
    """Deliveries newest first, each with its attempts (two queries, whatever the page size).

    Returns (deliveries, next `before` or None).
    """
    query = (
        WebhookDelivery.select(WebhookDelivery, Change.id, Change.resource, Change.kind)
        .join(Change)
        .where(WebhookDelivery.subscription == subscription.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    if status:
        query = query.where(WebhookDelivery.status.in_(status))
    rows = list(query)
    more = len(rows) > limit
    rows = rows[:limit]
    attempts = {}
    if rows:
        for attempt in (
            WebhookAttempt.select()
            .where(WebhookAttempt.delivery.in_([row.id for row in rows]))
            .order_by(WebhookAttempt.delivery, WebhookAttempt.number)
        ):
            attempts.setdefault(attempt.delivery_id, []).append(
                {
                    "number": attempt.number,
                    "started_at": attempt.started_at,
                    "duration_ms": attempt.duration_ms,
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                    "succeeded": attempt.succeeded,
                }
            )
    deliveries = [
        {
            "id": row.id,
            "change_id": row.change_id,
            "event": f"{row.change.resource}.{row.change.kind}",
            "status": row.status,
            "attempts": row.attempts,
            "next_attempt_at": row.next_attempt_at if row.status == "pending" else None,
            "delivered_at": row.delivered_at,
            "created_at": row.created_at,
            "attempt_log": attempts.get(row.id, []),
        }
        for row in rows
    ]
    return deliveries, (rows[-1].id if more else None)


# Signing ------------------------------------------------------------------------------------------------------------


def sign(secret, timestamp, body):
    """The `Eventledger-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def payload(delivery_id, subscription_id, change):
    return orjson.dumps(
        {
            "id": change.id,
            "resource": change.resource,
            "record_id": change.record_id,
            "version": change.version,
            "kind": change.kind,
            "changed_at": change.changed_at.isoformat(timespec="microseconds") + "Z",
            "author": change.author,
            "note": change.note,
            "fields": change.changed_fields(),
            "subscription_id": subscription_id,
            "delivery_id": delivery_id,
        }
    )


def backoff(attempts, rng=random):
    """Seconds before the next try after `attempts` failed ones: 30 s doubling, capped, +-20 % jitter
    so that receivers that failed together are not retried in lockstep."""
    delay = min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP)
    return delay * rng.uniform(0.8, 1.2)


# Sending ------------------------------------------------------------------------------------------------------------


@dataclass
class SendResult:
    status_code: int | None
    error: str | None

    @property
    def ok(self):
        return self.status_code is not None and 200 <= self.status_code < 300


def http_send(url, body, headers, timeout=SEND_TIMEOUT):
    """POST `body` (to a public address only: api/changelog/targets.py); the answer's status code, or what
    went wrong in words for the subscriber, never the internals of the server or of its network."""
    try:
        return SendResult(targets.post(url, body, headers, timeout), None)
    except targets.TargetRefused as error:
        return SendResult(None, f"Not sent: {error}")
    except TimeoutError:
        return SendResult(None, f"No answer within {timeout} seconds.")
    except ssl.SSLError:
        return SendResult(None, "The TLS handshake failed (certificate or protocol).")
    except http.client.HTTPException:
        return SendResult(None, "The answer was not valid HTTP.")
    except OSError:
        return SendResult(None, "Could not connect to the receiver.")


# The worker ---------------------------------------------------------------------------------------------------------


def live_keys():
    """A revoked key's subscriptions fall silent: whoever lost the key's access loses its feed too."""
    return ApiKey.select(ApiKey.id).where(ApiKey.revoked_at.is_null())


def _now_from(clock):
    return datetime.fromtimestamp(clock(), UTC).replace(tzinfo=None)


class Worker:
    """Queues new changes and sends due deliveries. `clock` (unix seconds) and `send` are injectable for tests."""

    def __init__(self, clock=time.time, send=http_send, rng=None, batch=CLAIM_BATCH):
        self.clock = clock
        self.send = send
        self.rng = rng or random.Random()
        self.batch = batch
        self.stopping = threading.Event()

    def run_once(self):
        """Queue what is new, then send everything due; returns (queued, sent attempts)."""
        with database.connection_context():
            queued, behind = self.enqueue()
            while behind and not self.stopping.is_set():
                more, behind = self.enqueue()
                queued += more
            attempts = 0
            while not self.stopping.is_set():
                claimed = self.claim()
                if not claimed:
                    break
                for index, delivery in enumerate(claimed):
                    if self.stopping.is_set():
                        self.release(claimed[index:])
                        break
                    self.attempt(delivery)
                    attempts += 1
        return queued, attempts

    def stop_on_signals(self):
        """SIGTERM and SIGINT stop the loop once the delivery in flight is recorded (main thread only)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop())

    def run_forever(self, interval=2.0):
        """Pass after pass, `interval` seconds apart, until `stop()`."""
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception:  # a database hiccup must not end the worker; the next pass retries
                log.exception("webhook worker pass failed")
            self.stopping.wait(interval)

    def stop(self):
        self.stopping.set()

    def enqueue(self):
        """Queue a delivery for each new matching change of each subscription, in change order.

        Subscriptions are locked for the pass, so two workers never queue the same window
        twice (the unique (subscription, change) index would refuse it anyway). Returns
        (deliveries queued, whether a subscription is still more than a window behind).
        """
        now = _now_from(self.clock)
        queued, behind = 0, False
        with self._write_transaction():
            latest = Change.select(fn.MAX(Change.id)).scalar() or 0
            query = WebhookSubscription.select().where(
                (WebhookSubscription.cursor < latest) & WebhookSubscription.api_key.in_(live_keys())
            )
            if _is_postgres():
                query = query.order_by(WebhookSubscription.id).for_update()
            for subscription in query:
                upto = min(latest, subscription.cursor + ENQUEUE_WINDOW)
                matching = (
                    Change.select(Change.id)
                    .where(
                        (Change.id > subscription.cursor)
                        & (Change.id <= upto)
                        & Change.resource.in_(orjson.loads(subscription.resources))
                        & Change.kind.in_(orjson.loads(subscription.kinds))
                    )
                    .order_by(Change.id)
                )
                rows = [
                    {
                        "subscription": subscription.id,
                        "change": change_id,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for (change_id,) in matching.tuples()
                ]
                for chunk in chunked(rows, 500):  # under SQLite's limit of bound parameters per statement
                    WebhookDelivery.insert_many(chunk).on_conflict_ignore().execute()
                queued += len(rows)
                behind = behind or upto < latest
                WebhookSubscription.update(cursor=upto).where(WebhookSubscription.id == subscription.id).execute()
        return queued, behind

    def release(self, deliveries):
        """Give back claimed deliveries not tried (on stop), so another worker need not wait out the lease."""
        WebhookDelivery.update(claim_token=None, claimed_until=None).where(
            WebhookDelivery.id.in_([delivery.id for delivery in deliveries])
            & (WebhookDelivery.claim_token == deliveries[0].claim_token)
        ).execute()

    def _write_transaction(self):
        # SQLite: BEGIN IMMEDIATE takes the write lock up front, so two workers' passes run one after the other
        # (a deferred transaction that read first could not upgrade to write once another worker had written).
        return database.atomic() if _is_postgres() else database.atomic("IMMEDIATE")

    def claim(self):
        """Atomically take up to `batch` due deliveries for this worker; returns them with change and subscription.

        PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows without waiting.
        SQLite: one conditional UPDATE (SQLite runs one writer at a time) marks the rows with a
        token of our own, and only rows carrying it are ours.
        """
        now = _now_from(self.clock)
        token = uuid.uuid4().hex
        due = (
            (WebhookDelivery.status == "pending")
            & WebhookDelivery.subscription.in_(
                WebhookSubscription.select(WebhookSubscription.id).where(WebhookSubscription.api_key.in_(live_keys()))
            )
            & (WebhookDelivery.next_attempt_at <= now)
            & (WebhookDelivery.claimed_until.is_null() | (WebhookDelivery.claimed_until < now))
        )
        candidates = (
            WebhookDelivery.select(WebhookDelivery.id).where(due).order_by(WebhookDelivery.id).limit(self.batch)
        )
        if _is_postgres():
            candidates = candidates.for_update("FOR UPDATE SKIP LOCKED")
        with self._write_transaction():
            WebhookDelivery.update(claim_token=token, claimed_until=now + CLAIM_LEASE).where(
                WebhookDelivery.id.in_(candidates) & due
            ).execute()
        return list(
            WebhookDelivery.select(WebhookDelivery, Change, WebhookSubscription)
            .join(Change)
            .switch(WebhookDelivery)
            .join(WebhookSubscription, JOIN.INNER)
            .where(WebhookDelivery.claim_token == token)
            .order_by(WebhookDelivery.id)
        )

    def attempt(self, delivery):
        """Send one claimed delivery and record the attempt; schedules a retry or gives up after the last."""
        subscription, change = delivery.subscription, delivery.change
        body = payload(delivery.id, subscription.id, change)
        timestamp = int(self.clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
            DELIVERY_HEADER: str(delivery.id),
            EVENT_HEADER: f"{change.resource}.{change.kind}",
        }
        started_at = _now_from(self.clock)
        started = time.monotonic()
        result = self.send(subscription.url, body, headers)
        duration_ms = round((time.monotonic() - started) * 1000)
        number = delivery.attempts + 1
        update = {"attempts": number, "claim_token": None, "claimed_until": None}
        if result.ok:
            update.update(status="delivered", delivered_at=_now_from(self.clock), next_attempt_at=None)
        elif number >= MAX_ATTEMPTS:
            update.update(status="failed", next_attempt_at=None)
        else:
            update["next_attempt_at"] = _now_from(self.clock) + timedelta(seconds=backoff(number, self.rng))
        with database.atomic():
            # Only while the claim is still ours: a row whose lease ran out belongs to whoever took it next,
            # and a row deleted with its subscription mid-send has nothing left to record against.
            updated = (
                WebhookDelivery.update(update)
                .where((WebhookDelivery.id == delivery.id) & (WebhookDelivery.claim_token == delivery.claim_token))
                .execute()
            )
            if updated:
                WebhookAttempt.insert(
                    delivery=delivery.id,
                    number=number,
                    started_at=started_at,
                    duration_ms=duration_ms,
                    status_code=result.status_code,
                    error=result.error,
                    succeeded=result.ok,
                ).execute()
        outcome = "delivered" if result.ok else ("failed, giving up" if number >= MAX_ATTEMPTS else "will retry")
        log.info(
            "webhook delivery %s (change %s, %s.%s) attempt %s to %s: %s in %s ms, %s",
            delivery.id,
            change.id,
            change.resource,
            change.kind,
            number,
            subscription.url,
            result.status_code if result.status_code is not None else result.error,
            duration_ms,
            outcome,
        )
        return result
