"""Shared fixtures: one app per test run, a fresh database per test, SQLite always and PostgreSQL when reachable.

Every HTTP test runs once per backend. PostgreSQL uses TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/test); when it cannot be reached
those variants skip with the reason, unless REQUIRE_POSTGRES=1 (as .ci/run sets)
turns the skip into a failure.

Building an app (its OpenAPI document above all) and creating and seeding a database
cost more than most tests, so both are done once per worker: each test gets the one app
with its settings and caches as new, and a database restored from a template, empty or
seeded (tests/databases.py), which no earlier test can have touched.
"""

import copy
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from databases import PostgresTemplates, SqliteTemplates, postgres_unavailable

from api import create_app, new_caches
from api.catalog import WRITE_ORDER
from api.db import bind_database, database
from api.tables import dataset_revision
from seed.loader import FILES, read_fixtures, write_fixtures

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# The settings of every test app: rate limits stay off (as under TESTING by default);
# tests/test_rate_limits.py turns them on to test them.
TEST_SETTINGS = {
    "TESTING": True,
    "RATE_LIMIT_ENABLED": False,
    "CURSOR_SECRET": "test-cursor-secret",
    "LOG_CONFIGURE": False,  # pytest collects log records itself
}
# Webhook receivers in the tests listen on 127.0.0.1 (tests/test_webhooks.py refuses it with this unset).
os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "1"
# The revision of each template: the empty one has had no change, the seeded one its one load.
TEMPLATE_REVISIONS = {"empty": 0, "seeded": 1}


def pytest_collection_modifyitems(items):
    """The live contract test runs longest (a server and Schemathesis): start it first, beside the rest."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_live_contract.py"), reverse=True)


@pytest.fixture(scope="session")
def postgres_reason():
    return postgres_unavailable(POSTGRES_URL)


@pytest.fixture(scope="session")
def seed_fixtures():
    """The shipped dataset, parsed and validated once per session."""
    return read_fixtures()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory, seed_fixtures):
    return SqliteTemplates(tmp_path_factory.mktemp("templates"), seed_fixtures)


@pytest.fixture(scope="session")
def postgres_templates(postgres_reason, seed_fixtures):
    """A schema of its own for this test run (and worker), so concurrent runs on one server never meet."""
    templates = PostgresTemplates(POSTGRES_URL, f"eventledger_test_{os.getpid()}", seed_fixtures)
    yield templates
    templates.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database of each backend (restored from the template by the `app` fixture)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    reason = request.getfixturevalue("postgres_reason")
    if reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return request.getfixturevalue("postgres_templates").url


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory):
    """The app, built once: (app, its settings, its extensions) as they were when it was made."""
    unbound = f"sqlite:///{tmp_path_factory.mktemp('unbound') / 'none.sqlite3'}"
    app = create_app({"DATABASE_URL": unbound, **TEST_SETTINGS})
    return app, dict(app.config), dict(app.extensions)


@pytest.fixture
def restored_database(request, database_url):
    """The test's database, restored from a template: (the templates, which one) for `load` to key by."""
    templates = request.getfixturevalue(
        "postgres_templates" if database_url.startswith("postgres") else "sqlite_templates"
    )
    template = "seeded" if "seeded" in request.fixturenames else "empty"
    templates.restore(database_url, seeded=template == "seeded")
    return templates, template


@pytest.fixture
def app(shared_app, database_url, restored_database):
    """The app as new, on a database of its own: empty, or holding the shipped dataset for `seeded` tests."""
    app, settings, extensions = shared_app
    app.config.clear()
    app.config.update(settings, DATABASE_URL=database_url)
    app.extensions.clear()
    app.extensions.update(extensions)
    app.extensions.update(new_caches(app.config))
    bind_database(database_url)
    yield app
    database.close_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded(app):
    """The app with the shipped dataset loaded (the `app` fixture restores it from the seeded template)."""
    return app


@pytest.fixture
def load(app, restored_database):
    """Load records given as fixture dicts (validated by the input schemas) into the test database.

    `load(events=[...], actors=[...])`: missing resources are empty.

    Loading the same records into the same fresh template as an earlier test restores the database
    that load left (tests/databases.py) instead of writing them again: the same rows, links, change
    log and revision, with that load's timestamps.
    """
    templates, template = restored_database
    url = app.config["DATABASE_URL"]

    def _load(**records):
        fixtures = {}
        for name, schema_class in FILES:
            fixtures[name] = [schema_class().load(item) for item in records.get(name, [])]
        assert set(records) <= set(WRITE_ORDER), f"unknown resources: {set(records) - set(WRITE_ORDER)}"
        key = (template, repr(records))
        with database.connection_context():
            fresh = dataset_revision() == TEMPLATE_REVISIONS[template]
        if fresh and key in templates.states and templates.restore_state(url, key):
            return copy.deepcopy(templates.summaries[key])
        with database.connection_context():
            summary = write_fixtures(fixtures)
        if fresh and key not in templates.states:
            templates.save_state(url, key)
            templates.summaries[key] = copy.deepcopy(summary)
        return summary

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


# --- a live server: `eventledger serve` on a free port, for tests that need real HTTP ----------------------

BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(tmp_path):
    port = free_port()
    # Fuzzing sends thousands of requests from one address: rate limits would answer most of them with a 429.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}", "RATE_LIMIT_ENABLED": "0"}
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")  # a file, not a pipe: nobody reads a pipe while Schemathesis runs
    server = subprocess.Popen(
        [str(BIN / "eventledger"), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text()) from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def live_write_key(live_server, tmp_path):
    """A read-write API key of the live server's database."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}"}
    made = subprocess.run(
        [str(BIN / "eventledger"), "keys", "create", "schemathesis", "--scope", "read-write"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()
