"""The change log under every write: one row per create and update, in order, only when something changed."""

import copy

import orjson
from helpers import SHIPPED_COUNTS, actor

from api.db import database
from api.tables import Change, dataset_revision
from seed.loader import write_fixtures


def changes():
    with database.connection_context():
        return list(Change.select().order_by(Change.id).dicts())


def test_seeding_logs_one_create_per_record_with_every_field(seeded):
    logged = changes()
    assert len(logged) == sum(SHIPPED_COUNTS.values())
    assert {change["kind"] for change in logged} == {"create"}
    assert {change["author"] for change in logged} == {"seed"}
    by_resource = {}
    for change in logged:
        by_resource[change["resource"]] = by_resource.get(change["resource"], 0) + 1
    assert by_resource == SHIPPED_COUNTS
    event = next(change for change in logged if change["record_id"] == "reuters-investigation-published")
    fields = orjson.loads(event["fields"])
    assert fields["title"]["from"] is None and fields["title"]["to"]
    assert fields["sources"]["to"][0]["excerpt"]
    assert event["version"] == 1


def test_an_unchanged_reload_logs_nothing_and_keeps_the_revision(seeded, seed_fixtures):
    before, revision = changes(), None
    with database.connection_context():
        revision = dataset_revision()
        write_fixtures(copy.deepcopy(seed_fixtures))
        assert dataset_revision() == revision
    assert changes() == before


def test_an_edit_logs_only_what_changed_with_its_previous_value(load):
    load(actors=[actor("a-1", name="First name", country="CN")])
    load(actors=[actor("a-1", name="Second name", country="CN")])
    first, second = changes()
    assert (first["kind"], second["kind"]) == ("create", "update")
    assert second["id"] > first["id"]
    assert second["version"] == 2
    assert orjson.loads(second["fields"]) == {"name": {"from": "First name", "to": "Second name"}}
