"""`facets=` on every list, through HTTP: counts per value over the whole filtered list, in `meta.facets`.

The list itself is the oracle: the count of a facet value is the `meta.count` of the same list with
that value added as a filter (or, for a field no filter takes, the records of the list that have it).
"""

from collections import Counter
from urllib.parse import quote

import pytest
from helpers import actor, assert_bad_parameter, claim, event, get_ok, source

from api.catalog import SPECS
from schemas.query import FACET_LIMIT

API = "/api/v1"


def located(country):
    return {"country": country}


def records():
    """Mixed precisions and years; a-china twice in e-day-b (two roles), s-beta twice in e-month (two excerpts)."""
    sources = [
        source("s-alpha", type="news_investigation", publisher="Reuters", reliability="B", language="en"),
        source("s-beta", type="official_statement", publisher="Ministry", reliability="A", language="zh"),
        source("s-gamma", type="press_report", publisher=None, reliability="E"),
        source("s-delta", type="press_report", publisher="REUTERS", reliability="B", language="en"),
    ]
    actors = [
        actor("a-russia", kind="state", country="RU"),
        actor("a-china", kind="state", country="CN"),
        actor("a-eu", kind="intergovernmental_body", country=None),
        actor("a-eeas", kind="agency", country=None, parent="a-eu"),
        actor("a-mfa", kind="agency", country="CN", parent="a-china"),
        actor("a-factory", kind="facility", country="CN", parent="a-china"),
        actor("a-idle", kind="person", country="GB"),
    ]
    events = [
        event("e-day-a", [("a-eu", "accuser"), ("a-china", "subject")], ["s-alpha"], date="2024-09-15",
              location=located("CN"), summary="drones over the border"),
        event("e-day-b", [("a-china", "denier"), ("a-china", "subject"), ("a-mfa", "reporter")], ["s-beta"],
              type="official_denial", date="2024-09-20", location=located("CN")),
        event("e-month", [("a-china", "denier")], ["s-beta", "s-beta"], type="official_denial", date="2024-09",
              location=located("CN"), summary="a denial about drones"),
        event("e-year", [("a-eu", "sanctioning_party"), ("a-russia", "sanctioned_party")], ["s-alpha", "s-gamma"],
              type="sanctions_deliberation", date="2024", location=located("BE")),
        event("e-month-oct", [("a-factory", "producer"), ("a-russia", "recipient")], ["s-gamma"],
              type="weapons_production", date="2024-10", location=located("CN")),
        event("e-day-old", [("a-russia", "developer")], ["s-alpha"], type="weapons_testing", date="2023-12-31",
              location=located("RU")),
        event("e-year-old", [("a-russia", "perpetrator")], ["s-delta"], date="2023", location=located("UA")),
        event("e-xxxx-a", [("a-eu", "reporter")], ["s-alpha"], type="investigation_published", date="XXXX-09"),
        event("e-xxxx-b", [("a-china", "denier")], ["s-beta"], type="official_denial", date="XXXX-09"),
        event("e-undated", [("a-eeas", "reporter"), ("a-russia", "subject")], ["s-beta"], type="official_assessment"),
    ]  # fmt: skip
    claims = [
        claim("c-one", ["e-day-a", "e-month"], [("a-russia", "asserts"), ("a-china", "subject")],
              [("s-alpha", "supports")], status="alleged", credibility=2),
        claim("c-two", ["e-year"], [("a-china", "denies"), ("a-eu", "asserts")],
              [("s-beta", "reports"), ("s-gamma", "contradicts")], status="unverified", credibility=3),
        claim("c-three", ["e-year", "e-month-oct"], [("a-eu", "asserts")], [("s-alpha", "reports")],
              status="confirmed", credibility=1),
        claim("c-four", ["e-undated"], [("a-russia", "disputes"), ("a-china", "asserts")], [("s-gamma", "supports")],
              status="disputed", credibility=3),
        claim("c-five", ["e-xxxx-a", "e-day-old"], [("a-mfa", "denies")], [("s-beta", "supports")],
              status="denied", credibility=5),
        claim("c-six", ["e-day-a", "e-day-b"], [("a-eu", "asserts"), ("a-china", "denies")],
              [("s-alpha", "supports")], status="alleged", credibility=2),
    ]  # fmt: skip
    return {"sources": sources, "actors": actors, "events": events, "claims": claims}


