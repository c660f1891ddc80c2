"""Where a webhook may be sent: public addresses only, checked when subscribing and again when sending.

A webhook makes the server open connections on a client's behalf, so its URL must not reach the
server's own network: loopback, private, link-local (the cloud metadata address 169.254.169.254),
shared, multicast, reserved and unspecified addresses are refused, in any spelling (`[::1]`,
`::ffff:127.0.0.1`, `2130706433`, `0x7f.1`: each is resolved, and the addresses are what is checked),
and so is a URL with a user name or password. A name is resolved again when a delivery is sent, every
address it resolves to must be allowed, and the connection goes to the address that was checked, so
a name that changes its answer in between (DNS rebinding) gains nothing.

The environment variable `WEBHOOK_ALLOW_PRIVATE_TARGETS=1` lifts the address rule (credentials stay
refused) for local development and the test suite; it is read where it applies, so the API and the
worker of one deployment agree, and never for a server others can reach.
"""

import contextlib
import http.client
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit


def private_targets_allowed():
    return os.environ.get("WEBHOOK_ALLOW_PRIVATE_TARGETS", "0") == "1"


class TargetRefused(ValueError):
    """A URL the server will not send to; the message says why, in words a subscriber can act on."""


class Unresolvable(TargetRefused):
    """A host name that does not resolve (now)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_target(url):
    """The parts of an http(s) URL a delivery needs; refuses credentials and anything but http and https."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"Not a valid URL: {error}.") from error
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Must be an http or https URL.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("Must not carry a user name or password: authenticate the delivery by its signature.")
    if not parts.hostname:
        raise TargetRefused("Must name a host.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def address_refusal(address):
    """Why `address` (text) may not be sent to, or None when it is a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return address_refusal(str(embedded))
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (the cloud metadata service among them)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified or ip.is_reserved:
        return "a reserved address"
    if ip.is_private or not ip.is_global:
        return "a private address"
    return None


def resolve(target, allow_private=None):
    """The addresses `target`'s host resolves to, every one of them allowed; TargetRefused otherwise."""
    allow_private = private_targets_allowed() if allow_private is None else allow_private
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Unresolvable(f"The host name '{target.host}' does not resolve.") from error
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise Unresolvable(f"The host name '{target.host}' does not resolve.")
    if not allow_private:
        for address in addresses:
            reason = address_refusal(address)
            if reason:
                raise TargetRefused(f"The host '{target.host}' is {reason}; webhooks go to public addresses only.")
    return addresses


def check_url(url, allow_private=None):
    """Refuse (TargetRefused) a URL that no delivery may be sent to: one with credentials, an address
    that is not public, or a name that resolves to one. A name that does not resolve yet is accepted:
    every delivery resolves it again and checks what it finds."""
    with contextlib.suppress(Unresolvable):
        resolve(parse_target(url), allow_private)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, while the request names the URL's host."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, body, headers, timeout, allow_private=None):
    """POST `body` to `url` through a checked address; the answer's status code. No redirect is followed:
    a redirect is an answer, not a delivery. Raises TargetRefused, OSError or HTTPException."""
    target = parse_target(url)
    address = resolve(target, allow_private)[0]
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # the body is ignored; a short read lets the connection close cleanly
        return response.status
    finally:
        connection.close()
