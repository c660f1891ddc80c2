"""The terms the catalog declares a resource in: its sort keys, relations, filters and the resource itself.

These are descriptions, read by every other part: the query layer turns them into SQL, the routes
into endpoints, the writing layer into rows. A filter and a relation also know the one condition
or join they stand for, so that no caller spells it twice.
"""

from dataclasses import dataclass, field
from datetime import datetime

from peewee import SQL, DateTimeField, fn

from api.db import padded_ids, select_by_shape
from api.tables import declared_unique_indexes
from schemas.query import (
    ListQueryArgs,
    detail_args,
    facets_param,
    fields_param,
    format_param,
    include_param,
    sort_param,
)
from schemas.writes import patch_schema


@dataclass(frozen=True)
class SortKey:
    """A sortable field; `null_low`/`null_high` stand in for NULL so undated rows sort last both ways."""

    field: object
    null_low: object = None
    null_high: object = None

    def expression(self, descending, column=None):
        """The ORDER BY term of the field, or of `column`, the field as a subquery selected it."""
        column = self.field if column is None else column
        if self.null_low is None:
            return column
        # The stand-in is a literal, not a bound parameter, so the expression can match an index.
        return fn.COALESCE(column, SQL(f"'{self.null_low if descending else self.null_high}'"))

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
    """A join table seen from one side: `local_key` points at us, `remote_key` at the related record.

    An `owned` relation is written with its record: the record's input holds it as a list of links,
    each the related record's id and the `attributes` (or, `bare`, only the id), stored in curated
    order as rows of the join table. A relation seen from the other side is read-only there.
    """

    name: str
    target: str
    join_model: type
    local_key: object
    remote_key: object
    attributes: tuple = ()
    owned: bool = True
    bare: bool = False
    # Columns of the owner copied onto each of its link rows (see api.tables.EventDateCopies).
    copies: tuple = ()
    # Columns of each link worked out when it is written, not sent (an excerpt's place in its document):
    # stored and compared with the attributes, shown in the link as `present` shapes them.
    computed: tuple = ()
    present: object = None

    def links(self, local_ids):
        """Join rows for these records, in curated order: one query whatever the number of ids."""
        local_ids = padded_ids(local_ids)
        if not local_ids:
            return []

        def build():
            columns = [self.local_key.alias("local_id"), self.remote_key.alias("id")]
            columns += [getattr(self.join_model, name) for name in (*self.attributes, *self.computed)]
            query = self.join_model.select(*columns).where(self.local_key.in_(local_ids))
            return query.order_by(self.local_key, self.join_model.position, self.join_model.id)

        rows = select_by_shape(("links", self.join_model, self.local_key.name, len(local_ids)), build, local_ids)
        return [self.present(row) for row in rows] if self.present else rows

    def links_between(self, local_id, remote_ids):
        """The links of one record to some of its related records (a page of a related list), in curated order:
        one query, bounded by the page."""
        remote_ids = padded_ids(remote_ids)
        if not remote_ids or not self.attributes:
            return []

        def build():
            columns = [self.remote_key.alias("id")]
            columns += [getattr(self.join_model, name) for name in (*self.attributes, *self.computed)]
            query = self.join_model.select(*columns).where(
                (self.local_key == local_id) & self.remote_key.in_(remote_ids)
            )
            return query.order_by(self.join_model.position, self.join_model.id)

        shape = ("links between", self.join_model, self.local_key.name, len(remote_ids))
        rows = select_by_shape(shape, build, [local_id, *remote_ids])
        return [self.present(row) for row in rows] if self.present else rows

    def matching(self, remote_ids=None, attribute=None, attribute_values=None):
        """Subquery of local ids related to any of `remote_ids` (optionally with an attribute in values)."""
        query = self.join_model.select(self.local_key)
        if remote_ids:
            query = query.where(self.remote_key.in_(remote_ids))
        if attribute_values:
            query = query.where(getattr(self.join_model, attribute).in_(attribute_values))
        return query

    # --- An owned relation, as its record's input holds it and its join table stores it ---

    @property
    def owner_key(self):
        return self.local_key.name

    @property
    def value_keys(self):
        """The members of one link in the input (and the join table's columns): the related id first."""
        return (self.remote_key.name, *self.attributes)

    @property
    def stored_keys(self):
        """The columns of one link row a write compares and stores: the input's members and the computed ones."""
        return (*self.value_keys, *self.computed)

    @property
    def reference(self):
        return self.remote_key

    @property
    def identity_keys(self):
        """The members that the join table's unique index allows only once per record, or None.

        Read from the table's own unique indexes, so the check before a write and the constraint agree;
        an index that includes `position` lets the same link repeat (a source quoted twice).
        """
        for columns in declared_unique_indexes(self.join_model):
            if "position" not in columns and self.owner_key in columns:
                return tuple(column for column in columns if column != self.owner_key)
        return None

    def to_row(self, link):
        """A link as its row: the input's members, and the computed columns a check filled in (else NULL)."""
        if self.bare:
            return {self.value_keys[0]: link}
        return {key: link.get(key) if key in self.computed else link[key] for key in self.stored_keys}

    def to_input(self, row):
        return row[self.value_keys[0]] if self.bare else dict(row)

    def stored(self, owner_ids):
        """{owner id: [link rows]} in curated order."""
        owner = self.local_key
        columns = [owner.alias("_owner"), *(getattr(self.join_model, key) for key in self.stored_keys)]
        query = self.join_model.select(*columns).where(owner.in_(list(owner_ids))).order_by(self.join_model.position)
        stored = {}
        for row in query.dicts():
            stored.setdefault(row.pop("_owner"), []).append(row)
        return stored

    def replace(self, owner_id, rows, owner_columns=None):
        """Store `rows` as the owner's links, in order; `owner_columns` (the owner's columns as written)
        gives the copies this relation keeps."""
        self.join_model.delete().where(self.local_key == owner_id).execute()
        if not rows:
            return
        copied = {name: owner_columns[name] for name in self.copies}
        related = self.remote_key.name
        seen = set()
        links = []
        for position, row in enumerate(rows):
            leading = {"leading": row[related] not in seen} if self.copies else {}
            seen.add(row[related])
            links.append({self.owner_key: owner_id, "position": position, **row, **copied, **leading})
        self.join_model.insert_many(links).execute()

    def copy_owner_columns(self, owner_id, owner_columns):
        """Bring the copies on the owner's links up to date, when the owner changed but its links did not."""
        if self.copies:
            copied = {name: owner_columns[name] for name in self.copies}
            self.join_model.update(**copied).where(self.local_key == owner_id).execute()


