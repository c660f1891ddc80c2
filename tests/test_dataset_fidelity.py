"""The shipped dataset says no more than its one article: checked on the YAML files and through the API.

The YAML is parsed here straight from seed/data/*.yaml (not through the loader's schemas), so these
tests hold the files themselves to account; the API tests check the same facts after seeding.
"""

from pathlib import Path

import pytest
import yaml

from seed.loader import DATA_DIR, DOCUMENTS_DIR, FixtureLoader

ARTICLE = "modern-warfare-russia-china-drone-partnership.txt"
SHARED_ARTICLE = Path("/work/shared/sources") / ARTICLE
HEDGES = ("not yet confirmed", "unclear", "remain unknown", "if confirmed", "inconclusive", "not yet sufficient")


def _read(name):
    records = yaml.load((DATA_DIR / f"{name}.yaml").read_text(encoding="utf-8"), Loader=FixtureLoader)
    assert isinstance(records, list)
    return records


SOURCES = _read("sources")
ACTORS = _read("actors")
EVENTS = _read("events")
CLAIMS = _read("claims")
SOURCES_BY_ID = {source["id"]: source for source in SOURCES}
EVENTS_BY_ID = {event["id"]: event for event in EVENTS}
CLAIMS_BY_ID = {claim["id"]: claim for claim in CLAIMS}


def document_of(source_id, sources_by_id=SOURCES_BY_ID):
    """The full text a source's excerpts must come from: its own document, or its reporter's."""
    source = sources_by_id[source_id]
    seen = set()
    while source["document"] is None:
        assert source["id"] not in seen, f"reported_in cycle at {source['id']}"
        seen.add(source["id"])
        assert source["reported_in"], f"source {source['id']} has neither a document nor reported_in"
        source = sources_by_id[source["reported_in"]]
    return (DOCUMENTS_DIR / source["document"]).read_text(encoding="utf-8")


def source_links():
    for resource, records in (("events", EVENTS), ("claims", CLAIMS)):
        for record in records:
            for index, link in enumerate(record["sources"]):
                yield f"{resource}/{record['id']}/sources.{index}", link


SOURCE_LINKS = list(source_links())


# --- The files ---------------------------------------------------------------------


def test_record_counts_are_in_range():
    assert 10 <= len(EVENTS) <= 20
    assert 15 <= len(ACTORS) <= 25
    assert 15 <= len(CLAIMS) <= 25


@pytest.mark.parametrize("name", ["sources", "actors", "events", "claims"])
def test_ids_are_unique(name):
    ids = [record["id"] for record in _read(name)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("where", "link"), SOURCE_LINKS, ids=[where for where, _ in SOURCE_LINKS])
def test_every_excerpt_is_verbatim(where, link):
    assert link["source"] in SOURCES_BY_ID, where
    text = document_of(link["source"])
    assert link["excerpt"].strip() == link["excerpt"]
    assert link["excerpt"] in text, f"{where}: not verbatim: {link['excerpt']!r}"


def test_only_the_newsletter_has_a_document_and_every_other_source_is_reported_in_it():
    assert [source["id"] for source in SOURCES if source["document"]] == ["modern-warfare-newsletter"]
    assert SOURCES_BY_ID["modern-warfare-newsletter"]["document"] == ARTICLE
    for source in SOURCES:
        if source["id"] != "modern-warfare-newsletter":
            assert source["reported_in"] == "modern-warfare-newsletter", source["id"]
            assert source["url"] is None, source["id"]


def test_the_shipped_article_is_the_shared_original():
    if not SHARED_ARTICLE.exists():
        pytest.skip(f"{SHARED_ARTICLE} is not present")
    assert (DOCUMENTS_DIR / ARTICLE).read_bytes() == SHARED_ARTICLE.read_bytes()


