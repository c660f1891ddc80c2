"""Whole-result exports of a list as CSV, NDJSON, JSON or GeoJSON, streamed with flat memory.

An export walks exactly the rows the same list would walk page by page (the same
`Listing`: filters, `q`, sort, and a starting cursor), reads them from one query
in batches, and writes each batch as soon as it is read: memory holds one batch,
whatever the size of the result. The whole walk runs in one read-only transaction, so rows
changed while an export streams are neither missed nor repeated.
"""

import ctypes
import ctypes.util
from collections import defaultdict
from dataclasses import dataclass
from itertools import islice

import orjson
from marshmallow import fields as ma_fields
from peewee import PostgresqlDatabase
from playhouse.postgres_ext import ServerSide

from api.catalog import SPECS, csv_rows
from api.catalog.csv_rows import LABEL
from api.catalog.representations import group_by_record, render_csv_rows
from api.catalog.tabular import LIST_SEPARATOR, CsvLines
from api.db import database
from api.errors import BadParameter
from api.reading.facets import list_facets
from api.reading.pagination import order_by
from api.reading.queries import Listing
from api.reading.render import select_fields, with_stored_json
from api.reading.search import add_matches
from api.tables import dataset_revision, dataset_version

BATCH_SIZE = 1000


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    extension: str
    description: str


FORMATS = {
    "csv": ExportFormat(
        "csv",
        "text/csv",
        "csv",
        "UTF-8 CSV with a header row (RFC 4180), related records flattened into `; `-joined columns.",
    ),
    "ndjson": ExportFormat("ndjson", "application/x-ndjson", "ndjson", "One JSON record per line."),
    "json": ExportFormat(
        "json", "application/json", "json", "One JSON document: `data` (every record), then `meta` (count, version)."
    ),
    "geojson": ExportFormat(
        "geojson",
        "application/geo+json",
        "geojson",
        "RFC 7946 FeatureCollection of the events with coordinates; `metadata` counts those left out.",
    ),
}
MEDIA_TYPES = {export.media_type: name for name, export in FORMATS.items()}


def negotiated_format(spec, args, accept):
    """The export asked for by `format`, else by `accept` (the request's Accept); None for a JSON page.

    `Accept` chooses an export only when the client prefers one to JSON, so `*/*`,
    a browser's `text/html,...,*/*` and no header at all still get the paged JSON.
    """
    if args.get("format"):
        return FORMATS[args["format"]]
    offered = ["application/json", "text/csv", "application/x-ndjson"]
    if "geojson" in spec.export_formats:
        offered.append("application/geo+json")
    best = accept.best_match(offered)
    if best in (None, "application/json"):
        return None
    return FORMATS[MEDIA_TYPES[best]]


def check_csv_only(args, export):
    if args.get("bom") and (export is None or export.name != "csv"):
        raise BadParameter("bom", "A byte order mark is for CSV only: add format=csv or Accept: text/csv.")


def csv_columns(spec):
    """[(column, value getter)] of a resource's CSV (api/catalog/csv_rows.py)."""
    return [(column.name, column.get) for column in csv_rows.columns(spec)]


def _relation_columns(spec, relation_name):
    return [(column.name, column.get) for column in csv_rows.relation_columns(spec, relation_name)]


def csv_column_names(spec, wanted=None):
    """The CSV header: every column, or those of the `fields` asked for (the id always)."""
    return [name for name, _ in _selected_columns(spec, wanted)]


def _selected_columns(spec, wanted):
    columns = csv_columns(spec)
    if not wanted:
        return columns
    keep = set()
    for name, field in spec.schema.dump_fields.items():
        if name == "id" or name in wanted:
            if name in spec.relations:
                keep |= {column for column, _ in _relation_columns(spec, name)}
            elif isinstance(field, ma_fields.Nested):
                keep |= set(field.schema.dump_fields)
            else:
                keep.add(name)
    return [(name, getter) for name, getter in columns if name in keep]


