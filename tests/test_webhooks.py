"""Webhooks: subscriptions through the API, deliveries by the worker to a real HTTP receiver."""

import functools
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from api.auth import create_key, revoke_key
from api.changelog import webhooks
from api.changelog.transaction import write_transaction
from api.changelog.webhooks import BACKOFF_BASE, CLAIM_LEASE, MAX_ATTEMPTS, Worker, http_send
from api.db import database
from api.tables import WebhookDelivery

WEBHOOKS = "/api/v1/webhooks"


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST; `fail(n)` makes the next n answer 500."""

    def __init__(self):
        self.received = []
        self.failures_left = 0
        self.delay = 0
        self.garbage = False
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.garbage:
                    self.wfile.write(b"this is not HTTP\r\n\r\n")
                    self.close_connection = True
                    return
                with receiver.lock:
                    failing = receiver.failures_left > 0
                    receiver.failures_left -= failing
                    receiver.received.append({"headers": dict(self.headers), "body": body, "failed": failing})
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll: shutting down waits for it, once per test.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def fail(self, times):
        self.failures_left = times

    def bodies(self):
        return [json.loads(request["body"]) for request in self.received if not request["failed"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def keys(app):
    """name -> (scope, key) for two read-write keys and an admin."""
    with database.connection_context():
        made = {name: create_key(name, scope)[1] for name, scope in (("alice", "read-write"), ("bob", "read-write"))}
        made["root"] = create_key("root", "admin")[1]
    return made


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def subscribe(client, key, url, **fields):
    response = client.post(WEBHOOKS, json={"url": url, **fields}, headers=auth(key))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


def change(resource, record_id, kind="create", before=None, after=None, version=1, note=None):
    """One change through the change log, as a write endpoint would make it."""
    if after is None and kind != "delete":
        after = {"title": f"{record_id} v{version}"}
    with database.connection_context(), write_transaction("tester", note) as writes:
        return writes.change(resource, record_id, kind, version, before, after).id


class Clock:
    """A worker clock the test moves by hand, so retries are due without sleeping."""

    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def verify_signature(secret, header, body):
    """What a receiver does: recompute the HMAC of "<t>.<body>" and compare in constant time."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


def deliveries(client, key, subscription_id, query=""):
    response = client.get(f"{WEBHOOKS}/{subscription_id}/deliveries{query}", headers=auth(key))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# Subscriptions ------------------------------------------------------------------------------------------------------


def test_a_subscription_shows_its_secret_once(client, keys, receiver):
    response = client.post(
        WEBHOOKS, json={"url": receiver.url, "description": "newsroom alerts"}, headers=auth(keys["alice"])
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    created = response.get_json()["data"]
    assert created["secret"].startswith("whsec_")
    assert created["resources"] == ["events", "actors", "claims", "sources"]
    assert created["kinds"] == ["create", "update", "delete"]
    assert created["description"] == "newsroom alerts"
    assert response.headers["Location"].endswith(f"{WEBHOOKS}/{created['id']}")

    shown = client.get(f"{WEBHOOKS}/{created['id']}", headers=auth(keys["alice"])).get_json()["data"]
    assert shown == {name: value for name, value in created.items() if name != "secret"}
    listed = client.get(WEBHOOKS, headers=auth(keys["alice"])).get_json()["data"]
    assert listed == [shown]


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", ""), ("get", ""), ("get", "/1"), ("delete", "/1"), ("get", "/1/deliveries")],
)
def test_every_webhook_endpoint_needs_a_key(client, method, path):
    response = getattr(client, method)(
        WEBHOOKS + path, json={"url": "http://example.org/"} if method == "post" else None
    )
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    bad = getattr(client, method)(WEBHOOKS + path, headers=auth("el_nothing_here"))
    assert bad.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.org/hook"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": "http://example.org:99999/"}, "url"),
        ({"url": "http://example.org/\x00"}, "url"),
        ({}, "url"),
        ({"url": "https://example.org/", "resources": ["votes"]}, "resources"),
        ({"url": "https://example.org/", "resources": []}, "resources"),
        ({"url": "https://example.org/", "kinds": ["create", "create"]}, "kinds"),
        ({"url": "https://example.org/", "kinds": "create"}, "kinds"),
        ({"url": "https://example.org/", "secret": "mine"}, "secret"),
    ],
)
def test_an_invalid_subscription_is_a_422_naming_the_field(client, keys, body, field):
    response = client.post(WEBHOOKS, json=body, headers=auth(keys["alice"]))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert [(error["parameter"], error["location"]) for error in errors] == [(field, "json")]


