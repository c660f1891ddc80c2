"""Hostile and malformed request bodies on both databases: a 4xx problem naming the problem, never a 5xx,
and nothing written."""

import http.client
import json
import threading

import pytest
from writes_helpers import API, auth, make_key, row_counts, shipped, snapshot

from api.catalog import SPECS
from schemas.fields import LONG_TEXT_MAX, SHORT_TEXT_MAX, TITLE_MAX


@pytest.fixture
def key(app):
    return make_key("mallory")


def nested(depth):
    return "[" * depth + "]" * depth


ACTOR = json.dumps(shipped("actors", id="new-actor"))
# (name, body bytes, content type, status, words the problem's detail holds)
BODIES = [
    ("empty", b"", "application/json", 400, "not valid JSON"),
    ("not json", b"{nope", "application/json", 400, "not valid JSON"),
    ("array", b"[]", "application/json", 400, "JSON object"),
    (
        "duplicate member",
        ACTOR[:-1].encode() + b', "id": "other-actor"}',
        "application/json",
        400,
        "more than once: id",
    ),
    ("NaN", ACTOR[:-1].encode() + b', "x": NaN}', "application/json", 400, "NaN"),
    ("Infinity", ACTOR[:-1].encode() + b', "x": -Infinity}', "application/json", 400, "-Infinity"),
    ("huge float", ACTOR[:-1].encode() + b', "x": 1e999}', "application/json", 400, "range of a double"),
    ("huge integer", ACTOR[:-1].encode() + b', "x": 123456789012345678901234567890}', "application/json", 400, "range"),
    ("5000 digits", ACTOR[:-1].encode() + b', "x": ' + b"9" * 5000 + b"}", "application/json", 400, "not valid JSON"),
    (
        "deep array",
        ACTOR[:-1].encode() + b', "x": ' + nested(200).encode() + b"}",
        "application/json",
        400,
        "16 levels",
    ),
    (
        "very deep",
        ACTOR[:-1].encode() + b', "x": ' + nested(100_000).encode() + b"}",
        "application/json",
        400,
        "levels",
    ),
    ("latin-1", ACTOR.encode("latin-1"), "application/json; charset=latin-1", 415, "UTF-8"),
    ("not utf-8", ACTOR.replace("new-actor", "new-\xe9").encode("latin-1"), "application/json", 400, "UTF-8"),
    ("vendor json", ACTOR.encode(), "application/vnd.evil+json", 415, "application/json"),
    ("form", b"id=x", "application/x-www-form-urlencoded", 415, "application/json"),
    (
        "too large",
        json.dumps({**json.loads(ACTOR), "description": "x" * 1_100_000}).encode(),
        "application/json",
        413,
        "1,048,576 bytes",
    ),
]


