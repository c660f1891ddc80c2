"""The front door: the resource index, liveness and readiness, and self-hosted API docs."""

import re

import pytest
from helpers import SHIPPED_COUNTS

from api import create_app
from api.db import database

RESOURCES = ["events", "actors", "claims", "sources"]
SEED_COUNTS = SHIPPED_COUNTS


def test_index_lists_the_four_resources_with_working_hrefs(seeded, client):
    response = client.get("/api/v1")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["name"] == "eventledger"
    assert body["version"] == "1"
    assert type(body["dataset_revision"]) is int and body["dataset_revision"] >= 1
    assert sorted(resource["name"] for resource in body["resources"]) == sorted(RESOURCES)
    for resource in body["resources"]:
        assert set(resource) == {"name", "href", "description"}
        assert resource["description"].strip()
        assert resource["href"].endswith(f"/api/v1/{resource['name']}")
        listed = client.get(resource["href"])
        assert listed.status_code == 200, resource["href"]
        page = listed.get_json()
        assert set(page) == {"data", "meta", "links"}
        assert page["meta"]["count"] == SEED_COUNTS[resource["name"]]
        assert page["meta"]["dataset_revision"] == body["dataset_revision"]


def test_index_links_work(seeded, client):
    links = client.get("/api/v1").get_json()["links"]
    assert set(links) >= {"openapi", "docs", "health", "ready"}
    for name, href in links.items():
        assert client.get(href).status_code == 200, (name, href)

    spec = client.get(links["openapi"])
    assert spec.mimetype == "application/json"
    document = spec.get_json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/events", "/api/v1/events/{record_id}", "/api/v1/actors/{record_id}/claims"} <= set(
        document["paths"]
    )
    assert client.get(links["docs"]).mimetype == "text/html"
    assert client.get(links["health"]).get_json() == {"status": "ok"}
    assert client.get(links["ready"]).get_json() == {"status": "ok", "database": "ok"}


def test_index_on_an_empty_database(client):
    body = client.get("/api/v1").get_json()
    assert body["dataset_revision"] == 0
    for resource in body["resources"]:
        page = client.get(resource["href"]).get_json()
        assert page["data"] == [] and page["meta"]["count"] == 0


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok"}
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_readyz_with_a_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert "no-store" in response.headers.get("Cache-Control", "")


# --- No database ------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite-missing-directory", "postgres-closed-port"])
def unreachable_client(request, tmp_path):
    """An app whose database cannot be opened: a SQLite file in a directory that does not exist,
    or a PostgreSQL port nothing listens on."""
    if request.param == "sqlite-missing-directory":
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'directory' / 'db.sqlite3'}"
    else:
        url = "postgresql://postgres@127.0.0.1:1/test?connect_timeout=3"
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    yield app.test_client()
    database.close_all()


def test_readyz_is_a_503_problem_without_a_database(unreachable_client):
    response = unreachable_client.get("/readyz")
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == 503
    assert body["title"] == "Service Unavailable"
    assert body["instance"] == "/readyz"
    assert "database" in body["detail"].lower()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)


def test_healthz_does_not_need_the_database(unreachable_client):
    """Liveness says the process answers; a database outage must not get the process restarted."""
    response = unreachable_client.get("/healthz")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json() == {"status": "ok"}


# --- Self-hosted docs --------------------------------------------------------------------------------


def test_docs_reference_only_local_assets(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert references, html
    assert all(reference.startswith("/docs/assets/") for reference in references), references
    assert not re.search(r"""["']//""", html), "protocol-relative URL"
    # The spec the page loads is ours too.
    spec_urls = re.findall(r"""url\s*:\s*["']([^"']+)["']""", html)
    assert spec_urls == ["/api/v1/openapi.json"], spec_urls
    assert client.get(spec_urls[0]).status_code == 200


def test_docs_assets_are_served(client):
    html = client.get("/docs").get_data(as_text=True)
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    scripts = [reference for reference in references if reference.endswith(".js")]
    styles = [reference for reference in references if reference.endswith(".css")]
    assert scripts and styles, references
    for reference in references:
        asset = client.get(reference)
        assert asset.status_code == 200, reference
        assert len(asset.get_data()) > 1000, reference
        if reference.endswith(".js"):
            assert "javascript" in asset.mimetype, (reference, asset.mimetype)
        elif reference.endswith(".css"):
            assert asset.mimetype == "text/css", (reference, asset.mimetype)
        asset.close()


def test_unknown_docs_asset_is_a_404_problem(client):
    for path in ("/docs/assets/nope.js", "/docs/assets/../../etc/passwd", "/docs/assets/%2e%2e/%2e%2e/setup.py"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json", path