@pytest.fixture
def world(client, load):
    load(**records())
    return client


# --- the oracle ------------------------------------------------------------------


def joined(*parts):
    return "&".join(part for part in parts if part)


def with_query(path, *parts):
    query = joined(*parts)
    return f"{path}?{query}" if query else path


def whole_list(client, path, *parts):
    body = get_ok(client, with_query(path, *parts, "limit=200"))
    assert body["meta"]["next_cursor"] is None
    return body["data"]


def list_count(client, path, *parts):
    return get_ok(client, with_query(path, *parts, "limit=1"))["meta"]["count"]


# Where a list record keeps the value of a single-valued facet.
FIELD_OF = {
    "country": lambda record: record["location"]["country"] if "location" in record else record["country"],
    "date_precision": lambda record: record["date_precision"],
    "language": lambda record: record["language"],
    "publisher": lambda record: record["publisher"] and record["publisher"].lower(),
    # Only asked for the null value: no known year, or no one month (undated or known to the year only).
    "year": lambda record: record["date_start"],
    "month": lambda record: None if record["date_precision"] in (None, "year") else record["date"],
}


def expected_count(client, path, base, resource, name, value):
    """What the list says the count of `value` is."""
    if value is None or name in ("date_precision", "language"):
        field = FIELD_OF.get(name, lambda record: record[name])
        return sum(1 for record in whole_list(client, path, base) if field(record) == value)
    if name == "year":
        return list_count(client, path, base, f"date_from={value}&date_to={value}")
    if name == "month":
        if value.startswith("XXXX"):
            return sum(1 for record in whole_list(client, path, base) if record["date"] == value)
        # The date filters keep every event overlapping the month: a year-precision event is not in it.
        overlapping = whole_list(client, path, base, f"date_from={value}&date_to={value}")
        return sum(1 for record in overlapping if record["date_precision"] != "year")
    # Every other facet is named as the filter that takes its values.
    return list_count(client, path, base, f"{name}={quote(str(value))}")


SINGLE_VALUED = {
    "events": {"type", "country", "date_precision", "year", "month"},
    "claims": {"status", "credibility"},
    "actors": {"kind", "country", "parent"},
    "sources": {"type", "reliability", "publisher", "language"},
}


def check_facets(client, resource, path, base, skip=()):
    """Every facet of `path?base`, each value's count against the list's own answer."""
    names = [name for name in SPECS[resource].facets_by_name if name not in skip]
    body = get_ok(client, with_query(path, base, f"facets={','.join(names)}"))
    total = body["meta"]["count"]
    facets = body["meta"]["facets"]
    assert list(facets) == names
    mismatches = []
    for name in names:
        facet = facets[name]
        assert facet["truncated"] is False and facet["other_values"] == 0 and facet["other_count"] == 0, name
        counts = [entry["count"] for entry in facet["values"]]
        assert all(count > 0 for count in counts), (name, facet)
        if name in SINGLE_VALUED[resource]:
            assert sum(counts) == total, (base, name, facet)
        for entry in facet["values"]:
            expected = expected_count(client, path, base, resource, name, entry["value"])
            if entry["count"] != expected:
                mismatches.append(f"{path}?{base} {name}={entry['value']!r}: facet {entry['count']}, list {expected}")
        values = [entry["value"] for entry in facet["values"]]
        assert len(values) == len(set(values)), (name, values)
    assert not mismatches, "\n".join(mismatches)
    return facets


# --- counts agree with the list ----------------------------------------------------

EVENT_BASES = [
    ("", ()),
    ("type=accusation,official_denial", ("type",)),
    ("country=CN", ("country",)),
    ("actor=a-china", ("actor",)),
    ("role=denier", ("role",)),
    ("actor=a-china&role=denier", ("actor", "role")),
    ("source=s-beta", ("source",)),
    ("claim=c-one,c-five", ("claim",)),
    ("date_from=2024", ("year", "month")),
    ("q=drones", ()),
    ("q=nothing-matches-this", ()),
]


