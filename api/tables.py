"""Peewee models: the four record types and the join tables that relate them.

Join tables carry the attributes of a relation (an actor's role in an event, a
source's verbatim excerpt) and a `position` that keeps the curated order.
"""

import secrets
from datetime import UTC, datetime

import orjson
from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    fn,
)

from api.db import database


def utc_now():
    return datetime.now(UTC).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Record(BaseModel):
    """Fields every top-level record has."""

    id = CharField(primary_key=True, max_length=80)
    created_at = DateTimeField(default=utc_now)
    updated_at = DateTimeField(default=utc_now, index=True)
    version = IntegerField(default=1)
    # The dataset revision of the record's last change: an If-Match naming a revision at least this
    # new was made after that change (api/writing/editing.py).
    revision = IntegerField(default=0)


class Source(Record):
    type = CharField(index=True)
    title = TextField()
    publisher = CharField(null=True, index=True)
    author = CharField(null=True)
    url = TextField(null=True)
    published = CharField(null=True)
    published_start = CharField(null=True, index=True)
    published_end = CharField(null=True)
    published_precision = CharField(null=True)
    published_note = TextField(null=True)
    language = CharField(null=True)
    reliability = CharField(index=True)
    reliability_rationale = TextField()
    # The source's own text, where the dataset holds it: its digest and description here, the text in
    # `SourceDocument` (kept out of this row, which filters and counts scan).
    document_sha256 = CharField(null=True)
    document_media_type = CharField(null=True)
    document_characters = IntegerField(null=True)
    document_retrieved = CharField(null=True)
    document_archive_url = TextField(null=True)
    reported_in = ForeignKeyField("self", null=True, backref="reports", on_delete="RESTRICT")
    access = CharField(null=True, index=True)


class SourceDocument(BaseModel):
    """The full text of a source, as stored; every excerpt citing the source (or a source reported in it)
    is located in it when it is written (`api.writing.checks.anchor_excerpts`)."""

    source = ForeignKeyField(Source, primary_key=True, column_name="id", on_delete="CASCADE")
    text = TextField()


class Actor(Record):
    name = CharField(index=True)
    kind = CharField(index=True)
    country = CharField(null=True, index=True)
    aliases = TextField(default="[]")
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT", index=True)
    description = TextField()


class Event(Record):
    title = TextField()
    summary = TextField()
    type = CharField(index=True)
    date = CharField(null=True)
    date_start = CharField(null=True)
    date_end = CharField(null=True)
    date_precision = CharField(null=True)
    date_approximate = BooleanField(default=False)
    date_note = TextField(null=True)
    place = CharField(null=True)
    country = CharField(null=True, index=True)
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)

    class Meta:
        # (id, dates): the events of a related list or a link filter are checked against a date window
        # in the index alone, without reading their rows.
        indexes = ((("date_start", "date_end"), False), (("id", "date_start", "date_end"), False))


# Expression indexes matching the date sort (undated events last either way), so a page of
# events in date order is read from an index instead of sorting the whole table.
for _name, _stand_in in (("event_date_ascending", "9999-99-99"), ("event_date_descending", "0000-00-00")):
    Event.add_index(Event.index(fn.COALESCE(Event.date_start, SQL(f"'{_stand_in}'")), Event.id, name=_name))


class Claim(Record):
    statement = TextField()
    status = CharField(index=True)
    status_rationale = TextField()
    credibility = IntegerField(index=True)
    credibility_rationale = TextField()


def stored_json_table(record_model):
    """A record's public JSON at its current version, rendered when it was written
    (api/catalog/representations.py), in a table of its own beside the record's: the record's rows stay
    narrow for the scans of filters and counts, and a page joins the JSON of its rows alone."""
    meta = type("Meta", (), {"table_name": f"{record_model._meta.table_name}_json"})
    fields = {
        "record": ForeignKeyField(record_model, primary_key=True, column_name="id", on_delete="CASCADE"),
        "json": TextField(),
        # The record's CSV row, its related records' labels left out (api/catalog/csv_rows.py).
        "csv": TextField(null=True),
        "Meta": meta,
    }
    return type(f"{record_model.__name__}Json", (BaseModel,), fields)


