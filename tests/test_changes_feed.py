"""The changes feed: every write in commit order, resumable by cursor, cheap to poll, also as Atom."""

import base64
import copy
import hashlib
import hmac
import threading
import time
from datetime import datetime
from xml.etree import ElementTree

import feedparser
import orjson
from helpers import LISTS, SHIPPED_COUNTS, actor, assert_bad_parameter, get_ok

from api.changelog.transaction import write_transaction
from api.db import database
from api.tables import Actor, Change, Claim, Event
from seed.loader import write_fixtures

FEED = "/api/v1/changes"
ATOM = "/api/v1/changes.atom"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
SHIPPED_TOTAL = sum(SHIPPED_COUNTS.values())
MODELS = {"actors": Actor, "claims": Claim, "events": Event}
BOOKKEEPING = ("id", "created_at", "updated_at", "version")


# --- Writes as the write API makes them: one serialised transaction, the record and its logged change ----------


def update_record(resource, record_id, author="editor", note=None, **columns):
    """Update columns of a record and log it; the record's `updated_at` is its change's `changed_at`."""
    model = MODELS[resource]
    with database.connection_context(), write_transaction(author, note) as writes:
        row = model.select().where(model.id == record_id).dicts().get()
        before = {name: row[name] for name in columns}
        change = writes.change(resource, record_id, "update", row["version"] + 1, before, columns)
        model.update(updated_at=change.changed_at, version=model.version + 1, **columns).where(
            model.id == record_id
        ).execute()
    return change.id


def delete_record(resource, record_id, author="editor", note="Withdrawn."):
    model = MODELS[resource]
    with database.connection_context(), write_transaction(author, note) as writes:
        row = model.select().where(model.id == record_id).dicts().get()
        before = {name: value for name, value in row.items() if name not in BOOKKEEPING}
        change = writes.change(resource, record_id, "delete", row["version"] + 1, before, None)
        model.delete().where(model.id == record_id).execute()
    return change.id


def logged_ids():
    with database.connection_context():
        return [row.id for row in Change.select(Change.id).order_by(Change.id)]


def walk(client, query="", limit=200, since=None):
    """Follow `next_cursor` until the feed is drained: (every change, the last page's meta)."""
    seen = []
    while True:
        params = f"limit={limit}" + (f"&since={since}" if since else "") + (f"&{query}" if query else "")
        body = get_ok(client, f"{FEED}?{params}")
        seen += body["data"]
        since = body["meta"]["next_cursor"]
        assert since
        if not body["meta"]["has_more"]:
            return seen, body["meta"]


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- The feed's contents ------------------------------------------------------------------------------------


def test_the_seeded_feed_holds_one_create_per_record_oldest_first(seeded, client):
    body = get_ok(client, f"{FEED}?limit=200")
    changes = body["data"]
    assert len(changes) == SHIPPED_TOTAL
    assert [change["id"] for change in changes] == logged_ids()
    assert {change["kind"] for change in changes} == {"create"}
    assert body["meta"]["has_more"] is False and body["meta"]["next_cursor"]
    change = next(c for c in changes if c["record_id"] == "reuters-investigation-published")
    assert set(change) == {
        "id",
        "resource",
        "record_id",
        "version",
        "kind",
        "changed_at",
        "author",
        "note",
        "fields",
        "links",
    }
    assert (change["resource"], change["version"], change["author"]) == ("events", 1, "seed")
    assert change["note"] == "Loaded from the seed fixtures."
    assert change["changed_at"].endswith("Z") and parse_time(change["changed_at"])
    assert change["fields"]["title"]["from"] is None and change["fields"]["title"]["to"]
    assert change["fields"]["actors"]["to"][0]["role"]
    record = get_ok(client, change["links"]["record"])["data"]
    assert record["id"] == change["record_id"]
    assert record["updated_at"] == change["changed_at"]


def test_a_walk_in_small_pages_equals_the_whole_log(seeded, client):
    update_record("claims", "china-directly-facilitates-weapons-production", status="alleged")
    whole = get_ok(client, f"{FEED}?limit=200")["data"]
    for limit in (1, 7, SHIPPED_TOTAL + 1):
        walked, meta = walk(client, limit=limit)
        assert walked == whole, limit
        assert meta["has_more"] is False
    assert [change["id"] for change in whole] == logged_ids()


