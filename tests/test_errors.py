"""Every error is RFC 9457 problem+json that names what went wrong, and no input gives a 5xx."""

import pytest
from helpers import LISTS, RELATED, SEEDED_IDS, check_each

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}

SINGULAR = {"events": "event", "claims": "claim", "actors": "actor", "sources": "source"}


def assert_problem(response, status, path=None):
    """The response is a problem+json document whose status matches the HTTP status; returns the body."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert set(body) >= PROBLEM_KEYS, body
    assert set(body) <= PROBLEM_KEYS | {"errors"}, body
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert body["type"].startswith(("urn:", "http://", "https://", "about:blank")), body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if path is not None:
        assert body["instance"] == path
    return body


def assert_names_parameter(body, parameter):
    """`detail` and `errors[].parameter` both name the offending query parameter."""
    assert f"'{parameter}'" in body["detail"], body["detail"]
    assert "errors" in body and body["errors"], body
    entries = [entry for entry in body["errors"] if entry["parameter"] == parameter]
    assert entries, body["errors"]
    for entry in entries:
        assert entry["location"] == "query"
        assert entry["messages"] and all(isinstance(m, str) and m for m in entry["messages"])


# --- 400: each malformed parameter is named ------------------------------------------------

BAD_PARAMETERS = {
    "dates": [
        ("/api/v1/events", "date_from=2024-13", "date_from"),
        ("/api/v1/events", "date_from=2024-02-30", "date_from"),
        ("/api/v1/events", "date_from=abc", "date_from"),
        ("/api/v1/events", "date_to=2023-02-29", "date_to"),
        ("/api/v1/events", "date_to=2024-00", "date_to"),
        ("/api/v1/events", "date_to=2024-04-31", "date_to"),
        ("/api/v1/events", "date_to=XXXX-09", "date_to"),
        ("/api/v1/events", "date_from=24", "date_from"),
        ("/api/v1/events", "date_from=2024-1-5", "date_from"),
        ("/api/v1/actors/european-union/events", "date_from=2024-13", "date_from"),
    ],
    "enums": [
        ("/api/v1/events", "type=bogus", "type"),
        ("/api/v1/events", "type=official_denial,bogus", "type"),
        ("/api/v1/events", "type=official_denial&type=bogus", "type"),
        ("/api/v1/events", "role=king", "role"),
        ("/api/v1/events", "country=us", "country"),
        ("/api/v1/events", "sort=bogus", "sort"),
        ("/api/v1/events", "sort=date,title,type,id", "sort"),
        ("/api/v1/events", "include=bogus", "include"),
        ("/api/v1/events", "fields=bogus", "fields"),
        ("/api/v1/claims", "status=maybe", "status"),
        ("/api/v1/claims", "credibility=7", "credibility"),
        ("/api/v1/claims", "stance=loves", "stance"),
        ("/api/v1/claims", "include=claims", "include"),
        ("/api/v1/actors", "kind=alien", "kind"),
        ("/api/v1/actors", "sort=title", "sort"),
        ("/api/v1/sources", "reliability=Z", "reliability"),
        ("/api/v1/sources", "type=blog", "type"),
        ("/api/v1/events/reuters-investigation-published", "include=bogus", "include"),
        ("/api/v1/events/reuters-investigation-published", "fields=bogus", "fields"),
        ("/api/v1/events/reuters-investigation-published/actors", "kind=alien", "kind"),
        ("/api/v1/claims/almaz-antey-subsidiary-developed-attack-drones/events", "type=bogus", "type"),
    ],
    "limits": [
        (path, f"limit={value}", "limit")
        for path in (*LISTS, "/api/v1/sources/modern-warfare-newsletter/claims")
        for value in ("0", "201", "abc", "-1", "1.5", "")
    ],
    "cursors": [
        ("/api/v1/events", "cursor=xyz", "cursor"),
        ("/api/v1/actors", "cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor"),
        ("/api/v1/claims", "cursor=" + "A" * 2001, "cursor"),
        ("/api/v1/events/reuters-investigation-published/actors", "cursor=xyz", "cursor"),
    ],
    "updated_since": [
        ("/api/v1/events", "updated_since=yesterday", "updated_since"),
        ("/api/v1/events", "updated_since=2024-01-01T00:00:00", "updated_since"),
        ("/api/v1/claims", "updated_since=2024-13-01T00:00:00Z", "updated_since"),
        ("/api/v1/actors", "updated_since=2024-01-01", "updated_since"),
        ("/api/v1/sources", "updated_since=1700000000", "updated_since"),
    ],
    "slugs": [
        ("/api/v1/events", "actor=Bad_Slug", "actor"),
        ("/api/v1/events", "source=-x", "source"),
        ("/api/v1/events", "claim=a--b", "claim"),
        ("/api/v1/claims", "event=UPPER", "event"),
        ("/api/v1/claims", "actor=a_b", "actor"),
        ("/api/v1/claims", "source=x.y", "source"),
        ("/api/v1/actors", "parent=x_y", "parent"),
        ("/api/v1/actors", "event=%C3%A9", "event"),
        ("/api/v1/actors", "claim=a/b", "claim"),
        ("/api/v1/sources", "claim=a%20b", "claim"),
        ("/api/v1/sources", "event=ok,Not-Ok", "event"),
    ],
    "text": [
        ("/api/v1/events", "q=" + "x" * 201, "q"),
        ("/api/v1/events", "q=", "q"),
        ("/api/v1/sources", "publisher=" + "p" * 201, "publisher"),
    ],
}


@pytest.mark.parametrize("kind", sorted(BAD_PARAMETERS))
def test_bad_parameter_is_a_400_problem_naming_it(seeded, client, kind):
    def check(path, query, parameter):
        body = assert_problem(client.get(f"{path}?{query}"), 400, path)
        assert body["title"] == "Bad Request"
        assert_names_parameter(body, parameter)

    check_each(BAD_PARAMETERS[kind], check)


UNKNOWN_PARAMETERS = [
    ("/api/v1/events", "foo=1", "foo"),
    ("/api/v1/events", "limit=5&Type=accusation", "Type"),
    ("/api/v1/claims", "titel=x", "titel"),
    ("/api/v1/actors", "type=state", "type"),
    ("/api/v1/sources", "kind=other", "kind"),
    ("/api/v1/events/reuters-investigation-published", "limit=5", "limit"),
    ("/api/v1/actors/european-union", "foo=", "foo"),
    ("/api/v1/events/reuters-investigation-published/actors", "type=state", "type"),
    ("/api/v1/sources/modern-warfare-newsletter/events", "kind=state", "kind"),
]


def test_unknown_parameter_is_a_400_problem_naming_it(seeded, client):
    """A misspelt filter must be an error, not a silently unfiltered answer."""

    def check(path, query, parameter):
        body = assert_problem(client.get(f"{path}?{query}"), 400, path)
        assert_names_parameter(body, parameter)

    check_each(UNKNOWN_PARAMETERS, check)


def test_every_bad_parameter_is_named_at_once(client):
    body = assert_problem(client.get("/api/v1/events?limit=0&type=bogus&date_from=2024-13"), 400, "/api/v1/events")
    assert {entry["parameter"] for entry in body["errors"]} == {"limit", "type", "date_from"}
    for parameter in ("limit", "type", "date_from"):
        assert_names_parameter(body, parameter)


def test_foreign_or_tampered_cursor_is_a_400_naming_cursor(seeded, client):
    cursor = client.get("/api/v1/events?limit=1").get_json()["meta"]["next_cursor"]
    assert cursor
    assert client.get(f"/api/v1/events?limit=1&cursor={cursor}").status_code == 200
    # Made for another sort.
    body = assert_problem(client.get(f"/api/v1/events?limit=1&sort=title&cursor={cursor}"), 400, "/api/v1/events")
    assert_names_parameter(body, "cursor")
    # A cursor of one list is no cursor of another.
    body = assert_problem(client.get(f"/api/v1/actors?cursor={cursor}"), 400, "/api/v1/actors")
    assert_names_parameter(body, "cursor")
    # Tampered.
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    body = assert_problem(client.get(f"/api/v1/events?limit=1&cursor={tampered}"), 400, "/api/v1/events")
    assert_names_parameter(body, "cursor")


# --- 404: unknown ids and routes ---------------------------------------------------------


def test_unknown_id_is_a_404_problem_on_every_resource_and_related_route(seeded, client):
    def check(resource, relation):
        path = f"/api/v1/{resource}/no-such-record" + (f"/{relation}" if relation else "")
        body = assert_problem(client.get(path), 404, path)
        assert body["title"] == "Not Found"
        assert "no-such-record" in body["detail"]
        assert SINGULAR[resource] in body["detail"]
        assert "errors" not in body

    cases = [(resource, None) for resource in RELATED]
    cases += [(resource, relation) for resource, relations in RELATED.items() for relation in relations]
    check_each(cases, check)


def test_an_id_of_another_resource_is_a_404(seeded, client):
    # european-union is an actor, not an event nor a claim.
    for path in ("/api/v1/events/european-union", "/api/v1/claims/european-union/actors"):
        assert_problem(client.get(path), 404, path)


ODD_IDS = [
    "x" * 3000,
    "%C3%A9t%C3%A9",
    "%F0%9F%92%A5",
    "UPPER-CASE",
    "with%20space",
    "%27%20OR%201%3D1%20--",
    "%25",
    "%ff",
]
NUL_IDS = ["%00", "a%00b"]


def _check_odd_id(client, record_id):
    for resource, relations in RELATED.items():
        for suffix in ("", f"/{relations[0]}"):
            response = client.get(f"/api/v1/{resource}/{record_id}{suffix}")
            assert response.status_code == 404, (resource, suffix, response.status_code)
            assert_problem(response, 404)


def test_odd_unknown_ids_are_404(seeded, client):
    check_each(ODD_IDS, lambda record_id: _check_odd_id(client, record_id))


def test_ids_with_nul_bytes_are_404_not_5xx(seeded, client):
    check_each(NUL_IDS, lambda record_id: _check_odd_id(client, record_id))


UNKNOWN_PATHS = [
    "/api/v1/nope",
    "/nope",
    "/api/v2/events",
    "/api/v1/events/reuters-investigation-published/nope",
    "/api/v1/events/reuters-investigation-published/actors/european-union",
    "/api/v1/actors/european-union/sources",
    "/api/v1/sources/modern-warfare-newsletter/actors",
]


def test_unknown_path_is_a_404_problem(seeded, client):
    def check(path):
        body = assert_problem(client.get(path), 404, path)
        assert body["title"] == "Not Found"

    check_each(UNKNOWN_PATHS, check)


# --- 405: wrong methods --------------------------------------------------------------------


def _method_paths():
    paths = [*LISTS, "/api/v1", "/api/v1/events/no-such-record"]
    for resource, record_id in SEEDED_IDS.items():
        paths.append(f"/api/v1/{resource}/{record_id}")
        paths += [f"/api/v1/{resource}/{record_id}/{relation}" for relation in RELATED[resource]]
    return paths


def test_write_methods_are_a_405_problem_with_allow(seeded, client):
    def check(method, path):
        response = client.open(path, method=method, json={"title": "x"})
        body = assert_problem(response, 405, path)
        assert body["title"] == "Method Not Allowed"
        allow = {item.strip().upper() for item in response.headers.get("Allow", "").split(",") if item.strip()}
        assert "GET" in allow, response.headers.get("Allow")
        assert method not in allow

    def routed(method, path):
        # The write API: POST on a list, PATCH and DELETE on a record (tests/test_writes.py).
        parts = path.strip("/").split("/")
        return (method == "POST" and path in LISTS) or (method in ("PATCH", "DELETE") and len(parts) == 4)

    cases = [(m, p) for m in ("POST", "PUT", "DELETE", "PATCH") for p in _method_paths() if not routed(m, p)]
    check_each(cases, check)
    # Nothing was written.
    assert client.get("/api/v1/events/reuters-investigation-published").get_json()["data"]["version"] == 1


# --- Nothing is ever a 5xx -----------------------------------------------------------------

SWEEP_LISTS = (
    *LISTS,
    "/api/v1/events/reuters-investigation-published/actors",
    "/api/v1/claims/almaz-antey-subsidiary-developed-attack-drones/sources",
    "/api/v1/actors/european-union/events",
    "/api/v1/sources/modern-warfare-newsletter/claims",
)

ODD_QUERIES = {
    "long": [
        "q=" + "x" * 200,
        "q=" + "x" * 5000,
        "q=" + "word%20" * 300,
        "publisher=" + "p" * 5000,
        "actor=" + "a" * 5000,
        "type=" + "t" * 5000,
        "cursor=" + "c" * 5000,
        "cursor=" + "A" * 1999,
        "sort=" + "title," * 500,
        "x" * 5000 + "=1",
    ],
    "unicode": [
        "q=%C3%A9t%C3%A9%20%E2%98%83%20%F0%9D%84%9E",
        "q=%D7%A9%D7%9C%D7%95%D7%9D",
        "q=e%CC%81",
        "q=%F0%9F%92%A5",
        "publisher=%E2%98%83",
        "type=%C3%A9",
        "country=%C3%89S",
        "q=%E2%80%AE%E2%80%8B",
    ],
    "empty": [
        "type=",
        "limit=",
        "q=",
        "sort=",
        "cursor=",
        "fields=",
        "include=",
        "updated_since=",
        "date_from=",
        "publisher=",
        "type=,,,",
        "=",
        "&&&",
        "q",
        "limit",
    ],
    "repeated": [
        "limit=1&limit=2",
        "limit=5&limit=abc",
        "limit=abc&limit=5",
        "q=a&q=b",
        "cursor=a&cursor=b",
        "date_from=2024&date_from=2025",
        "updated_since=2024-01-01T00:00:00Z&updated_since=x",
        "include=actors,actors,actors",
        "fields=id,id",
    ],
    "nul": [
        "q=%00",
        "q=a%00b",
        "publisher=%00",
        "type=%00",
        "actor=%00",
        "cursor=%00",
        "sort=%00",
        "updated_since=%00",
        "date_from=%00",
        "%00=1",
    ],
    "blank_and_special": [
        "q=%20%20%20",
        "q=+++",
        "q=%09%0A",
        "q=%25",
        "q=_",
        "q=%5C",
        "q=%25_%5C%27%22",
        "q=%27%20OR%201%3D1%20--",
        "q=%zz",
        "q=%ff%fe",
        "[]=1",
        "a[b]=1",
        "sort=-",
        "sort=--date",
    ],
    "numbers_and_dates": [
        "limit=99999999999999999999999",
        "limit=1e3",
        "limit=%20",
        "limit=0x10",
        "updated_since=9999-12-31T23:59:59%2B14:00",
        "updated_since=0001-01-01T00:00:00Z",
        "updated_since=2024-01-01T00:00:00%2B25:00",
        "date_from=0000",
        "date_from=9999-12-31&date_to=0001",
        "date_to=2024-02-29",
        "credibility=1.0",
        "credibility=abc",
        "credibility=99999999999999999999999",
        "country=zz",
    ],
}


@pytest.mark.parametrize("kind", sorted(ODD_QUERIES))
def test_odd_inputs_never_give_a_5xx(seeded, client, kind):
    def check(query):
        for path in SWEEP_LISTS:
            response = client.get(f"{path}?{query}")
            assert response.status_code < 500, (path, response.status_code)
            if response.status_code == 200:
                assert response.mimetype == "application/json"
                assert set(response.get_json()) == {"data", "meta", "links"}
            else:
                assert 400 <= response.status_code < 500
                assert_problem(response, response.status_code, path)

    check_each(ODD_QUERIES[kind], check)


def test_blank_q_matches_everything(seeded, client, seed_fixtures):
    for query in ("q=%20%20%20", "q=+++"):
        response = client.get(f"/api/v1/events?{query}")
        assert response.status_code == 200
        assert response.get_json()["meta"]["count"] == len(seed_fixtures["events"])


@pytest.mark.parametrize(
    ("url", "parameter", "example"),
    [
        ("/api/v1/events?updated_since=2020-01-01", "updated_since", "2024-09-01T00:00:00Z"),
        ("/api/v1/claims?updated_since=yesterday", "updated_since", "2024-09-01T00:00:00Z"),
        ("/api/v1/events?limit=abc", "limit", "such as 50"),
        ("/api/v1/events?limit=0", "limit", "from 1 to 200"),
        ("/api/v1/changes?limit=1.5", "limit", "from 1 to 200"),
    ],
)
def test_a_malformed_value_is_told_the_form_expected_with_an_example(client, url, parameter, example):
    response = client.get(url)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    errors = {error["parameter"]: " ".join(error["messages"]) for error in response.get_json()["errors"]}
    assert example in errors[parameter], errors
    assert "Not a valid" not in errors[parameter]
