"""Each record's public JSON and CSV row, rendered by its schema when the record is written and stored beside it.

A record's own representation (its fields and the links it owns) changes only when the record
is written. So the write that changes it renders it (`store_representations`, called by the write
transaction before it commits), and every read serves the stored bytes: a cold page in any worker
is one SELECT, with no schema work. The marshmallow schema stays the one definition of the shape;
`representations_fingerprint` names that shape, and a database rendered with another one (an
upgrade that changed a schema) is rendered again when it is opened (`refresh_representations`).
"""

import hashlib
from collections import defaultdict
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import orjson
from peewee import JOIN

from api.catalog import SPECS
from api.catalog.csv_rows import ROW_FORMAT, is_slot, row_template
from api.catalog.csv_rows import columns as csv_columns
from api.db import database
from api.tables import STORED_JSON, DatasetState

BATCH_SIZE = 1000


@cache
def _own_fields_schema(resource):
    spec = SPECS[resource]
    return type(spec.schema)(exclude=tuple(spec.relations))


def render_records(spec, rows):
    """{id: record} of full rows, as their stored JSON holds them: fields dumped by the schema, owned links
    as stored.

    Links ({id, role}) are JSON-ready as the join query returns them; dumping each through its nested
    link schema would only walk every field of the related schema to copy two values. A test holds the
    result equal to the full schema's dump.
    """
    owned = {name: relation for name, relation in spec.relations.items() if relation.owned}
    ids = [row["id"] for row in rows]
    grouped = {name: group_by_record(relation.links(ids)) for name, relation in owned.items()} if ids else {}
    schema = _own_fields_schema(spec.name)
    records = {}
    for row in rows:
        record = schema.dump(row)
        for name in owned:
            record[name] = grouped[name].get(row["id"], [])
        records[row["id"]] = record
    return records


def render_rows(spec, rows):
    """{id: JSON bytes} of full rows (see `render_records`)."""
    return {record_id: orjson.dumps(record) for record_id, record in render_records(spec, rows).items()}


def render_csv_rows(spec, rows):
    """{id: the CSV row kept with the record (`api.catalog.csv_rows.row_template`)} of full rows."""
    return {record_id: row_template(spec, record) for record_id, record in render_records(spec, rows).items()}


def group_by_record(links):
    grouped = defaultdict(list)
    for link in links:
        grouped[link.pop("local_id")].append(link)
    return grouped


def store_representations(resource, ids):
    """Make the stored JSON of these records of `resource` what their rows say now: rendered again, or
    gone with a deleted record. Inside the caller's transaction, or in one transaction per batch."""
    spec = SPECS[resource]
    model, stored = spec.model, STORED_JSON[spec.model]
    ids = list(dict.fromkeys(ids))
    table, param = stored._meta.table_name, database.param
    upsert = (
        f'INSERT INTO "{table}" (id, json, csv) VALUES ({param}, {param}, {param}) '
        "ON CONFLICT (id) DO UPDATE SET json = excluded.json, csv = excluded.csv"
    )
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        with database.atomic():
            rows = list(model.select().where(model.id.in_(batch)).dicts())
            rendered = [
                (record_id, orjson.dumps(record).decode(), row_template(spec, record))
                for record_id, record in render_records(spec, rows).items()
            ]
            database.cursor().executemany(upsert, rendered)
            gone = set(batch) - {row["id"] for row in rows}
            if gone:
                stored.delete().where(stored.record.in_(list(gone))).execute()


def representations_fingerprint():
    """What the stored JSON was rendered with: the package version and each schema's fields and relations."""
    try:
        package = version("eventledger")
    except PackageNotFoundError:  # run from a source tree that was never installed
        package = "source"
    shape = [
        (
            resource,
            sorted((field_name, type(field).__name__) for field_name, field in spec.schema.fields.items()),
            sorted(
                (relation_name, relation.owned, relation.attributes)
                for relation_name, relation in spec.relations.items()
            ),
            [(column.name, is_slot(spec, column)) for column in csv_columns(spec)],
        )
        for resource, spec in SPECS.items()
    ]
    return hashlib.sha256(orjson.dumps([package, ROW_FORMAT, shape])).hexdigest()[:16]


def refresh_representations():
    """Render what a database lacks: every record when its stored JSON has another shape, else the rows
    written without one (by an older version, or by a tool that wrote the tables directly)."""
    fingerprint = representations_fingerprint()
    current = DatasetState.select(DatasetState.representations).where(DatasetState.id == 1).scalar()
    for name, spec in SPECS.items():
        model, stored = spec.model, STORED_JSON[spec.model]
        query = model.select(model.id)
        if current == fingerprint:
            missing = stored.record.is_null() | stored.csv.is_null()
            query = query.join(stored, JOIN.LEFT_OUTER, on=(stored.record == model.id)).where(missing)
        store_representations(name, [row_id for (row_id,) in query.tuples()])
    if current != fingerprint:
        DatasetState.update(representations=fingerprint).where(DatasetState.id == 1).execute()
