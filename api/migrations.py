"""Bringing a database up to date: a new database is made whole and stamped with the schema version; an
older one is refused until `eventledger migrate` runs the migrations below it, each once, in order.

Every start then makes sure of what is derived (indexes, search indexes, link copies, stored JSON).
A change to the tables comes with a migration here and a new SCHEMA_VERSION (ARCHITECTURE.md).
"""

from dataclasses import dataclass
from pathlib import Path

import orjson
from peewee import fn
from playhouse.migrate import SchemaMigrator, migrate

from api.catalog import QUOTING_RESOURCES, SPECS, WRITE_ORDER
from api.catalog.representations import refresh_representations
from api.catalog.sources import DocumentText
from api.db import database
from api.reading.search import create_search_indexes
from api.tables import (
    ALL_MODELS,
    JOIN_MODELS,
    RECORD_MODELS,
    STORED_JSON,
    Change,
    ClaimSource,
    DatasetState,
    Source,
    SourceDocument,
    stored_cursor_secret,
)
from api.writing.checks import anchor_excerpts, source_texts
from api.writing.store import stored_inputs
from schemas.records import document_digest

# The schema this code reads and writes. A database records the version it was made or last migrated to
# (`dataset_state.schema_version`); a database of 1.0.0 has none and is version 1.
SCHEMA_VERSION = 3


class SchemaOutdated(RuntimeError):
    """The database's schema is older than this code's: `eventledger migrate` brings it up to date."""

    def __init__(self, found):
        self.found = found
        super().__init__(
            f"The database's schema is version {found}; this eventledger needs version {SCHEMA_VERSION}. "
            "Back it up, then run `eventledger migrate`."
        )


class SchemaTooNew(RuntimeError):
    def __init__(self, found):
        super().__init__(
            f"The database's schema is version {found}, newer than this eventledger's ({SCHEMA_VERSION}): "
            "upgrade eventledger."
        )


def create_tables():
    """Make a new database (every table and index, stamped with the current schema version), or open one of the
    current version; an older one is refused (`SchemaOutdated`) until it is migrated."""
    if not DatasetState.table_exists():
        database.create_tables(ALL_MODELS, safe=True)  # a new database: `schema_version` finds no state row
    found = schema_version()
    if found < SCHEMA_VERSION:
        raise SchemaOutdated(found)
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(found)
    _open()


def _open():
    """What every start makes sure of, whatever wrote the tables: the tables and indexes, the copies kept on
    link rows, the state row and cursor secret, the search indexes, each record's stored JSON."""
    database.create_tables(ALL_MODELS, safe=True)
    _fill_link_copies()
    DatasetState.insert(id=1, revision=0, schema_version=SCHEMA_VERSION).on_conflict_ignore().execute()
    stored_cursor_secret()  # made now, while writes are allowed: a GET reads in a read-only snapshot
    create_search_indexes(SPECS.values())
    refresh_representations()


def schema_version():
    """The version of the database's schema: 1 for a database made by 1.0.0, which did not record one."""
    columns = {column.name for column in database.get_columns(DatasetState._meta.table_name)}
    if "schema_version" not in columns:
        return 1
    row = DatasetState.select(DatasetState.schema_version).where(DatasetState.id == 1).tuples().first()
    if row is None:  # the tables are being made now, by this process or another: a new database
        return SCHEMA_VERSION
    return row[0] or 1


@dataclass(frozen=True)
class Migration:
    version: int  # the schema version it brings a database to
    description: str
    apply: object  # apply(documents_dir): the change, inside the migration's transaction


def _since_1_0(_documents_dir):
    """The columns, tables and indexes of the read path added after 1.0.0 (revisions per resource, stored CSV
    rows, the link rows' date copies, the cursor secret, the schema version), and the copies filled."""
    _add_missing_columns()
    database.create_tables(ALL_MODELS, safe=True)
    _fill_link_copies()


def _provenance(documents_dir):
    """Documents stored in the database, evidence stances, access apart from reliability, excerpts located;
    and the change log's JSON values as JSON."""
    _add_missing_columns()
    database.create_tables(ALL_MODELS, safe=True)
    _store_documents(documents_dir)
    ClaimSource.update(stance="contradicts").where(ClaimSource.stance == "disputes").execute()
    Source.update(access="first_hand").where(Source.reported_in.is_null()).execute()
    Source.update(access="second_hand").where(Source.reported_in.is_null(False)).execute()
    _locate_excerpts()
    _json_values_in_change_log()


