"""Response envelopes: every list, related list and detail of the shipped dataset has the documented shape."""

import re
from datetime import datetime

import pytest
from helpers import RELATED, SHIPPED_COUNTS, check_each

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
LIST_KEYS = {"data", "meta", "links"}
LIST_META_KEYS = {"count", "limit", "next_cursor", "dataset_revision", "dataset_version"}
LINKS_KEYS = {"self", "next"}
RESOURCES = ("events", "actors", "claims", "sources")
# Fields every record of a resource carries in a list (owned links included, reverse relations not).
LIST_FIELDS = {
    "events": {
        "id", "title", "summary", "type", "date", "date_approximate", "date_note", "location", "date_start",
        "date_end", "date_precision", "created_at", "updated_at", "version", "revision", "actors", "sources",
    },
    "claims": {
        "id", "statement", "status", "status_rationale", "credibility", "credibility_rationale", "created_at",
        "updated_at", "version", "revision", "actors", "sources", "events",
    },
    "actors": {
        "id", "name", "kind", "country", "aliases", "parent", "description", "created_at", "updated_at", "version",
        "revision",
    },
    "sources": {
        "id", "type", "title", "publisher", "author", "url", "published", "published_note", "language", "reliability",
        "reliability_rationale", "document", "reported_in", "access", "published_start", "published_end",
        "published_precision", "created_at", "updated_at", "version", "revision",
    },
}  # fmt: skip


def assert_bookkeeping(record):
    """id, created_at/updated_at in RFC 3339 with Z, integer version."""
    assert isinstance(record.get("id"), str) and record["id"], record
    for name in ("created_at", "updated_at"):
        value = record.get(name)
        assert isinstance(value, str) and RFC3339_Z.match(value), (record["id"], name, value)
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert record["updated_at"] >= record["created_at"], record["id"]
    assert type(record.get("version")) is int and record["version"] >= 1, (record["id"], record.get("version"))


def assert_list_envelope(response, path, revision, limit=50, before=0):
    """`before`: how many records the earlier pages held (when walking pages)."""
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == LIST_KEYS, set(body)
    assert set(body["meta"]) == LIST_META_KEYS, set(body["meta"])
    assert set(body["links"]) == LINKS_KEYS, set(body["links"])
    assert isinstance(body["data"], list)
    meta = body["meta"]
    assert type(meta["count"]) is int and meta["count"] >= len(body["data"])
    assert meta["limit"] == limit
    assert meta["dataset_revision"] == revision
    assert meta["dataset_version"] == f"r{revision}" == response.headers["Dataset-Version"]
    assert body["links"]["self"] == "http://localhost" + path
    assert len(body["data"]) == min(limit, meta["count"] - before)
    if meta["count"] > before + len(body["data"]):
        assert isinstance(meta["next_cursor"], str) and meta["next_cursor"]
        assert isinstance(body["links"]["next"], str) and meta["next_cursor"] in body["links"]["next"]
        assert response.headers["Link"] == f'<{body["links"]["next"]}>; rel="next"'
    else:
        assert meta["next_cursor"] is None
        assert body["links"]["next"] is None
        assert "Link" not in response.headers
    for record in body["data"]:
        assert_bookkeeping(record)
    return body


def related_ids(fixtures):
    """{(resource, id, relation): set of related ids} from the fixture files, both directions."""
    related = {}

    def add(resource, record_id, relation, target_id):
        related.setdefault((resource, record_id, relation), set()).add(target_id)

    for resource in RESOURCES:
        for record in fixtures[resource]:
            for relation in RELATED[resource]:
                related.setdefault((resource, record["id"], relation), set())
    for event in fixtures["events"]:
        for link in event["actors"]:
            add("events", event["id"], "actors", link["actor"])
            add("actors", link["actor"], "events", event["id"])
        for link in event["sources"]:
            add("events", event["id"], "sources", link["source"])
            add("sources", link["source"], "events", event["id"])
    for claim in fixtures["claims"]:
        for event_id in claim["events"]:
            add("claims", claim["id"], "events", event_id)
            add("events", event_id, "claims", claim["id"])
        for link in claim["actors"]:
            add("claims", claim["id"], "actors", link["actor"])
            add("actors", link["actor"], "claims", claim["id"])
        for link in claim["sources"]:
            add("claims", claim["id"], "sources", link["source"])
            add("sources", link["source"], "claims", claim["id"])
    return related


