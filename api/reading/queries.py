"""A list request's records: the filters, search and scope applied once, then its page, count and walk.

A resource's catalog declaration gives its filters and sort keys; `Listing` turns the parsed query
arguments into the matching records, their order and the walk from a cursor, which a page, an
export, the facets (api/reading/facets.py) and the search's matches (api/reading/search.py) share.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC

import orjson
from peewee import JOIN, Field, Select

from api.catalog.declarations import DateOverlapFilter, RelationFilter, ResourceSpec
from api.db import database
from api.errors import BadParameter
from api.reading.pagination import (
    CursorCodec,
    cursor_values,
    keyset_condition,
    order_by,
    parse_sort,
    sort_signature,
)
from api.reading.search import RELEVANCE, sort_choices, text_search
from api.tables import STORED_JSON
from schemas.query import MAX_CURSOR_LENGTH

# Links and cursors stay short whatever the data: a cursor whose sort-key values would make it longer than
# MAX_CURSOR_LENGTH (a sort by a long title) names its row instead (`Listing.cursor_for`).
BY_REFERENCE = "#row"


def _digest(values):
    return hashlib.sha256(orjson.dumps(values)).hexdigest()[:32]


# A page's SQL by the shape of its statement (see `Listing.compiled_page`); bounded, as shapes come from requests.
_PAGE_STATEMENTS = {}
MAX_PAGE_STATEMENTS = 1024


def filtered(spec, args, search=None):
    """The records matching every filter and `q`; `search` is the listing's own, whose relevance it sorts by."""
    query = spec.model.select()
    for item in spec.filters:
        query = item.apply(query, args, spec)
    if args.get("q"):
        query = (search or text_search(spec, args)).apply(query)
    if "updated_since" in args:
        since = args["updated_since"].astimezone(UTC).replace(tzinfo=None)
        query = query.where(spec.model.updated_at >= since)
    return query


@dataclass(frozen=True)
class RelatedScope:
    """A related list's records (`/actors/{id}/events`): those linked to `record_id` through `relation`,
    the list's own side of the join table."""

    relation: object
    record_id: str

    def condition(self, model):
        return model.id.in_(self.relation.matching([self.record_id]))


class LinkWalk:
    """The records linked to one record, in the order of columns their link rows copy, read from the link table.

    "Events of actor X between two dates, by date" would read every event of X (124,634 of a million for
    the busiest actor) and sort them; the link rows carry the events' dates (api.tables.EventDateCopies),
    and an index (X, date, event) walks them in keyset order and stops after a page. `leading` keeps one
    link per record where a record is linked to X more than once. The count reads the same index.
    """

    def __init__(self, relation, remote_id, attribute=None, attribute_value=None):
        self.relation = relation
        link = relation.join_model
        # A link's attribute (a role) names one link row per record; without it, a record's first link does.
        chosen = (getattr(link, attribute) == attribute_value) if attribute else (link.leading == True)  # noqa: E712
        self.matches = link.select().where((relation.remote_key == remote_id) & chosen)
        self.columns = {"id": relation.local_key, **{name: getattr(link, name) for name in relation.copies}}

    @classmethod
    def for_listing(cls, spec, args, scope, order):
        """The walk that can stand in for the listing's matches, or None.

        It can when a single link (one actor, with at most one role; or the related list's record) and the
        date window choose the records, and the order is by columns the link rows copy, then the id.
        """
        if args.get("q") or "updated_since" in args:
            return None
        constraints, window = [], None
        if scope is not None:
            if not isinstance(scope, RelatedScope):
                return None
            constraints.append((scope.relation, [scope.record_id], None, None))
        for item in spec.filters:
            if isinstance(item, DateOverlapFilter):
                window = item if any(name in args for name in item.parameters) else window
                continue
            if not any(args.get(name) for name in item.parameters):
                continue
            if isinstance(item, RelationFilter):
                values = args.get(item.attribute) if item.attribute else None
                constraints.append((spec.relations[item.relation_name], args.get(item.param), item.attribute, values))
            else:
                return None
        if len(constraints) != 1:
            return None
        relation, remote_ids, attribute, values = constraints[0]
        if not relation.copies or not remote_ids or len(remote_ids) != 1 or (values and len(values) != 1):
            return None
        copied = {spec.model.id.name, *relation.copies}
        if any(key.field.name not in copied for key, _ in order):
            return None
        if window is not None and not {window.start_column.name, window.end_column.name} <= copied:
            return None
        walk = cls(relation, remote_ids[0], attribute if values else None, values[0] if values else None)
        if window is not None:
            columns = walk.columns
            start, end = columns[window.start_column.name], columns[window.end_column.name]
            walk.matches = window.apply_to(walk.matches, args, start, end)
            leading_key, descending = order[0]
            if leading_key.field.name == window.start_column.name:
                # The same window as bounds on the walk's index key, so that it seeks to the window's start.
                key = leading_key.expression(descending, start)
                lowest, highest = window.start_bounds(args)
                if lowest is not None:
                    walk.matches = walk.matches.where(key >= lowest)
                if highest is not None:
                    walk.matches = walk.matches.where(key <= highest)
        return walk


