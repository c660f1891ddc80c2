"""Rate limits: per API key or per address, RateLimit headers, 429 with Retry-After, free 304s.

Each test makes its own limited app (limits are off in the shared `app` fixture) with tiny budgets and a
fake clock in api.ratelimit, so that windows end exactly when a test says. The HTTP tests run on both
database backends; the Redis tests share one budget between two apps, under a key prefix of their own.
Those skip when no Redis answers at TEST_REDIS_URL, unless REQUIRE_REDIS=1 makes that a failure.
"""

import logging
import os
import re
import threading
import time
import uuid

import pytest

from api import create_app, ratelimit
from api.auth import create_key, revoke_key
from api.db import database
from api.ratelimit import Policy, ProcessCounters

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RATELIMIT = re.compile(r'^"(address|key)";r=(\d+);t=(\d+)$')
EVENTS = "/api/v1/events"


class Clock:
    def __init__(self):
        self.now = time.time()

    def time(self):
        return self.now

    def monotonic(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


@pytest.fixture
def make_app(app, clock):
    """Build apps with rate limits on (3 per minute by address, 5 per key unless told), on the test's fresh database."""
    database_url = app.config["DATABASE_URL"]

    def make(**config):
        settings = {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "RATE_LIMIT_ENABLED": True,
            "RATE_LIMIT": "3/60",
            "RATE_LIMIT_KEY": "5/60",
            **config,
        }
        return create_app(settings)

    yield make
    database.close_all()


@pytest.fixture
def limited(make_app):
    return make_app().test_client()


def new_key(name="bot", scope="read-write"):
    with database.connection_context():
        return create_key(name, scope)[1]


def standing(response):
    """(policy, remaining, reset) from the RateLimit header."""
    match = RATELIMIT.match(response.headers.get("RateLimit", ""))
    assert match, response.headers
    return match.group(1), int(match.group(2)), int(match.group(3))


def spend(client, count, path=EVENTS, **kwargs):
    for _ in range(count):
        assert client.get(path, **kwargs).status_code == 200


def assert_limited(response, policy="address"):
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "urn:eventledger:problem:too-many-requests"
    assert body["status"] == 429
    assert body["instance"] == EVENTS
    name, remaining, reset = standing(response)
    assert (name, remaining) == (policy, 0)
    assert response.headers["Retry-After"] == str(reset)
    assert f"retry after {reset} seconds" in body["detail"]
    return reset


# --- Headers and the 429 -----------------------------------------------------------------------------


def test_each_response_says_the_policy_and_what_is_left(limited):
    first = limited.get(EVENTS)
    assert first.status_code == 200
    assert first.headers["RateLimit-Policy"] == '"address";q=3;w=60'
    name, remaining, reset = standing(first)
    assert (name, remaining) == ("address", 2)
    assert 1 <= reset <= 60
    assert standing(limited.get(EVENTS))[1:] == (1, reset)
    assert standing(limited.get(EVENTS))[1:] == (0, reset)


def test_a_spent_budget_is_a_429_problem_with_retry_after(limited):
    spend(limited, 3)
    reset = assert_limited(limited.get(EVENTS))
    assert "3 requests per 60 seconds" in limited.get(EVENTS).get_json()["detail"]
    assert 1 <= reset <= 60


def test_the_budget_renews_when_the_window_ends(limited, clock):
    spend(limited, 3)
    reset = assert_limited(limited.get(EVENTS))

    clock.advance(reset - 1)
    assert assert_limited(limited.get(EVENTS)) == 1
    clock.advance(1)
    renewed = limited.get(EVENTS)
    assert renewed.status_code == 200
    assert standing(renewed)[1:] == (2, 60)


def test_the_reset_counts_down_with_the_clock(limited, clock):
    _, _, reset = standing(limited.get(EVENTS))
    if reset <= 10:  # this address's window happens to end soon: start at the next one
        clock.advance(reset)
        _, _, reset = standing(limited.get(EVENTS))
    clock.advance(7)
    assert standing(limited.get(EVENTS))[2] == reset - 7


def test_errors_count_and_carry_the_headers(limited):
    missing = limited.get("/api/v1/events/no-such-event")
    assert missing.status_code == 404
    assert standing(missing)[1] == 2
    bad = limited.get("/api/v1/events?limit=0")
    assert bad.status_code == 400
    assert standing(bad)[1] == 1


def test_units_in_the_configured_rate(make_app):
    client = make_app(RATE_LIMIT="100/1h").test_client()
    response = client.get(EVENTS)
    assert response.headers["RateLimit-Policy"] == '"address";q=100;w=3600'
    assert 1 <= standing(response)[2] <= 3600


# --- 304 Not Modified costs nothing --------------------------------------------------------------------


def test_a_304_costs_no_quota(limited):
    etag = limited.get(EVENTS).headers["ETag"]
    for _ in range(10):
        response = limited.get(EVENTS, headers={"If-None-Match": etag})
        assert response.status_code == 304
        assert standing(response)[1] == 2
        assert response.headers["RateLimit-Policy"] == '"address";q=3;w=60'
    assert standing(limited.get(EVENTS))[1] == 1
    stale = limited.get(EVENTS, headers={"If-None-Match": '"r0-stale"'})
    assert stale.status_code == 200
    assert standing(stale)[1] == 0


def test_a_304_of_the_index_costs_no_quota_either(limited):
    etag = limited.get("/api/v1").headers["ETag"]
    for _ in range(5):
        assert limited.get("/api/v1", headers={"If-None-Match": etag}).status_code == 304
    assert standing(limited.get("/api/v1"))[1] == 1


def test_once_spent_even_a_conditional_request_waits(limited):
    """The limiter answers before the view knows whether it would be a 304; polling just has to not spend it."""
    etag = limited.get(EVENTS).headers["ETag"]
    spend(limited, 2)
    assert_limited(limited.get(EVENTS, headers={"If-None-Match": etag}))


# --- Who pays: a key, else the address ---------------------------------------------------------------------


def test_a_valid_key_has_its_own_budget(limited):
    key = new_key()
    spend(limited, 3)
    assert_limited(limited.get(EVENTS))

    keyed = limited.get(EVENTS, headers={"Authorization": f"Bearer {key}"})
    assert keyed.status_code == 200
    assert keyed.headers["RateLimit-Policy"] == '"key";q=5;w=60'
    assert standing(keyed)[:2] == ("key", 4)
    spend(limited, 4, headers={"Authorization": f"Bearer {key}"})
    assert_limited(limited.get(EVENTS, headers={"Authorization": f"Bearer {key}"}), policy="key")


def test_a_key_is_one_budget_from_any_address(limited):
    key = new_key()
    for address in ("10.0.0.1", "10.0.0.2", "192.0.2.7"):
        response = limited.get(
            EVENTS, headers={"Authorization": f"Bearer {key}"}, environ_base={"REMOTE_ADDR": address}
        )
        assert response.status_code == 200
    assert standing(limited.get(EVENTS, headers={"Authorization": f"Bearer {key}"}))[:2] == ("key", 1)
    # ...and using it cost none of those addresses anything.
    assert standing(limited.get(EVENTS, environ_base={"REMOTE_ADDR": "10.0.0.1"}))[:2] == ("address", 2)


def test_two_keys_have_two_budgets(limited):
    first, second = new_key("one"), new_key("two")
    spend(limited, 5, headers={"Authorization": f"Bearer {first}"})
    assert limited.get(EVENTS, headers={"Authorization": f"Bearer {first}"}).status_code == 429
    assert standing(limited.get(EVENTS, headers={"Authorization": f"Bearer {second}"}))[1] == 4


@pytest.mark.parametrize("header", ["Bearer el_00000000_invented", "Bearer nonsense", "Basic dXNlcjpwYXNz"])
def test_an_invalid_key_pays_from_the_address(limited, header):
    """Otherwise inventing keys would mint fresh budgets."""
    spend(limited, 3)
    response = limited.get(EVENTS, headers={"Authorization": header})
    assert_limited(response, policy="address")


def test_a_revoked_key_pays_from_the_address(limited):
    key = new_key()
    assert standing(limited.get(EVENTS, headers={"Authorization": f"Bearer {key}"}))[0] == "key"
    with database.connection_context():
        revoke_key(key.split("_")[1])
    response = limited.get(EVENTS, headers={"Authorization": f"Bearer {key}"})
    assert standing(response)[:2] == ("address", 2)


def test_addresses_have_separate_budgets(limited):
    spend(limited, 3, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert_limited(limited.get(EVENTS, environ_base={"REMOTE_ADDR": "198.51.100.1"}))
    assert standing(limited.get(EVENTS, environ_base={"REMOTE_ADDR": "198.51.100.2"}))[1] == 2


def test_an_ipv6_client_is_its_slash_64(limited):
    spend(limited, 2, environ_base={"REMOTE_ADDR": "2001:db8:1:2::1"})
    spend(limited, 1, environ_base={"REMOTE_ADDR": "2001:db8:1:2::ffff"})
    assert_limited(limited.get(EVENTS, environ_base={"REMOTE_ADDR": "2001:db8:1:2::abcd"}))
    assert standing(limited.get(EVENTS, environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"}))[1] == 2


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(make_app):
    direct = make_app().test_client()
    for forwarded in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        assert direct.get(EVENTS, headers={"X-Forwarded-For": forwarded}).status_code == 200
    assert direct.get(EVENTS, headers={"X-Forwarded-For": "203.0.113.4"}).status_code == 429

    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    spend(proxied, 3, headers={"X-Forwarded-For": "203.0.113.1"})
    assert proxied.get(EVENTS, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    assert standing(proxied.get(EVENTS, headers={"X-Forwarded-For": "203.0.113.2"}))[1] == 2


# --- Exempt -----------------------------------------------------------------------------------------------------


def test_health_docs_and_preflights_are_never_limited(limited):
    spend(limited, 3)
    assert limited.get(EVENTS).status_code == 429
    html = limited.get("/docs")
    assert html.status_code == 200
    assets = re.findall(r"""(?:src|href)\s*=\s*["'](/docs/assets/[^"']+)["']""", html.get_data(as_text=True))
    assert assets
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json", "/docs", *assets):
        for _ in range(3):
            response = limited.get(path)
            response.close()  # the assets are files, streamed: close them unread
            assert response.status_code == 200, path
            assert "RateLimit" not in response.headers, path
    preflight = limited.options(
        EVENTS,
        headers={"Origin": "https://client.example", "Access-Control-Request-Method": "GET"},
    )
    assert 200 <= preflight.status_code < 300
    assert "RateLimit" not in preflight.headers


def test_browsers_may_read_the_headers_and_the_429(limited):
    origin = {"Origin": "https://client.example"}
    response = limited.get(EVENTS, headers=origin)
    exposed = {name.strip().lower() for name in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ratelimit", "ratelimit-policy", "retry-after"} <= exposed
    spend(limited, 2)
    refused = limited.get(EVENTS, headers=origin)
    assert refused.status_code == 429
    assert refused.headers["Access-Control-Allow-Origin"] == "*"


# --- Configuration ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quota", "window"),
    [
        ("600/60", 600, 60),
        ("600 / 60", 600, 60),
        ("600/1m", 600, 60),
        ("10000/1d", 10000, 86400),
        ("5/s", 5, 1),
        ("100/2h", 100, 7200),
    ],
)
def test_rates_parse(text, quota, window):
    assert Policy.parse("address", text) == Policy("address", quota, window)


@pytest.mark.parametrize("text", ["600", "600/", "600/0", "many/60", "600/60x", "", "-1/60", "600/1w"])
def test_a_malformed_rate_is_refused_at_start(text, tmp_path):
    with pytest.raises(ValueError, match="rate limit"):
        Policy.parse("address", text)
    with pytest.raises(ValueError, match="rate limit"):
        create_app(
            {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "RATE_LIMIT_ENABLED": True, "RATE_LIMIT": text}
        )


@pytest.mark.parametrize(
    ("config", "enabled"),
    [
        ({"TESTING": True}, False),
        ({"TESTING": True, "RATE_LIMIT_ENABLED": True}, True),
        ({"TESTING": True, "RATE_LIMIT_ENABLED": "1"}, True),
        ({}, True),
        ({"RATE_LIMIT_ENABLED": "0"}, False),
        ({"RATE_LIMIT_ENABLED": "false"}, False),
        ({"RATE_LIMIT_ENABLED": False}, False),
    ],
)
def test_limits_are_on_by_default_except_in_tests(config, enabled, tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "RATE_LIMIT_ENABLED": None, **config})
    assert ("eventledger.ratelimiter" in app.extensions) is enabled


def test_an_unreachable_storage_serves_without_limits(make_app, caplog, clock):
    client = make_app(RATE_LIMIT_STORAGE="redis://127.0.0.1:1/0").test_client()
    with caplog.at_level(logging.WARNING, logger="api.ratelimit"):
        for _ in range(5):
            response = client.get(EVENTS)
            assert response.status_code == 200
            assert "RateLimit" not in response.headers
        # Tried once, then left alone for a while rather than waited for on every request...
        assert [record.getMessage().split(":")[0] for record in caplog.records] == [
            "Rate limit storage unavailable (charge), serving without limits for 5 s"
        ]
        # ...and tried again after it.
        clock.advance(5)
        assert client.get(EVENTS).status_code == 200
        assert len(caplog.records) == 2


# --- Redis: one budget for every server process -----------------------------------------------------------------


@pytest.fixture
def redis_url():
    import redis

    try:
        connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        connection.ping()
        connection.close()
    except Exception as error:  # any failure to reach it is the reason to skip
        reason = f"Redis not reachable at {REDIS_URL}: {error}"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test's own, so parallel runs never share a counter; cleared afterwards."""
    import redis

    prefix = f"eventledger-test-{os.getpid()}-{uuid.uuid4().hex}"
    yield prefix
    connection = redis.Redis.from_url(redis_url)
    keys = list(connection.scan_iter(f"{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


@pytest.fixture
def redis_app(make_app, redis_url, redis_prefix):
    """Apps on the test Redis under the test's prefix."""

    def make(**config):
        return make_app(RATE_LIMIT_STORAGE=redis_url, RATE_LIMIT_KEY_PREFIX=redis_prefix, **config)

    make.prefix = redis_prefix
    return make


def test_two_servers_on_redis_share_one_budget(redis_app):
    first, second = redis_app().test_client(), redis_app().test_client()
    assert standing(first.get(EVENTS))[1] == 2
    assert standing(second.get(EVENTS))[1] == 1
    assert standing(first.get(EVENTS))[1] == 0
    assert_limited(second.get(EVENTS))
    assert_limited(first.get(EVENTS))


def test_redis_refunds_a_304_and_separates_keys(redis_app):
    first, second = redis_app().test_client(), redis_app().test_client()
    etag = first.get(EVENTS).headers["ETag"]
    for client in (first, second, first, second):
        response = client.get(EVENTS, headers={"If-None-Match": etag})
        assert response.status_code == 304
        assert standing(response)[1] == 2
    key = new_key()
    spend(first, 2)
    assert_limited(second.get(EVENTS))
    assert standing(second.get(EVENTS, headers={"Authorization": f"Bearer {key}"}))[:2] == ("key", 4)
    assert standing(first.get(EVENTS, headers={"Authorization": f"Bearer {key}"}))[:2] == ("key", 3)


def test_redis_counters_live_under_the_prefix_and_expire(redis_app):
    import redis

    client = redis_app().test_client()
    _, _, reset = standing(client.get(EVENTS))
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(connection.scan_iter(f"{redis_app.prefix}:*"))
        assert len(keys) == 1
        assert keys[0].decode().startswith(f"{redis_app.prefix}:address/60/address:127.0.0.1/")
        assert int(connection.get(keys[0])) == 1
        # The counter outlives its window by the second of slack a late refund needs.
        assert reset <= connection.ttl(keys[0]) <= reset + 1
    finally:
        connection.close()


def test_another_prefix_is_another_budget(redis_app, make_app, redis_url):
    spend(redis_app().test_client(), 3)
    # Under the fixture's prefix too (it ends with it), so the fixture clears it.
    other = make_app(RATE_LIMIT_STORAGE=redis_url, RATE_LIMIT_KEY_PREFIX=f"{redis_app.prefix}-other").test_client()
    assert standing(other.get(EVENTS))[1] == 2


def test_gunicorn_workers_share_the_redis_budget(redis_url, redis_prefix, tmp_path):
    """`eventledger serve` with two worker processes, configured from the environment: one budget between them."""
    import socket
    import subprocess
    import sys
    import urllib.error
    import urllib.request
    from pathlib import Path

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RATE_LIMIT", "FLASK_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'live.sqlite3'}",
        RATE_LIMIT="6/60",
        RATE_LIMIT_STORAGE=redis_url,
        RATE_LIMIT_KEY_PREFIX=redis_prefix,
    )
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("eventledger")), "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/readyz", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(log_path.read_text(errors="replace"))
                    time.sleep(0.2)
            statuses, remaining = [], []
            for _ in range(8):
                try:
                    with urllib.request.urlopen(f"{base}{EVENTS}", timeout=5) as response:
                        statuses.append(response.status)
                        remaining.append(RATELIMIT.match(response.headers["RateLimit"]).group(2))
                except urllib.error.HTTPError as error:
                    statuses.append(error.code)
                    remaining.append(RATELIMIT.match(error.headers["RateLimit"]).group(2))
                    assert int(error.headers["Retry-After"]) >= 1
                    error.close()
            assert statuses == [200] * 6 + [429] * 2
            assert remaining == ["5", "4", "3", "2", "1", "0", "0", "0"]
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_threads_of_one_worker_all_count_against_the_in_memory_budget(make_app):
    """Eight threads of one gthread worker charging one budget at once: no charge is lost or fails."""
    app = make_app(RATE_LIMIT="100000/60")
    limiter = app.extensions["eventledger.ratelimiter"]
    errors, charges = [], []

    def charge_many():
        try:
            for _ in range(200):
                with app.test_request_context(EVENTS):
                    charges.append(limiter.charge().used)
        except Exception as error:  # noqa: BLE001 - any error fails the test below
            errors.append(error)

    threads = [threading.Thread(target=charge_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(charges) == list(range(1, 1601))


def test_in_memory_counters_expire_and_are_dropped(monkeypatch):
    counters = ProcessCounters()
    clock = [1000.0]
    monkeypatch.setattr("api.ratelimit.time.time", lambda: clock[0])
    counters._next_prune = clock[0] + counters.PRUNE_EVERY
    assert [counters.incr("a", 10) for _ in range(3)] == [1, 2, 3]
    assert counters.incr("b", 100) == 1
    clock[0] += 10  # a's window is over: it counts from zero again, b's goes on
    assert counters.incr("a", 10) == 1
    assert counters.incr("b", 100) == 2
    assert counters.incr("b", 100, amount=-1) == 1
    clock[0] += 200  # past the prune time, both expired: the next charge drops them
    assert counters.incr("c", 10) == 1
    assert len(counters) == 1


def test_behind_a_trusted_tls_proxy_the_urls_the_api_writes_are_https(make_app):
    direct = make_app().test_client()
    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    assert direct.get(f"{EVENTS}?limit=1", headers=headers).get_json()["links"]["self"].startswith("http://")
    assert proxied.get(f"{EVENTS}?limit=1", headers=headers).get_json()["links"]["self"].startswith("https://")
