"""A record's history through HTTP: every change newest first, with author, note and each field's from and to."""

import pytest
from helpers import SEEDED_IDS
from writes_helpers import API, assert_problem, auth, changes_of, make_key, shipped

CLAIM = "china-supplies-dual-use-goods-to-russia"


@pytest.fixture
def key(app):
    return make_key("alice")


def test_a_claims_status_history_shows_the_status_and_the_sources_it_rests_on(seeded, client, key):
    url = f"{API}/claims/{CLAIM}"
    claim = client.get(url).get_json()["data"]
    assert claim["status"] == "alleged"
    sources = [{"source": s["id"], "stance": s["stance"], "excerpt": s["excerpt"]} for s in claim["sources"]]
    corroboration = shipped("claims", "evidence-insufficient-for-immediate-action")["sources"][0]
    response = client.patch(
        url,
        json={"status": "disputed", "sources": [*sources, corroboration]},
        headers=auth(key, **{"If-Match": client.get(url).headers["ETag"], "X-Edit-Note": "Doubted by an EU official"}),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    history = client.get(f"{url}/history")
    assert history.status_code == 200
    latest, *earlier = history.get_json()["data"]
    assert (latest["kind"], latest["version"], latest["author"]) == ("update", 2, "alice")
    assert latest["note"] == "Doubted by an EU official"
    assert latest["fields"]["status"] == {"from": "alleged", "to": "disputed"}
    # Each link as stored: what was sent, and where its excerpt stands in its document.
    written = ("source", "stance", "excerpt", "occurrence")
    assert [{key: link[key] for key in written} for link in latest["fields"]["sources"]["from"]] == [
        {**link, "occurrence": 1} for link in sources
    ]
    assert [{key: link[key] for key in written} for link in latest["fields"]["sources"]["to"]] == [
        {**link, "occurrence": 1} for link in [*sources, corroboration]
    ]
    moved = latest["fields"]["sources"]["to"][-1]
    assert moved["target_source"] == "modern-warfare-newsletter"
    assert moved["target_end"] - moved["target_start"] == len(corroboration["excerpt"])
    assert set(latest["fields"]) == {"status", "sources"}
    assert [entry["kind"] for entry in earlier] == ["create"]
    assert earlier[0]["author"] == "seed" and earlier[0]["fields"]["status"] == {"from": None, "to": "alleged"}
    # The entries are the change log's rows.
    assert [entry["change"] for entry in history.get_json()["data"]] == [
        c["id"] for c in reversed(changes_of("claims", CLAIM))
    ]


def test_history_pages_newest_first_with_the_cursor_and_the_plain_before(seeded, client, key):
    url = f"{API}/actors/{SEEDED_IDS['actors']}"
    for name in ("One", "Two", "Three"):
        assert client.patch(url, json={"name": name}, headers=auth(key, **{"If-Match": "*"})).status_code == 200
    first = client.get(f"{url}/history?limit=2").get_json()
    assert [entry["version"] for entry in first["data"]] == [4, 3]
    assert first["meta"]["next_before"] == first["data"][-1]["change"]
    # The next link carries the signed cursor every list uses; 1.0's `before` still reads the same page.
    assert (
        f"cursor={first['meta']['next_cursor']}" in first["links"]["next"] and "before=" not in first["links"]["next"]
    )
    by_before = client.get(f"{url}/history?limit=2&before={first['meta']['next_before']}").get_json()
    second = client.get(first["links"]["next"]).get_json()
    assert by_before["data"] == second["data"]
    assert [entry["version"] for entry in second["data"]] == [2, 1]
    assert second["data"][0]["fields"]["name"]["to"] == "One"
    third = client.get(second["links"]["next"]).get_json() if second["links"]["next"] else {"data": []}
    assert third["data"] == []


def test_a_deleted_records_history_ends_in_its_tombstone_and_unknown_ids_are_404(seeded, client, key):
    created = client.post(f"{API}/actors", json=shipped("actors", id="ephemeral", name="Ephemeral"), headers=auth(key))
    assert client.delete(created.headers["Location"], headers=auth(key, **{"If-Match": "*"})).status_code == 204
    history = client.get(f"{API}/actors/ephemeral/history")
    assert history.status_code == 200
    tombstone, creation = history.get_json()["data"]
    assert tombstone["kind"] == "delete" and tombstone["fields"]["name"] == {"from": "Ephemeral", "to": None}
    assert creation["kind"] == "create"
    assert_problem(client.get(f"{API}/actors/never-was/history"), 404)
    assert_problem(client.get(f"{API}/actors/Not%20A%20Slug/history"), 404)
    assert_problem(client.get(f"{API}/actors/china/history?limit=0"), 400, "limit")
    assert_problem(client.get(f"{API}/actors/china/history?colour=red"), 400, "colour")
    assert_problem(client.get(f"{API}/actors/china/history?cursor=forged"), 400, "cursor")
    list_cursor = client.get(f"{API}/actors?limit=1").get_json()["meta"]["next_cursor"]
    assert_problem(client.get(f"{API}/actors/china/history?cursor={list_cursor}"), 400, "cursor")
    assert_problem(client.get(f"{API}/actors/china/history?cursor={list_cursor}&before=3"), 400, "cursor")
    # Even a cursor signed with the server's own secret is refused outside the log's 32-bit ids.
    huge = client.application.extensions["eventledger.cursors"].encode("before", [2**40])
    assert_problem(client.get(f"{API}/actors/china/history?cursor={huge}"), 400, "cursor")


def test_history_is_cached_by_revision_and_changes_with_a_write(seeded, client, key):
    url = f"{API}/events/{SEEDED_IDS['events']}/history"
    first = client.get(url)
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    patch = client.patch(
        f"{API}/events/{SEEDED_IDS['events']}", json={"summary": "New."}, headers=auth(key, **{"If-Match": "*"})
    )
    assert patch.status_code == 200
    second = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and len(second.get_json()["data"]) == 2
