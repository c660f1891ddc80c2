"""GET /api/v1/timeline through HTTP: periods by interval and precision, claims placed by their events,
the per-period cap, the events list's filters (the list is the oracle), caching and cost."""

import pytest
from helpers import actor, assert_bad_parameter, get_ok, source

API = "/api/v1"
TIMELINE = f"{API}/timeline"


def event(record_id, date, **fields):
    return {
        "id": record_id,
        "title": f"event {record_id}",
        "summary": "filler",
        "type": "accusation",
        "date": date,
        "actors": [{"actor": "a-one", "role": "subject"}],
        "sources": [{"source": "s-one", "stance": "reports", "excerpt": "filler"}],
        **fields,
    }


def claim(record_id, events, **fields):
    return {
        "id": record_id,
        "statement": f"claim {record_id}",
        "status": "alleged",
        "status_rationale": "filler",
        "credibility": 3,
        "credibility_rationale": "filler",
        "events": events,
        "actors": [{"actor": "a-one", "stance": "asserts"}],
        "sources": [{"source": "s-one", "stance": "reports", "excerpt": "filler"}],
        **fields,
    }


EVENTS = [
    event("e-2023-day", "2023-12-31", type="weapons_testing", location={"country": "RU"}),
    event("e-2024-year", "2024", type="sanctions_deliberation", location={"country": "BE"}),
    event("e-2024-month", "2024-09", type="official_denial", location={"country": "CN"}),
    event("e-2024-day-01", "2024-09-01", location={"country": "CN"}, summary="drones seen"),
    event("e-2024-day-15", "2024-09-15", location={"country": "CN"}),
    event("e-2024-day-15b", "2024-09-15", type="official_denial", summary="drones denied"),
    event("e-2024-oct", "2024-10", type="weapons_production", location={"country": "CN"}),
    event("e-2025-day", "2025-01-01", location={"country": "UA"}, actors=[{"actor": "a-two", "role": "perpetrator"}]),
    event("e-xxxx-09", "XXXX-09", type="investigation_published"),
    event("e-xxxx-03", "XXXX-03", type="investigation_published", actors=[{"actor": "a-two", "role": "reporter"}]),
    event("e-undated", None, type="official_assessment"),
    event("e-undated-b", None, type="official_assessment", summary="drones, no date"),
]
CLAIMS = [
    claim("c-sept", ["e-2024-day-01", "e-2024-day-15"]),
    claim("c-span", ["e-2023-day", "e-2025-day"]),
    claim("c-year", ["e-2024-year", "e-2024-oct"]),
    claim("c-xxxx", ["e-xxxx-09", "e-undated"]),
    claim("c-undated", ["e-undated", "e-undated-b"], status="disputed", credibility=5),
]


@pytest.fixture
def world(client, load):
    load(sources=[source("s-one")], actors=[actor("a-one"), actor("a-two")], events=EVENTS, claims=CLAIMS)
    return client


def timeline(client, query=""):
    return get_ok(client, f"{TIMELINE}?{query}" if query else TIMELINE)


def layout(body):
    """[(period, precision, [event ids], [claim ids])] of a timeline."""
    return [
        (
            period["period"],
            period["precision"],
            [item["id"] for item in period["events"]["items"]],
            [item["id"] for item in period["claims"]["items"]],
        )
        for period in body["data"]
    ]


