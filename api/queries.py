"""All SQL the read API runs is built here: filters, search, sorting and pages.

A resource is described once by a `ResourceSpec` (its model, its relations, its
filters and sort keys); `list_page` turns parsed query arguments into one COUNT
and one keyset-paginated SELECT for any resource.
"""

from dataclasses import dataclass, field
from datetime import UTC

from peewee import fn

from api.pagination import (
    CursorCodec,
    cursor_values,
    keyset_condition,
    order_by,
    parse_sort,
    sort_signature,
)
from api.rendering import cache_key_columns
from api.search import sort_choices, text_search


@dataclass(frozen=True)
class Relation:
    """A join table seen from one side: `local_key` points at us, `remote_key` at the related record."""

    name: str
    target: str
    join_model: type
    local_key: object
    remote_key: object
    attributes: tuple = ()
    owned: bool = True

    def links(self, local_ids):
        """Join rows for these records, in curated order: one query whatever the number of ids."""
        columns = [self.local_key.alias("local_id"), self.remote_key.alias("id")]
        columns += [getattr(self.join_model, name) for name in self.attributes]
        query = (
            self.join_model.select(*columns)
            .where(self.local_key.in_(list(local_ids)))
            .order_by(self.local_key, self.join_model.position, self.join_model.id)
        )
        return list(query.dicts())

    def matching(self, remote_ids=None, attribute=None, attribute_values=None):
        """Subquery of local ids related to any of `remote_ids` (optionally with an attribute in values)."""
        query = self.join_model.select(self.local_key)
        if remote_ids:
            query = query.where(self.remote_key.in_(remote_ids))
        if attribute_values:
            query = query.where(getattr(self.join_model, attribute).in_(attribute_values))
        return query


@dataclass(frozen=True)
class FieldFilter:
    """`?param=a,b` keeps rows whose column equals any value."""

    param: str
    column: object
    normalise: object = None

    def apply(self, query, args, _spec):
        values = args.get(self.param)
        if not values:
            return query
        if self.normalise == "lower":
            return query.where(fn.LOWER(self.column).in_([v.lower() for v in values]))
        if self.normalise == "int":
            return query.where(self.column.in_([int(v) for v in values]))
        return query.where(self.column.in_(values))


@dataclass(frozen=True)
class RelationFilter:
    """`?actor=x&role=y` keeps rows related to x, in role y when both are given, on the same join row."""

    param: str
    relation_name: str
    attribute_param: str | None = None
    attribute: str | None = None

    def apply(self, query, args, spec):
        remote_ids = args.get(self.param)
        attribute_values = args.get(self.attribute_param) if self.attribute_param else None
        if not remote_ids and not attribute_values:
            return query
        relation = spec.relations[self.relation_name]
        return query.where(spec.model.id.in_(relation.matching(remote_ids, self.attribute, attribute_values)))


@dataclass(frozen=True)
class DateOverlapFilter:
    """`date_from`/`date_to` keep rows whose [start, end] range overlaps the asked range."""

    start_column: object
    end_column: object

    def apply(self, query, args, _spec):
        if "date_from" in args:
            query = query.where(self.end_column >= args["date_from"].start)
        if "date_to" in args:
            query = query.where(self.start_column <= args["date_to"].end)
        return query


@dataclass
class ResourceSpec:
    """Everything the generic endpoints need to know about one resource."""

    name: str
    singular: str
    description: str
    model: type
    schema: object
    list_args: type
    list_schema: type
    detail_schema: type
    summary_fields: tuple
    text_columns: tuple
    sort_keys: dict
    default_sort: str
    filters: tuple = ()
    relations: dict = field(default_factory=dict)
    export_formats: tuple = ("csv", "ndjson", "json")


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
