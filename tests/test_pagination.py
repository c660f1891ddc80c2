"""Cursor pagination end to end: every page of every list, under several sorts, page sizes and inserts."""

import base64
import hashlib
import hmac
import math
import time
from urllib.parse import parse_qs, parse_qsl, urlsplit

import orjson
import pytest
from helpers import actor, source
from helpers import event as linked_event
from itsdangerous import URLSafeSerializer

from api import create_app
from api.db import database
from api.reading.pagination import CursorCodec
from api.tables import DatasetState, Event
from schemas.fields import TITLE_MAX

API = "/api/v1"


# --- helpers -------------------------------------------------------------------


def get_ok(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True))
    return response


def full_list(client, path, query=""):
    """The whole list in one page of 200."""
    body = get_ok(client, f"{path}?{query}&limit=200" if query else f"{path}?limit=200").get_json()
    assert body["meta"]["next_cursor"] is None
    return [record["id"] for record in body["data"]]


def walk(client, url, between_pages=None):
    """Follow `links.next` from `url` to the last page; check each page's envelope; return the pages' bodies."""
    bodies = []
    response = get_ok(client, url)
    while True:
        body = response.get_json()
        bodies.append(body)
        self_link = urlsplit(body["links"]["self"])
        assert self_link.path == urlsplit(url).path
        assert parse_qsl(self_link.query) == parse_qsl(urlsplit(url).query)
        next_link, cursor = body["links"]["next"], body["meta"]["next_cursor"]
        if next_link is None:
            assert cursor is None
            assert "Link" not in response.headers
            return bodies
        assert cursor
        assert response.headers["Link"] == f'<{next_link}>; rel="next"'
        assert parse_qs(urlsplit(next_link).query)["cursor"] == [cursor]
        assert len(bodies) < 1000, "the walk does not end"
        if between_pages:
            between_pages(len(bodies))
        url = next_link
        response = get_ok(client, url)


def assert_walk_matches(client, path, query, limit):
    """Walking every page with `limit` gives exactly the full list, in order, without duplicates or gaps."""
    expected = full_list(client, path, query)
    start = f"{path}?{query}&limit={limit}" if query else f"{path}?limit={limit}"
    bodies = walk(client, start)
    walked = [record["id"] for body in bodies for record in body["data"]]
    assert walked == expected, (start, walked, expected)
    assert len(walked) == len(set(walked))
    assert len(bodies) == max(1, math.ceil(len(expected) / limit))
    for index, body in enumerate(bodies):
        assert body["meta"]["count"] == len(expected)
        assert body["meta"]["limit"] == limit
        if index < len(bodies) - 1:
            assert len(body["data"]) == limit
        else:
            assert 1 <= len(body["data"]) <= limit or not expected
    # the next link keeps every other parameter of the request
    for body in bodies[:-1]:
        first = dict(parse_qsl(urlsplit(start).query))
        following = dict(parse_qsl(urlsplit(body["links"]["next"]).query))
        assert following.pop("cursor")
        assert following == first
    return walked


