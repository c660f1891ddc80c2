"""Full-text search (`q`) on each database's own index: matching, relevance order and snippets.

SQLite keeps one FTS5 table per resource (`event_search`), external content over the
resource's `text_columns`, synchronised by triggers on the base table so that every
writer (the seed loader today, a write API later) keeps it current without knowing it
exists. PostgreSQL has a GIN index on a weighted `to_tsvector` expression of the same
columns; queries spell that expression exactly as the index does, which is what lets
the planner use the index.

`q` is split on white space and each word goes to the database quoted and as a prefix
(FTS5 `"word"*`, tsquery `'word':*`): every word must match, `drone` finds `drones`,
operators and punctuation in user text are plain text, and the word is tokenised by the
same tokenizer that indexed the records (a word the tokenizer splits, like `code_name`,
becomes a phrase). The first text column (a title, a name, a statement) weighs most.

Relevance is a number per record and query, `match.rank`, higher is better: BM25
(negated FTS5 `bm25()`) on SQLite, `ts_rank` on PostgreSQL. The two scales differ;
a rank compares records of one search, on one backend, at one dataset revision.
"""

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass
from functools import reduce

from peewee import JOIN, SQL, Case, Column, Expression, PostgresqlDatabase, Table, fn

from api.catalog.declarations import SortKey
from api.db import database, padded_ids, select_by_shape
from api.errors import BadParameter
from api.tables import STORED_JSON

RELEVANCE = "relevance"
# Column weights by position in `text_columns`: a PostgreSQL weight letter (ts_rank's defaults
# make them 1.0, 0.4 and 0.2) and an FTS5 bm25 weight. ts_rank counts each further occurrence
# less, so that a title hit outweighs any number of hits in the summary; bm25 adds weighted
# occurrences up, so its weights lie further apart: a title hit is worth four in the summary.
WEIGHTS = (("A", 1.0), ("B", 0.25), ("C", 0.1))
FTS5_TOKENIZER = "porter unicode61 remove_diacritics 2"
TEXT_SEARCH_CONFIG = "english"
# PostgreSQL: each record's weighted tsvector, a stored column generated from its text columns.
SEARCH_VECTOR = "search_vector"
# The databases mark matches with these; the rest of a snippet is HTML-escaped before
# they become <mark> tags. Control characters cannot come in through `q`, and a stray one
# in a record's text can only misplace a highlight, never produce markup.
MARK_START, MARK_END = "\x02", "\x03"
ELLIPSIS = "…"
SNIPPET_TOKENS = 16
# How many matches beyond a first page the ranking reads to order ties by id (see `Fts5Search.ranked`).
RANKED_TIES = 64
# ts_headline's default (not fragment) mode: a short field whole, a long one from its best cover.
HEADLINE_OPTIONS = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_TOKENS}, MinWords=8"
COLUMN_SEPARATOR = f" {ELLIPSIS} "
_MARKS = re.compile(f"([{MARK_START}{MARK_END}])")


def is_postgres():
    return isinstance(database.obj, PostgresqlDatabase)


def search_words(q):
    """The words of `q` that hold a letter or a digit; a 400 when none does (`q=***`)."""
    words = [
        word
        for word in unicodedata.normalize("NFC", q).split()
        if any(unicodedata.category(character)[0] in "LN" for character in word)
    ]
    if not words:
        raise BadParameter("q", "Give at least one word with a letter or a digit; punctuation alone matches nothing.")
    return words


def _weights(columns):
    return [WEIGHTS[min(position, len(WEIGHTS) - 1)] for position in range(len(columns))]


@dataclass(frozen=True)
class RelevanceKey(SortKey):
    """Sorts by a score that is the negated rank, so ascending (`sort=relevance`) is best first.

    `field` is the score aliased for the select list (the cursor reads it by that name);
    comparisons and ORDER BY need the expression itself, which PostgreSQL cannot refer to by alias.
    """

    def expression(self, descending, column=None):
        return self.field.unalias() if column is None else column


