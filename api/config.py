"""Settings, read from the environment once when the app is created."""

import os


class Config:
    DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///eventledger.sqlite3")
    HOST = os.environ.get("HOST", "127.0.0.1")
    PORT = int(os.environ.get("PORT", "8000"))
    # Comma-separated origins allowed by CORS; "*" (the default) suits a public read API.
    CORS_ORIGINS = [o.strip() for o in os.environ.get("CORS_ORIGINS", "*").split(",") if o.strip()]
    # Signs pagination cursors so a tampered cursor is told apart from a stale one.
    # Not Flask's SECRET_KEY: with none set, Flask skips the session machinery on every request.
    CURSOR_SECRET = os.environ.get("CURSOR_SECRET", "eventledger-public-cursor-key")
    CACHE_CONTROL = os.environ.get("CACHE_CONTROL", "public, max-age=60, stale-while-revalidate=300")
    # The changes feed: how many seconds a poller is told to wait (Poll-Interval), and a Cache-Control that
    # lets caches keep a page but has them revalidate it (a cheap 304), so no poller is served a stale end.
    POLL_INTERVAL = int(os.environ.get("POLL_INTERVAL", "60"))
    FEED_CACHE_CONTROL = os.environ.get("FEED_CACHE_CONTROL", "public, no-cache")
    RENDER_CACHE_SIZE = int(os.environ.get("RENDER_CACHE_SIZE", "200000"))
    RESPONSE_CACHE_SIZE = int(os.environ.get("RESPONSE_CACHE_SIZE", "2048"))

    API_TITLE = "eventledger"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "api/v1/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"
