"""The timeline's SQL: the filtered events, and the claims that belong to them, by period of date.

An event sits in the period of its date cut to the coarser of the asked interval and its own
precision: with `interval=day` a month-precision event sits in its month (`2024-09`), not on
its first day. An `XXXX-09` event (month known, year unstated) sits in the period `XXXX-09` at
every interval, since the year a year period needs is what it lacks; an undated event sits in
the period null. A claim has no date of its own: it sits in the period of each matching event
it belongs to, once per period.

Whatever the number of periods, a timeline costs three queries besides the revision lookup: the
events (each period's count by a window over the period, and its first `per_period` items by
ROW_NUMBER), the same for the claims, and the number of distinct claims.
"""

from dataclasses import dataclass

from peewee import SQL, Case, Select, fn

from api.db import database
from api.reading.queries import filtered
from api.tables import ClaimEvent
from schemas.dates import date_range

# How long a partial date's text is at each precision: cutting the text to the interval's length
# truncates a date to the coarser of the interval and its precision ("2024"[:7] is "2024").
INTERVAL_LENGTHS = {"year": 4, "month": 7, "day": 10}


def period_expression(model, interval):
    # Literals, not bound parameters: in a grouped query PostgreSQL accepts a selected or partition
    # expression only if it is the grouped one, and two bound parameters are two expressions to it.
    cut = fn.SUBSTR(model.date, SQL("1"), SQL(str(INTERVAL_LENGTHS[interval])))
    # date_start is null exactly for XXXX-MM dates and undated events, which keep their date (or null).
    return Case(None, [(model.date_start.is_null(), model.date)], cut)


def period_order(key):
    """Chronological: a coarser period before the finer ones it holds (`2024`, `2024-09`, `2024-09-01`,
    `2024-10`), then the periods whose year is unstated (`XXXX-01` ... `XXXX-12`), then undated (null)."""
    return (key is None, key is not None and key.startswith("XXXX"), key or "")


def describe_period(key):
    if key is None:
        return {"period": None, "precision": None, "start": None, "end": None}
    dates = date_range(key)
    return {"period": key, "precision": dates.precision, "start": dates.start, "end": dates.end}


@dataclass
class Timeline:
    periods: list
    events: int
    claims: int
    undated_events: int


def _ranked(query, period, order, per_period):
    """`query` (already grouped as needed) with each row's period, its place in the period and the
    period's row count; only the first `per_period` rows of each period are read back. With
    `per_period=0` the first row still comes, for its period's count."""
    ranked = query.select_extend(
        period.alias("period"),
        fn.ROW_NUMBER().over(partition_by=[period], order_by=order).alias("position"),
        fn.COUNT(SQL("*")).over(partition_by=[period]).alias("period_count"),
    ).alias("ranked")
    return (
        Select([ranked], [SQL("*")])
        .where(ranked.c.position <= max(per_period, 1))
        .order_by(ranked.c.position)
        .bind(database)
    )


def _event_rows(spec, matches, interval, per_period, columns):
    model = spec.model
    period = period_expression(model, interval)
    query = matches.select(*(getattr(model, name) for name in columns))
    # Within a period a coarser date comes first ("2024-09" before "2024-09-01"), then by id.
    return list(_ranked(query, period, [model.date_start, model.date, model.id], per_period).dicts())


def _matching_links(spec, matches, args):
    """The ClaimEvent rows of the matching events; `?claim=` names claims, so it keeps only those."""
    query = matches.join(ClaimEvent, on=(ClaimEvent.event == spec.model.id))
    if args.get("claim"):
        query = query.where(ClaimEvent.claim.in_(args["claim"]))
    return query


def _claim_rows(spec, claim_spec, matches, args, interval, per_period, columns):
    model, claim = spec.model, claim_spec.model
    period = period_expression(model, interval)
    # One row per (period, claim), however many of the claim's events share the period.
    grouped = (
        _matching_links(spec, matches, args)
        .select(ClaimEvent.claim.alias("claim_id"))
        .group_by(period, ClaimEvent.claim)
    )
    order = [fn.MIN(model.date_start), fn.MIN(model.date), ClaimEvent.claim]
    ranked = _ranked(grouped, period, order, per_period)
    ranked_rows = ranked.alias("page")
    query = (
        Select([ranked_rows], [ranked_rows.c.period, ranked_rows.c.position, ranked_rows.c.period_count])
        .join(claim, on=(claim.id == ranked_rows.c.claim_id))
        .select_extend(*(getattr(claim, name) for name in columns))
        .order_by(ranked_rows.c.position)
        .bind(database)
    )
    return list(query.dicts())


def _claim_total(spec, matches, args):
    return _matching_links(spec, matches, args).select(fn.COUNT(ClaimEvent.claim.distinct())).scalar() or 0


def timeline(spec, claim_spec, args, event_columns, claim_columns):
    """The periods of the events matching `args` (the events list's filters), in chronological order."""
    interval, per_period = args["interval"], args["per_period"]
    matches = filtered(spec, args)
    periods = {}

    def period_of(key):
        if key not in periods:
            periods[key] = {
                **describe_period(key),
                "events": {"count": 0, "items": []},
                "claims": {"count": 0, "items": []},
            }
        return periods[key]

    for name, rows, columns in (
        ("events", _event_rows(spec, matches, interval, per_period, event_columns), event_columns),
        ("claims", _claim_rows(spec, claim_spec, matches, args, interval, per_period, claim_columns), claim_columns),
    ):
        for row in rows:
            group = period_of(row["period"])[name]
            group["count"] = row["period_count"]
            if row["position"] <= per_period:
                group["items"].append({column: row[column] for column in columns})
    ordered = [periods[key] for key in sorted(periods, key=period_order)]
    return Timeline(
        periods=ordered,
        events=sum(period["events"]["count"] for period in ordered),
        claims=_claim_total(spec, matches, args) if ordered else 0,
        undated_events=periods[None]["events"]["count"] if None in periods else 0,
    )