@pytest.mark.parametrize(("name", "body", "content_type", "status", "words"), BODIES, ids=[case[0] for case in BODIES])
def test_a_malformed_body_is_a_4xx_problem_and_writes_nothing(client, key, name, body, content_type, status, words):
    before = snapshot()
    for method, path in (("post", f"{API}/actors"), ("patch", f"{API}/actors/russia")):
        headers = auth(key, **({"If-Match": "*"} if method == "patch" else {}))
        response = getattr(client, method)(path, data=body, content_type=content_type, headers=headers)
        assert response.status_code == status, (name, method, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/problem+json"
        assert words in response.get_json()["detail"], (name, response.get_json()["detail"])
    assert snapshot() == before


LIMITS = [
    ("actors", "name", SHORT_TEXT_MAX),
    ("actors", "description", LONG_TEXT_MAX),
    ("events", "title", TITLE_MAX),
    ("events", "summary", LONG_TEXT_MAX),
    ("claims", "statement", TITLE_MAX),
    ("sources", "publisher", SHORT_TEXT_MAX),
]


@pytest.mark.parametrize(("resource", "field", "limit"), LIMITS)
def test_every_string_has_a_maximum_the_same_on_both_databases(seeded, client, key, resource, field, limit):
    """At the limit a string is stored whole; one character more is a 422 naming the field, on SQLite as on
    PostgreSQL (whose VARCHAR(255) would otherwise refuse it with a 500)."""
    record_id = shipped(resource)["id"]
    at_limit = client.patch(
        f"{API}/{resource}/{record_id}", json={field: "é" * limit}, headers=auth(key, **{"If-Match": "*"})
    )
    assert at_limit.status_code == 200, at_limit.get_data(as_text=True)[:300]
    assert client.get(f"{API}/{resource}/{record_id}").get_json()["data"][field] == "é" * limit
    before = snapshot()
    over = client.patch(
        f"{API}/{resource}/{record_id}", json={field: "é" * (limit + 1)}, headers=auth(key, **{"If-Match": "*"})
    )
    assert over.status_code == 422
    assert [error["parameter"] for error in over.get_json()["errors"]] == [field]
    assert snapshot() == before


@pytest.mark.parametrize("text", ["nul \x00 inside", "bell \x07", "escape \x1b[31m", "delete \x7f"])
def test_control_characters_are_refused_everywhere_text_goes_in(seeded, client, key, text):
    before = snapshot()
    response = client.patch(f"{API}/actors/russia", json={"name": text}, headers=auth(key, **{"If-Match": "*"}))
    assert response.status_code == 422 and response.get_json()["errors"][0]["parameter"] == "name"
    aliases = client.patch(f"{API}/actors/russia", json={"aliases": [text]}, headers=auth(key, **{"If-Match": "*"}))
    assert aliases.status_code == 422
    note = client.patch(
        f"{API}/actors/russia", json={"name": "Russia"}, headers=auth(key, **{"If-Match": "*", "X-Edit-Note": text})
    )
    assert note.status_code == 400 and "X-Edit-Note" in note.get_json()["detail"]
    assert snapshot() == before


def test_tabs_and_line_breaks_are_text(seeded, client, key):
    response = client.patch(
        f"{API}/actors/russia", json={"description": "one\ttwo\r\nthree\n"}, headers=auth(key, **{"If-Match": "*"})
    )
    assert response.status_code == 200


def test_a_page_reads_one_snapshot_whatever_commits_meanwhile(seeded, app, client, key, monkeypatch):
    """A write that commits between a page's statements (here, between the page and its embedded actors)
    is not half seen: the page, its embedded records and its revision are all from before it."""
    renderer = app.extensions["eventledger.renderer"]
    full_encoded, done = renderer._full_encoded, []

    def rename_first(target, ids):
        if not done:
            writer = threading.Thread(
                target=lambda: done.append(
                    app.test_client().patch(
                        f"{API}/actors/russia",
                        json={"name": "Renamed meanwhile"},
                        headers=auth(key, **{"If-Match": "*"}),
                    )
                )
            )
            writer.start()
            writer.join(timeout=30)
        return full_encoded(target, ids)

    monkeypatch.setattr(renderer, "_full_encoded", rename_first)
    before = client.get(f"{API}/actors/russia").get_json()
    body = client.get(f"{API}/events?actor=russia&include=actors&limit=5").get_json()
    assert done and done[0].status_code == 200, done and done[0].get_data(as_text=True)
    names = {link["name"] for event in body["data"] for link in event["actors"] if link["id"] == "russia"}
    assert names == {before["data"]["name"]}
    assert body["meta"]["dataset_revision"] == before["meta"]["dataset_revision"]
    assert client.get(f"{API}/actors/russia").get_json()["data"]["name"] == "Renamed meanwhile"


# --- generated: every query parameter and every record field, with values an attacker would try ---------------

HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "%00",
    "\u202e\u0000x",
    "' OR 1=1 --",
    '"; DROP TABLE event; --',
    "<script>alert(1)</script>",
    "../../../etc/passwd",
    "😀" * 50,
    "a" * 5000,
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "null",
    "[]",
    "{}",
    ",,,,",
    "-",
    "*",
    "%ff%fe",
    "\\u0000",
    "x" * 100 + "," * 100,
]
HOSTILE_JSON = [*HOSTILE_TEXT, None, True, -1, 2**62, 1.5e308, [], {}, [None], {"$gt": ""}, ["x"] * 300]


