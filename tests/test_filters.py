"""Filters of every list, through HTTP: each filter, OR within one filter, AND across filters.

Most tests load a small purpose-made dataset (with real dates, which the shipped
data mostly lacks); a few check the filters against the shipped dataset, with the
expected answer computed from seed/data/*.yaml.
"""

import time
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from helpers import actor, claim, event, get_ok, source

API = "/api/v1"


# --- helpers -------------------------------------------------------------------


def list_ids(client, url):
    """Ids of the whole filtered list (one page of up to 200), checking the envelope agrees with itself."""
    separator = "&" if "?" in url else "?"
    body = get_ok(client, f"{url}{separator}limit=200")
    found = [record["id"] for record in body["data"]]
    assert len(found) == len(set(found)), f"duplicates in {url}: {found}"
    assert body["meta"]["count"] == len(found)
    assert body["meta"]["next_cursor"] is None
    return found


def assert_ids(client, url, expected):
    found = list_ids(client, url)
    assert sorted(found) == sorted(expected), url


def check_cases(client, resource, cases):
    """Run every (query, expected ids) case and report all mismatches at once (one dataset load for all)."""
    mismatches = []
    for query, expected in cases:
        found = list_ids(client, f"{API}/{resource}?{query}")
        if sorted(found) != sorted(expected):
            mismatches.append(f"{query}: expected {sorted(expected)}, got {sorted(found)}")
    assert not mismatches, "\n".join(mismatches)


def check_bad_parameters(client, resource, cases):
    mismatches = []
    for query, parameter in cases:
        response = client.get(f"{API}/{resource}?{query}")
        body = response.get_json()
        named = [error.get("parameter") for error in body.get("errors", [])] if isinstance(body, dict) else []
        if response.status_code != 400 or response.mimetype != "application/problem+json" or parameter not in named:
            mismatches.append(f"{query}: got {response.status_code} {response.mimetype}, errors naming {named}")
    assert not mismatches, "\n".join(mismatches)


def place(country):
    return {"place": None, "country": country, "latitude": None, "longitude": None}


def world_records():
    sources = [
        source("s-alpha", type="news_investigation", publisher="Reuters", reliability="B"),
        source("s-beta", type="official_statement", publisher="Ministry of Foreign Affairs", reliability="A"),
        source("s-gamma", type="press_report", publisher=None, reliability="E"),
        source("s-delta", type="press_report", publisher="REUTERS", reliability="B"),
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
        event(
            "e-day",
            [("a-eu", "accuser"), ("a-china", "subject")],
            ["s-alpha"],
            type="accusation",
            date="2024-09-15",
            location=place("CN"),
        ),
        event(
            "e-month",
            [("a-china", "denier"), ("a-mfa", "reporter")],
            ["s-beta"],
            type="official_denial",
            date="2024-09",
            location=place("CN"),
        ),
        event(
            "e-year",
            [("a-eu", "sanctioning_party"), ("a-russia", "sanctioned_party")],
            ["s-alpha", "s-gamma"],
            type="sanctions_deliberation",
            date="2024",
            location=place("BE"),
        ),
        event(
            "e-month-oct",
            [("a-factory", "producer"), ("a-russia", "recipient")],
            ["s-gamma"],
            type="weapons_production",
            date="2024-10",
            location=place("CN"),
        ),
        event(
            "e-day-2023",
            [("a-russia", "developer")],
            ["s-alpha"],
            type="weapons_testing",
            date="2023-12-31",
            location=place("RU"),
        ),
        event(
            "e-day-2025",
            [("a-russia", "perpetrator"), ("a-china", "supplier")],
            ["s-beta"],
            type="accusation",
            date="2025-01-01",
            location=place("UA"),
        ),
        event("e-xxxx", [("a-eu", "reporter")], ["s-alpha"], type="investigation_published", date="XXXX-09"),
        event(
            "e-undated",
            [("a-eeas", "reporter"), ("a-russia", "subject")],
            ["s-beta"],
            type="official_assessment",
            date=None,
        ),
    ]
    claims = [
        claim(
            "c-one",
            ["e-day", "e-month"],
            [("a-russia", "asserts"), ("a-china", "subject")],
            [("s-alpha", "supports")],
            status="alleged",
            credibility=2,
        ),
        claim(
            "c-two",
            ["e-year"],
            [("a-china", "denies"), ("a-eu", "asserts")],
            [("s-beta", "reports"), ("s-gamma", "contradicts")],
            status="unverified",
            credibility=3,
        ),
        claim(
            "c-three",
            ["e-year", "e-month-oct"],
            [("a-eu", "asserts")],
            [("s-alpha", "reports")],
            status="confirmed",
            credibility=1,
        ),
        claim(
            "c-four",
            ["e-undated"],
            [("a-russia", "disputes"), ("a-china", "asserts")],
            [("s-gamma", "supports")],
            status="disputed",
            credibility=3,
        ),
        claim(
            "c-five",
            ["e-day-2025"],
            [("a-mfa", "denies")],
            [("s-beta", "supports")],
            status="denied",
            credibility=5,
        ),
    ]
    return {"sources": sources, "actors": actors, "events": events, "claims": claims}