def assert_bad_cursor(client, url):
    response = client.get(url)
    assert response.status_code == 400, (url, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 400
    assert [error["parameter"] for error in body["errors"]] == ["cursor"]


def first_cursor(client, url):
    cursor = get_ok(client, url).get_json()["meta"]["next_cursor"]
    assert cursor
    return cursor


def event(record_id, date=None, title=None, type="accusation", actors=("a-1",), sources=("s-1",)):
    return {
        "id": record_id,
        "title": title or f"event {record_id}",
        "summary": "filler",
        "type": type,
        "date": date,
        "actors": [{"actor": actor_id, "role": "subject"} for actor_id in actors],
        "sources": [{"source": source_id, "stance": "reports", "excerpt": "filler"} for source_id in sources],
    }


def claim(record_id, statement, status, credibility, events=("p-01",)):
    return {
        "id": record_id,
        "statement": statement,
        "status": status,
        "status_rationale": "filler",
        "credibility": credibility,
        "credibility_rationale": "filler",
        "events": list(events),
        "actors": [{"actor": "a-1", "stance": "asserts"}],
        "sources": [{"source": "s-1", "stance": "reports", "excerpt": "filler"}],
    }


SOURCES = [
    source("s-1", title="Gamma", publisher="Reuters", reliability="B", published="2024-09-15"),
    source("s-2", title="Alpha", publisher=None, reliability="A", published="2024"),
    source("s-3", title="Beta", publisher="AP", reliability="B", published=None),
    source("s-4", title="Alpha", publisher="Reuters", reliability="C", published="XXXX-09"),
    source("s-5", title="Delta", publisher="AFP", reliability="B", published="2024"),
    source("s-6", title="Beta", publisher=None, reliability="F", published=None),
    source("s-7", title="Gamma", publisher="AP", reliability="A", published="2024-09-15"),
]
ACTORS = [
    actor("a-1", name="Mars", kind="state", country="RU"),
    actor("a-2", name="Jupiter", kind="agency", country=None),
    actor("a-3", name="Mars", kind="company", country="CN"),
    actor("a-4", name="Venus", kind="state", country=None),
    actor("a-5", name="Earth", kind="agency", country="CN"),
    actor("a-6", name="Mars", kind="state", country=None),
    actor("a-7", name="Earth", kind="person", country="GB"),
    actor("a-8", name="Saturn", kind="agency", country="RU"),
]
FIRST_EVENTS = [
    event("p-01", "2024-09-15", "alpha", "accusation", actors=("a-1", "a-2")),
    event("p-02", "2024-09", "bravo", "accusation"),
    event("p-03", None, "alpha", "official_denial", actors=("a-2",)),
    event("p-04", "2024-09-01", "charlie", "accusation"),
    event("p-05", "XXXX-09", "bravo", "military_attack", actors=("a-2",)),
    event("p-06", "2023", "alpha", "official_denial"),
]
LATER_EVENTS = [
    event("p-07", None, "delta", "accusation", actors=("a-2", "a-3")),
    event("p-08", "2024-09-15", "bravo", "military_attack"),
    event("p-09", "2025-02", "charlie", "official_denial", actors=("a-3",)),
    event("p-10", None, "alpha", "accusation", actors=("a-2",)),
    event("p-11", "2024-09-15", "alpha", "accusation"),
]
CLAIMS = [
    claim("c-1", "Xylophone", "alleged", 2),
    claim("c-2", "Apple", "confirmed", 2),
    claim("c-3", "Mango", "alleged", 1),
    claim("c-4", "Cherry", "disputed", 6, events=("p-02", "p-03")),
    claim("c-5", "Banana", "alleged", 2, events=("p-03",)),
    claim("c-6", "Apple", "alleged", 3),
    claim("c-7", "Mango", "refuted", 2),
]


@pytest.fixture
def paged(client, load):
    """A dataset with many ties in every sort key, loaded in two batches (so timestamps tie and differ)."""
    load(sources=SOURCES, actors=ACTORS, events=FIRST_EVENTS)
    time.sleep(0.02)
    load(events=LATER_EVENTS, claims=CLAIMS)
    return client


EVENT_SORTS = [
    None,
    "date",
    "-date",
    "title",
    "-title",
    "type,-date",
    "-type,title,-date",
    "title,-type,date",
    "created_at",
    "-created_at,title",
    "-updated_at",
    "id",
    "-id",
]


def sort_query(sort, extra=""):
    parts = [f"sort={sort}"] if sort else []
    if extra:
        parts.append(extra)
    return "&".join(parts)


def test_walking_events_gives_the_full_list_for_every_sort_and_page_size(paged):
    assert len(full_list(paged, f"{API}/events")) == 11
    for sort in EVENT_SORTS:
        for limit in (1, 2, 3):
            assert_walk_matches(paged, f"{API}/events", sort_query(sort), limit)


def test_walking_events_sorted_by_date_puts_undated_last(paged):
    ascending = assert_walk_matches(paged, f"{API}/events", "sort=date", 1)
    descending = assert_walk_matches(paged, f"{API}/events", "sort=-date", 2)
    undated = {"p-03", "p-05", "p-07", "p-10"}
    assert set(ascending[-4:]) == undated
    assert set(descending[-4:]) == undated
    assert ascending[:7] == ["p-06", "p-02", "p-04", "p-01", "p-08", "p-11", "p-09"]
    assert descending[:7] == ["p-09", "p-11", "p-08", "p-01", "p-04", "p-02", "p-06"]


@pytest.mark.parametrize(
    ("resource", "sorts"),
    [
        ("actors", [None, "-name", "country", "-country", "kind,-name", "-kind,country,name", "-created_at"]),
        ("sources", [None, "published", "-published", "publisher", "-publisher", "reliability,-title", "-title,id"]),
        ("claims", [None, "-credibility", "status,statement", "-statement,-status", "credibility,-status,statement"]),
    ],
)
def test_walking_other_lists_gives_the_full_list_for_every_sort_and_page_size(paged, resource, sorts):
    for sort in sorts:
        for limit in (1, 2, 3):
            assert_walk_matches(paged, f"{API}/{resource}", sort_query(sort), limit)


def test_walking_a_filtered_or_searched_list(paged):
    cases = [
        "actor=a-2&sort=-date",
        "type=accusation,military_attack&sort=title,-date",
        "date_from=2024-09&sort=-date",
        "q=alpha&sort=-id",
        "actor=a-3",
    ]
    for query in cases:
        for limit in (1, 2, 3):
            assert_walk_matches(paged, f"{API}/events", query, limit)
    assert_walk_matches(paged, f"{API}/claims", "status=alleged&sort=-credibility", 2)
    assert_walk_matches(paged, f"{API}/actors", "kind=state,agency&sort=-country", 1)
    assert_walk_matches(paged, f"{API}/sources", "publisher=reuters,ap&sort=publisher,-published", 1)


def test_a_list_that_fits_on_one_page_has_no_next(paged):
    response = get_ok(paged, f"{API}/events?type=military_attack&limit=2")
    body = response.get_json()
    assert [record["id"] for record in body["data"]] == ["p-08", "p-05"]
    assert body["meta"] == {"count": 2, "limit": 2, "next_cursor": None, "dataset_revision": 2, "dataset_version": "r2"}
    assert body["links"]["next"] is None
    assert "Link" not in response.headers


def test_an_empty_list_is_one_empty_page(paged):
    response = get_ok(paged, f"{API}/events?actor=a-8&limit=1")
    body = response.get_json()
    assert body["data"] == []
    assert body["meta"]["count"] == 0
    assert body["meta"]["next_cursor"] is None
    assert body["links"]["next"] is None
    assert "Link" not in response.headers


def test_count_is_the_number_of_filtered_records_on_every_page(paged):
    expected = {"": 11, "type=accusation": 6, "actor=a-2": 5, "date_to=2024": 6, "q=charlie": 2}
    for query, count in expected.items():
        assert len(full_list(paged, f"{API}/events", query)) == count, query
        bodies = walk(paged, f"{API}/events?{query}&limit=2" if query else f"{API}/events?limit=2")
        assert [body["meta"]["count"] for body in bodies] == [count] * len(bodies), query


def test_next_link_and_link_header_agree_and_carry_the_request(paged):
    response = get_ok(paged, f"{API}/events?type=accusation&sort=-title&limit=2")
    body = response.get_json()
    next_link = body["links"]["next"]
    assert response.headers["Link"] == f'<{next_link}>; rel="next"'
    assert next_link.startswith("http://localhost/api/v1/events?")
    assert parse_qs(urlsplit(next_link).query) == {
        "type": ["accusation"],
        "sort": ["-title"],
        "limit": ["2"],
        "cursor": [body["meta"]["next_cursor"]],
    }
    # the second page's next link replaces the cursor rather than adding one
    second = get_ok(paged, next_link).get_json()
    assert parse_qs(urlsplit(second["links"]["next"]).query)["cursor"] == [second["meta"]["next_cursor"]]
    assert second["meta"]["next_cursor"] != body["meta"]["next_cursor"]


def test_a_cursor_made_for_another_sort_is_rejected(paged):
    title_cursor = first_cursor(paged, f"{API}/events?sort=title&limit=2")
    assert_bad_cursor(paged, f"{API}/events?sort=-title&limit=2&cursor={title_cursor}")
    assert_bad_cursor(paged, f"{API}/events?limit=2&cursor={title_cursor}")  # default sort: date
    assert_bad_cursor(paged, f"{API}/events?sort=title,id&limit=2&cursor={title_cursor}")
    default_cursor = first_cursor(paged, f"{API}/events?limit=2")
    assert_bad_cursor(paged, f"{API}/events?sort=title&limit=2&cursor={default_cursor}")
    assert_bad_cursor(paged, f"{API}/events?sort=-date&limit=2&cursor={default_cursor}")
    # a cursor of one list on another whose sort differs
    assert_bad_cursor(paged, f"{API}/actors?limit=2&cursor={default_cursor}")
    # the same sort is fine, even with another page size
    assert get_ok(paged, f"{API}/events?sort=title&limit=3&cursor={title_cursor}").get_json()["data"]


def _b64decode(text):
    return bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _b64encode(raw):
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_a_tampered_cursor_is_rejected(paged):
    cursor = first_cursor(paged, f"{API}/events?sort=title&limit=2")
    url = f"{API}/events?sort=title&limit=2&cursor="
    # An itsdangerous token: the base64 JSON payload ('.'-prefixed when zlib-compressed), '.', the signature.
    payload, signature = cursor.rsplit(".", 1)
    assert not payload.startswith(".")  # a payload this short travels uncompressed
    raw, mac = _b64decode(payload), _b64decode(signature)
    # a changed payload under the old signature: skip ahead to another id
    assert b'"p-' in raw
    forged = _b64encode(bytes(raw).replace(b'"p-', b'"p-9', 1))
    assert_bad_cursor(paged, f"{url}{forged}.{signature}")
    # a flipped bit in the signature, in the payload (bytes, not base64 characters, whose padding bits do not count)
    for position in (0, len(mac) - 1):
        flipped = bytearray(mac)
        flipped[position] ^= 0x01
        assert_bad_cursor(paged, f"{url}{payload}.{_b64encode(flipped)}")
    for position in (0, len(raw) - 2):
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        assert_bad_cursor(paged, f"{url}{_b64encode(flipped)}.{signature}")
    # a truncated cursor, one with an extra payload byte, one claiming a compressed payload, one without signature
    assert_bad_cursor(paged, url + cursor[:-4])
    assert_bad_cursor(paged, f"{url}{_b64encode(raw + b'x')}.{signature}")
    assert_bad_cursor(paged, f"{url}.{cursor}")
    assert_bad_cursor(paged, url + payload)
    for garbage in ("not-a-cursor", "AAAA", "%00", "~~~", "x" * 100, ".", "..", "a.b"):
        assert_bad_cursor(paged, url + garbage)
    assert_bad_cursor(paged, url + "A" * 2001)
    # the genuine one still works
    assert get_ok(paged, url + cursor).get_json()["data"]


def test_a_cursor_signed_with_another_secret_or_salt_is_rejected(app, paged):
    url = f"{API}/events?sort=title&limit=2"
    cursor = first_cursor(paged, url)
    codec = app.extensions["eventledger.cursors"]
    values = codec.decode(cursor, "title", 2)
    foreign = CursorCodec("not-" + app.config["CURSOR_SECRET"]).encode("title", values)
    other_purpose = URLSafeSerializer(app.config["CURSOR_SECRET"], salt="another.purpose", serializer=orjson)
    for token in (foreign, other_purpose.dumps(["title", values]).decode()):
        assert token != cursor
        assert_bad_cursor(paged, f"{url}&cursor={token}")
    # the same values under the app's own secret are a good cursor
    assert codec.encode("title", values) == cursor
    assert get_ok(paged, f"{url}&cursor={cursor}").get_json()["data"]


def version_1_cursor(secret, signature, values):
    """A cursor as eventledger 1.0 signed it: a truncated HMAC-SHA256 before the payload, in one base64url token."""
    payload = orjson.dumps([signature, values])
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac + payload).rstrip(b"=").decode()


