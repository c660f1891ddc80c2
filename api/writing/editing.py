"""The write API's operations: create, change and delete one record, inside one write transaction.

Validation is the seed loader's (api/writing/checks.py), with references looked up in the database.
Each operation runs inside the caller's `write_transaction`, so an error raised anywhere
rolls everything back and the revision does not move.
"""

import hashlib
from datetime import timedelta

import orjson
from werkzeug.exceptions import Conflict, PreconditionFailed, UnprocessableEntity
from werkzeug.exceptions import PreconditionRequired as _PreconditionRequired

from api.catalog import QUOTING_RESOURCES, WRITE_ORDER
from api.errors import RecordNotFound
from api.tables import Change, IdempotentRequest, Source, SourceDocument, utc_now
from api.writing.checks import (
    Problem,
    anchor_excerpts,
    duplicate_link_problems,
    forms_cycle,
    reference_problems,
    references,
    source_texts,
    status_problems,
)
from api.writing.store import delete_record, stored_inputs, write_record
from schemas.records import document_digest

IDEMPOTENCY_TTL = timedelta(hours=24)


class InvalidRecord(UnprocessableEntity):
    """422 with one entry per field (dotted path in the body)."""

    def __init__(self, errors):
        names = ", ".join(f"'{error['parameter']}'" for error in errors)
        super().__init__(
            f"The record is not valid: {names}. "
            + "; ".join(f"{e['parameter']}: {' '.join(e['messages'])}" for e in errors)
        )
        self.data = {"errors": errors}


def field_errors(pairs):
    errors = {}
    for path, message in pairs:
        errors.setdefault(path or "body", []).append(message)
    return [{"parameter": path, "location": "body", "messages": messages} for path, messages in errors.items()]


class PreconditionRequired(_PreconditionRequired):
    def __init__(self):
        super().__init__(
            "Changing or deleting a record needs an If-Match header: the ETag of a GET made after its last "
            "change (or `*`), so that a stale edit cannot overwrite someone else's."
        )


# --- Optimistic concurrency ---------------------------------------------------------------


def check_if_match(if_match_revision, record_revision):
    """An If-Match must be the record's ETag at a revision at least as new as its last change (or be `*`).

    `if_match_revision` is that revision (api/web.py reads it), -1 for tags that are not the record's,
    None without the header.
    """
    if if_match_revision is None:
        raise PreconditionRequired()
    if if_match_revision < 0:
        raise PreconditionFailed(
            "If-Match names no ETag of this record: send the ETag that a GET of the record answered (or `*`)."
        )
    if if_match_revision < record_revision:
        raise PreconditionFailed(
            f"The record changed at revision r{record_revision}, after the ETag in If-Match was read: "
            "GET it again and reapply the edit."
        )


# --- Idempotency ----------------------------------------------------------------------------


def fingerprint(method, path, body):
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def replayed(api_key_id, key, request_fingerprint):
    """The stored first response to this key, or None; 422 when the key was used for another request."""
    IdempotentRequest.delete().where(IdempotentRequest.created_at < utc_now() - IDEMPOTENCY_TTL).execute()
    stored = IdempotentRequest.get_or_none((IdempotentRequest.api_key == api_key_id) & (IdempotentRequest.key == key))
    if stored is None:
        return None
    if stored.fingerprint != request_fingerprint:
        error = UnprocessableEntity(
            "This Idempotency-Key was already used for a different request; use a new key for a new request."
        )
        error.data = {"errors": [{"parameter": "Idempotency-Key", "location": "header", "messages": ["Already used."]}]}
        raise error
    return stored.status, orjson.loads(stored.headers), stored.body.encode()


def remember(api_key_id, key, request_fingerprint, status, headers, body):
    IdempotentRequest.create(
        api_key=api_key_id,
        key=key,
        fingerprint=request_fingerprint,
        status=status,
        headers=orjson.dumps(headers).decode(),
        body=body.decode(),
    )