@pytest.fixture
def world(client, load):
    load(**world_records())
    return client


# --- events ----------------------------------------------------------------------

EVENT_CASES = [
    # type
    ("type=accusation", ["e-day", "e-day-2025"]),
    ("type=official_denial", ["e-month"]),
    ("type=accusation,official_denial", ["e-day", "e-day-2025", "e-month"]),
    ("type=accusation&type=weapons_testing", ["e-day", "e-day-2025", "e-day-2023"]),
    ("type=sanctions_imposed", []),
    # actor
    ("actor=a-russia", ["e-year", "e-month-oct", "e-day-2023", "e-day-2025", "e-undated"]),
    ("actor=a-eu&actor=a-mfa", ["e-day", "e-year", "e-xxxx", "e-month"]),
    ("actor=a-eu,a-mfa", ["e-day", "e-year", "e-xxxx", "e-month"]),
    ("actor=a-idle", []),
    ("actor=nobody", []),
    # role alone: any actor in that role
    ("role=reporter", ["e-month", "e-xxxx", "e-undated"]),
    ("role=reporter,accuser", ["e-month", "e-xxxx", "e-undated", "e-day"]),
    ("role=reporter&role=producer", ["e-month", "e-xxxx", "e-undated", "e-month-oct"]),
    ("role=target", []),
    # country
    ("country=CN", ["e-day", "e-month", "e-month-oct"]),
    ("country=CN,UA", ["e-day", "e-month", "e-month-oct", "e-day-2025"]),
    ("country=BE&country=RU", ["e-year", "e-day-2023"]),
    ("country=FR", []),
    # claim
    ("claim=c-three", ["e-year", "e-month-oct"]),
    ("claim=c-one,c-five", ["e-day", "e-month", "e-day-2025"]),
    ("claim=c-four&claim=c-two", ["e-undated", "e-year"]),
    ("claim=nobody", []),
    # source
    ("source=s-gamma", ["e-year", "e-month-oct"]),
    ("source=s-beta,s-gamma", ["e-month", "e-day-2025", "e-undated", "e-year", "e-month-oct"]),
    ("source=s-beta&source=s-gamma", ["e-month", "e-day-2025", "e-undated", "e-year", "e-month-oct"]),
    ("source=s-delta", []),
    ("source=nobody", []),
    # filters combine with AND
    ("type=accusation&country=CN", ["e-day"]),
    ("type=accusation,official_denial&country=UA", ["e-day-2025"]),
    ("actor=a-russia&date_from=2024", ["e-year", "e-month-oct", "e-day-2025"]),
    ("source=s-alpha&date_to=2024-09", ["e-day", "e-year", "e-day-2023"]),
    ("country=CN&role=subject", ["e-day"]),
    ("claim=c-three&country=CN", ["e-month-oct"]),
    ("actor=a-russia&source=s-beta", ["e-day-2025", "e-undated"]),
    ("actor=a-russia&source=s-beta&type=official_assessment", ["e-undated"]),
    ("actor=a-russia&claim=c-one", []),
]


