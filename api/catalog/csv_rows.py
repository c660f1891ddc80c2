"""A record as a row of CSV: its columns, and the row kept with the record, encoded but for its labels.

A CSV row flattens a record: its own fields, a nested object's members one column each, and each
relation as `<singular>_ids`, `<singular>_<label>s` and a column per attribute of its links (role,
stance, excerpt), aligned with the ids. All of that but the related records' labels belongs to the
record itself, so the write that stores its JSON stores its CSV row too (`row_template`), encoded, with
a slot where each label column goes: an export fills the slots in (each related record read once per
export) and joins the pieces, without a schema or a CSV writer per row. A relation the record does not
own (an event's claims) changes when the other record is written, so all of its columns are slots.
"""

import re
from dataclasses import dataclass

import orjson
from marshmallow import fields as ma_fields

from api.catalog import SPECS
from api.catalog.tabular import LIST_SEPARATOR, safe_cell

# Excerpts and statements are sentences that may hold "; " themselves: one per line inside the cell instead.
TEXT_SEPARATOR = "\n"
SENTENCE_ATTRIBUTES = ("excerpt", "statement")
# A search match's rank and HTML snippet belong to a search result, not to a spreadsheet of records.
CSV_LEFT_OUT = ("match",)
LINE_END = "\r\n"
# What makes csv.QUOTE_MINIMAL quote a cell, with `,` as delimiter, `"` as quote and CRLF line ends.
_QUOTED = re.compile(r'[",\r\n]')


# What a relation's label column reads of each link: the related record's label, not the link's own.
LABEL = "label"


@dataclass(frozen=True)
class CsvColumn:
    name: str
    get: object  # record -> value
    relation: str | None = None  # the relation whose links the column flattens
    key: str | None = None  # what of each link: "id", LABEL or an attribute of the link
    separator: str = LIST_SEPARATOR

    @property
    def label(self):
        return self.key == LABEL


def columns(spec):
    """The CSV columns of a resource, in the order of its schema's fields."""
    found = []
    for name, field in spec.schema.dump_fields.items():
        if name in CSV_LEFT_OUT:
            continue
        if name in spec.relations:
            found += relation_columns(spec, name)
        elif isinstance(field, ma_fields.Nested):
            found += [CsvColumn(member, _nested_getter(name, member)) for member in field.schema.dump_fields]
        else:
            found.append(CsvColumn(name, _getter(name)))
    return found


def relation_columns(spec, relation_name):
    relation = spec.relations[relation_name]
    target = SPECS[relation.target]
    label = label_field(target)
    found = [CsvColumn(f"{target.singular}_ids", links_getter(relation_name, "id"), relation_name, "id")]
    for attribute in (label, *relation.attributes):
        separator = TEXT_SEPARATOR if attribute in SENTENCE_ATTRIBUTES else LIST_SEPARATOR
        getter = links_getter(relation_name, attribute, separator)
        key = LABEL if attribute == label else attribute
        found.append(CsvColumn(f"{target.singular}_{attribute}s", getter, relation_name, key, separator))
    return found


def label_field(spec):
    """The summary field that names a record in another's CSV row: a title, a name, a statement."""
    return spec.summary_fields[1]


def _getter(name):
    return lambda record: record.get(name)


def _nested_getter(name, member):
    return lambda record: (record.get(name) or {}).get(member)


def links_getter(relation_name, key, separator=LIST_SEPARATOR):
    def get(record):
        return separator.join("" if link.get(key) is None else str(link[key]) for link in record[relation_name])

    return get


def cell(value, _needs_quotes=_QUOTED.search):
    """One value as CSV text, as csv.writer (QUOTE_MINIMAL, CRLF) writes the `safe_cell` of it."""
    value = safe_cell(value)
    text = value if type(value) is str else str(value)
    return '"' + text.replace('"', '""') + '"' if _needs_quotes(text) else text


def is_slot(spec, column):
    """A column an export fills in: the labels of related records, and every column of a relation the
    record does not own."""
    return column.label or (column.relation is not None and not spec.relations[column.relation].owned)


# How `row_template` lays a row out: a change renders every stored row again (representations_fingerprint).
ROW_FORMAT = 3


def row_template(spec, record):
    """The record's CSV row as JSON `[pieces, ids]`, to be completed by an export: the encoded text before,
    between and after its slots (`is_slot`), and for each slot, the ids of the links of a relation the
    record owns (none for one it does not own).

    `record` is the record as its stored JSON holds it: its fields and the links it owns. (One JSON
    document parses faster than any splitting of text into as many strings.)
    """
    pieces, ids, current = [], [], []
    for index, column in enumerate(columns(spec)):
        if index:
            current.append(",")
        if not is_slot(spec, column):
            current.append(cell(column.get(record)))
            continue
        pieces.append("".join(current))
        current = []
        owned = spec.relations[column.relation].owned
        ids.append([link["id"] for link in record[column.relation]] if owned else [])
    current.append(LINE_END)
    pieces.append("".join(current))
    return orjson.dumps([pieces, ids]).decode()
