"""CORS: any origin may read the API by default, with the caching and paging headers exposed."""

import copy

import pytest

from api import create_app
from api.db import database
from api.migrations import create_tables
from api.tables import ALL_MODELS
from seed.loader import write_fixtures

ORIGIN = "https://client.example.com"
PATHS = (
    "/api/v1",
    "/api/v1/events",
    "/api/v1/events/reuters-investigation-published",
    "/api/v1/events/reuters-investigation-published/actors",
    "/api/v1/claims?limit=2",
    "/api/v1/actors/european-union/claims",
    "/api/v1/sources/modern-warfare-newsletter",
)


def header_set(response, name):
    return {item.strip().lower() for item in response.headers.get(name, "").split(",") if item.strip()}


def preflight(client, path, origin=ORIGIN, headers="If-None-Match"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": headers,
        },
    )


def test_simple_get_allows_any_origin(seeded, client):
    for path in PATHS:
        response = client.get(path, headers={"Origin": ORIGIN})
        assert response.status_code == 200, path
        assert response.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN), path
        # Without credentials a wildcard suffices; an echoed origin must come with Vary: Origin.
        if response.headers["Access-Control-Allow-Origin"] != "*":
            assert "origin" in header_set(response, "Vary")


def test_default_allow_origin_is_a_wildcard(seeded, client):
    """By default every origin gets `*`: one cacheable response for all, no Vary: Origin needed."""
    for origin in ("https://anything.test", ORIGIN):
        response = client.get("/api/v1/events", headers={"Origin": origin})
        assert response.headers.get("Access-Control-Allow-Origin") == "*", origin
        assert "Access-Control-Allow-Credentials" not in response.headers
    response = preflight(client, "/api/v1/events")
    assert response.headers.get("Access-Control-Allow-Origin") == "*"


def test_caching_and_paging_headers_are_exposed(seeded, client):
    for path in PATHS:
        response = client.get(path, headers={"Origin": ORIGIN})
        exposed = header_set(response, "Access-Control-Expose-Headers")
        assert {"etag", "link", "last-modified"} <= exposed, (path, exposed)
    # The headers really are there to be read.
    paged = client.get("/api/v1/events?limit=2", headers={"Origin": ORIGIN})
    assert paged.headers["Link"].endswith('rel="next"')
    detail = client.get("/api/v1/events/reuters-investigation-published", headers={"Origin": ORIGIN})
    assert detail.headers["Last-Modified"] and detail.headers["ETag"]


def test_errors_and_304_carry_cors_headers(seeded, client):
    """A browser can only read a problem (or honour a 304) when the response allows the origin."""
    for path, status in (
        ("/api/v1/events/no-such-record", 404),
        ("/api/v1/events?limit=0", 400),
        ("/api/v1/nope", 404),
    ):
        response = client.get(path, headers={"Origin": ORIGIN})
        assert response.status_code == status
        assert response.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN), path
    etag = client.get("/api/v1/events").headers["ETag"]
    response = client.get("/api/v1/events", headers={"Origin": ORIGIN, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN)
    assert "etag" in header_set(response, "Access-Control-Expose-Headers")


def test_preflight_for_a_conditional_get_succeeds(seeded, client):
    for path in PATHS:
        response = preflight(client, path)
        assert 200 <= response.status_code < 300, (path, response.status_code)
        assert response.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN), path
        assert "get" in header_set(response, "Access-Control-Allow-Methods"), path
        assert "if-none-match" in header_set(response, "Access-Control-Allow-Headers"), path


def test_preflight_allows_several_request_headers(seeded, client):
    response = preflight(client, "/api/v1/events", headers="If-None-Match, Accept")
    assert 200 <= response.status_code < 300
    assert {"if-none-match", "accept"} <= header_set(response, "Access-Control-Allow-Headers")


def test_preflight_on_unknown_record_still_succeeds(seeded, client):
    """Preflight is about the method and headers; the 404 comes with the actual GET."""
    response = preflight(client, "/api/v1/events/no-such-record")
    assert 200 <= response.status_code < 300
    assert response.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN)


# --- Restricted origins -------------------------------------------------------------------------

ALLOWED = "https://example.org"


@pytest.fixture
def restricted_client(database_url, seed_fixtures):
    """An app allowing one origin only, on a fresh database (built like the conftest `app` fixture)."""
    app = create_app({"CORS_ORIGINS": [ALLOWED], "DATABASE_URL": database_url, "TESTING": True})
    with database.connection_context():
        database.drop_tables(ALL_MODELS, safe=True, cascade=database_url.startswith("postgres"))
        create_tables()
        write_fixtures(copy.deepcopy(seed_fixtures))
    yield app.test_client()
    database.close_all()


def test_configured_origin_is_allowed(restricted_client):
    for path in PATHS:
        response = restricted_client.get(path, headers={"Origin": ALLOWED})
        assert response.status_code == 200, path
        assert response.headers.get("Access-Control-Allow-Origin") == ALLOWED, path
        assert {"etag", "link", "last-modified"} <= header_set(response, "Access-Control-Expose-Headers")
    response = preflight(restricted_client, "/api/v1/events", origin=ALLOWED)
    assert 200 <= response.status_code < 300
    assert response.headers.get("Access-Control-Allow-Origin") == ALLOWED
    assert "if-none-match" in header_set(response, "Access-Control-Allow-Headers")


def test_other_origins_are_not_allowed(restricted_client):
    for origin in (
        "https://evil.example",
        "http://example.org",
        "https://example.org.evil.test",
        "https://sub.example.org",
    ):
        response = restricted_client.get("/api/v1/events", headers={"Origin": origin})
        # The data is public, so the request is served; the browser is just not told it may read it.
        assert response.status_code == 200, origin
        assert "Access-Control-Allow-Origin" not in response.headers, origin
        response = preflight(restricted_client, "/api/v1/events", origin=origin)
        assert "Access-Control-Allow-Origin" not in response.headers, origin