def test_event_filters(world):
    check_cases(world, "events", EVENT_CASES)


# actor + role must match on the same join row: e-day has a-eu as accuser and a-china as subject.
EVENT_ACTOR_ROLE_CASES = [
    ("actor=a-china&role=subject", ["e-day"]),
    ("actor=a-china&role=accuser", []),  # e-day: a-eu is the accuser, a-china the subject
    ("actor=a-eu&role=subject", []),
    ("actor=a-russia&role=subject", ["e-undated"]),
    ("actor=a-russia,a-china&role=subject", ["e-day", "e-undated"]),
    ("actor=a-china&role=denier,supplier", ["e-month", "e-day-2025"]),
    ("actor=nobody&role=subject", []),
]


def test_event_actor_and_role_match_the_same_join_row(world):
    check_cases(world, "events", EVENT_ACTOR_ROLE_CASES)


# Event ranges: e-day-2023 [2023-12-31], e-year [2024-01-01, 2024-12-31], e-month [2024-09-01, 2024-09-30],
# e-day [2024-09-15], e-month-oct [2024-10-01, 2024-10-31], e-day-2025 [2025-01-01]; e-xxxx and e-undated have none.
DATE_CASES = [
    ("date_from=2024", ["e-year", "e-month", "e-day", "e-month-oct", "e-day-2025"]),
    ("date_to=2024", ["e-day-2023", "e-year", "e-month", "e-day", "e-month-oct"]),
    ("date_from=2024&date_to=2024", ["e-year", "e-month", "e-day", "e-month-oct"]),
    ("date_to=2023", ["e-day-2023"]),
    ("date_from=2025", ["e-day-2025"]),
    ("date_from=2026", []),
    ("date_to=2022", []),
    # month precision
    ("date_from=2024-09&date_to=2024-09", ["e-year", "e-month", "e-day"]),
    ("date_from=2024-10", ["e-year", "e-month-oct", "e-day-2025"]),
    ("date_to=2024-08", ["e-day-2023", "e-year"]),
    ("date_from=2024-12&date_to=2025-01", ["e-year", "e-day-2025"]),
    # day precision, with month-precision events at the edges of the range
    ("date_to=2024-09-01", ["e-day-2023", "e-year", "e-month"]),
    ("date_to=2024-08-31", ["e-day-2023", "e-year"]),
    ("date_from=2024-09-30", ["e-year", "e-month", "e-month-oct", "e-day-2025"]),
    ("date_from=2024-10-01", ["e-year", "e-month-oct", "e-day-2025"]),
    ("date_from=2024-09-15&date_to=2024-09-15", ["e-year", "e-month", "e-day"]),
    ("date_from=2024-09-16&date_to=2024-09-20", ["e-year", "e-month"]),
    ("date_from=2024-09-14&date_to=2024-09-14", ["e-year", "e-month"]),
    ("date_from=2024-10-31&date_to=2024-10-31", ["e-year", "e-month-oct"]),
    ("date_from=2024-11-01&date_to=2024-11-30", ["e-year"]),
    # year precision at the edges
    ("date_from=2024-12-31&date_to=2024-12-31", ["e-year"]),
    ("date_from=2023-12-31&date_to=2023-12-31", ["e-day-2023"]),
    ("date_from=2023-12-31&date_to=2024-01-01", ["e-day-2023", "e-year"]),
    ("date_from=2025-01-01", ["e-day-2025"]),
    ("date_to=2024-01-01", ["e-day-2023", "e-year"]),
    # an inverted range overlaps nothing
    ("date_from=2025&date_to=2023", []),
]


def test_event_date_overlap(world):
    check_cases(world, "events", DATE_CASES)


