"""Partial dates: `2024`, `2024-09`, `2024-09-25`, and `XXXX-09` when the year is unstated.

A partial date stands for a range of days. `date_range` turns one into the first
and last day it covers, which is what filters compare against; a date whose year
is unstated covers no known range and matches no date filter.
"""

import calendar
import re
from dataclasses import dataclass

PARTIAL_DATE_PATTERN = r"^(\d{4}|XXXX)(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
QUERY_DATE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
_PARTIAL_DATE = re.compile(PARTIAL_DATE_PATTERN)


@dataclass(frozen=True)
class DateRange:
    start: str | None
    end: str | None
    precision: str


def date_range(text):
    """Return the DateRange a partial date covers; raise ValueError if it is malformed."""
    match = _PARTIAL_DATE.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD.")
    year, month, day = match.group(1), match.group(3), match.group(5)
    precision = "day" if day else "month" if month else "year"
    if year == "XXXX":
        if precision != "month":
            raise ValueError(f"'{text}': an unstated year (XXXX) is only allowed with a month.")
        return DateRange(None, None, precision)
    y = int(year)
    if day:
        if int(day) > calendar.monthrange(y, int(month))[1]:
            raise ValueError(f"'{text}' is not a day of the calendar.")
        return DateRange(text, text, precision)
    if month:
        last = calendar.monthrange(y, int(month))[1]
        return DateRange(f"{year}-{month}-01", f"{year}-{month}-{last:02d}", precision)
    return DateRange(f"{year}-01-01", f"{year}-12-31", precision)
