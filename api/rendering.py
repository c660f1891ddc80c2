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
        self.max_size = max_size
        self._cache = OrderedDict()

    def _key(self, spec, row):
        return (spec.name, row["id"], row["version"], row["updated_at"])

    def render(self, spec, rows):
        """[(dict, bytes)] for rows, dumping by schema only those not seen at their version."""
        keys = [self._key(spec, row) for row in rows]
        misses = [row for row, key in zip(rows, keys, strict=True) if key not in self._cache]
        if misses:
            self._render_misses(spec, misses)
        rendered = []
        for key in keys:
            entry = self._cache.get(key)
            if entry is None:  # evicted by a page larger than the cache
                entry = self._render_misses(spec, [row for row in rows if self._key(spec, row) == key])[0]
            rendered.append(entry)
        return rendered

    def _render_misses(self, spec, rows):
        owned = {name: rel for name, rel in spec.relations.items() if rel.owned}
        links = {name: _group_links(rel.links(row["id"] for row in rows)) for name, rel in owned.items()}
        entries = []
        for row in rows:
            data = dict(row)
            for name in owned:
                data[name] = links[name].get(row["id"], [])
            record = spec.schema.dump(data)
            entry = (record, orjson.dumps(record))
            self._cache[self._key(spec, row)] = entry
            entries.append(entry)
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
        target_rows = (
            list(target.model.select().where(target.model.id.in_(list(target_ids))).dicts()) if target_ids else []
        )
        related = {
            row["id"]: data for row, (data, _) in zip(target_rows, self.render(target, target_rows), strict=True)
        }
        if not full:
            related = {rid: {name: data.get(name) for name in target.summary_fields} for rid, data in related.items()}
        by_record = defaultdict(list)
        for link in links:
            attributes = {key: value for key, value in link.items() if key != "local_id"}
            by_record[link["local_id"]].append({**related.get(link["id"], {}), **attributes})
        for record in records:
            record[relation_name] = by_record.get(record["id"], [])


def _group_links(links):
    grouped = defaultdict(list)
    for link in links:
        grouped[link.pop("local_id")].append(link)
    return grouped


def select_fields(record, names):
    """Sparse fieldset: keep the named top-level fields, and always the id."""
    return {key: value for key, value in record.items() if key == "id" or key in names}