def test_no_hedged_claim_is_confirmed():
    hedged = {
        claim["id"]
        for claim in CLAIMS
        if any(hedge in link["excerpt"].lower() for link in claim["sources"] for hedge in HEDGES)
    }
    # The hedges do occur in the data; a test that matched nothing would prove nothing.
    assert {
        "factory-produces-lethal-drones",
        "factory-drones-sent-to-russia",
        "drones-reached-izhevsk-facility",
        "evidence-insufficient-for-immediate-action",
        "xinjiang-factory-set-up-to-assemble-drones",
        "chinese-specialists-collaborated-on-drones",
    } <= hedged
    assert {claim_id for claim_id in hedged if CLAIMS_BY_ID[claim_id]["status"] == "confirmed"} == set()


def test_no_claim_is_confirmed_on_a_single_witness():
    # `confirmed` means corroborated by more than one independent source; the shipped
    # dataset has one document, so even what it states plainly stays below that.
    assert [claim["id"] for claim in CLAIMS if claim["status"] == "confirmed"] == []
    # One article is the only witness: nothing is graded "confirmed by other sources".
    assert [claim["id"] for claim in CLAIMS if claim["credibility"] == 1] == []


@pytest.mark.parametrize(
    ("claim_id", "phrase"),
    [
        ("factory-produces-lethal-drones", "It is not yet confirmed whether the factory is producing lethal drones"),
        ("factory-drones-sent-to-russia", "whether any drones have already been sent to Russia"),
        ("beijing-fully-aware-of-operation", "if Beijing is fully aware of the scope and nature of this operation"),
    ],
)
def test_the_three_open_questions_are_unconfirmed_claims(claim_id, phrase):
    claim = CLAIMS_BY_ID[claim_id]
    assert claim["status"] == "unverified"
    assert claim["credibility"] >= 3
    assert any(phrase in link["excerpt"] for link in claim["sources"])


def test_beijings_denial_is_an_official_denial_by_china():
    denial = EVENTS_BY_ID["beijing-denies-awareness"]
    assert denial["type"] == "official_denial"
    assert {"actor": "china", "role": "denier"} in denial["actors"]
    assert any(
        "Beijing responded by claiming it was unaware of any such project in Xinjiang" in link["excerpt"]
        for link in denial["sources"]
    )
    denials = {event["id"] for event in EVENTS if event["type"] == "official_denial"}
    assert denials == {"beijing-denies-awareness", "china-denies-direct-involvement"}
    for event_id in denials:
        assert [link["actor"] for link in EVENTS_BY_ID[event_id]["actors"] if link["role"] == "denier"] == ["china"]


def test_no_date_carries_a_year():
    """The article gives no year: dates are null or XXXX-MM, and each XXXX-MM one says why."""
    dated = [(f"events/{event['id']}", event["date"], event["date_note"]) for event in EVENTS]
    dated += [(f"sources/{source['id']}", source["published"], source["published_note"]) for source in SOURCES]
    for where, date, note in dated:
        assert date is None or (isinstance(date, str) and date.startswith("XXXX-")), f"{where}: {date!r}"
        if date is not None:
            assert date == "XXXX-09", f"{where}: the only month the article names is September"
            assert note and "September" in note, f"{where}: a XXXX-09 date needs a note"
    assert {event["id"] for event in EVENTS if event["date"]} == {
        "reuters-investigation-published",
        "beijing-denies-awareness",
    }
    assert all(event["date_note"] for event in EVENTS)


def test_no_coordinates_anywhere():
    for event in EVENTS:
        location = event.get("location") or {}
        assert location.get("latitude") is None, event["id"]
        assert location.get("longitude") is None, event["id"]


def test_every_event_has_an_actor_and_a_source():
    for event in EVENTS:
        assert len(event["actors"]) >= 1, event["id"]
        assert len(event["sources"]) >= 1, event["id"]


def test_every_claim_has_an_actor_an_event_and_a_source():
    for claim in CLAIMS:
        assert len(claim["actors"]) >= 1, claim["id"]
        assert len(claim["events"]) >= 1, claim["id"]
        assert len(claim["sources"]) >= 1, claim["id"]
        assert set(claim["events"]) <= set(EVENTS_BY_ID), claim["id"]