def test_event_facets_agree_with_the_list(world):
    for base, skip in EVENT_BASES:
        check_facets(world, "events", f"{API}/events", base, skip)


def test_claim_facets_agree_with_the_list(world):
    for base, skip in [
        ("", ()),
        ("status=alleged,disputed", ("status",)),
        ("actor=a-china", ("actor",)),
        ("stance=asserts", ("stance",)),
        ("actor=a-china&stance=denies", ("actor", "stance")),
        ("event=e-year", ("event",)),
        ("credibility=2,3&source=s-alpha", ("credibility", "source")),
    ]:
        check_facets(world, "claims", f"{API}/claims", base, skip)


def test_actor_and_source_facets_agree_with_the_list(world):
    for base, skip in [("", ()), ("kind=agency,state", ("kind",)), ("event=e-day-b", ("event",))]:
        check_facets(world, "actors", f"{API}/actors", base, skip)
    for base, skip in [("", ()), ("type=press_report", ("type",)), ("claim=c-two", ("claim",))]:
        check_facets(world, "sources", f"{API}/sources", base, skip)


def test_related_lists_facet_their_scope(world):
    check_facets(world, "events", f"{API}/actors/a-china/events", "", ())
    check_facets(world, "events", f"{API}/actors/a-russia/events", "type=accusation,weapons_testing", ("type",))
    check_facets(world, "claims", f"{API}/events/e-day-a/claims", "", ())
    check_facets(world, "actors", f"{API}/claims/c-two/actors", "", ())
    check_facets(world, "sources", f"{API}/events/e-year/sources", "", ())
    facets = get_ok(world, f"{API}/actors/a-china/events?facets=type")["meta"]["facets"]
    assert facets["type"]["values"] == [
        {"value": "official_denial", "count": 3},
        {"value": "accusation", "count": 1},
    ]


# --- the values themselves ------------------------------------------------------------


def values(facet):
    return [(entry["value"], entry["count"]) for entry in facet["values"]]


def test_dates_follow_precision(world):
    facets = get_ok(world, f"{API}/events?facets=year,month,date_precision")["meta"]["facets"]
    # 2024: e-day-a, e-day-b, e-month, e-year, e-month-oct; 2023: e-day-old, e-year-old; no year: two XXXX, one undated.
    assert values(facets["year"]) == [("2024", 5), (None, 3), ("2023", 2)]
    # A month-precision event counts in its month; year-precision (e-year, e-year-old) and undated in none.
    assert values(facets["month"]) == [("2024-09", 3), (None, 3), ("XXXX-09", 2), ("2023-12", 1), ("2024-10", 1)]
    assert values(facets["date_precision"]) == [("month", 4), ("day", 3), ("year", 2), (None, 1)]


def test_order_is_count_then_value_with_null_last(world):
    facets = get_ok(world, f"{API}/events?facets=country,type")["meta"]["facets"]
    assert values(facets["country"]) == [("CN", 4), (None, 3), ("BE", 1), ("RU", 1), ("UA", 1)]
    # Null comes after the values it ties with.
    language = get_ok(world, f"{API}/sources?facets=language")["meta"]["facets"]["language"]
    assert values(language) == [("en", 2), ("zh", 1), (None, 1)]
    assert values(facets["type"]) == [
        ("official_denial", 3),
        ("accusation", 2),
        ("investigation_published", 1),
        ("official_assessment", 1),
        ("sanctions_deliberation", 1),
        ("weapons_production", 1),
        ("weapons_testing", 1),
    ]


def test_relation_facets_carry_labels_and_count_each_record_once(world):
    facets = get_ok(world, f"{API}/events?facets=actor,source,claim,role")["meta"]["facets"]
    # a-china is on e-day-b twice (denier and subject) and s-beta supports e-month twice: each counts once.
    assert facets["actor"]["values"][:2] == [
        {"value": "a-russia", "label": "actor a-russia", "count": 5},
        {"value": "a-china", "label": "actor a-china", "count": 4},
    ]
    assert {"value": "s-beta", "label": "source s-beta", "count": 4} in facets["source"]["values"]
    assert {"value": "c-one", "label": "claim c-one", "count": 2} in facets["claim"]["values"]
    assert all("label" not in entry for entry in facets["role"]["values"])
    claims = get_ok(world, f"{API}/claims?facets=event")["meta"]["facets"]
    assert {"value": "e-year", "label": "event e-year", "count": 2} in claims["event"]["values"]
    actors = get_ok(world, f"{API}/actors?facets=parent")["meta"]["facets"]
    assert actors["parent"]["values"] == [
        {"value": None, "label": None, "count": 4},
        {"value": "a-china", "label": "actor a-china", "count": 2},
        {"value": "a-eu", "label": "actor a-eu", "count": 1},
    ]


