"""Request ids and logs: every request has an id (the client's `X-Request-Id`, or one made here), echoed in the
answer and carried by every log line written while it is served; logs are lines of text or, with
LOG_FORMAT=json, one JSON object per line. Access lines are gunicorn's (`ACCESS_LOG`), with the id too.
"""

import logging
import re
import time
import uuid

import orjson
from flask import g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-Id"
# A client's id is kept when it is short and plain (a UUID, a trace id); anything else is replaced, so a log
# line cannot be forged through it.
ACCEPTED_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def current_request_id():
    return g.get("request_id", "-") if has_request_context() else "-"


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request being served (`-` outside one)."""

    def filter(self, record):
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message, and an exception when there is one."""

    converter = time.gmtime  # the time is written with a `Z`

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(log_format="text", level="INFO"):
    """Log to stderr, each line with its request id; replaces the handler an earlier call installed."""
    handler = logging.StreamHandler()
    handler.set_name("eventledger")
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        formatter = JsonFormatter()
    else:
        formatter = logging.Formatter(TEXT_FORMAT)
        formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [existing for existing in root.handlers if existing.get_name() != "eventledger"]
    root.addHandler(handler)
    root.setLevel(level)


def _start_request():
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if ACCEPTED_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


def _finish_request(response):
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    return response


def init_app(app):
    app.before_request(_start_request)
    app.after_request(_finish_request)
    if app.config["LOG_CONFIGURE"]:
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
