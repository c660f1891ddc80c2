"""Several servers on one database: two `eventledger serve` processes and two `eventledger worker` processes on
one PostgreSQL and one Redis, as a deployment runs them. A write on one server is read at once on the other,
the rate limit is one budget between them, a cursor of one is good on the other, and no webhook is delivered
twice."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg2
import pytest
from conftest import POSTGRES_URL, free_port
from databases import require_postgres
from test_rate_limits import redis_prefix, redis_url  # noqa: F401 (fixtures)
from test_webhooks import Receiver

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.postgres


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def shared_database():
    """A PostgreSQL schema of its own, as the URL every process is given."""
    require_postgres(POSTGRES_URL)
    schema = f"eventledger_servers_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(POSTGRES_URL)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE SCHEMA {schema}")
    yield f"{POSTGRES_URL}?options=-c%20search_path%3D{schema}"
    admin.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
    admin.close()


@pytest.fixture
def deployment(shared_database, redis_url, redis_prefix, tmp_path):  # noqa: F811
    """Two servers (one seeds the database first, as `eventledger migrate`/`seed` would before a rollout) and two
    webhook workers; yields the servers' base URLs and an API key."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RATE_LIMIT", "FLASK_"))}
    env.update(
        DATABASE_URL=shared_database,
        RATE_LIMIT="40/60",
        RATE_LIMIT_STORAGE=redis_url,
        RATE_LIMIT_KEY_PREFIX=redis_prefix,
        WEBHOOK_ALLOW_PRIVATE_TARGETS="1",
    )
    env.pop("CURSOR_SECRET", None)  # the servers must share the one the database keeps
    processes, servers = [], []
    logs = []

    def start(*args, name):
        log = (tmp_path / f"{name}.log").open("wb")
        logs.append(log)
        process = subprocess.Popen([str(BIN / "eventledger"), *args], env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append((name, process))
        return process

    def wait_ready(base, process, name):
        deadline = time.monotonic() + 60
        while True:
            try:
                if call("GET", f"{base}/readyz")[0] == 200:
                    return
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail((tmp_path / f"{name}.log").read_text(errors="replace"))
            time.sleep(0.2)

    try:
        for name in ("server-a", "server-b"):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            process = start("serve", "--port", str(port), "--workers", "1", "--threads", "4", name=name)
            wait_ready(base, process, name)
            servers.append(base)
        key = subprocess.run(
            [str(BIN / "eventledger"), "keys", "create", "deployer"], env=env, capture_output=True, text=True
        ).stdout.strip()
        for name in ("worker-a", "worker-b"):
            start("worker", "--interval", "0.2", name=name)
        yield servers, key, env
    finally:
        for _name, process in processes:
            process.terminate()
        for _name, process in processes:
            process.wait(timeout=30)
        for log in logs:
            log.close()


def test_two_servers_and_two_workers_on_one_database(deployment):
    (first, second), key, _env = deployment
    headers = {"Authorization": f"Bearer {key}"}

    # A write on one server is what the other answers next, its caches notwithstanding.
    url = "/api/v1/actors/china"
    status, response_headers, body = call("GET", f"{second}{url}")
    assert status == 200
    status, _, _ = call(
        "PATCH",
        f"{first}{url}",
        {"description": "Edited on server A."},
        {**headers, "If-Match": response_headers["ETag"]},
    )
    assert status == 200
    status, _, body = call("GET", f"{second}{url}")
    assert json.loads(body)["data"]["description"] == "Edited on server A."

    # A cursor made by one server is accepted by the other.
    status, _, body = call("GET", f"{first}/api/v1/claims?limit=5")
    cursor = json.loads(body)["meta"]["next_cursor"]
    status, _, body = call("GET", f"{second}/api/v1/claims?limit=5&cursor={cursor}")
    assert status == 200 and len(json.loads(body)["data"]) == 5

    # No webhook is delivered twice, though two workers race for every delivery.
    receiver = Receiver()
    try:
        status, _, body = call(
            "POST", f"{first}/api/v1/webhooks", {"url": receiver.url, "resources": ["actors"]}, headers
        )
        assert status == 201, body
        for n in range(6):
            server = (first, second)[n % 2]
            _, current, _ = call("GET", f"{server}{url}")
            status, _, _ = call(
                "PATCH", f"{server}{url}", {"description": f"Edit {n}."}, {**headers, "If-Match": current["ETag"]}
            )
            assert status == 200
        deadline = time.monotonic() + 30
        while len(receiver.bodies()) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # room for a duplicate to arrive, were there one
        delivered = [body["id"] for body in receiver.bodies()]
        assert len(delivered) == 6 and len(set(delivered)) == 6, delivered
    finally:
        receiver.close()

    # One rate-limit budget between the servers (RATE_LIMIT 40/60 per address, in Redis): 30 requests to each
    # would all pass with a budget per process.
    statuses = [call("GET", f"{(first, second)[n % 2]}/api/v1")[0] for n in range(60)]
    assert set(statuses) == {200, 429} and statuses.count(200) <= 40, statuses
