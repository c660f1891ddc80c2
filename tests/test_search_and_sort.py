"""Full-text search (`q`) and sorting (`sort`) of every list, through HTTP."""

import time
from functools import cmp_to_key
from urllib.parse import urlencode

import pytest
from helpers import get_ok

API = "/api/v1"


# --- helpers -------------------------------------------------------------------


def list_records(client, url):
    separator = "&" if "?" in url else "?"
    body = get_ok(client, f"{url}{separator}limit=200")
    assert body["meta"]["next_cursor"] is None
    assert body["meta"]["count"] == len(body["data"])
    return body["data"]


def list_ids(client, url):
    found = [record["id"] for record in list_records(client, url)]
    assert len(found) == len(set(found)), f"duplicates in {url}: {found}"
    return found


def search(client, resource, q, extra=""):
    return list_ids(client, f"{API}/{resource}?{urlencode({'q': q})}{extra}")


def check_searches(client, resource, cases):
    """Run every (q, expected ids) case and report all mismatches at once."""
    mismatches = []
    for q, expected in cases:
        found = search(client, resource, q)
        if sorted(found) != sorted(expected):
            mismatches.append(f"q={q!r}: expected {sorted(expected)}, got {sorted(found)}")
    assert not mismatches, "\n".join(mismatches)


def check_sorts(client, resource, cases):
    """Run every (sort, expected ids in order) case and report all mismatches at once."""
    mismatches = []
    for sort, expected in cases:
        url = f"{API}/{resource}" + (f"?sort={sort}" if sort is not None else "")
        found = list_ids(client, url)
        if found != expected:
            mismatches.append(f"sort={sort}: expected {expected}, got {found}")
    assert not mismatches, "\n".join(mismatches)