class Fts5Search:
    """SQLite: a join to the FTS5 table's matches, each with its bm25 score (lower is better)."""

    def __init__(self, spec, words):
        self.spec = spec
        self.name = search_table_name(spec.model)
        self.match = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
        matches = Table(self.name).select(SQL("rowid").alias("rowid"), self._bm25().alias("score"))
        self.matches = matches.where(self._match_condition()).alias("search")
        self.sort_key = RelevanceKey(self.matches.c.score.alias(RELEVANCE))

    def _hidden_column(self):
        # FTS5's hidden column, named after the table, takes MATCH and the auxiliary functions.
        return SQL(_quote(self.name))

    def _match_condition(self):
        return Expression(self._hidden_column(), "MATCH", self.match)

    def _bm25(self):
        return fn.bm25(self._hidden_column(), *(value for _, value in _weights(self.spec.text_columns)))

    def apply(self, query):
        return query.join(self.matches, on=(self.matches.c.rowid == Column(self.spec.model, "rowid")))

    def _snippet(self):
        return fn.snippet(self._hidden_column(), -1, MARK_START, MARK_END, ELLIPSIS, SNIPPET_TOKENS)

    def ranked(self, count):
        """The `count` best matches as page rows (id, stored JSON, relevance), best first, then by id;
        None when more matches tie with the last of them than it looked at.

        The FTS5 table alone ranks them, and its snippets are made in the same pass for the rows kept
        only (SQLite evaluates the other columns of an ORDER BY ... LIMIT query only for the rows that
        stay in its top): `count` rows and as many again, at least 64, so that the matches tied on score
        with the last one kept (records of one shape often score alike) are all there to be ordered by id. Only those
        candidates join their records; `found` keeps each match's rank and snippet for `add_matches`.
        """
        weights = [value for _, value in _weights(self.spec.text_columns)]
        snippet_params = [-1, MARK_START, MARK_END, ELLIPSIS, SNIPPET_TOKENS]
        looked_at = count + max(count, RANKED_TIES)

        def build_ranking():
            fts = Table(self.name)
            score = self._bm25().alias("score")
            query = fts.select(SQL("rowid"), score, self._snippet().alias("snippet")).where(self._match_condition())
            return query.order_by(SQL("score")).limit(looked_at)

        shape = ("fts5 ranking", self.name, len(weights), looked_at)
        ranking = select_by_shape(shape, build_ranking, [*weights, *snippet_params, self.match, looked_at])
        if len(ranking) > count:
            last_kept = ranking[count - 1]["score"]
            if len(ranking) == looked_at and ranking[-1]["score"] == last_kept:
                return None
            ranking = [match for match in ranking if match["score"] <= last_kept]
        model, stored = self.spec.model, STORED_JSON[self.spec.model]
        rowids = padded_ids(match["rowid"] for match in ranking)

        def build_records():
            rowid = Column(model, "rowid")
            query = model.select(rowid.alias("rowid"), model.id, stored.json.alias("representation"))
            return query.join(stored, JOIN.LEFT_OUTER, on=(stored.record == model.id)).where(rowid.in_(rowids))

        shape = ("fts5 records", self.name, len(rowids))
        records = {row["rowid"]: row for row in select_by_shape(shape, build_records, rowids)}
        if len(records) < len(ranking):  # a match whose record is gone: the full query decides
            return None
        rows = []
        self.found = {}
        for match in ranking:
            record = records[match["rowid"]]
            rows.append({"id": record["id"], "representation": record["representation"], RELEVANCE: match["score"]})
            self.found[record["id"]] = (-match["score"], match["snippet"])
        rows.sort(key=lambda row: (row[RELEVANCE], row["id"]))
        return rows[:count]

    def index_matches(self):
        """The matching rows of the FTS5 table alone: counted without a join, as the triggers keep it
        one row per record."""
        return Table(self.name).select(SQL("rowid")).where(self._match_condition()).bind(database)

    def matches_of(self, ids):
        model = self.spec.model
        snippet = self._snippet()
        fts = Table(self.name)
        query = (
            model.select(model.id, (self._bm25() * -1).alias("rank"), snippet.alias("snippet"))
            .join(fts, on=(Column(fts, "rowid") == Column(model, "rowid")))
            .where(self._match_condition() & model.id.in_(ids))
        )
        return query.tuples()


