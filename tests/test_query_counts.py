"""The SQL a page costs does not grow with its size or with `include`: no N+1 anywhere.

30 events with 1-5 actors and 1-3 sources each, and 30 claims on 2 events, 1-4 actors and 1-2
sources each, so that a query per record or per link would show as a difference of dozens.
Each measurement is taken cold (as after a write: no count kept for the list) and warm (the same
request again, from the response cache).
"""

import pytest
from writes_helpers import auth, make_key

from api import db
from api.catalog import SPECS
from api.reading.counts import CountCache

N_SOURCES, N_ACTORS, N_EVENTS, N_CLAIMS = 8, 12, 30, 30
ROLES = ("subject", "reporter", "accuser", "target", "supplier")
STANCES = ("asserts", "denies", "disputes", "subject")


def dataset():
    sources = [
        {
            "id": f"src-{i:02d}",
            "type": "press_report",
            "title": f"Report {i}",
            "publisher": f"Publisher {i % 3}",
            "reliability": "ABCDEF"[i % 6],
            "reliability_rationale": "Graded for the test.",
            "document": None,
        }
        for i in range(N_SOURCES)
    ]
    actors = [
        {"id": f"act-{i:02d}", "name": f"Actor {i}", "kind": "state", "country": "AA", "description": "An actor."}
        for i in range(N_ACTORS)
    ]
    events = [
        {
            "id": f"ev-{i:02d}",
            "title": f"Event {i}",
            "summary": f"Something happened, number {i}.",
            "type": "accusation",
            "date": f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}",
            "actors": [{"actor": f"act-{(i + k) % N_ACTORS:02d}", "role": ROLES[k]} for k in range(1 + i % 5)],
            "sources": [
                {"source": f"src-{(i + k) % N_SOURCES:02d}", "stance": "reports", "excerpt": f"excerpt {i}.{k}"}
                for k in range(1 + i % 3)
            ],
        }
        for i in range(N_EVENTS)
    ]
    claims = [
        {
            "id": f"cl-{i:02d}",
            "statement": f"Claim {i}.",
            "status": "alleged",
            "status_rationale": "Said by one party.",
            "credibility": 1 + i % 6,
            "credibility_rationale": "Graded for the test.",
            "events": [f"ev-{i:02d}", f"ev-{(i + 1) % N_EVENTS:02d}"],
            "actors": [{"actor": f"act-{(i + k) % N_ACTORS:02d}", "stance": STANCES[k]} for k in range(1 + i % 4)],
            "sources": [
                {"source": f"src-{(i + k) % N_SOURCES:02d}", "stance": "reports", "excerpt": f"claim excerpt {i}.{k}"}
                for k in range(1 + i % 2)
            ],
        }
        for i in range(N_CLAIMS)
    ]
    # Each source's text holds the excerpts events cite from it, once each, so that an edit re-checks them.
    for source in sources:
        cited = [link["excerpt"] for event in events for link in event["sources"] if link["source"] == source["id"]]
        source["document"] = {"text": "".join(f"[{excerpt}]\n" for excerpt in cited) or "Nothing cited.\n"}
    return {"sources": sources, "actors": actors, "events": events, "claims": claims}


@pytest.fixture
def measure(app, client, load, count_queries):
    """`measure(url, cold)`: the number of SQL statements one GET of `url` runs."""
    load(**dataset())

    def _measure(url, cold):
        if cold:  # as after a write: no count kept for this list
            app.extensions["eventledger.counts"] = CountCache(SPECS, app.config["COUNT_CACHE_SIZE"])
        else:
            assert client.get(url).status_code == 200
        count_queries.queries.clear()
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        body = response.get_json()
        statements = [q for q in count_queries.queries if q.startswith(("('", '("'))]  # not the pool's messages
        return len(statements), body

    return _measure


