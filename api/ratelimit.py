"""Rate limits: a budget per API key when a valid one is sent, else per client address.

Every limited response says where its client stands, in the syntax of
draft-ietf-httpapi-ratelimit-headers (-10 and later, structured fields):

    RateLimit-Policy: "address";q=600;w=60     the policy: a quota of q requests per w seconds
    RateLimit: "address";r=599;t=42            r requests left, the window resets in t seconds

and a spent budget is a 429 problem+json with `Retry-After`. The policies are named `address` and `key`.

Windows are fixed, w seconds long, but each client's windows are shifted by a stable hash of its
identity, so that budgets do not all reset on the same second and bring a stampede with them. Knowing
its window from the clock, a request needs one atomic storage call: an INCRBY with EXPIRE in one Lua
script on Redis (shared by every server process, the `limits` library's storage), a locked counter in
memory (one per process, `ProcessCounters`).

A request is charged before its view runs, so concurrent requests cannot overdraw a budget, and a
`304 Not Modified` is refunded once the response is known: polling with If-None-Match costs nothing.
The refund goes to the window that was charged, even if a new one began meanwhile.

If the storage cannot be reached the API serves without limits, logs it, and leaves the storage alone
for a few seconds before trying again: for a public read API, an outage of the limiter should not
become an outage (or a slowdown) of the data.
"""

import ipaddress
import logging
import math
import re
import threading
import time
import zlib
from dataclasses import dataclass

from flask import current_app, g, request
from limits.errors import StorageError
from limits.storage import storage_from_string
from werkzeug.exceptions import TooManyRequests

from api.auth import InvalidKey, authenticate

log = logging.getLogger(__name__)

# Liveness and readiness probes must answer however busy a client is; the docs' page, its assets and
# the OpenAPI document are static files a browser fetches in bursts.
EXEMPT_ENDPOINTS = {"meta.Health", "meta.Ready", "static"}
EXEMPT_BLUEPRINTS = {"docs_assets", "api-docs"}
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd]?)\s*$")
STORAGE_TIMEOUT = 0.5  # seconds: a stalled Redis must not hold every request for long
# After a storage failure, requests go unlimited for this long before the storage is tried again:
# otherwise every request would wait out the timeout (and log it) while Redis is down.
STORAGE_RETRY_AFTER = 5.0


@dataclass(frozen=True)
class Policy:
    name: str
    quota: int
    window: int

    @classmethod
    def parse(cls, name, text):
        """`600/60` (600 requests per 60 seconds); the window may carry a unit: `600/1m`, `10000/1d`, `5/s`."""
        match = RATE_PATTERN.match(text or "")
        if not match:
            raise ValueError(f"rate limit {text!r} is not `<requests>/<seconds>` (e.g. 600/60 or 600/1m)")
        quota, count, unit = match.groups()
        if not (count or unit):
            raise ValueError(f"rate limit {text!r} names no window (e.g. 600/60 or 600/1m)")
        window = int(count or 1) * UNITS[unit]
        if window < 1:
            raise ValueError(f"rate limit {text!r}: the window must be at least one second")
        return cls(name, int(quota), window)

    @property
    def header(self):
        return f'"{self.name}";q={self.quota};w={self.window}'


@dataclass
class Charge:
    """One request's charge against its budget, kept in `g` until the response is known."""

    policy: Policy
    key: str
    used: int
    window_end: float
    retry_after: int | None = None  # set when refused: the header and the problem's detail say the same

    @property
    def remaining(self):
        return max(0, self.policy.quota - self.used)

    def reset(self, now):
        return max(1, math.ceil(self.window_end - now))

    def expiry(self, now):
        # One second of slack keeps the counter alive for a refund arriving just after the window ends.
        return math.ceil(self.window_end - now) + 1


class ProcessCounters:
    """The counters of `memory://`: one process's, behind one lock, each gone once its expiry has passed.

    limits' MemoryStorage expires its counters from a timer thread that it starts again whenever the
    last one has finished, every 10 ms under traffic: a third of the requests started a thread. Here an
    expired counter counts from zero when it is next charged, and expired ones are dropped once a minute.
    """

    PRUNE_EVERY = 60.0

    def __init__(self):
        self._counters = {}  # key: [count, expiry time]
        self._lock = threading.Lock()
        self._next_prune = time.time() + self.PRUNE_EVERY

    def incr(self, key, expiry, amount=1):
        """Add `amount` to the counter of `key`, made to expire `expiry` seconds from now if it is new; its count."""
        now = time.time()
        with self._lock:
            if now >= self._next_prune:
                self._counters = {name: entry for name, entry in self._counters.items() if entry[1] > now}
                self._next_prune = now + self.PRUNE_EVERY
            entry = self._counters.get(key)
            if entry is None or entry[1] <= now:
                entry = self._counters[key] = [0, now + expiry]
            entry[0] += amount
            return entry[0]

    def __len__(self):
        return len(self._counters)