def test_undated_and_unknown_year_events_never_match_a_date_filter(world):
    wide = "date_from=0001&date_to=9999"
    found = list_ids(world, f"{API}/events?{wide}")
    assert sorted(found) == sorted(["e-day-2023", "e-year", "e-month", "e-day", "e-month-oct", "e-day-2025"])
    for query in ("date_from=0001", "date_to=9999", "date_from=2024-09", "date_to=2024-09", "date_from=2024-09-01"):
        found = list_ids(world, f"{API}/events?{query}")
        assert "e-xxxx" not in found and "e-undated" not in found, query
    # without a date filter they are listed
    assert {"e-xxxx", "e-undated"} <= set(list_ids(world, f"{API}/events"))


def test_malformed_dates_are_rejected(client):
    check_bad_parameters(
        client,
        "events",
        [
            ("date_from=XXXX-09", "date_from"),
            ("date_from=2024-13", "date_from"),
            ("date_from=2024-02-30", "date_from"),
            ("date_to=2023-02-29", "date_to"),
            ("date_to=24", "date_to"),
            ("date_from=2024-9", "date_from"),
            ("date_to=2024-09-15T00:00:00", "date_to"),
            ("date_from=last-week", "date_from"),
            ("date_from=", "date_from"),
        ],
    )


def test_leap_day_is_a_valid_query_date(world):
    assert_ids(world, f"{API}/events?date_from=2024-02-29&date_to=2024-02-29", ["e-year"])


def test_invalid_filter_values_are_rejected(client):
    check_bad_parameters(
        client,
        "events",
        [
            ("type=battle", "type"),
            ("type=accusation,battle", "type"),
            ("role=hero", "role"),
            ("country=cn", "country"),
            ("country=CHN", "country"),
            ("actor=Not_A_Slug", "actor"),
            ("claim=a%20b", "claim"),
            ("type=", "type"),
        ],
    )
    check_bad_parameters(
        client,
        "claims",
        [("status=rumoured", "status"), ("credibility=7", "credibility"), ("credibility=A", "credibility")],
    )
    check_bad_parameters(
        client,
        "actors",
        [("kind=nation", "kind"), ("country=ru", "country"), ("parent=A-CHINA", "parent"), ("event=x_y", "event")],
    )
    check_bad_parameters(
        client,
        "sources",
        [("reliability=G", "reliability"), ("reliability=b", "reliability"), ("type=blog", "type")],
    )
    check_bad_parameters(client, "sources", [("publisher=", "publisher")])


def test_a_filter_of_another_resource_is_an_unknown_parameter(client):
    """A misspelt or foreign filter must be a 400, not a silently unfiltered list."""
    check_bad_parameters(
        client,
        "events",
        [("kind=state", "kind"), ("status=alleged", "status"), ("event=e-day", "event"), ("bogus=1", "bogus")],
    )
    check_bad_parameters(client, "claims", [("role=subject", "role"), ("type=accusation", "type")])
    check_bad_parameters(client, "actors", [("role=subject", "role"), ("source=s-alpha", "source")])
    check_bad_parameters(client, "sources", [("actor=a-eu", "actor"), ("country=CN", "country")])


def test_filtered_events_keep_the_default_date_order(world):
    found = list_ids(world, f"{API}/events?actor=a-russia")
    assert found == ["e-day-2023", "e-year", "e-month-oct", "e-day-2025", "e-undated"]


# --- claims ----------------------------------------------------------------------