@dataclass(frozen=True)
class FieldFilter:
    """`?param=a,b` keeps rows whose column equals any value; `field` is the query parameter."""

    param: str
    column: object
    field: object
    normalise: object = None

    @property
    def parameters(self):
        return {self.param: self.field}

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
    """`?actor=x&role=y` keeps rows related to x, in role y when both are given, on the same join row.

    `attribute` names a column of the join table and the query parameter that filters on it.
    """

    param: str
    relation_name: str
    field: object
    attribute: str | None = None
    attribute_field: object = None

    @property
    def parameters(self):
        return {self.param: self.field, **({self.attribute: self.attribute_field} if self.attribute else {})}

    def apply(self, query, args, spec):
        remote_ids = args.get(self.param)
        attribute_values = args.get(self.attribute) if self.attribute else None
        if not remote_ids and not attribute_values:
            return query
        relation = spec.relations[self.relation_name]
        return query.where(spec.model.id.in_(relation.matching(remote_ids, self.attribute, attribute_values)))


@dataclass(frozen=True)
class DateOverlapFilter:
    """`date_from`/`date_to` keep rows whose [start, end] range overlaps the asked range."""

    start_column: object
    end_column: object
    from_field: object
    to_field: object

    @property
    def parameters(self):
        return {"date_from": self.from_field, "date_to": self.to_field}

    def apply(self, query, args, _spec):
        return self.apply_to(query, args, self.start_column, self.end_column)

    def apply_to(self, query, args, start_column, end_column):
        """The window over other columns holding the same dates (a link row's copies)."""
        if "date_from" in args:
            query = query.where(end_column >= args["date_from"].start)
        if "date_to" in args:
            query = query.where(start_column <= args["date_to"].end)
        return query

    def start_bounds(self, args):
        """(lowest, highest) start date a record in the window can have, either None when not asked.

        A partial date covers days of one calendar year (schemas/dates.py), so a record that ends on or
        after `date_from` starts on or after the first day of that year: a walk in date order can begin
        there instead of at the first date of all (and stop after `date_to`).
        """
        lowest = args["date_from"].start[:4] + "-01-01" if "date_from" in args else None
        highest = args["date_to"].end if "date_to" in args else None
        return lowest, highest