def export_content(spec):
    """The OpenAPI `content` of a list's exports, the CSV's columns spelled out in their order."""
    content = {}
    for name in spec.export_formats:
        export = FORMATS[name]
        if export.media_type == "application/json":
            continue  # the page's own schema documents application/json; `format` describes the export
        description = export.description
        if name == "csv":
            description += " Columns, in this order: " + ", ".join(csv_column_names(spec)) + "."
        schema = {"type": "string", "description": description}
        if name == "geojson":
            schema = {
                "type": "object",
                "description": description,
                "required": ["type", "features", "metadata"],
                "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": {"type": "object"}},
                    "metadata": {"type": "object"},
                },
            }
        content[export.media_type] = {"schema": schema}
    return content


def export_file_name(spec, export, revision):
    return f"eventledger-{spec.name}-{dataset_version(revision)}.{export.extension}"


class Export:
    """One export of one list: its batches of rendered records, and the body in each format."""

    def __init__(self, spec, args, export, scope, *, renderer, codec, cap, self_url):
        """`cap`: the explicit `limit` of a sample, or None for the whole result; `self_url`: the request's URL."""
        if export.name == "csv" and args.get("include"):
            raise BadParameter(
                "include",
                "CSV flattens every relation into `<name>_ids` and `<name>_<label>s` columns already; "
                "use format=json or ndjson to embed whole related records.",
            )
        if export.name in ("csv", "ndjson") and args.get("facets"):
            raise BadParameter(
                "facets", f"{export.name} has no place for facet counts; ask a JSON page or format=json or geojson."
            )
        self.spec = spec
        self.args = args
        self.export = export
        self.renderer = renderer
        self.cap = cap
        self.self_url = self_url
        self.walk = Listing(spec, args, codec, scope)
        # The related records read so far (whole for `include`, else summaries): each is read once per export.
        self._known = defaultdict(dict)
        if export.name == "geojson":
            model = spec.model
            self.walk.query = self.walk.query.where(model.latitude.is_null(False) & model.longitude.is_null(False))

    def body(self):
        writers = {"csv": self._csv, "ndjson": self._ndjson, "json": self._json, "geojson": self._geojson}
        return self._in_snapshot(writers[self.export.name]())

    def _in_snapshot(self, chunks):
        """Run the whole walk in one read transaction: a consistent snapshot across batches."""
        try:
            with database.atomic():
                if isinstance(database.obj, PostgresqlDatabase):
                    database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield from chunks
        finally:
            release_freed_memory()

    def _row_batches(self, stored="json", as_tuples=False):
        """The rows in batches, from ONE query read as it goes: a sort is done once, not per batch.

        SQLite steps its cursor lazily; PostgreSQL needs a server-side cursor, which
        psycopg2 otherwise fills with the whole result before the first row. `as_tuples`: rows of
        (id, stored representation) alone, as the database returns them.
        """
        walk = self.walk
        columns = () if as_tuples else self._columns()
        query = with_stored_json(walk.query, self.spec.model, *columns, stored=stored).order_by(*order_by(walk.order))
        if self.cap is not None:
            query = query.limit(self.cap)
        if isinstance(database.obj, PostgresqlDatabase):
            rows = ServerSide(query.tuples() if as_tuples else query.dicts(), array_size=BATCH_SIZE)
        elif as_tuples:
            rows = database.execute_sql(*query.sql())
        else:
            rows = query.dicts().iterator()
        while batch := list(islice(rows, BATCH_SIZE)):
            yield batch

    def _columns(self):
        """Besides the stored JSON: the sort keys, and a GeoJSON feature's coordinates."""
        model = self.spec.model
        columns = [key.field for key, _ in self.walk.order]
        if self.export.name == "geojson":
            columns += [model.latitude, model.longitude]
        return columns

    def _record_batches(self, relations=(), matches=True, as_dicts=False):
        """Batches of (rows, [(record dict or None, its JSON bytes or None when the dict was changed)]).

        Records are those of the list's pages: with `q`, each carries its `match` (rank and
        snippet), read in one query per batch. A batch nothing changes and no one reads `as_dicts`
        is its stored JSON alone.
        """
        wanted = set(self.args.get("fields") or ())
        included = list(dict.fromkeys(self.args.get("include") or ()))
        matches = matches and bool(self.args.get("q"))
        unchanged = not (included or wanted or relations or matches or as_dicts)
        for rows in self._row_batches(as_tuples=unchanged):
            if unchanged:  # (id, stored JSON) as the database returns them
                rows = [{"id": record_id, "representation": stored} for record_id, stored, *_ in rows]
            encoded = self.renderer.encoded(self.spec, rows)
            if unchanged:
                yield rows, [(None, item) for item in encoded]
                continue
            records = [orjson.loads(item) for item in encoded]
            for relation_name in included:
                known = self._known["include", relation_name]
                self.renderer.embed(self.spec, records, relation_name, full=True, known=known, fragments=not as_dicts)
            for relation_name in relations:
                label = csv_rows.label_field(SPECS[self.spec.relations[relation_name].target])
                self.renderer.label_links(self.spec, records, relation_name, label, self._known[relation_name])
            if wanted:
                records = [select_fields(record, wanted | set(included)) for record in records]
            if matches:
                add_matches(self.walk.search, records)
            yield rows, [(record, None) for record in records]

    def _csv(self):
        wanted = set(self.args.get("fields") or ())
        columns = _selected_columns(self.spec, wanted)
        encoder = CsvLines()
        prefix = "\ufeff" if self.args.get("bom") else ""
        yield prefix.encode() + encoder.line([name for name, _ in columns])
        if len(columns) == len(csv_columns(self.spec)):
            yield from self._csv_from_stored_rows()
            return
        names = {name for name, _ in columns}
        relations = [
            relation_name
            for relation_name in self.spec.relations
            if {column for column, _ in _relation_columns(self.spec, relation_name)} & names
        ]
        for _, batch in self._record_batches(relations, matches=False, as_dicts=True):
            yield encoder.lines([getter(record) for _, getter in columns] for record, _ in batch)

    def _csv_from_stored_rows(self):
        """Every column: each record's stored CSV row with its slots filled in (api/catalog/csv_rows.py).

        Per batch, the labels of related records not read before come in one query per relation, and
        the links of a relation the records do not own in one more; a row is then joined from strings.
        """
        spec = self.spec
        slots = [_Slot.of(spec, column) for column in csv_rows.columns(spec) if csv_rows.is_slot(spec, column)]
        unowned = list(dict.fromkeys(slot.relation for slot in slots if not slot.owned))
        cell = csv_rows.cell
        for rows in self._row_batches(stored="csv", as_tuples=True):
            templates = self._csv_templates(rows)
            links = {name: group_by_record(spec.relations[name].links(row[0] for row in rows)) for name in unowned}
            for name in unowned:
                for row in rows:
                    links[name].setdefault(row[0], [])
            wanted = defaultdict(set)
            for (_, ids), (record_id, *_) in zip(templates, rows, strict=True):
                for slot, slot_ids in zip(slots, ids, strict=True):
                    if slot.owned:
                        wanted[slot.target].update(slot_ids)
                    else:
                        wanted[slot.target].update(link["id"] for link in links[slot.relation][record_id])
            labels = {name: self._labels(SPECS[name], needed) for name, needed in wanted.items()}
            lines = []
            for (pieces, ids), (record_id, *_) in zip(templates, rows, strict=True):
                parts = [pieces[0]]
                for slot, slot_ids, after in zip(slots, ids, pieces[1:], strict=True):
                    if slot.owned:
                        parts.append(cell(LIST_SEPARATOR.join(map(labels[slot.target].__getitem__, slot_ids))))
                    else:
                        parts.append(cell(slot.text(links[slot.relation][record_id], labels.get(slot.target))))
                    parts.append(after)
                lines.append("".join(parts))
            yield "".join(lines).encode()

    def _csv_templates(self, rows):
        """The stored CSV row of each (id, row), parsed; rendered here for a record written without one."""
        missing = [record_id for record_id, template, *_ in rows if template is None]
        fresh = {}
        if missing:  # written by a tool outside the API, before the app rendered it at start
            model = self.spec.model
            fresh = render_csv_rows(self.spec, list(model.select().where(model.id.in_(missing)).dicts()))
        return [orjson.loads(fresh[record_id] if template is None else template) for record_id, template, *_ in rows]

    def _labels(self, target, ids):
        """{id: label as CSV text} of related records, each read once per export; "" for one that is gone."""
        known = self._known.setdefault(("labels", target.name), defaultdict(str))
        missing = ids.difference(known)
        if missing:
            found = self.renderer.labels(target, missing, csv_rows.label_field(target))
            known.update((record_id, _text(label)) for record_id, label in found.items())
        return known

    def _ndjson(self):
        for _, batch in self._record_batches():
            yield b"".join((encoded or orjson.dumps(record)) + b"\n" for record, encoded in batch)

    def _json(self):
        yield b'{"data":['
        count = 0
        for _, batch in self._record_batches():
            separator = b"," if count else b""
            yield separator + b",".join(encoded or orjson.dumps(record) for record, encoded in batch)
            count += len(batch)
        meta = {"count": count, "limit": self.cap, "next_cursor": None, **self._meta(count)}
        links = {"self": self.self_url, "next": None}
        yield b"]," + orjson.dumps({"meta": meta, "links": links})[1:]

    def _geojson(self):
        yield b'{"type":"FeatureCollection","features":['
        count = 0
        for rows, batch in self._record_batches(as_dicts=True):
            features = [_feature(row, record) for row, (record, _) in zip(rows, batch, strict=True)]
            yield (b"," if count else b"") + b",".join(orjson.dumps(feature) for feature in features)
            count += len(batch)
        meta = self._meta(count)
        meta["without_coordinates"] = self._count_without_coordinates()
        yield b'],"metadata":' + orjson.dumps(meta) + b"}"

    def _meta(self, count):
        revision = dataset_revision()
        meta = {"count": count, "dataset_revision": revision, "dataset_version": dataset_version(revision)}
        return meta | list_facets(self.walk)

    def _count_without_coordinates(self):
        model = self.spec.model
        return self.walk.matches.where(model.latitude.is_null() | model.longitude.is_null()).count()


