"""Conditional GETs: ETags everywhere, 304 for a matching If-None-Match, decided without touching the data."""

import copy
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from helpers import LISTS, RELATED, SEEDED_IDS, SHIPPED_COUNTS


def seeded_paths():
    """One GET of every kind: the index, each list (plain and with parameters), detail and related list."""
    paths = ["/api/v1", *LISTS, "/api/v1/events?limit=2&sort=-title", "/api/v1/claims?include=actors&status=alleged"]
    for resource, record_id in SEEDED_IDS.items():
        paths.append(f"/api/v1/{resource}/{record_id}")
        paths.append(f"/api/v1/{resource}/{record_id}?include={RELATED[resource][0]}")
        paths += [f"/api/v1/{resource}/{record_id}/{relation}" for relation in RELATED[resource]]
    return paths


def check_each(cases, check):
    """Run `check` on every case and report every failing case at once."""
    failures = []
    for case in cases:
        try:
            check(case)
        except AssertionError as error:
            failures.append(f"{case!r}: {error}")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)


def sql_statements(counter):
    """The SQL statements among the peewee log records (the pool logs its own messages under `peewee.pool`)."""
    return [message for message in counter.queries if message.startswith(("('", '("'))]


def http_date(timestamp):
    """An RFC 3339 `...Z` timestamp as an HTTP date (whole seconds)."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(UTC)
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


# --- A small dataset that tests can edit ------------------------------------------------------

SOURCE = {
    "id": "wire-report",
    "type": "press_report",
    "title": "Wire report",
    "publisher": "Wire",
    "reliability": "B",
    "reliability_rationale": "A wire service.",
    "document": {"text": "Wire: an incident at the border; talks were held; State A blamed State B.\n"},
}
ACTORS = [
    {"id": "state-a", "name": "State A", "kind": "state", "country": "AA", "description": "A state."},
    {"id": "state-b", "name": "State B", "kind": "state", "country": "BB", "description": "Another state."},
]
EVENT = {
    "id": "border-incident",
    "title": "Border incident",
    "summary": "An incident at the border.",
    "type": "accusation",
    "date": "2024-05-01",
    "actors": [{"actor": "state-a", "role": "accuser"}, {"actor": "state-b", "role": "subject"}],
    "sources": [{"source": "wire-report", "stance": "reports", "excerpt": "an incident at the border"}],
}
OTHER_EVENT = {
    "id": "talks-held",
    "title": "Talks held",
    "summary": "Talks were held.",
    "type": "official_assessment",
    "date": "2024-06",
    "actors": [{"actor": "state-b", "role": "reporter"}],
    "sources": [{"source": "wire-report", "stance": "reports", "excerpt": "talks were held"}],
}
CLAIM = {
    "id": "state-a-blames-state-b",
    "statement": "State B caused the incident.",
    "status": "alleged",
    "status_rationale": "Only State A says so.",
    "credibility": 3,
    "credibility_rationale": "One party's word.",
    "events": ["border-incident"],
    "actors": [{"actor": "state-a", "stance": "asserts"}, {"actor": "state-b", "stance": "denies"}],
    "sources": [{"source": "wire-report", "stance": "reports", "excerpt": "State A blamed State B"}],
}


@pytest.fixture
def small(load):
    load(sources=[SOURCE], actors=ACTORS, events=[EVENT, OTHER_EVENT], claims=[CLAIM])
    return load


SMALL_PATHS = (
    "/api/v1",
    "/api/v1/events",
    "/api/v1/events/border-incident",
    "/api/v1/events/talks-held",
    "/api/v1/events/border-incident/actors",
    "/api/v1/actors/state-a/claims",
    "/api/v1/claims?include=events",
)


# --- ETag and Cache-Control on every GET ------------------------------------------------------


def test_every_get_has_a_strong_etag_and_public_cache_control(seeded, client):
    def check(path):
        response = client.get(path)
        assert response.status_code == 200
        etag = response.headers.get("ETag")
        assert etag, "no ETag"
        assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2, etag
        cache_control = {item.strip().split("=")[0] for item in response.headers.get("Cache-Control", "").split(",")}
        assert "public" in cache_control, response.headers.get("Cache-Control")
        assert "max-age" in cache_control, response.headers.get("Cache-Control")
        assert "no-store" not in cache_control and "private" not in cache_control
        # The same request gets the same tag.
        assert client.get(path).headers["ETag"] == etag

    check_each(seeded_paths(), check)


def test_different_requests_get_different_etags(seeded, client):
    paths = [
        "/api/v1/events",
        "/api/v1/events?limit=1",
        "/api/v1/events?limit=2",
        "/api/v1/events?limit=2&type=accusation",
        "/api/v1/events?type=accusation&limit=2",
        "/api/v1/events?q=drone",
        "/api/v1/events?q=drones",
        "/api/v1/actors",
        "/api/v1/events/reuters-investigation-published",
        "/api/v1/events/reuters-investigation-published?include=actors",
        "/api/v1/events/drone-flight-testing",
        "/api/v1/events/reuters-investigation-published/actors",
        "/api/v1/events/reuters-investigation-published/sources",
        "/api/v1",
    ]
    etags = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        etags[path] = response.headers["ETag"]
    assert len(set(etags.values())) == len(paths), etags


def test_a_page_reached_by_cursor_has_its_own_etag(seeded, client):
    first = client.get("/api/v1/events?limit=5")
    second = client.get(first.get_json()["links"]["next"])
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    revalidated = client.get(first.get_json()["links"]["next"], headers={"If-None-Match": second.headers["ETag"]})
    assert revalidated.status_code == 304


# --- 304 Not Modified --------------------------------------------------------------------------


def assert_not_modified(response, etag, cache_control):
    assert response.status_code == 304, response.status_code
    assert response.get_data() == b""
    assert response.headers.get("ETag") == etag
    assert response.headers.get("Cache-Control") == cache_control


def _check_304(client, if_none_match):
    def check(path):
        first = client.get(path)
        assert first.status_code == 200
        etag, cache_control = first.headers["ETag"], first.headers["Cache-Control"]
        assert_not_modified(client.get(path, headers={"If-None-Match": if_none_match(etag)}), etag, cache_control)

    return check


def test_exact_if_none_match_gives_304(seeded, client):
    check_each(seeded_paths(), _check_304(client, lambda etag: etag))


def test_if_none_match_list_containing_the_tag_gives_304(seeded, client):
    check_each(seeded_paths(), _check_304(client, lambda etag: f'"nope", "r0-0000000000000000", {etag}'))
    check_each(seeded_paths(), _check_304(client, lambda etag: f'{etag},"nope"'))


def test_weak_if_none_match_gives_304(seeded, client):
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/"x" matches "x"."""
    check_each(seeded_paths(), _check_304(client, lambda etag: f"W/{etag}"))
    check_each(seeded_paths(), _check_304(client, lambda etag: f'W/"nope", W/{etag}'))