# (path, include, ceilings (cold, warm, cold with include, warm with include), records on the full page)
# A cold page is the revision, one SELECT of the stored JSON and the count (a related list checks its
# parent first, and reads its records' links to the parent in one more); `include` reads each related
# record's stored JSON in one query, and the links of a relation the record does not own in one more.
LISTS = [
    ("/api/v1/events", "actors,sources,claims", (3, 1, 7, 1), 30),
    ("/api/v1/claims", "actors,sources,events", (3, 1, 6, 1), 30),
    ("/api/v1/actors", "events,claims", (3, 1, 7, 1), 12),
    ("/api/v1/sources", "events,claims", (3, 1, 7, 1), 8),
    ("/api/v1/actors/act-01/events", "actors,sources,claims", (5, 1, 9, 1), None),
    ("/api/v1/sources/src-01/claims", "actors,sources,events", (5, 1, 8, 1), None),
    ("/api/v1/events/ev-04/actors", "events,claims", (5, 1, 9, 1), 5),
    ("/api/v1/claims/cl-03/sources", "events,claims", (5, 1, 9, 1), 2),
]


@pytest.mark.parametrize(("path", "include", "ceilings", "full_count"), LISTS, ids=[case[0] for case in LISTS])
def test_list_queries_do_not_grow_with_page_size_or_include(measure, path, include, ceilings, full_count):
    counts = {}
    for cold in (True, False):
        small, small_body = measure(f"{path}?limit=1", cold)
        large, large_body = measure(f"{path}?limit=50", cold)
        small_inc, small_inc_body = measure(f"{path}?limit=1&include={include}", cold)
        large_inc, large_inc_body = measure(f"{path}?limit=50&include={include}", cold)
        # The pages really differ in size, and include really embedded the related records.
        assert len(small_body["data"]) == 1
        assert len(large_body["data"]) == large_body["meta"]["count"] > 1
        if full_count is not None:
            assert large_body["meta"]["count"] == full_count
        for relation in include.split(","):
            assert all(record[relation] for record in large_inc_body["data"]), relation
            assert all("created_at" in link for record in large_inc_body["data"] for link in record[relation])
        assert len(small_inc_body["data"]) == 1
        counts[cold] = (small, large, small_inc, large_inc)
        assert small == large, (cold, counts[cold])
        assert small_inc == large_inc, (cold, counts[cold])
        ceiling, ceiling_inc = (ceilings[0], ceilings[2]) if cold else (ceilings[1], ceilings[3])
        assert large <= ceiling, (cold, counts[cold])
        assert large_inc <= ceiling_inc, (cold, counts[cold])
    # Warm pages never cost more than cold ones.
    assert counts[False][1] <= counts[True][1] and counts[False][3] <= counts[True][3], counts


def test_list_queries_do_not_grow_with_more_matching_filters(measure):
    one, body_one = measure("/api/v1/events?actor=act-00&limit=50", True)
    many, body_many = measure("/api/v1/events?actor=act-00,act-01,act-02,act-03&limit=50", True)
    assert len(body_many["data"]) > len(body_one["data"]) >= 1
    assert one == many


def test_walking_every_page_costs_the_same_per_page(measure):
    url, costs, seen = "/api/v1/events?limit=7&include=actors", [], []
    while url:
        cost, body = measure(url, False)
        costs.append(cost)
        seen += [record["id"] for record in body["data"]]
        url = body["links"]["next"]
    assert len(seen) == len(set(seen)) == N_EVENTS
    assert len(set(costs)) == 1, costs


# (resource, id with few links, id with many links, every relation, ceilings {cold: max})
# A cold detail: the revision, the row with its stored JSON (its owned links in it), one query of the
# related records per relation and one of the links per relation it does not own.
DETAILS = [
    ("events", "ev-00", "ev-04", "actors,sources,claims", {True: 6, False: 1}),
    ("claims", "cl-00", "cl-03", "actors,sources,events", {True: 5, False: 1}),
    ("actors", "act-11", "act-01", "events,claims", {True: 6, False: 1}),
    ("sources", "src-07", "src-01", "events,claims", {True: 6, False: 1}),
]