CLAIM_CASES = [
    ("status=alleged", ["c-one"]),
    ("status=alleged,disputed", ["c-one", "c-four"]),
    ("status=alleged&status=denied", ["c-one", "c-five"]),
    ("status=refuted", []),
    ("credibility=3", ["c-two", "c-four"]),
    ("credibility=1,5", ["c-three", "c-five"]),
    ("credibility=2&credibility=5", ["c-one", "c-five"]),
    ("credibility=6", []),
    ("actor=a-china", ["c-one", "c-two", "c-four"]),
    ("actor=a-mfa,a-eu", ["c-two", "c-three", "c-five"]),
    ("actor=a-idle", []),
    ("actor=nobody", []),
    ("stance=asserts", ["c-one", "c-two", "c-three", "c-four"]),
    ("stance=denies", ["c-two", "c-five"]),
    ("stance=disputes,subject", ["c-four", "c-one"]),
    ("event=e-year", ["c-two", "c-three"]),
    ("event=e-day,e-undated", ["c-one", "c-four"]),
    ("event=e-month&event=e-month-oct", ["c-one", "c-three"]),
    ("event=e-xxxx", []),
    ("event=nobody", []),
    ("source=s-gamma", ["c-two", "c-four"]),
    ("source=s-alpha&source=s-beta", ["c-one", "c-two", "c-three", "c-five"]),
    ("source=s-delta", []),
    ("source=nobody", []),
    # AND
    ("status=alleged,unverified&credibility=3", ["c-two"]),
    ("actor=a-china&source=s-gamma", ["c-two", "c-four"]),
    ("event=e-year&stance=asserts", ["c-two", "c-three"]),
    ("actor=a-eu&event=e-year&status=confirmed", ["c-three"]),
    ("credibility=3&status=disputed&source=s-gamma&event=e-undated", ["c-four"]),
    ("credibility=1&actor=a-china", []),
]


def test_claim_filters(world):
    check_cases(world, "claims", CLAIM_CASES)


# actor + stance must match on the same join row: c-two has a-china denying and a-eu asserting.
CLAIM_ACTOR_STANCE_CASES = [
    ("actor=a-china&stance=asserts", ["c-four"]),
    ("actor=a-china&stance=subject", ["c-one"]),
    ("actor=a-eu&stance=denies", []),  # c-two: a-china denies, a-eu asserts
    ("actor=a-russia&stance=subject", []),  # c-one: a-russia asserts, a-china is the subject
    ("actor=a-china,a-mfa&stance=denies", ["c-two", "c-five"]),
    ("actor=a-russia&actor=a-eu&stance=asserts", ["c-one", "c-two", "c-three"]),
]


def test_claim_actor_and_stance_match_the_same_join_row(world):
    check_cases(world, "claims", CLAIM_ACTOR_STANCE_CASES)


# --- actors ----------------------------------------------------------------------

ACTOR_CASES = [
    ("kind=state", ["a-russia", "a-china"]),
    ("kind=agency,facility", ["a-eeas", "a-mfa", "a-factory"]),
    ("kind=agency&kind=person", ["a-eeas", "a-mfa", "a-idle"]),
    ("kind=media_outlet", []),
    ("country=CN", ["a-china", "a-mfa", "a-factory"]),
    ("country=RU,GB", ["a-russia", "a-idle"]),
    ("country=RU&country=CN", ["a-russia", "a-china", "a-mfa", "a-factory"]),
    ("country=US", []),
    ("parent=a-china", ["a-mfa", "a-factory"]),
    ("parent=a-china,a-eu", ["a-mfa", "a-factory", "a-eeas"]),
    ("parent=a-eu&parent=a-idle", ["a-eeas"]),
    ("parent=a-idle", []),
    ("parent=nobody", []),
    ("event=e-day", ["a-eu", "a-china"]),
    ("event=e-month,e-year", ["a-china", "a-mfa", "a-eu", "a-russia"]),
    ("event=e-undated&event=e-xxxx", ["a-eeas", "a-russia", "a-eu"]),
    ("event=nobody", []),
    ("claim=c-two", ["a-china", "a-eu"]),
    ("claim=c-five,c-four", ["a-mfa", "a-russia", "a-china"]),
    ("claim=c-three&claim=c-five", ["a-eu", "a-mfa"]),
    ("claim=nobody", []),
    # AND
    ("kind=agency&country=CN", ["a-mfa"]),
    ("parent=a-china&kind=facility", ["a-factory"]),
    ("event=e-month-oct&country=CN", ["a-factory"]),
    ("claim=c-one&kind=state", ["a-russia", "a-china"]),
    ("claim=c-one&event=e-year", ["a-russia"]),
    ("kind=person&event=e-day", []),
]


