"""Validating and writing records: the one code path of the seed loader and the write API.

A record arrives as its resource's input schema loads it (schemas/records.py `*Input`).
`ResourcePlan` maps it to its table's columns and `LinkPlan` its link lists to rows of the
join tables it owns. The checks (references, duplicate links, cycles, verbatim excerpts)
report `Problem`s naming the record and the field, whoever looks the referenced records up:
the loader among the fixtures, the API in the database. `write_record` inserts or updates
one record with its links and logs the change, inside the caller's `write_transaction`.
"""

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from api.tables import (
    Actor,
    Claim,
    ClaimActor,
    ClaimEvent,
    ClaimSource,
    Event,
    EventActor,
    EventSource,
    Source,
    utc_now,
)
from schemas.dates import date_range
from schemas.records import ActorInput, ClaimInput, EventInput, SourceInput

DOCUMENTS_DIR = Path(__file__).resolve().parents[2] / "seed" / "sources"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record: `field` is the dotted path inside the record."""

    resource: str
    record_id: str
    field: str
    message: str

    def __str__(self):
        return f"{self.resource}.yaml ({self.record_id}), field '{self.field}': {self.message}"


def flatten_messages(messages, prefix=""):
    """(dotted path, message) pairs from marshmallow's nested error messages."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from flatten_messages(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        yield prefix, " ".join(messages)
    else:
        yield prefix, str(messages)


# --- Mapping a record to rows ----------------------------------------------------


@dataclass(frozen=True)
class LinkPlan:
    """A list field of a record stored as rows of a join table owned by the record.

    `value_keys[0]` refers to a record of `target`; a `bare` list holds just those ids.
    """

    join_model: type
    owner_key: str
    value_keys: tuple
    target: str
    bare: bool = False

    def to_row(self, link):
        if not isinstance(link, dict):  # a bare id, as in a claim's `events`
            return {self.value_keys[0]: link}
        return {key: link[key] for key in self.value_keys}

    def to_input(self, row):
        return row[self.value_keys[0]] if self.bare else dict(row)

    @property
    def reference(self):
        return getattr(self.join_model, self.value_keys[0])

    def stored(self, owner_ids):
        owner = getattr(self.join_model, self.owner_key)
        columns = [owner.alias("_owner"), *(getattr(self.join_model, key) for key in self.value_keys)]
        query = self.join_model.select(*columns).where(owner.in_(list(owner_ids))).order_by(self.join_model.position)
        stored = {}
        for row in query.dicts():
            stored.setdefault(row.pop("_owner"), []).append(row)
        return stored

    def replace(self, owner_id, rows):
        self.join_model.delete().where(getattr(self.join_model, self.owner_key) == owner_id).execute()
        if rows:
            self.join_model.insert_many(
                [{self.owner_key: owner_id, "position": position, **row} for position, row in enumerate(rows)]
            ).execute()


@dataclass
class ResourcePlan:
    """How one resource maps to a table and its owned join tables."""

    model: type
    input_schema: type
    columns: object
    to_input: object
    links: dict = field(default_factory=dict)
    parent_key: str | None = None


SOURCE_FIELDS = (
    "type",
    "title",
    "publisher",
    "author",
    "url",
    "published",
    "published_note",
    "language",
    "reliability",
    "reliability_rationale",
    "document",
    "reported_in",
)
ACTOR_FIELDS = ("name", "kind", "country", "parent", "description")
EVENT_FIELDS = ("title", "summary", "type", "date", "date_approximate", "date_note")
LOCATION_FIELDS = ("place", "country", "latitude", "longitude")
CLAIM_FIELDS = ("statement", "status", "status_rationale", "credibility", "credibility_rationale")


def _source_columns(record):
    published = date_range(record["published"]) if record["published"] else None
    return {
        **{key: record[key] for key in SOURCE_FIELDS},
        "published_start": published.start if published else None,
        "published_end": published.end if published else None,
        "published_precision": published.precision if published else None,
    }


def _actor_columns(record):
    return {**{key: record[key] for key in ACTOR_FIELDS}, "aliases": orjson.dumps(record["aliases"]).decode()}


