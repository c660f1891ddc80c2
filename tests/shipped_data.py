"""The shipped dataset's size, read from the fixture files so tests follow the data, not a copy of it."""

from seed.loader import read_fixtures

SHIPPED = read_fixtures()
SHIPPED_COUNTS = {name: len(records) for name, records in SHIPPED.items()}


def summary(kind):
    """The `eventledger seed` summary after a first load ('created') or a repeat ('unchanged')."""
    parts = []
    for name, count in SHIPPED_COUNTS.items():
        created, unchanged = (count, 0) if kind == "created" else (0, count)
        parts.append(f"{name}: {created} created, 0 updated, {unchanged} unchanged")
    return ", ".join(parts)