def assert_bad_parameter(client, url, parameter):
    response = client.get(url)
    assert response.status_code == 400, (url, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    assert parameter in [error["parameter"] for error in response.get_json()["errors"]]


NEUTRAL = "nothing"  # filler text that no search below looks for


def source(record_id, **fields):
    return {
        "id": record_id,
        "type": "press_report",
        "title": NEUTRAL,
        "reliability": "C",
        "reliability_rationale": NEUTRAL,
        **fields,
    }


def actor(record_id, **fields):
    return {"id": record_id, "name": NEUTRAL, "kind": "state", "description": NEUTRAL, **fields}


def event(record_id, **fields):
    return {
        "id": record_id,
        "title": NEUTRAL,
        "summary": NEUTRAL,
        "type": "accusation",
        "actors": [{"actor": "a-base", "role": "subject"}],
        "sources": [{"source": "s-base", "stance": "reports", "excerpt": NEUTRAL}],
        **fields,
    }


def claim(record_id, **fields):
    return {
        "id": record_id,
        "statement": NEUTRAL,
        "status": "alleged",
        "status_rationale": NEUTRAL,
        "credibility": 3,
        "credibility_rationale": NEUTRAL,
        "events": ["e-base"],
        "actors": [{"actor": "a-base", "stance": "asserts"}],
        "sources": [{"source": "s-base", "stance": "reports", "excerpt": NEUTRAL}],
        **fields,
    }


BASE = {
    "sources": [source("s-base")],
    "actors": [actor("a-base")],
    "events": [event("e-base")],
    "claims": [claim("c-base")],
}


# --- q: search -------------------------------------------------------------------


@pytest.fixture
def texts(client, load):
    load(
        sources=[
            *BASE["sources"],
            source(
                "s-plain",
                title="Annual report on drones",
                publisher="Acme Press",
                author="Jane Quimby",
                reliability_rationale="Usually accurate",
            ),
            source("s-percent", title="Output rose 100% in a year", publisher="Stats_Office"),
            source("s-backslash", title="Stored under C:\\temp\\files"),
        ],
        actors=[
            *BASE["actors"],
            actor("a-plant", name="Izhevsk Electromechanical Plant", aliases=["Kupol", "IEMZ"]),
            actor("a-maker", name="Garpiya maker", description="Builds the Garpiya-3 drone in Izhevsk"),
        ],
        events=[
            *BASE["events"],
            event("e-title", title="Drone factory opens"),
            event("e-summary", title="Meeting", summary="Officials discuss the DRONE programme"),
            event("e-place", title="Visit", location={"place": "Xinjiang", "country": "CN"}),
            event("e-note", title="Delivery", date_note="Timing given by Reuters"),
            event("e-split", title="Factory inspection", summary="Drone parts were found"),
            event("e-percent", title="Production up 50% year on year"),
            event("e-underscore", title="Project code_name revealed"),
            event("e-accent", title="Visit to Ürümqi"),
        ],
        claims=[
            *BASE["claims"],
            claim("c-statement", statement="The factory assembled Garpiya drones"),
            claim("c-status", status_rationale="Denied by Beijing"),
            claim("c-credibility", credibility_rationale="Corroborated by satellite imagery"),
            claim("c-mixed", statement="Satellite images show a factory", status_rationale="Beijing was silent"),
        ],
    )
    return client


def test_search_looks_in_every_event_text_column(texts):
    check_searches(
        texts,
        "events",
        [
            ("opens", ["e-title"]),  # title
            ("programme", ["e-summary"]),  # summary
            ("xinjiang", ["e-place"]),  # location place
            ("reuters", ["e-note"]),  # date note
            ("inspection", ["e-split"]),
            ("parts", ["e-split"]),
        ],
    )


def test_search_looks_in_every_claim_actor_and_source_text_column(texts):
    check_searches(
        texts,
        "claims",
        [
            ("assembled", ["c-statement"]),  # statement
            ("denied", ["c-status"]),  # status rationale
            ("imagery", ["c-credibility"]),  # credibility rationale
            ("beijing", ["c-status", "c-mixed"]),
        ],
    )
    check_searches(
        texts,
        "actors",
        [
            ("electromechanical", ["a-plant"]),  # name
            ("kupol", ["a-plant"]),  # alias
            ("iemz", ["a-plant"]),  # second alias
            ("builds", ["a-maker"]),  # description
            ("izhevsk", ["a-plant", "a-maker"]),
        ],
    )
    check_searches(
        texts,
        "sources",
        [
            ("annual", ["s-plain"]),  # title
            ("acme", ["s-plain"]),  # publisher
            ("quimby", ["s-plain"]),  # author
            ("accurate", ["s-plain"]),  # reliability rationale
        ],
    )


def test_search_is_case_insensitive(texts):
    for q in ("drone", "DRONE", "Drone", "dRoNe"):
        assert sorted(search(texts, "events", q)) == ["e-split", "e-summary", "e-title"], q
    for q in ("XINJIANG", "xInJiAnG"):
        assert search(texts, "events", q) == ["e-place"], q
    assert search(texts, "sources", "ACME press") == ["s-plain"]
    assert search(texts, "actors", "kUPOL") == ["a-plant"]
    assert sorted(search(texts, "claims", "SATELLITE")) == ["c-credibility", "c-mixed"]


def test_search_is_case_insensitive_beyond_ascii(texts):
    for q in ("Ürümqi", "ürümqi", "ÜRÜMQI"):
        assert search(texts, "events", q) == ["e-accent"], q


def test_every_word_must_appear_each_in_any_column(texts):
    check_searches(
        texts,
        "events",
        [
            ("drone factory", ["e-title", "e-split"]),  # e-split: one word in the title, one in the summary
            ("factory drone", ["e-title", "e-split"]),
            ("drone   factory", ["e-title", "e-split"]),
            ("drone programme", ["e-summary"]),
            ("drone opens", ["e-title"]),
            ("drone xinjiang", []),
            ("drone factory nowhere", []),
            ("visit xinjiang", ["e-place"]),  # title + place
            ("delivery reuters", ["e-note"]),  # title + date note
        ],
    )
    check_searches(
        texts,
        "claims",
        [
            ("satellite beijing", ["c-mixed"]),  # statement + status rationale
            ("factory beijing", ["c-mixed"]),
            ("imagery beijing", []),
        ],
    )
    check_searches(texts, "actors", [("garpiya izhevsk", ["a-maker"]), ("kupol plant", ["a-plant"])])
    check_searches(texts, "sources", [("annual quimby acme accurate", ["s-plain"]), ("annual percent", [])])


def test_search_words_match_the_beginning_of_longer_words(texts):
    assert sorted(search(texts, "events", "fact")) == ["e-split", "e-title"]
    assert sorted(search(texts, "claims", "drone")) == ["c-statement"]  # "drones"
    # Full-text search matches words and their beginnings, not any substring as LIKE did.
    assert search(texts, "events", "actory") == []
    assert search(texts, "events", "rone") == []


def test_punctuation_in_q_separates_words_and_is_never_syntax(texts):
    """Punctuation is plain text that separates words; a word of several parts is a phrase."""
    check_searches(
        texts,
        "events",
        [
            ("50%", ["e-percent"]),
            ("5%", ["e-percent"]),  # "5" begins "50"
            ("code_name", ["e-underscore"]),
            ("code%name", ["e-underscore"]),  # the phrase "code name", whatever separates the two
            ("e_n", []),  # no word "e" followed by a word beginning with "n"
            ("o_e", []),
            ("d%y", []),
            ("drone %", ["e-split", "e-summary", "e-title"]),  # "%" holds no word: only "drone" counts
        ],
    )
    check_searches(
        texts,
        "sources",
        [
            ("100%", ["s-percent"]),
            ("stats_office", ["s-percent"]),
            ("office_stats", []),  # a phrase: its words in this order
            ("annual_drones", []),  # both words are in s-plain, but not side by side
            ("annual_report", ["s-plain"]),
            ("c:\\temp\\files", ["s-backslash"]),
            ("temp\\files", ["s-backslash"]),
        ],
    )
    for q in ("%", "%%", "_", "\\", "\\%", "\\_"):  # nothing to search for: a 400, not every record
        assert_bad_parameter(texts, f"{API}/events?{urlencode({'q': q})}", "q")


def test_search_combines_with_filters_and_sort(texts):
    found = list_ids(texts, f"{API}/events?q=drone&sort=-title")
    assert found == ["e-summary", "e-split", "e-title"]  # "Meeting", "Factory inspection", "Drone factory opens"
    assert list_ids(texts, f"{API}/events?q=drone&type=official_denial") == []
    assert list_ids(texts, f"{API}/claims?q=beijing&status=alleged&sort=-id") == ["c-status", "c-mixed"]


def test_search_count_is_the_number_of_matches(texts):
    body = get_ok(texts, f"{API}/events?q=drone&limit=1")
    assert body["meta"]["count"] == 3
    assert len(body["data"]) == 1


def test_q_must_be_one_to_two_hundred_characters(texts):
    assert_bad_parameter(texts, f"{API}/events?q=", "q")
    assert_bad_parameter(texts, f"{API}/events?q={'a' * 201}", "q")
    assert list_ids(texts, f"{API}/events?q={'a' * 200}") == []


# --- sort --------------------------------------------------------------------------


@pytest.fixture
def sortable(client, load):
    load(
        sources=[
            source("so-a", title="Gamma", publisher="Reuters", reliability="B", published="2024-09-15"),
            source("so-b", title="Alpha", publisher=None, reliability="A", published="2024"),
            source("so-c", title="Beta", publisher="AP", reliability="B", published=None),
            source("so-d", title="Alpha", publisher="Reuters", reliability="C", published="XXXX-09"),
            source("so-e", title="Delta", publisher="AFP", reliability="F", published="2023-05"),
        ],
        actors=[
            actor("ac-delta", name="Mars", kind="state", country="RU"),
            actor("ac-alpha", name="Jupiter", kind="agency", country=None),
            actor("ac-echo", name="Mars", kind="company", country="CN"),
            actor("ac-bravo", name="Venus", kind="state", country=None),
            actor("ac-charlie", name="Earth", kind="agency", country="GB"),
        ],
        events=[
            event("kilo", title="bravo", type="accusation", date="2024-09-15", **_links()),
            event("charlie", title="alpha", type="official_denial", date="2024-09", **_links()),
            event("mike", title="charlie", type="accusation", date="2024-09-01", **_links()),
            event("alpha", title="alpha", type="weapons_testing", date="2023", **_links()),
            event("zulu", title="delta", type="accusation", date="XXXX-09", **_links()),
            event("bravo", title="bravo", type="official_denial", date=None, **_links()),
            event("quebec", title="echo", type="military_attack", date="2025-01-01", **_links()),
            event("yankee", title="delta", type="accusation", date=None, **_links()),
        ],
        claims=[
            claim("cl-a", statement="Xylophone", status="alleged", credibility=2, **_claim_links()),
            claim("cl-b", statement="Apple", status="confirmed", credibility=2, **_claim_links()),
            claim("cl-c", statement="Mango", status="alleged", credibility=1, **_claim_links()),
            claim("cl-d", statement="Cherry", status="disputed", credibility=6, **_claim_links()),
            claim("cl-e", statement="Banana", status="refuted", credibility=2, **_claim_links()),
        ],
    )
    return client


def _links():
    return {
        "actors": [{"actor": "ac-alpha", "role": "subject"}],
        "sources": [{"source": "so-a", "stance": "reports", "excerpt": "x"}],
    }


def _claim_links():
    return {
        "events": ["kilo"],
        "actors": [{"actor": "ac-alpha", "stance": "asserts"}],
        "sources": [{"source": "so-a", "stance": "reports", "excerpt": "x"}],
    }


EVENTS_BY_DATE = ["alpha", "charlie", "mike", "kilo", "quebec", "bravo", "yankee", "zulu"]


def test_events_sort_by_date_with_undated_last_both_ways(sortable):
    check_sorts(
        sortable,
        "events",
        [
            # charlie (2024-09) and mike (2024-09-01) start the same day: the id breaks the tie.
            (None, EVENTS_BY_DATE),
            ("date", EVENTS_BY_DATE),
            # undated (null and XXXX-09) come last in both directions, ties broken by id in the sort's direction
            ("-date", ["quebec", "kilo", "mike", "charlie", "alpha", "zulu", "yankee", "bravo"]),
            ("date,id", EVENTS_BY_DATE),
            ("date,-id", ["alpha", "mike", "charlie", "kilo", "quebec", "zulu", "yankee", "bravo"]),
            ("-date,id", ["quebec", "kilo", "charlie", "mike", "alpha", "bravo", "yankee", "zulu"]),
        ],
    )


def test_events_sort_by_each_other_key(sortable):
    by_id = sorted(EVENTS_BY_DATE)
    check_sorts(
        sortable,
        "events",
        [
            ("title", ["alpha", "charlie", "bravo", "kilo", "mike", "yankee", "zulu", "quebec"]),
            ("-title", ["quebec", "zulu", "yankee", "mike", "kilo", "bravo", "charlie", "alpha"]),
            ("type", ["kilo", "mike", "yankee", "zulu", "quebec", "bravo", "charlie", "alpha"]),
            ("-type", ["alpha", "charlie", "bravo", "quebec", "zulu", "yankee", "mike", "kilo"]),
            ("id", by_id),
            ("-id", by_id[::-1]),
            # all loaded together: equal timestamps, so the id decides
            ("created_at", by_id),
            ("-created_at", by_id[::-1]),
            ("updated_at", by_id),
            ("-updated_at", by_id[::-1]),
        ],
    )


def test_events_sort_by_several_keys(sortable):
    check_sorts(
        sortable,
        "events",
        [
            ("type,-date", ["kilo", "mike", "zulu", "yankee", "quebec", "charlie", "bravo", "alpha"]),
            ("type,date", ["mike", "kilo", "yankee", "zulu", "quebec", "charlie", "bravo", "alpha"]),
            ("-type,title", ["alpha", "charlie", "bravo", "quebec", "kilo", "mike", "yankee", "zulu"]),
            ("title,-id", ["charlie", "alpha", "kilo", "bravo", "mike", "zulu", "yankee", "quebec"]),
            ("title,date", ["alpha", "charlie", "kilo", "bravo", "mike", "yankee", "zulu", "quebec"]),
            ("title,-date", ["charlie", "alpha", "kilo", "bravo", "mike", "zulu", "yankee", "quebec"]),
            ("type,title,-date", ["kilo", "mike", "zulu", "yankee", "quebec", "charlie", "bravo", "alpha"]),
        ],
    )


def test_sort_accepts_repeated_parameters_as_a_list(sortable):
    repeated = list_ids(sortable, f"{API}/events?sort=type&sort=-date")
    assert repeated == list_ids(sortable, f"{API}/events?sort=type,-date")


def test_actors_sort(sortable):
    everyone = ["ac-alpha", "ac-bravo", "ac-charlie", "ac-delta", "ac-echo"]
    check_sorts(
        sortable,
        "actors",
        [
            (None, ["ac-charlie", "ac-alpha", "ac-delta", "ac-echo", "ac-bravo"]),
            ("name", ["ac-charlie", "ac-alpha", "ac-delta", "ac-echo", "ac-bravo"]),
            ("-name", ["ac-bravo", "ac-echo", "ac-delta", "ac-alpha", "ac-charlie"]),
            ("kind", ["ac-alpha", "ac-charlie", "ac-echo", "ac-bravo", "ac-delta"]),
            ("-kind", ["ac-delta", "ac-bravo", "ac-echo", "ac-charlie", "ac-alpha"]),
            # actors without a country come last both ways
            ("country", ["ac-echo", "ac-charlie", "ac-delta", "ac-alpha", "ac-bravo"]),
            ("-country", ["ac-delta", "ac-charlie", "ac-echo", "ac-bravo", "ac-alpha"]),
            ("kind,-name", ["ac-alpha", "ac-charlie", "ac-echo", "ac-bravo", "ac-delta"]),
            ("name,-kind", ["ac-charlie", "ac-alpha", "ac-delta", "ac-echo", "ac-bravo"]),
            ("name,kind", ["ac-charlie", "ac-alpha", "ac-echo", "ac-delta", "ac-bravo"]),
            ("-country,name", ["ac-delta", "ac-charlie", "ac-echo", "ac-alpha", "ac-bravo"]),
            ("id", everyone),
            ("-id", everyone[::-1]),
            ("created_at", everyone),
            ("-updated_at", everyone[::-1]),
        ],
    )


def test_sources_sort(sortable):
    everyone = ["so-a", "so-b", "so-c", "so-d", "so-e"]
    check_sorts(
        sortable,
        "sources",
        [
            (None, everyone),
            # unknown (null and XXXX-09) publication dates come last both ways
            ("published", ["so-e", "so-b", "so-a", "so-c", "so-d"]),
            ("-published", ["so-a", "so-b", "so-e", "so-d", "so-c"]),
            ("title", ["so-b", "so-d", "so-c", "so-e", "so-a"]),
            ("-title", ["so-a", "so-e", "so-c", "so-d", "so-b"]),
            # sources without a publisher come last both ways
            ("publisher", ["so-e", "so-c", "so-a", "so-d", "so-b"]),
            ("-publisher", ["so-d", "so-a", "so-c", "so-e", "so-b"]),
            ("reliability", ["so-b", "so-a", "so-c", "so-d", "so-e"]),
            ("-reliability", ["so-e", "so-d", "so-c", "so-a", "so-b"]),
            ("reliability,title", ["so-b", "so-c", "so-a", "so-d", "so-e"]),
            ("publisher,-published", ["so-e", "so-c", "so-a", "so-d", "so-b"]),
            ("title,published", ["so-b", "so-d", "so-c", "so-e", "so-a"]),
            ("id", everyone),
            ("-id", everyone[::-1]),
            ("-created_at", everyone[::-1]),
            ("updated_at", everyone),
        ],
    )


def test_claims_sort(sortable):
    everyone = ["cl-a", "cl-b", "cl-c", "cl-d", "cl-e"]
    check_sorts(
        sortable,
        "claims",
        [
            (None, everyone),
            ("credibility", ["cl-c", "cl-a", "cl-b", "cl-e", "cl-d"]),
            ("-credibility", ["cl-d", "cl-e", "cl-b", "cl-a", "cl-c"]),
            ("status", ["cl-a", "cl-c", "cl-b", "cl-d", "cl-e"]),
            ("-status", ["cl-e", "cl-d", "cl-b", "cl-c", "cl-a"]),
            ("statement", ["cl-b", "cl-e", "cl-d", "cl-c", "cl-a"]),
            ("-statement", ["cl-a", "cl-c", "cl-d", "cl-e", "cl-b"]),
            ("credibility,statement", ["cl-c", "cl-b", "cl-e", "cl-a", "cl-d"]),
            ("-credibility,-statement", ["cl-d", "cl-a", "cl-e", "cl-b", "cl-c"]),
            ("status,-credibility,statement", ["cl-a", "cl-c", "cl-b", "cl-d", "cl-e"]),
            ("id", everyone),
            ("-id", everyone[::-1]),
            ("created_at", everyone),
            ("-updated_at", everyone[::-1]),
        ],
    )


def test_timestamps_sort_by_when_records_were_loaded_and_changed(client, load):
    load(**BASE)
    time.sleep(0.02)
    load(actors=[actor("a-second"), actor("a-third")])
    time.sleep(0.02)
    load(actors=[actor("a-fourth")])
    time.sleep(0.02)
    load(actors=[actor("a-second", description="edited")])  # a-second changes last
    created = ["a-base", "a-second", "a-third", "a-fourth"]
    updated = ["a-base", "a-third", "a-fourth", "a-second"]
    check_sorts(
        client,
        "actors",
        [
            ("created_at", created),
            ("-created_at", ["a-fourth", "a-third", "a-second", "a-base"]),  # a-second, a-third tie: id descending
            ("created_at,-id", ["a-base", "a-third", "a-second", "a-fourth"]),
            ("updated_at", updated),
            ("-updated_at", updated[::-1]),
        ],
    )


def generic_order(records, keys):
    """Reference order: each (field, descending) in turn, nulls last both ways, then id in the last direction."""

    def compare(left, right):
        for field, descending in keys:
            a, b = left[field], right[field]
            if a == b:
                continue
            if a is None or b is None:
                return 1 if a is None else -1
            result = -1 if a < b else 1
            return -result if descending else result
        if left["id"] == right["id"]:
            return 0
        result = -1 if left["id"] < right["id"] else 1
        return -result if keys[-1][1] else result

    return [record["id"] for record in sorted(records, key=cmp_to_key(compare))]


def test_event_sorts_agree_with_a_reference_order(sortable):
    records = list_records(sortable, f"{API}/events?sort=id")
    sorts = ["date", "-date", "title,date", "-title,-date", "type,-title,date", "-type,date,-title", "date,type,title"]
    for sort in sorts:
        keys = [(item.lstrip("-").replace("date", "date_start"), item.startswith("-")) for item in sort.split(",")]
        assert list_ids(sortable, f"{API}/events?sort={sort}") == generic_order(records, keys), sort


def test_unknown_or_too_many_sort_keys_are_rejected(client):
    cases = [
        ("events", "bogus"),
        ("events", "date_start"),
        ("events", "%2Bdate"),
        ("events", "--date"),
        ("events", "name"),
        ("events", "date,title,type,id"),  # at most three keys
        ("events", "date&sort=title&sort=type&sort=id"),
        ("actors", "date"),
        ("claims", "title"),
        ("sources", "name"),
        ("sources", "PUBLISHER"),
        ("sources", ""),
    ]
    for resource, sort in cases:
        assert_bad_parameter(client, f"{API}/{resource}?sort={sort}", "sort")
