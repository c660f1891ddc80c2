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

from peewee import JOIN, SQL, Case, fn

from api.catalog.declarations import LinkFacet, RelationFilter
from schemas.query import FACET_LIMIT

# SQL literals rather than bound parameters: PostgreSQL accepts a selected or ordered expression
# only if it is the grouped one, and to it two bound parameters are two different expressions.
_ONE = SQL("1")


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


def _column_facet_query(definition, spec, args, matches):
    query = matches
    if definition.join:
        query = query.join(definition.join[0], JOIN.LEFT_OUTER, on=definition.join[1])
    return _grouped(query, definition.value, fn.COUNT(spec.model.id), definition.label)


def _link_facet_query(definition, spec, args, matches):
    relation = spec.relations[definition.relation_name]
    # Aliased, as the filters' subqueries read the same join table.
    link = relation.join_model.alias("facet_link")
    local_key, remote_key = getattr(link, relation.local_key.name), getattr(link, relation.remote_key.name)
    records = matches.select(spec.model.id)
    query = link.select().where(local_key.in_(records))
    query = _same_link(definition, query, spec, args, link, remote_key)
    if definition.attribute:
        value = getattr(link, definition.attribute)
    else:
        value = remote_key
        target = definition.label.model
        query = query.join(target, on=(remote_key == target.id))
    # A record may be linked to one related record twice (two roles, two excerpts): count it once.
    return _grouped(query, value, fn.COUNT(local_key.distinct()), definition.label)


def _same_link(definition, query, spec, args, link, remote_key):
    """`actor` and `role` match on one join row, so each restricts the other's facet to its rows:
    the `role` facet of `?actor=x` counts x's roles, the count `?actor=x&role=r` returns."""
    for item in spec.filters:
        if not isinstance(item, RelationFilter) or item.relation_name != definition.relation_name:
            continue
        if not item.attribute:
            continue
        if definition.attribute and args.get(item.param):
            query = query.where(remote_key.in_(args[item.param]))
        elif not definition.attribute and args.get(item.attribute):
            query = query.where(getattr(link, item.attribute).in_(args[item.attribute]))
    return query


def facet(listing, name):
    """One facet of the listing's matching records: a single query."""
    spec, args = listing.spec, listing.args
    definition = spec.facets_by_name[name]
    build = _link_facet_query if isinstance(definition, LinkFacet) else _column_facet_query
    rows = list(build(definition, spec, args, listing.matches).dicts())
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


def list_facets(listing):
    """`{"facets": {name: facet}}` for the facets asked, in the order asked, or {} when none are."""
    names = dict.fromkeys(listing.args.get("facets") or ())
    if not names:
        return {}
    return {"facets": {name: facet(listing, name) for name in names}}
