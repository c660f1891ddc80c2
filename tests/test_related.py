"""Related lists (/events/{id}/actors, ...): exactly the related records, as the target's list, scoped."""

from urllib.parse import parse_qs, urlsplit

import pytest

from api.catalog import SPECS

API = "/api/v1"

# (resource, relation) -> (target resource, the target's filter that names the parent)
ROUTES = {
    ("events", "actors"): ("actors", "event"),
    ("events", "sources"): ("sources", "event"),
    ("events", "claims"): ("claims", "event"),
    ("claims", "actors"): ("actors", "claim"),
    ("claims", "sources"): ("sources", "claim"),
    ("claims", "events"): ("events", "claim"),
    ("actors", "events"): ("events", "actor"),
    ("actors", "claims"): ("claims", "actor"),
    ("sources", "events"): ("events", "source"),
    ("sources", "claims"): ("claims", "source"),
}


# --- helpers -------------------------------------------------------------------


def get_ok(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True))
    return response


def list_body(client, url):
    separator = "&" if "?" in url else "?"
    body = get_ok(client, f"{url}{separator}limit=200").get_json()
    assert body["meta"]["next_cursor"] is None
    assert body["meta"]["count"] == len(body["data"])
    return body


def list_ids(client, url):
    found = [record["id"] for record in list_body(client, url)["data"]]
    assert len(found) == len(set(found)), f"duplicates in {url}: {found}"
    return found


def walk_ids(client, url):
    ids, pages = [], 0
    while url:
        response = get_ok(client, url)
        body = response.get_json()
        pages += 1
        ids += [record["id"] for record in body["data"]]
        url = body["links"]["next"]
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
        assert pages < 500
    return ids, pages


def related_ids(fixtures, resource, relation):
    """{parent id: set of related ids} from fixture dicts."""
    found = {record["id"]: set() for record in fixtures[resource]}
    owned = {("events", "actors"): "actor", ("events", "sources"): "source"}
    owned |= {("claims", "actors"): "actor", ("claims", "sources"): "source"}
    if (resource, relation) in owned:
        key = owned[(resource, relation)]
        for record in fixtures[resource]:
            found[record["id"]] = {link[key] for link in record[relation]}
    elif (resource, relation) == ("claims", "events"):
        for record in fixtures["claims"]:
            found[record["id"]] = set(record["events"])
    elif (resource, relation) == ("events", "claims"):
        for record in fixtures["claims"]:
            for event_id in record["events"]:
                found[event_id].add(record["id"])
    else:  # the reverse side of an owned link: actors/sources -> events/claims
        key = resource[:-1]
        for record in fixtures[relation]:
            for link in record[resource]:
                found[link[key]].add(record["id"])
    return found


