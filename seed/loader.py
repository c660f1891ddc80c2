"""Load the fixture files under seed/data into the database.

Everything is validated before anything is written: each record by its input
schema, then the references between records, then every excerpt against the
full text of its source. A single problem aborts the whole load, and the
message names the file, the record and the field. Writing happens in one
transaction and only touches what changed: an unchanged record keeps its
version, an edited one gets version + 1 and a new `updated_at`.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import yaml
from marshmallow import ValidationError

from api.changes import write_transaction
from api.models import (
    Actor,
    Change,
    Claim,
    ClaimActor,
    ClaimEvent,
    ClaimSource,
    Event,
    EventActor,
    EventSource,
    Source,
    create_tables,
    utc_now,
)
from schemas.dates import date_range
from schemas.records import ActorInput, ClaimInput, EventInput, SourceInput

SEED_DIR = Path(__file__).resolve().parent
DATA_DIR = SEED_DIR / "data"
DOCUMENTS_DIR = SEED_DIR / "sources"
SEED_AUTHOR = "seed"
SEED_NOTE = "Loaded from the seed fixtures."
FILES = (("sources", SourceInput), ("actors", ActorInput), ("events", EventInput), ("claims", ClaimInput))


class SeedError(Exception):
    def __init__(self, problems):
        self.problems = problems
        super().__init__("The seed data was not loaded; nothing was written:\n" + "\n".join(f"- {p}" for p in problems))


class FixtureLoader(yaml.SafeLoader):
    """YAML that keeps dates as strings ("2024-09-25" is a partial date here) and only true/false as booleans."""


FixtureLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
FixtureLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def _flatten(messages, prefix=""):
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        yield prefix, " ".join(messages)
    else:
        yield prefix, str(messages)


def read_fixtures(data_dir=DATA_DIR, documents_dir=DOCUMENTS_DIR):
    """Parse and validate every fixture file; return {resource: [record, ...]} or raise SeedError."""
    data_dir = Path(data_dir)
    problems, fixtures = [], {}
    for name, schema_class in FILES:
        path = data_dir / f"{name}.yaml"
        fixtures[name] = []
        if not path.exists():
            problems.append(f"{path}: file is missing")
            continue
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=FixtureLoader) or []
        except yaml.YAMLError as error:
            problems.append(f"{path}: not valid YAML: {error}")
            continue
        if not isinstance(raw, list):
            problems.append(f"{path}: must hold a list of records")
            continue
        schema = schema_class()
        for index, item in enumerate(raw):
            label = f"{path.name} record {index + 1}"
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                label += f" ({item['id']})"
            if not isinstance(item, dict):
                problems.append(f"{label}: must be a mapping of fields")
                continue
            try:
                fixtures[name].append(schema.load(item))
            except ValidationError as error:
                problems += [f"{label}, field '{path_}': {message}" for path_, message in _flatten(error.messages)]
    if problems:
        raise SeedError(problems)
    check_references(fixtures, documents_dir)
    return fixtures


def check_references(fixtures, documents_dir=DOCUMENTS_DIR):
    problems = []
    ids = {}
    for name, records in fixtures.items():
        ids[name] = set()
        for record in records:
            if record["id"] in ids[name]:
                problems.append(f"{name}.yaml ({record['id']}), field 'id': duplicate id")
            ids[name].add(record["id"])

    def expect(resource, record_id, field_name, target, value):
        if value is not None and value not in ids[target]:
            problems.append(f"{resource}.yaml ({record_id}), field '{field_name}': no {target[:-1]} with id '{value}'")

    for source in fixtures["sources"]:
        expect("sources", source["id"], "reported_in", "sources", source["reported_in"])
    for actor in fixtures["actors"]:
        expect("actors", actor["id"], "parent", "actors", actor["parent"])
    for event in fixtures["events"]:
        for i, link in enumerate(event["actors"]):
            expect("events", event["id"], f"actors.{i}.actor", "actors", link["actor"])
        for i, link in enumerate(event["sources"]):
            expect("events", event["id"], f"sources.{i}.source", "sources", link["source"])
    for claim in fixtures["claims"]:
        for i, event_id in enumerate(claim["events"]):
            expect("claims", claim["id"], f"events.{i}", "events", event_id)
        for i, link in enumerate(claim["actors"]):
            expect("claims", claim["id"], f"actors.{i}.actor", "actors", link["actor"])
        for i, link in enumerate(claim["sources"]):
            expect("claims", claim["id"], f"sources.{i}.source", "sources", link["source"])
    problems += _duplicate_links(fixtures)
    problems += _cycles(fixtures["sources"], "reported_in", "sources") + _cycles(fixtures["actors"], "parent", "actors")
    if not problems:
        problems += check_excerpts(fixtures, documents_dir)
    if problems:
        raise SeedError(problems)


# Links that the join tables' unique indexes allow only once per record.
UNIQUE_LINKS = (
    ("events", "actors", ("actor", "role")),
    ("claims", "actors", ("actor", "stance")),
    ("claims", "events", None),
)


def _duplicate_links(fixtures):
    problems = []
    for resource, field_name, keys in UNIQUE_LINKS:
        for record in fixtures[resource]:
            seen = set()
            for i, link in enumerate(record[field_name]):
                identity = link if keys is None else tuple(link[key] for key in keys)
                if identity in seen:
                    problems.append(f"{resource}.yaml ({record['id']}), field '{field_name}.{i}': duplicate link")
                seen.add(identity)
    return problems


def _cycles(records, key, resource):
    parents = {record["id"]: record[key] for record in records}
    problems = []
    for start in parents:
        seen, current = set(), start
        while current is not None and current not in seen:
            seen.add(current)
            current = parents.get(current)
        if current == start:
            problems.append(f"{resource}.yaml ({start}), field '{key}': forms a cycle")
    return problems


def source_texts(sources, documents_dir=DOCUMENTS_DIR):
    """The full text that each source's excerpts must come from: its own document, or its reporter's."""
    by_id = {source["id"]: source for source in sources}
    texts, problems = {}, []
    for source in sources:
        holder = source
        while holder["document"] is None and holder["reported_in"] is not None:
            holder = by_id[holder["reported_in"]]
        if holder["document"] is None:
            problems.append(
                f"sources.yaml ({source['id']}), field 'document': no document and no reported_in source with one"
            )
            continue
        path = Path(documents_dir) / holder["document"]
        if not path.is_file():
            problems.append(f"sources.yaml ({holder['id']}), field 'document': file {path} not found")
            continue
        texts[source["id"]] = path.read_text(encoding="utf-8")
    return texts, problems


def check_excerpts(fixtures, documents_dir=DOCUMENTS_DIR):
    texts, problems = source_texts(fixtures["sources"], documents_dir)
    for resource in ("events", "claims"):
        for record in fixtures[resource]:
            for i, link in enumerate(record["sources"]):
                text = texts.get(link["source"])
                if text is not None and link["excerpt"] not in text:
                    problems.append(
                        f"{resource}.yaml ({record['id']}), field 'sources.{i}.excerpt': "
                        f"not a verbatim excerpt of source '{link['source']}'"
                    )
    return problems


# --- Writing -----------------------------------------------------------------


@dataclass(frozen=True)
class LinkPlan:
    """A list field of a fixture record stored as rows of a join table owned by the record."""

    join_model: type
    owner_key: str
    value_keys: tuple

    def to_row(self, link):
        if not isinstance(link, dict):  # a bare id, as in a claim's `events`
            return {self.value_keys[0]: link}
        return {key: link[key] for key in self.value_keys}

    def stored(self, owner_ids):
        owner = getattr(self.join_model, self.owner_key)
        columns = [owner.alias("_owner"), *(getattr(self.join_model, key) for key in self.value_keys)]
        query = self.join_model.select(*columns).where(owner.in_(owner_ids)).order_by(self.join_model.position)
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
    """How one fixture resource maps to a table and its owned join tables."""

    model: type
    columns: object
    links: dict = field(default_factory=dict)
    parent_key: str | None = None


def _source_columns(record):
    published = date_range(record["published"]) if record["published"] else None
    return {
        **{
            key: record[key]
            for key in (
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
        },
        "published_start": published.start if published else None,
        "published_end": published.end if published else None,
        "published_precision": published.precision if published else None,
    }


def _actor_columns(record):
    return {
        **{key: record[key] for key in ("name", "kind", "country", "parent", "description")},
        "aliases": orjson.dumps(record["aliases"]).decode(),
    }


def _event_columns(record):
    dates = date_range(record["date"]) if record["date"] else None
    location = record["location"]
    return {
        **{key: record[key] for key in ("title", "summary", "type", "date", "date_approximate", "date_note")},
        "date_start": dates.start if dates else None,
        "date_end": dates.end if dates else None,
        "date_precision": dates.precision if dates else None,
        **{key: location.get(key) for key in ("place", "country", "latitude", "longitude")},
    }


def _claim_columns(record):
    return {
        key: record[key] for key in ("statement", "status", "status_rationale", "credibility", "credibility_rationale")
    }


PLANS = {
    "sources": ResourcePlan(Source, _source_columns, parent_key="reported_in"),
    "actors": ResourcePlan(Actor, _actor_columns, parent_key="parent"),
    "events": ResourcePlan(
        Event,
        _event_columns,
        links={
            "actors": LinkPlan(EventActor, "event", ("actor", "role")),
            "sources": LinkPlan(EventSource, "event", ("source", "excerpt")),
        },
    ),
    "claims": ResourcePlan(
        Claim,
        _claim_columns,
        links={
            "events": LinkPlan(ClaimEvent, "claim", ("event",)),
            "actors": LinkPlan(ClaimActor, "claim", ("actor", "stance")),
            "sources": LinkPlan(ClaimSource, "claim", ("source", "stance", "excerpt")),
        },
    ),
}


def _parents_first(records, key):
    by_id = {record["id"]: record for record in records}
    ordered, placed = [], set()

    def place(record):
        if record["id"] in placed:
            return
        parent = record.get(key)
        if parent in by_id:
            place(by_id[parent])
        placed.add(record["id"])
        ordered.append(record)

    for record in records:
        place(record)
    return ordered


@dataclass
class LoadSummary:
    created: dict = field(default_factory=dict)
    updated: dict = field(default_factory=dict)
    unchanged: dict = field(default_factory=dict)

    @property
    def changed(self):
        return any(self.created.values()) or any(self.updated.values())

    def __str__(self):
        return ", ".join(
            f"{name}: {self.created[name]} created, {self.updated[name]} updated, {self.unchanged[name]} unchanged"
            for name in self.created
        )


def write_fixtures(fixtures):
    """Upsert every record and its owned links in one transaction; bump versions only on change."""
    summary = LoadSummary()
    now = utc_now()
    with write_transaction(SEED_AUTHOR, SEED_NOTE) as writes:
        for name, plan in PLANS.items():
            records = fixtures[name]
            if plan.parent_key:
                records = _parents_first(records, plan.parent_key)
            model = plan.model
            ids = [record["id"] for record in records]
            existing = {row["id"]: row for row in model.select().where(model.id.in_(ids)).dicts()} if ids else {}
            stored_links = {link_name: link.stored(ids) for link_name, link in plan.links.items()}
            counts = {"created": 0, "updated": 0, "unchanged": 0}
            for record in records:
                columns = plan.columns(record)
                wanted_links = {
                    link_name: [link.to_row(item) for item in record[link_name]]
                    for link_name, link in plan.links.items()
                }
                current = existing.get(record["id"])
                after = {**columns, **wanted_links}
                if current is None:
                    model.insert(id=record["id"], created_at=now, updated_at=now, version=1, **columns).execute()
                    writes.change(name, record["id"], "create", 1, None, after)
                    counts["created"] += 1
                elif any(current[key] != value for key, value in columns.items()) or any(
                    stored_links[link_name].get(record["id"], []) != rows for link_name, rows in wanted_links.items()
                ):
                    model.update(updated_at=now, version=model.version + 1, **columns).where(
                        model.id == record["id"]
                    ).execute()
                    before = {key: current[key] for key in columns}
                    for link_name in plan.links:
                        before[link_name] = stored_links[link_name].get(record["id"], [])
                    writes.change(name, record["id"], "update", current["version"] + 1, before, after)
                    counts["updated"] += 1
                else:
                    counts["unchanged"] += 1
                    continue
                for link_name, link in plan.links.items():
                    link.replace(record["id"], wanted_links[link_name])
            summary.created[name] = counts["created"]
            summary.updated[name] = counts["updated"]
            summary.unchanged[name] = counts["unchanged"]
        if writes.changes:
            # Each change must carry its record's `updated_at`, so that `updated_since=T` on a list and the
            # changes feed from T agree; Writes.change stamps its own clock. Writes are serialised, so
            # every change from the first of this load on is this load's.
            Change.update(changed_at=now).where(Change.id >= writes.changes[0].id).execute()
    return summary


def load(data_dir=DATA_DIR, documents_dir=DOCUMENTS_DIR):
    """Validate the fixtures, then write them; returns a LoadSummary or raises SeedError."""
    fixtures = read_fixtures(data_dir, documents_dir)
    create_tables()
    return write_fixtures(fixtures)
