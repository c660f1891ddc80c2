"""One shape for reading and writing: a record as a GET returns it (a detail, or a list's item) can be written
back as is, edited, or posted as a new record; only what a read adds is left out, and nothing else is."""

import copy

import pytest
from helpers import SHIPPED
from writes_helpers import API, assert_problem, auth, make_key, snapshot

SAMPLES = [
    (resource, record["id"])
    for resource in ("events", "claims", "actors", "sources")
    for record in SHIPPED[resource][:3]
]
SAMPLES.append(("sources", "reuters-investigation"))


@pytest.fixture
def key(app):
    return make_key()


def write_back(client, key, resource, record_id, body):
    etag = client.get(f"{API}/{resource}/{record_id}").headers["ETag"]
    return client.patch(f"{API}/{resource}/{record_id}", json=body, headers=auth(key, **{"If-Match": etag}))


@pytest.mark.parametrize(("resource", "record_id"), SAMPLES, ids=[f"{r}-{i}" for r, i in SAMPLES])
def test_a_detail_written_back_as_read_changes_nothing(seeded, client, key, resource, record_id):
    read = client.get(f"{API}/{resource}/{record_id}").get_json()["data"]
    before = snapshot()
    response = write_back(client, key, resource, record_id, read)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["data"]["version"] == read["version"]
    assert snapshot() == before


def test_a_list_item_written_back_as_read_changes_nothing(seeded, client, key):
    for resource in ("events", "claims", "actors", "sources"):
        item = client.get(f"{API}/{resource}?limit=1").get_json()["data"][0]
        before = snapshot()
        response = write_back(client, key, resource, item["id"], item)
        assert response.status_code == 200, (resource, response.get_data(as_text=True))
        assert snapshot() == before, resource


def test_a_read_record_edited_is_written_with_its_edits(seeded, client, key):
    read = client.get(f"{API}/claims/beijing-fully-aware-of-operation").get_json()["data"]
    edited = copy.deepcopy(read)
    edited["credibility_rationale"] = "Edited in the shape it was read."
    edited["actors"] = [link for link in edited["actors"] if link["stance"] != "subject"]
    edited["actors"][0]["name"] = "A read-only name, left out"  # the related record's own fields are not the link's
    response = write_back(client, key, "claims", read["id"], edited)
    assert response.status_code == 200, response.get_data(as_text=True)
    written = response.get_json()["data"]
    assert written["credibility_rationale"] == "Edited in the shape it was read."
    assert [(link["id"], link["stance"]) for link in written["actors"]] == [
        (link["id"], link["stance"]) for link in edited["actors"]
    ]
    assert written["actors"][0]["name"] != "A read-only name, left out"
    assert written["version"] == read["version"] + 1


def test_a_read_record_posted_with_a_new_id_is_a_copy(seeded, client, key):
    for resource, record_id in (("events", "beijing-denies-awareness"), ("claims", "beijing-fully-aware-of-operation")):
        read = client.get(f"{API}/{resource}/{record_id}").get_json()["data"]
        copied = {**read, "id": f"copy-of-{record_id}"}
        response = client.post(f"{API}/{resource}", json=copied, headers=auth(key))
        assert response.status_code == 201, response.get_data(as_text=True)
        created = response.get_json()["data"]
        for name in ("actors", "sources"):
            assert created[name] == read[name], (resource, name)


def test_what_is_neither_read_nor_written_is_still_refused(seeded, client, key):
    read = client.get(f"{API}/events/beijing-denies-awareness").get_json()["data"]
    before = snapshot()
    assert_problem(write_back(client, key, "events", read["id"], {**read, "titel": "typo"}), 422, "titel")
    links = [{**read["actors"][0], "rol": "typo"}]
    assert_problem(write_back(client, key, "events", read["id"], {**read, "actors": links}), 422, "actors.0.rol")
    assert_problem(write_back(client, key, "events", read["id"], {**read, "id": "another-id"}), 422, "id")
    assert snapshot() == before
