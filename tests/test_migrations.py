"""Upgrades: a database made by eventledger 1.0.0, with its data, change log, API key and webhook, is refused by
the current code until `eventledger migrate` brings it to the current schema, with nothing lost."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from conftest import POSTGRES_URL
from databases import require_postgres

from api import create_app
from api.migrations import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures" / "upgrade"
EVENTLEDGER = Path(sys.executable).parent / "eventledger"
KEYS = dict(line.split() for line in (FIXTURES / "api-keys.txt").read_text().splitlines())
# What 1.0.0 held: the seed's records, plus one actor written through its API.
COUNTS = {"sources": 6, "actors": 22, "events": 19, "claims": 20}


def run(url, *args):
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([str(EVENTLEDGER), *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def old_database(request, tmp_path):
    """(backend, URL) of a fresh copy of the 1.0.0 database."""
    if request.param == "sqlite":
        path = tmp_path / "old.sqlite3"
        shutil.copy(FIXTURES / "eventledger-1.0.0.sqlite3", path)
        yield "sqlite", f"sqlite:///{path}"
        return
    require_postgres(POSTGRES_URL)
    name = f"eventledger_upgrade_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(POSTGRES_URL)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute((FIXTURES / "eventledger-1.0.0.sql").read_text())
    try:
        yield "postgresql", url
    finally:
        admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.close()


def test_a_1_0_database_is_refused_until_migrated_then_nothing_is_lost(old_database):
    backend, url = old_database
    for command in (["init-db"], ["seed"], ["serve", "--port", "1"]):
        refused = run(url, *command)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        assert "schema is version 1" in refused.stderr and "eventledger migrate" in refused.stderr, refused.stderr

    migrated = run(url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.splitlines() == [
        "Migrated to schema version 2: the read path's columns and tables added after 1.0.0",
        "Migrated to schema version 3: provenance: stored documents, evidence stances, access, located excerpts",
        f"Schema version {SCHEMA_VERSION} in {url} (migrated from version 1).",
    ]
    again = run(url, "migrate")
    assert again.stdout.strip().endswith("(already up to date).")

    client = create_app({"DATABASE_URL": url, "RATE_LIMIT_ENABLED": False, "LOG_CONFIGURE": False}).test_client()
    for resource, count in COUNTS.items():
        assert client.get(f"/api/v1/{resource}?limit=1").get_json()["meta"]["count"] == count, resource
    # What 1.0.0's API wrote, and its change log, with list values now JSON.
    actor = client.get("/api/v1/actors/upgrade-actor").get_json()["data"]
    assert (actor["aliases"], actor["version"]) == (["Second"], 2)
    history = client.get("/api/v1/actors/upgrade-actor/history").get_json()["data"]
    assert history[0]["fields"]["aliases"] == {"from": ["First", "Second"], "to": ["Second"]}
    claim = client.get("/api/v1/claims/beijing-fully-aware-of-operation").get_json()["data"]
    assert claim["credibility_rationale"] == "Edited under 1.0.0."
    # The stance 1.0 called `disputes` is `contradicts`; every excerpt is located in the stored article.
    assert "disputes" not in {link["stance"] for link in claim["sources"]}
    assert all(link["target"] and link["target"]["source"] == "modern-warfare-newsletter" for link in claim["sources"])
    source = client.get("/api/v1/sources/modern-warfare-newsletter").get_json()["data"]
    assert source["document"]["characters"] > 0 and source["access"] == "first_hand"
    document = client.get("/api/v1/sources/modern-warfare-newsletter/document?format=txt").get_data(as_text=True)
    assert len(document) == source["document"]["characters"]
    # Every change 1.0.0 logged (the seed's 66 creates, then the actor's create and update, the claim's edit).
    changes = client.get("/api/v1/changes?limit=200").get_json()["data"]
    assert len(changes) == 69 and changes[-1]["record_id"] == "beijing-fully-aware-of-operation"
    # The API key 1.0.0 made still writes, and its webhook subscription is still there.
    key = KEYS[backend]
    headers = {"Authorization": f"Bearer {key}"}
    hooks = client.get("/api/v1/webhooks", headers=headers).get_json()["data"]
    assert [hook["url"] for hook in hooks] == ["https://example.org/hook"]
    etag = client.get("/api/v1/actors/upgrade-actor").headers["ETag"]
    patched = client.patch("/api/v1/actors/upgrade-actor", json={"aliases": []}, headers={**headers, "If-Match": etag})
    assert patched.status_code == 200, patched.get_data(as_text=True)
    # And the server starts on it.
    assert run(url, "init-db").returncode == 0
