"""API keys: who may write. Reads stay public.

A key is shown once, when it is made (`el_<prefix>_<secret>`); the database keeps only its
prefix, to find it, and a SHA-256 of the whole key, to check it. The secret is 32 random
bytes, so a fast hash is enough: there is nothing to guess by brute force.
"""

import hashlib
import hmac
import secrets
from functools import wraps

from flask import g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from api.tables import ApiKey, utc_now

SCOPES = {
    "read-write": "Create, change and delete records and webhook subscriptions.",
    "admin": "Everything read-write may, and manage what other keys made.",
}
SCOPE_RANK = {"read-write": 1, "admin": 2}
KEY_PREFIX = "el"


class InvalidKey(Unauthorized):
    def __init__(self, description):
        super().__init__(description)
        self.data = {"headers": {"WWW-Authenticate": 'Bearer realm="eventledger"'}}


def _digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(name, scope="read-write"):
    """Make a key; returns (ApiKey row, the key itself), which is never stored and cannot be shown again."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}")
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey.create(name=name, prefix=prefix, key_hash=_digest(key), scope=scope, created_at=utc_now())
    return row, key


def revoke_key(prefix):
    """Revoke the key with this prefix; returns how many keys were revoked (0 or 1)."""
    return ApiKey.update(revoked_at=utc_now()).where((ApiKey.prefix == prefix) & ApiKey.revoked_at.is_null()).execute()


def authenticate(header):
    """The live ApiKey an `Authorization: Bearer <key>` header names, else raise a 401."""
    if not header:
        raise InvalidKey("This request changes the dataset: send an API key as `Authorization: Bearer <key>`.")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise InvalidKey("The Authorization header must be `Bearer <key>`.")
    parts = key.split("_", 2)
    row = None
    if len(parts) == 3 and parts[0] == KEY_PREFIX:
        row = ApiKey.get_or_none(ApiKey.prefix == parts[1])
    if row is None or not hmac.compare_digest(row.key_hash, _digest(key)):
        raise InvalidKey("The API key is not valid.")
    if row.revoked_at is not None:
        raise InvalidKey("The API key was revoked.")
    return row


def require_scope(scope="read-write"):
    """A view decorator: a valid key with at least `scope`, else 401 (no or bad key) or 403 (too narrow).

    The key is in `g.api_key` for the view (its `name` is what the change log records as author).
    """

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = authenticate(request.headers.get("Authorization"))
            if SCOPE_RANK[key.scope] < SCOPE_RANK[scope]:
                raise Forbidden(f"This needs a key with the '{scope}' scope; this key has '{key.scope}'.")
            g.api_key = key
            return view(*args, **kwargs)

        return wrapper

    return decorate
