"""Events of one actor or source, read from the link table in date order (`api.reading.queries.LinkWalk`).

A page of "events of X" walks the link rows, which carry copies of their events' dates, instead of
sorting every event of X. Every page, cursor and count must be what the plain plan (a semi-join of the
events) gives, whatever the dates (undated, years, ranges), with an actor in two roles on one event or a
source quoted twice, and after the events' dates or links change.
"""

import pytest
from helpers import actor, event, source
from writes_helpers import auth, make_key

from api import db, new_caches
from api.catalog import SPECS
from api.migrations import create_tables
from api.reading import queries
from api.tables import EventActor, EventSource

ROLES = ("subject", "reporter", "accuser", "target")
DATES = (None, "2021", "2021-03", "2021-03-04", "XXXX-09", "2022-01-02", "2019", "2021-03-04")
N_EVENTS, N_ACTORS, N_SOURCES = 24, 5, 3


def dataset():
    events = []
    for i in range(N_EVENTS):
        links = [(f"act-{(i + k) % N_ACTORS}", ROLES[k]) for k in range(1 + i % 3)]
        if i % 4 == 0:  # the same actor again, in another role
            links.append((f"act-{i % N_ACTORS}", "target"))
        quoted = [f"src-{i % N_SOURCES}"] * (2 if i % 5 == 0 else 1)  # a source quoted twice
        events.append(event(f"ev-{i:02d}", links, quoted, date=DATES[i % len(DATES)]))
    return {
        "sources": [source(f"src-{i}") for i in range(N_SOURCES)],
        "actors": [actor(f"act-{i}") for i in range(N_ACTORS)],
        "events": events,
    }


QUERIES = (
    {},
    {"sort": "-date"},
    {"date_from": "2021-03"},
    {"date_to": "2021-03-04"},
    {"date_from": "2021", "date_to": "2021-12", "sort": "-date"},
    {"sort": "id"},
    {"sort": "-id", "date_from": "2020"},
)


def walk_all(client, path, params):
    """Every page of `path` with `params` (3 records a page): (ids in order, counts seen, cursors)."""
    ids, counts, cursor = [], set(), None
    while True:
        query = {**params, "limit": 3, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, query_string=query)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        ids += [record["id"] for record in body["data"]]
        counts.add(body["meta"]["count"])
        cursor = body["meta"]["next_cursor"]
        if not cursor:
            return ids, counts


def plain_plan(monkeypatch):
    monkeypatch.setattr(queries.LinkWalk, "for_listing", classmethod(lambda *args: None))


def requests():
    for i in range(N_ACTORS):
        for params in QUERIES:
            yield "/api/v1/events", {"actor": f"act-{i}", **params}
            yield f"/api/v1/actors/act-{i}/events", params
        yield "/api/v1/events", {"actor": f"act-{i}", "role": "target"}
        yield "/api/v1/events", {"actor": f"act-{i}", "role": "subject", "sort": "-date", "date_from": "2021"}
    for i in range(N_SOURCES):
        for params in QUERIES:
            yield "/api/v1/events", {"source": f"src-{i}", **params}
            yield f"/api/v1/sources/src-{i}/events", params


def answers(client, app):
    """What every request of `requests` answers, from a cold start (no counts or pages kept)."""
    app.config["RESPONSE_CACHE_SIZE"] = 0
    return {(path, tuple(sorted(params.items()))): walk_all(client, path, params) for path, params in requests()}


@pytest.fixture
def linked(app, load):
    load(**dataset())
    return app


def test_the_walk_answers_what_the_plain_plan_answers(linked, client, monkeypatch):
    walked = answers(client, linked)
    assert any(ids for ids, _ in walked.values())
    for ids, counts in walked.values():
        assert len(ids) == len(set(ids)), ids  # each event once, even when linked twice
        assert counts == {len(ids)}
    plain_plan(monkeypatch)
    assert answers(client, linked) == walked


