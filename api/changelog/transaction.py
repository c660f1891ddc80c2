"""The change log: one row per create, update and delete of a record, in commit order.

It is at once the changes feed (`Change.id` is the feed position), each record's history
(the rows of one resource and id) and the source of webhook deliveries. A change is
recorded in the same transaction as the write it describes, and writes are serialised
(`write_transaction`), so ids are handed out in commit order and a poller reading past
the last id it saw can never miss a change that commits later with a smaller id.
"""

import threading
from collections import defaultdict
from contextlib import contextmanager

import orjson
from peewee import PostgresqlDatabase

from api.catalog.representations import store_representations
from api.db import database
from api.tables import CHANGE_KINDS, Change, bump_dataset_revision, dataset_revision, utc_now

# Any fixed number: every write transaction of every process takes this one PostgreSQL lock.
_SQLITE_WRITERS = threading.RLock()  # re-entrant: a write may run inside another
WRITE_LOCK = 0x6576656E74  # "event"


def field_changes(before, after):
    """{name: {"from": old, "to": new}} for every field whose value differs (a missing side is null)."""
    before, after = before or {}, after or {}
    changes = {}
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = {"from": old, "to": new}
    return changes


def record_change(resource, record_id, kind, version, before, after, author, note=None, at=None):
    """Log one change inside the caller's write transaction; returns the Change, or None if nothing differs."""
    if kind not in CHANGE_KINDS:
        raise ValueError(f"unknown change kind {kind!r}")
    changes = field_changes(before, after)
    if kind == "update" and not changes:
        return None
    return Change.create(
        resource=resource,
        record_id=record_id,
        kind=kind,
        version=version,
        changed_at=at or utc_now(),
        fields=orjson.dumps(changes).decode(),
        author=author,
        note=note,
    )


class Writes:
    """What one write transaction changed: `change()` logs each change; the revision moves only if any did."""

    def __init__(self, author, note=None):
        self.author = author
        self.note = note
        self.changes = []
        self._revision = None
        self._rendered = 0

    @property
    def revision(self):
        """The dataset revision this transaction commits as, if it changes anything (records keep it).

        Read once, inside the write lock, so no other write can take the same number.
        """
        if self._revision is None:
            self._revision = dataset_revision() + 1
        return self._revision

    def render(self):
        """Store the JSON of each record created or changed since the last call (and drop a deleted
        one's): a read inside the transaction (the write's response) sees it as a GET after the commit will."""
        written = defaultdict(list)
        for change in self.changes[self._rendered :]:
            written[change.resource].append(change.record_id)
        for resource, ids in written.items():
            store_representations(resource, ids)
        self._rendered = len(self.changes)

    def change(self, resource, record_id, kind, version, before, after, note=None, at=None):
        """`at`: the record's new `updated_at`, so `updated_since=T` on a list and the feed from T agree."""
        change = record_change(resource, record_id, kind, version, before, after, self.author, note or self.note, at)
        if change is not None:
            self.changes.append(change)
        return change


@contextmanager
def write_transaction(author, note=None):
    """One transaction for a write, serialised with every other write; yields its `Writes`.

    SQLite takes its write lock at BEGIN IMMEDIATE; PostgreSQL takes a transaction-scoped
    advisory lock, so change ids are allocated and committed in the same order. The dataset
    revision moves, in the same transaction, when anything was changed.
    """
    writes = Writes(author, note)
    if isinstance(database.obj, PostgresqlDatabase):
        with database.atomic():
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield writes
            _finish(writes)
    else:
        # Threads of one process queue on a lock of their own first: SQLite's busy handler polls, and
        # under load a writer can lose the race for its whole busy timeout while others keep winning.
        with _SQLITE_WRITERS, database.atomic("IMMEDIATE"):
            yield writes
            _finish(writes)


def _finish(writes):
    """Before the commit: each record created or changed gets its stored JSON, and the revision moves."""
    if writes.changes:
        writes.render()
        bump_dataset_revision({change.resource for change in writes.changes})
