"""Create a synthetic eventledger SQLite database for the benchmark, through the project's own loader.

    python bench/make_dataset.py /tmp/bench.sqlite3 [--events 5000] [--actors 300] [--sources 100] [--claims 2000]

Records are fixture-shaped dicts, validated by the input schemas exactly as the
tests' `load` fixture does (schemas.records *Input), then written with
seed.loader.write_fixtures in one transaction. Generation is deterministic
(seeded RNG), so every run builds the same dataset.
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.db import bind_database, database  # noqa: E402
from api.migrations import create_tables  # noqa: E402
from schemas import vocabulary as vocab  # noqa: E402
from seed.loader import FILES, write_fixtures  # noqa: E402

_WORD_TEXT = (
    "drone factory sanctions intelligence report evidence investigation official assessment shipment "
    "component supplier engine airframe testing flight range delegation ministry statement denial "
    "allegation agency officials diplomats analysts satellite imagery production facility contract "
    "export import customs border cargo payment network subsidiary company state government region "
    "province capital summit meeting talks council committee parliament vote proposal package measure "
    "response strategy concern pressure support neutrality partnership cooperation training personnel "
)
WORDS = tuple(_WORD_TEXT.split())
COUNTRIES = ("CN", "RU", "UA", "DE", "FR", "PL", "US", "GB", "IR", "KP", "TR", "BY", None)


def sentence(rng, length):
    """Text of about `length` characters."""
    words, size = [], 0
    while size < length:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def partial_date(rng):
    """Mostly real dates over 2022-2025 at day/month/year precision; a few undated or year-unknown."""
    roll = rng.random()
    if roll < 0.03:
        return None
    if roll < 0.04:
        return f"XXXX-{rng.randint(1, 12):02d}"
    year = rng.randint(2022, 2025)
    month = rng.randint(1, 12)
    if roll < 0.70:
        return f"{year}-{month:02d}-{rng.randint(1, 28):02d}"
    if roll < 0.90:
        return f"{year}-{month:02d}"
    return str(year)


def make_records(n_events, n_actors, n_sources, n_claims, seed=20240925):
    rng = random.Random(seed)
    source_ids = [f"source-{i:04d}" for i in range(n_sources)]
    actor_ids = [f"actor-{i:04d}" for i in range(n_actors)]
    event_ids = [f"event-{i:05d}" for i in range(n_events)]

    sources = [
        {
            "id": sid,
            "type": rng.choice(list(vocab.SOURCE_TYPES)),
            "title": sentence(rng, 70),
            "publisher": rng.choice(["Reuters", "The Modern Warfare", "AP", "Le Monde", "Der Spiegel", None]),
            "author": None,
            "url": f"https://example.org/articles/{sid}",
            "published": partial_date(rng),
            "published_note": None,
            "language": "en",
            "reliability": rng.choice(list(vocab.RELIABILITY_GRADES)),
            "reliability_rationale": sentence(rng, 150),
            "document": None,
            "reported_in": None,
        }
        for sid in source_ids
    ]
    actors = [
        {
            "id": aid,
            "name": sentence(rng, 25).rstrip("."),
            "kind": rng.choice(list(vocab.ACTOR_KINDS)),
            "country": rng.choice(COUNTRIES),
            "aliases": [sentence(rng, 10).rstrip(".") for _ in range(rng.randint(0, 2))],
            "parent": actor_ids[rng.randrange(i)] if i > 10 and rng.random() < 0.2 else None,
            "description": sentence(rng, 200),
        }
        for i, aid in enumerate(actor_ids)
    ]
    roles = list(vocab.EVENT_ROLES)
    events = []
    for eid in event_ids:
        country = rng.choice(COUNTRIES)
        events.append(
            {
                "id": eid,
                "title": sentence(rng, 60),
                "summary": sentence(rng, 300),
                "type": rng.choice(list(vocab.EVENT_TYPES)),
                "date": partial_date(rng),
                "date_approximate": rng.random() < 0.2,
                "date_note": sentence(rng, 80) if rng.random() < 0.5 else None,
                "location": {
                    "place": sentence(rng, 15).rstrip(".") if country else None,
                    "country": country,
                    "latitude": round(rng.uniform(-60, 70), 4) if rng.random() < 0.3 else None,
                    "longitude": round(rng.uniform(-170, 170), 4) if rng.random() < 0.3 else None,
                },
                "actors": [
                    {"actor": actor, "role": rng.choice(roles)} for actor in rng.sample(actor_ids, rng.randint(2, 4))
                ],
                "sources": [
                    {"source": source, "excerpt": sentence(rng, 150)}
                    for source in rng.sample(source_ids, rng.randint(1, 2))
                ],
            }
        )
    claims = [
        {
            "id": f"claim-{i:05d}",
            "statement": sentence(rng, 120),
            "status": rng.choice(list(vocab.CLAIM_STATUSES)),
            "status_rationale": sentence(rng, 150),
            "credibility": rng.choice(list(vocab.CREDIBILITY_GRADES)),
            "credibility_rationale": sentence(rng, 150),
            "events": rng.sample(event_ids, rng.randint(1, 3)),
            "actors": [
                {"actor": actor, "stance": rng.choice(list(vocab.CLAIM_ACTOR_STANCES))}
                for actor in rng.sample(actor_ids, rng.randint(1, 3))
            ],
            "sources": [
                {
                    "source": source,
                    "stance": rng.choice(list(vocab.CLAIM_SOURCE_STANCES)),
                    "excerpt": sentence(rng, 150),
                }
                for source in rng.sample(source_ids, rng.randint(1, 2))
            ],
        }
        for i in range(n_claims)
    ]
    return {"sources": sources, "actors": actors, "events": events, "claims": claims}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="SQLite file to create (must not exist)")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--actors", type=int, default=300)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--claims", type=int, default=2000)
    args = parser.parse_args()
    path = Path(args.path).resolve()
    if path.exists():
        parser.error(f"{path} exists; remove it first")

    started = time.perf_counter()
    raw = make_records(args.events, args.actors, args.sources, args.claims)
    # Validate like tests/conftest.py's `load` fixture: each record through its *Input schema.
    fixtures = {name: [schema_class().load(item) for item in raw.get(name, [])] for name, schema_class in FILES}
    validated = time.perf_counter()

    bind_database(f"sqlite:///{path}")
    with database.connection_context():
        create_tables()
        summary = write_fixtures(fixtures)
    database.close_all()
    done = time.perf_counter()
    print(f"{path}: {summary}")
    print(f"generated+validated in {validated - started:.1f}s, written in {done - validated:.1f}s")


if __name__ == "__main__":
    main()
