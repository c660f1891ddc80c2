"""The terms the catalog declares a resource in: its sort keys, relations, filters and the resource itself.

These are descriptions, read by every other part: the query layer turns them into SQL, the routes
into endpoints, the writing layer into rows. A filter and a relation also know the one condition
or join they stand for, so that no caller spells it twice.
"""

from dataclasses import dataclass, field
from datetime import datetime

from peewee import SQL, DateTimeField, fn


@dataclass(frozen=True)
class SortKey:
    """A sortable field; `null_low`/`null_high` stand in for NULL so undated rows sort last both ways."""

    field: object
    null_low: object = None
    null_high: object = None

    def expression(self, descending):
        if self.null_low is None:
            return self.field
        # The stand-in is a literal, not a bound parameter, so the expression can match an index.
        return fn.COALESCE(self.field, SQL(f"'{self.null_low if descending else self.null_high}'"))

    def value(self, row, descending):
        value = row[self.field.name]
        if value is None and self.null_low is not None:
            return self.null_low if descending else self.null_high
        if isinstance(value, datetime):
            return value.isoformat()
        return value

    def restore(self, value):
        """Undo `value` for a cursor: timestamps travel as ISO strings."""
        if isinstance(self.field, DateTimeField) and isinstance(value, str):
            return datetime.fromisoformat(value)
        return value


def record_sort_keys(model):
    """The sort keys every resource has: its bookkeeping timestamps and its id."""
    return {"created_at": SortKey(model.created_at), "updated_at": SortKey(model.updated_at), "id": SortKey(model.id)}


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