def test_a_cursor_of_version_1_walks_on_where_it_stopped(app, paged):
    url = f"{API}/events?sort=title&limit=2"
    cursor = first_cursor(paged, url)
    values = app.extensions["eventledger.cursors"].decode(cursor, "title", 2)
    old = version_1_cursor(app.config["CURSOR_SECRET"], "title", values)
    assert old != cursor and "." not in old
    assert (
        get_ok(paged, f"{url}&cursor={old}").get_json()["data"]
        == get_ok(paged, f"{url}&cursor={cursor}").get_json()["data"]
    )
    # still signed: one under another secret, or with a changed payload, is refused
    assert_bad_cursor(paged, f"{url}&cursor={version_1_cursor('another secret', 'title', values)}")
    assert_bad_cursor(paged, f"{url}&cursor={old[:-4]}{'AAAA' if old[-4:] != 'AAAA' else 'BBBB'}")
    assert_bad_cursor(paged, f"{url.replace('title', 'id')}&cursor={old}")
    # signed, but not JSON inside; and not base64 at all
    mac = hmac.new(app.config["CURSOR_SECRET"].encode(), b"not json", hashlib.sha256).digest()[:12]
    assert_bad_cursor(paged, f"{url}&cursor={base64.urlsafe_b64encode(mac + b'not json').rstrip(b'=').decode()}")
    assert_bad_cursor(paged, f"{url}&cursor=a")


