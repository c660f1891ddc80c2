"""The dataset as a citable Frictionless Data Package (v2): descriptor, CSV tables, zip archive and directory.

One CSV table per model. A record table takes its columns from the model and each column's type,
meaning, constraints and vocabulary from the marshmallow output schema (schemas/records.py,
schemas/vocabulary.py); a join table takes its columns and keys from the model and its
attributes' meanings from the link schemas. Nothing here lists a field or a value, so a new
column or vocabulary entry reaches the descriptor, the CSVs and the data dictionary unedited.

Rows are read in keyset batches inside one snapshot transaction, and the zip is written to a
sink drained after every batch: memory stays flat whatever the size of the dataset.
"""

import copy
import stat
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import orjson
from marshmallow import ValidationError, fields, validate
from peewee import AutoField, ForeignKeyField, PostgresqlDatabase

from api.catalog import WRITE_ORDER
from api.catalog.tabular import CsvLines
from api.config import LICENSE
from api.db import database
from api.tables import (
    JOIN_MODELS,
    READ_PATH_COLUMNS,
    DatasetState,
    Record,
    Source,
    SourceDocument,
    dataset_version,
    declared_unique_indexes,
)
from schemas import vocabulary as vocab
from schemas.fields import PartialDate
from schemas.records import ANCHOR_FIELDS

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
NAME = "eventledger"
DESCRIPTOR_PATH = "datapackage.json"
DATA_DIR = "data"
# Rows per query: large enough that a million events take ~500 round trips, small enough
# that a batch of rows and its CSV text stay a few megabytes.
BATCH_SIZE = 2000
# Tables that are referred to come before the tables that refer to them.
RECORD_SPECS = tuple(WRITE_ORDER.values())
DIALECT = {"header": True, "delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"', "doubleQuote": True}
POSITION_DESCRIPTION = "Curated order of the link among the {owner}'s {relation}, from 0."
DESCRIPTION = (
    "A curated dataset of events, actors, claims and sources: who asserts what, who denies it, which "
    "source says so, and how sure anyone is. Every record traces to a verbatim excerpt of its source, and "
    "nothing in the data is more certain than the source says. One UTF-8 CSV per table (RFC 4180, CRLF, "
    "header row): records in id order, links in the order of their record's id and their curated "
    "position. An empty cell is null, except in a field that declares no missing values, where it is an "
    "empty string. Lists (actor aliases) are JSON arrays. A text cell that a spreadsheet would evaluate as "
    "a formula (one starting with =, +, -, @, a tab or a carriage return) is prefixed with an apostrophe."
)


# --- Vocabularies ---------------------------------------------------------------------------


def vocabularies():
    """Every controlled vocabulary, by id (`event_types`): the upper-case dictionaries of schemas.vocabulary."""
    return {name.lower(): values for name, values in vars(vocab).items() if name.isupper() and isinstance(values, dict)}


def vocabulary_title(vocabulary_id):
    return vocabulary_id.replace("_", " ").capitalize()


def vocabulary_of(values):
    """The id of the vocabulary whose values are exactly `values` (in order), or None."""
    for vocabulary_id, vocabulary in vocabularies().items():
        if list(vocabulary) == list(values):
            return vocabulary_id
    return None


# --- From marshmallow fields to Table Schema fields -------------------------------------------


def _type_of(field):
    # Subclasses before their bases: Url is a String, Integer a Number.
    if isinstance(field, fields.DateTime):
        return {"type": "datetime"}
    if isinstance(field, fields.Boolean):
        return {"type": "boolean"}
    if isinstance(field, fields.Integer):
        return {"type": "integer"}
    if isinstance(field, fields.Number):
        return {"type": "number"}
    if isinstance(field, fields.List):
        return {"type": "array", "arrayItem": _type_of(field.inner)}
    if isinstance(field, fields.Url):
        return {"type": "string", "format": "uri"}
    if isinstance(field, fields.String):
        return {"type": "string"}
    raise TypeError(f"No Table Schema type for {type(field).__name__}: map it in api/package/datapackage.py")


def _table_pattern(regex):
    # Table Schema patterns match the whole value, as XML Schema ones do, and have no anchors.
    return regex.removeprefix("^").removesuffix("$")


def _validator_constraints(field):
    constraints = {}
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            constraints["enum"] = list(validator.choices)
        elif isinstance(validator, validate.Regexp):
            constraints["pattern"] = _table_pattern(validator.regex.pattern)
        elif isinstance(validator, validate.Length):
            if validator.equal is not None:
                constraints["minLength"] = constraints["maxLength"] = validator.equal
            if validator.min is not None:
                constraints["minLength"] = validator.min
            if validator.max is not None:
                constraints["maxLength"] = validator.max
        elif isinstance(validator, validate.Range):
            if validator.min is not None:
                constraints["minimum" if validator.min_inclusive else "exclusiveMinimum"] = validator.min
            if validator.max is not None:
                constraints["maximum" if validator.max_inclusive else "exclusiveMaximum"] = validator.max
        elif isinstance(validator, validate.URL):
            continue  # the field's `format: uri`
        else:
            # A rule the package cannot state would let the CSVs promise less than the API checks.
            raise TypeError(
                f"No Table Schema constraint for {type(validator).__name__}: map it in api/package/datapackage.py"
            )
    return constraints


def _admits_empty(field):
    """Whether the field's own validators accept an empty string."""
    for validator in field.validators:
        try:
            validator("")
        except ValidationError:
            return False
    return True


def table_field(name, field, *, required, type_info=None, description=None, vocabulary_id=None):
    """The Table Schema field of one column, from the marshmallow field that describes it."""
    type_info = type_info or _type_of(field)
    descriptor = {"name": name, **type_info, "description": description or field.metadata.get("description", "")}
    constraints = {"required": True} if required else {}
    constraints.update(_validator_constraints(field))
    if vocabulary_id and "enum" not in constraints:
        constraints["enum"] = list(vocabularies()[vocabulary_id])
    vocabulary_id = vocabulary_id or (vocabulary_of(constraints["enum"]) if "enum" in constraints else None)
    if constraints:
        descriptor["constraints"] = constraints
    if vocabulary_id:
        descriptor["categories"] = [
            {"value": value, "label": meaning} for value, meaning in vocabularies()[vocabulary_id].items()
        ]
    if required and type_info["type"] == "string" and "enum" not in constraints and _admits_empty(field):
        # A required text may be empty: its empty cell is "", not a missing value.
        descriptor["missingValues"] = []
    return descriptor


# --- Tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    model_field: object
    field: dict
    to_cell: object = None


@dataclass(frozen=True)
class ForeignKey:
    column: str
    resource: str


@dataclass(frozen=True)
class Table:
    """One CSV of the package: how it is described and how its rows are read."""

    name: str
    title: str
    description: str
    model: type
    columns: tuple
    primary_key: tuple
    foreign_keys: tuple = ()
    owner: object = None  # join tables: the key to the record each link belongs to

    @property
    def path(self):
        return f"{DATA_DIR}/{self.name}.csv"

    @property
    def column_names(self):
        return [column.name for column in self.columns]

    def resource(self):
        schema = {"fields": [column.field for column in self.columns], "missingValues": [""]}
        schema["primaryKey"] = list(self.primary_key)
        if self.foreign_keys:
            schema["foreignKeys"] = [
                {"fields": [key.column], "reference": {"resource": key.resource, "fields": ["id"]}}
                for key in self.foreign_keys
            ]
        return {
            "name": self.name,
            "type": "table",
            "path": self.path,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "title": self.title,
            "description": self.description,
            "dialect": DIALECT,
            "schema": schema,
        }

    def batches(self, size=None):
        """The rows as lists of cell tuples, in the table's order, one query (or two) per batch."""
        size = size or BATCH_SIZE
        read = self._link_batches if self.owner is not None else self._record_batches
        converters = [(index, column.to_cell) for index, column in enumerate(self.columns) if column.to_cell]
        for rows in read(size):
            if converters:
                rows = [list(row) for row in rows]
                for row in rows:
                    for index, convert in converters:
                        if row[index] is not None:
                            row[index] = convert(row[index])
            yield rows

    def _record_batches(self, size):
        model, key = self.model, self.model._meta.primary_key
        query = model.select(*(column.model_field for column in self.columns)).order_by(key).limit(size)
        last = None
        while True:
            rows = list((query if last is None else query.where(key > last)).tuples())
            if rows:
                yield rows
            if len(rows) < size:
                return
            last = rows[-1][0]

    def _link_batches(self, size):
        # Keyset over the owning records, then their links by owner-id range: each batch reads
        # through the (owner, ...) index, where keyset over (owner, position) would sort the table.
        owner_model = self.owner.rel_model
        owners = owner_model.select(owner_model.id).order_by(owner_model.id).limit(size)
        links = self.model.select(*(column.model_field for column in self.columns)).order_by(
            self.owner, self.model.position, self.model._meta.primary_key
        )
        last = None
        while True:
            ids = [row[0] for row in (owners if last is None else owners.where(owner_model.id > last)).tuples()]
            if not ids:
                return
            window = self.owner <= ids[-1] if last is None else (self.owner > last) & (self.owner <= ids[-1])
            rows = list(links.where(window).tuples())
            if rows:
                yield rows
            if len(ids) < size:
                return
            last = ids[-1]

    def csv_chunks(self, size=None):
        """(CSV bytes, rows in them): the header, then one chunk per batch."""
        lines = CsvLines()
        yield lines.line(self.column_names), 0
        for rows in self.batches(size):
            yield lines.lines(rows), len(rows)


def _flat_fields(schema):
    """A schema's fields with nested objects (an event's `location`) flattened, as the tables store them.

    Only the columns of the model are looked up here, so a response-only object (a search `match`)
    adds nothing; a top-level field wins over a nested one of the same name.
    """
    flat = {}
    for name, field in schema.fields.items():
        if isinstance(field, fields.Nested):
            flat.update(field.schema.fields)
            # A nested object stored under prefixed columns (a source's `document` as `document_sha256`...):
            # each may be empty, as the object may be null.
            flat.update(
                {f"{name}_{inner}": _optional(inner_field) for inner, inner_field in field.schema.fields.items()}
            )
    flat.update({name: field for name, field in schema.fields.items() if not isinstance(field, fields.Nested)})
    return flat


def _optional(field):
    optional = copy.copy(field)
    optional.allow_none = True
    return optional


def _spec_of(model):
    return next(spec for spec in RECORD_SPECS if spec.model is model)


def _record_table(spec):
    schema_fields = _flat_fields(spec.schema)
    partial_dates = {name for name, field in schema_fields.items() if isinstance(field, PartialDate)}
    bookkeeping = [field.name for field in Record._meta.sorted_fields if field.name != "id"]
    model_fields = spec.model._meta.sorted_fields
    # id, then what the record says, then when it changed.
    ordered = [spec.model.id, *(f for f in model_fields if f.name not in ("id", *bookkeeping))]
    ordered += [spec.model._meta.fields[name] for name in bookkeeping]
    columns, foreign_keys = [], []
    for model_field in ordered:
        name = model_field.name
        field = schema_fields.get(name)
        if field is None:
            raise LookupError(f"{spec.model.__name__}.{name} has no field in {type(spec.schema).__name__}")
        options = {"required": not field.allow_none}
        base, _, suffix = name.rpartition("_")
        if base in partial_dates and suffix in ("start", "end"):
            options["type_info"] = {"type": "date"}  # schemas.dates.date_range derives them as ISO days
        elif base in partial_dates and suffix == "precision":
            options["vocabulary_id"] = vocabulary_of(vocab.DATE_PRECISIONS)
        to_cell = None
        if isinstance(field, fields.DateTime):
            # The schema's own serialisation, so a CSV timestamp reads exactly as the API's.
            def to_cell(value, field=field, name=name):
                return field._serialize(value, name, None)

        columns.append(Column(name, model_field, table_field(name, field, **options), to_cell))
        if isinstance(model_field, ForeignKeyField):
            foreign_keys.append(ForeignKey(name, _spec_of(model_field.rel_model).name))
    return Table(
        name=spec.name,
        title=spec.name.capitalize(),
        description=spec.description,
        model=spec.model,
        columns=tuple(columns),
        primary_key=("id",),
        foreign_keys=tuple(foreign_keys),
    )


def _join_table(spec, relation):
    model = relation.join_model
    link_field = spec.schema.fields[relation.name]
    link_fields = link_field.inner.schema.fields if isinstance(link_field.inner, fields.Nested) else {}
    columns, foreign_keys = [], []
    for model_field in model._meta.sorted_fields:
        name = model_field.name
        if isinstance(model_field, AutoField):
            continue  # a surrogate key, renumbered whenever the loader rewrites a record's links
        if name in READ_PATH_COLUMNS:
            continue  # the owner's values, copied for the read path (api.tables.EventDateCopies)
        if isinstance(model_field, ForeignKeyField):
            target = _spec_of(model_field.rel_model)
            field = table_field(
                name,
                target.schema.fields["id"],
                required=not model_field.null,
                description=f"Id of the {target.singular}.",
            )
            foreign_keys.append(ForeignKey(name, target.name))
        elif name in link_fields:
            field = table_field(name, link_fields[name], required=not link_fields[name].allow_none)
        elif name in ANCHOR_FIELDS:
            field = table_field(name, ANCHOR_FIELDS[name], required=False)
        elif name == "position":
            description = POSITION_DESCRIPTION.format(owner=spec.singular, relation=relation.name)
            field = table_field(
                name, fields.Integer(validate=validate.Range(min=0)), required=True, description=description
            )
        else:
            raise LookupError(f"{model.__name__}.{name} is described by no link schema")
        columns.append(Column(name, model_field, field))
    unique = declared_unique_indexes(model)
    return Table(
        name=f"{spec.singular}_{relation.name}",
        title=f"{spec.singular.capitalize()} {relation.name}",
        description=f"{link_field.metadata['description']} One row per link, in the curated order of each "
        f"{spec.singular}'s {relation.name}.",
        model=model,
        columns=tuple(columns),
        primary_key=tuple(unique[0]),
        foreign_keys=tuple(foreign_keys),
        owner=relation.local_key,
    )


@cache
def tables():
    """Every table of the package, in its order: the records, then the links each record owns."""
    record_tables = [_record_table(spec) for spec in RECORD_SPECS]
    join_tables = [
        _join_table(spec, relation) for spec in RECORD_SPECS for relation in spec.relations.values() if relation.owned
    ]
    missing = set(JOIN_MODELS) - {table.model for table in join_tables}
    if missing:
        raise LookupError(f"No resource spec owns the join tables {sorted(m.__name__ for m in missing)}")
    return (*record_tables, *join_tables, _documents_table())


def _documents_table():
    """The sources' full texts, against which every excerpt's selectors can be checked offline."""
    text = fields.String(
        metadata={"description": "The source's full text, exactly as stored (see `source.document_sha256`)."}
    )
    return Table(
        name="source_documents",
        title="Source documents",
        description="The full text of each source the dataset holds one for: every excerpt's `target_start` and "
        "`target_end` (Unicode code points) and its quote's prefix and suffix are positions in it.",
        model=SourceDocument,
        columns=(
            Column(
                "id",
                SourceDocument.source,
                table_field(
                    "id", WRITE_ORDER["sources"].schema.fields["id"], required=True, description="Id of the source."
                ),
            ),
            Column("text", SourceDocument.text, table_field("text", text, required=True)),
        ),
        primary_key=("id",),
        foreign_keys=(ForeignKey("id", "sources"),),
    )


# --- One revision at a time --------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    revision: int
    changed_at: datetime | None

    @property
    def version(self):
        return dataset_version(self.revision)


@contextmanager
def snapshot():
    """A read transaction that sees one revision of the dataset throughout, and that revision.

    A deferred SQLite transaction keeps the WAL snapshot of its first read; PostgreSQL's default
    READ COMMITTED would take a new snapshot per statement, so the package could mix revisions.
    """
    with database.atomic():
        if isinstance(database.obj, PostgresqlDatabase):
            database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        state = (
            DatasetState.select(DatasetState.revision, DatasetState.changed_at)
            .where(DatasetState.id == 1)
            .tuples()
            .first()
        )
        yield Snapshot(*(state or (0, None)))


def archive_name(revision):
    return f"{NAME}-{dataset_version(revision)}.zip"


def row_counts():
    """Rows per table, for a progress bar: one COUNT each."""
    return {table.name: table.model.select().count() for table in tables()}


# --- The descriptor ------------------------------------------------------------------------------


def _utc_text(moment):
    return moment.replace(microsecond=0).isoformat() + "Z"


def _licenses():
    # The licence the API's OpenAPI info declares too, by SPDX identifier.
    license_info = LICENSE
    identifier = license_info.get("identifier") or license_info["name"]
    licence = {"name": identifier, "path": f"https://spdx.org/licenses/{identifier}.html"}
    if license_info["name"] != identifier:
        licence["title"] = license_info["name"]
    return [licence]


def _package_sources():
    """The documents the dataset rests on: the sources whose full text it holds or whose address it knows."""
    query = (
        Source.select(Source.title, Source.publisher, Source.url)
        .where(Source.document_sha256.is_null(False) | Source.url.is_null(False))
        .order_by(Source.id)
        .tuples()
    )
    return [
        {"title": f"{title} ({publisher})" if publisher else title, **({"path": url} if url else {})}
        for title, publisher, url in query
    ]


def descriptor(snap):
    """The package descriptor of the snapshot's revision: the same for everyone until the dataset changes."""
    package = {
        "$schema": PROFILE,
        "name": NAME,
        "title": "eventledger: events, actors, claims and sources",
        "description": DESCRIPTION,
        "version": snap.version,
    }
    if snap.changed_at is not None:
        package["created"] = _utc_text(snap.changed_at)
    package["licenses"] = _licenses()
    package["sources"] = _package_sources()
    package["resources"] = [table.resource() for table in tables()]
    return package


def descriptor_bytes(package):
    """The descriptor as the package stores it: indented for people, identical in the API, zip and export."""
    return orjson.dumps(package, option=orjson.OPT_INDENT_2) + b"\n"


# --- Writing the package ------------------------------------------------------------------------------


class _Drain:
    """A write-only sink for zipfile that hands over what it received, so the archive can be streamed.

    Having no `tell` or `seek`, it makes zipfile write each entry's sizes after its data.
    """

    def __init__(self):
        self._parts = []

    def write(self, data):
        self._parts.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self):
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _zip_entry(path, changed_at):
    # Every entry dated by the revision's last change and written the same way, so an archive of a
    # revision is the same bytes whenever and wherever it is made, as its ETag promises.
    moment = max(changed_at or datetime(1980, 1, 1), datetime(1980, 1, 1))
    info = zipfile.ZipInfo(path, date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def zip_chunks(snap, progress=None):
    """The package as zip bytes, in chunks of about a batch each; call within `snapshot()`.

    `progress(rows, table)` is told of every batch written.
    """
    sink = _Drain()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr(_zip_entry(DESCRIPTOR_PATH, snap.changed_at), descriptor_bytes(descriptor(snap)))
        yield sink.take()
        for table in tables():
            # zip64 sizes because a streamed entry's size is unknown until it ends, and may pass 2 GiB.
            with archive.open(_zip_entry(table.path, snap.changed_at), "w", force_zip64=True) as entry:
                for chunk, rows in table.csv_chunks():
                    entry.write(chunk)
                    if progress:
                        progress(rows, table)
                    data = sink.take()
                    if data:
                        yield data
            yield sink.take()
    yield sink.take()


def write_directory(snap, target, progress=None):
    """Write DIRECTORY/data/*.csv, then DIRECTORY/datapackage.json; call within `snapshot()`.

    The descriptor comes last, so a directory without one is an export that did not finish.
    """
    target = Path(target)
    (target / DATA_DIR).mkdir(parents=True, exist_ok=True)
    for table in tables():
        with open(target / table.path, "wb") as out:
            for chunk, rows in table.csv_chunks():
                out.write(chunk)
                if progress:
                    progress(rows, table)
    (target / DESCRIPTOR_PATH).write_bytes(descriptor_bytes(descriptor(snap)))
    return [target / DESCRIPTOR_PATH, *(target / table.path for table in tables())]