def _actor_input(row):
    return {**{key: row[key] for key in ACTOR_FIELDS}, "aliases": orjson.loads(row["aliases"])}


def _event_columns(record):
    dates = date_range(record["date"]) if record["date"] else None
    location = record["location"]
    return {
        **{key: record[key] for key in EVENT_FIELDS},
        "date_start": dates.start if dates else None,
        "date_end": dates.end if dates else None,
        "date_precision": dates.precision if dates else None,
        **{key: location.get(key) for key in LOCATION_FIELDS},
    }


def _event_input(row):
    return {**{key: row[key] for key in EVENT_FIELDS}, "location": {key: row[key] for key in LOCATION_FIELDS}}


def _picker(keys):
    def pick(record):
        return {key: record[key] for key in keys}

    return pick


PLANS = {
    "sources": ResourcePlan(Source, SourceInput, _source_columns, _picker(SOURCE_FIELDS), parent_key="reported_in"),
    "actors": ResourcePlan(Actor, ActorInput, _actor_columns, _actor_input, parent_key="parent"),
    "events": ResourcePlan(
        Event,
        EventInput,
        _event_columns,
        _event_input,
        links={
            "actors": LinkPlan(EventActor, "event", ("actor", "role"), "actors"),
            "sources": LinkPlan(EventSource, "event", ("source", "excerpt"), "sources"),
        },
    ),
    "claims": ResourcePlan(
        Claim,
        ClaimInput,
        _picker(CLAIM_FIELDS),
        _picker(CLAIM_FIELDS),
        links={
            "events": LinkPlan(ClaimEvent, "claim", ("event",), "events", bare=True),
            "actors": LinkPlan(ClaimActor, "claim", ("actor", "stance"), "actors"),
            "sources": LinkPlan(ClaimSource, "claim", ("source", "stance", "excerpt"), "sources"),
        },
    ),
}


def stored_inputs(resource, ids):
    """{id: record} of stored records in their input form (what a fixture or a POST body holds)."""
    plan = PLANS[resource]
    rows = list(plan.model.select().where(plan.model.id.in_(list(ids))).dicts()) if ids else []
    links = {name: link.stored([row["id"] for row in rows]) for name, link in plan.links.items()} if rows else {}
    records = {}
    for row in rows:
        record = {"id": row["id"], **plan.to_input(row)}
        for name, link in plan.links.items():
            record[name] = [link.to_input(item) for item in links[name].get(row["id"], [])]
        records[row["id"]] = record
    return records


# --- Checks ------------------------------------------------------------------------


def references(resource, record):
    """(field path, target resource, id) of every record that `record` refers to."""
    plan = PLANS[resource]
    if plan.parent_key and record[plan.parent_key] is not None:
        yield plan.parent_key, resource, record[plan.parent_key]
    for name, link in plan.links.items():
        for i, item in enumerate(record[name]):
            if link.bare:
                yield f"{name}.{i}", link.target, item
            else:
                yield f"{name}.{i}.{link.value_keys[0]}", link.target, item[link.value_keys[0]]


def reference_problems(resource, record, exists):
    """A problem for each reference that `exists(target, id)` denies."""
    return [
        Problem(resource, record["id"], path, f"no {target[:-1]} with id '{value}'")
        for path, target, value in references(resource, record)
        if not exists(target, value)
    ]


# Links that the join tables' unique indexes allow only once per record.
UNIQUE_LINKS = {"events": {"actors": ("actor", "role")}, "claims": {"actors": ("actor", "stance"), "events": None}}


def duplicate_link_problems(resource, record):
    problems = []
    for field_name, keys in UNIQUE_LINKS.get(resource, {}).items():
        seen = set()
        for i, link in enumerate(record[field_name]):
            identity = link if keys is None else tuple(link[key] for key in keys)
            if identity in seen:
                problems.append(Problem(resource, record["id"], f"{field_name}.{i}", "duplicate link"))
            seen.add(identity)
    return problems


