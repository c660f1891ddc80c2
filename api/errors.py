"""Every error the API returns is RFC 9457 problem+json, built here and only here.

Views raise; `problem_response` turns any HTTPException (ours, Flask's 404/405,
webargs' validation errors) into the one error shape.
"""

import logging

import orjson
from flask import Response, current_app, request
from peewee import InterfaceError, OperationalError
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    NotFound,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    RequestURITooLarge,
    ServiceUnavailable,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:eventledger:problem:"
# The server is told to accept request lines of any length so that this limit,
# enforced here, is answered as problem+json like every other error.
MAX_URL_LENGTH = 8192
# Header sizes: the largest a client of this API needs (an API key, an ETag, a cursor in a Link) is well
# under 2 KB; browsers' cookies for a shared domain can grow to several KB.
MAX_HEADER_FIELD_BYTES = 8192
MAX_HEADER_BYTES = 32768
MAX_HEADER_FIELD_READ = 131072  # what `eventledger serve` lets gunicorn read per field, so that 431 is ours
log = logging.getLogger(__name__)


class BadParameter(BadRequest):
    """A request parameter that parsed but cannot be honoured (e.g. a stale cursor)."""

    def __init__(self, parameter, message, location="query"):
        super().__init__(f"Invalid {location} parameter '{parameter}': {message}")
        self.data = {"errors": [{"parameter": parameter, "location": location, "messages": [message]}]}


class RecordNotFound(NotFound):
    def __init__(self, singular, record_id):
        super().__init__(f"No {singular} with id '{record_id}'.")


def _leaf_messages(value):
    if isinstance(value, dict):
        return [message for item in value.values() for message in _leaf_messages(item)]
    if isinstance(value, list):
        return [message for item in value for message in _leaf_messages(item)]
    return [str(value)]


def _parameter_errors(webargs_messages):
    """Flatten webargs' {"query": {"limit": [...], "type": {0: [...]}}} into one entry per parameter."""
    errors = []
    for location, by_parameter in webargs_messages.items():
        if not isinstance(by_parameter, dict):
            # The location failed as a whole (a request body that is not JSON): it is the parameter.
            errors.append({"parameter": location, "location": location, "messages": _leaf_messages(by_parameter)})
            continue
        for parameter, messages in by_parameter.items():
            texts = [
                f"Unknown {location} parameter." if text == "Unknown field." else text
                for text in _leaf_messages(messages)
            ]
            errors.append({"parameter": str(parameter), "location": location, "messages": texts})
    return errors


def _slug(error):
    return error.name.lower().replace(" ", "-").replace("'", "")


# Seconds a client is told to wait when the database is down, stalled past its timeouts, locked or full.
OUTAGE_RETRY_AFTER = 5


def _outage(error):
    """A 503 for a database that cannot answer now (peewee's OperationalError and InterfaceError wrap the
    drivers' own: a refused or lost connection, a timeout, a lock held too long, a full disk)."""
    log.warning("Database unavailable: %s: %s", type(error).__name__, error)
    outage = ServiceUnavailable(
        f"The database cannot answer now ({_outage_reason(error)}); retry after {OUTAGE_RETRY_AFTER} seconds."
    )
    outage.data = {"headers": {"Retry-After": str(OUTAGE_RETRY_AFTER)}}
    return outage


def _outage_reason(error):
    text = str(error).lower()
    if "full" in text:
        return "its disk is full"
    if "locked" in text or "timeout" in text or "timed out" in text:
        return "it is busy or stalled"
    return "it cannot be reached"


def problem_response(error):
    if isinstance(error, OperationalError | InterfaceError):
        error = _outage(error)
    elif not isinstance(error, HTTPException):
        log.exception("Unhandled error", exc_info=error)
        error = InternalServerError()
    body = {
        "type": PROBLEM_TYPE_PREFIX + _slug(error),
        "title": error.name,
        "status": error.code,
        "detail": error.description,
        "instance": request.path,
    }
    data = getattr(error, "data", None) or {}
    if "errors" in data:
        body["errors"] = data["errors"]
    elif "messages" in data:
        body["type"] = PROBLEM_TYPE_PREFIX + "invalid-parameter"
        body["errors"] = _parameter_errors(data["messages"])
        body["detail"] = "; ".join(
            f"Invalid {e['location']} parameter '{e['parameter']}': {' '.join(e['messages'])}" for e in body["errors"]
        )
    if isinstance(error, BadParameter):
        body["type"] = PROBLEM_TYPE_PREFIX + "invalid-parameter"
    response = Response(orjson.dumps(body), status=error.code, mimetype=PROBLEM_MEDIA_TYPE)
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def reject_long_urls():
    if len(request.full_path) > MAX_URL_LENGTH:
        raise RequestURITooLarge(f"The URL is longer than {MAX_URL_LENGTH} characters.")


def reject_large_headers():
    """431 for a header field or a header block larger than any client of this API needs to send.

    `eventledger serve` lets gunicorn read fields up to MAX_HEADER_FIELD_READ bytes, so that this answers
    in problem+json, naming the field; only a field larger still meets gunicorn's own plain-text error.
    """
    total = 0
    for name, value in request.headers.items():
        size = len(name) + len(value)
        total += size
        if size > MAX_HEADER_FIELD_BYTES:
            raise RequestHeaderFieldsTooLarge(
                f"The header '{name[:64]}' is {size:,} bytes; at most {MAX_HEADER_FIELD_BYTES:,} are accepted."
            )
    if total > MAX_HEADER_BYTES:
        raise RequestHeaderFieldsTooLarge(
            f"The request's headers are {total:,} bytes; at most {MAX_HEADER_BYTES:,} are accepted in all."
        )


def _body_too_large(error):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return problem_response(
        RequestEntityTooLarge(f"The request body is larger than {limit:,} bytes (the server's MAX_BODY_BYTES).")
    )


def init_app(app):
    app.before_request(reject_long_urls)
    app.before_request(reject_large_headers)
    app.register_error_handler(RequestEntityTooLarge, _body_too_large)
    app.register_error_handler(HTTPException, problem_response)
    app.register_error_handler(Exception, problem_response)
