"""Settings, read from the environment once when the app is created."""

import os
from urllib.parse import urlsplit, urlunsplit

# The dataset's licence: in the OpenAPI info and the data package.
LICENSE = {"name": "CC-BY-4.0", "identifier": "CC-BY-4.0"}


def default_database_url():
    """An embedded SQLite file in the user's data directory ($XDG_DATA_HOME/eventledger, else
    ~/.local/share/eventledger): the same database whichever directory a command is run in."""
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return f"sqlite:///{os.path.join(data_home, 'eventledger', 'eventledger.sqlite3')}"


def display_url(url):
    """A database URL as a command may print it: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class Config:
    # Compression (flask-compress) when the client's Accept-Encoding asks for it: every text the API serves.
    # A streamed export is compressed as it streams, with zstd, br or deflate (gzip cannot be flushed by parts).
    COMPRESS_MIMETYPES = [
        "application/json",
        "application/problem+json",
        "application/ld+json",
        "application/geo+json",
        "application/x-ndjson",
        "application/atom+xml",
        "application/yaml",
        "text/csv",
        "text/plain",
        "text/html",
        "text/css",
        "application/javascript",
    ]
    COMPRESS_ALGORITHM = ["br", "zstd", "gzip", "deflate"]
    COMPRESS_ALGORITHM_STREAMING = ["br", "zstd", "deflate"]
    # The API answers conditional requests itself, before any work (api/web.py `conditional_get`).
    COMPRESS_EVALUATE_CONDITIONAL_REQUEST = False
    DATABASE_URL = os.environ.get("DATABASE_URL") or default_database_url()
    HOST = os.environ.get("HOST", "127.0.0.1")
    # Logs on stderr, each line with its request id: `text` or `json` (one object per line); off in tests,
    # where pytest collects the records itself.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
    LOG_CONFIGURE = os.environ.get("LOG_CONFIGURE", "1") != "0"
    PORT = int(os.environ.get("PORT", "8000"))
    # Comma-separated origins allowed by CORS; "*" (the default) suits a public read API.
    CORS_ORIGINS = [o.strip() for o in os.environ.get("CORS_ORIGINS", "*").split(",") if o.strip()]
    # Signs pagination cursors so a tampered cursor is told apart from a stale one. Unset, the database
    # keeps one made at random (api/tables.py stored_cursor_secret), which every server of it shares.
    # Not Flask's SECRET_KEY: with none set, Flask skips the session machinery on every request.
    CURSOR_SECRET = os.environ.get("CURSOR_SECRET") or None
    CACHE_CONTROL = os.environ.get("CACHE_CONTROL", "public, max-age=60, stale-while-revalidate=300")
    # The changes feed: how many seconds a poller is told to wait (Poll-Interval), and a Cache-Control that
    # lets caches keep a page but has them revalidate it (a cheap 304), so no poller is served a stale end.
    POLL_INTERVAL = int(os.environ.get("POLL_INTERVAL", "60"))
    FEED_CACHE_CONTROL = os.environ.get("FEED_CACHE_CONTROL", "public, no-cache")
    RESPONSE_CACHE_SIZE = int(os.environ.get("RESPONSE_CACHE_SIZE", "2048"))
    COUNT_CACHE_SIZE = int(os.environ.get("COUNT_CACHE_SIZE", "4096"))

    # Rate limits (api/ratelimit.py), as `<requests>/<seconds>` (a unit may follow: 600/1m, 10000/1d).
    # Unset, RATE_LIMIT_ENABLED means on, except under TESTING; "0" turns limiting off.
    RATE_LIMIT_ENABLED = os.environ.get("RATE_LIMIT_ENABLED")
    # A client without a valid API key, by address (IPv6 by /64).
    RATE_LIMIT = os.environ.get("RATE_LIMIT", "600/60")
    # A client sending a valid API key: a budget of its own, whatever address it calls from.
    RATE_LIMIT_KEY = os.environ.get("RATE_LIMIT_KEY", "1200/60")
    # memory:// counts per server process; redis://host:6379/0 shares one budget between all of them.
    RATE_LIMIT_STORAGE = os.environ.get("RATE_LIMIT_STORAGE", "memory://")
    RATE_LIMIT_KEY_PREFIX = os.environ.get("RATE_LIMIT_KEY_PREFIX", "eventledger")
    # Reverse proxies in front of the app whose X-Forwarded-For to trust: without it every client
    # behind a proxy is the proxy's address, and shares one budget.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # The largest request body read (bytes): a bigger one is a 413 before it is read.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_BODY_BYTES", str(1024 * 1024)))

    API_TITLE = "eventledger"
    API_VERSION = "1.1.0"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "api/v1/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"
