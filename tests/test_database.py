"""How the database is opened: SQLite in WAL mode with foreign keys, the same app on PostgreSQL."""

import pytest
from helpers import SEEDED_IDS, assert_stored_json_is_fresh

from api.db import database, open_database
from api.migrations import create_tables
from api.tables import STORED_JSON, DatasetState, Event


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute_sql("PRAGMA foreign_keys").fetchone() == (1,)
        assert db.execute_sql("SELECT lower('ÜRÜMQI')").fetchone() == ("ürümqi",)


def test_unsupported_database_url_is_refused():
    with pytest.raises(ValueError, match="unsupported scheme 'mysql'"):
        open_database("mysql://root@127.0.0.1/test")


def test_the_app_answers_on_its_backend(seeded, client, database_url):
    scheme = database_url.split(":", 1)[0]
    assert (
        type(database.obj).__name__
        == {"sqlite": "PooledSqliteDatabase", "postgresql": "PooledPostgresqlExtDatabase"}[scheme]
    )
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}
    assert client.get("/api/v1/events?limit=1").json["meta"]["count"] > 0


def test_records_written_outside_the_api_get_their_json_when_the_database_is_opened(app, seeded, client):
    """A tool that wrote rows directly (a bulk load) leaves no stored JSON; `create_tables` renders it."""
    url = f"/api/v1/events/{SEEDED_IDS['events']}"
    before = client.get(url).get_json()["data"]
    with database.connection_context():
        STORED_JSON[Event].delete().execute()
    # Until then a record without stored JSON is rendered on the fly, the same.
    assert client.get(url + "?fields=title").get_json()["data"]["title"] == before["title"]
    with database.connection_context():
        create_tables()
    assert_stored_json_is_fresh(app)
    assert client.get(url + "?fields=summary").get_json()["data"]["summary"] == before["summary"]


def test_json_rendered_with_other_schemas_is_rendered_again(app, seeded, client):
    """An upgrade that changes a schema changes the fingerprint: every record is rendered again."""
    with database.connection_context():
        STORED_JSON[Event].update(json='{"id": "stale"}').where(
            STORED_JSON[Event].record == SEEDED_IDS["events"]
        ).execute()
        DatasetState.update(representations="another-version").execute()
        create_tables()
        assert DatasetState.get_by_id(1).representations != "another-version"
    assert_stored_json_is_fresh(app)
    assert client.get(f"/api/v1/events/{SEEDED_IDS['events']}").get_json()["data"]["id"] == SEEDED_IDS["events"]