class TsvectorSearch:
    """PostgreSQL: the record's stored, indexed tsvector @@ a prefix tsquery, ranked by ts_rank."""

    def __init__(self, spec, words):
        self.spec = spec
        # The stored column, not the expression: ranking reads each match's vector, which the expression
        # would build again from the text of every match (most of a search's time, measured).
        self.document = Column(spec.model, SEARCH_VECTOR)
        lexemes = " & ".join("'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" for word in words)
        self.query = fn.to_tsquery(_config(), lexemes)
        # Normalisation 1 divides by 1 + log(length), so that a long text does not win by size alone.
        # float8, not ts_rank's float4: a cursor carries the rank as a JSON double, and only a
        # double compares equal to itself after the round trip.
        self.rank = fn.ts_rank(self.document, self.query, SQL("1")).cast("float8")
        self.sort_key = RelevanceKey((self.rank * -1).alias(RELEVANCE))

    def apply(self, query):
        return query.where(Expression(self.document, "@@", self.query))

    def _headline(self):
        """The first text column (in weight order) that matches the whole query, else all of them joined.

        Like FTS5's snippet(), this shows one field where one field matches, instead of fragments
        that run from one field into the next.
        """
        config, columns = _config(), self.spec.text_columns
        choices = [
            Case(
                None,
                [(Expression(_column_vector(column), "@@", self.query), self._headline_of(config, column))],
            )
            for column in columns
        ]
        return fn.COALESCE(*choices, self._headline_of(config, fn.concat_ws(COLUMN_SEPARATOR, *columns)))

    def _headline_of(self, config, text):
        return fn.ts_headline(config, text, self.query, HEADLINE_OPTIONS)

    def matches_of(self, ids):
        model = self.spec.model
        query = model.select(model.id, self.rank.alias("rank"), self._headline().alias("snippet"))
        return query.where(model.id.in_(ids)).tuples()


def _config():
    # A literal, not a parameter: the expression must read exactly as the index's does.
    return SQL(f"'{TEXT_SEARCH_CONFIG}'::regconfig")


def _column_vector(column):
    return fn.to_tsvector(_config(), fn.COALESCE(column, SQL("''")))


def tsvector_document(columns):
    """setweight(to_tsvector(config, coalesce(column, '')), weight) || ...: the index's expression."""
    parts = [
        fn.setweight(_column_vector(column), SQL(f"'{letter}'"))
        for column, (letter, _) in zip(columns, _weights(columns), strict=True)
    ]
    return reduce(lambda left, right: left.concat(right), parts)


def text_search(spec, args):
    """The search for the request's `q`, or None without one."""
    if not args.get("q"):
        return None
    words = search_words(args["q"])
    return TsvectorSearch(spec, words) if is_postgres() else Fts5Search(spec, words)


def sort_choices(spec, args, search):
    """(sort keys, default sort): with `q`, `relevance` is a key and the default."""
    if search is not None:
        return {**spec.sort_keys, RELEVANCE: search.sort_key}, RELEVANCE
    if any(item.lstrip("-") == RELEVANCE for item in args.get("sort") or ()):
        raise BadParameter("sort", "`relevance` orders records by how well they match `q`: give `q`, or another sort.")
    return spec.sort_keys, spec.default_sort


def add_matches(search, records):
    """Set `match` (rank and HTML snippet) of `search` on each record of a page: one query, whatever its size."""
    if not records:
        return
    ids = [record["id"] for record in records]
    known = getattr(search, "found", {})
    matches = [(record_id, *known[record_id]) for record_id in ids] if all(i in known for i in ids) else None
    found = {
        record_id: {"rank": rank, "snippet": snippet_html(snippet)}
        for record_id, rank, snippet in (matches or search.matches_of(ids))
    }
    for record in records:
        # A record changed between the page and this query may no longer match: it keeps its place, unranked.
        record["match"] = found.get(record["id"], {"rank": None, "snippet": None})


def snippet_html(text):
    """The database's marked snippet as HTML: text escaped, marks as balanced <mark> elements."""
    if text is None:
        return None
    pieces, marking = [], False
    for piece in _MARKS.split(text):
        if piece == MARK_START:
            if not marking:
                pieces.append("<mark>")
            marking = True
        elif piece == MARK_END:
            if marking:
                pieces.append("</mark>")
            marking = False
        else:
            pieces.append(html.escape(piece))
    if marking:
        pieces.append("</mark>")
    return "".join(pieces)


# --- Index DDL: run by api.migrations.create_tables --------------------------------


def search_table_name(model):
    return f"{model._meta.table_name}_search"


def _quote(identifier):
    return '"' + identifier.replace('"', '""') + '"'


def create_search_indexes(specs):
    for spec in specs:
        if is_postgres():
            _create_gin_index(spec)
        else:
            _create_fts5_table(spec)


