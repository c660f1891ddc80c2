"""A record's history: its rows of the change log, newest first, also after it was deleted."""

from api.errors import RecordNotFound
from api.tables import Change


def history_page(spec, record_id, limit, before=None):
    """(changes, next_before): one query for the page, and one more only when it is empty (404 or not)."""
    query = Change.select().where((Change.resource == spec.name) & (Change.record_id == record_id))
    if before is not None:
        query = query.where(Change.id < before)
    changes = list(query.order_by(Change.id.desc()).limit(limit + 1))
    if not changes and not _ever_existed(spec, record_id):
        raise RecordNotFound(spec.singular, record_id)
    next_before = changes[limit - 1].id if len(changes) > limit else None
    entries = [
        {
            "id": change.id,
            "kind": change.kind,
            "version": change.version,
            "changed_at": change.changed_at,
            "author": change.author,
            "note": change.note,
            "fields": change.changed_fields(),
        }
        for change in changes[:limit]
    ]
    return entries, next_before


def _ever_existed(spec, record_id):
    return (
        Change.select().where((Change.resource == spec.name) & (Change.record_id == record_id)).exists()
        or spec.model.select().where(spec.model.id == record_id).exists()
    )