def test_value_types_are_the_records_own(world):
    facets = get_ok(world, f"{API}/claims?facets=credibility,status")["meta"]["facets"]
    assert values(facets["credibility"]) == [(2, 2), (3, 2), (1, 1), (5, 1)]
    assert all(type(entry["value"]) is int for entry in facets["credibility"]["values"])


def test_publisher_is_faceted_without_regard_to_case(world):
    facet = get_ok(world, f"{API}/sources?facets=publisher")["meta"]["facets"]["publisher"]
    assert facet["values"][0]["value"] == "reuters" and facet["values"][0]["count"] == 2
    assert facet["values"][0]["label"] in ("Reuters", "REUTERS")
    assert list_count(world, f"{API}/sources", "publisher=reuters") == 2


def test_role_and_actor_facets_match_on_the_same_link(world):
    # a-china is denier and subject: the role facet of ?actor=a-china counts a-china's roles only.
    role = get_ok(world, f"{API}/events?actor=a-china&facets=role")["meta"]["facets"]["role"]
    assert values(role) == [("denier", 3), ("subject", 2)]
    actor_facet = get_ok(world, f"{API}/events?role=denier&facets=actor")["meta"]["facets"]["actor"]
    assert values(actor_facet) == [("a-china", 3)]
    stance = get_ok(world, f"{API}/claims?actor=a-china&facets=stance")["meta"]["facets"]["stance"]
    assert values(stance) == [("denies", 2), ("asserts", 1), ("subject", 1)]


def test_a_filter_on_the_faceted_field_counts_too(world):
    facet = get_ok(world, f"{API}/events?type=accusation&facets=type")["meta"]["facets"]["type"]
    assert values(facet) == [("accusation", 2)]


def test_no_match_gives_empty_facets(world):
    body = get_ok(world, f"{API}/events?updated_since=2999-01-01T00:00:00Z&facets=type,actor,month")
    assert body["meta"]["count"] == 0
    for facet in body["meta"]["facets"].values():
        assert facet == {"values": [], "truncated": False, "other_values": 0, "other_count": 0}
    body = get_ok(world, f"{API}/events?updated_since=2000-01-01T00:00:00Z&facets=type")
    assert sum(entry["count"] for entry in body["meta"]["facets"]["type"]["values"]) == body["meta"]["count"] == 10


def test_facets_ignore_the_page(world):
    first = get_ok(world, f"{API}/events?limit=3&facets=type,actor,month")
    second = get_ok(world, first["links"]["next"])
    assert second["meta"]["facets"] == first["meta"]["facets"]
    assert second["data"] and second["data"][0]["id"] not in {record["id"] for record in first["data"]}


def test_facets_only_when_asked(world):
    assert "facets" not in get_ok(world, f"{API}/events")["meta"]
    facets = get_ok(world, f"{API}/events?facets=type&facets=month,type")["meta"]["facets"]
    assert list(facets) == ["type", "month"]


# --- the cap -----------------------------------------------------------------------------