STORED_JSON = {model: stored_json_table(model) for model in (Source, Actor, Event, Claim)}


class EventDateCopies(BaseModel):
    """An event's link rows carry copies of the event's dates, so that "the events of actor X in date
    order" (a filter, a related list) walks an index of the link table in keyset order and stops after a
    page, instead of reading every event of X and sorting them (`api.reading.queries.LinkWalk`).

    `leading` marks the first link of one related record to the event (an actor in two roles has two
    links), so that a walk meets each event once; it is NULL only on a row written by a tool that wrote
    the table directly, which `api.migrations.create_tables` fills in. `Relation.replace` and
    `Relation.copy_owner_columns` keep the copies.
    """

    date_start = CharField(null=True)
    date_end = CharField(null=True)
    leading = BooleanField(null=True)


EVENT_DATE_COPIES = ("date_start", "date_end")
# The link rows' columns that serve the read path alone: not data, so not in the data package.
READ_PATH_COLUMNS = (*EVENT_DATE_COPIES, "leading")


def declared_unique_indexes(model):
    """The column tuples of a model's unique indexes declared in its Meta (not the expression indexes added later)."""
    return [index[0] for index in model._meta.indexes if isinstance(index, tuple) and index[1]]


# Each join table is indexed from both sides: (owner, related) for a record's links, (related, owner) so
# that "records linked to X" (a filter, a related list) is read from the index alone.
class EventActor(EventDateCopies):
    event = ForeignKeyField(Event, on_delete="CASCADE")
    actor = ForeignKeyField(Actor, on_delete="RESTRICT", index=True)
    role = CharField()
    position = IntegerField()

    class Meta:
        indexes = ((("event", "actor", "role"), True), (("actor", "role"), False), (("actor", "event"), False))


class AnchoredExcerpt(BaseModel):
    """A source link's excerpt as located in the document that holds it: the columns of its W3C Web Annotation
    target. `target_source` is the source whose document holds the text (the linked source, or the one it is
    reported in), `target_start`/`target_end` its TextPositionSelector, the prefix and suffix its
    TextQuoteSelector's; `occurrence` says which occurrence of the excerpt is meant."""

    stance = CharField(null=True)
    occurrence = IntegerField(null=True)
    target_source = CharField(null=True, index=True)
    target_start = IntegerField(null=True)
    target_end = IntegerField(null=True)
    target_prefix = TextField(null=True)
    target_suffix = TextField(null=True)


ANCHOR_COLUMNS = ("target_source", "target_start", "target_end", "target_prefix", "target_suffix")


class EventSource(EventDateCopies, AnchoredExcerpt):
    event = ForeignKeyField(Event, on_delete="CASCADE")
    source = ForeignKeyField(Source, on_delete="RESTRICT", index=True)
    excerpt = TextField()
    position = IntegerField()

    class Meta:
        indexes = ((("event", "source", "position"), True), (("source", "event"), False))


# The walk's indexes: the related record, then the event's date sort in either direction (undated last both
# ways, as `event_date_ascending`), then the event id; the dates and `leading` ride along so that a date
# window and the one-link-per-event check are read from the index alone.
for _model, _related in ((EventActor, EventActor.actor), (EventSource, EventSource.source)):
    for _direction, _stand_in in (("ascending", "9999-99-99"), ("descending", "0000-00-00")):
        _model.add_index(
            _model.index(
                _related,
                fn.COALESCE(_model.date_start, SQL(f"'{_stand_in}'")),
                _model.event,
                _model.date_start,
                _model.date_end,
                _model.leading,
                name=f"{_model._meta.table_name}_by_date_{_direction}",
            )
        )
    # Rows still to be filled (`create_tables` looks for them at every start): an empty index, not a scan.
    _model.add_index(
        _model.index(_model.leading, name=f"{_model._meta.table_name}_unfilled").where(_model.leading.is_null())
    )


