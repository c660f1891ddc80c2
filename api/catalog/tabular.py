"""CSV that opens cleanly in Excel, LibreOffice and pandas, shared by list exports and the data package.

RFC 4180 quoting with CRLF line ends, UTF-8, and no formula injection: a text cell that a
spreadsheet would evaluate (one starting with `=`, `+`, `-`, `@`, a tab or a carriage
return) is prefixed with an apostrophe, the neutralisation OWASP recommends. Numbers are
written as numbers, so a negative longitude stays a number.
"""

import csv
import io

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "


def safe_cell(value):
    """One value as a CSV cell: None is empty, booleans are true/false, risky text is neutralised."""
    if type(value) is str:  # most cells: checked first
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        value = LIST_SEPARATOR.join("" if item is None else str(item) for item in value)
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class CsvLines:
    """Encodes rows to CSV bytes one at a time, for a streamed response or a file."""

    def __init__(self):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def line(self, cells):
        self._writer.writerow([safe_cell(cell) for cell in cells])
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()

    def lines(self, rows):
        """Many rows as one chunk of bytes: cheaper than a line at a time for a stream."""
        self._writer.writerows([safe_cell(cell) for cell in cells] for cells in rows)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()
