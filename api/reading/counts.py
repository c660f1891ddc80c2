"""Exact counts of list queries, kept until a resource they read changes.

`meta.count` is exact on every page, and a COUNT of every match grows with the data (tens of
milliseconds at a million events, every match ranked for a search). A count depends only on the
query and on the tables it reads, so it is kept per query (the list and the parameters that choose
its records) with the revision of the last change of each resource whose tables the query reads:
every page and cursor of one filter shares it, and a write to one resource keeps the counts of the others.
"""

import threading
from collections import OrderedDict

from peewee import SQL

from api.db import database
from api.reading.search import search_table_name


def tables_by_resource(specs):
    """{resource: the quoted names of the tables it writes}: its own, its owned join tables, its search index."""
    tables = {}
    for name, spec in specs.items():
        owned = [relation.join_model for relation in spec.relations.values() if relation.owned]
        names = [spec.model._meta.table_name, *(model._meta.table_name for model in owned)]
        names.append(search_table_name(spec.model))
        tables[name] = tuple(f'"{table}"' for table in names)
    return tables


class CountCache:
    def __init__(self, specs, max_size):
        self.max_size = max_size
        self._tables = tables_by_resource(specs)
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def count(self, key, query, resource_revisions):
        """The number of rows `query` matches.

        `key` names the matches (the list's path and the parameters that choose its records), so a
        kept count is found without building any SQL; `resource_revisions` are as
        `api.tables.dataset_state` reads them, and a count is kept with those of the resources it read.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is not None:
            read, count = entry
            if all(resource_revisions.get(resource, 0) == revision for resource, revision in read):
                return count
        # The matches' SQL is made once, narrow: the statement that counts, and what says which tables it reads.
        sql, params = query.select(SQL("1")).sql()
        read = tuple(
            (resource, resource_revisions.get(resource, 0))
            for resource, tables in self._tables.items()
            if any(table in sql for table in tables)
        )
        count = database.execute_sql(f"SELECT COUNT(*) FROM ({sql}) AS matches", params).fetchone()[0]
        with self._lock:
            self._entries[key] = (read, count)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)
        return count