def _load_malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_malloc_trim = _load_malloc_trim()


def release_freed_memory():
    """Give the heap an export freed back to the system.

    glibc keeps freed batches' pages for reuse, so without this a worker's resident memory
    stays at the high-water mark of its largest export instead of returning to its base.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)


def _feature(row, record):
    """An event as an RFC 7946 Feature: a Point at [longitude, latitude], the record as properties."""
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]},
        "properties": record,
    }


@dataclass(frozen=True)
class _Slot:
    """A CSV column that an export fills in (see `csv_rows.is_slot`): the labels of an owned relation's
    links, or a column (`key` of each link, or its label) of a relation the record does not own."""

    relation: str
    owned: bool
    target: str
    key: str
    separator: str

    @classmethod
    def of(cls, spec, column):
        relation = spec.relations[column.relation]
        return cls(column.relation, relation.owned, relation.target, column.key, column.separator)

    def text(self, links, labels):
        """The column of these links (dicts, as the relation reads them); `labels`: {id: label}."""
        if self.key == "id":
            return self.separator.join(link["id"] for link in links)
        if self.key == LABEL:
            return self.separator.join(labels[link["id"]] for link in links)
        return self.separator.join(_text(link.get(self.key)) for link in links)


def _text(label):
    return "" if label is None else str(label)