def test_an_empty_page_returns_the_cursor_to_resume_from(seeded, client):
    _, meta = walk(client, limit=50)
    end = meta["next_cursor"]
    body = get_ok(client, f"{FEED}?since={end}")
    assert body["data"] == [] and body["meta"]["has_more"] is False
    assert body["meta"]["next_cursor"] == end
    assert body["links"]["next"].endswith(f"since={end}")
    change_id = update_record("actors", "china", description="Resumed.")
    body = get_ok(client, f"{FEED}?since={end}")
    assert [change["id"] for change in body["data"]] == [change_id]
    assert body["data"][0]["fields"]["description"]["to"] == "Resumed."


def test_since_now_starts_at_the_current_end(seeded, client):
    body = get_ok(client, f"{FEED}?since=now")
    assert body["data"] == [] and body["meta"]["has_more"] is False
    change_id = update_record("actors", "china", description="From now on.")
    body = get_ok(client, f"{FEED}?since={body['meta']['next_cursor']}")
    assert [change["id"] for change in body["data"]] == [change_id]


def test_the_feed_starts_empty_on_an_empty_dataset(client, load):
    body = get_ok(client, FEED)
    assert body["data"] == [] and body["meta"]["has_more"] is False
    load(actors=[actor("a-1")])
    resumed = get_ok(client, f"{FEED}?since={body['meta']['next_cursor']}")["data"]
    assert [(change["record_id"], change["kind"]) for change in resumed] == [("a-1", "create")]


def test_filters_by_resource_and_kind(seeded, client):
    update_record("claims", "china-directly-facilitates-weapons-production", status="alleged")
    update_record("actors", "china", description="Edited.")
    delete_record("claims", "china-directly-facilitates-weapons-production")
    everything = get_ok(client, f"{FEED}?limit=200")["data"]
    cases = {
        "resource=claims": lambda c: c["resource"] == "claims",
        "resource=claims,actors": lambda c: c["resource"] in ("claims", "actors"),
        "resource=claims&resource=actors": lambda c: c["resource"] in ("claims", "actors"),
        "kind=update,delete": lambda c: c["kind"] in ("update", "delete"),
        "resource=actors&kind=update": lambda c: c["resource"] == "actors" and c["kind"] == "update",
    }
    for query, keep in cases.items():
        walked, _ = walk(client, query, limit=3)
        assert walked == [c for c in everything if keep(c)], query
    assert [c["kind"] for c in walk(client, "kind=update,delete")[0]] == ["update", "update", "delete"]


def test_a_filtered_empty_page_keeps_its_position(seeded, client):
    body = get_ok(client, f"{FEED}?kind=delete")
    assert body["data"] == []
    since = body["meta"]["next_cursor"]
    delete_record("claims", "china-directly-facilitates-weapons-production")
    assert [c["kind"] for c in get_ok(client, f"{FEED}?kind=delete&since={since}")["data"]] == ["delete"]


def test_bad_parameters_are_problems(seeded, client):
    listed = get_ok(client, "/api/v1/events?limit=1")["meta"]["next_cursor"]
    page = get_ok(client, f"{FEED}?limit=1")["meta"]["next_cursor"]
    tampered = page[:-2] + ("AA" if not page.endswith("AA") else "BB")
    for url, parameter in (
        (f"{FEED}?since=not-a-cursor", "since"),
        (f"{FEED}?since={tampered}", "since"),
        (f"{FEED}?since={listed}", "since"),  # a list's cursor is not a feed position
        (f"{FEED}?since=", "since"),
        (f"{FEED}?limit=0", "limit"),
        (f"{FEED}?limit=201", "limit"),
        (f"{FEED}?resource=people", "resource"),
        (f"{FEED}?kind=merge", "kind"),
        (f"{FEED}?cursor={page}", "cursor"),
        (f"{ATOM}?limit=0", "limit"),
        (f"{ATOM}?since={page}", "since"),
    ):
        assert_bad_parameter(client, url, parameter)


def test_a_feed_position_stored_by_version_1_is_still_honoured(seeded, client, app):
    """Pollers keep `since` across upgrades: a position signed the 1.0 way resumes where it stopped."""
    first = get_ok(client, f"{FEED}?limit=5")
    position = app.extensions["eventledger.cursors"].decode(first["meta"]["next_cursor"], "changes", 1)
    payload = orjson.dumps(["changes", position])
    mac = hmac.new(app.config["CURSOR_SECRET"].encode(), payload, hashlib.sha256).digest()[:12]
    stored = base64.urlsafe_b64encode(mac + payload).rstrip(b"=").decode()
    resumed = get_ok(client, f"{FEED}?limit=5&since={stored}")
    assert resumed["data"] == get_ok(client, f"{FEED}?limit=5&since={first['meta']['next_cursor']}")["data"]
    assert resumed["data"][0]["id"] == first["data"][-1]["id"] + 1


