"""The changes feed's queries and representations: a keyset walk of the Change table, as JSON and as Atom.

A page is `Change.id > position ORDER BY id LIMIT n + 1` on the primary key, so a page costs
the same wherever it is and never needs OFFSET. Because write_transaction serialises writes,
ids become visible in id order: a reader that resumes after the last id it saw cannot skip a
change that commits later (see api/changelog/transaction.py).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import quote
from xml.etree import ElementTree

import orjson
from peewee import fn

from api.errors import BadParameter
from api.tables import Change, DatasetState
from schemas.changes import SINCE_NOW

CURSOR_SIGNATURE = "changes"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
# XML 1.0 cannot carry these at all, not even escaped; a stray one in the data must not break the feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TITLE_VALUE_LENGTH = 60

ElementTree.register_namespace("", ATOM_NAMESPACE)


@dataclass
class FeedPage:
    changes: list
    next_cursor: str
    has_more: bool


def _filtered(query, args):
    if args.get("resource"):
        query = query.where(Change.resource.in_(args["resource"]))
    if args.get("kind"):
        query = query.where(Change.kind.in_(args["kind"]))
    return query


def feed_position(codec, since):
    """The Change id a page starts after: 0 for the start, the newest id for `now`, else the cursor's."""
    if since is None:
        return 0
    if since == SINCE_NOW:
        return Change.select(fn.COALESCE(fn.MAX(Change.id), 0)).scalar()
    try:
        (position,) = codec.decode(since, CURSOR_SIGNATURE, 1)
    except BadParameter:
        position = None
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise BadParameter(
            "since", f"Not a position in this feed; pass `meta.next_cursor` from a previous page, or `{SINCE_NOW}`."
        )
    return position


def feed_page(codec, args):
    """One page of changes after `since`, oldest first; its cursor resumes after it (or where it started)."""
    position = feed_position(codec, args.get("since"))
    limit = args["limit"]
    query = _filtered(Change.select().where(Change.id > position), args).order_by(Change.id).limit(limit + 1)
    rows = list(query.dicts())
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1]["id"] if rows else position
    return FeedPage(rows, codec.encode(CURSOR_SIGNATURE, [last]), has_more)


def latest_changes(args):
    """The newest `limit` changes, newest first (the Atom feed)."""
    return list(_filtered(Change.select(), args).order_by(Change.id.desc()).limit(args["limit"]).dicts())


def dataset_changed_at():
    return DatasetState.select(DatasetState.changed_at).where(DatasetState.id == 1).scalar()


def rfc3339(moment):
    return moment.isoformat(timespec="microseconds") + "Z"


def record_url(root, resource, record_id):
    return f"{root}/{resource}/{quote(record_id, safe='')}"


def change_document(row, root):
    """A Change row as the feed's JSON shows it (schemas.changes.ChangeSchema)."""
    return {
        "id": row["id"],
        "resource": row["resource"],
        "record_id": row["record_id"],
        "version": row["version"],
        "kind": row["kind"],
        "changed_at": rfc3339(row["changed_at"]),
        "author": row["author"],
        "note": row["note"],
        # Stored already as JSON: re-emitted as is instead of being parsed and dumped again.
        "fields": orjson.Fragment(row["fields"]),
        "links": {"record": record_url(root, row["resource"], row["record_id"])},
    }


# --- Atom (RFC 4287) ------------------------------------------------------------


def _singular(resource):
    return resource[:-1]


def _short(value):
    if value is None:
        return "∅"
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    text = " ".join(text.split())
    return text if len(text) <= _TITLE_VALUE_LENGTH else text[: _TITLE_VALUE_LENGTH - 1] + "…"


def _is_scalar(value):
    return value is None or isinstance(value, str | int | float | bool)


def change_title(row, changed):
    """`claim X updated: status alleged → confirmed`: scalar changes with their values, others by name."""
    title = f"{_singular(row['resource'])} {row['record_id']} {row['kind']}d"
    if row["kind"] != "update" or not changed:
        return title
    parts = [
        f"{name} {_short(change['from'])} → {_short(change['to'])}"
        if _is_scalar(change["from"]) and _is_scalar(change["to"])
        else name
        for name, change in changed.items()
    ]
    return f"{title}: {'; '.join(parts)}"


def _full(value):
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _text(element, tag, text=None, **attributes):
    child = ElementTree.SubElement(element, f"{{{ATOM_NAMESPACE}}}{tag}", attributes)
    if text is not None:
        child.text = _NOT_XML.sub("\ufffd", text)
    return child


def atom_feed(rows, self_url, alternate_url, root, updated):
    """The changes as an Atom document; ElementTree escapes every text and attribute."""
    feed = ElementTree.Element(f"{{{ATOM_NAMESPACE}}}feed")
    _text(feed, "id", "urn:eventledger:changes")
    _text(feed, "title", "eventledger: changes to the dataset")
    _text(feed, "updated", rfc3339(rows[0]["changed_at"] if rows else updated or datetime(1970, 1, 1)))
    _text(feed, "link", rel="self", type=ATOM_MEDIA_TYPE, href=self_url)
    _text(feed, "link", rel="alternate", type="application/json", href=alternate_url)
    # RFC 4287 wants a feed-level author unless every entry has one, which an empty feed cannot show.
    _text(_text(feed, "author"), "name", "eventledger")
    _text(feed, "generator", "eventledger")
    for row in rows:
        changed = orjson.loads(row["fields"])
        entry = _text(feed, "entry")
        _text(entry, "id", f"urn:eventledger:change:{row['id']}")
        _text(entry, "title", change_title(row, changed))
        _text(entry, "updated", rfc3339(row["changed_at"]))
        author = _text(entry, "author")
        _text(author, "name", row["author"])
        _text(entry, "link", rel="alternate", href=record_url(root, row["resource"], row["record_id"]))
        _text(entry, "category", term=row["kind"])
        _text(entry, "category", term=row["resource"])
        summary = [f"{row['resource']}/{row['record_id']} version {row['version']}"]
        if row["note"]:
            summary.append(row["note"])
        _text(entry, "summary", " ".join(summary))
        # HTML for readers to render, every value escaped in it: the data can never become markup.
        items = "".join(
            f"<li><strong>{escape(name)}</strong>: {escape(_full(change['from']))} → {escape(_full(change['to']))}</li>"
            for name, change in changed.items()
        )
        _text(entry, "content", f"<ul>{items}</ul>", type="html")
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
