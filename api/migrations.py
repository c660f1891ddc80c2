"""Bringing a database up to date: the tables, the columns added since it was made, the search indexes,
and each record's stored JSON."""

from playhouse.migrate import SchemaMigrator, migrate

from api.catalog import SPECS
from api.catalog.representations import refresh_representations
from api.db import database
from api.reading.search import create_search_indexes
from api.tables import ALL_MODELS, RECORD_MODELS, STORED_JSON, DatasetState, stored_cursor_secret


def create_tables():
    """Create what is missing: tables, then the full-text search index of each resource's text columns."""
    database.create_tables(ALL_MODELS, safe=True)
    _add_missing_columns()
    DatasetState.insert(id=1, revision=0).on_conflict_ignore().execute()
    stored_cursor_secret()  # made now, while writes are allowed: a GET reads in a read-only snapshot
    create_search_indexes(SPECS.values())
    refresh_representations()


def _add_missing_columns():
    """Columns added after a database was made (`revision`, `resource_revisions`, a stored `csv` row), added
    in place."""
    migrator = SchemaMigrator.from_database(database.obj)
    for model in (*RECORD_MODELS, *STORED_JSON.values(), DatasetState):
        present = {column.name for column in database.get_columns(model._meta.table_name)}
        missing = [field for field in model._meta.sorted_fields if field.column_name not in present]
        if missing:
            migrate(*(migrator.add_column(model._meta.table_name, field.column_name, field) for field in missing))
