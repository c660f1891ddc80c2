"""Matching names from a spreadsheet to records: the W3C Entity Reconciliation API (v0.2) that OpenRefine
speaks, for actors (names and aliases; `country` and `kind` as properties) and events (titles; `type` and
`country`).

A batch of queries reads its resource's candidates once (names, aliases and the constraint columns, no stored
JSON) and scores each query against each candidate's names in Python: 100 for the same name once case,
accents and punctuation are set aside ("Almaz Antey" is "Almaz-Antey"), else the similarity of the two
(difflib) or its words found in the candidate's. A result `match`es only when it alone scores 100 and meets
every property asked.
"""

import difflib
import re
import unicodedata
from dataclasses import dataclass

import orjson

from api.tables import Actor, Event

MAX_QUERIES = 100
MAX_QUERY_LENGTH = 200  # a name, not a text: bounds the likeness work of a batch
MAX_RESULTS = 25
DEFAULT_RESULTS = 5
MISMATCH_PENALTY = 0.5  # a candidate that fails a property asked for keeps half its score and never matches


@dataclass(frozen=True)
class ReconcilableType:
    resource: str
    type_id: str
    name: str
    model: type
    label: object  # the column a candidate is named by
    description: object
    properties: dict  # property id -> (column, name)
    aliases: object = None


TYPES = {
    "actors": ReconcilableType(
        "actors",
        "actor",
        "Actor",
        Actor,
        Actor.name,
        Actor.description,
        {"country": (Actor.country, "Country (ISO 3166-1 alpha-2)"), "kind": (Actor.kind, "Kind of actor")},
        aliases=Actor.aliases,
    ),
    "events": ReconcilableType(
        "events",
        "event",
        "Event",
        Event,
        Event.title,
        Event.summary,
        {"type": (Event.type, "Event type"), "country": (Event.country, "Country (ISO 3166-1 alpha-2)")},
    ),
}


def normalise(text):
    """Lower case, without accents or punctuation, single-spaced: the form two names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[\W_]+", " ", letters.casefold()).split())


def similarity(query, name):
    """100 for the same normalised name; else the better of the two strings' likeness and the share of the
    query's words that begin a word of the name (at most 90: "Almaz Antey" in "Unnamed subsidiary of Almaz-Antey")."""
    if query == name:
        return 100.0
    likeness = difflib.SequenceMatcher(None, query, name).ratio()
    words, named = query.split(), name.split()
    shared = sum(1 for word in words if any(other.startswith(word) for other in named))
    return round(100 * max(likeness, 0.9 * shared / len(words) if words else 0.0), 1)


class QueryError(ValueError):
    """A batch that is not one the protocol describes: names the query and what is wrong."""


def parse_queries(text):
    """{key: query} from the `queries` parameter: a JSON object of at most MAX_QUERIES queries."""
    try:
        queries = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise QueryError(f"`queries` is not JSON: {error}") from None
    if not isinstance(queries, dict):
        raise QueryError('`queries` must be a JSON object of queries, such as {"q0": {"query": "Beijing"}}.')
    if len(queries) > MAX_QUERIES:
        raise QueryError(f"At most {MAX_QUERIES} queries in one batch; this one has {len(queries)}.")
    for key, query in queries.items():
        if not isinstance(query, dict) or not isinstance(query.get("query"), str) or not query["query"].strip():
            raise QueryError(f"Query '{key}' needs a non-empty string `query`.")
        if len(query["query"]) > MAX_QUERY_LENGTH:
            raise QueryError(f"Query '{key}': `query` is longer than {MAX_QUERY_LENGTH} characters.")
        limit = query.get("limit", DEFAULT_RESULTS)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_RESULTS:
            raise QueryError(f"Query '{key}': `limit` must be a whole number from 1 to {MAX_RESULTS}.")
        properties = query.get("properties", [])
        if not isinstance(properties, list) or not all(
            isinstance(p, dict) and isinstance(p.get("pid"), str) for p in properties
        ):
            raise QueryError(f'Query \'{key}\': `properties` must be a list of {{"pid", "v"}}.')
    return queries


def _candidates(kind):
    columns = [kind.model.id, kind.label, *(column for column, _ in kind.properties.values())]
    if kind.aliases is not None:
        columns.append(kind.aliases)
    candidates = []
    for row in kind.model.select(*columns).dicts():
        names = [row[kind.label.name]]
        if kind.aliases is not None:
            names += orjson.loads(row[kind.aliases.name] or "[]")
        candidates.append((row, [normalise(name) for name in names if name]))
    return candidates


def _wanted_values(value):
    """A property value as the protocol may send it: a string, an {"id"} object, or a list of either."""
    values = value if isinstance(value, list) else [value]
    return {str(item.get("id") if isinstance(item, dict) else item) for item in values}


def reconcile(resource, queries):
    """{key: {"result": [...]}} for a batch of queries against one resource."""
    kind = TYPES[resource]
    candidates = _candidates(kind)
    answers = {}
    for key, query in queries.items():
        wanted = normalise(query["query"])
        constraints = {
            item["pid"]: _wanted_values(item.get("v"))
            for item in query.get("properties", [])
            if item["pid"] in kind.properties
        }
        scored = []
        for row, names in candidates:
            score = max((similarity(wanted, name) for name in names), default=0.0)
            meets = all(str(row[kind.properties[pid][0].name]) in values for pid, values in constraints.items())
            if not meets:
                score = round(score * MISMATCH_PENALTY, 1)
            scored.append((score, meets, row))
        scored.sort(key=lambda item: (-item[0], item[2]["id"]))
        exact = [item for item in scored if item[0] == 100.0]
        results = [
            {
                "id": row["id"],
                "name": row[kind.label.name],
                "type": [{"id": kind.type_id, "name": kind.name}],
                "score": score,
                "match": score == 100.0 and meets and len(exact) == 1,
            }
            for score, meets, row in scored[: query.get("limit", DEFAULT_RESULTS)]
            if score > 0
        ]
        answers[key] = {"result": results}
    return answers


def suggest(resource, prefix, limit=10):
    """Records whose name (or an alias) starts with, or has a word starting with, the prefix typed so far."""
    kind = TYPES[resource]
    wanted = normalise(prefix)
    found = []
    for row, names in _candidates(kind):
        if any(name.startswith(wanted) or f" {wanted}" in f" {name}" for name in names):
            found.append({"id": row["id"], "name": row[kind.label.name]})
    found.sort(key=lambda item: (not normalise(item["name"]).startswith(wanted), item["name"].casefold()))
    return found[:limit]


def suggest_properties(resource, prefix):
    kind = TYPES[resource]
    wanted = normalise(prefix)
    return [
        {"id": pid, "name": name}
        for pid, (_column, name) in kind.properties.items()
        if not wanted or pid.startswith(wanted) or normalise(name).startswith(wanted)
    ]


def preview(resource, record_id):
    """(name, description, property values) of one record, or None."""
    kind = TYPES[resource]
    columns = [kind.label, kind.description, *(column for column, _ in kind.properties.values())]
    row = kind.model.select(*columns).where(kind.model.id == record_id).dicts().first()
    if row is None:
        return None
    properties = {name: row[column.name] for column, name in kind.properties.values()}
    return row[kind.label.name], row[kind.description.name], properties