def assert_problem(response, status, url):
    assert response.status_code == status, (url, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["instance"] == urlsplit(url).path
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    return body


# --- the shipped dataset ---------------------------------------------------------


@pytest.mark.parametrize(("resource", "relation"), list(ROUTES), ids=[f"{r}-{rel}" for r, rel in ROUTES])
def test_every_related_list_of_the_shipped_data_is_exactly_the_related_records(
    seeded, seed_fixtures, resource, relation
):
    client = seeded.test_client()
    target, parameter = ROUTES[(resource, relation)]
    expected = related_ids(seed_fixtures, resource, relation)
    assert len(expected) == len(seed_fixtures[resource])
    assert any(expected.values())
    for parent, wanted in expected.items():
        body = list_body(client, f"{API}/{resource}/{parent}/{relation}")
        found = [record["id"] for record in body["data"]]
        assert len(found) == len(set(found)), (parent, found)
        assert set(found) == wanted, (parent, relation)
        # Each record carries its links' attributes, as the parent's detail shows them, one per link.
        declared = SPECS[resource].relations[relation]
        names = (*declared.attributes, *(("target",) if declared.computed else ()))
        detail_links = client.get(f"{API}/{resource}/{parent}").get_json()["data"][relation]
        for record in body["data"]:
            links = record.pop("links", None)
            if names:
                expected_links = [{n: link[n] for n in names} for link in detail_links if link["id"] == record["id"]]
                assert links == expected_links and links, (parent, record["id"])
            else:
                assert links is None, (parent, record["id"])
        # the same records, in the same order and shape, as the target's list filtered by the parent
        filtered = list_body(client, f"{API}/{target}?{parameter}={parent}")
        assert body["data"] == filtered["data"], (parent, relation)


# --- a purpose-made dataset ------------------------------------------------------


def _event(record_id, date, type_, actors, sources, title):
    return {
        "id": record_id,
        "title": title,
        "summary": "filler",
        "type": type_,
        "date": date,
        "actors": [{"actor": actor_id, "role": role} for actor_id, role in actors],
        "sources": [
            {"source": source_id, "stance": "reports", "excerpt": f"excerpt {n}"} for n, source_id in enumerate(sources)
        ],
    }


def _claim(record_id, status, credibility, events, actors, sources):
    return {
        "id": record_id,
        "statement": f"statement {record_id}",
        "status": status,
        "status_rationale": "filler",
        "credibility": credibility,
        "credibility_rationale": "filler",
        "events": events,
        "actors": [{"actor": actor_id, "stance": stance} for actor_id, stance in actors],
        "sources": [{"source": source_id, "stance": stance, "excerpt": "filler"} for source_id, stance in sources],
    }


def _source(record_id, type_, reliability, publisher=None):
    return {
        "id": record_id,
        "type": type_,
        "title": f"title {record_id}",
        "publisher": publisher,
        "reliability": reliability,
        "reliability_rationale": "filler",
    }


RECORDS = {
    "sources": [
        _source("s-a", "news_investigation", "B", "Reuters"),
        _source("s-b", "official_statement", "A"),
        _source("s-c", "press_report", "E"),
        _source("s-idle", "other", "F"),
    ],
    "actors": [
        {"id": "a-x", "name": "Xland", "kind": "state", "country": "RU", "description": "filler"},
        {"id": "a-y", "name": "Y agency", "kind": "agency", "country": "CN", "parent": "a-x", "description": "filler"},
        {"id": "a-w", "name": "Wland", "kind": "state", "country": "CN", "description": "filler"},
        {"id": "a-z", "name": "Zed", "kind": "person", "description": "filler"},
    ],
    "events": [
        _event(
            "e-1",
            "2024-09-15",
            "accusation",
            [("a-x", "subject"), ("a-y", "reporter"), ("a-x", "accuser"), ("a-w", "accuser")],
            ["s-b", "s-a", "s-b", "s-c"],
            "Drone factory found",
        ),
        _event("e-2", "XXXX-09", "official_denial", [("a-y", "denier"), ("a-x", "subject")], ["s-b"], "Denial"),
        _event("e-3", "2023", "military_attack", [("a-x", "target")], ["s-a"], "Strike on a factory"),
        _event("e-4", "2025-01", "accusation", [("a-x", "accuser"), ("a-w", "subject")], ["s-c"], "Accusation"),
    ],
    "claims": [
        _claim(
            "c-1",
            "alleged",
            2,
            ["e-2", "e-1"],
            [("a-y", "denies"), ("a-x", "asserts")],
            [("s-a", "supports"), ("s-b", "contradicts")],
        ),
        _claim("c-2", "disputed", 4, ["e-1"], [("a-y", "subject")], [("s-a", "reports")]),
        _claim(
            "c-3",
            "alleged",
            1,
            ["e-1", "e-4"],
            [("a-x", "asserts"), ("a-w", "denies")],
            [("s-c", "supports"), ("s-a", "reports")],
        ),
        _claim("c-4", "confirmed", 1, ["e-3"], [("a-w", "asserts")], [("s-b", "supports")]),
    ],
}


@pytest.fixture
def linked(client, load):
    load(**RECORDS)
    return client


def test_every_related_route_lists_exactly_the_related_records(linked):
    mismatches = []
    for (resource, relation), (target, parameter) in ROUTES.items():
        for parent, wanted in related_ids(RECORDS, resource, relation).items():
            body = list_body(linked, f"{API}/{resource}/{parent}/{relation}")
            found = [record["id"] for record in body["data"]]
            if sorted(found) != sorted(wanted):
                mismatches.append(f"{resource}/{parent}/{relation}: expected {sorted(wanted)}, got {found}")
            filtered = list_body(linked, f"{API}/{target}?{parameter}={parent}")
            records = [{key: value for key, value in record.items() if key != "links"} for record in body["data"]]
            if records != filtered["data"]:
                mismatches.append(f"{resource}/{parent}/{relation} differs from {target}?{parameter}={parent}")
    assert not mismatches, "\n".join(mismatches)


def test_a_record_linked_twice_is_listed_once(linked):
    # e-1 names a-x twice (subject, accuser) and s-b twice (two excerpts)
    assert list_ids(linked, f"{API}/events/e-1/actors") == ["a-w", "a-x", "a-y"]  # by name: Wland, Xland, Y agency
    assert list_ids(linked, f"{API}/events/e-1/sources") == ["s-a", "s-b", "s-c"]
    assert list_ids(linked, f"{API}/actors/a-x/events") == ["e-3", "e-1", "e-4", "e-2"]  # by date, undated last
    assert list_ids(linked, f"{API}/sources/s-b/events") == ["e-1", "e-2"]


def test_a_parent_without_related_records_gives_an_empty_list(linked):
    for url in ("actors/a-z/events", "actors/a-z/claims", "sources/s-idle/events", "sources/s-idle/claims"):
        body = list_body(linked, f"{API}/{url}")
        assert body["data"] == [] and body["meta"]["count"] == 0, url


RELATED_FILTER_CASES = [
    # events of an actor
    ("actors/a-x/events?type=accusation", ["e-1", "e-4"]),
    ("actors/a-x/events?date_from=2024", ["e-1", "e-4"]),
    ("actors/a-x/events?date_from=2024-10&date_to=2025", ["e-4"]),
    ("actors/a-x/events?source=s-a", ["e-3", "e-1"]),
    ("actors/a-x/events?claim=c-3", ["e-1", "e-4"]),
    ("actors/a-x/events?q=factory&sort=date", ["e-3", "e-1"]),
    ("actors/a-x/events?q=factory&type=military_attack", ["e-3"]),
    ("actors/a-x/events?actor=a-w", ["e-1", "e-4"]),
    ("actors/a-x/events?sort=-date", ["e-4", "e-1", "e-3", "e-2"]),
    ("actors/a-x/events?sort=title", ["e-4", "e-2", "e-1", "e-3"]),
    ("actors/a-y/events?type=military_attack", []),
    ("actors/a-x/events?claim=nobody", []),
    # actors of an event
    ("events/e-1/actors?kind=state", ["a-w", "a-x"]),
    ("events/e-1/actors?country=CN", ["a-w", "a-y"]),
    ("events/e-1/actors?parent=a-x", ["a-y"]),
    ("events/e-1/actors?claim=c-2", ["a-y"]),
    ("events/e-1/actors?sort=-name", ["a-y", "a-x", "a-w"]),
    ("events/e-1/actors?q=state", []),
    ("events/e-1/actors?q=wland", ["a-w"]),
    ("events/e-3/actors?kind=person", []),
    # sources of an event, claims of an event
    ("events/e-1/sources?reliability=A,E", ["s-b", "s-c"]),
    ("events/e-1/sources?claim=c-4", ["s-b"]),
    ("events/e-1/sources?publisher=REUTERS", ["s-a"]),
    ("events/e-1/sources?sort=-id", ["s-c", "s-b", "s-a"]),
    ("events/e-1/claims?status=alleged", ["c-1", "c-3"]),
    ("events/e-1/claims?credibility=1", ["c-3"]),
    ("events/e-1/claims?actor=a-w&stance=denies", ["c-3"]),
    ("events/e-1/claims?sort=-credibility", ["c-2", "c-1", "c-3"]),
    # events, actors and sources of a claim
    ("claims/c-3/events?date_to=2024", ["e-1"]),
    ("claims/c-3/events?sort=-date", ["e-4", "e-1"]),
    ("claims/c-1/actors?kind=agency", ["a-y"]),
    ("claims/c-1/actors?event=e-2", ["a-x", "a-y"]),
    ("claims/c-1/sources?type=official_statement", ["s-b"]),
    ("claims/c-1/sources?reliability=C", []),
    # claims of an actor, of a source; events of a source
    ("actors/a-w/claims?status=confirmed", ["c-4"]),
    ("actors/a-w/claims?sort=-id", ["c-4", "c-3"]),
    ("actors/a-w/claims?source=s-c", ["c-3"]),
    ("sources/s-a/events?type=military_attack", ["e-3"]),
    ("sources/s-a/events?date_from=2024", ["e-1"]),
    ("sources/s-a/claims?status=alleged&credibility=2", ["c-1"]),
    ("sources/s-a/claims?event=e-4", ["c-3"]),
    ("sources/s-a/claims?sort=credibility,-id", ["c-3", "c-1", "c-2"]),
]


def test_related_lists_accept_the_target_filters_search_and_sort(linked):
    mismatches = []
    for url, expected in RELATED_FILTER_CASES:
        found = list_ids(linked, f"{API}/{url}")
        if found != expected:
            mismatches.append(f"{url}: expected {expected}, got {found}")
    assert not mismatches, "\n".join(mismatches)


def test_related_lists_accept_fields_and_include(linked):
    data = list_body(linked, f"{API}/actors/a-w/events?fields=title&include=claims")["data"]
    # `links` belongs to the list, not to the record: `fields` chooses among the record's own.
    assert [set(record) for record in data] == [{"id", "title", "claims", "links"}] * 2
    assert [record["id"] for record in data] == ["e-1", "e-4"]
    assert sorted(claim["id"] for claim in data[1]["claims"]) == ["c-3"]
    assert data[1]["claims"][0]["status"] == "alleged"
    data = list_body(linked, f"{API}/claims/c-1/actors?include=events")["data"]
    by_id = {record["id"]: record for record in data}
    assert sorted((event["id"], event["role"]) for event in by_id["a-y"]["events"]) == [
        ("e-1", "reporter"),
        ("e-2", "denier"),
    ]


@pytest.mark.parametrize(
    ("url", "limit"),
    [
        ("events/e-1/actors", 1),
        ("events/e-1/sources?sort=-id", 2),
        ("actors/a-x/events?sort=-date", 1),
        ("actors/a-x/events?sort=title,-date", 3),
        ("sources/s-a/claims?sort=-credibility", 2),
        ("claims/c-3/events", 1),
    ],
)
def test_related_lists_paginate(linked, url, limit):
    expected = list_ids(linked, f"{API}/{url}")
    separator = "&" if "?" in url else "?"
    walked, pages = walk_ids(linked, f"{API}/{url}{separator}limit={limit}")
    assert walked == expected
    assert pages == -(-len(expected) // limit)
    first = get_ok(linked, f"{API}/{url}{separator}limit={limit}").get_json()
    assert first["meta"]["count"] == len(expected)
    if first["links"]["next"]:
        next_url = urlsplit(first["links"]["next"])
        assert next_url.path == f"{API}/{url.split('?')[0]}"
        assert parse_qs(next_url.query)["limit"] == [str(limit)]


def test_related_list_cursor_is_checked_like_any_other(linked):
    cursor = get_ok(linked, f"{API}/events/e-1/actors?limit=1").get_json()["meta"]["next_cursor"]
    response = linked.get(f"{API}/events/e-1/actors?limit=1&sort=-name&cursor={cursor}")
    assert_problem(response, 400, f"{API}/events/e-1/actors")
    response = linked.get(f"{API}/events/e-1/actors?limit=1&cursor={cursor[:-3]}xyz")
    assert_problem(response, 400, f"{API}/events/e-1/actors")


@pytest.mark.parametrize(("resource", "relation"), list(ROUTES), ids=[f"{r}-{rel}" for r, rel in ROUTES])
def test_unknown_parent_is_a_404_problem(linked, resource, relation):
    singular = resource[:-1]
    for url in (
        f"{API}/{resource}/nope/{relation}",
        f"{API}/{resource}/nope/{relation}?limit=1",
        f"{API}/{resource}/e-x1/{relation}?sort=-id",
    ):
        body = assert_problem(linked.get(url), 404, url)
        parent = urlsplit(url).path.split("/")[-2]
        assert body["detail"] == f"No {singular} with id '{parent}'."


def test_a_related_list_exists_only_for_real_relations(linked):
    for url in ("actors/a-x/sources", "sources/s-a/actors", "events/e-1/events", "claims/c-1/claims"):
        assert_problem(linked.get(f"{API}/{url}"), 404, f"{API}/{url}")


def test_related_lists_reject_invalid_values_of_the_target_parameters(linked):
    for url, parameter in [
        ("events/e-1/actors?kind=bogus", "kind"),
        ("actors/a-x/events?date_from=2024-13", "date_from"),
        ("actors/a-x/events?sort=name", "sort"),
        ("events/e-1/claims?credibility=9", "credibility"),
        ("sources/s-a/claims?limit=0", "limit"),
        ("claims/c-1/sources?include=actors", "include"),
    ]:
        body = assert_problem(linked.get(f"{API}/{url}"), 400, f"{API}/{url}")
        assert parameter in [error["parameter"] for error in body["errors"]], url


def test_related_lists_reject_parameters_of_the_parent_list(linked):
    """A related list takes the target's parameters: the parent's own filters are unknown there."""
    for url, parameter in [
        ("events/e-1/actors?role=subject", "role"),
        ("events/e-1/actors?type=accusation", "type"),
        ("actors/a-x/events?kind=state", "kind"),
        ("claims/c-1/sources?stance=supports", "stance"),
    ]:
        body = assert_problem(linked.get(f"{API}/{url}"), 400, f"{API}/{url}")
        assert parameter in [error["parameter"] for error in body["errors"]], url
