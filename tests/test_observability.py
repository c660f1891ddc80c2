"""Request ids and logs: an id accepted or made, echoed, and carried by every log line; JSON logs on request."""

import logging
import re

import orjson
import pytest

from api import observability


def test_a_request_id_is_made_when_none_is_sent_and_echoed(client):
    response = client.get("/api/v1")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])
    assert client.get("/api/v1").headers["X-Request-Id"] != response.headers["X-Request-Id"]
    assert "X-Request-Id" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("offered", ["3f2b9c1e-4b7a-4c4e-9d1f-0a6b8e2c7d15", "trace.42:span-7"])
def test_a_plain_request_id_is_kept_on_answers_and_errors(client, offered):
    assert client.get("/api/v1", headers={"X-Request-Id": offered}).headers["X-Request-Id"] == offered
    missing = client.get("/api/v1/events/no-such-event", headers={"X-Request-Id": offered})
    assert missing.status_code == 404 and missing.headers["X-Request-Id"] == offered


@pytest.mark.parametrize("offered", ["x" * 129, "two words", "line\\nbreak", "<script>"])
def test_a_request_id_that_could_forge_a_log_line_is_replaced(client, offered):
    echoed = client.get("/api/v1", headers={"X-Request-Id": offered}).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_log_line_carries_the_request_id(app, capsys, log_format):
    observability.configure_logging(log_format, "INFO")
    try:
        with app.test_request_context("/api/v1", headers={"X-Request-Id": "req-123"}):
            observability._start_request()
            logging.getLogger("eventledger.test").warning("inside a request")
        logging.getLogger("eventledger.test").warning("outside any request")
    finally:
        root = logging.getLogger()
        root.handlers = [handler for handler in root.handlers if handler.get_name() != "eventledger"]
    lines = capsys.readouterr().err.strip().splitlines()[-2:]
    if log_format == "json":
        entries = [orjson.loads(line) for line in lines]
        assert [(entry["request_id"], entry["message"], entry["level"]) for entry in entries] == [
            ("req-123", "inside a request", "WARNING"),
            ("-", "outside any request", "WARNING"),
        ]
        assert entries[0]["logger"] == "eventledger.test" and entries[0]["time"].endswith("Z")
    else:
        assert "[req-123] eventledger.test: inside a request" in lines[0]
        assert "[-] eventledger.test: outside any request" in lines[1]
