"""The checks a record passes before it is written, by the seed loader and the write API alike.

References, duplicate links, parent cycles and verbatim excerpts each report `Problem`s naming the
record and the field, whoever looks the referenced records up: the loader among the fixtures, the
API in the database.
"""

from dataclasses import dataclass
from pathlib import Path

from api.catalog import QUOTING_RESOURCES, WRITE_ORDER

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


def references(resource, record):
    """(field path, target resource, id) of every record that `record` refers to."""
    spec = WRITE_ORDER[resource]
    if spec.parent_key and record[spec.parent_key] is not None:
        yield spec.parent_key, resource, record[spec.parent_key]
    for name, link in spec.links.items():
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


def duplicate_link_problems(resource, record):
    """A problem for each link that its join table's unique index allows only once per record."""
    problems = []
    for field_name, link_spec in WRITE_ORDER[resource].links.items():
        keys = link_spec.identity_keys
        if keys is None:
            continue
        seen = set()
        for i, link in enumerate(record[field_name]):
            identity = link if link_spec.bare else tuple(link[key] for key in keys)
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
    for i, link in enumerate(record.get("sources", []) if resource in QUOTING_RESOURCES else []):
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