LAST = [
    ("XXXX-03", "month", ["e-xxxx-03"], []),
    ("XXXX-09", "month", ["e-xxxx-09"], ["c-xxxx"]),
    (None, None, ["e-undated", "e-undated-b"], ["c-undated", "c-xxxx"]),
]
LAYOUTS = {
    "year": [
        ("2023", "year", ["e-2023-day"], ["c-span"]),
        (
            "2024",
            "year",
            ["e-2024-year", "e-2024-month", "e-2024-day-01", "e-2024-day-15", "e-2024-day-15b", "e-2024-oct"],
            ["c-year", "c-sept"],
        ),
        ("2025", "year", ["e-2025-day"], ["c-span"]),
        *LAST,
    ],
    "month": [
        ("2023-12", "month", ["e-2023-day"], ["c-span"]),
        ("2024", "year", ["e-2024-year"], ["c-year"]),
        ("2024-09", "month", ["e-2024-month", "e-2024-day-01", "e-2024-day-15", "e-2024-day-15b"], ["c-sept"]),
        ("2024-10", "month", ["e-2024-oct"], ["c-year"]),
        ("2025-01", "month", ["e-2025-day"], ["c-span"]),
        *LAST,
    ],
    "day": [
        ("2023-12-31", "day", ["e-2023-day"], ["c-span"]),
        ("2024", "year", ["e-2024-year"], ["c-year"]),
        ("2024-09", "month", ["e-2024-month"], []),
        ("2024-09-01", "day", ["e-2024-day-01"], ["c-sept"]),
        ("2024-09-15", "day", ["e-2024-day-15", "e-2024-day-15b"], ["c-sept"]),
        ("2024-10", "month", ["e-2024-oct"], ["c-year"]),
        ("2025-01-01", "day", ["e-2025-day"], ["c-span"]),
        *LAST,
    ],
}


@pytest.mark.parametrize("interval", ["year", "month", "day"])
def test_periods_by_interval_honour_precision(world, interval):
    body = timeline(world, f"interval={interval}")
    assert layout(body) == LAYOUTS[interval]
    for period in body["data"]:
        assert period["events"]["count"] == len(period["events"]["items"])
        assert period["claims"]["count"] == len(period["claims"]["items"])
    assert body["meta"]["interval"] == interval
    assert body["meta"]["totals"] == {"periods": len(LAYOUTS[interval]), "events": 12, "claims": 5}
    assert body["meta"]["undated_events"] == 2


def test_month_is_the_default_interval(world):
    body = timeline(world)
    assert layout(body) == LAYOUTS["month"]
    assert body["meta"]["interval"] == "month" and body["meta"]["per_period"] == 20


def test_periods_say_what_days_they_cover(world):
    periods = {period["period"]: period for period in timeline(world, "interval=day")["data"]}
    bounds = {key: (period["precision"], period["start"], period["end"]) for key, period in periods.items()}
    assert bounds["2024"] == ("year", "2024-01-01", "2024-12-31")
    assert bounds["2024-09"] == ("month", "2024-09-01", "2024-09-30")
    assert bounds["2024-09-15"] == ("day", "2024-09-15", "2024-09-15")
    assert bounds["XXXX-09"] == ("month", None, None)
    assert bounds[None] == (None, None, None)


def test_items_are_the_resources_summaries(world):
    body = timeline(world, "interval=year")
    events = {record["id"]: record for record in get_ok(world, f"{API}/events?limit=200")["data"]}
    claims = {record["id"]: record for record in get_ok(world, f"{API}/claims?limit=200")["data"]}
    event_fields = ("id", "title", "type", "date", "date_precision")
    claim_fields = ("id", "statement", "status", "credibility")
    for period in body["data"]:
        for item in period["events"]["items"]:
            assert item == {name: events[item["id"]][name] for name in event_fields}
        for item in period["claims"]["items"]:
            assert item == {name: claims[item["id"]][name] for name in claim_fields}
    undated = body["data"][-1]["claims"]["items"]
    assert undated[0] == {"id": "c-undated", "statement": "claim c-undated", "status": "disputed", "credibility": 5}


# --- the cap ---------------------------------------------------------------------------------


def test_per_period_caps_the_items_not_the_counts(world):
    full = timeline(world, "interval=year")
    capped = timeline(world, "interval=year&per_period=1")
    assert capped["meta"]["per_period"] == 1
    assert capped["meta"]["totals"] == full["meta"]["totals"]
    for whole, cut in zip(full["data"], capped["data"], strict=True):
        assert cut["period"] == whole["period"]
        for group in ("events", "claims"):
            assert cut[group]["count"] == whole[group]["count"]
            assert cut[group]["items"] == whole[group]["items"][:1]
    year_2024 = capped["data"][1]
    assert year_2024["events"]["count"] == 6 and [e["id"] for e in year_2024["events"]["items"]] == ["e-2024-year"]
    assert year_2024["claims"]["count"] == 2 and [c["id"] for c in year_2024["claims"]["items"]] == ["c-year"]