def test_a_cursor_survives_the_codec_but_not_a_negative_position(app, client):
    with app.app_context():
        forged = app.extensions["eventledger.cursors"].encode("changes", [-1])
        also_forged = app.extensions["eventledger.cursors"].encode("changes", ["1"])
    assert_bad_parameter(client, f"{FEED}?since={forged}", "since")
    assert_bad_parameter(client, f"{FEED}?since={also_forged}", "since")


def test_a_tombstone_stays_in_the_feed(seeded, client):
    claim_id = "china-directly-facilitates-weapons-production"
    before = get_ok(client, f"/api/v1/claims/{claim_id}")["data"]
    change_id = delete_record("claims", claim_id)
    changes = walk(client, "resource=claims", limit=5)[0]
    tombstone = changes[-1]
    assert tombstone["id"] == change_id
    assert (tombstone["kind"], tombstone["record_id"], tombstone["version"]) == ("delete", claim_id, 2)
    assert tombstone["note"] == "Withdrawn."
    assert tombstone["fields"]["statement"] == {"from": before["statement"], "to": None}
    assert all(change["to"] is None for change in tombstone["fields"].values())
    assert client.get(tombstone["links"]["record"]).status_code == 404
    # Its create is still there: a replica replaying the feed from the start ends without the record.
    assert [c["kind"] for c in changes if c["record_id"] == claim_id] == ["create", "delete"]
    assert claim_id not in [c["id"] for c in get_ok(client, "/api/v1/claims?limit=200")["data"]]


# --- Cheap polling ------------------------------------------------------------------------------------------