def test_without_cursor_secret_the_database_keeps_a_random_one_every_server_shares(app, paged):
    """No public default: unset, CURSOR_SECRET is made at random once and kept in the database, so a
    cursor made by one server of it is good on another, and one signed with 1.0's public key is not."""
    settings = {"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "RATE_LIMIT_ENABLED": False}
    one, two = create_app({**settings, "CURSOR_SECRET": None}), create_app({**settings, "CURSOR_SECRET": None})
    url = f"{API}/events?sort=title&limit=2"
    cursor = first_cursor(one.test_client(), url)
    assert get_ok(two.test_client(), f"{url}&cursor={cursor}").get_json()["data"]
    with app.app_context(), database.connection_context():
        secret = DatasetState.get_by_id(1).cursor_secret
    assert len(secret) >= 40 and secret not in (CursorCodec.LEGACY_PUBLIC_SECRET, app.config["CURSOR_SECRET"])
    values = one.extensions["eventledger.cursors"].decode(cursor, "title", 2)
    public = CursorCodec(CursorCodec.LEGACY_PUBLIC_SECRET).encode("title", values)
    assert_bad_cursor(two.test_client(), f"{url}&cursor={public}")
    # a poller's position from 1.0, signed with the old default, is still read
    old = version_1_cursor(CursorCodec.LEGACY_PUBLIC_SECRET, "title", values)
    assert get_ok(two.test_client(), f"{url}&cursor={old}").get_json()["data"]


def scrambled(length, seed):
    """Text that does not compress (a cursor's payload is zlib-compressed when that makes it shorter)."""
    return "".join(chr(0x4E00 + (seed * 7919 + i * 104729) % 20000) for i in range(length))


@pytest.mark.parametrize("length", [300, TITLE_MAX])
def test_cursors_and_links_stay_short_whatever_the_titles(client, load, app, length):
    """Sorting by long titles: a cursor carries a title up to 2,000 characters in all (and the next page
    accepts it), one that would carry a longer one names its row instead; every cursor and Link stays
    under 2 KB, and the walk is the whole list in order."""
    events = [
        linked_event(f"long-{n}", [("a-1", "subject")], ["s-1"], title=chr(0x4E00 + n) + scrambled(length - 1, n))
        for n in range(5)
    ]
    load(sources=[source("s-1")], actors=[actor("a-1")], events=events)
    url, seen = f"{API}/events?sort=title&limit=2", []
    while url:
        response = client.get(url)
        body = get_ok(client, url).get_json()
        seen += [record["id"] for record in body["data"]]
        cursor = body["meta"]["next_cursor"]
        assert cursor is None or len(cursor) <= 2000
        assert len(response.headers.get("Link", "")) <= 2048
        url = body["links"]["next"]
    assert seen == [f"long-{n}" for n in range(5)]
    if length < TITLE_MAX:
        return
    # the row a cursor names changed: the walk cannot go on from it, and says so
    cursor = get_ok(client, f"{API}/events?sort=title&limit=2").get_json()["meta"]["next_cursor"]
    with app.app_context(), database.connection_context():
        Event.update(title="changed").where(Event.id == "long-1").execute()
    assert len(cursor) < 400, cursor  # it names its row
    # (another spelling of the URL: the first is served from the response cache of this revision)
    response = client.get(f"{API}/events?limit=2&sort=title&cursor={cursor}")
    assert response.status_code == 400 and "start again" in response.get_json()["detail"], response.get_json()


def test_limit_bounds(paged):
    for limit, size in ((1, 1), (2, 2), (11, 11), (200, 11)):
        body = get_ok(paged, f"{API}/events?limit={limit}").get_json()
        assert body["meta"]["limit"] == limit
        assert len(body["data"]) == size
    for bad in ("0", "201", "-1", "1000", "abc", "1.5", ""):
        response = paged.get(f"{API}/events?limit={bad}")
        assert response.status_code == 400, bad
        assert response.mimetype == "application/problem+json"
        assert [error["parameter"] for error in response.get_json()["errors"]] == ["limit"], bad


def test_default_limit_is_fifty(client, load):
    many = [actor(f"m-{number:03d}", name=f"name {number:03d}") for number in range(57)]
    load(actors=many)
    response = get_ok(client, f"{API}/actors")
    body = response.get_json()
    assert body["meta"]["limit"] == 50
    assert body["meta"]["count"] == 57
    assert [record["id"] for record in body["data"]] == [f"m-{number:03d}" for number in range(50)]
    second = get_ok(client, body["links"]["next"]).get_json()
    assert [record["id"] for record in second["data"]] == [f"m-{number:03d}" for number in range(50, 57)]
    assert second["links"]["next"] is None
    everything = get_ok(client, f"{API}/actors?limit=200").get_json()
    assert len(everything["data"]) == 57
    assert everything["meta"]["next_cursor"] is None
    assert_walk_matches(client, f"{API}/actors", "sort=-name", 50)


@pytest.mark.parametrize("sort", ["date", "-date", "title", "-title,date", "type,-date"])
def test_inserts_between_pages_never_repeat_or_skip_a_record(paged, load, sort):
    before = full_list(paged, f"{API}/events", f"sort={sort}")
    inserted = []

    def insert(page_number):
        batch = [
            event(f"n-{page_number}-early", "1990-01-01", "aaa first", "accusation"),
            event(f"n-{page_number}-late", "2099-12-31", "zzz last", "weapons_testing"),
            event(f"n-{page_number}-mid", "2024-09-10", "bravo", "military_attack"),
            event(f"n-{page_number}-undated", None, "charlie", "accusation"),
        ]
        load(events=batch)
        inserted.extend(item["id"] for item in batch)

    bodies = walk(paged, f"{API}/events?sort={sort}&limit=2", between_pages=insert)
    walked = [record["id"] for body in bodies for record in body["data"]]
    assert inserted, "nothing was inserted during the walk"
    assert len(walked) == len(set(walked)), walked
    assert [record_id for record_id in walked if record_id in before] == before
    assert set(walked) <= set(before) | set(inserted)
    # records inserted where the walk has already been are not seen
    if sort in ("date", "title"):
        assert not [record_id for record_id in walked if record_id.endswith("-early")]
    # the count follows the dataset as it grows
    assert bodies[-1]["meta"]["count"] == len(before) + len(inserted)


def test_edits_between_pages_do_not_disturb_a_walk_in_an_unchanged_order(paged, load):
    before = full_list(paged, f"{API}/events", "sort=title")

    def edit(page_number):
        # a new summary leaves the sort key alone
        changed = event("p-04", "2024-09-01", "charlie", "accusation")
        changed["summary"] = f"edited {page_number}"
        load(events=[changed])

    bodies = walk(paged, f"{API}/events?sort=title&limit=3", between_pages=edit)
    assert [record["id"] for body in bodies for record in body["data"]] == before