# --- Validation against the database ----------------------------------------------------------


def _existing_ids(refs):
    """{target: set of ids that exist}: one query per resource referred to."""
    wanted = {}
    for _path, target, value in refs:
        wanted.setdefault(target, set()).add(value)
    found = {}
    for target, ids in wanted.items():
        model = WRITE_ORDER[target].model
        found[target] = {row[0] for row in model.select(model.id).where(model.id.in_(list(ids))).tuples()}
    return found


def _source_chain(ids, overrides):
    """The sources with these ids and every source their `reported_in` chains pass through (one query a level),
    each as {id, document (whether it holds a text), reported_in}; `overrides` are sources as being written."""
    sources, pending = dict(overrides), set(ids) - set(overrides)
    for source in overrides.values():
        if source["reported_in"] is not None and source["reported_in"] not in sources:
            pending.add(source["reported_in"])
    while pending:
        query = Source.select(Source.id, Source.document_sha256, Source.reported_in).where(Source.id.in_(list(pending)))
        pending = set()
        for row in query:
            sources[row.id] = {
                "id": row.id,
                "document": row.document_sha256 is not None,
                "reported_in": row.reported_in_id,
            }
            if row.reported_in_id is not None and row.reported_in_id not in sources:
                pending.add(row.reported_in_id)
    return sources


def _stored_text(source_id):
    return SourceDocument.select(SourceDocument.text).where(SourceDocument.source == source_id).scalar()


def _texts(sources, written=None):
    """`source_texts` of these sources, read from the database but for `written` ({id: text}, being written)."""
    written = written or {}
    return source_texts(
        list(sources.values()),
        lambda holder: written[holder["id"]] if holder["id"] in written else _stored_text(holder["id"]),
    )


def _parent_lookup(resource, record):
    spec = WRITE_ORDER[resource]
    model, key = spec.model, spec.parent_key
    column = getattr(model, key)

    def parent_of(record_id):
        if record_id == record["id"]:
            return record[key]
        row = model.select(column).where(model.id == record_id).tuples().first()
        return row[0] if row else None

    return parent_of


def _dependants(source_id):
    """Ids of the sources whose excerpts are read from this source's text: those reported in it, at any depth."""
    found, level = set(), {source_id}
    while level:
        level = {row[0] for row in Source.select(Source.id).where(Source.reported_in.in_(list(level))).tuples()}
        level -= found | {source_id}
        found |= level
    return found


def validate_record(resource, record, previous=None):
    """The loader's checks for one record, references read from the database; 422 naming each field.

    Fills in what a write computes (each excerpt's place in its document, a kept document's text) and
    returns the records citing a source whose text changed, their excerpts located again, to be written after it.
    """
    refs = list(references(resource, record))
    existing = _existing_ids(refs)
    problems = reference_problems(resource, record, lambda target, value: value in existing[target])
    problems += duplicate_link_problems(resource, record)
    spec = WRITE_ORDER[resource]
    has_parent = spec.parent_key and record[spec.parent_key] is not None
    if has_parent and not problems and forms_cycle(record["id"], _parent_lookup(resource, record)):
        problems.append(Problem(resource, record["id"], spec.parent_key, "forms a cycle"))
    citing = []
    if not problems:
        if resource == "sources":
            problems, citing = _source_text_problems(record, previous)
        else:
            problems = _excerpt_problems(resource, record)
    if problems:
        raise InvalidRecord(field_errors((problem.field, problem.message) for problem in problems))
    return citing


def _excerpt_problems(resource, record):
    if resource not in QUOTING_RESOURCES:
        return []
    sources = _source_chain({link["source"] for link in record["sources"]}, {})
    texts, _ = _texts(sources)
    return anchor_excerpts(resource, record, texts) + status_problems(resource, record, sources)