def test_polling_is_answered_304_from_the_revision_alone(seeded, client, count_queries):
    response = client.get(f"{FEED}?since=now")
    assert response.status_code == 200
    assert response.headers["Poll-Interval"] == "60"
    assert response.headers["Cache-Control"] == "public, no-cache"
    etag = response.headers["ETag"]
    count_queries.queries.clear()
    again = client.get(f"{FEED}?since=now", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Poll-Interval"] == "60"
    assert again.headers["Cache-Control"] == "public, no-cache"
    statements = [q for q in count_queries.queries if q.startswith(("('", '("'))]
    assert len(statements) == 1 and "change" not in statements[0].lower(), statements
    update_record("actors", "china", description="Changed.")
    assert client.get(f"{FEED}?since=now", headers={"If-None-Match": etag}).status_code == 200


def test_the_poll_interval_is_configurable(app, client):
    app.config["POLL_INTERVAL"] = 300
    for url in (FEED, ATOM):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Poll-Interval"] == "300"


def test_a_page_costs_the_same_queries_wherever_it_is_and_however_long(seeded, client, count_queries):
    for _ in range(3):
        update_record("claims", "china-directly-facilitates-weapons-production", status_rationale=f"r{_}")
    cursor = get_ok(client, f"{FEED}?limit=30")["meta"]["next_cursor"]
    costs = {}
    for url in (f"{FEED}?limit=1", f"{FEED}?limit=200", f"{FEED}?limit=5&since={cursor}", f"{FEED}?since=now"):
        count_queries.queries.clear()
        get_ok(client, url)
        costs[url] = len([q for q in count_queries.queries if q.startswith(("('", '("'))])
        assert not any("offset" in q.lower() for q in count_queries.queries), url
    assert set(costs.values()) <= {2, 3}, costs  # the revision, the page (and the end for since=now)
    assert costs[f"{FEED}?limit=1"] == costs[f"{FEED}?limit=200"] == costs[f"{FEED}?limit=5&since={cursor}"] == 2


# --- updated_since and the feed agree -----------------------------------------------------------------------


def test_updated_since_on_the_lists_agrees_with_the_feed(seeded, client, seed_fixtures):
    edited = copy.deepcopy(seed_fixtures)
    edited["actors"][0]["description"] += " (edited)"
    edited["claims"][0]["actors"] = edited["claims"][0]["actors"][:1]  # a relation change: an update of the claim
    time.sleep(0.002)
    with database.connection_context():
        write_fixtures(edited)
    update_record("events", "reuters-investigation-published", title="A new title")
    delete_record("claims", "china-directly-facilitates-weapons-production")
    feed = walk(client, limit=50)[0]
    deleted = {(c["resource"], c["record_id"]) for c in feed if c["kind"] == "delete"}
    assert len(deleted) == 1
    latest = {(c["resource"], c["record_id"]): c["changed_at"] for c in feed}
    for path in LISTS:
        for record in get_ok(client, f"{path}?limit=200")["data"]:
            # Each write stamps the record and its change with one time.
            assert record["updated_at"] == latest[(path.rsplit("/", 1)[1], record["id"])], record["id"]
    moments = sorted({c["changed_at"] for c in feed}, key=parse_time)
    assert len(moments) == 4  # the seed, the reload, the update, the delete
    for moment in moments:
        expected = {
            (c["resource"], c["record_id"]) for c in feed if parse_time(c["changed_at"]) >= parse_time(moment)
        } - deleted
        listed = set()
        for path in LISTS:
            for record in get_ok(client, f"{path}?limit=200&updated_since={moment}")["data"]:
                listed.add((path.rsplit("/", 1)[1], record["id"]))
        assert listed == expected, moment


# --- Atom ---------------------------------------------------------------------------------------------------


def test_the_atom_feed_is_valid_and_newest_first(seeded, client):
    update_record("claims", "china-directly-facilitates-weapons-production", status="alleged")
    update_record("actors", "china", author="desk <ed>", note="Fixes & <b>markup</b>", description="<script>x</script>")
    response = client.get(f"{ATOM}?limit=5")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert response.headers["Poll-Interval"] == "60" and response.headers["ETag"]
    feed = ElementTree.fromstring(response.data)
    assert feed.tag == f"{ATOM_NS}feed"
    for name in ("id", "title", "updated"):
        assert feed.find(f"{ATOM_NS}{name}").text
    assert feed.find(f"{ATOM_NS}link[@rel='self']").get("href").endswith(f"{ATOM}?limit=5")
    entries = feed.findall(f"{ATOM_NS}entry")
    ids = [entry.find(f"{ATOM_NS}id").text for entry in entries]
    newest = logged_ids()[::-1][:5]
    assert ids == [f"urn:eventledger:change:{i}" for i in newest]
    for entry in entries:
        for path in ("id", "title", "updated", "author/name", "content", "link"):
            assert entry.find("/".join(ATOM_NS + part for part in path.split("/"))) is not None, path
        parse_time(entry.find(f"{ATOM_NS}updated").text)
    first, second = entries[:2]
    # A long value is cut short in the title, and the whole of it is in the content.
    title = first.find(f"{ATOM_NS}title").text
    assert title.startswith("actor china updated: description ") and title.endswith("… → <script>x</script>")
    assert first.find(f"{ATOM_NS}author/{ATOM_NS}name").text == "desk <ed>"
    content = first.find(f"{ATOM_NS}content")
    assert content.get("type") == "html"
    assert "&lt;script&gt;x&lt;/script&gt;" in content.text and "<script>" not in content.text
    assert first.find(f"{ATOM_NS}link").get("href").endswith("/api/v1/actors/china")
    assert second.find(f"{ATOM_NS}title").text == (
        "claim china-directly-facilitates-weapons-production updated: status unverified → alleged"
    )


def test_feedparser_reads_the_atom_feed(seeded, client):
    delete_record("claims", "china-directly-facilitates-weapons-production")
    parsed = feedparser.parse(client.get(f"{ATOM}?resource=claims").data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title and parsed.feed.updated
    assert len(parsed.entries) == SHIPPED_COUNTS["claims"] + 1
    tombstone = parsed.entries[0]
    assert tombstone.title == "claim china-directly-facilitates-weapons-production deleted"
    assert tombstone.author == "editor"
    assert tombstone.link.endswith("/api/v1/claims/china-directly-facilitates-weapons-production")
    assert {tag.term for tag in tombstone.tags} == {"delete", "claims"}
    assert len(feedparser.parse(client.get(f"{ATOM}?limit=3").data).entries) == 3
    assert len(feedparser.parse(client.get(ATOM).data).entries) == 50


def test_an_empty_atom_feed_is_still_valid(client):
    feed = ElementTree.fromstring(get_atom(client))
    assert feed.findall(f"{ATOM_NS}entry") == []
    assert feed.find(f"{ATOM_NS}updated").text.endswith("Z")
    assert feed.find(f"{ATOM_NS}author/{ATOM_NS}name").text == "eventledger"


def get_atom(client):
    response = client.get(ATOM)
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert client.get(ATOM, headers={"If-None-Match": etag}).status_code == 304
    return response.data


def test_the_index_links_to_the_feeds(client):
    links = get_ok(client, "/api/v1")["links"]
    assert links["changes"] == FEED and links["changes_atom"] == ATOM


# --- Exactly once under concurrency -------------------------------------------------------------------------


def test_a_poller_sees_every_change_exactly_once_while_writers_write(seeded, seed_fixtures):
    app = seeded
    writer_ids = ["china", "russia", "european-union"]
    writes_each, loads = 12, 4
    writers_done = threading.Event()
    failures, seen, pages, loaded = [], [], [], []

    def writer(actor_id):
        try:
            for n in range(writes_each):
                update_record("actors", actor_id, author=f"writer-{actor_id}", description=f"{actor_id} {n}")
        except Exception as error:  # reported by the main thread
            failures.append(error)

    def loader():
        try:
            for n in range(loads):
                edited = copy.deepcopy(seed_fixtures)
                edited["claims"][n]["status_rationale"] += f" (load {n})"
                edited["events"][n]["summary"] += f" (load {n})"
                with database.connection_context():
                    # A reload also puts back what the other writers changed: each is a change too.
                    loaded.append(sum(write_fixtures(edited).updated.values()))
        except Exception as error:
            failures.append(error)

    def poller():
        client = app.test_client()
        since = None
        try:
            while True:
                # Sampled before the request: a drained page read after every writer finished is the end.
                finished = writers_done.is_set()
                body = get_ok(client, f"{FEED}?limit=7" + (f"&since={since}" if since else ""))
                seen.extend(change["id"] for change in body["data"])
                pages.append(len(body["data"]))
                since = body["meta"]["next_cursor"]
                if finished and not body["meta"]["has_more"]:
                    return
        except Exception as error:
            failures.append(error)

    poll = threading.Thread(target=poller)
    poll.start()
    threads = [threading.Thread(target=writer, args=(actor_id,)) for actor_id in writer_ids]
    threads.append(threading.Thread(target=loader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    writers_done.set()
    poll.join(timeout=120)
    assert not poll.is_alive()
    assert failures == []
    logged = logged_ids()
    assert len(loaded) == loads and min(loaded) >= 2
    assert len(logged) == SHIPPED_TOTAL + len(writer_ids) * writes_each + sum(loaded)
    assert len(pages) > 1
    assert seen == logged  # each once, in increasing id order, and nothing else
    assert len(set(seen)) == len(seen) and seen == sorted(seen)


def test_a_second_writer_waits_for_the_first_to_commit(seeded, client):
    start = client.get(f"{FEED}?since=now").get_json()["meta"]["next_cursor"]
    holding, release = threading.Event(), threading.Event()
    events, failures = [], []

    def first():
        try:
            with database.connection_context(), write_transaction("first") as writes:
                row = Actor.get_by_id("china")
                writes.change("actors", "china", "update", row.version + 1, {"kind": row.kind}, {"kind": "person"})
                Actor.update(kind="person", version=Actor.version + 1).where(Actor.id == "china").execute()
                holding.set()
                release.wait(10)
                events.append("first commits")
        except Exception as error:
            failures.append(error)

    def second():
        try:
            holding.wait(10)
            with database.connection_context(), write_transaction("second") as writes:
                events.append("second writes")
                writes.change("actors", "russia", "update", 2, {"kind": "state"}, {"kind": "person"})
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert holding.wait(10)
    time.sleep(0.3)
    # The first transaction is open: the second waits for it, and the feed shows neither.
    assert events == []
    assert get_ok(client, f"{FEED}?since={start}")["data"] == []
    release.set()
    for thread in threads:
        thread.join(timeout=20)
    assert failures == [] and events == ["first commits", "second writes"]
    changes = get_ok(client, f"{FEED}?since={start}")["data"]
    assert [change["author"] for change in changes] == ["first", "second"]
    assert changes[0]["id"] < changes[1]["id"]


def test_list_values_are_json_in_the_feed_and_the_history(seeded, client):
    """An actor's aliases are a list where a change is shown (the feed, the history, webhook payloads, which
    read the same change log), not the text they are stored as."""
    from writes_helpers import auth, make_key

    key = make_key()
    body = actor("a-aliased", aliases=["First name", "Second name"])
    assert client.post("/api/v1/actors", json=body, headers=auth(key)).status_code == 201
    etag = client.get("/api/v1/actors/a-aliased").headers["ETag"]
    patched = client.patch(
        "/api/v1/actors/a-aliased", json={"aliases": ["Second name"]}, headers=auth(key, **{"If-Match": etag})
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    entries = [entry for entry in get_ok(client, f"{FEED}?limit=200")["data"] if entry["record_id"] == "a-aliased"]
    assert [entry["fields"]["aliases"] for entry in entries] == [
        {"from": None, "to": ["First name", "Second name"]},
        {"from": ["First name", "Second name"], "to": ["Second name"]},
    ]
    history = get_ok(client, "/api/v1/actors/a-aliased/history")["data"]
    assert history[0]["fields"]["aliases"] == {"from": ["First name", "Second name"], "to": ["Second name"]}