class ClaimActor(BaseModel):
    claim = ForeignKeyField(Claim, on_delete="CASCADE")
    actor = ForeignKeyField(Actor, on_delete="RESTRICT", index=True)
    stance = CharField()
    position = IntegerField()

    class Meta:
        indexes = ((("claim", "actor", "stance"), True), (("actor", "stance"), False), (("actor", "claim"), False))


class ClaimEvent(BaseModel):
    claim = ForeignKeyField(Claim, on_delete="CASCADE")
    event = ForeignKeyField(Event, on_delete="RESTRICT", index=True)
    position = IntegerField()

    class Meta:
        indexes = ((("claim", "event"), True), (("event", "claim"), False))


class ClaimSource(AnchoredExcerpt):
    claim = ForeignKeyField(Claim, on_delete="CASCADE")
    source = ForeignKeyField(Source, on_delete="RESTRICT", index=True)
    excerpt = TextField()
    position = IntegerField()

    class Meta:
        indexes = ((("claim", "source", "position"), True), (("source", "claim"), False))


class DatasetState(BaseModel):
    """A single row whose `revision` grows with every change to the dataset.

    Every list and detail ETag derives from it, so a conditional GET is answered
    with one primary-key lookup and no query of the data itself.
    """

    id = IntegerField(primary_key=True)
    revision = IntegerField(default=0)
    changed_at = DateTimeField(default=utc_now)
    # The fingerprint of the schemas the records' stored JSON was rendered with.
    representations = CharField(null=True)
    # {resource: the revision of its last change}: what a count of one resource's records depends on.
    resource_revisions = TextField(default="{}")
    # Signs cursors when CURSOR_SECRET is not set: made at random once, found by every server of the database.
    cursor_secret = TextField(null=True)
    # The version of the schema (api/migrations.py SCHEMA_VERSION) the database was made or last migrated to.
    schema_version = IntegerField(null=True)


class Change(BaseModel):
    """One create, update or delete of a record (api/changelog/transaction.py); `id` is its feed position."""

    id = AutoField()
    resource = CharField()
    record_id = CharField(max_length=80)
    kind = CharField()
    version = IntegerField()
    changed_at = DateTimeField(default=utc_now)
    fields = TextField()
    author = CharField()
    note = TextField(null=True)

    class Meta:
        indexes = ((("resource", "record_id", "id"), False),)

    def changed_fields(self):
        return orjson.loads(self.fields)


class ApiKey(BaseModel):
    """A key for the write API: only a prefix and a hash are kept (api/auth.py)."""

    id = AutoField()
    name = CharField()
    prefix = CharField(unique=True)
    key_hash = CharField()
    scope = CharField()
    created_at = DateTimeField(default=utc_now)
    revoked_at = DateTimeField(null=True)


class WebhookSubscription(BaseModel):
    """A URL told about every new change of the chosen resources and kinds (api/changelog/webhooks.py).

    `secret` is kept as given out because signing needs it; the API shows it only once.
    `cursor` is the last Change id already queued for this subscription: the worker
    queues from there, so nothing is lost while it is down.
    """

    id = AutoField()
    api_key = ForeignKeyField(ApiKey, backref="webhooks", on_delete="CASCADE")
    url = TextField()
    resources = TextField()
    kinds = TextField()
    description = TextField(null=True)
    secret = CharField()
    cursor = IntegerField()
    created_at = DateTimeField(default=utc_now)


