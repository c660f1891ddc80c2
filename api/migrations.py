"""Bringing a database up to date: the tables, the columns added since it was made, the search indexes,
and each record's stored JSON."""

from peewee import fn
from playhouse.migrate import SchemaMigrator, migrate

from api.catalog import SPECS
from api.catalog.representations import refresh_representations
from api.db import database
from api.reading.search import create_search_indexes
from api.tables import ALL_MODELS, JOIN_MODELS, RECORD_MODELS, STORED_JSON, DatasetState, stored_cursor_secret


def create_tables():
    """Create what is missing: columns of existing tables, tables and indexes, the copies kept on link rows,
    the full-text search index of each resource's text columns, and each record's stored JSON."""
    _add_missing_columns()  # before the indexes, which may read a new column
    database.create_tables(ALL_MODELS, safe=True)
    _fill_link_copies()
    DatasetState.insert(id=1, revision=0).on_conflict_ignore().execute()
    stored_cursor_secret()  # made now, while writes are allowed: a GET reads in a read-only snapshot
    create_search_indexes(SPECS.values())
    refresh_representations()


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
