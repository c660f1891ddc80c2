"""Generate a large synthetic eventledger SQLite database (default 1,000,000 events) for the export benchmark.

    python bench/make_large_dataset.py --database /tmp/eventledger-1m.sqlite3 [--events 1000000]

The schema comes from the app itself (`api.migrations.create_tables()` in an app context, so every table,
index, trigger and FTS table it defines is there). The rows are then bulk inserted with the stdlib
sqlite3 `executemany` on the app's own connection (its pragmas and SQL functions, e.g. the Unicode
`lower`), in large transactions with `synchronous=OFF`, not through the seed loader, which validates
and upserts one record at a time and would take hours at this size.

Shape (scaled with `--events`; the defaults are for 1,000,000 events): 5,000 actors, 20,000 sources,
200,000 claims with 1-3 events, 1-3 actors with stances and 1-2 sources with stances and excerpts;
each event has 2-4 actors with roles from `schemas.vocabulary.EVENT_ROLES` and 1-2 sources with
100-250 character excerpts. Titles are 60-100 characters, summaries 300-600 (some in two paragraphs,
so CSV cells hold line breaks), with commas, quotes and some non-ASCII words. Event dates: about 65%
day, 20% month, 10% year precision over 2000-2025, 1% `XXXX-MM` and 4% undated; `date_start`,
`date_end` and `date_precision` come from `schemas.dates.date_range`, as the seed loader stores them.
About 30% of events have coordinates (a known place's, slightly jittered). Every vocabulary value is
valid; a sample of the generated records is validated by the `schemas.records` *Input schemas, and
`--check` also runs `PRAGMA foreign_key_check` and renders a few records through the API.

Search indexes: if `create_tables()` made triggers (e.g. to keep FTS tables in sync), they fire on
every insert by default (`--fts triggers`: slow but correct). `--fts rebuild` drops the triggers for
the load, recreates them and then runs the FTS `'rebuild'` command on every external-content FTS
table; it refuses when an FTS table is not external-content (its content would be lost).

Stored representations: every record's public JSON and CSV row (the `<table>_json` tables that pages and
exports read) are rendered after the load by the app's own `api.catalog.representations.refresh_representations`,
as `eventledger init-db` would.

Generation is deterministic (`--seed`). The dataset revision is set to 1, so `eventledger serve`
does not seed the shipped fixtures into it.
"""

import argparse
import bisect
import itertools
import random
import re
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import create_app  # noqa: E402
from api.catalog.representations import refresh_representations  # noqa: E402
from api.db import database  # noqa: E402
from api.migrations import create_tables  # noqa: E402
from schemas import vocabulary as vocab  # noqa: E402
from schemas.dates import date_range  # noqa: E402
from schemas.records import ActorInput, ClaimInput, EventInput, SourceInput  # noqa: E402

BATCH = 50_000  # records per executemany batch; one transaction per table section
REVISION = 1  # every record's `revision` (the dataset revision of its last change): the dataset's, set at the end
SAMPLE_EVERY = 5_000  # validate every Nth generated record with its *Input schema

# --- Text --------------------------------------------------------------------

_WORDS = (
    "drone factory sanctions intelligence report evidence investigation official assessment shipment "
    "component supplier engine airframe testing flight range delegation ministry statement denial "
    "allegation agency officials diplomats analysts satellite imagery production facility contract "
    "export import customs border cargo payment network subsidiary company state government region "
    "province capital summit meeting talks council committee parliament vote proposal package measure "
    "response strategy concern pressure support neutrality partnership cooperation training personnel "
    "the the the the of of of of and and and to to in in a a a on for with by from that was were has "
    "had said says reported according alleged confirmed denied disputed unverified claimed sources "
    "documents leaked shows suggests indicates unnamed senior western european chinese russian "
    "ukrainian iranian long-range attack strike warehouse port rail convoy loitering munitions "
    "components engines microchips dual-use electronics licences banks transfers networks brokers "
    "2023 2024 2025 three dozen several hundred thousands between during after before since until "
    "while although however meanwhile separately earlier later week month year night morning "
    "Reuters Bloomberg Kyiv Moscow Beijing Brussels Washington Tehran Minsk Ankara Berlin Paris "
    "Zürich Łódź Ürümqi São-Paulo Düsseldorf Kraków Москва Київ 北京 Gdańsk Malmö Tiranë"
)
_PUNCTUATED = ("said,", "however,", "reportedly,", "officials,", '"drones"', '"covert"', "(unconfirmed)", "sources;")
WORDS = tuple(_WORDS.split()) + _PUNCTUATED