def _store_documents(documents_dir):
    """1.0 named each source's text by a file of the shipped documents (`source.document`): store the text."""
    columns = {column.name for column in database.get_columns(Source._meta.table_name)}
    if "document" not in columns:
        return
    table = Source._meta.table_name
    named = database.execute_sql(f'SELECT id, document FROM "{table}" WHERE document IS NOT NULL').fetchall()
    for source_id, file_name in named:
        path = Path(documents_dir) / file_name
        if path.parent != Path(documents_dir) or not path.is_file():
            continue  # the source then reads as holding no document
        text = path.read_text(encoding="utf-8")
        DocumentText.store(source_id, text)
        Source.update(
            document_sha256=document_digest(text),
            document_media_type="text/plain",
            document_characters=len(text),
        ).where(Source.id == source_id).execute()


def _locate_excerpts():
    """Each excerpt's place in its document, as a write finds it (`api.writing.checks.anchor_excerpts`); an
    excerpt that cannot be located once is left unlocated (`target` null), as it was."""
    has_text = {row[0] for row in SourceDocument.select(SourceDocument.source).tuples()}
    sources = [
        {"id": source_id, "document": source_id in has_text, "reported_in": reported_in}
        for source_id, reported_in in Source.select(Source.id, Source.reported_in).tuples()
    ]
    texts, _ = source_texts(sources, lambda holder: SourceDocument.get_by_id(holder["id"]).text)
    for resource in QUOTING_RESOURCES:
        relation = WRITE_ORDER[resource].links["sources"]
        join = relation.join_model
        owner = getattr(join, relation.owner_key)
        ids = [row[0] for row in join.select(owner).distinct().tuples()]
        for start in range(0, len(ids), 500):
            for record_id, record in stored_inputs(resource, ids[start : start + 500]).items():
                anchor_excerpts(resource, record, texts)  # fills in the anchor of each link it locates
                rows = join.select(join.id).where(owner == record_id).order_by(join.position, join.id)
                for row, link in zip(rows, record["sources"], strict=True):
                    if link.get("target_source") is not None:
                        located = {name: link[name] for name in (*relation.computed, "occurrence")}
                        join.update(**located).where(join.id == row.id).execute()


def _json_values_in_change_log():
    """A JSON column's values in the change log (an actor's aliases) as JSON, not the text they were stored as."""
    for resource, spec in SPECS.items():
        for column in spec.json_columns:
            query = Change.select(Change.id, Change.fields).where(
                (Change.resource == resource) & Change.fields.contains(f'"{column}"')
            )
            for change_id, stored in query.tuples():
                changed = orjson.loads(stored)
                values = changed.get(column)
                if not isinstance(values, dict):
                    continue
                decoded = {side: orjson.loads(v) if isinstance(v, str) else v for side, v in values.items()}
                if decoded != values:
                    changed[column] = decoded
                    Change.update(fields=orjson.dumps(changed).decode()).where(Change.id == change_id).execute()


MIGRATIONS = (
    Migration(2, "the read path's columns and tables added after 1.0.0", _since_1_0),
    Migration(3, "provenance: stored documents, evidence stances, access, located excerpts", _provenance),
)


def migrate_database(documents_dir, report=print):
    """Bring the database to SCHEMA_VERSION, one migration at a time, each in a transaction of its own, then open
    it as every start does. Returns the versions (from, to)."""
    if not DatasetState.table_exists():
        create_tables()
        return SCHEMA_VERSION, SCHEMA_VERSION
    found = schema_version()
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(found)
    for step in MIGRATIONS:
        if step.version <= found:
            continue
        with database.atomic():
            step.apply(documents_dir)
            DatasetState.update(schema_version=step.version).where(DatasetState.id == 1).execute()
        report(f"Migrated to schema version {step.version}: {step.description}")
    _open()
    return found, SCHEMA_VERSION


def _add_missing_columns():
    """Columns added after a database was made (`revision`, `resource_revisions`, a stored `csv` row), added
    in place."""
    migrator = SchemaMigrator.from_database(database.obj)
    for model in (*RECORD_MODELS, *STORED_JSON.values(), *JOIN_MODELS, DatasetState):
        if not model.table_exists():
            continue
        present = {column.name for column in database.get_columns(model._meta.table_name)}
        missing = [field for field in model._meta.sorted_fields if field.column_name not in present]
        if missing:
            migrate(*(migrator.add_column(model._meta.table_name, field.column_name, field) for field in missing))


def _fill_link_copies():
    """Fill the owner's copies and `leading` on link rows that lack them (`leading` is NULL): rows of a
    database made before the copies existed, or written by a tool that wrote the table directly."""
    for spec in SPECS.values():
        for relation in spec.links.values():
            if not relation.copies:
                continue
            link, owner = relation.join_model, spec.model
            related = relation.remote_key
            earlier = link.alias("earlier")
            first = earlier.select(fn.MIN(earlier.id)).where(
                (getattr(earlier, relation.owner_key) == relation.local_key)
                & (getattr(earlier, related.name) == related)
            )
            copies = {
                name: owner.select(getattr(owner, name)).where(owner.id == relation.local_key)
                for name in relation.copies
            }
            link.update(**copies, leading=(link.id == first)).where(link.leading.is_null()).execute()
