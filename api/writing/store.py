"""A record to its rows and back: the one write path of the seed loader and the write API.

A record arrives as its resource's input schema loads it; its catalog declaration maps it to
its table's columns (`to_columns`) and its owned relations to rows of their join tables.
`write_record` inserts or updates one record with its links and logs the change, inside the
caller's `write_transaction`; `stored_inputs` reads records back in their input form.
"""

import orjson

from api.catalog import WRITE_ORDER
from api.tables import utc_now


def stored_inputs(resource, ids):
    """{id: record} of stored records in their input form (what a fixture or a POST body holds)."""
    spec = WRITE_ORDER[resource]
    rows = list(spec.model.select().where(spec.model.id.in_(list(ids))).dicts()) if ids else []
    links = {name: link.stored([row["id"] for row in rows]) for name, link in spec.links.items()} if rows else {}
    records = {}
    for row in rows:
        record = {"id": row["id"], **spec.to_input(row)}
        for name, link in spec.links.items():
            record[name] = [link.to_input(item) for item in links[name].get(row["id"], [])]
        records[row["id"]] = record
    return records


def record_state(resource, columns, links):
    """What the change log compares and shows: the record's columns, a JSON column as its value (a list, not
    the text it is stored as), and its owned link rows."""
    json_columns = WRITE_ORDER[resource].json_columns
    decoded = {name: orjson.loads(columns[name]) for name in json_columns if isinstance(columns.get(name), str)}
    return {**columns, **decoded, **links}


def stored_state(resource, current, stored_links):
    """`record_state` of a stored row and its stored links."""
    spec = WRITE_ORDER[resource]
    names = spec.to_columns(spec.to_input(current))
    return record_state(
        resource, {key: current[key] for key in names}, {name: stored_links.get(name, []) for name in spec.links}
    )


def write_record(writes, resource, record, current=None, stored_links=None, now=None):
    """Insert `record` (current is None) or update it where it differs; log the change in `writes`.

    `current` is its stored row and `stored_links` {link name: [rows]} its stored links, read by the
    caller (in bulk, when it writes many records). Returns "created", "updated" or "unchanged".
    """
    spec = WRITE_ORDER[resource]
    model = spec.model
    now = now or utc_now()
    columns = spec.to_columns(record)
    wanted_links = {name: [link.to_row(item) for item in record[name]] for name, link in spec.links.items()}
    stored_links = stored_links or {}
    after = record_state(resource, columns, wanted_links)
    if current is None:
        model.insert(
            id=record["id"], created_at=now, updated_at=now, version=1, revision=writes.revision, **columns
        ).execute()
        writes.change(resource, record["id"], "create", 1, None, after, at=now)
        outcome = "created"
    elif any(current[key] != value for key, value in columns.items()) or any(
        stored_links.get(name, []) != rows for name, rows in wanted_links.items()
    ):
        model.update(updated_at=now, version=model.version + 1, revision=writes.revision, **columns).where(
            model.id == record["id"]
        ).execute()
        before = stored_state(resource, current, stored_links)
        writes.change(resource, record["id"], "update", current["version"] + 1, before, after, at=now)
        outcome = "updated"
    else:
        return "unchanged"
    if spec.companion:
        spec.companion.write(record["id"], record, current)
    for name, link in spec.links.items():
        if current is None or stored_links.get(name, []) != wanted_links[name]:
            link.replace(record["id"], wanted_links[name], columns)
        elif any(current[key] != columns[key] for key in link.copies):
            link.copy_owner_columns(record["id"], columns)
    return outcome


def delete_record(writes, resource, current, stored_links):
    """Delete a stored record and its owned links, and log a `delete` whose `from` holds its last values."""
    spec = WRITE_ORDER[resource]
    writes.change(
        resource, current["id"], "delete", current["version"] + 1, stored_state(resource, current, stored_links), None
    )
    # Explicitly rather than by ON DELETE CASCADE alone: a SQLite connection without foreign_keys would keep them.
    for link in spec.links.values():
        link.replace(current["id"], [])
    if spec.companion:
        spec.companion.delete(current["id"])
    spec.model.delete().where(spec.model.id == current["id"]).execute()
