"""Repeated GETs within one dataset revision are answered from finished bodies, and never stale."""

EVENT = {
    "id": "cached-event",
    "title": "First title",
    "summary": "A summary.",
    "type": "accusation",
    "date": "2024-03",
    "actors": [{"actor": "cached-actor", "role": "accuser"}],
    "sources": [{"source": "cached-source", "stance": "reports", "excerpt": "first"}],
}
ACTOR = {"id": "cached-actor", "name": "An actor", "kind": "group", "description": "Someone."}
SOURCE = {
    "id": "cached-source",
    "type": "other",
    "title": "A source",
    "language": "en",
    "reliability": "F",
    "reliability_rationale": "No basis.",
    "document": {"text": "A source text.\n"},
}


def test_a_repeated_request_costs_only_the_revision_lookup(client, load, count_queries):
    load(sources=[SOURCE], actors=[ACTOR], events=[EVENT])
    for path in ("/api/v1/events?limit=5", "/api/v1/events/cached-event", "/api/v1/actors/cached-actor/events"):
        first = client.get(path)
        before = count_queries.count
        second = client.get(path)
        assert count_queries.count - before == 1, count_queries.queries[before:]
        assert second.status_code == 200
        assert second.data == first.data
        assert second.headers["ETag"] == first.headers["ETag"]
        assert second.headers.get("Link") == first.headers.get("Link")
        assert second.headers.get("Last-Modified") == first.headers.get("Last-Modified")
        assert second.content_type == "application/json"


def test_a_change_is_served_at_once(client, load):
    load(sources=[SOURCE], actors=[ACTOR], events=[EVENT])
    assert client.get("/api/v1/events/cached-event").json["data"]["title"] == "First title"
    load(sources=[SOURCE], actors=[ACTOR], events=[{**EVENT, "title": "Second title"}])
    assert client.get("/api/v1/events/cached-event").json["data"]["title"] == "Second title"
    assert client.get("/api/v1/events?limit=5").json["data"][0]["title"] == "Second title"


def test_each_query_string_has_its_own_answer(client, load):
    load(sources=[SOURCE], actors=[ACTOR], events=[EVENT, {**EVENT, "id": "cached-event-2"}])
    for limit in (1, 2, 1, 2):
        assert len(client.get(f"/api/v1/events?limit={limit}").json["data"]) == limit
    assert client.get("/api/v1/events?fields=title").json["data"][0].keys() == {"id", "title"}