def test_actor_filters(world):
    check_cases(world, "actors", ACTOR_CASES)


# --- sources ---------------------------------------------------------------------

SOURCE_CASES = [
    ("type=press_report", ["s-gamma", "s-delta"]),
    ("type=news_investigation,official_statement", ["s-alpha", "s-beta"]),
    ("type=news_investigation&type=press_report", ["s-alpha", "s-gamma", "s-delta"]),
    ("type=other", []),
    # publisher is matched without regard to case, but whole
    ("publisher=reuters", ["s-alpha", "s-delta"]),
    ("publisher=Reuters", ["s-alpha", "s-delta"]),
    ("publisher=rEuTeRs", ["s-alpha", "s-delta"]),
    ("publisher=MINISTRY%20OF%20FOREIGN%20AFFAIRS", ["s-beta"]),
    ("publisher=reuters&publisher=ministry%20of%20foreign%20affairs", ["s-alpha", "s-delta", "s-beta"]),
    ("publisher=reuters,Ministry%20of%20Foreign%20Affairs", ["s-alpha", "s-delta", "s-beta"]),
    ("publisher=reut", []),
    ("publisher=Reuters%20Ltd", []),
    ("reliability=B", ["s-alpha", "s-delta"]),
    ("reliability=A,E", ["s-beta", "s-gamma"]),
    ("reliability=A&reliability=B", ["s-beta", "s-alpha", "s-delta"]),
    ("reliability=F", []),
    ("event=e-year", ["s-alpha", "s-gamma"]),
    ("event=e-month,e-day-2025", ["s-beta"]),
    ("event=e-day&event=e-month-oct", ["s-alpha", "s-gamma"]),
    ("event=nobody", []),
    ("claim=c-two", ["s-beta", "s-gamma"]),
    ("claim=c-one,c-five", ["s-alpha", "s-beta"]),
    ("claim=c-four&claim=c-three", ["s-gamma", "s-alpha"]),
    ("claim=nobody", []),
    # AND
    ("type=press_report&publisher=reuters", ["s-delta"]),
    ("reliability=B&event=e-day", ["s-alpha"]),
    ("reliability=B&claim=c-two", []),
    ("event=e-year&claim=c-two", ["s-gamma"]),
    ("type=official_statement,press_report&reliability=A,E&claim=c-five", ["s-beta"]),
]


def test_source_filters(world):
    check_cases(world, "sources", SOURCE_CASES)


def test_blank_items_of_a_comma_list_are_ignored(world):
    assert_ids(world, f"{API}/events?type=accusation,,%20official_denial,", ["e-day", "e-day-2025", "e-month"])


# --- updated_since ---------------------------------------------------------------


