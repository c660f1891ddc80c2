"""Shared fixtures: an app per test on a fresh database, SQLite always and PostgreSQL when reachable.

Every HTTP test runs once per backend. PostgreSQL uses TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/test); when it cannot be reached
those variants skip with the reason, unless REQUIRE_POSTGRES=1 (as .ci/run sets)
turns the skip into a failure.
"""

import copy
import logging
import os

import pytest

from api import create_app
from api.db import database
from api.models import ALL_MODELS, create_tables
from seed.loader import FILES, PLANS, read_fixtures, write_fixtures

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_unavailable():
    try:
        import psycopg2

        psycopg2.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception as error:  # any failure to connect is a reason to skip
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {error}".strip()
    return None


@pytest.fixture(scope="session")
def postgres_reason():
    return _postgres_unavailable()


@pytest.fixture(scope="session")
def postgres_schema_url(postgres_reason):
    """A schema of its own for this test run, so concurrent runs on one server never meet."""
    import psycopg2

    schema = f"eventledger_test_{os.getpid()}"
    connection = psycopg2.connect(POSTGRES_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    yield f"{POSTGRES_URL}?options=-c%20search_path%3D{schema}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    reason = request.getfixturevalue("postgres_reason")
    if reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return request.getfixturevalue("postgres_schema_url")


@pytest.fixture
def app(database_url):
    # Rate limits stay off (as under TESTING by default); tests/test_rate_limits.py turns them on to test them.
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "RATE_LIMIT_ENABLED": False})
    with database.connection_context():
        database.drop_tables(ALL_MODELS, safe=True, cascade=database_url.startswith("postgres"))
        create_tables()
    yield app
    database.close_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def seed_fixtures():
    """The shipped dataset, parsed and validated once per session."""
    return read_fixtures()


@pytest.fixture
def seeded(app, seed_fixtures):
    """The app with the shipped dataset loaded."""
    with database.connection_context():
        write_fixtures(copy.deepcopy(seed_fixtures))
    return app


@pytest.fixture
def load(app):
    """Load records given as fixture dicts (validated by the input schemas) into the test database.

    `load(events=[...], actors=[...])`: missing resources are empty.
    """

    def _load(**records):
        fixtures = {}
        for name, schema_class in FILES:
            fixtures[name] = [schema_class().load(item) for item in records.get(name, [])]
        assert set(records) <= set(PLANS), f"unknown resources: {set(records) - set(PLANS)}"
        with database.connection_context():
            return write_fixtures(fixtures)

    return _load


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.queries = []

    def emit(self, record):
        if isinstance(record.msg, tuple):  # peewee logs (sql, params); the pool logs plain strings
            self.queries.append(record.getMessage())

    @property
    def count(self):
        return len(self.queries)


@pytest.fixture
def count_queries():
    """Collect the SQL peewee runs while the fixture is active: `count_queries.count`, `.queries`."""
    logger = logging.getLogger("peewee")
    counter = QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    yield counter
    logger.removeHandler(counter)
    logger.setLevel(previous)