# --- targets: nothing inside the server's network ---------------------------------------------------------------

INSIDE = [
    "http://127.0.0.1/hook",
    "http://127.1:8080/hook",
    "http://localhost:5432/",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f.0.0.1/",  # and in hex
    "http://0177.0.0.1/",  # and in octal
    "http://0/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://[fc00::1]/hook",
    "http://[fe80::1]/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 around 127.0.0.1
]


@pytest.fixture
def public_only(monkeypatch):
    """The production rule: webhooks go to public addresses only."""
    monkeypatch.delenv("WEBHOOK_ALLOW_PRIVATE_TARGETS", raising=False)


@pytest.mark.parametrize("url", INSIDE)
def test_a_url_inside_the_servers_network_is_refused(client, keys, public_only, url):
    response = client.post(WEBHOOKS, json={"url": url}, headers=auth(keys["alice"]))
    assert response.status_code == 422, (url, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    (error,) = response.get_json()["errors"]
    assert error["parameter"] == "url" and "public addresses only" in error["messages"][0], error


@pytest.mark.parametrize("url", ["http://user:secret@93.184.216.34/hook", "https://token@hooks.example.com/"])
def test_a_url_with_credentials_is_refused(client, keys, url):
    response = client.post(WEBHOOKS, json={"url": url}, headers=auth(keys["alice"]))
    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["parameter"] == "url" and "user name or password" in error["messages"][0]


@pytest.mark.parametrize(
    "url", ["http://93.184.216.34/hook", "https://[2606:2800:220:1::]/hook", "https://hooks.example.com/"]
)
def test_a_public_address_or_a_name_checked_when_sent_is_accepted(client, keys, public_only, url):
    """A name that does not resolve yet is accepted: each delivery resolves it and checks what it finds."""
    assert subscribe(client, keys["alice"], url)["url"] == url


def test_a_delivery_is_checked_again_when_sent(client, keys, receiver, monkeypatch):
    """Subscribed while private targets were allowed (or a name that resolved elsewhere): the delivery is
    not sent, and the attempt says why in the subscriber's words."""
    subscription = subscribe(client, keys["alice"], receiver.url)
    change("events", "e-1")
    monkeypatch.delenv("WEBHOOK_ALLOW_PRIVATE_TARGETS")
    assert Worker().run_once() == (1, 1)
    assert receiver.received == []
    (delivery,) = deliveries(client, keys["alice"], subscription["id"])["data"]
    (attempt,) = delivery["attempt_log"]
    assert attempt["status_code"] is None
    assert (
        attempt["error"]
        == "Not sent: The host '127.0.0.1' is a loopback address; webhooks go to public addresses only."
    )


def fake_dns(monkeypatch, answers):
    """Make `socket.getaddrinfo` answer `answers` ({name: [address, ...]}) and record every lookup."""
    real, lookups = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answers[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_a_name_that_resolves_inside_when_sent_is_not_sent(client, keys, receiver, monkeypatch, public_only):
    """DNS rebinding: public when subscribed, loopback when sent."""
    answers = {"hooks.rebind.test": ["93.184.216.34"]}
    lookups = fake_dns(monkeypatch, answers)
    port = receiver.server.server_address[1]
    subscription = subscribe(client, keys["alice"], f"http://hooks.rebind.test:{port}/hook")
    change("events", "e-1")
    answers["hooks.rebind.test"] = ["93.184.216.34", "127.0.0.1"]  # one inside address is enough to refuse
    Worker().run_once()
    assert receiver.received == [] and lookups.count("hooks.rebind.test") == 2
    (delivery,) = deliveries(client, keys["alice"], subscription["id"])["data"]
    assert "is a loopback address" in delivery["attempt_log"][0]["error"]


def test_a_delivery_connects_to_the_address_it_checked_and_names_the_host(client, keys, receiver, monkeypatch):
    """The connection goes to the resolved, checked address (the name is not looked up again by the HTTP
    client), and the request still names the subscribed host."""
    lookups = fake_dns(monkeypatch, {"hooks.pinned.test": ["127.0.0.1"]})
    port = receiver.server.server_address[1]
    subscribe(client, keys["alice"], f"http://hooks.pinned.test:{port}/hook?tenant=7")
    change("events", "e-1")
    assert Worker().run_once() == (1, 1)
    (request,) = receiver.received
    assert request["headers"]["Host"] == f"hooks.pinned.test:{port}"
    assert lookups.count("hooks.pinned.test") == 2  # once when subscribing, once when sending


@pytest.mark.parametrize(
    ("data", "content_type", "status", "parameter"),
    [
        ("{not json", "application/json", 400, "json"),
        ('["a list"]', "application/json", 422, "_schema"),
        ("url=http://example.org/", "application/x-www-form-urlencoded", 422, "url"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, keys, data, content_type, status, parameter):
    response = client.post(WEBHOOKS, data=data, headers=auth(keys["alice"]), content_type=content_type)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert [error["parameter"] for error in response.get_json()["errors"]] == [parameter]


def test_keys_see_their_own_subscriptions_and_admin_sees_all(client, keys, receiver):
    mine = subscribe(client, keys["alice"], receiver.url)
    theirs = subscribe(client, keys["bob"], receiver.url + "/bob")
    assert [s["id"] for s in client.get(WEBHOOKS, headers=auth(keys["alice"])).get_json()["data"]] == [mine["id"]]
    assert [s["id"] for s in client.get(WEBHOOKS, headers=auth(keys["root"])).get_json()["data"]] == [
        mine["id"],
        theirs["id"],
    ]
    for path in (f"/{theirs['id']}", f"/{theirs['id']}/deliveries", "/nope", "/0", "/%C2%B2", "/99999999999999999999"):
        response = client.get(WEBHOOKS + path, headers=auth(keys["alice"]))
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
    assert client.delete(f"{WEBHOOKS}/{theirs['id']}", headers=auth(keys["alice"])).status_code == 404
    assert client.get(f"{WEBHOOKS}/{theirs['id']}", headers=auth(keys["root"])).status_code == 200
    # Deliveries are the subscriber's own: the endpoint's answers and timings are nobody else's business.
    assert client.get(f"{WEBHOOKS}/{theirs['id']}/deliveries", headers=auth(keys["root"])).status_code == 404


def test_a_deleted_subscription_is_gone_with_its_queue(client, keys, receiver):
    subscription = subscribe(client, keys["alice"], receiver.url)
    change("events", "e-1")
    with database.connection_context():
        Worker().enqueue()
        assert WebhookDelivery.select().count() == 1
    response = client.delete(f"{WEBHOOKS}/{subscription['id']}", headers=auth(keys["alice"]))
    assert response.status_code == 204
    assert client.get(f"{WEBHOOKS}/{subscription['id']}", headers=auth(keys["alice"])).status_code == 404
    assert Worker().run_once() == (0, 0)
    assert receiver.received == []
    with database.connection_context():
        assert WebhookDelivery.select().count() == 0


# Delivery -----------------------------------------------------------------------------------------------------------


def test_a_change_is_delivered_signed_with_its_fields(client, keys, receiver):
    subscription = subscribe(client, keys["alice"], receiver.url)
    change_id = change(
        "claims", "c-1", "update", before={"status": "alleged"}, after={"status": "confirmed"}, version=2, note="fix"
    )
    assert Worker().run_once() == (1, 1)

    (request,) = receiver.received
    headers, body = request["headers"], request["body"]
    assert headers["Content-Type"] == "application/json"
    assert headers["Eventledger-Event"] == "claims.update"
    assert verify_signature(subscription["secret"], headers["Eventledger-Signature"], body)
    assert not verify_signature("whsec_wrong", headers["Eventledger-Signature"], body)
    payload = json.loads(body)
    assert headers["Eventledger-Delivery"] == str(payload["delivery_id"])
    changed_at = payload.pop("changed_at")
    assert changed_at.endswith("Z")
    assert payload == {
        "id": change_id,
        "resource": "claims",
        "record_id": "c-1",
        "version": 2,
        "kind": "update",
        "author": "tester",
        "note": "fix",
        "fields": {"status": {"from": "alleged", "to": "confirmed"}},
        "subscription_id": subscription["id"],
        "delivery_id": payload["delivery_id"],
    }
    (delivery,) = deliveries(client, keys["alice"], subscription["id"])["data"]
    assert delivery["status"] == "delivered" and delivery["change_id"] == change_id
    assert delivery["event"] == "claims.update" and delivery["next_attempt_at"] is None
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in delivery["attempt_log"]] == [(1, 204, True)]
    # Delivered means done: another pass sends nothing.
    assert Worker().run_once() == (0, 0)


def test_the_worker_command_delivers_what_is_due(client, runner, keys, receiver):
    subscribe(client, keys["alice"], receiver.url)
    change("events", "e-1")
    change("events", "e-1", "update", before={"title": "a"}, after={"title": "b"}, version=2)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert f"Queued 2 deliveries; made 2 attempts ({client.application.config['DATABASE_URL']})." in result.output
    assert [(body["record_id"], body["kind"]) for body in receiver.bodies()] == [("e-1", "create"), ("e-1", "update")]


def test_subscriptions_get_only_their_resources_and_kinds(client, keys, receiver):
    claims_updates = subscribe(client, keys["alice"], receiver.url + "/a", resources=["claims"], kinds=["update"])
    deletes = subscribe(client, keys["bob"], receiver.url + "/b", kinds=["delete"])
    change("events", "e-1")
    change("claims", "c-1")
    updated = change("claims", "c-1", "update", before={"title": "x"}, after={"title": "y"}, version=2)
    deleted = change("events", "e-1", "delete", before={"title": "x"}, version=2)
    Worker().run_once()
    got = {(body["subscription_id"], body["id"]) for body in receiver.bodies()}
    assert got == {(claims_updates["id"], updated), (deletes["id"], deleted)}
    assert len(receiver.received) == 2


def test_a_new_subscription_gets_only_later_changes(client, keys, receiver):
    change("events", "before-1")
    change("actors", "before-2")
    subscribe(client, keys["alice"], receiver.url)
    later = change("events", "after-1")
    Worker().run_once()
    assert [body["id"] for body in receiver.bodies()] == [later]


def test_a_worker_that_was_down_catches_up_in_order(client, keys, receiver):
    subscribe(client, keys["alice"], receiver.url)
    made = [change("events", f"e-{n}") for n in range(12)]
    made += [change("events", f"e-{n}", "update", {"title": "a"}, {"title": "b"}, 2) for n in range(3)]
    queued, attempts = Worker(batch=4).run_once()
    assert (queued, attempts) == (15, 15)
    assert [body["id"] for body in receiver.bodies()] == made


def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_shown(client, keys, receiver, caplog):
    caplog.set_level("INFO", logger="api.changelog.webhooks")
    subscription = subscribe(client, keys["alice"], receiver.url)
    change("sources", "s-1")
    receiver.fail(2)
    clock = Clock()
    worker = Worker(clock=clock)
    assert worker.run_once() == (1, 1)
    (delivery,) = deliveries(client, keys["alice"], subscription["id"])["data"]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    first_retry = delivery["next_attempt_at"]
    # Not due until the backoff (30 s with up to 20 % jitter either way) has passed.
    clock.advance(BACKOFF_BASE * 0.75)
    assert worker.run_once() == (0, 0)
    clock.advance(BACKOFF_BASE * 0.5)
    assert worker.run_once() == (0, 1)
    (delivery,) = deliveries(client, keys["alice"], subscription["id"])["data"]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 2)
    assert delivery["next_attempt_at"] > first_retry
    clock.advance(BACKOFF_BASE * 2 * 1.25)
    assert worker.run_once() == (0, 1)

    (delivery,) = deliveries(client, keys["alice"], subscription["id"])["data"]
    assert delivery["status"] == "delivered" and delivery["next_attempt_at"] is None
    log = [(a["number"], a["status_code"], a["error"], a["succeeded"]) for a in delivery["attempt_log"]]
    assert log == [(1, 500, None, False), (2, 500, None, False), (3, 204, None, True)]
    assert all(a["duration_ms"] >= 0 for a in delivery["attempt_log"])
    # The worker says each attempt in a line of its own.
    lines = [record.getMessage() for record in caplog.records if record.name == "api.changelog.webhooks"]
    assert [line.rsplit(", ", 1)[1] for line in lines] == ["will retry", "will retry", "delivered"]
    assert all(f"webhook delivery {delivery['id']} " in line and receiver.url in line for line in lines)
    assert [" 500 in " in line for line in lines] == [True, True, False] and " 204 in " in lines[2]
    # Each attempt is the same delivery, signed afresh.
    assert len({request["headers"]["Eventledger-Delivery"] for request in receiver.received}) == 1
    assert all(
        verify_signature(subscription["secret"], r["headers"]["Eventledger-Signature"], r["body"])
        for r in receiver.received
    )


def test_an_unreachable_receiver_fails_after_the_last_attempt(client, keys, receiver):
    url = receiver.url
    receiver.close()  # nothing listens on the port any more: every attempt is refused
    subscription = subscribe(client, keys["alice"], url)
    change("events", "e-1")
    clock = Clock()
    worker = Worker(clock=clock)
    for _ in range(MAX_ATTEMPTS + 2):
        worker.run_once()
        clock.advance(7 * 3600)  # past any backoff
    (delivery,) = deliveries(client, keys["alice"], subscription["id"], "?status=failed")["data"]
    assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"]) == ("failed", MAX_ATTEMPTS, None)
    assert [a["number"] for a in delivery["attempt_log"]] == list(range(1, MAX_ATTEMPTS + 1))
    assert all(
        a["status_code"] is None and a["error"] == "Could not connect to the receiver." for a in delivery["attempt_log"]
    )
    assert deliveries(client, keys["alice"], subscription["id"], "?status=pending")["data"] == []


def test_a_slow_receiver_times_out_and_is_retried(client, keys, receiver):
    subscription = subscribe(client, keys["alice"], receiver.url)
    change("events", "e-1")
    receiver.delay = 1
    Worker(send=functools.partial(http_send, timeout=0.2)).run_once()
    (delivery,) = deliveries(client, keys["alice"], subscription["id"])["data"]
    (attempt,) = delivery["attempt_log"]
    assert delivery["status"] == "pending"
    assert (attempt["status_code"], attempt["error"]) == (None, "No answer within 0.2 seconds.")


def test_two_workers_never_send_a_delivery_twice(client, keys, receiver):
    subscribe(client, keys["alice"], receiver.url)
    subscribe(client, keys["bob"], receiver.url + "/b")
    for n in range(15):
        change("events", f"e-{n}")
    barrier = threading.Barrier(2)
    failures = []

    def work():
        try:
            barrier.wait()
            Worker(batch=2).run_once()
        except Exception as error:  # reported below: an exception in a thread would pass unseen
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    sent = [request["headers"]["Eventledger-Delivery"] for request in receiver.received]
    assert len(sent) == 30
    assert len(set(sent)) == 30
    with database.connection_context():
        assert {row.status for row in WebhookDelivery.select()} == {"delivered"}


def test_deliveries_page_newest_first(client, keys, receiver):
    subscription = subscribe(client, keys["alice"], receiver.url)
    made = [change("actors", f"a-{n}") for n in range(5)]
    Worker().run_once()
    first = deliveries(client, keys["alice"], subscription["id"], "?limit=2")
    assert [d["change_id"] for d in first["data"]] == made[:-3:-1]
    assert first["links"]["next"]
    second = deliveries(client, keys["alice"], subscription["id"], f"?limit=2&before={first['meta']['next_before']}")
    assert [d["change_id"] for d in second["data"]] == made[2:0:-1]
    followed = client.get(first["links"]["next"], headers=auth(keys["alice"])).get_json()
    assert "cursor=" in first["links"]["next"] and followed["data"] == second["data"]
    forged = client.get(f"{WEBHOOKS}/{subscription['id']}/deliveries?cursor=forged", headers=auth(keys["alice"]))
    assert forged.status_code == 400 and forged.get_json()["errors"][0]["parameter"] == "cursor"
    for query, parameter in (("limit=0", "limit"), ("before=99999999999", "before"), ("status=sent", "status")):
        response = client.get(f"{WEBHOOKS}/{subscription['id']}/deliveries?{query}", headers=auth(keys["alice"]))
        assert response.status_code == 400
        assert response.get_json()["errors"][0]["parameter"] == parameter


def test_listing_deliveries_takes_a_fixed_number_of_queries(client, keys, receiver, count_queries):
    subscription = subscribe(client, keys["alice"], receiver.url)
    for n in range(6):
        change("events", f"e-{n}")
    receiver.fail(3)
    clock = Clock()
    worker = Worker(clock=clock)
    worker.run_once()
    clock.advance(3600)
    worker.run_once()
    count_queries.queries.clear()
    deliveries(client, keys["alice"], subscription["id"])
    few = count_queries.count
    for n in range(6, 20):
        change("events", f"e-{n}")
    worker.run_once()
    count_queries.queries.clear()
    assert len(deliveries(client, keys["alice"], subscription["id"])["data"]) == 20
    assert count_queries.count == few


def test_a_subscription_deleted_mid_send_records_nothing(client, keys, receiver):
    subscription = subscribe(client, keys["alice"], receiver.url)
    change("events", "e-1")

    statuses = []

    def send_then_unsubscribe(url, body, headers):
        result = http_send(url, body, headers)
        # Another thread, as another process would: the request must not share the worker's connection.
        unsubscribe = threading.Thread(
            target=lambda: statuses.append(
                client.delete(f"{WEBHOOKS}/{subscription['id']}", headers=auth(keys["alice"])).status_code
            )
        )
        unsubscribe.start()
        unsubscribe.join(20)
        return result

    assert Worker(send=send_then_unsubscribe).run_once() == (1, 1)
    assert statuses == [204]
    assert len(receiver.received) == 1
    with database.connection_context():
        assert WebhookDelivery.select().count() == 0


def test_a_revoked_keys_subscriptions_fall_silent(client, keys, receiver):
    subscribe(client, keys["alice"], receiver.url)
    kept = subscribe(client, keys["bob"], receiver.url + "/b")
    change("events", "e-1")
    with database.connection_context():
        revoke_key(keys["alice"].split("_")[1])
    Worker().run_once()
    assert [body["subscription_id"] for body in receiver.bodies()] == [kept["id"]]


def test_the_looping_worker_delivers_until_stopped(client, keys, receiver):
    subscribe(client, keys["alice"], receiver.url)
    worker = Worker()
    thread = threading.Thread(target=worker.run_forever, kwargs={"interval": 0.05})
    thread.start()
    try:
        made = [change("events", f"e-{n}") for n in range(3)]
        deadline = time.monotonic() + 20
        while len(receiver.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(20)
    assert not thread.is_alive()
    assert [body["id"] for body in receiver.bodies()] == made


def test_the_worker_command_stops_cleanly_on_sigterm(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}"}
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "eventledger"), "worker", "--interval", "0.1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout.readline().startswith("Delivering webhooks from sqlite:///")
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "Worker stopped." in output


def test_a_long_outage_is_queued_window_by_window_in_one_pass(client, keys, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "ENQUEUE_WINDOW", 2)
    subscribe(client, keys["alice"], receiver.url)
    made = [change("claims", f"c-{n}") for n in range(7)]
    assert Worker().run_once() == (7, 7)
    assert [body["id"] for body in receiver.bodies()] == made


def test_a_stopped_worker_gives_back_what_it_did_not_try(client, keys, receiver):
    subscribe(client, keys["alice"], receiver.url)
    made = [change("events", f"e-{n}") for n in range(4)]
    worker = Worker(batch=4)

    def send_then_stop(url, body, headers):
        worker.stop()  # as SIGTERM would, while the first of four claimed deliveries is in flight
        return http_send(url, body, headers)

    worker.send = send_then_stop
    assert worker.run_once() == (4, 1)
    with database.connection_context():
        assert [(row.status, row.claim_token) for row in WebhookDelivery.select().order_by(WebhookDelivery.id)] == [
            ("delivered", None),
            *[("pending", None)] * 3,
        ]
    assert Worker().run_once() == (0, 3)
    assert [body["id"] for body in receiver.bodies()] == made


def test_a_receiver_that_answers_garbage_is_an_error_not_a_crash(client, keys, receiver):
    subscription = subscribe(client, keys["alice"], receiver.url)
    change("events", "e-1")
    receiver.garbage = True
    assert Worker().run_once() == (1, 1)
    (delivery,) = deliveries(client, keys["alice"], subscription["id"])["data"]
    (attempt,) = delivery["attempt_log"]
    assert delivery["status"] == "pending"
    assert (attempt["status_code"], attempt["error"]) == (None, "The answer was not valid HTTP.")


def test_deliveries_claimed_by_a_dead_worker_are_sent_once_the_lease_runs_out(client, keys, receiver):
    subscribe(client, keys["alice"], receiver.url)
    change("events", "e-1")
    clock = Clock()
    crashed = Worker(clock=clock)
    with database.connection_context():
        crashed.enqueue()
        assert len(crashed.claim()) == 1  # and then the process died before sending
    survivor = Worker(clock=clock)
    assert survivor.run_once() == (0, 0)
    clock.advance(CLAIM_LEASE.total_seconds() + 1)
    assert survivor.run_once() == (0, 1)
    assert len(receiver.received) == 1