def test_a_facet_is_capped_with_what_was_left_out(client, load):
    many = FACET_LIMIT + 10
    load(
        sources=[source("s-one")],
        actors=[actor("a-common"), *(actor(f"a-{n:03d}") for n in range(many))],
        events=[
            event(f"e-{n:03d}", [("a-common", "subject"), (f"a-{n:03d}", "reporter")], ["s-one"]) for n in range(many)
        ],
    )
    facet = get_ok(client, f"{API}/events?facets=actor")["meta"]["facets"]["actor"]
    assert len(facet["values"]) == FACET_LIMIT
    assert facet["values"][0] == {"value": "a-common", "label": "actor a-common", "count": many}
    # Equal counts in value order: a-000 ... a-048 shown, a-049 ... a-059 left out.
    assert [entry["value"] for entry in facet["values"][1:]] == [f"a-{n:03d}" for n in range(FACET_LIMIT - 1)]
    assert facet["truncated"] is True
    assert facet["other_values"] == many + 1 - FACET_LIMIT
    assert facet["other_count"] == many + 1 - FACET_LIMIT
    exact = get_ok(client, f"{API}/events?facets=type")["meta"]["facets"]["type"]
    assert exact == {"values": [{"value": "accusation", "count": many}], "truncated": False, "other_values": 0,
                     "other_count": 0}  # fmt: skip


# --- errors ----------------------------------------------------------------------------


def test_unknown_facets_are_a_400_naming_them(world):
    for resource, query in [
        ("events", "facets=nope"),
        ("events", "facets=type,nope"),
        ("events", "facets="),
        ("events", "facets=status"),
        ("claims", "facets=type"),
        ("actors", "facets=role"),
        ("sources", "facets=actor"),
    ]:
        assert_bad_parameter(world, f"{API}/{resource}?{query}", "facets")
    response = world.get(f"{API}/events?facets=type,nope")
    assert "'nope'" in response.get_json()["detail"]
    assert_bad_parameter(world, f"{API}/actors/a-china/events?facets=kind", "facets")
    assert_bad_parameter(world, f"{API}/events/e-year?facets=type", "facets")


def test_every_declared_facet_is_accepted_and_defined():
    for name, spec in SPECS.items():
        accepted = spec.list_args._declared_fields["facets"].inner.validators[0].choices
        assert set(accepted) == set(SPECS[name].facets_by_name), name


# --- cost ------------------------------------------------------------------------------


def statements(counter):
    return [query for query in counter.queries if query.startswith(("('", '("'))]


@pytest.mark.parametrize(
    "path",
    [f"{API}/events", f"{API}/claims", f"{API}/actors", f"{API}/sources", f"{API}/actors/a-china/events"],
)
def test_one_query_per_facet(world, count_queries, path):
    resource = path.rsplit("/", 1)[-1]
    names = list(SPECS[resource].facets_by_name)
    # The page's records rendered first, so that every measured request reads the same statements but the facets.
    assert world.get(f"{path}?limit=5&facets={names[-1]}").status_code == 200
    costs = {}
    for facets in ([], names[:1], names):
        count_queries.queries.clear()
        url = with_query(path, "limit=5", facets and f"facets={','.join(facets)}")
        assert world.get(url).status_code == 200, url
        costs[len(facets)] = len(statements(count_queries))
    assert costs[1] == costs[0] + 1, costs
    assert costs[len(names)] == costs[0] + len(names), costs


def test_a_repeated_faceted_request_is_served_from_the_cache(world, count_queries):
    url = f"{API}/events?facets=type,actor"
    first = get_ok(world, url)
    count_queries.queries.clear()
    assert get_ok(world, url) == first
    assert len(statements(count_queries)) == 1  # the revision lookup
    etag = world.get(url).headers["ETag"]
    assert world.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_the_openapi_document_describes_facets(app):
    from openapi_spec_validator import validate

    with app.app_context():
        document = app.extensions["eventledger.api"].spec.to_dict()
    validate(document)
    schemas = document["components"]["schemas"]
    assert "facets" in schemas["ListMeta"]["properties"]
    assert set(schemas["Facet"]["properties"]) == {"values", "truncated", "other_values", "other_count"}
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert parameters["facets"]["schema"]["items"]["enum"] == list(SPECS["events"].facets_by_name)


def test_value_counts_cover_the_list(world):
    """Summed over a single-valued facet, the counts are the list's count, here with every facet at once."""
    body = get_ok(world, f"{API}/events?facets={','.join(SPECS['events'].facets_by_name)}")
    for name in SINGLE_VALUED["events"]:
        assert sum(entry["count"] for entry in body["meta"]["facets"][name]["values"]) == body["meta"]["count"]
    types = Counter(record["type"] for record in whole_list(world, f"{API}/events", ""))
    assert dict(values(body["meta"]["facets"]["type"])) == dict(types)