class Corpus:
    """A long random text; a passage of about n characters is an O(1) slice of it at a word boundary."""

    def __init__(self, rng, size=4_000_000):
        words = rng.choices(WORDS, k=size // 6)
        self.text = " ".join(words) + " "
        self.starts = [m.end() for m in re.finditer(" ", self.text[: len(self.text) - 2_000])]
        self.rng = rng

    def passage(self, low, high):
        rng, text = self.rng, self.text
        start = self.starts[int(rng.random() * len(self.starts))]
        end = text.find(" ", start + low + int(rng.random() * (high - low)))  # at least `low` characters
        if end - start >= high:
            end = text.rfind(" ", start, start + high)
        chunk = text[start:end].rstrip(",;")
        return chunk[0].upper() + chunk[1:] + "."

    def words(self, low, high):
        """A short name-like phrase: title-cased words, no final period."""
        return self.passage(low, high)[:-1].title()


# --- Places, countries and dates -------------------------------------------------

PLACES = (
    ("Izhevsk", "RU", 56.85, 53.21),
    ("Moscow", "RU", 55.75, 37.62),
    ("Yelabuga", "RU", 55.76, 52.03),
    ("St Petersburg", "RU", 59.94, 30.31),
    ("Kyiv", "UA", 50.45, 30.52),
    ("Kharkiv", "UA", 49.99, 36.23),
    ("Odesa", "UA", 46.48, 30.72),
    ("Dnipro", "UA", 48.46, 35.05),
    ("Beijing", "CN", 39.90, 116.41),
    ("Shenzhen", "CN", 22.54, 114.06),
    ("Xinjiang", "CN", 41.12, 85.24),
    ("Ürümqi", "CN", 43.83, 87.62),
    ("Brussels", "BE", 50.85, 4.35),
    ("Berlin", "DE", 52.52, 13.40),
    ("Düsseldorf", "DE", 51.23, 6.77),
    ("Paris", "FR", 48.86, 2.35),
    ("Warsaw", "PL", 52.23, 21.01),
    ("Łódź", "PL", 51.76, 19.46),
    ("Washington", "US", 38.90, -77.04),
    ("New York", "US", 40.71, -74.01),
    ("London", "GB", 51.51, -0.13),
    ("Tehran", "IR", 35.69, 51.39),
    ("Isfahan", "IR", 32.65, 51.67),
    ("Pyongyang", "KP", 39.04, 125.76),
    ("Ankara", "TR", 39.93, 32.86),
    ("Istanbul", "TR", 41.01, 28.98),
    ("Minsk", "BY", 53.90, 27.56),
    ("Dubai", "AE", 25.20, 55.27),
    ("Almaty", "KZ", 43.24, 76.89),
    ("Tbilisi", "GE", 41.72, 44.78),
    ("Yerevan", "AM", 40.18, 44.51),
    ("Hong Kong", "HK", 22.32, 114.17),
    ("Buenos Aires", "AR", -34.60, -58.38),
    ("São Paulo", "BR", -23.55, -46.63),
    ("Johannesburg", "ZA", -26.20, 28.05),
)
COUNTRIES = tuple(sorted({place[1] for place in PLACES}))
LANGUAGES = ("en", "en", "en", "en", "ru", "uk", "zh", "de", "fr", "pl", None)
PUBLISHERS = (
    "Reuters",
    "The Modern Warfare",
    "AP",
    "Le Monde",
    "Der Spiegel",
    "Financial Times",
    "Kyiv Independent",
    "Meduza",
    "Nikkei Asia",
    None,
)
SOURCE_TYPES = tuple(vocab.SOURCE_TYPES)
RELIABILITY = tuple(vocab.RELIABILITY_GRADES)
ACTOR_KINDS = tuple(vocab.ACTOR_KINDS)
EVENT_TYPES = tuple(vocab.EVENT_TYPES)
ROLES = tuple(vocab.EVENT_ROLES)
STATUSES = tuple(vocab.CLAIM_STATUSES)
CREDIBILITY = tuple(vocab.CREDIBILITY_GRADES)
ACTOR_STANCES = tuple(vocab.CLAIM_ACTOR_STANCES)
SOURCE_STANCES = tuple(vocab.CLAIM_SOURCE_STANCES)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def partial_date(rng, first_year=2000, last_year=2025):
    """65% day, 20% month, 10% year precision; 1% `XXXX-MM`; 4% undated."""
    roll = rng.random()
    if roll < 0.04:
        return None
    if roll < 0.05:
        return f"XXXX-{rng.randint(1, 12):02d}"
    year = rng.randint(first_year, last_year)
    month = rng.randint(1, 12)
    if roll < 0.70:
        leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return f"{year}-{month:02d}-{rng.randint(1, _MONTH_DAYS[month - 1] + leap):02d}"
    if roll < 0.90:
        return f"{year}-{month:02d}"
    return str(year)


def date_columns(text):
    """(start, end, precision) exactly as seed.loader stores them."""
    if text is None:
        return None, None, None
    dates = date_range(text)
    return dates.start, dates.end, dates.precision


class Clock:
    """created_at/updated_at as peewee's DateTimeField stores them: `YYYY-MM-DD HH:MM:SS.ffffff`."""

    def __init__(self, rng):
        self.rng = rng
        self.base = datetime(2025, 11, 1, 8, 0, 0)

    def stamps(self, index):
        created = self.base + timedelta(seconds=index * 0.5, microseconds=self.rng.randrange(1, 1_000_000))
        if self.rng.random() < 0.1:  # edited later: version 2
            updated = created + timedelta(days=self.rng.randint(1, 20), seconds=self.rng.randrange(86_400))
            return str(created), str(updated), 2
        return str(created), str(created), 1


# --- Records -------------------------------------------------------------------


class Generator:
    def __init__(self, n_events, n_actors, n_sources, n_claims, seed):
        self.rng = random.Random(seed)
        self.text = Corpus(self.rng)
        self.clock = Clock(self.rng)
        self.n_events, self.n_actors, self.n_sources, self.n_claims = n_events, n_actors, n_sources, n_claims
        self.actor_ids = [f"actor-{i:05d}" for i in range(n_actors)]
        self.source_ids = [f"source-{i:05d}" for i in range(n_sources)]
        self.event_width = max(7, len(str(n_events)))
        self.samples = {"sources": [], "actors": [], "events": [], "claims": []}
        # Some actors and sources are far more often involved than others (a Zipf-like skew).
        self._actor_weights = list(itertools.accumulate(1 / (i + 1) ** 0.8 for i in range(n_actors)))
        self._source_weights = list(itertools.accumulate(1 / (i + 1) ** 0.6 for i in range(n_sources)))

    def event_id(self, i):
        return f"event-{i:0{self.event_width}d}"

    def _pick(self, ids, weights, k):
        rng, total, chosen = self.rng, weights[-1], []
        while len(chosen) < k:
            candidate = ids[bisect.bisect(weights, rng.random() * total)]
            if candidate not in chosen:
                chosen.append(candidate)
        return chosen

    def pick_actors(self, k):
        return self._pick(self.actor_ids, self._actor_weights, k)

    def pick_sources(self, k):
        return self._pick(self.source_ids, self._source_weights, k)

    # Each *_rows method yields (record row, [join rows...] per join table), and keeps a fixture-shaped
    # dict of every SAMPLE_EVERY-th record so that it can be validated by the input schema.

    def sources(self):
        rng, text = self.rng, self.text
        for i, sid in enumerate(self.source_ids):
            created, updated, version = self.clock.stamps(i)
            published = partial_date(rng, 2015, 2025)
            start, end, precision = date_columns(published)
            reported_in = self.source_ids[rng.randrange(i)] if i > 100 and rng.random() < 0.05 else None
            record = {
                "id": sid,
                "type": rng.choice(SOURCE_TYPES),
                "title": text.passage(40, 120),
                "publisher": rng.choice(PUBLISHERS),
                "author": text.words(10, 24) if rng.random() < 0.4 else None,
                "url": f"https://example.org/articles/{sid}",
                "published": published,
                "published_note": text.passage(40, 100) if rng.random() < 0.1 else None,
                "language": rng.choice(LANGUAGES),
                "reliability": rng.choice(RELIABILITY),
                "reliability_rationale": text.passage(100, 250),
                "document": f"{sid}.txt" if reported_in is None else None,
                "reported_in": reported_in,
            }
            if i % SAMPLE_EVERY == 0:
                self.samples["sources"].append(record)
            yield (
                (
                    sid,
                    created,
                    updated,
                    version,
                    REVISION,
                    record["type"],
                    record["title"],
                    record["publisher"],
                    record["author"],
                    record["url"],
                    published,
                    start,
                    end,
                    precision,
                    record["published_note"],
                    record["language"],
                    record["reliability"],
                    record["reliability_rationale"],
                    record["document"],
                    reported_in,
                ),
                (),
            )

    def actors(self):
        rng, text = self.rng, self.text
        for i, aid in enumerate(self.actor_ids):
            created, updated, version = self.clock.stamps(i)
            aliases = [text.words(8, 30) for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))]
            record = {
                "id": aid,
                "name": text.words(12, 45),
                "kind": rng.choice(ACTOR_KINDS),
                "country": rng.choice(COUNTRIES) if rng.random() < 0.85 else None,
                "aliases": aliases,
                "parent": self.actor_ids[rng.randrange(i)] if i > 10 and rng.random() < 0.2 else None,
                "description": text.passage(100, 300),
            }
            if i % SAMPLE_EVERY == 0:
                self.samples["actors"].append(record)
            alias_json = orjson.dumps(aliases).decode()  # as seed.loader stores them
            yield (
                (
                    aid,
                    created,
                    updated,
                    version,
                    REVISION,
                    record["name"],
                    record["kind"],
                    record["country"],
                    alias_json,
                    record["parent"],
                    record["description"],
                ),
                (),
            )

    def events(self):
        rng, text = self.rng, self.text
        for i in range(self.n_events):
            eid = self.event_id(i)
            created, updated, version = self.clock.stamps(i)
            date = partial_date(rng)
            start, end, precision = date_columns(date)
            summary = text.passage(300, 600)
            if rng.random() < 0.1:  # two paragraphs
                cut = summary.find(" ", len(summary) // 2)
                summary = summary[:cut] + ".\n\n" + summary[cut + 1].upper() + summary[cut + 2 :]
            elif rng.random() < 0.005:  # a leading dash: a formula trigger for spreadsheets
                summary = "- " + summary
            roll = rng.random()
            if roll < 0.85:
                place, country, lat, lon = rng.choice(PLACES)
                if rng.random() < 0.35:  # ~30% of all events
                    lat, lon = round(lat + rng.uniform(-0.2, 0.2), 5), round(lon + rng.uniform(-0.2, 0.2), 5)
                else:
                    lat = lon = None
                if rng.random() < 0.15:
                    place = None
            else:
                place, country, lat, lon = None, None, None, None
            actors = self.pick_actors(rng.randint(2, 4))
            roles = [(actor, rng.choice(ROLES)) for actor in actors]
            if rng.random() < 0.05:  # the same actor in a second role, as in the shipped data
                second = rng.choice(ROLES)
                if (actors[0], second) not in roles:
                    roles.append((actors[0], second))
            sources = [(source, text.passage(100, 250)) for source in self.pick_sources(rng.randint(1, 2))]
            record = {
                "id": eid,
                "title": text.passage(60, 100),
                "summary": summary,
                "type": rng.choice(EVENT_TYPES),
                "date": date,
                "date_approximate": rng.random() < 0.15,
                "date_note": text.passage(40, 140) if rng.random() < 0.4 else None,
                "location": {"place": place, "country": country, "latitude": lat, "longitude": lon},
                "actors": [{"actor": actor, "role": role} for actor, role in roles],
                "sources": [{"source": source, "excerpt": excerpt} for source, excerpt in sources],
            }
            if i % SAMPLE_EVERY == 0:
                self.samples["events"].append(record)
            yield (
                (
                    eid,
                    created,
                    updated,
                    version,
                    REVISION,
                    record["title"],
                    summary,
                    record["type"],
                    date,
                    start,
                    end,
                    precision,
                    int(record["date_approximate"]),
                    record["date_note"],
                    place,
                    country,
                    lat,
                    lon,
                ),
                (
                    [(eid, actor, role, position) for position, (actor, role) in enumerate(roles)],
                    [(eid, source, excerpt, position) for position, (source, excerpt) in enumerate(sources)],
                ),
            )

    def claims(self):
        rng, text = self.rng, self.text
        for i in range(self.n_claims):
            cid = f"claim-{i:06d}"
            created, updated, version = self.clock.stamps(i)
            # Claims cluster on nearby events (the same story), as curated claims do.
            anchor = rng.randrange(self.n_events)
            events = []
            for _ in range(rng.randint(1, 3)):
                eid = self.event_id(min(self.n_events - 1, max(0, anchor + rng.randint(-50, 50))))
                if eid not in events:
                    events.append(eid)
            actors = [(actor, rng.choice(ACTOR_STANCES)) for actor in self.pick_actors(rng.randint(1, 3))]
            sources = [
                (source, rng.choice(SOURCE_STANCES), text.passage(100, 250))
                for source in self.pick_sources(rng.randint(1, 2))
            ]
            record = {
                "id": cid,
                "statement": text.passage(80, 200),
                "status": rng.choice(STATUSES),
                "status_rationale": text.passage(100, 250),
                "credibility": rng.choice(CREDIBILITY),
                "credibility_rationale": text.passage(100, 250),
                "events": events,
                "actors": [{"actor": actor, "stance": stance} for actor, stance in actors],
                "sources": [{"source": s, "stance": stance, "excerpt": e} for s, stance, e in sources],
            }
            if i % SAMPLE_EVERY == 0:
                self.samples["claims"].append(record)
            yield (
                (
                    cid,
                    created,
                    updated,
                    version,
                    REVISION,
                    record["statement"],
                    record["status"],
                    record["status_rationale"],
                    record["credibility"],
                    record["credibility_rationale"],
                ),
                (
                    [(cid, eid, position) for position, eid in enumerate(events)],
                    [(cid, actor, stance, position) for position, (actor, stance) in enumerate(actors)],
                    [(cid, s, stance, e, position) for position, (s, stance, e) in enumerate(sources)],
                ),
            )


# --- Writing -------------------------------------------------------------------

COLUMNS = {
    "source": "id, created_at, updated_at, version, revision, type, title, publisher, author, url, published, "
    "published_start, published_end, published_precision, published_note, language, reliability, "
    "reliability_rationale, document, reported_in_id",
    "actor": "id, created_at, updated_at, version, revision, name, kind, country, aliases, parent_id, description",
    "event": "id, created_at, updated_at, version, revision, title, summary, type, date, date_start, date_end, "
    "date_precision, date_approximate, date_note, place, country, latitude, longitude",
    "claim": "id, created_at, updated_at, version, revision, statement, status, status_rationale, credibility, "
    "credibility_rationale",
    "event_actor": "event_id, actor_id, role, position",
    "event_source": "event_id, source_id, excerpt, position",
    "claim_event": "claim_id, event_id, position",
    "claim_actor": "claim_id, actor_id, stance, position",
    "claim_source": "claim_id, source_id, stance, excerpt, position",
}
JOINS = {
    "source": (),
    "actor": (),
    "event": ("event_actor", "event_source"),
    "claim": ("claim_event", "claim_actor", "claim_source"),
}


def insert_sql(table):
    columns = COLUMNS[table]
    marks = ", ".join("?" * len(columns.split(",")))
    return f'INSERT INTO "{table}" ({columns}) VALUES ({marks})'


def write_table(conn, table, rows, total, progress):
    """Insert record rows and their join rows in batches of BATCH records, one transaction per batch."""
    joins = JOINS[table]
    counts = dict.fromkeys((table, *joins), 0)
    started = time.perf_counter()
    rows = iter(rows)
    done = 0
    while True:
        batch = list(itertools.islice(rows, BATCH))
        if not batch:
            break
        conn.execute("BEGIN")
        conn.executemany(insert_sql(table), [record for record, _ in batch])
        counts[table] += len(batch)
        for index, join in enumerate(joins):
            join_rows = [row for _, links in batch for row in links[index]]
            conn.executemany(insert_sql(join), join_rows)
            counts[join] += len(join_rows)
        conn.execute("COMMIT")
        done += len(batch)
        if progress and (done % (BATCH * 4) == 0 or done == total):
            rate = done / (time.perf_counter() - started)
            print(f"  {table}: {done:,}/{total:,} ({rate:,.0f} records/s)", flush=True)
    return counts, time.perf_counter() - started


def schema_objects(conn):
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    triggers = [(name, table, sql) for kind, name, table, sql in rows if kind == "trigger"]
    virtual = [
        (name, sql) for kind, name, _, sql in rows if kind == "table" and sql.upper().startswith("CREATE VIRTUAL")
    ]
    return triggers, virtual


def external_content(sql):
    """The content table of an FTS4/FTS5 `CREATE VIRTUAL TABLE`, or None when it stores its own content."""
    match = re.search(r"content\s*=\s*['\"]?([^'\",)\s]*)", sql, re.IGNORECASE)
    return match.group(1) if match and match.group(1) else None


def validate_samples(samples):
    schemas = {"sources": SourceInput(), "actors": ActorInput(), "events": EventInput(), "claims": ClaimInput()}
    count = 0
    for name, records in samples.items():
        for record in records:
            schemas[name].load(record)  # raises ValidationError on any invalid value
            count += 1
    return count


def check_through_api(app, gen):
    """Foreign keys hold, and a few records of each kind render through the API with status 200."""
    problems = database.execute_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise SystemExit(f"foreign_key_check: {len(problems)} violations, e.g. {problems[:3]}")
    client = app.test_client()
    paths = [
        "/api/v1/events?limit=100",
        "/api/v1/claims?limit=20&include=actors,sources,events",
        "/api/v1/events?limit=20&include=actors,sources",
        "/api/v1/actors?limit=50",
        "/api/v1/sources?limit=50",
    ]
    paths += [f"/api/v1/events/{gen.event_id(i)}" for i in (0, gen.n_events // 2, gen.n_events - 1)]
    paths += ["/api/v1/actors/actor-00000", "/api/v1/sources/source-00000", "/api/v1/claims/claim-000000"]
    for path in paths:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status_code}: {response.get_data(as_text=True)[:500]}")
    return len(paths)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="SQLite file to create (must not exist)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--actors", type=int, help="default: events / 200 (5,000 for 1M events)")
    parser.add_argument("--sources", type=int, help="default: events / 50 (20,000 for 1M events)")
    parser.add_argument("--claims", type=int, help="default: events / 5 (200,000 for 1M events)")
    parser.add_argument("--seed", type=int, default=20251130)
    parser.add_argument(
        "--fts",
        choices=("triggers", "rebuild"),
        default="triggers",
        help="with triggers from create_tables: let them fire (default) or drop them for the load, "
        "recreate them and run the FTS 'rebuild' command",
    )
    parser.add_argument("--check", action="store_true", help="also PRAGMA foreign_key_check and render via the API")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    path = Path(args.database).resolve()
    if path.exists():
        parser.error(f"{path} exists; remove it (and its -wal/-shm files) first")
    n_actors = args.actors or max(20, args.events // 200)
    n_sources = args.sources or max(20, args.events // 50)
    n_claims = args.claims if args.claims is not None else args.events // 5

    timings = {}
    started = time.perf_counter()
    app = create_app({"DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context(), database.connection_context():
        create_tables()
        conn = database.connection()  # the app's own sqlite3 connection: its pragmas and functions
        triggers, virtual = schema_objects(conn)
        print(f"create_tables(): {len(triggers)} triggers, {len(virtual)} virtual tables")
        for name, sql in virtual:
            print(f"  virtual table {name}: {sql}")
        for name, table, _ in triggers:
            print(f"  trigger {name} on {table}")
        dropped = []
        if args.fts == "rebuild" and triggers:
            own_content = [name for name, sql in virtual if "fts" in sql.lower() and not external_content(sql)]
            if own_content:
                raise SystemExit(f"--fts rebuild: {own_content} store their own content; use --fts triggers")
            for name, _, sql in triggers:
                conn.execute(f'DROP TRIGGER "{name}"')
                dropped.append(sql)
            print(f"  dropped {len(dropped)} triggers for the load")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=OFF")  # the generator only references ids it created before
        conn.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache for the index inserts
        conn.execute("PRAGMA temp_store=MEMORY")
        timings["schema"] = time.perf_counter() - started

        gen = Generator(args.events, n_actors, n_sources, n_claims, args.seed)
        totals = {}
        for table, rows, total in (
            ("source", gen.sources(), n_sources),
            ("actor", gen.actors(), n_actors),
            ("event", gen.events(), args.events),
            ("claim", gen.claims(), n_claims),
        ):
            counts, seconds = write_table(conn, table, rows, total, not args.quiet)
            totals.update(counts)
            timings[table] = seconds

        if dropped:
            begin = time.perf_counter()
            for sql in dropped:
                conn.execute(sql)
            for name, sql in virtual:
                if "fts" in sql.lower():
                    conn.execute(f'INSERT INTO "{name}"("{name}") VALUES(\'rebuild\')')
            timings["fts rebuild"] = time.perf_counter() - begin

        conn.execute("UPDATE dataset_state SET revision = 1, changed_at = ? WHERE id = 1", (str(gen.clock.base),))
        # Each record's stored JSON and CSV row (the `*_json` tables pages and exports read), rendered by the app's
        # own code: create_tables() rendered none (the tables were empty then), so this renders every record.
        begin = time.perf_counter()
        refresh_representations()
        timings["stored json"] = time.perf_counter() - begin
        begin = time.perf_counter()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        timings["checkpoint"] = time.perf_counter() - begin

        begin = time.perf_counter()
        validated = validate_samples(gen.samples)
        timings["validate samples"] = time.perf_counter() - begin
        if args.check:
            begin = time.perf_counter()
            rendered = check_through_api(app, gen)
            timings["check"] = time.perf_counter() - begin
            print(f"check: no foreign key violations; {rendered} API requests answered 200")
    database.close_all()

    total_time = time.perf_counter() - started
    size = path.stat().st_size
    print(f"{path}: {size / 2**20:,.0f} MiB")
    print("rows: " + ", ".join(f"{table} {count:,}" for table, count in totals.items()))
    print(f"validated {validated} sampled records with the schemas.records *Input schemas")
    print("seconds: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items()))
    print(f"total {total_time:.1f} s")


if __name__ == "__main__":
    main()
