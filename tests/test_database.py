"""How the database is opened: SQLite in WAL mode with foreign keys, the same app on PostgreSQL."""

import pytest

from api.db import database, open_database


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