def test_every_actor_and_event_is_used():
    used_actors = {link["actor"] for event in EVENTS for link in event["actors"]}
    used_actors |= {link["actor"] for claim in CLAIMS for link in claim["actors"]}
    assert {actor["id"] for actor in ACTORS} - used_actors == set()
    assert {event["id"] for event in EVENTS} - {event_id for claim in CLAIMS for event_id in claim["events"]} == {
        "eu-expresses-concern-over-drone-collaboration",
        "eu-diplomats-caution-on-conflict-impact",
    }


# --- Through the API -----------------------------------------------------------------


def get_all(client, path):
    records, url = [], f"{path}?limit=200"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        records += body["data"]
        url = body["links"]["next"]
    return records


def test_api_counts_match_the_files(client, seeded):
    for name, records in (("sources", SOURCES), ("actors", ACTORS), ("events", EVENTS), ("claims", CLAIMS)):
        body = client.get(f"/api/v1/{name}?limit=1").get_json()
        assert body["meta"]["count"] == len(records), name
        assert {record["id"] for record in get_all(client, f"/api/v1/{name}")} == {r["id"] for r in records}


def test_api_excerpts_are_verbatim(client, seeded):
    sources = {source["id"]: source for source in get_all(client, "/api/v1/sources")}
    checked = 0
    for name in ("events", "claims"):
        for record in get_all(client, f"/api/v1/{name}"):
            assert record["sources"], f"{name}/{record['id']} has no source"
            for link in record["sources"]:
                assert link["excerpt"] in document_of(link["id"], sources), f"{name}/{record['id']}: {link}"
                checked += 1
    assert checked == len(SOURCE_LINKS)


def test_api_events_have_no_year_and_no_coordinates(client, seeded):
    events = get_all(client, "/api/v1/events")
    assert len(events) == len(EVENTS)
    for event in events:
        assert event["location"]["latitude"] is None and event["location"]["longitude"] is None, event["id"]
        assert event["date_start"] is None and event["date_end"] is None, event["id"]
        assert event["date"] in (None, "XXXX-09"), event["id"]
        assert event["actors"] and event["sources"], event["id"]
    # No date filter can match an event whose year is unknown.
    assert client.get("/api/v1/events?date_from=1900&date_to=2100").get_json()["meta"]["count"] == 0


def test_api_beijing_denial(client, seeded):
    body = client.get("/api/v1/events?type=official_denial&actor=china&role=denier").get_json()
    assert sorted(event["id"] for event in body["data"]) == [
        "beijing-denies-awareness",
        "china-denies-direct-involvement",
    ]
    denial = client.get("/api/v1/events/beijing-denies-awareness").get_json()["data"]
    assert denial["type"] == "official_denial"
    assert [(actor["id"], actor["role"]) for actor in denial["actors"]] == [
        ("china", "denier"),
        ("xinjiang-drone-factory", "subject"),
    ]


def test_api_open_questions_are_not_confirmed(client, seeded):
    body = client.get("/api/v1/claims?status=confirmed&limit=200").get_json()
    assert body["data"] == []
    open_questions = "factory-produces-lethal-drones,factory-drones-sent-to-russia,beijing-fully-aware-of-operation"
    statuses = {
        claim_id: client.get(f"/api/v1/claims/{claim_id}").get_json()["data"]["status"]
        for claim_id in open_questions.split(",")
    }
    assert statuses == dict.fromkeys(open_questions.split(","), "unverified")


@pytest.mark.parametrize("claim_id", sorted(CLAIMS_BY_ID))
def test_api_claim_detail_matches_the_file(client, seeded, claim_id):
    claim = CLAIMS_BY_ID[claim_id]
    response = client.get(f"/api/v1/claims/{claim_id}")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["id"] == claim_id
    assert (data["statement"], data["status"], data["credibility"]) == (
        claim["statement"],
        claim["status"],
        claim["credibility"],
    )
    assert data["status_rationale"] == claim["status_rationale"]
    assert [(link["id"], link["stance"], link["excerpt"]) for link in data["sources"]] == [
        (link["source"], link["stance"], link["excerpt"]) for link in claim["sources"]
    ]
    assert [(link["id"], link["stance"]) for link in data["actors"]] == [
        (link["actor"], link["stance"]) for link in claim["actors"]
    ]
    assert [event["id"] for event in data["events"]] == claim["events"]