def _source_text_problems(record, previous):
    """A source's document and `reported_in`: its text kept or replaced, and every excerpt that its text holds
    (its own, and those of the sources reported in it) still found in it."""
    document = record["document"]
    if document is not None and document.get("text") is None:
        stored = _stored_text(record["id"])
        if stored is None or document_digest(stored) != document["sha256"]:
            message = "give the document's text: its sha256 is not that of this source's stored text"
            return [Problem("sources", record["id"], "document.text", message)], []
        record["document"] = document = {**document, "text": stored}
    own = {"id": record["id"], "document": document is not None, "reported_in": record["reported_in"]}
    written_text = {record["id"]: document["text"]} if document else {}
    before = previous and (
        previous["document"] and previous["document"]["sha256"],
        previous["reported_in"],
    )
    moved = before is not None and before != (document and document_digest(document["text"]), record["reported_in"])
    dependants = _dependants(record["id"]) if moved else set()
    sources = _source_chain(dependants, {record["id"]: own})
    texts, problems = _texts(sources, written_text)
    problems = [
        Problem("sources", record["id"], "document" if p.record_id == record["id"] else "reported_in", p.message)
        for p in problems
    ]
    if not moved or problems:
        return problems, []
    # The excerpts already linked to this source (or its dependants) must still be in its new text.
    return _reanchored(record["id"], {record["id"], *dependants}, texts)


def _reanchored(record_id, source_ids, texts):
    """The records citing these sources, their excerpts located in the new texts; a problem naming each
    record whose excerpt would no longer be found."""
    problems, citing = [], []
    for resource in QUOTING_RESOURCES:
        link = WRITE_ORDER[resource].links["sources"]
        join = link.join_model
        owners = join.select(getattr(join, link.owner_key)).where(join.source.in_(list(source_ids))).distinct()
        records = stored_inputs(resource, [owner for (owner,) in owners.tuples()])
        for owner, cited in sorted(records.items()):
            for problem in anchor_excerpts(resource, cited, texts, only=source_ids):
                message = f"{resource[:-1]} '{owner}' {problem.field}: {problem.message} in the new text"
                problems.append(Problem("sources", record_id, "document", message))
            citing.append((resource, cited))
    return problems, citing


# --- The operations -------------------------------------------------------------------------


def _current(resource, record_id):
    """The stored row and links of a record, or a 404."""
    spec = WRITE_ORDER[resource]
    row = spec.model.select().where(spec.model.id == record_id).dicts().first()
    if row is None:
        raise RecordNotFound(resource[:-1], record_id)
    links = {name: link.stored([record_id]).get(record_id, []) for name, link in spec.links.items()}
    return row, links


def create(writes, resource, record):
    """A new record, as its input schema loaded it."""
    if was_ever_used(resource, record["id"]):
        raise Conflict(
            f"The id '{record['id']}' is or was used by another {resource[:-1]}: ids are never reused. Choose another."
        )
    validate_record(resource, record)
    write_record(writes, resource, record)
    return record["id"]


def was_ever_used(resource, record_id):
    model = WRITE_ORDER[resource].model
    return (
        model.select().where(model.id == record_id).exists()
        or Change.select().where((Change.resource == resource) & (Change.record_id == record_id)).exists()
    )


def update(writes, resource, record_id, changes, if_match_revision):
    """A partial update, as the patch schema loaded it: the members sent replace the stored ones whole
    (a link list replaces the list)."""
    row, links = _current(resource, record_id)
    check_if_match(if_match_revision, row["revision"])
    previous = stored_inputs(resource, [record_id])[record_id]
    record = {**previous, **changes}
    citing = validate_record(resource, record, previous)
    outcome = write_record(writes, resource, record, row, links)
    for name, cited in citing:
        cited_row, cited_links = _current(name, cited["id"])
        write_record(writes, name, cited, cited_row, cited_links)
    return outcome