def assert_answered(response, context):
    """Never a 5xx; a 4xx is problem+json that says what is wrong."""
    assert response.status_code < 500, (context, response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json", context
        problem = response.get_json()
        assert problem["status"] == response.status_code and problem["detail"], (context, problem)


LIST_CASES = [
    (resource, parameter)
    for resource in ("events", "actors", "claims", "sources")
    for parameter in (*SPECS[resource].list_args().fields, "no_such_parameter")
]


@pytest.mark.parametrize(("resource", "parameter"), LIST_CASES, ids=[f"{r}-{p}" for r, p in LIST_CASES])
def test_every_list_parameter_survives_hostile_values(seeded, client, resource, parameter):
    """62 parameters x 25 values on each database: 3,100 requests, none a 5xx; a refused value names its
    parameter."""
    for value in HOSTILE_TEXT:
        response = client.get(f"{API}/{resource}", query_string={parameter: value})
        response.get_data()
        assert_answered(response, (resource, parameter, value[:40]))
        if response.status_code == 400 and "errors" in response.get_json():
            assert parameter in {error["parameter"] for error in response.get_json()["errors"]}, (parameter, value)


WRITE_CASES = [
    (resource, field)
    for resource in ("events", "actors", "claims", "sources")
    for field in SPECS[resource].input_schema._declared_fields
    if field != "id"
]


@pytest.mark.parametrize(("resource", "field"), WRITE_CASES, ids=[f"{r}-{f}" for r, f in WRITE_CASES])
def test_every_record_field_survives_hostile_values(seeded, client, key, resource, field):
    """Each field of each record, created and patched with 35 hostile JSON values: never a 5xx; a refusal
    names the field and writes nothing."""
    record = shipped(resource)
    first_refusal = True
    for value in HOSTILE_JSON:
        before = row_counts()
        whole = snapshot() if first_refusal else None
        created = client.post(
            f"{API}/{resource}", json={**record, "id": "hostile-record", field: value}, headers=auth(key)
        )
        assert_answered(created, ("POST", resource, field, repr(value)[:40]))
        patched = client.patch(
            f"{API}/{resource}/{record['id']}", json={field: value}, headers=auth(key, **{"If-Match": "*"})
        )
        assert_answered(patched, ("PATCH", resource, field, repr(value)[:40]))
        for response in (created, patched):
            if response.status_code == 422:
                named = {error["parameter"].split(".")[0] for error in response.get_json()["errors"]}
                assert field in named, (resource, field, repr(value)[:40], response.get_json()["errors"])
        if created.status_code >= 400 and patched.status_code >= 400:
            # Nothing written: every row the same once (compared whole), the row counts and revision every time.
            assert row_counts() == before
            if whole is not None:
                assert snapshot() == whole
                first_refusal = False
        if created.status_code == 201:
            assert (
                client.delete(f"{API}/{resource}/hostile-record", headers=auth(key, **{"If-Match": "*"})).status_code
                == 204
            )


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({"X-Padding": "x" * 100_000}, "'X-Padding' is 100,"),
        ({"Authorization": "Bearer " + "k" * 9_000}, "'Authorization'"),
        ({f"X-Part-{n}": "y" * 7_000 for n in range(6)}, "in all"),
    ],
    ids=["one-huge-field", "huge-key", "many-large-fields"],
)
def test_oversized_headers_are_a_431_problem(seeded, client, headers, words):
    response = client.get(f"{API}/events", headers=headers)
    assert response.status_code == 431
    assert_answered(response, headers.keys())
    assert words in response.get_json()["detail"]
    assert client.get(f"{API}/events", headers={"X-Padding": "x" * 4_000}).status_code == 200


def test_eventledger_serve_answers_a_100_kb_header_in_problem_json(live_server):
    """gunicorn reads header fields up to 128 KiB under `eventledger serve`, so that the 431 is the API's."""
    host, port = live_server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", f"{API}/events", headers={"X-Padding": "x" * 100_000})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 431
    assert response.getheader("Content-Type") == "application/problem+json"
    assert "'X-Padding'" in json.loads(body)["detail"]
