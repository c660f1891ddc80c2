"""A database that is down, stalled or full: 503 problem+json with Retry-After within a bounded time,
/healthz without the database, /readyz within 2 seconds, and recovery without a restart."""

import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import get_ok
from writes_helpers import API, auth, make_key, shipped

from api import create_app, db
from api.db import database
from api.migrations import create_tables

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class Proxy:
    """A TCP proxy to PostgreSQL that the test can stop (refusing connections), stall (accepting them and
    forwarding nothing) or freeze (keeping open connections open, silent), then bring back."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target, self.mode, self.sockets = target, "forward", []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.mode == "down":
                client.close()
                continue
            self.sockets.append(client)
            if self.mode in ("stall", "freeze"):
                continue  # accepted, never answered
            upstream = socket.create_connection(self.target)
            self.sockets.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                while self.mode == "freeze":  # as a paused server: the connection stays open, silent
                    time.sleep(0.05)
                if self.mode != "forward":
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def cut(self, mode):
        """Stop ("down") or stall ("stall") the database: every open connection is dropped."""
        self.mode = mode
        for open_socket in self.sockets:
            open_socket.close()
        self.sockets = []

    def freeze(self):
        self.mode = "freeze"

    def restore(self):
        self.mode = "forward"

    def close(self):
        self.cut("down")
        self.listener.close()


@pytest.fixture
def proxied(app):
    """An app on the test's PostgreSQL database through a proxy the test controls."""
    if not app.config["DATABASE_URL"].startswith("postgres"):
        pytest.skip("the proxy stands in front of PostgreSQL")
    proxy = Proxy()
    url = app.config["DATABASE_URL"].replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    proxied_app = create_app({"DATABASE_URL": url, "TESTING": True, "RATE_LIMIT_ENABLED": False, "CURSOR_SECRET": "x"})
    yield proxied_app, proxy
    proxy.close()
    db.bind_database(app.config["DATABASE_URL"])


def assert_outage(response, within, started):
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) >= 1
    assert elapsed < within, f"answered after {elapsed:.1f} s"


@pytest.mark.parametrize("mode", ["down", "stall"])
def test_a_stopped_or_stalled_database_is_a_503_in_bounded_time_and_the_service_recovers(proxied, mode):
    app, proxy = proxied
    client = app.test_client()
    get_ok(client, f"{API}/events?limit=1")
    proxy.cut(mode)
    for url in (f"{API}/events?limit=2", f"{API}/actors/china"):
        started = time.monotonic()
        assert_outage(client.get(url), within=5, started=started)
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert_outage(ready, within=2.5, started=started)
    proxy.restore()
    get_ok(client, f"{API}/events?limit=3")
    assert client.get("/readyz").status_code == 200


def test_a_database_silent_in_the_middle_of_an_open_connection_is_a_503_in_bounded_time(proxied, monkeypatch):
    """A paused server or a network dropping packets: the pooled connection stays open and nothing comes
    back. The wait for an answer is bounded (api.db.PG_STALL_TIMEOUT, shortened here), the request is a
    503, the connection leaves the pool, and the next request after the server is back succeeds."""
    app, proxy = proxied
    monkeypatch.setattr(db, "PG_STALL_TIMEOUT", 1.5)
    client = app.test_client()
    get_ok(client, f"{API}/events?limit=1")  # leaves an open connection in the pool
    proxy.freeze()
    for url in (f"{API}/events?limit=2", f"{API}/claims/factory-produces-lethal-drones"):
        started = time.monotonic()
        # In a thread of its own, so that a request that hangs fails the test instead of holding it.
        with ThreadPoolExecutor(1) as pool:
            answered = pool.submit(client.get, url)
            try:
                response = answered.result(timeout=10)
            except TimeoutError:
                proxy.close()  # frees the stuck request
                pytest.fail("the request was still waiting for PostgreSQL after 10 seconds")
        assert_outage(response, within=5, started=started)
    proxy.restore()
    get_ok(client, f"{API}/events?limit=3")


def test_healthz_answers_without_the_database(app, monkeypatch):
    client = app.test_client()

    def no_database(*args, **kwargs):
        raise AssertionError("/healthz touched the database")

    monkeypatch.setattr(database.obj, "execute_sql", no_database)
    monkeypatch.setattr(database.obj, "connect", no_database)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_a_full_disk_is_a_503_that_writes_nothing_and_passes_when_space_returns(app, tmp_path, monkeypatch):
    """SQLite's page limit stands in for a full disk: the write is refused whole, reads go on, and once
    there is room again the same write succeeds, without a restart."""
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("a page limit stands in for a full disk on SQLite")
    url = f"sqlite:///{tmp_path / 'full.sqlite3'}"
    settings = {"DATABASE_URL": url, "TESTING": True, "RATE_LIMIT_ENABLED": False, "CURSOR_SECRET": "x"}
    app = create_app(settings)
    with app.app_context(), database.connection_context():
        create_tables()
        pages = database.execute_sql("PRAGMA page_count").fetchone()[0]
    key = make_key("writer")
    client = app.test_client()
    body = shipped("sources", id="big-source", reliability_rationale="x" * 15_000)
    monkeypatch.setattr(db, "SQLITE_PRAGMAS", (*db.SQLITE_PRAGMAS, ("max_page_count", pages + 2)))
    full = create_app(settings).test_client()
    started = time.monotonic()
    assert_outage(full.post(f"{API}/sources", json=body, headers=auth(key)), within=12, started=started)
    assert full.get(f"{API}/sources/big-source").status_code == 404
    get_ok(full, f"{API}/sources")
    monkeypatch.undo()
    db.bind_database(url)
    assert client.post(f"{API}/sources", json=body, headers=auth(key)).status_code == 201