def parse_timestamp(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def since(moment, offset_hours=0, offset_minutes=0):
    zone = timezone(timedelta(hours=offset_hours, minutes=offset_minutes))
    return urlencode({"updated_since": moment.astimezone(zone).isoformat()})


def updated_at(client, resource, record_id):
    return parse_timestamp(get_ok(client, f"{API}/{resource}/{record_id}")["data"]["updated_at"])


def pause():
    """Let the clock move on so that two loads get distinct timestamps."""
    time.sleep(0.02)


@pytest.fixture
def two_batches(client, load):
    """s-one, a-one, e-one loaded first; s-two, a-two, e-two later. Returns the two load moments."""
    load(
        sources=[source("s-one")],
        actors=[actor("a-one")],
        events=[event("e-one", [("a-one", "subject")], ["s-one"])],
        claims=[claim("c-one", ["e-one"], [("a-one", "asserts")], [("s-one", "reports")])],
    )
    first = updated_at(client, "events", "e-one")
    pause()
    load(
        sources=[source("s-two")],
        actors=[actor("a-two")],
        events=[event("e-two", [("a-two", "subject")], ["s-two"])],
        claims=[claim("c-two", ["e-two"], [("a-two", "asserts")], [("s-two", "reports")])],
    )
    second = updated_at(client, "events", "e-two")
    assert second > first
    return first, second


@pytest.mark.parametrize("resource", ["events", "actors", "claims", "sources"])
def test_updated_since_keeps_records_changed_at_or_after(client, two_batches, resource):
    first, second = two_batches
    prefix = resource[0]
    assert updated_at(client, resource, f"{prefix}-one") == first
    assert updated_at(client, resource, f"{prefix}-two") == second
    everything = [f"{prefix}-one", f"{prefix}-two"]
    assert_ids(client, f"{API}/{resource}?{since(first - timedelta(days=1))}", everything)
    assert_ids(client, f"{API}/{resource}?{since(first)}", everything)  # at: inclusive
    assert_ids(client, f"{API}/{resource}?{since(first + timedelta(microseconds=1))}", [f"{prefix}-two"])
    assert_ids(client, f"{API}/{resource}?{since(second)}", [f"{prefix}-two"])
    assert_ids(client, f"{API}/{resource}?{since(second + timedelta(microseconds=1))}", [])
    assert_ids(client, f"{API}/{resource}?{since(second + timedelta(days=1))}", [])


def test_updated_since_accepts_any_offset(client, two_batches):
    first, second = two_batches
    for hours, minutes in [(0, 0), (2, 0), (-5, -30), (14, 0), (-12, 0)]:
        assert_ids(client, f"{API}/events?{since(second, hours, minutes)}", ["e-two"])
        later = second + timedelta(microseconds=1)
        assert_ids(client, f"{API}/events?{since(later, hours, minutes)}", [])
        assert_ids(client, f"{API}/events?{since(first, hours, minutes)}", ["e-one", "e-two"])
    # an explicit `+02:00` (percent-encoded `+`) and a literal `Z`
    plus_two = second.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert plus_two.endswith("+02:00")
    assert_ids(client, f"{API}/events?updated_since={plus_two.replace('+', '%2B')}", ["e-two"])
    zulu = second.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert_ids(client, f"{API}/events?updated_since={zulu}", ["e-two"])


def test_updated_since_picks_up_an_edited_record(client, load, two_batches):
    _first, second = two_batches
    assert_ids(client, f"{API}/events?{since(second)}", ["e-two"])
    pause()
    load(events=[event("e-one", [("a-one", "subject")], ["s-one"], title="event e-one, retitled")])
    edited = get_ok(client, f"{API}/events/e-one")["data"]
    assert edited["version"] == 2
    assert parse_timestamp(edited["updated_at"]) > second
    assert_ids(client, f"{API}/events?{since(second)}", ["e-one", "e-two"])
    assert_ids(client, f"{API}/events?{since(second + timedelta(microseconds=1))}", ["e-one"])
    # only the edited record moved: its neighbours in other resources did not
    assert_ids(client, f"{API}/claims?{since(second + timedelta(microseconds=1))}", [])
    # an edit of links only (a new role) also counts as a change
    pause()
    load(claims=[claim("c-one", ["e-one"], [("a-one", "denies")], [("s-one", "reports")])])
    after_edit = parse_timestamp(edited["updated_at"]) + timedelta(microseconds=1)
    assert_ids(client, f"{API}/claims?{since(after_edit)}", ["c-one"])


def test_reloading_an_unchanged_record_does_not_make_it_recent(client, load, two_batches):
    _first, second = two_batches
    load(sources=[source("s-one")], actors=[actor("a-one")])
    assert_ids(client, f"{API}/sources?{since(second)}", ["s-two"])
    assert_ids(client, f"{API}/actors?{since(second)}", ["a-two"])


def test_updated_since_combines_with_filters(client, two_batches):
    first, _second = two_batches
    assert_ids(client, f"{API}/events?{since(first)}&actor=a-one", ["e-one"])
    assert_ids(client, f"{API}/events?{since(first + timedelta(microseconds=1))}&actor=a-one", [])
    assert_ids(client, f"{API}/claims?{since(first)}&source=s-two", ["c-two"])


def test_updated_since_needs_an_rfc3339_timestamp_with_offset(client):
    values = ["2024-09-01T00:00:00", "2024-09-01", "yesterday", "2024-09-01T25:00:00Z", "2024-09-01T00:00:00+25:00"]
    check_bad_parameters(client, "events", [(urlencode({"updated_since": v}), "updated_since") for v in values])


# --- the shipped dataset ---------------------------------------------------------


def test_claims_by_status_match_the_seed_file(seeded, seed_fixtures):
    client = seeded.test_client()
    for status in ("unverified", "alleged", "confirmed", "disputed", "denied", "refuted"):
        expected = [item["id"] for item in seed_fixtures["claims"] if item["status"] == status]
        assert_ids(client, f"{API}/claims?status={status}", expected)
    unverified = [item["id"] for item in seed_fixtures["claims"] if item["status"] == "unverified"]
    assert {
        "factory-produces-lethal-drones",
        "factory-drones-sent-to-russia",
        "beijing-fully-aware-of-operation",
    } <= set(unverified)
    both = [item["id"] for item in seed_fixtures["claims"] if item["status"] in ("unverified", "disputed")]
    assert_ids(client, f"{API}/claims?status=unverified,disputed", both)


def test_claims_by_credibility_and_actor_stance_match_the_seed_file(seeded, seed_fixtures):
    client = seeded.test_client()
    for grade in range(1, 7):
        expected = [item["id"] for item in seed_fixtures["claims"] if item["credibility"] == grade]
        assert_ids(client, f"{API}/claims?credibility={grade}", expected)
    denied_by_china = [
        item["id"]
        for item in seed_fixtures["claims"]
        if any(link == {"actor": "china", "stance": "denies"} for link in item["actors"])
    ]
    assert denied_by_china
    assert_ids(client, f"{API}/claims?actor=china&stance=denies", denied_by_china)


def test_events_by_actor_and_role_match_the_seed_file(seeded, seed_fixtures):
    client = seeded.test_client()
    for actor_id in ("china", "reuters", "european-union"):
        expected = [item["id"] for item in seed_fixtures["events"] if actor_id in {a["actor"] for a in item["actors"]}]
        assert expected
        assert_ids(client, f"{API}/events?actor={actor_id}", expected)
    denier = [
        item["id"]
        for item in seed_fixtures["events"]
        if any(link == {"actor": "china", "role": "denier"} for link in item["actors"])
    ]
    assert denier
    assert_ids(client, f"{API}/events?actor=china&role=denier", denier)


def test_actors_and_sources_match_the_seed_file(seeded, seed_fixtures):
    client = seeded.test_client()
    kinds = {item["kind"] for item in seed_fixtures["actors"]}
    for kind in kinds:
        expected = [item["id"] for item in seed_fixtures["actors"] if item["kind"] == kind]
        assert_ids(client, f"{API}/actors?kind={kind}", expected)
    children = [item["id"] for item in seed_fixtures["actors"] if item["parent"] == "european-union"]
    assert children
    assert_ids(client, f"{API}/actors?parent=european-union", children)
    for grade in "ABCDEF":
        expected = [item["id"] for item in seed_fixtures["sources"] if item["reliability"] == grade]
        assert_ids(client, f"{API}/sources?reliability={grade}", expected)
    reuters = [item["id"] for item in seed_fixtures["sources"] if (item["publisher"] or "").lower() == "reuters"]
    assert reuters
    assert_ids(client, f"{API}/sources?publisher=REUTERS", reuters)


def test_shipped_events_have_no_known_dates_so_date_filters_match_nothing(seeded, seed_fixtures):
    client = seeded.test_client()
    assert all(item["date"] is None or item["date"].startswith("XXXX") for item in seed_fixtures["events"])
    assert len(list_ids(client, f"{API}/events")) == len(seed_fixtures["events"])
    assert_ids(client, f"{API}/events?date_from=1900", [])
    assert_ids(client, f"{API}/events?date_to=2100", [])
