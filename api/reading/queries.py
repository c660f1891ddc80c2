"""All SQL the read API runs is built here: filters, search, sorting and pages.

A resource is described once by a `ResourceSpec` (its model, its relations, its
filters and sort keys); `list_page` turns parsed query arguments into one COUNT
and one keyset-paginated SELECT for any resource.
"""

from dataclasses import dataclass
from datetime import UTC

from api.catalog.declarations import ResourceSpec
from api.reading.pagination import (
    CursorCodec,
    cursor_values,
    keyset_condition,
    order_by,
    parse_sort,
    sort_signature,
)
from api.reading.render import cache_key_columns
from api.reading.search import sort_choices, text_search


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


@dataclass
class Page:
    rows: list
    count: int
    next_cursor: str | None


@dataclass
class Listing:
    """A filtered, ordered query of one resource: what a page and an export both walk."""

    spec: ResourceSpec
    query: object
    order: list
    signature: str

    def columns(self):
        """The narrow select of a page: the renderer's cache keys and the sort keys."""
        return list(dict.fromkeys([*cache_key_columns(self.spec.model), *(key.field for key, _ in self.order)]))

    def after(self, values):
        """The rows strictly after the row whose sort-key values are `values`."""
        return self.query.where(keyset_condition(self.order, values))

    def cursor_for(self, codec, row):
        return codec.encode(self.signature, cursor_values(self.order, row))


def listing(spec, args, codec: CursorCodec, scope=None):
    """The filtered query of `spec` in the asked order, resumed after `cursor` when one is given."""
    search = text_search(spec, args)
    query = filtered(spec, args, search)
    if scope is not None:
        query = query.where(scope)
    sort_keys, default_sort = sort_choices(spec, args, search)
    order = parse_sort(args.get("sort"), default_sort, sort_keys, spec.model.id)
    result = Listing(spec, query, order, sort_signature(args.get("sort"), default_sort))
    if args.get("cursor"):
        result.query = result.after(codec.decode(args["cursor"], result.signature, len(order)))
    return result


def list_page(spec, args, codec: CursorCodec, scope=None):
    """One page of a resource: a COUNT of all matches and a keyset SELECT of limit + 1 rows."""
    walk = listing(spec, args, codec, scope)
    count = filtered_count(spec, args, scope)
    limit = args["limit"]
    rows = list(walk.query.select(*walk.columns()).order_by(*order_by(walk.order)).limit(limit + 1).dicts())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = walk.cursor_for(codec, rows[-1])
    return Page(rows, count, next_cursor)


def filtered_count(spec, args, scope=None):
    """How many records match the filters, whatever page is asked."""
    query = filtered(spec, args)
    if scope is not None:
        query = query.where(scope)
    return query.count()
