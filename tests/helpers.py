"""What several test files share: the shipped dataset's size (read from the fixtures), the routes, small helpers."""

import json

from seed.loader import read_fixtures

SHIPPED = read_fixtures()
SHIPPED_COUNTS = {name: len(records) for name, records in SHIPPED.items()}


def summary(kind):
    """The `eventledger seed` summary after a first load ('created') or a repeat ('unchanged')."""
    parts = []
    for name, count in SHIPPED_COUNTS.items():
        created, unchanged = (count, 0) if kind == "created" else (0, count)
        parts.append(f"{name}: {created} created, 0 updated, {unchanged} unchanged")
    return ", ".join(parts)


LISTS = ("/api/v1/events", "/api/v1/actors", "/api/v1/claims", "/api/v1/sources")
# The relations of each resource, as the API's related lists and `include` name them.
RELATED = {
    "events": ("actors", "sources", "claims"),
    "claims": ("actors", "sources", "events"),
    "actors": ("events", "claims"),
    "sources": ("events", "claims"),
}
# A record of each resource in the shipped dataset, for routes that need a real parent.
SEEDED_IDS = {
    "events": "reuters-investigation-published",
    "claims": "almaz-antey-subsidiary-developed-attack-drones",
    "actors": "european-union",
    "sources": "modern-warfare-newsletter",
}


def get_ok(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True))
    return response.get_json()


def check_each(cases, check):
    """Run `check` on every case and report every failing case at once."""
    failures = []
    for case in cases:
        try:
            check(*case) if isinstance(case, tuple) else check(case)
        except AssertionError as error:
            failures.append(f"{case!r}: {error}")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)


def assert_bad_parameter(client, url, parameter):
    response = client.get(url)
    assert response.status_code == 400, (url, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 400
    assert parameter in [error["parameter"] for error in body["errors"]]


def source(record_id, **fields):
    """A source whose text holds the excerpts `event` and `claim` quote from it, each once."""
    text = f"excerpt of {record_id}.\n" + "".join(f"[excerpt {n} of {record_id}]\n" for n in range(50))
    return {
        "id": record_id,
        "type": "press_report",
        "title": f"source {record_id}",
        "reliability": "C",
        "reliability_rationale": "filler",
        "document": {"text": text},
        **fields,
    }


def actor(record_id, **fields):
    return {"id": record_id, "name": f"actor {record_id}", "kind": "state", "description": "filler", **fields}


def event(record_id, actors, sources, **fields):
    """An event linked to (actor, role) pairs and to sources (each excerpt distinct, so a source may repeat)."""
    return {
        "id": record_id,
        "title": f"event {record_id}",
        "summary": "filler",
        "type": "accusation",
        "actors": [{"actor": actor_id, "role": role} for actor_id, role in actors],
        "sources": [
            {"source": source_id, "stance": "reports", "excerpt": f"excerpt {n} of {source_id}"}
            for n, source_id in enumerate(sources)
        ],
        **fields,
    }


def claim(record_id, events, actors, sources, **fields):
    """A claim of events, with (actor, stance) and (source, stance) pairs."""
    return {
        "id": record_id,
        "statement": f"claim {record_id}",
        "status": "alleged",
        "status_rationale": "filler",
        "credibility": 3,
        "credibility_rationale": "filler",
        "events": list(events),
        "actors": [{"actor": actor_id, "stance": stance} for actor_id, stance in actors],
        "sources": [{"source": sid, "stance": stance, "excerpt": f"excerpt of {sid}"} for sid, stance in sources],
        **fields,
    }


def assert_stored_json_is_fresh(app):
    """Every record's stored JSON equals its schema's dump of its row and its owned links, read now."""
    from api.catalog.csv_rows import row_template
    from api.db import database
    from api.tables import STORED_JSON

    with app.app_context(), database.connection_context():
        for spec in app.extensions["eventledger.specs"].values():
            table = STORED_JSON[spec.model]
            stored = dict(table.select(table.record, table.json).tuples())
            stored_csv = dict(table.select(table.record, table.csv).tuples())
            rows = list(spec.model.select().dicts())
            assert set(stored) == {row["id"] for row in rows}, spec.name
            assert rows, spec.name
            owned = {name: relation for name, relation in spec.relations.items() if relation.owned}
            links = {name: relation.links(row["id"] for row in rows) for name, relation in owned.items()}
            for row in rows:
                data = dict(row)
                for name in owned:
                    data[name] = [
                        {key: value for key, value in link.items() if key != "local_id"}
                        for link in links[name]
                        if link["local_id"] == row["id"]
                    ]
                assert json.loads(stored[row["id"]]) == spec.schema.dump(data), (spec.name, row["id"])
                fresh_csv = row_template(spec, json.loads(stored[row["id"]]))
                assert stored_csv[row["id"]] == fresh_csv, (spec.name, row["id"])