def test_star_if_none_match_gives_304(seeded, client):
    check_each(seeded_paths(), _check_304(client, lambda etag: "*"))


def test_non_matching_if_none_match_gives_200_with_body(seeded, client):
    def check(path):
        etag = client.get(path).headers["ETag"]
        altered = etag[:-2] + ("1" if etag[-2] == "0" else "0") + '"'
        for other in ('"nope"', 'W/"nope"', altered, '"r999999-0000000000000000"'):
            response = client.get(path, headers={"If-None-Match": other})
            assert response.status_code == 200, other
            assert response.get_json(), other
            assert response.headers["ETag"] == etag

    check_each(seeded_paths(), check)


def test_star_if_none_match_on_an_unknown_record_is_404(seeded, client):
    """`*` matches only a current representation; a record that does not exist has none (RFC 9110 13.1.2)."""

    def check(path):
        response = client.get(path, headers={"If-None-Match": "*"})
        assert response.status_code == 404, response.status_code
        assert response.mimetype == "application/problem+json"

    check_each(["/api/v1/events/no-such-record", "/api/v1/events/no-such-record/actors"], check)


# --- ETags follow the data -----------------------------------------------------------------------


def test_a_change_to_the_data_changes_the_etag(small, client):
    before = {path: client.get(path) for path in SMALL_PATHS}
    for response in before.values():
        assert response.status_code == 200
    old_record = before["/api/v1/events/border-incident"].get_json()["data"]
    assert old_record["version"] == 1

    edited = copy.deepcopy(EVENT)
    edited["title"] = "Border incident, revised"
    summary = small(events=[edited])
    assert summary.updated["events"] == 1

    for path, old in before.items():
        old_etag = old.headers["ETag"]
        response = client.get(path, headers={"If-None-Match": old_etag})
        assert response.status_code == 200, path
        assert response.headers["ETag"] != old_etag, path
        assert response.get_json(), path
        # The new tag is the current one.
        again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304, path

    record = client.get("/api/v1/events/border-incident").get_json()["data"]
    assert record["title"] == "Border incident, revised"
    assert record["version"] == 2


