"""Facets: how many records of a filtered list have each value of a field, one GROUP BY per facet.

A facet counts within the list's whole filter (its own filters, `q`, `updated_since` and the
scope of a related list, but not the cursor or the limit), so that the count of a value is
the `meta.count` the list returns with that value added as a filter. A filter on the facet's
own field counts too: `?type=accusation&facets=type` has one value.

Each facet answers `{"values": [{"value", "label"?, "count"}], "truncated", "other_values",
"other_count"}`: values by count, highest first, then by value (null last); at most
FACET_LIMIT of them, with how many values and how many counts were left out. A facet over a
relation (an event's actors, a claim's sources) counts each record once under every related
record it has, so its counts may add up to more than the list's count; it carries the
related record's name or title as `label`.
"""

from dataclasses import dataclass

from peewee import JOIN, SQL, Case, fn

from api.catalog.declarations import RelationFilter
from api.reading.queries import filtered
from api.tables import Actor, Claim, Event, Source
from schemas.query import FACET_LIMIT

# SQL literals rather than bound parameters: PostgreSQL accepts a selected or ordered expression
# only if it is the grouped one, and to it two bound parameters are two different expressions.
_ONE, _FOUR, _SEVEN = SQL("1"), SQL("4"), SQL("7")


def filtered_records(spec, args, scope=None):
    """The list's records whatever the page: its filters, search and related-list scope."""
    query = filtered(spec, args)
    return query if scope is None else query.where(scope)


def _grouped(query, value, count, label=None):
    """The top FACET_LIMIT groups of `query` by `value`, each row also carrying the number of
    groups and the sum of all counts, so that what the cap leaves out costs no second query."""
    columns = [
        value.alias("value"),
        (fn.MIN(label) if label is not None else SQL("NULL")).alias("label"),
        count.alias("count"),
        fn.COUNT(SQL("*")).over().alias("groups"),
        fn.SUM(count).over().alias("total"),
    ]
    null_last = Case(None, [(value.is_null(), _ONE)], SQL("0"))
    return query.select(*columns).group_by(value).order_by(count.desc(), null_last, value).limit(FACET_LIMIT)


@dataclass(frozen=True)
class ColumnFacet:
    """The records grouped by an expression over their own row.

    `label`, one per group (its MIN), names or spells the value; `join`, a (model, condition)
    left-joined to the records, brings it from another row, as a parent actor's name.
    """

    name: str
    value: object
    label: object = None
    join: tuple | None = None

    def query(self, spec, args, scope):
        query = filtered_records(spec, args, scope)
        if self.join:
            query = query.join(self.join[0], JOIN.LEFT_OUTER, on=self.join[1])
        return _grouped(query, self.value, fn.COUNT(spec.model.id), self.label)


@dataclass(frozen=True)
class LinkFacet:
    """The join rows of the filtered records grouped by the related record (labelled by the
    `label` column of its model) or, with `attribute`, by an attribute of the link (a role)."""

    name: str
    relation_name: str
    label: object = None
    attribute: str | None = None

    def query(self, spec, args, scope):
        relation = spec.relations[self.relation_name]
        # Aliased, as the filters' subqueries read the same join table.
        link = relation.join_model.alias("facet_link")
        local_key, remote_key = getattr(link, relation.local_key.name), getattr(link, relation.remote_key.name)
        records = filtered_records(spec, args, scope).select(spec.model.id)
        query = link.select().where(local_key.in_(records))
        query = self._same_link(query, spec, args, link, remote_key)
        if self.attribute:
            value = getattr(link, self.attribute)
        else:
            value = remote_key
            target = self.label.model
            query = query.join(target, on=(remote_key == target.id))
        # A record may be linked to one related record twice (two roles, two excerpts): count it once.
        return _grouped(query, value, fn.COUNT(local_key.distinct()), self.label)

    def _same_link(self, query, spec, args, link, remote_key):
        """`actor` and `role` match on one join row, so each restricts the other's facet to its rows:
        the `role` facet of `?actor=x` counts x's roles, the count `?actor=x&role=r` returns."""
        for item in spec.filters:
            if not isinstance(item, RelationFilter) or item.relation_name != self.relation_name:
                continue
            if not item.attribute_param:
                continue
            if self.attribute and args.get(item.param):
                query = query.where(remote_key.in_(args[item.param]))
            elif not self.attribute and args.get(item.attribute_param):
                query = query.where(getattr(link, item.attribute).in_(args[item.attribute_param]))
        return query