def listing(**query):
    events = SPECS["events"]
    return queries.Listing(events, events.list_args().load(query), codec=None)


def test_the_walk_stands_in_only_where_it_can(linked):
    def chosen(**query):
        return listing(**query).walk is not None

    assert chosen(actor="act-1")
    assert chosen(actor="act-1", role="subject", date_from="2021", sort="-date")
    assert chosen(source="src-1", sort="id")
    assert not chosen(actor="act-1,act-2")  # two walks would need merging
    assert not chosen(actor="act-1", role="subject,target")  # an event could come twice
    assert not chosen(actor="act-1", source="src-1")
    assert not chosen(actor="act-1", type="accusation")  # a column the link rows do not copy
    assert not chosen(actor="act-1", sort="title")
    assert not chosen(actor="act-1", q="event")
    assert not chosen(type="accusation")


@pytest.mark.parametrize("sort", ["date", "-date"])
def test_a_page_of_one_actors_events_walks_an_index_in_order(linked, sort):
    """The page's rows come from the walk's index in order, a page's worth, with no sort of the matches."""
    if linked.config["DATABASE_URL"].startswith("postgres"):
        pytest.skip("PostgreSQL's planner reads tables this small whole; bench/README.md shows its plans at 100k")
    page = listing(actor="act-1", date_from="2021", sort=sort, limit=3)
    with db.database.connection_context():
        sql, params = page.compiled_page(3)
        plan = [row[-1] for row in db.database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
    direction = "descending" if sort.startswith("-") else "ascending"
    walk = plan[: plan.index("SCAN page")]
    # ... seeking to the window's first date (the year of date_from), not reading the actor's earlier links.
    seek = f"COVERING INDEX event_actor_by_date_{direction} (actor_id=? AND <expr>>?"
    assert any(seek in step for step in walk), plan
    assert not any("TEMP B-TREE" in step for step in walk), plan


def test_copies_follow_the_events_dates_and_links(linked, client):
    key = make_key(linked)
    actor = client.get("/api/v1/events/ev-01").get_json()["data"]["actors"][0]["id"]

    def patch(body):
        etag = client.get("/api/v1/events/ev-01").headers["ETag"]
        response = client.patch("/api/v1/events/ev-01", json=body, headers={**auth(key), "If-Match": etag})
        assert response.status_code == 200, response.get_json()

    patch({"date": "1999-01-01"})  # the links stay as they were; their copies follow
    first = client.get("/api/v1/events", query_string={"actor": actor, "limit": 1}).get_json()
    assert first["data"][0]["id"] == "ev-01"
    window = client.get("/api/v1/events", query_string={"actor": actor, "date_to": "1999"}).get_json()
    assert [record["id"] for record in window["data"]] == ["ev-01"]
    assert window["meta"]["count"] == 1

    patch({"actors": [{"actor": "act-4", "role": "subject"}, {"actor": "act-4", "role": "target"}]})
    with db.database.connection_context():
        rows = list(EventActor.select().where(EventActor.event == "ev-01").order_by(EventActor.position).dicts())
    assert [(row["date_start"], row["date_end"], bool(row["leading"])) for row in rows] == [
        ("1999-01-01", "1999-01-01", True),
        ("1999-01-01", "1999-01-01", False),
    ]
    found = client.get("/api/v1/events", query_string={"actor": "act-4", "date_to": "1999"}).get_json()
    assert [record["id"] for record in found["data"]] == ["ev-01"]
    assert found["meta"]["count"] == 1


def test_a_database_without_the_copies_gets_them_at_start(linked, client):
    """Rows of a database made before the copies, or written by a tool, are filled by `create_tables`."""
    walked = answers(client, linked)
    with db.database.connection_context():
        for link in (EventActor, EventSource):
            link.update(date_start=None, date_end=None, leading=None).execute()
        create_tables()
        assert not EventActor.select().where(EventActor.leading.is_null()).exists()
    linked.extensions.update(new_caches(linked.config))
    assert answers(client, linked) == walked