def test_reloading_unchanged_data_keeps_the_etag(small, client):
    etags = {path: client.get(path).headers["ETag"] for path in SMALL_PATHS}
    summary = small(sources=[SOURCE], actors=ACTORS, events=[EVENT, OTHER_EVENT], claims=[CLAIM])
    assert not summary.changed
    for path, etag in etags.items():
        response = client.get(path, headers={"If-None-Match": etag})
        assert response.status_code == 304, path
        assert response.headers["ETag"] == etag


def test_a_new_record_changes_list_etags(small, client):
    etag = client.get("/api/v1/events").headers["ETag"]
    added = {**copy.deepcopy(OTHER_EVENT), "id": "talks-resumed", "title": "Talks resumed"}
    small(events=[added])
    response = client.get("/api/v1/events", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert [record["id"] for record in response.get_json()["data"]] == [
        "border-incident",
        "talks-held",
        "talks-resumed",
    ]


# --- Last-Modified ----------------------------------------------------------------------------------


def test_last_modified_on_every_detail_matches_updated_at(seeded, client, seed_fixtures):
    def check(case):
        resource, record_id = case
        response = client.get(f"/api/v1/{resource}/{record_id}")
        assert response.status_code == 200
        updated_at = response.get_json()["data"]["updated_at"]
        last_modified = response.headers.get("Last-Modified")
        assert last_modified == http_date(updated_at), (last_modified, updated_at)
        assert parsedate_to_datetime(last_modified).tzinfo is not None

    cases = [(resource, record["id"]) for resource, records in seed_fixtures.items() for record in records]
    assert len(cases) == sum(SHIPPED_COUNTS.values())
    check_each(cases, check)


def test_last_modified_follows_an_edit(small, client):
    first = client.get("/api/v1/actors/state-a")
    assert first.headers["Last-Modified"] == http_date(first.get_json()["data"]["updated_at"])
    small(actors=[{**ACTORS[0], "description": "A state, described anew."}])
    second = client.get("/api/v1/actors/state-a")
    record = second.get_json()["data"]
    assert record["version"] == 2
    assert second.headers["Last-Modified"] == http_date(record["updated_at"])
    modified = [parsedate_to_datetime(response.headers["Last-Modified"]) for response in (first, second)]
    assert modified[1] >= modified[0]
    # The untouched actor keeps its Last-Modified.
    other = client.get("/api/v1/actors/state-b")
    assert other.get_json()["data"]["version"] == 1
    assert other.headers["Last-Modified"] == http_date(other.get_json()["data"]["updated_at"])


# --- A 304 costs one query: the dataset revision ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events?limit=5&include=actors,sources,claims",
        "/api/v1/claims",
        "/api/v1/events/reuters-investigation-published",
        "/api/v1/claims/almaz-antey-subsidiary-developed-attack-drones?include=actors",
        "/api/v1/events/reuters-investigation-published/actors",
        "/api/v1/actors/european-union/claims?include=sources",
        "/api/v1",
    ],
    ids=["list", "list-plain", "detail", "detail-include", "related", "related-include", "index"],
)
def test_304_runs_exactly_one_query(seeded, client, count_queries, path):
    etag = client.get(path).headers["ETag"]
    count_queries.queries.clear()
    response = client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 304
    statements = sql_statements(count_queries)
    assert len(statements) == 1, statements
    assert "dataset_state" in statements[0]