def _by_name(facets_of_resources):
    return {resource: {item.name: item for item in facets} for resource, facets in facets_of_resources.items()}


ParentActor = Actor.alias("parent_actor")

# The facets of each list, by the name `facets=` takes (schemas/query.py lists the same names).
# Event dates: `year` is that of every event whose year is known; `month` that of every event known
# to the month or the day (`XXXX-09` when the year is unstated), and null for a year-precision or
# undated event, which lies in no one month.
FACETS = _by_name(
    {
        "events": (
            ColumnFacet("type", Event.type),
            ColumnFacet("country", Event.country),
            ColumnFacet("date_precision", Event.date_precision),
            ColumnFacet("year", fn.SUBSTR(Event.date_start, _ONE, _FOUR)),
            ColumnFacet(
                "month",
                Case(None, [(Event.date_precision == SQL("'year'"), SQL("NULL"))], fn.SUBSTR(Event.date, _ONE, _SEVEN)),
            ),
            LinkFacet("actor", "actors", label=Actor.name),
            LinkFacet("role", "actors", attribute="role"),
            LinkFacet("source", "sources", label=Source.title),
            LinkFacet("claim", "claims", label=Claim.statement),
        ),
        "claims": (
            ColumnFacet("status", Claim.status),
            ColumnFacet("credibility", Claim.credibility),
            LinkFacet("actor", "actors", label=Actor.name),
            LinkFacet("stance", "actors", attribute="stance"),
            LinkFacet("source", "sources", label=Source.title),
            LinkFacet("event", "events", label=Event.title),
        ),
        "actors": (
            ColumnFacet("kind", Actor.kind),
            ColumnFacet("country", Actor.country),
            ColumnFacet(
                "parent", Actor.parent, label=ParentActor.name, join=(ParentActor, Actor.parent == ParentActor.id)
            ),
            LinkFacet("event", "events", label=Event.title),
            LinkFacet("claim", "claims", label=Claim.statement),
        ),
        "sources": (
            ColumnFacet("type", Source.type),
            ColumnFacet("reliability", Source.reliability),
            # The `publisher` filter ignores case, so the facet does too; the label is one spelling of it.
            ColumnFacet("publisher", fn.LOWER(Source.publisher), label=Source.publisher),
            ColumnFacet("language", Source.language),
            LinkFacet("event", "events", label=Event.title),
            LinkFacet("claim", "claims", label=Claim.statement),
        ),
    }
)


def facet(spec, name, args, scope=None):
    """One facet of the filtered list: a single query."""
    definition = FACETS[spec.name][name]
    rows = list(definition.query(spec, args, scope).dicts())
    fields = ("value", "label", "count") if definition.label is not None else ("value", "count")
    values = [{field: row[field] for field in fields} for row in rows]
    groups = rows[0]["groups"] if rows else 0
    # PostgreSQL sums integers as numeric.
    total = int(rows[0]["total"]) if rows else 0
    return {
        "values": values,
        "truncated": groups > len(rows),
        "other_values": groups - len(rows),
        "other_count": total - sum(entry["count"] for entry in values),
    }


def list_facets(spec, args, scope=None):
    """`{"facets": {name: facet}}` for the facets asked, in the order asked, or {} when none are."""
    names = dict.fromkeys(args.get("facets") or ())
    if not names:
        return {}
    return {"facets": {name: facet(spec, name, args, scope) for name in names}}