class WebhookDelivery(BaseModel):
    """One change to send to one subscription: pending until a 2xx (delivered) or the last attempt (failed).

    A worker claims a row by setting `claim_token` and a lease (`claimed_until`); a worker that dies
    mid-send leaves a lease that expires, and the row is claimed again.
    """

    id = AutoField()
    subscription = ForeignKeyField(WebhookSubscription, backref="deliveries", on_delete="CASCADE")
    change = ForeignKeyField(Change, on_delete="CASCADE")
    status = CharField(default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    claim_token = CharField(null=True)
    claimed_until = DateTimeField(null=True)
    created_at = DateTimeField(default=utc_now)
    delivered_at = DateTimeField(null=True)

    class Meta:
        table_name = "webhook_delivery"
        indexes = (
            (("subscription", "change"), True),
            (("status", "next_attempt_at"), False),
        )


class WebhookAttempt(BaseModel):
    """One try at sending a delivery: its answer's status code, or the error when there was none."""

    id = AutoField()
    delivery = ForeignKeyField(WebhookDelivery, backref="attempt_rows", on_delete="CASCADE")
    number = IntegerField()
    started_at = DateTimeField()
    duration_ms = IntegerField()
    status_code = IntegerField(null=True)
    error = TextField(null=True)
    succeeded = BooleanField()

    class Meta:
        indexes = ((("delivery", "number"), True),)


class IdempotentRequest(BaseModel):
    """The first response to a POST sent with an Idempotency-Key, replayed to its retries for a day.

    Keys are scoped per API key (`api_key` is the ApiKey id); `fingerprint` hashes what was asked,
    so the same key with another request is refused instead of answered with the first result.
    """

    id = AutoField()
    api_key = IntegerField()
    key = CharField(max_length=255)
    fingerprint = CharField()
    status = IntegerField()
    headers = TextField()
    body = TextField()
    created_at = DateTimeField(default=utc_now, index=True)

    class Meta:
        indexes = ((("api_key", "key"), True),)


CHANGE_KINDS = ("create", "update", "delete")
RECORD_MODELS = (Source, Actor, Event, Claim)
JOIN_MODELS = (EventActor, EventSource, ClaimActor, ClaimEvent, ClaimSource)
WEBHOOK_MODELS = (WebhookSubscription, WebhookDelivery, WebhookAttempt)
ALL_MODELS = (
    *RECORD_MODELS,
    SourceDocument,
    *STORED_JSON.values(),
    *JOIN_MODELS,
    DatasetState,
    Change,
    ApiKey,
    IdempotentRequest,
    *WEBHOOK_MODELS,
)


def dataset_revision():
    """The current revision: every conditional GET asks this first, so it skips peewee's query builder."""
    row = database.execute_sql(f"SELECT revision FROM {DatasetState._meta.table_name} WHERE id = 1").fetchone()
    return row[0] if row else 0


def dataset_version(revision):
    """The citable label of a revision: in the Dataset-Version header, export file names and the data package."""
    return f"r{revision}"


def dataset_state():
    """(revision, {resource: revision of its last change}) in one lookup of the one row."""
    table = DatasetState._meta.table_name
    row = database.execute_sql(f"SELECT revision, resource_revisions FROM {table} WHERE id = 1").fetchone()
    return (row[0], orjson.loads(row[1] or "{}")) if row else (0, {})


def stored_cursor_secret():
    """The database's own cursor secret, made now (32 random bytes) if it has none: once, whichever
    server process asks first, as the update only fills an empty one."""
    secret = DatasetState.select(DatasetState.cursor_secret).where(DatasetState.id == 1).scalar()
    if secret is None:
        made = secrets.token_urlsafe(32)
        with database.atomic():
            DatasetState.insert(id=1, revision=0).on_conflict_ignore().execute()
            DatasetState.update(cursor_secret=made).where(
                (DatasetState.id == 1) & DatasetState.cursor_secret.is_null()
            ).execute()
        secret = DatasetState.select(DatasetState.cursor_secret).where(DatasetState.id == 1).scalar()
    return secret


def bump_dataset_revision(resources=()):
    """The next revision, inside the write transaction (its lock held): `resources` are those it changed."""
    revision, resource_revisions = dataset_state()
    resource_revisions.update(dict.fromkeys(resources, revision + 1))
    DatasetState.update(
        revision=revision + 1, changed_at=utc_now(), resource_revisions=orjson.dumps(resource_revisions).decode()
    ).where(DatasetState.id == 1).execute()