@dataclass
class Page:
    rows: list
    count: int
    next_cursor: str | None


class Listing:
    """One list request's query, built once: the matching records, their order, and the walk from a cursor.

    The filters, `q` (parsed once, into `search`) and a related list's scope make `matches`, which the
    count, the facets and the search's matches read; `query` is the same records after the cursor, which
    a page and an export walk in `order`.
    """

    def __init__(self, spec: ResourceSpec, args, codec: CursorCodec, scope=None):
        self.spec, self.args, self.codec, self.scope = spec, args, codec, scope
        self.search = text_search(spec, args)
        matches = filtered(spec, args, self.search)
        if isinstance(scope, RelatedScope):
            matches = matches.where(scope.condition(spec.model))
        elif scope is not None:
            matches = matches.where(scope)
        self.matches = matches
        sort_keys, default_sort = sort_choices(spec, args, self.search)
        self.order = parse_sort(args.get("sort"), default_sort, sort_keys, spec.model.id)
        self.signature = sort_signature(args.get("sort"), default_sort)
        # A page reads the link walk where one stands in for the matches; facets and exports read `matches`.
        self.walk = LinkWalk.for_listing(spec, args, scope, self.order)
        self.query = self.matches
        self.page_source = self.walk.matches if self.walk else self.matches
        if args.get("cursor"):
            values = self._cursor_values(args["cursor"])
            self.query = self.after(values)
            if self.walk:
                self.page_source = self.walk.matches.where(keyset_condition(self.order, values, self.walk.columns))
            else:
                self.page_source = self.query

    def after(self, values):
        """The rows strictly after the row whose sort-key values are `values`."""
        return self.matches.where(keyset_condition(self.order, values))

    def cursor_for(self, row):
        """The cursor after `row`: its sort-key values, or, when they would make it longer than
        MAX_CURSOR_LENGTH (a sort by a long title), the row's id and a digest of them (`BY_REFERENCE`)."""
        values = cursor_values(self.order, row)
        cursor = self.codec.encode(self.signature, values)
        if len(cursor) <= MAX_CURSOR_LENGTH:
            return cursor
        return self.codec.encode(self.signature + BY_REFERENCE, [row["id"], _digest(values)])

    def _cursor_values(self, cursor):
        if self.codec.made_for(cursor) != self.signature + BY_REFERENCE:
            return self.codec.decode(cursor, self.signature, len(self.order))
        record_id, digest = self.codec.decode(cursor, self.signature + BY_REFERENCE, 2)
        model = self.spec.model
        fields = list(dict.fromkeys([model.id, *(key.field for key, _ in self.order)]))
        row = model.select(*fields).where(model.id == record_id).dicts().first() if isinstance(record_id, str) else None
        values = cursor_values(self.order, row) if row else None
        if values is None or _digest(values) != digest:
            raise BadParameter(
                "cursor",
                "The record this cursor stopped at has changed or gone since; start again from the first page.",
            )
        return values

    def page_query(self, limit):
        """The keyset SELECT of a page: the stored JSON and sort keys of limit + 1 rows after the cursor.

        The rows are chosen and ordered first, by their ids and sort keys alone (which an index often
        covers), and only the page's rows join their JSON: a sort of many matches never carries it.
        """
        model = self.spec.model
        fields = list(dict.fromkeys([model.id, *(key.field for key, _ in self.order)]))
        source = self.walk.columns if self.walk else {field.name: field for field in fields}
        # A walk's columns are the link table's, named as the record's fields; the records' own keep their names.
        selected = [field if source[field.name] is field else source[field.name].alias(field.name) for field in fields]
        ordered = order_by(self.order, source)
        page = self.page_source.select(*selected).order_by(*ordered).limit(limit + 1).alias("page")
        columns = {field.name: page.c[field.name] for field in fields}
        stored = STORED_JSON[model]
        selected = [columns["id"], stored.json.alias("representation"), *(columns[f.name] for f in fields[1:])]
        query = Select([page], selected).join(stored, JOIN.LEFT_OUTER, on=(stored.record == columns["id"]))
        return query.order_by(*order_by(self.order, columns)).bind(database)

    def compiled_page(self, limit):
        """(SQL, parameters) of `page_query`, built by peewee only once per shape of statement.

        Building a page's SELECT costs more than SQLite takes to run it. Every filter is a WHERE
        condition, so the statement of a list without search differs from another only by its WHERE,
        its sort and its limit: the WHERE alone is rendered, for the key and the parameters, and a
        statement first built for that key is kept once its parameters are seen to be exactly those.
        """
        if self.search is not None or self.page_source._joins:
            return self.page_query(limit).sql()
        where = self.page_source._where
        where_sql, where_params = database.get_sql_context().sql(where).query() if where is not None else ("", [])
        key = (type(database.obj), self.spec.name, self.page_source.model, where_sql, self.signature, limit)
        params = [*where_params, limit + 1]
        sql = _PAGE_STATEMENTS.get(key)
        if sql is None:
            sql, built = self.page_query(limit).sql()
            if list(built) != params:
                return sql, built
            if len(_PAGE_STATEMENTS) < MAX_PAGE_STATEMENTS:
                _PAGE_STATEMENTS[key] = sql
        return sql, params

    def page_rows(self, limit):
        """The page's rows (id, representation and sort keys) as dicts of raw values."""
        if ranked := self._first_search_page(limit):
            return ranked
        cursor = database.execute_sql(*self.compiled_page(limit))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _first_search_page(self, limit):
        """A search's first page in relevance order, when the search is all that chooses its records.

        Ranked by the search index alone, with each match's snippet (see `Fts5Search.ranked`), it costs
        one pass over the matches instead of two; None where that shortcut does not apply.
        """
        search = self.search
        plain = not self.args.get("cursor") and self.signature == RELEVANCE and self.query is self.matches
        if not (plain and getattr(search, "ranked", None) and self.matches_by_search_only()):
            return None
        return search.ranked(limit + 1)

    def matches_by_search_only(self):
        return self.scope is None and not any(
            self.args.get(name) for name in (*self.spec.filter_parameters, "updated_since")
        )

    def page(self, limit, count=None):
        """A page's rows, and how many records match whatever page is asked: `count`
        (api/reading/counts.py) keeps that number for every page of the same matches."""
        rows = self.page_rows(limit)
        for key, _ in self.order:  # a subquery's columns come as the database returns them
            if isinstance(key.field, Field):
                for row in rows:
                    row[key.field.name] = key.field.python_value(row[key.field.name])
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = self.cursor_for(rows[-1])
        counted = self.walk.matches if self.walk else self.matches
        if getattr(self.search, "index_matches", None) and self.matches_by_search_only():
            counted = self.search.index_matches()
        return Page(rows, count(counted) if count else counted.count(), next_cursor)
