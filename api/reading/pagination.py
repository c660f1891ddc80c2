"""Keyset (cursor) pagination, shared by every list.

A cursor carries the sort it was made for and the sort-key values of the last
row returned; the next page starts strictly after that row. Rows inserted
while a client walks the list never shift a page, and no OFFSET is scanned.
Cursors are signed (itsdangerous, HMAC under the app's CURSOR_SECRET) so that a
tampered one is refused with a clear 400; those of eventledger 1.0 are still read.
"""

import base64
import binascii
import hashlib
import hmac

import orjson
from itsdangerous import BadData, URLSafeSerializer

from api.catalog.declarations import SortKey
from api.errors import BadParameter


def parse_sort(requested, default, sort_keys, id_field):
    """Turn ['-date', 'title'] into [(SortKey, descending)], ending with the id as tie-breaker."""
    order = []
    for item in requested or [default]:
        descending = item.startswith("-")
        order.append((sort_keys[item.lstrip("-")], descending))
    if not any(key.field is id_field for key, _ in order):
        order.append((SortKey(id_field), order[-1][1]))
    return order


def sort_signature(requested, default):
    return ",".join(requested or [default])


class CursorCodec:
    """Signs [sort signature, sort-key values] into a URL-safe token; no timestamp, cursors never expire."""

    SALT = "eventledger.cursor"
    NOT_OURS = "Not a cursor this API issued; use `meta.next_cursor` from a previous page."

    # What eventledger 1.0 signed with when CURSOR_SECRET was not set. A 1.0-format cursor under it is still
    # read (a poller's feed position survives the upgrade); no cursor is made with it any more. It can only
    # name a position in a list, which the plain parameters (`before`, `since`) name as well.
    LEGACY_PUBLIC_SECRET = "eventledger-public-cursor-key"

    def __init__(self, secret):
        # orjson keeps the payload compact and round-trips ints, floats, strings and None exactly.
        self._serializer = URLSafeSerializer(secret, salt=self.SALT, serializer=orjson)
        self._version_1_secrets = (secret.encode(), self.LEGACY_PUBLIC_SECRET.encode())

    def encode(self, signature, values):
        token = self._serializer.dumps([signature, values])
        return token.decode("ascii") if isinstance(token, bytes) else token

    def made_for(self, cursor):
        """The sort signature a genuine cursor was made for (it may carry a reference: see `BY_REFERENCE`)."""
        return self._payload(cursor)[0]

    def _payload(self, cursor):
        try:
            payload = self._serializer.loads(cursor) if "." in cursor else self._version_1_payload(cursor)
        except BadData:
            payload = None
        if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str)):
            raise BadParameter("cursor", self.NOT_OURS)
        return payload

    def decode(self, cursor, signature, expected_length):
        made_for, values = self._payload(cursor)
        if not isinstance(values, list) or len(values) != expected_length:
            raise BadParameter("cursor", self.NOT_OURS)
        if made_for != signature:
            raise BadParameter(
                "cursor", f"This cursor was made for sort '{made_for}'; repeat the request with that sort."
            )
        return values

    def _version_1_payload(self, cursor):
        """The payload of a cursor issued by eventledger 1.0, or None.

        Those were one base64url token of a truncated HMAC-SHA256 and the payload, without the `.` of
        itsdangerous's. Pollers keep their changes-feed position (`since`) across upgrades, so they are
        still read, and checked with the same secret; new cursors are all itsdangerous's.
        """
        try:
            token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            return None
        mac, payload = token[:12], token[12:]
        if not any(
            hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()[:12])
            for secret in self._version_1_secrets
        ):
            return None
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None


def keyset_condition(order, values, columns=None):
    """Rows strictly after `values` in `order`; `columns` maps each key's field name to the column that
    stands for it (a link row's copy).

    (a > va) OR (a = va AND b > vb) OR ..., and with it the bound a >= va on the leading
    key alone, which lets both databases start the scan in the index instead of at its head.
    """

    def expression_of(key, descending):
        return key.expression(descending, columns[key.field.name] if columns else None)

    values = [key.restore(value) for (key, _), value in zip(order, values, strict=True)]
    condition = None
    for index, ((key, descending), value) in enumerate(zip(order, values, strict=True)):
        expression = expression_of(key, descending)
        step = expression < value if descending else expression > value
        for (earlier, earlier_desc), earlier_value in zip(order[:index], values[:index], strict=True):
            step &= expression_of(earlier, earlier_desc) == earlier_value
        condition = step if condition is None else condition | step
    (leading, leading_desc), leading_value = order[0], values[0]
    expression = expression_of(leading, leading_desc)
    bound = expression <= leading_value if leading_desc else expression >= leading_value
    return bound & condition


def order_by(order, columns=None):
    """ORDER BY terms of `order`; `columns` maps each key's field name to the column a subquery selected it as."""
    terms = []
    for key, descending in order:
        expression = key.expression(descending, columns[key.field.name] if columns else None)
        terms.append(expression.desc() if descending else expression.asc())
    return terms


def cursor_values(order, row):
    return [key.value(row, desc) for key, desc in order]
