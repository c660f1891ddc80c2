"""The checks a record passes before it is written, by the seed loader and the write API alike.

References, duplicate links, parent cycles and verbatim excerpts each report `Problem`s naming the
record and the field, whoever looks the referenced records up: the loader among the fixtures, the
API in the database.
"""

from dataclasses import dataclass

from api.catalog import QUOTING_RESOURCES, WRITE_ORDER


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


def source_texts(sources, text_of):
    """{source id: (holder id, text)}: the document each source's excerpts are located in, its own or that
    of the source it is reported in (at any depth), and a problem for each source with neither.

    `sources` ({id, document, reported_in}, `document` truthy when the source holds a text) must hold every
    source the `reported_in` chains pass through; `text_of(holder)` reads a holder's text.
    """
    by_id = {source["id"]: source for source in sources}
    texts, problems = {}, []
    for source in sources:
        holder, seen = source, set()
        while not holder["document"] and holder["reported_in"] is not None and holder["id"] not in seen:
            seen.add(holder["id"])
            holder = by_id[holder["reported_in"]]
        if not holder["document"]:
            problems.append(
                Problem("sources", source["id"], "document", "no document and no reported_in source with one")
            )
            continue
        texts[source["id"]] = (holder["id"], text_of(holder))
    return texts, problems


QUOTE_CONTEXT = 32  # characters of a TextQuoteSelector's prefix and suffix


MAX_OCCURRENCES = 100  # how far an ambiguous excerpt is counted: the work of a check stays bounded


def occurrences(text, excerpt, at_most=MAX_OCCURRENCES):
    """Where `excerpt` starts in `text`, the first `at_most` occurrences (overlapping ones too)."""
    starts, found = [], text.find(excerpt)
    while found != -1 and len(starts) < at_most:
        starts.append(found)
        found = text.find(excerpt, found + 1)
    return starts


def anchor(text, start, excerpt):
    """The anchor columns of an excerpt found at `start`: its TextPositionSelector and its quote's context."""
    end = start + len(excerpt)
    return {
        "target_start": start,
        "target_end": end,
        "target_prefix": text[max(0, start - QUOTE_CONTEXT) : start],
        "target_suffix": text[end : end + QUOTE_CONTEXT],
    }


def anchor_excerpts(resource, record, texts, only=None):
    """Locate every excerpt of `record` (or, given `only`, of the links to those sources) in its document,
    filling in each link's anchor and occurrence; a problem for an excerpt not found verbatim, found more than
    once with no `occurrence`, or a source whose text is missing (`texts` is `source_texts`'s)."""
    problems, found = [], {}
    for i, link in enumerate(record.get("sources", []) if resource in QUOTING_RESOURCES else []):
        if only is not None and link["source"] not in only:
            continue
        if link["source"] not in texts:
            message = f"source '{link['source']}' has no document, nor is it reported in a source with one"
            problems.append(Problem(resource, record["id"], f"sources.{i}.source", message))
            continue
        holder, text = texts[link["source"]]
        wanted = link.get("occurrence")
        key = (holder, link["excerpt"], wanted)
        if key not in found:  # a record may quote one sentence many times: it is looked for once
            found[key] = occurrences(text, link["excerpt"], at_most=wanted or MAX_OCCURRENCES)
        starts = found[key]
        if not starts:
            message = f"not a verbatim excerpt of source '{link['source']}'"
            problems.append(Problem(resource, record["id"], f"sources.{i}.excerpt", message))
        elif wanted is None and len(starts) > 1:
            times = f"{len(starts)} or more" if len(starts) == MAX_OCCURRENCES else str(len(starts))
            message = (
                f"the excerpt occurs {times} times in the document of source '{holder}': "
                f"say which with `occurrence` (from 1)"
            )
            problems.append(Problem(resource, record["id"], f"sources.{i}.occurrence", message))
        elif wanted is not None and wanted > len(starts):
            message = f"the excerpt occurs only {len(starts)} time(s) in the document of source '{holder}'"
            problems.append(Problem(resource, record["id"], f"sources.{i}.occurrence", message))
        else:
            occurrence = wanted or 1
            link.update(occurrence=occurrence, target_source=holder)
            link.update(anchor(text, starts[occurrence - 1], link["excerpt"]))
    return problems


def reporting_chain(source_id, sources_by_id):
    """The source and every source it is reported in, at any depth."""
    chain = []
    while source_id is not None and source_id not in chain:
        chain.append(source_id)
        source_id = sources_by_id.get(source_id, {}).get("reported_in")
    return set(chain)


def independent(first, second, sources_by_id):
    """Two sources are independent only when neither is reported in the other and no source reports both."""
    return not reporting_chain(first, sources_by_id) & reporting_chain(second, sources_by_id)


def status_problems(resource, record, sources_by_id):
    """The strong statuses need their evidence in the record (schemas/vocabulary.py `CLAIM_STATUSES`):
    `confirmed` two independent supporting sources and no contradiction, `refuted` a contradicting source
    and no support. The weaker statuses' rules are held on the shipped dataset by its fidelity tests."""
    if resource != "claims":
        return []
    stances = [(link["source"], link["stance"]) for link in record["sources"]]
    supporting = sorted({source for source, stance in stances if stance == "supports"})
    contradicted = any(stance == "contradicts" for _, stance in stances)
    if record["status"] == "confirmed":
        corroborated = any(
            independent(first, second, sources_by_id)
            for index, first in enumerate(supporting)
            for second in supporting[index + 1 :]
        )
        if not corroborated or contradicted:
            message = (
                "`confirmed` needs two independent sources that support the claim (neither reported in the "
                "other, no source reporting both) and none that contradicts it"
            )
            return [Problem(resource, record["id"], "status", message)]
    if record["status"] == "refuted" and (not contradicted or supporting):
        message = "`refuted` needs a source that contradicts the claim and none that supports it"
        return [Problem(resource, record["id"], "status", message)]
    return []