def check_editable(resource, record_id, if_match_revision):
    """The 404, 428 or 412 a PATCH gets before its body is read; `update` checks again under the write lock."""
    model = WRITE_ORDER[resource].model
    revision = model.select(model.revision).where(model.id == record_id).scalar()
    if revision is None:
        raise RecordNotFound(resource[:-1], record_id)
    check_if_match(if_match_revision, revision)


# Who may refer to a record of each resource: (resource, link name or None for the parent column).
def referring_links(resource):
    found = []
    for name, spec in WRITE_ORDER.items():
        if spec.parent_key and name == resource:
            found.append((name, spec.parent_key, None))
        for link_name, link in spec.links.items():
            if link.target == resource:
                found.append((name, link_name, link))
    return found


def referrers(resource, record_id):
    """{(resource, field): [ids]} of the records that refer to this one (one query per link table)."""
    found = {}
    for name, field_name, link in referring_links(resource):
        if link is None:
            model = WRITE_ORDER[name].model
            column = getattr(model, field_name)
            ids = [row[0] for row in model.select(model.id).where(column == record_id).order_by(model.id).tuples()]
        else:
            owner = getattr(link.join_model, link.owner_key)
            query = link.join_model.select(owner).where(link.reference == record_id).distinct().order_by(owner)
            ids = [row[0] for row in query.tuples()]
        if ids:
            found[(name, field_name)] = ids
    return found


def _describe(found):
    return "; ".join(f"{name} ({field_name}): {', '.join(ids)}" for (name, field_name), ids in found.items())


class InUse(Conflict):
    """409 naming the referrers: `parameter` is the referring resource and field, `messages` their ids."""

    def __init__(self, description, found):
        super().__init__(description)
        self.data = {
            "errors": [
                {"parameter": f"{name}.{field_name}", "location": "path", "messages": ids}
                for (name, field_name), ids in found.items()
            ]
        }


def delete(writes, resource, record_id, detach, if_match_revision):
    row, links = _current(resource, record_id)
    check_if_match(if_match_revision, row["revision"])
    found = referrers(resource, record_id)
    singular = resource[:-1]
    if found and not detach:
        raise InUse(
            f"The {singular} '{record_id}' is still referred to by {_describe(found)}. "
            "Change those records first, or delete with ?detach=true to remove the links.",
            found,
        )
    if found:
        _detach(writes, resource, record_id, found)
    delete_record(writes, resource, row, links)


def _detach(writes, resource, record_id, found):
    """Remove every reference to the record from the records that make it, each an update of its own."""
    records = {}
    for (name, _field_name), ids in found.items():
        records.setdefault(name, set()).update(ids)
    records = {name: stored_inputs(name, ids) for name, ids in records.items()}
    blocked = {}
    for (name, field_name), ids in found.items():
        spec = WRITE_ORDER[name]
        for referrer in ids:
            record = records[name][referrer]
            if field_name == spec.parent_key:
                if name == "sources":
                    # A source reported in this one reads its excerpts from this one's text: it cannot lose it.
                    blocked.setdefault((name, field_name), []).append(referrer)
                record[field_name] = None
                continue
            link = spec.links[field_name]
            kept = [item for item in record[field_name] if (link.to_row(item)[link.value_keys[0]] != record_id)]
            if not kept:
                blocked.setdefault((name, field_name), []).append(referrer)
            record[field_name] = kept
    if blocked:
        raise InUse(
            f"Detaching the {resource[:-1]} '{record_id}' would leave {_describe(blocked)} without a required "
            "link; change those records first.",
            blocked,
        )
    for name in WRITE_ORDER:
        if name not in records:
            continue
        spec = WRITE_ORDER[name]
        ids = list(records[name])
        rows = {row["id"]: row for row in spec.model.select().where(spec.model.id.in_(ids)).dicts()}
        stored = {link_name: link.stored(ids) for link_name, link in spec.links.items()}
        for referrer, record in records[name].items():
            links = {link_name: by_owner.get(referrer, []) for link_name, by_owner in stored.items()}
            write_record(writes, name, record, rows[referrer], links)