def test_per_period_zero_gives_counts_alone(world):
    body = timeline(world, "interval=day&per_period=0")
    assert [period["period"] for period in body["data"]] == [row[0] for row in LAYOUTS["day"]]
    assert all(not period["events"]["items"] and not period["claims"]["items"] for period in body["data"])
    counts = [(period["events"]["count"], period["claims"]["count"]) for period in body["data"]]
    assert counts == [(len(row[2]), len(row[3])) for row in LAYOUTS["day"]]


def test_a_claim_sits_once_in_each_period_of_its_events(client, load):
    """Thirty events on three days, each day's ten events sharing one claim: a claim per day, counted once."""
    events = [event(f"e-{n:02d}", f"2024-05-0{1 + n // 10}") for n in range(30)]
    claims = [claim(f"c-day-{day}", [f"e-{n:02d}" for n in range(day * 10, day * 10 + 10)]) for day in range(3)]
    claims.append(claim("c-all", [f"e-{n:02d}" for n in range(30)]))
    load(sources=[source("s-one")], actors=[actor("a-one")], events=events, claims=claims)
    by_day = timeline(client, "interval=day&per_period=5")
    assert [period["period"] for period in by_day["data"]] == ["2024-05-01", "2024-05-02", "2024-05-03"]
    for day, period in enumerate(by_day["data"]):
        assert period["events"]["count"] == 10 and len(period["events"]["items"]) == 5
        assert period["claims"]["count"] == 2
        assert sorted(item["id"] for item in period["claims"]["items"]) == sorted([f"c-day-{day}", "c-all"])
    by_month = timeline(client, "interval=month")
    assert layout(by_month) == [
        ("2024-05", "month", [f"e-{n:02d}" for n in range(20)], ["c-all", "c-day-0", "c-day-1", "c-day-2"])
    ]
    assert by_month["data"][0]["events"]["count"] == 30
    assert by_month["meta"]["totals"] == {"periods": 1, "events": 30, "claims": 4}


# --- filters: the events list is the oracle ---------------------------------------------------

FILTERS = [
    "type=accusation",
    "type=official_denial,investigation_published",
    "country=CN",
    "actor=a-two",
    "role=reporter",
    "source=s-one",
    "claim=c-sept,c-xxxx",
    "date_from=2024-09",
    "date_to=2024-09-10",
    "date_from=2024&date_to=2024",
    "q=drones",
    "q=nothing-matches",
    "updated_since=2000-01-01T00:00:00Z",
    "updated_since=2999-01-01T00:00:00Z",
    "type=accusation&country=CN&date_from=2024-09-02",
]


@pytest.mark.parametrize("interval", ["year", "day"])
def test_filters_keep_the_events_the_list_keeps(world, interval):
    mismatches = []
    for query in FILTERS:
        body = timeline(world, f"{query}&interval={interval}&per_period=100")
        listed = get_ok(world, f"{API}/events?{query}&limit=200")
        found = [item["id"] for period in body["data"] for item in period["events"]["items"]]
        if sorted(found) != sorted(record["id"] for record in listed["data"]):
            mismatches.append(f"{query}: timeline {sorted(found)}, list {sorted(r['id'] for r in listed['data'])}")
        if body["meta"]["totals"]["events"] != listed["meta"]["count"]:
            mismatches.append(f"{query}: {body['meta']['totals']['events']} events, list {listed['meta']['count']}")
        undated = sum(1 for record in listed["data"] if record["date"] is None)
        if body["meta"]["undated_events"] != undated:
            mismatches.append(f"{query}: {body['meta']['undated_events']} undated, list {undated}")
        # The claims are those of the matching events (and with `claim=`, only the claims named).
        if found and "claim=" not in query:
            claims = get_ok(world, f"{API}/claims?event={','.join(found)}&limit=200")
            placed = {item["id"] for period in body["data"] for item in period["claims"]["items"]}
            if placed != {record["id"] for record in claims["data"]} or body["meta"]["totals"]["claims"] != len(placed):
                mismatches.append(f"{query}: claims {sorted(placed)}, list {claims['meta']['count']}")
    assert not mismatches, "\n".join(mismatches)