@pytest.mark.parametrize(("resource", "few", "many", "relations", "ceilings"), DETAILS, ids=[d[0] for d in DETAILS])
def test_detail_queries_do_not_grow_with_links_or_include(measure, resource, few, many, relations, ceilings):
    for cold in (True, False):
        few_count, few_body = measure(f"/api/v1/{resource}/{few}", cold)
        many_count, many_body = measure(f"/api/v1/{resource}/{many}", cold)
        included_count, included_body = measure(f"/api/v1/{resource}/{many}?include={relations}", cold)
        # The records differ in how much they embed.
        sizes_few = sum(len(few_body["data"][name]) for name in relations.split(","))
        sizes_many = sum(len(many_body["data"][name]) for name in relations.split(","))
        assert sizes_many > sizes_few, (sizes_few, sizes_many)
        # Summaries come straight from their columns; `include` renders whole records, at a fixed extra cost.
        assert few_count == many_count <= included_count, (cold, few_count, many_count, included_count)
        assert included_count <= ceilings[cold], (cold, included_count)


# (path, q matching every record of the list, include)
SEARCHES = [
    ("/api/v1/events", "happened", "actors,sources,claims"),
    ("/api/v1/claims", "claim", "actors,sources,events"),
    ("/api/v1/actors", "actor", "events,claims"),
    ("/api/v1/sources", "report", "events,claims"),
    ("/api/v1/actors/act-01/events", "happened", "actors"),
]


@pytest.mark.parametrize(("path", "q", "include"), SEARCHES, ids=[case[0] for case in SEARCHES])
def test_a_search_costs_one_query_more_whatever_the_page_size(measure, path, q, include):
    """The snippets and ranks of a page come from one query; matching and ranking cost none extra."""
    for cold in (True, False):
        plain, _ = measure(f"{path}?limit=50", cold)
        small, small_body = measure(f"{path}?q={q}&limit=1", cold)
        large, large_body = measure(f"{path}?q={q}&limit=50", cold)
        large_inc, large_inc_body = measure(f"{path}?q={q}&limit=50&include={include}", cold)
        small_inc, _ = measure(f"{path}?q={q}&limit=1&include={include}", cold)
        assert len(small_body["data"]) == 1
        assert len(large_body["data"]) == large_body["meta"]["count"] > 1
        assert all(record["match"]["snippet"] for record in large_body["data"] + large_inc_body["data"])
        assert small == large and small_inc == large_inc, (cold, small, large, small_inc, large_inc)
        if cold:
            assert large == plain + 1, (plain, large)
        else:
            assert large <= plain + 1, (plain, large)


def test_a_count_is_kept_for_every_page_until_its_resource_changes(app, client, load, count_queries):
    """Every page and cursor of one list shares its count; a write to another resource keeps it."""
    load(**dataset())
    key = make_key()

    def counts_run(url):
        count_queries.queries.clear()
        body = client.get(url).get_json()
        return sum("COUNT(" in query for query in count_queries.queries), body["meta"]["count"]

    assert counts_run("/api/v1/events?limit=1&type=accusation") == (1, N_EVENTS)
    assert counts_run("/api/v1/events?limit=2&type=accusation") == (0, N_EVENTS)
    actor = client.patch("/api/v1/actors/act-00", json={"name": "Renamed"}, headers=auth(key, **{"If-Match": "*"}))
    assert actor.status_code == 200
    assert counts_run("/api/v1/events?limit=3&type=accusation") == (0, N_EVENTS)
    event = client.patch(
        "/api/v1/events/ev-01", json={"type": "official_denial"}, headers=auth(key, **{"If-Match": "*"})
    )
    assert event.status_code == 200
    assert counts_run("/api/v1/events?limit=4&type=accusation") == (1, N_EVENTS - 1)
    assert counts_run("/api/v1/actors?limit=5") == (1, N_ACTORS)


def test_fixed_shape_statements_are_kept_for_a_few_lengths_only(client, load):
    """Pages and export batches of every size reuse a handful of IN-list statements, not one per size."""
    load(**dataset())
    for limit in range(1, N_EVENTS + 1):
        assert client.get(f"/api/v1/events?limit={limit}&include=actors,sources,claims").status_code == 200
    lengths = {key[1][-1] for key in db._STATEMENTS if key[1][0] in ("links", "records", "summaries")}
    assert lengths and all(length & (length - 1) == 0 for length in lengths), lengths
