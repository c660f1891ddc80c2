"""Records as the API shows them: their stored JSON, and related records embedded in them.

Each record's own representation (its fields and the links it owns) is rendered by its schema when
it is written and stored with its row (api/catalog/representations.py). A page selects those bytes
and joins them as they are; only `include`, `fields`, `q` and the detail's embedded relations parse
them, and a relation's summaries are read from their columns in one query.
"""

import orjson
from peewee import JOIN

from api.catalog.representations import group_by_record, render_rows
from api.db import padded_ids, select_by_shape
from api.tables import STORED_JSON


def with_stored_json(query, model, *columns, stored="json"):
    """`query` selecting the id, the stored JSON (as `representation`) and `columns` of its `model` rows;
    `stored="csv"`: the stored CSV row instead (as `csv`)."""
    table = STORED_JSON[model]
    kept = table.json.alias("representation") if stored == "json" else table.csv.alias("csv")
    selected = dict.fromkeys([model.id, kept, *columns])
    return query.select(*selected).join(table, JOIN.LEFT_OUTER, on=(table.record == model.id))


class RecordRenderer:
    def __init__(self, specs):
        self.specs = specs
        self._summary_schemas = {name: type(spec.schema)(only=spec.summary_fields) for name, spec in specs.items()}
        # The members of each resource's stored JSON, which a link's own members must not overwrite.
        self._field_names = {
            name: {field.data_key or key for key, field in spec.schema.dump_fields.items()}
            for name, spec in specs.items()
        }

    def encoded(self, spec, rows):
        """The JSON bytes of each row's record, from a query made `with_stored_json`.

        A row without stored JSON (written by a tool outside the API, before the app rendered it at
        start) is rendered here from its full row, and not kept.
        """
        missing = [row["id"] for row in rows if row["representation"] is None]
        fresh = {}
        if missing:
            model = spec.model
            fresh = render_rows(spec, list(model.select().where(model.id.in_(missing)).dicts()))
        return [fresh[row["id"]] if row["representation"] is None else row["representation"].encode() for row in rows]

    def records(self, spec, rows):
        """Each row's record as a dict, to be changed (embedded relations, selected fields, search matches)."""
        return [orjson.loads(encoded) for encoded in self.encoded(spec, rows)]

    def embed(self, spec, records, relation_name, full, known=None, fragments=False):
        """Set `relation_name` on each record to its links, each merged with the related record.

        `full` embeds the whole related record (for `include`); otherwise its summary fields. The related
        records are read in one query whatever the number of records (see `_links`). `known` ({id: related
        record}, filled as it goes) lets a walk of many batches (an export) read each related record once.
        With `fragments`, a full related record is embedded as its stored JSON (an `orjson.Fragment`), for
        a response that only encodes it: nothing parses the JSON of hundreds of related records to write it again.
        """
        target = self.specs[spec.relations[relation_name].target]
        related = {} if known is None else known
        missing = {link["id"] for link in self._links(spec, records, relation_name)}.difference(related)
        if full and fragments:
            related.update(self._full_encoded(target, missing))
            for record in records:
                record[relation_name] = [
                    self._embedded(target, related.get(link["id"]), link) for link in record[relation_name]
                ]
            return
        related.update(self._full_records(target, missing) if full else self._summaries(target, missing))
        for record in records:
            record[relation_name] = [{**related.get(link["id"], {}), **link} for link in record[relation_name]]

    def _embedded(self, target, encoded, link):
        """`{**related record, **link}` as JSON the encoder writes as it is: the stored record's bytes with
        the link's own members (role, stance, excerpt) added at the end, where the merge puts them."""
        if encoded is None:
            return link
        own = {name: value for name, value in link.items() if name != "id"}
        if not own:
            return orjson.Fragment(encoded)
        if not self._field_names[target.name].isdisjoint(own):
            return {**orjson.loads(encoded), **link}
        return orjson.Fragment(encoded[:-1] + b"," + orjson.dumps(own)[1:])

    def label_links(self, spec, records, relation_name, label, known):
        """Set on each link, in place, the `label` of its related record (a summary field): what a CSV
        flattens. `known` ({id: summary}, filled as it goes) reads each related record once per walk."""
        links = self._links(spec, records, relation_name)
        missing = {link["id"] for link in links}.difference(known)
        known.update(self._summaries(self.specs[spec.relations[relation_name].target], missing))
        for link in links:
            link[label] = known.get(link["id"], {}).get(label)

    def _links(self, spec, records, relation_name):
        """Every link of the records in `relation_name`, which each record then holds as its list of links.

        An owned relation's links are in the stored JSON already; another's are read in one query.
        """
        relation = spec.relations[relation_name]
        if not relation.owned:
            grouped = group_by_record(relation.links(record["id"] for record in records))
            for record in records:
                record[relation_name] = grouped.get(record["id"], [])
        return [link for record in records for link in record[relation_name]]

    def _full_rows(self, target, ids):
        model, ids = target.model, padded_ids(ids)

        def build():
            return with_stored_json(model.select(), model).where(model.id.in_(ids))

        return select_by_shape(("records", model, len(ids)), build, ids)

    def _full_records(self, target, ids):
        if not ids:
            return {}
        return {record["id"]: record for record in self.records(target, self._full_rows(target, ids))}

    def _full_encoded(self, target, ids):
        if not ids:
            return {}
        rows = self._full_rows(target, ids)
        return {row["id"]: encoded for row, encoded in zip(rows, self.encoded(target, rows), strict=True)}

    def labels(self, target, ids, label):
        """{id: `label`} of these records, straight from its column (a string field, dumped as it is)."""
        model, ids = target.model, padded_ids(ids)

        def build():
            return model.select(model.id, getattr(model, label).alias("label")).where(model.id.in_(ids))

        return {row["id"]: row["label"] for row in select_by_shape(("labels", model, len(ids)), build, ids)}

    def _summaries(self, target, ids):
        """Summary fields straight from their columns: no full record is read to pick four values."""
        if not ids:
            return {}
        model, ids = target.model, padded_ids(ids)

        def build():
            return model.select(*(getattr(model, name) for name in target.summary_fields)).where(model.id.in_(ids))

        schema = self._summary_schemas[target.name]
        summaries = {}
        for row in select_by_shape(("summaries", model, len(ids)), build, ids):
            dumped = schema.dump(row)
            summaries[row["id"]] = {name: dumped.get(name) for name in target.summary_fields}
        return summaries


def select_fields(record, names):
    """Sparse fieldset: keep the named top-level fields, and always the id."""
    return {key: value for key, value in record.items() if key == "id" or key in names}


def with_links(record, links):
    """A record's JSON bytes with `links` added as their last member, without parsing them."""
    return record[:-1] + b',"links":' + orjson.dumps(links) + b"}"
