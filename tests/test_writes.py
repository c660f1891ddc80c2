"""The write API through HTTP: create, change and delete every resource, with keys, If-Match and idempotency."""

import orjson
import pytest
from helpers import SEEDED_IDS, assert_stored_json_is_fresh
from writes_helpers import (
    API,
    all_changes,
    assert_problem,
    auth,
    changes_of,
    etag_of,
    make_key,
    shipped,
    snapshot,
)

from api.db import database
from api.tables import ClaimSource, EventActor, dataset_revision
from api.web import path_etag

RESOURCES = ("sources", "actors", "events", "claims")
# A text field of each resource and a new value for it.
EDITS = {
    "sources": ("title", "A retitled source"),
    "actors": ("name", "A renamed actor"),
    "events": ("title", "A retitled event"),
    "claims": ("statement", "A restated claim."),
}


@pytest.fixture
def key(app):
    return make_key("alice")


@pytest.mark.parametrize("resource", RESOURCES)
def test_create_answers_201_with_the_record_as_get_renders_it(seeded, client, key, resource):
    body = shipped(resource, id=f"new-{resource[:-1]}")
    revision = snapshot()[1]
    response = client.post(f"{API}/{resource}", json=body, headers=auth(key))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"] == f"{API}/{resource}/new-{resource[:-1]}"
    created = response.get_json()["data"]
    assert created["version"] == 1 and created["revision"] == revision + 1
    got = client.get(response.headers["Location"])
    assert got.get_json()["data"] == created
    assert got.headers["ETag"] == response.headers["ETag"]
    assert (
        client.get(response.headers["Location"], headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    )
    [change] = changes_of(resource, body["id"])
    assert (change["kind"], change["version"], change["author"]) == ("create", 1, "alice")
    fields = orjson.loads(change["fields"])
    assert all(value["from"] is None for value in fields.values())
    field_name, _ = EDITS[resource]
    assert fields[field_name]["to"] == body[field_name]


@pytest.mark.parametrize("resource", RESOURCES)
def test_patch_changes_only_what_is_sent_and_get_shows_it(seeded, client, key, resource):
    record_id = SEEDED_IDS[resource]
    url = f"{API}/{resource}/{record_id}"
    before = client.get(url)
    field_name, value = EDITS[resource]
    response = client.patch(
        url, json={field_name: value}, headers=auth(key, **{"If-Match": before.headers["ETag"], "X-Edit-Note": "fix"})
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    patched = response.get_json()["data"]
    assert patched[field_name] == value and patched["version"] == 2
    after = client.get(url)
    assert after.headers["ETag"] != before.headers["ETag"] == before.headers["ETag"]
    assert after.headers["ETag"] == response.headers["ETag"]
    assert after.get_json()["data"] == patched
    unchanged = {
        k: v for k, v in before.get_json()["data"].items() if k not in (field_name, "version", "revision", "updated_at")
    }
    assert {k: patched[k] for k in unchanged} == unchanged
    listed = client.get(f"{API}/{resource}?limit=200").get_json()["data"]
    assert next(item for item in listed if item["id"] == record_id)[field_name] == value
    update = changes_of(resource, record_id)[-1]
    assert (update["kind"], update["version"], update["note"]) == ("update", 2, "fix")
    assert orjson.loads(update["fields"]) == {field_name: {"from": before.get_json()["data"][field_name], "to": value}}


def test_patch_replaces_a_link_list_whole(seeded, client, key):
    url = f"{API}/events/{SEEDED_IDS['events']}"
    actors = [{"actor": "china", "role": "subject"}]
    response = client.patch(
        url, json={"actors": actors}, headers=auth(key, **{"If-Match": etag_of(client, "events", SEEDED_IDS["events"])})
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [(a["id"], a["role"]) for a in response.get_json()["data"]["actors"]] == [("china", "subject")]
    with database.connection_context():
        assert EventActor.select().where(EventActor.event == SEEDED_IDS["events"]).count() == 1


def test_an_unchanged_patch_logs_nothing_and_keeps_the_revision(seeded, client, key):
    url = f"{API}/actors/{SEEDED_IDS['actors']}"
    name = client.get(url).get_json()["data"]["name"]
    before = snapshot()
    response = client.patch(url, json={"name": name}, headers=auth(key, **{"If-Match": "*"}))
    assert response.status_code == 200 and response.get_json()["data"]["version"] == 1
    assert snapshot() == before


@pytest.mark.parametrize("resource", RESOURCES)
def test_delete_removes_the_record_and_its_links_and_leaves_a_tombstone(seeded, client, key, resource):
    body = shipped(resource, id=f"doomed-{resource[:-1]}")
    created = client.post(f"{API}/{resource}", json=body, headers=auth(key))
    assert created.status_code == 201
    url = created.headers["Location"]
    response = client.delete(url, headers=auth(key, **{"If-Match": created.headers["ETag"]}))
    assert response.status_code == 204, response.get_data(as_text=True)
    assert_problem(client.get(url), 404)
    tombstone = changes_of(resource, body["id"])[-1]
    assert (tombstone["kind"], tombstone["version"]) == ("delete", 2)
    fields = orjson.loads(tombstone["fields"])
    field_name, _ = EDITS[resource]
    assert fields[field_name] == {"from": body[field_name], "to": None}
    if resource == "claims":
        assert fields["sources"]["from"][0]["source"] == body["sources"][0]["source"]
        with database.connection_context():
            assert ClaimSource.select().where(ClaimSource.claim == body["id"]).count() == 0


# --- Keys -------------------------------------------------------------------------------------


def _writes(client, headers):
    record_url = f"{API}/actors/{SEEDED_IDS['actors']}"
    return [
        client.post(f"{API}/actors", json=shipped("actors", id="intruder"), headers=headers),
        client.patch(record_url, json={"name": "x"}, headers={**headers, "If-Match": "*"}),
        client.delete(f"{API}/claims/{SEEDED_IDS['claims']}", headers={**headers, "If-Match": "*"}),
    ]


@pytest.mark.parametrize("kind", ["missing", "malformed", "unknown", "revoked"])
def test_writes_without_a_valid_key_are_401_and_change_nothing(seeded, client, kind):
    headers = {
        "missing": {},
        "malformed": {"Authorization": "Basic abc"},
        "unknown": {"Authorization": "Bearer el_00000000_nope"},
        "revoked": auth(make_key("gone", revoked=True)),
    }[kind]
    before = snapshot()
    for response in _writes(client, headers):
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


# --- Validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource, changes, parameter",
    [
        ("actors", {"colour": "red"}, "colour"),
        ("actors", {"kind": "wizard"}, "kind"),
        ("actors", {"parent": "no-such-actor"}, "parent"),
        ("events", {"actors": [{"actor": "china", "role": "astronaut"}]}, "actors.0.role"),
        ("events", {"actors": [{"actor": "no-such-actor", "role": "subject"}]}, "actors.0.actor"),
        (
            "events",
            {"sources": [{"source": "modern-warfare-newsletter", "stance": "reports", "excerpt": "Not in the text."}]},
            "sources.0.excerpt",
        ),
        ("events", {"actors": []}, "actors"),
        ("claims", {"events": ["no-such-event"]}, "events.0"),
        ("claims", {"credibility": 9}, "credibility"),
        ("sources", {"reported_in": "no-such-source"}, "reported_in"),
        ("sources", {"document": {"text": ""}}, "document.text"),
        ("sources", {"document": None, "reported_in": None}, "document"),
    ],
)
def test_invalid_records_are_a_422_naming_the_field_and_change_nothing(
    seeded, client, key, resource, changes, parameter
):
    before = snapshot()
    response = client.post(
        f"{API}/{resource}", json=shipped(resource, id="invalid-record", **changes), headers=auth(key)
    )
    body = assert_problem(response, 422, parameter)
    assert all(error["location"] == "body" for error in body["errors"])
    patch = client.patch(
        f"{API}/{resource}/{SEEDED_IDS[resource]}", json=changes, headers=auth(key, **{"If-Match": "*"})
    )
    assert_problem(patch, 422, parameter)
    assert snapshot() == before


def test_a_missing_required_field_and_an_id_in_a_patch_are_422(seeded, client, key):
    body = shipped("actors", id="nameless")
    del body["name"]
    assert_problem(client.post(f"{API}/actors", json=body, headers=auth(key)), 422, "name")
    patch = client.patch(f"{API}/actors/china", json={"id": "renamed"}, headers=auth(key, **{"If-Match": "*"}))
    assert_problem(patch, 422, "id")


def test_a_link_or_location_in_a_patch_is_checked_whole(seeded, client, key):
    # A PATCH may leave members out, but a link it sends replaces the stored one and must be complete.
    before = snapshot()
    url = f"{API}/events/{SEEDED_IDS['events']}"
    headers = auth(key, **{"If-Match": "*"})
    assert_problem(client.patch(url, json={"actors": [{"role": "reporter"}]}, headers=headers), 422, "actors.0.actor")
    claim = f"{API}/claims/{SEEDED_IDS['claims']}"
    assert_problem(
        client.patch(claim, json={"sources": [{"stance": "supports"}]}, headers=headers), 422, "sources.0.source"
    )
    assert snapshot() == before


def test_a_patch_is_refused_for_its_target_and_if_match_before_its_body(seeded, client, key):
    invalid = {"credibility": 9}
    missing = client.patch(f"{API}/claims/no-such-claim", json=invalid, headers=auth(key, **{"If-Match": "*"}))
    assert_problem(missing, 404)
    claim = f"{API}/claims/{SEEDED_IDS['claims']}"
    assert_problem(client.patch(claim, json=invalid, headers=auth(key)), 428)
    assert_problem(client.patch(claim, json=invalid, headers=auth(key, **{"If-Match": '"r0-x"'})), 412)
    assert_problem(client.patch(claim, data="{not json", content_type="application/json", headers=auth(key)), 400)


def test_bad_json_and_other_media_types_are_400_and_415(seeded, client, key):
    before = snapshot()
    assert_problem(
        client.post(f"{API}/actors", data="{not json", content_type="application/json", headers=auth(key)), 400
    )
    assert_problem(client.post(f"{API}/actors", json=["a", "list"], headers=auth(key)), 400)
    assert_problem(client.post(f"{API}/actors", data="name=x", headers=auth(key)), 415)
    assert snapshot() == before


# --- Optimistic concurrency ---------------------------------------------------------------------


def test_patch_and_delete_without_if_match_are_428(seeded, client, key):
    before = snapshot()
    assert_problem(client.patch(f"{API}/actors/china", json={"name": "x"}, headers=auth(key)), 428)
    assert_problem(client.delete(f"{API}/claims/{SEEDED_IDS['claims']}", headers=auth(key)), 428)
    assert snapshot() == before


def test_two_editors_with_the_same_etag_the_second_gets_412(seeded, client, key):
    url = f"{API}/claims/{SEEDED_IDS['claims']}"
    etag = etag_of(client, "claims", SEEDED_IDS["claims"])
    first = client.patch(url, json={"credibility": 2}, headers=auth(key, **{"If-Match": etag}))
    assert first.status_code == 200
    before = snapshot()
    second = client.patch(url, json={"credibility": 5}, headers=auth(make_key("bob"), **{"If-Match": etag}))
    assert_problem(second, 412)
    assert_problem(client.delete(url, headers=auth(key, **{"If-Match": etag})), 412)
    assert_problem(client.patch(url, json={"credibility": 5}, headers=auth(key, **{"If-Match": '"garbage"'})), 412)
    assert snapshot() == before
    assert client.get(url).get_json()["data"]["credibility"] == 2
    retry = client.patch(url, json={"credibility": 5}, headers=auth(key, **{"If-Match": first.headers["ETag"]}))
    assert retry.status_code == 200


def test_the_records_own_etag_read_after_its_last_change_is_accepted(seeded, client, key):
    """Another record changed since, but this one did not: its ETag read at any later revision will do."""
    china = f"{API}/actors/china"
    etag = client.get(china).headers["ETag"]
    client.patch(f"{API}/actors/russia", json={"name": "Russia!"}, headers=auth(key, **{"If-Match": "*"}))
    response = client.patch(china, json={"name": "China!"}, headers=auth(key, **{"If-Match": etag}))
    assert response.status_code == 200, response.get_data(as_text=True)
    weak = client.patch(
        china, json={"name": "China"}, headers=auth(key, **{"If-Match": "W/" + response.headers["ETag"]})
    )
    assert weak.status_code == 200


@pytest.mark.parametrize(
    "if_match",
    [
        "list",  # the ETag of another URL, at the current revision
        "other record",
        '"r99999999999999999999999999-0123456789abcdef"',  # invented, from the future
        "future",  # the record's own URL at a revision the dataset has not reached
        '"r1"',
        '""',
        'W/""',
        '"r1-x"',
        "garbage",
    ],
)
def test_if_match_is_the_records_own_etag_and_nothing_else(seeded, client, key, if_match):
    china = f"{API}/actors/china"
    current = int(client.get(china).headers["ETag"].strip('"').split("-")[0][1:])
    tags = {
        "list": client.get(f"{API}/events").headers["ETag"],
        "other record": client.get(f"{API}/actors/russia").headers["ETag"],
        "future": path_etag(current + 1, "/api/v1/actors/china?"),
    }
    header = tags.get(if_match, if_match)
    for response in (
        client.patch(china, json={"name": "Not China"}, headers=auth(key, **{"If-Match": header})),
        client.delete(china, headers=auth(key, **{"If-Match": header})),
    ):
        assert_problem(response, 412)
        assert "no ETag of this record" in response.get_json()["detail"]
    assert client.get(china).get_json()["data"]["name"] == "China"


def test_detaching_an_actor_clears_its_childrens_parent(seeded, client, key):
    for record_id, parent in (("parent-body", None), ("child-body", "parent-body")):
        body = shipped("actors", id=record_id, parent=parent)
        assert client.post(f"{API}/actors", json=body, headers=auth(key)).status_code == 201
    refused = client.delete(f"{API}/actors/parent-body", headers=auth(key, **{"If-Match": "*"}))
    assert_problem(refused, 409, "actors.parent")
    assert (
        client.delete(f"{API}/actors/parent-body?detach=true", headers=auth(key, **{"If-Match": "*"})).status_code
        == 204
    )
    child = client.get(f"{API}/actors/child-body").get_json()["data"]
    assert (child["parent"], child["version"]) == (None, 2)
    cycle = client.patch(
        f"{API}/actors/child-body", json={"parent": "child-body"}, headers=auth(key, **{"If-Match": "*"})
    )
    assert_problem(cycle, 422, "parent")


# --- Idempotency and ids -----------------------------------------------------------------------


def test_a_retried_post_with_the_same_idempotency_key_returns_the_first_response(seeded, client, key):
    body = shipped("actors", id="retried")
    headers = auth(key, **{"Idempotency-Key": "attempt-1"})
    first = client.post(f"{API}/actors", json=body, headers=headers)
    assert first.status_code == 201
    before = snapshot()
    retry = client.post(f"{API}/actors", json=body, headers=headers)
    assert (retry.status_code, retry.get_data()) == (201, first.get_data())
    for name in ("ETag", "Location", "Last-Modified"):
        assert retry.headers[name] == first.headers[name]
    assert snapshot() == before
    assert len(changes_of("actors", "retried")) == 1
    other = client.post(f"{API}/actors", json={**body, "name": "Other"}, headers=headers)
    assert_problem(other, 422, "Idempotency-Key")
    # Keys are per API key: another key's same Idempotency-Key is a new request (here refused: the id is taken).
    assert_problem(
        client.post(f"{API}/actors", json=body, headers=auth(make_key("bob"), **{"Idempotency-Key": "attempt-1"})), 409
    )
    assert snapshot() == before


def test_ids_are_never_reused(seeded, client, key):
    assert_problem(client.post(f"{API}/actors", json=shipped("actors", id="china"), headers=auth(key)), 409)
    created = client.post(f"{API}/actors", json=shipped("actors", id="short-lived"), headers=auth(key))
    assert client.delete(created.headers["Location"], headers=auth(key, **{"If-Match": "*"})).status_code == 204
    before = snapshot()
    assert_problem(client.post(f"{API}/actors", json=shipped("actors", id="short-lived"), headers=auth(key)), 409)
    assert snapshot() == before


# --- Referential rules ----------------------------------------------------------------------


def test_deleting_a_record_still_referred_to_is_409_naming_the_referrers(seeded, client, key):
    before = snapshot()
    response = client.delete(f"{API}/actors/china", headers=auth(key, **{"If-Match": "*"}))
    body = assert_problem(response, 409, "events.actors")
    assert "beijing-denies-awareness" in body["detail"]
    assert "claims.actors" in [error["parameter"] for error in body["errors"]]
    event = client.delete(f"{API}/events/{SEEDED_IDS['events']}", headers=auth(key, **{"If-Match": "*"}))
    assert_problem(event, 409, "claims.events")
    assert_problem(
        client.delete(f"{API}/sources/modern-warfare-newsletter", headers=auth(key, **{"If-Match": "*"})), 409
    )
    assert snapshot() == before


def test_detach_removes_the_links_with_an_update_each_then_deletes(app, seeded, client, key):
    assert client.post(f"{API}/actors", json=shipped("actors", id="bystander"), headers=auth(key)).status_code == 201
    event_id, claim_id = SEEDED_IDS["events"], SEEDED_IDS["claims"]
    event = client.get(f"{API}/events/{event_id}").get_json()["data"]
    actors = [{"actor": a["id"], "role": a["role"]} for a in event["actors"]] + [
        {"actor": "bystander", "role": "subject"}
    ]
    assert (
        client.patch(
            f"{API}/events/{event_id}", json={"actors": actors}, headers=auth(key, **{"If-Match": "*"})
        ).status_code
        == 200
    )
    claim = client.get(f"{API}/claims/{claim_id}").get_json()["data"]
    stances = [{"actor": a["id"], "stance": a["stance"]} for a in claim["actors"]] + [
        {"actor": "bystander", "stance": "asserts"}
    ]
    assert (
        client.patch(
            f"{API}/claims/{claim_id}", json={"actors": stances}, headers=auth(key, **{"If-Match": "*"})
        ).status_code
        == 200
    )
    refused = client.delete(f"{API}/actors/bystander", headers=auth(key, **{"If-Match": "*"}))
    detail = assert_problem(refused, 409)["detail"]
    assert event_id in detail and claim_id in detail
    revision, logged = snapshot()[1], len(all_changes())
    response = client.delete(f"{API}/actors/bystander?detach=true", headers=auth(key, **{"If-Match": "*"}))
    assert response.status_code == 204, response.get_data(as_text=True)
    new = all_changes()[logged:]
    assert [(c["resource"], c["record_id"], c["kind"]) for c in new] == [
        ("events", event_id, "update"),
        ("claims", claim_id, "update"),
        ("actors", "bystander", "delete"),
    ]
    with database.connection_context():
        assert dataset_revision() == revision + 1
    assert client.get(f"{API}/events/{event_id}").get_json()["data"]["actors"] == event["actors"]
    assert client.get(f"{API}/events/{event_id}").get_json()["data"]["version"] == 3
    assert [a["id"] for a in client.get(f"{API}/claims/{claim_id}").get_json()["data"]["actors"]] == [
        a["id"] for a in claim["actors"]
    ]
    # Each record written (created, patched, detached) was rendered again in its transaction.
    assert_stored_json_is_fresh(app)


def test_detach_is_refused_when_it_would_leave_a_record_without_a_required_link(seeded, client, key):
    source = shipped("sources", id="only-source", reported_in="modern-warfare-newsletter", document=None)
    assert client.post(f"{API}/sources", json=source, headers=auth(key)).status_code == 201
    excerpt = shipped("events")["sources"][0]["excerpt"]
    event = shipped(
        "events", id="thinly-sourced", sources=[{"source": "only-source", "stance": "reports", "excerpt": excerpt}]
    )
    assert client.post(f"{API}/events", json=event, headers=auth(key)).status_code == 201
    before = snapshot()
    response = client.delete(f"{API}/sources/only-source?detach=true", headers=auth(key, **{"If-Match": "*"}))
    assert_problem(response, 409, "events.sources")
    assert_problem(
        client.delete(f"{API}/sources/only-source?detach=maybe", headers=auth(key, **{"If-Match": "*"})), 400, "detach"
    )
    assert snapshot() == before


# --- Cost ----------------------------------------------------------------------------------------


def test_writes_take_a_bounded_number_of_queries(seeded, client, key, count_queries):
    claim_id = SEEDED_IDS["claims"]
    count_queries.queries.clear()
    response = client.patch(
        f"{API}/claims/{claim_id}", json={"status": "disputed"}, headers=auth(key, **{"If-Match": "*"})
    )
    assert response.status_code == 200
    patch_queries = count_queries.count
    count_queries.queries.clear()
    body = shipped("claims", id="counted-claim")
    assert client.post(f"{API}/claims", json=body, headers=auth(key)).status_code == 201
    post_queries = count_queries.count
    # A constant: one query per table touched, whatever the number of links (about 30 of each today, the
    # record's stored JSON rendered again included).
    assert patch_queries <= 35, "\n".join(count_queries.queries)
    assert post_queries <= 35
