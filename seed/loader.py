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

import yaml
from marshmallow import ValidationError

from api.catalog import WRITE_ORDER
from api.changelog.transaction import write_transaction
from api.migrations import create_tables
from api.tables import utc_now
from api.writing.checks import (
    anchor_excerpts,
    duplicate_link_problems,
    flatten_messages,
    forms_cycle,
    reference_problems,
    source_texts,
    status_problems,
)
from api.writing.store import write_record

SEED_DIR = Path(__file__).resolve().parent
DATA_DIR = SEED_DIR / "data"
DOCUMENTS_DIR = SEED_DIR / "sources"
SEED_AUTHOR = "seed"
SEED_NOTE = "Loaded from the seed fixtures."
# One file per resource, read in the catalog's write order, each record loaded by its input schema.
FILES = tuple((name, spec.input_schema) for name, spec in WRITE_ORDER.items())
__all__ = ("FILES", "SeedError", "load", "read_fixtures", "write_fixtures")


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
            if name == "sources":
                item, problem = with_document_text(item, Path(documents_dir))
                if problem:
                    problems.append(f"{label}, field 'document.file': {problem}")
                    continue
            try:
                fixtures[name].append(schema.load(item))
            except ValidationError as error:
                messages = flatten_messages(error.messages)
                problems += [f"{label}, field '{path_}': {message}" for path_, message in messages]
    if problems:
        raise SeedError(problems)
    check_references(fixtures)
    return fixtures


def with_document_text(item, documents_dir):
    """A source fixture names its document's file (`document.file`, in documents_dir); the record holds its text."""
    document = item.get("document")
    if not isinstance(document, dict) or "file" not in document:
        return item, None
    document = dict(document)
    path = documents_dir / str(document.pop("file"))
    if path.parent != documents_dir or not path.is_file():
        return item, f"file {path} not found"
    return {**item, "document": {**document, "text": path.read_text(encoding="utf-8")}}, None


def check_references(fixtures):
    """References, duplicate links, cycles and then excerpts: the checks the write API makes in the database."""
    problems = []
    ids = {}
    for name, records in fixtures.items():
        ids[name] = set()
        for record in records:
            if record["id"] in ids[name]:
                problems.append(f"{name}.yaml ({record['id']}), field 'id': duplicate id")
            ids[name].add(record["id"])

    def exists(target, value):
        return value in ids[target]

    for name, records in fixtures.items():
        for record in records:
            problems += reference_problems(name, record, exists)
    for name, records in fixtures.items():
        for record in records:
            problems += duplicate_link_problems(name, record)
    for name, spec in WRITE_ORDER.items():
        key = spec.parent_key
        if not key:
            continue
        parents = {record["id"]: record[key] for record in fixtures[name]}
        cycles = [start for start in parents if forms_cycle(start, parents.get)]
        problems += [f"{name}.yaml ({start}), field '{key}': forms a cycle" for start in cycles]
    if not problems:
        problems += check_excerpts(fixtures)
    if problems:
        raise SeedError([str(problem) for problem in problems])


def check_excerpts(fixtures):
    """Every excerpt located in its document (each link gets its anchor); each claim held to its evidence."""
    sources = {
        source["id"]: {
            "id": source["id"],
            "document": source["document"] is not None,
            "reported_in": source["reported_in"],
        }
        for source in fixtures["sources"]
    }
    records = {source["id"]: source for source in fixtures["sources"]}
    texts, problems = source_texts(list(sources.values()), lambda holder: records[holder["id"]]["document"]["text"])
    for resource in ("events", "claims"):
        for record in fixtures[resource]:
            problems += anchor_excerpts(resource, record, texts)
            problems += status_problems(resource, record, sources)
    return problems


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
        for name, spec in WRITE_ORDER.items():
            records = fixtures[name]
            if spec.parent_key:
                records = _parents_first(records, spec.parent_key)
            model = spec.model
            ids = [record["id"] for record in records]
            existing = {row["id"]: row for row in model.select().where(model.id.in_(ids)).dicts()} if ids else {}
            stored_links = {link_name: link.stored(ids) for link_name, link in spec.links.items()}
            counts = {"created": 0, "updated": 0, "unchanged": 0}
            for record in records:
                links = {link_name: stored.get(record["id"], []) for link_name, stored in stored_links.items()}
                counts[write_record(writes, name, record, existing.get(record["id"]), links, now)] += 1
            summary.created[name] = counts["created"]
            summary.updated[name] = counts["updated"]
            summary.unchanged[name] = counts["unchanged"]
    return summary


def load(data_dir=DATA_DIR, documents_dir=DOCUMENTS_DIR):
    """Validate the fixtures, then write them; returns a LoadSummary or raises SeedError."""
    fixtures = read_fixtures(data_dir, documents_dir)
    create_tables()
    return write_fixtures(fixtures)