def test_date_filters_leave_out_the_undated_and_the_unknown_years(world):
    body = timeline(world, "date_from=2024-09&date_to=2024-09&interval=day")
    assert layout(body) == [
        ("2024", "year", ["e-2024-year"], ["c-year"]),
        ("2024-09", "month", ["e-2024-month"], []),
        ("2024-09-01", "day", ["e-2024-day-01"], ["c-sept"]),
        ("2024-09-15", "day", ["e-2024-day-15", "e-2024-day-15b"], ["c-sept"]),
    ]
    assert body["meta"]["undated_events"] == 0


def test_the_claim_filter_keeps_only_the_claims_named(world):
    body = timeline(world, "claim=c-xxxx")
    assert layout(body) == [("XXXX-09", "month", ["e-xxxx-09"], ["c-xxxx"]), (None, None, ["e-undated"], ["c-xxxx"])]
    assert body["meta"]["totals"] == {"periods": 2, "events": 2, "claims": 1}


def test_an_empty_timeline(client):
    body = timeline(client)
    assert body["data"] == []
    assert body["meta"]["totals"] == {"periods": 0, "events": 0, "claims": 0}
    assert body["meta"]["undated_events"] == 0
    assert body["links"] == {"self": f"http://localhost{TIMELINE}"}


# --- errors, caching, cost, documentation ----------------------------------------------------


def test_bad_parameters_are_a_400_naming_them(world):
    for query, parameter in [
        ("interval=week", "interval"),
        ("interval=", "interval"),
        ("per_period=101", "per_period"),
        ("per_period=-1", "per_period"),
        ("per_period=many", "per_period"),
        ("type=battle", "type"),
        ("date_from=XXXX-09", "date_from"),
        ("limit=5", "limit"),
        ("cursor=abc", "cursor"),
        ("facets=type", "facets"),
        ("sort=date", "sort"),
        ("bogus=1", "bogus"),
    ]:
        assert_bad_parameter(world, f"{TIMELINE}?{query}", parameter)


def test_etag_and_304(world, load):
    first = world.get(f"{TIMELINE}?interval=day")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"]
    again = world.get(f"{TIMELINE}?interval=day", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    assert world.get(f"{TIMELINE}?interval=year", headers={"If-None-Match": etag}).status_code == 200
    load(sources=[source("s-one")], actors=[actor("a-one")], events=[event("e-new", "2026-02-03")])
    changed = world.get(f"{TIMELINE}?interval=day", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["data"][-4]["period"] == "2026-02-03"


def statements(counter):
    return [query for query in counter.queries if query.startswith(("('", '("'))]


def test_queries_do_not_grow_with_periods_or_items(world, count_queries):
    costs = {}
    for query in ("interval=year&per_period=1", "interval=day&per_period=100", "interval=day&actor=a-two"):
        count_queries.queries.clear()
        assert world.get(f"{TIMELINE}?{query}").status_code == 200
        costs[query] = len(statements(count_queries))
    assert set(costs.values()) == {4}, costs  # the revision, the events, the claims, the distinct claims
    count_queries.queries.clear()
    assert world.get(f"{TIMELINE}?interval=year&per_period=1").status_code == 200
    assert len(statements(count_queries)) == 1  # a repeat within the revision is served from the cache


def test_the_index_links_the_timeline(world):
    links = get_ok(world, API)["links"]
    assert links["timeline"].endswith(TIMELINE)
    assert world.get(links["timeline"]).status_code == 200


def test_the_openapi_document_describes_the_timeline(app):
    from openapi_spec_validator import validate

    with app.app_context():
        document = app.extensions["eventledger.api"].spec.to_dict()
    validate(document)
    operation = document["paths"][TIMELINE]["get"]
    parameters = {parameter["name"] for parameter in operation["parameters"]}
    assert parameters == {
        "type", "country", "date_from", "date_to", "actor", "role", "source", "claim", "q", "updated_since",
        "interval", "per_period",
    }  # fmt: skip
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Timeline")
    assert "400" in operation["responses"] and "304" in operation["responses"]
    period = document["components"]["schemas"]["TimelinePeriod"]["properties"]
    assert set(period) == {"period", "precision", "start", "end", "events", "claims"}
