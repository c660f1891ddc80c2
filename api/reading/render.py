"""Records rendered to JSON once per version, and related records embedded in them.

A record's own representation (its fields and the ids of the records it owns
links to) depends only on its row and its owned links, both of which change
only together with its `version`. So each record is dumped by its marshmallow
schema once per (id, version, updated_at) and the dict and its JSON bytes are
kept; a warm page costs one SELECT and no schema work at all.
"""

from collections import OrderedDict, defaultdict

import orjson


class RecordRenderer:
    def __init__(self, specs, max_size):
        self.specs = specs
        # Links ({id, role}) are JSON-ready as the join query returns them; dumping each through its
        # nested link schema only walked every field of the related schema to copy two values.
        # Records are dumped without their relations and the links set as they are; a test holds
        # the result equal to the full schema's dump.
        self._own_fields_schemas = {
            name: type(spec.schema)(exclude=tuple(spec.relations)) for name, spec in specs.items()
        }
        self._summary_schemas = {name: type(spec.schema)(only=spec.summary_fields) for name, spec in specs.items()}
        self.max_size = max_size
        self._cache = OrderedDict()

    def _key(self, spec, row):
        return (spec.name, row["id"], row["version"], row["updated_at"])

    def render(self, spec, rows, complete=False, remember=True, links=True):
        """[(dict, bytes)] for rows, dumping by schema only those not seen at their version.

        `rows` need only the `cache_key_columns`: the full rows of records not in the cache are
        read in one query, unless the rows are `complete` already. An export renders with
        `remember=False`, so streaming a million rows does not flush the pages' cache, and
        without `links` when it embeds every relation itself.
        """
        keys = [self._key(spec, row) for row in rows]
        fresh = {}
        missing = [row for row, key in zip(rows, keys, strict=True) if key not in self._cache]
        if missing:
            if not complete:
                ids = [row["id"] for row in missing]
                missing = list(spec.model.select().where(spec.model.id.in_(ids)).dicts())
            fresh = self._render_misses(spec, missing, remember and links, links)
        # A record that changed between the two reads, or that a huge page evicted, is served from `fresh`.
        return [self._cache.get(key) or fresh[key[1]] for key in keys]

    def _render_misses(self, spec, rows, remember=True, links=True):
        owned = {name: rel for name, rel in spec.relations.items() if rel.owned and links}
        grouped = {name: _group_links(rel.links(row["id"] for row in rows)) for name, rel in owned.items()}
        entries = {}
        own_fields = self._own_fields_schemas[spec.name]
        for row in rows:
            record = own_fields.dump(row)
            for name in owned:
                record[name] = grouped[name].get(row["id"], [])
            entry = (record, orjson.dumps(record))
            if remember:
                self._cache[self._key(spec, row)] = entry
            entries[row["id"]] = entry
        while len(self._cache) > self.max_size:
            self._cache.popitem(last=False)
        return entries

    def embed(self, spec, records, relation_name, full):
        """Set `relation_name` on each record to its links, each merged with the related record.

        `full` embeds the whole related record (for `include`); otherwise its summary fields.
        Costs one query for the links and one for the related rows, whatever the number of records.
        """
        relation = spec.relations[relation_name]
        target = self.specs[relation.target]
        links = relation.links(record["id"] for record in records)
        target_ids = {link["id"] for link in links}
        related = self._full_records(target, target_ids) if full else self._summaries(target, target_ids)
        by_record = defaultdict(list)
        for link in links:
            attributes = {key: value for key, value in link.items() if key != "local_id"}
            by_record[link["local_id"]].append({**related.get(link["id"], {}), **attributes})
        for record in records:
            record[relation_name] = by_record.get(record["id"], [])

    def _full_records(self, target, ids):
        model = target.model
        if not ids:
            return {}
        rows = list(model.select(*cache_key_columns(model)).where(model.id.in_(list(ids))).dicts())
        return {row["id"]: data for row, (data, _) in zip(rows, self.render(target, rows), strict=True)}

    def _summaries(self, target, ids):
        """Summary fields straight from their columns: no full record is rendered to pick four values."""
        if not ids:
            return {}
        model = target.model
        columns = [getattr(model, name) for name in target.summary_fields]
        schema = self._summary_schemas[target.name]
        summaries = {}
        for row in model.select(*columns).where(model.id.in_(list(ids))).dicts():
            dumped = schema.dump(row)
            summaries[row["id"]] = {name: dumped.get(name) for name in target.summary_fields}
        return summaries


def cache_key_columns(model):
    """What a list query must select for the renderer: enough to find a record in the cache."""
    return (model.id, model.version, model.updated_at)


def _group_links(links):
    grouped = defaultdict(list)
    for link in links:
        grouped[link.pop("local_id")].append(link)
    return grouped


def select_fields(record, names):
    """Sparse fieldset: keep the named top-level fields, and always the id."""
    return {key: value for key, value in record.items() if key == "id" or key in names}