@dataclass(frozen=True)
class ColumnFacet:
    """`facets=name` groups the records by an expression over their own row.

    `label`, one per group (its MIN), names or spells the value; `join`, a (model, condition)
    left-joined to the records, brings it from another row, as a parent actor's name.
    """

    name: str
    value: object
    label: object = None
    join: tuple | None = None


@dataclass(frozen=True)
class LinkFacet:
    """`facets=name` groups the join rows of the records by the related record (labelled by the
    `label` column of its model) or, with `attribute`, by an attribute of the link (a role)."""

    name: str
    relation_name: str
    label: object = None
    attribute: str | None = None


@dataclass
class ResourceSpec:
    """Everything the API knows about one resource, declared once in its catalog module.

    Reading: the table, the output schema and envelopes, the summary and text columns, the sort keys,
    the filters (each with its query parameter), the facets and the relations. Writing: the input
    schema, `to_columns` and `to_input` (a record to its row and back), `parent_key` (a reference to a
    record of the same resource) and the owned relations. The query parameters of its list and detail,
    and the body of a PATCH, are made from these.
    """

    name: str
    singular: str
    description: str
    model: type
    schema: object
    input_schema: type
    list_schema: type
    detail_schema: type
    summary_fields: tuple
    text_columns: tuple
    sort_keys: dict
    default_sort: str
    to_columns: object
    to_input: object
    filters: tuple = ()
    relations: dict = field(default_factory=dict)
    facets: tuple = ()
    facets_note: str = ""
    parent_key: str | None = None
    export_formats: tuple = ("csv", "ndjson", "json")
    # Columns that hold a JSON document (an actor's aliases): the change log shows their values as JSON.
    json_columns: tuple = ()
    # Rows kept beside the record's own and written with it (a source's document text): an object with
    # `write(record_id, record, current)` and `delete(record_id)`.
    companion: object = None

    def __post_init__(self):
        self.list_args = list_query_args(self)
        self.detail_args = detail_args(self.list_args)
        self.patch_schema = patch_schema(self.input_schema)
        self.facets_by_name = {facet.name: facet for facet in self.facets}
        # The owned relations, in the order the input schema lists them: what a write stores with the record.
        self.links = {
            name: self.relations[name]
            for name in self.input_schema._declared_fields
            if name in self.relations and self.relations[name].owned
        }

    @property
    def filter_parameters(self):
        """The query parameters of the filters, in declaration order."""
        return {name: item for spec_filter in self.filters for name, item in spec_filter.parameters.items()}


def list_query_args(spec):
    """The list's query parameters: the common ones, the filters', then sort, fields, include and facets."""
    return ListQueryArgs.from_dict(
        {
            "format": format_param(list(spec.export_formats)),
            **spec.filter_parameters,
            "sort": sort_param(list(spec.sort_keys), spec.default_sort),
            "fields": fields_param(type(spec.schema)),
            "include": include_param(list(spec.relations)),
            "facets": facets_param([facet.name for facet in spec.facets], spec.facets_note),
        },
        name=f"{spec.singular.title()}QueryArgs",
    )