def forms_cycle(start, parent_of):
    """Whether following `parent_of` from `start` comes back to it."""
    seen, current = set(), start
    while current is not None and current not in seen:
        seen.add(current)
        current = parent_of(current)
    return current == start


def source_texts(sources, documents_dir=DOCUMENTS_DIR):
    """The full text that each source's excerpts must come from: its own document, or its reporter's.

    `sources` must hold every source that the `reported_in` chains of the others pass through.
    """
    by_id = {source["id"]: source for source in sources}
    texts, problems = {}, []
    for source in sources:
        holder = source
        while holder["document"] is None and holder["reported_in"] is not None:
            holder = by_id[holder["reported_in"]]
        if holder["document"] is None:
            problems.append(
                Problem("sources", source["id"], "document", "no document and no reported_in source with one")
            )
            continue
        path = Path(documents_dir) / holder["document"]
        if not path.is_file():
            problems.append(Problem("sources", holder["id"], "document", f"file {path} not found"))
            continue
        texts[source["id"]] = path.read_text(encoding="utf-8")
    return texts, problems


def excerpt_problems(resource, record, texts):
    """Every excerpt of `record` must be verbatim in its source's text (sources without a text are reported apart)."""
    problems = []
    for i, link in enumerate(record.get("sources", []) if resource in ("events", "claims") else []):
        text = texts.get(link["source"])
        if text is not None and link["excerpt"] not in text:
            problems.append(
                Problem(
                    resource,
                    record["id"],
                    f"sources.{i}.excerpt",
                    f"not a verbatim excerpt of source '{link['source']}'",
                )
            )
    return problems


# --- Writing -------------------------------------------------------------------------


def record_state(resource, columns, links):
    """What the change log compares: the record's columns and its owned link rows."""
    return {**columns, **links}


def stored_state(resource, current, stored_links):
    """`record_state` of a stored row and its stored links."""
    plan = PLANS[resource]
    names = plan.columns(plan.to_input(current))
    return record_state(
        resource, {key: current[key] for key in names}, {name: stored_links.get(name, []) for name in plan.links}
    )


def write_record(writes, resource, record, current=None, stored_links=None, now=None):
    """Insert `record` (current is None) or update it where it differs; log the change in `writes`.

    `current` is its stored row and `stored_links` {link name: [rows]} its stored links, read by the
    caller (in bulk, when it writes many records). Returns "created", "updated" or "unchanged".
    """
    plan = PLANS[resource]
    model = plan.model
    now = now or utc_now()
    columns = plan.columns(record)
    wanted_links = {name: [link.to_row(item) for item in record[name]] for name, link in plan.links.items()}
    stored_links = stored_links or {}
    after = record_state(resource, columns, wanted_links)
    if current is None:
        model.insert(
            id=record["id"], created_at=now, updated_at=now, version=1, revision=writes.revision, **columns
        ).execute()
        writes.change(resource, record["id"], "create", 1, None, after, at=now)
        outcome = "created"
    elif any(current[key] != value for key, value in columns.items()) or any(
        stored_links.get(name, []) != rows for name, rows in wanted_links.items()
    ):
        model.update(updated_at=now, version=model.version + 1, revision=writes.revision, **columns).where(
            model.id == record["id"]
        ).execute()
        before = stored_state(resource, current, stored_links)
        writes.change(resource, record["id"], "update", current["version"] + 1, before, after, at=now)
        outcome = "updated"
    else:
        return "unchanged"
    for name, link in plan.links.items():
        if current is None or stored_links.get(name, []) != wanted_links[name]:
            link.replace(record["id"], wanted_links[name])
    return outcome


def delete_record(writes, resource, current, stored_links):
    """Delete a stored record and its owned links, and log a `delete` whose `from` holds its last values."""
    plan = PLANS[resource]
    writes.change(
        resource, current["id"], "delete", current["version"] + 1, stored_state(resource, current, stored_links), None
    )
    # Explicitly rather than by ON DELETE CASCADE alone: a SQLite connection without foreign_keys would keep them.
    for link in plan.links.values():
        link.replace(current["id"], [])
    plan.model.delete().where(plan.model.id == current["id"]).execute()