def _fts5_statements(spec):
    """{name: CREATE statement} of the FTS5 table and the triggers that keep it in sync (the FTS5 docs' pattern)."""
    base, name = spec.model._meta.table_name, search_table_name(spec.model)
    table, fts = _quote(base), _quote(name)
    columns = [_quote(column.column_name) for column in spec.text_columns]
    listed = ", ".join(columns)
    new_values = ", ".join(f"new.{column}" for column in columns)
    old_values = ", ".join(f"old.{column}" for column in columns)
    insert = f"INSERT INTO {fts}(rowid, {listed}) VALUES (new.rowid, {new_values});"
    delete = f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.rowid, {old_values});"
    triggers = {"insert": insert, "delete": delete, "update": f"{delete} {insert}"}
    statements = {
        name: f"CREATE VIRTUAL TABLE {fts} USING fts5({listed}, content={table}, content_rowid='rowid', "
        f"tokenize='{FTS5_TOKENIZER}')"
    }
    for event, body in triggers.items():
        trigger = f"{name}_{event}"
        statements[trigger] = f"CREATE TRIGGER {_quote(trigger)} AFTER {event.upper()} ON {table} BEGIN {body} END"
    return statements


def _fts5_current(statements):
    names = list(statements)
    placeholders = ", ".join("?" for _ in names)
    rows = database.execute_sql(f"SELECT name, sql FROM sqlite_master WHERE name IN ({placeholders})", names)
    found = {name: " ".join(sql.split()) for name, sql in rows.fetchall()}
    return found == {name: " ".join(sql.split()) for name, sql in statements.items()}


def _create_fts5_table(spec):
    """Create the FTS5 table and its triggers, and index every record, unless they are current.

    Dropping the base table drops its triggers, and a database made before search has none:
    either way the table is rebuilt from scratch, so the index never holds rows it lost track of.
    The join key is the implicit rowid. VACUUM keeps it in practice, but SQLite promises that only
    for an INTEGER PRIMARY KEY: after a tool that renumbers rows, run the 'rebuild' command below.
    """
    statements = _fts5_statements(spec)
    if _fts5_current(statements):
        return
    name = search_table_name(spec.model)
    with database.atomic("IMMEDIATE"):
        if _fts5_current(statements):  # another process finished it while this one waited for the lock
            return
        for trigger in list(statements)[1:]:
            database.execute_sql(f"DROP TRIGGER IF EXISTS {_quote(trigger)}")
        database.execute_sql(f"DROP TABLE IF EXISTS {_quote(name)}")
        for statement in statements.values():
            database.execute_sql(statement)
        database.execute_sql(f"INSERT INTO {_quote(name)}({_quote(name)}) VALUES ('rebuild')")


def _create_gin_index(spec):
    """The stored tsvector column (generated from the text columns) and its GIN index, named after a
    digest of the definition.

    A change of columns, weights or configuration makes a new name: the column is generated anew and
    indexed, instead of an outdated one silently no longer matching the text. (Databases made before
    the column had an index on the expression itself; it goes too.)
    """
    model = spec.model
    table = _quote(model._meta.table_name)
    columns = [column.column_name for column in spec.text_columns]
    letters = [letter for letter, _ in _weights(spec.text_columns)]
    definition = repr((columns, letters, TEXT_SEARCH_CONFIG, SEARCH_VECTOR))
    digest = hashlib.sha1(definition.encode(), usedforsecurity=False).hexdigest()[:10]
    prefix = f"{search_table_name(model)}_"
    name = prefix + digest
    with database.atomic():
        found = database.execute_sql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
            "AND starts_with(indexname, %s)",
            (model._meta.table_name, prefix),
        )
        found = [index_name for (index_name,) in found.fetchall()]
        for stale_name in found:
            if stale_name != name:
                database.execute_sql(f"DROP INDEX IF EXISTS {_quote(stale_name)}")
        if name in found:
            return
        database.execute_sql(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {SEARCH_VECTOR}")
        document, params = database.get_sql_context().sql(tsvector_document(spec.text_columns)).query()
        unqualified = document.replace(f'"{_alias_of(document)}".', "") if _alias_of(document) else document
        database.execute_sql(
            f"ALTER TABLE {table} ADD COLUMN {SEARCH_VECTOR} tsvector GENERATED ALWAYS AS ({unqualified}) STORED",
            params or None,
        )
        database.execute_sql(f"CREATE INDEX {_quote(name)} ON {table} USING gin ({SEARCH_VECTOR})")


def _alias_of(sql):
    match = re.search(r'"(t\d+)"\.', sql)
    return match.group(1) if match else None