class RateLimiter:
    def __init__(self, config):
        self.policies = {
            "address": Policy.parse("address", config["RATE_LIMIT"]),
            "key": Policy.parse("key", config["RATE_LIMIT_KEY"]),
        }
        uri = config["RATE_LIMIT_STORAGE"]
        options = {"wrap_exceptions": True}
        if uri.split(":", 1)[0].startswith(("redis", "valkey")):
            options.update(
                key_prefix=config["RATE_LIMIT_KEY_PREFIX"],
                socket_timeout=STORAGE_TIMEOUT,
                socket_connect_timeout=STORAGE_TIMEOUT,
            )
        self.storage = ProcessCounters() if uri.split(":", 1)[0] == "memory" else storage_from_string(uri, **options)
        self.storage_down_until = 0.0

    def available(self):
        return time.monotonic() >= self.storage_down_until

    def storage_failed(self, error, doing):
        log.warning(
            "Rate limit storage unavailable (%s), serving without limits for %.0f s: %s",
            doing,
            STORAGE_RETRY_AFTER,
            error,
        )
        self.storage_down_until = time.monotonic() + STORAGE_RETRY_AFTER

    def identity(self):
        """The policy and bucket of this request: its key if it sends a valid one, else its address.

        An invalid or revoked key counts against the address: otherwise inventing keys would mint budgets.
        """
        header = request.headers.get("Authorization")
        if header:
            try:
                key = authenticate(header)
            except InvalidKey:
                pass
            else:
                return self.policies["key"], f"key:{key.prefix}"
        return self.policies["address"], f"address:{client_address()}"

    def charge(self):
        policy, identity = self.identity()
        now = time.time()
        # A stable hash (not Python's salted hash()): every server process must see the same windows.
        phase = zlib.crc32(identity.encode()) % policy.window
        index = math.floor((now + phase) / policy.window)
        window_end = (index + 1) * policy.window - phase
        charge = Charge(policy, f"{policy.name}/{policy.window}/{identity}/{index}", 0, window_end)
        charge.used = self.storage.incr(charge.key, charge.expiry(now))
        return charge

    def refund(self, charge):
        charge.used = self.storage.incr(charge.key, charge.expiry(time.time()), amount=-1)


def client_address():
    """The client's address; an IPv6 client is its /64, since one host commonly holds a whole /64."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _limiter():
    return current_app.extensions.get("eventledger.ratelimiter")


def _exempt():
    if request.method == "OPTIONS":  # CORS preflights are the browser's, sent before the real request
        return True
    return request.endpoint in EXEMPT_ENDPOINTS or request.blueprint in EXEMPT_BLUEPRINTS


def check_rate_limit():
    limiter = _limiter()
    if limiter is None or _exempt() or not limiter.available():
        return
    try:
        charge = limiter.charge()
    except StorageError as error:
        limiter.storage_failed(error, "charge")
        return
    g.rate_limit = charge
    if charge.used > charge.policy.quota:
        charge.retry_after = charge.reset(time.time())
        whose = "API key" if charge.policy.name == "key" else "address"
        error = TooManyRequests(
            f"This {whose} has used its {charge.policy.quota} requests per {charge.policy.window} seconds; "
            f"retry after {charge.retry_after} seconds."
        )
        error.data = {"headers": {"Retry-After": str(charge.retry_after)}}
        raise error


def add_rate_limit_headers(response):
    charge = g.pop("rate_limit", None)
    if charge is None:
        return response
    if response.status_code == 304:
        try:
            _limiter().refund(charge)
        except StorageError as error:
            _limiter().storage_failed(error, "refund of a 304")
    response.headers["RateLimit-Policy"] = charge.policy.header
    reset = charge.retry_after or charge.reset(time.time())
    response.headers["RateLimit"] = f'"{charge.policy.name}";r={charge.remaining};t={reset}'
    return response


def rate_limiting_enabled(config):
    """RATE_LIMIT_ENABLED when set; otherwise on, except in tests (which turn it on where they test it)."""
    setting = config.get("RATE_LIMIT_ENABLED")
    if setting is None:
        return not config.get("TESTING")
    if isinstance(setting, str):
        return setting.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(setting)


def init_app(app):
    if not rate_limiting_enabled(app.config):
        return
    app.extensions["eventledger.ratelimiter"] = RateLimiter(app.config)
    app.before_request(check_rate_limit)
    app.after_request(add_rate_limit_headers)