@pytest.fixture
def revision(seeded, client):
    return client.get("/api/v1").get_json()["dataset_revision"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_list_envelope(client, revision, seed_fixtures, resource):
    path = f"/api/v1/{resource}"
    body = assert_list_envelope(client.get(path), path, revision)
    expected = {record["id"] for record in seed_fixtures[resource]}
    assert body["meta"]["count"] == len(expected)
    assert sorted(record["id"] for record in body["data"]) == sorted(expected)
    for record in body["data"]:
        assert set(record) == LIST_FIELDS[resource], set(record) ^ LIST_FIELDS[resource]


@pytest.mark.parametrize("resource", RESOURCES)
def test_paged_list_envelope_links_every_page(client, revision, seed_fixtures, resource):
    path, seen, pages = f"/api/v1/{resource}?limit=4", [], 0
    while path:
        response = client.get(path)
        body = assert_list_envelope(
            response, path.removeprefix("http://localhost"), revision, limit=4, before=len(seen)
        )
        assert body["meta"]["count"] == len(seed_fixtures[resource])
        seen += [record["id"] for record in body["data"]]
        path, pages = body["links"]["next"], pages + 1
    assert len(seen) == len(set(seen)) == len(seed_fixtures[resource])
    assert pages == -(-len(seed_fixtures[resource]) // 4)


def test_related_list_envelopes(client, revision, seed_fixtures):
    related = related_ids(seed_fixtures)
    assert len(related) == sum(SHIPPED_COUNTS[name] * len(RELATED[name]) for name in RESOURCES)

    def check(resource, record_id, relation):
        path = f"/api/v1/{resource}/{record_id}/{relation}"
        body = assert_list_envelope(client.get(path), path, revision)
        expected = related[(resource, record_id, relation)]
        assert body["meta"]["count"] == len(expected)
        assert {record["id"] for record in body["data"]} == expected
        assert len(body["data"]) == len(expected)  # each related record once, however many links
        # A relation with attributes (a role, a stance, an excerpt) gives each record its `links` to the parent.
        with_links = relation != "events" or resource != "claims"
        with_links = with_links and not (resource == "events" and relation == "claims")
        for record in body["data"]:
            assert set(record) == LIST_FIELDS[relation] | ({"links"} if with_links else set())
            assert not with_links or record["links"]

    check_each(sorted(related), check)
    # Every relation of the dataset is used somewhere.
    for resource, relations in RELATED.items():
        for relation in relations:
            assert any(ids for (r, _, rel), ids in related.items() if (r, rel) == (resource, relation))


def test_list_with_include_keeps_the_envelope(client, revision):
    for resource, relations in RELATED.items():
        path = f"/api/v1/{resource}?include={','.join(relations)}&limit=5"
        body = assert_list_envelope(client.get(path), path, revision, limit=5)
        for record in body["data"]:
            for relation in relations:
                for linked in record[relation]:
                    assert_bookkeeping(linked)


def test_detail_envelopes(client, revision, seed_fixtures):
    def check(resource, record_id):
        response = client.get(f"/api/v1/{resource}/{record_id}")
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        body = response.get_json()
        assert set(body) == {"data", "meta"}
        assert body["meta"] == {"dataset_revision": revision}
        record = body["data"]
        assert record["id"] == record_id
        assert_bookkeeping(record)
        # A detail embeds every relation, owned and reverse.
        assert set(record) == LIST_FIELDS[resource] | set(RELATED[resource])
        for relation in RELATED[resource]:
            assert isinstance(record[relation], list)
            assert all(isinstance(link.get("id"), str) for link in record[relation])

    cases = [(resource, record["id"]) for resource in RESOURCES for record in seed_fixtures[resource]]
    assert len(cases) == sum(SHIPPED_COUNTS.values())
    check_each(cases, check)


def test_detail_with_include_embeds_full_records(client, revision):
    for resource, record_id in (
        ("events", "reuters-investigation-published"),
        ("claims", "almaz-antey-subsidiary-developed-attack-drones"),
        ("actors", "european-union"),
        ("sources", "modern-warfare-newsletter"),
    ):
        relations = RELATED[resource]
        body = client.get(f"/api/v1/{resource}/{record_id}?include={','.join(relations)}").get_json()
        assert set(body) == {"data", "meta"}
        for relation in relations:
            assert body["data"][relation], (resource, relation)
            for linked in body["data"][relation]:
                assert_bookkeeping(linked)


def test_version_and_timestamps_after_an_edit(load, client):
    source = {
        "id": "wire-report",
        "type": "press_report",
        "title": "Wire report",
        "reliability": "B",
        "reliability_rationale": "A wire service.",
    }
    load(sources=[source])
    first = client.get("/api/v1/sources/wire-report").get_json()["data"]
    assert first["version"] == 1
    assert first["created_at"] == first["updated_at"]
    load(sources=[{**source, "title": "Wire report (corrected)"}])
    second = client.get("/api/v1/sources/wire-report").get_json()["data"]
    assert_bookkeeping(second)
    assert second["version"] == 2
    assert second["created_at"] == first["created_at"]
    assert second["updated_at"] >= first["updated_at"]
    listed = client.get("/api/v1/sources").get_json()
    assert listed["data"][0]["version"] == 2
    assert listed["meta"]["dataset_revision"] == 2
