"""The seed loader: idempotent, version bumps only on change, all-or-nothing validation, partial dates.

Every test runs on both backends (through the `app` fixture). Fixture directories are
written to tmp_path: a copy of the shipped YAML, edited or corrupted.
"""

import shutil
from pathlib import Path

import pytest
import yaml
from helpers import SHIPPED, SHIPPED_COUNTS
from helpers import summary as shipped_summary

from api.db import database
from api.tables import (
    ALL_MODELS,
    Actor,
    Claim,
    ClaimActor,
    ClaimEvent,
    ClaimSource,
    Event,
    EventActor,
    EventSource,
    Source,
    dataset_revision,
)
from seed import loader
from seed.loader import DATA_DIR, FixtureLoader, SeedError

RECORD_MODELS = {"sources": Source, "actors": Actor, "events": Event, "claims": Claim}
JOIN_MODELS = (EventActor, EventSource, ClaimActor, ClaimEvent, ClaimSource)


# --- Helpers -----------------------------------------------------------------


def copy_data(tmp_path, name="data"):
    target = Path(tmp_path) / name
    target.mkdir()
    for path in DATA_DIR.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def read_yaml(data_dir, name):
    return yaml.load((Path(data_dir) / f"{name}.yaml").read_text(encoding="utf-8"), Loader=FixtureLoader)


def write_yaml(data_dir, name, records):
    text = yaml.safe_dump(records, allow_unicode=True, sort_keys=False, width=10_000)
    (Path(data_dir) / f"{name}.yaml").write_text(text, encoding="utf-8")


def edit_yaml(data_dir, name, edit):
    records = read_yaml(data_dir, name)
    edit(records)
    write_yaml(data_dir, name, records)


def by_id(records, record_id):
    matches = [record for record in records if record["id"] == record_id]
    assert len(matches) == 1, f"{record_id} not found exactly once"
    return matches[0]


def run_load(data_dir=DATA_DIR):
    with database.connection_context():
        return loader.load(data_dir)


@pytest.fixture
def seed_shipped(app, restored_database):
    """Put the shipped data in the test database, as a first load leaves it (the seeded template)."""
    templates, _ = restored_database

    def seed():
        database.close_all()  # SQLite's file is replaced: no pooled connection may keep the old one
        templates.restore(app.config["DATABASE_URL"], seeded=True)

    return seed


def snapshot():
    """Everything the loader writes: record versions and timestamps, join rows, the dataset revision."""
    with database.connection_context():
        state = {"revision": dataset_revision()}
        for name, model in RECORD_MODELS.items():
            state[name] = {
                row["id"]: (row["version"], row["created_at"], row["updated_at"])
                for row in model.select(model.id, model.version, model.created_at, model.updated_at).dicts()
            }
        for model in JOIN_MODELS:
            columns = [field for field in model._meta.sorted_fields if field.name != "id"]
            state[model.__name__] = sorted(
                tuple(str(value) for value in row) for row in model.select(*columns).tuples()
            )
        return state


def versions(state, resource):
    return {record_id: values[0] for record_id, values in state[resource].items()}


def summary_counts(summary):
    return {name: (summary.created[name], summary.updated[name], summary.unchanged[name]) for name in SHIPPED_COUNTS}


# --- Idempotency ---------------------------------------------------------------


def test_first_load_creates_every_record_at_version_1(app):
    summary = run_load()
    assert summary_counts(summary) == {name: (count, 0, 0) for name, count in SHIPPED_COUNTS.items()}
    assert summary.changed is True
    state = snapshot()
    assert state["revision"] == 1
    for name, count in SHIPPED_COUNTS.items():
        assert len(state[name]) == count
        assert set(versions(state, name).values()) == {1}
        for _version, created_at, updated_at in state[name].values():
            assert created_at == updated_at
    link_counts = {model.__name__: len(state[model.__name__]) for model in JOIN_MODELS}
    events, claims = SHIPPED["events"], SHIPPED["claims"]
    assert link_counts == {
        "EventActor": sum(len(event["actors"]) for event in events),
        "EventSource": sum(len(event["sources"]) for event in events),
        "ClaimActor": sum(len(claim["actors"]) for claim in claims),
        "ClaimEvent": sum(len(claim["events"]) for claim in claims),
        "ClaimSource": sum(len(claim["sources"]) for claim in claims),
    }


def test_loading_the_shipped_data_twice_changes_nothing(app):
    run_load()
    before = snapshot()
    summary = run_load()
    assert summary_counts(summary) == {name: (0, 0, count) for name, count in SHIPPED_COUNTS.items()}
    assert summary.changed is False
    assert str(summary) == shipped_summary("unchanged")
    assert snapshot() == before
    assert before["revision"] == 1


def test_yaml_round_trip_of_the_shipped_data_is_unchanged(app, seed_shipped, tmp_path):
    """Re-dumped YAML (as the other tests write it) holds the same records: loading it changes nothing."""
    seed_shipped()
    before = snapshot()
    data_dir = copy_data(tmp_path)
    for name in SHIPPED_COUNTS:
        write_yaml(data_dir, name, read_yaml(data_dir, name))
    summary = run_load(data_dir)
    assert summary.changed is False
    assert snapshot() == before


# --- Edits bump exactly one record ---------------------------------------------


def _claim_field(records):
    by_id(records, "factory-drones-sent-to-russia")["status_rationale"] += " Edited."


def _event_field(records):
    by_id(records, "drone-flight-testing")["title"] = "Long-range attack drones flight-tested (edited)"


def _event_role(records):
    link = by_id(records, "eu-discusses-new-sanctions")["actors"][0]
    assert link == {"actor": "eu-officials", "role": "sanctioning_party"}
    link["role"] = "reporter"


def _event_excerpt(records):
    link = by_id(records, "drone-development-with-chinese-specialists")["sources"][1]
    assert link["excerpt"] == "While the identities of the Chinese experts remain unknown"
    link["excerpt"] = "the identities of the Chinese experts remain unknown"


def _event_actor_order(records):
    event = by_id(records, "russian-drone-strikes-on-ukraine")
    event["actors"] = list(reversed(event["actors"]))


def _claim_stance(records):
    link = by_id(records, "china-covert-assistance-sustains-russian-war")["actors"][0]
    assert link == {"actor": "eu-officials", "stance": "asserts"}
    link["stance"] = "disputes"


def _claim_event_order(records):
    claim = by_id(records, "beijing-fully-aware-of-operation")
    claim["events"] = list(reversed(claim["events"]))


def _claim_source_excerpt(records):
    link = by_id(records, "evidence-insufficient-for-immediate-action")["sources"][1]
    assert link["excerpt"] == "as the evidence remains inconclusive"
    link["excerpt"] = "the evidence remains inconclusive"


def _source_field(records):
    by_id(records, "reuters-investigation")["reliability_rationale"] += " Edited."


def _actor_aliases(records):
    by_id(records, "eeas")["aliases"].append("European External Action Service (EEAS)")


def _actor_parent(records):
    by_id(records, "high-ranking-eu-official")["parent"] = None


EDITS = [
    ("claims", "factory-drones-sent-to-russia", _claim_field),
    ("events", "drone-flight-testing", _event_field),
    ("events", "eu-discusses-new-sanctions", _event_role),
    ("events", "drone-development-with-chinese-specialists", _event_excerpt),
    ("events", "russian-drone-strikes-on-ukraine", _event_actor_order),
    ("claims", "china-covert-assistance-sustains-russian-war", _claim_stance),
    ("claims", "beijing-fully-aware-of-operation", _claim_event_order),
    ("claims", "evidence-insufficient-for-immediate-action", _claim_source_excerpt),
    ("sources", "reuters-investigation", _source_field),
    ("actors", "eeas", _actor_aliases),
    ("actors", "high-ranking-eu-official", _actor_parent),
]


@pytest.mark.parametrize(("resource", "record_id", "edit"), EDITS, ids=[edit.__name__.strip("_") for *_, edit in EDITS])
def test_editing_one_record_bumps_only_that_record(app, seed_shipped, tmp_path, resource, record_id, edit):
    seed_shipped()
    before = snapshot()
    data_dir = copy_data(tmp_path)
    edit_yaml(data_dir, resource, edit)

    summary = run_load(data_dir)

    expected = {name: (0, 0, count) for name, count in SHIPPED_COUNTS.items()}
    expected[resource] = (0, 1, SHIPPED_COUNTS[resource] - 1)
    assert summary_counts(summary) == expected
    after = snapshot()
    assert after["revision"] == before["revision"] + 1
    for name in SHIPPED_COUNTS:
        for other_id, values in before[name].items():
            if (name, other_id) == (resource, record_id):
                continue
            assert after[name][other_id] == values, f"{name}/{other_id} changed"
    old_version, old_created, old_updated = before[resource][record_id]
    new_version, new_created, new_updated = after[resource][record_id]
    assert new_version == old_version + 1 == 2
    assert new_created == old_created
    assert new_updated > old_updated

    # Loading the same edited files again changes nothing more.
    again = run_load(data_dir)
    assert again.changed is False
    assert snapshot() == after


def test_the_edited_link_is_stored_in_its_new_order(app, seed_shipped, tmp_path):
    seed_shipped()
    data_dir = copy_data(tmp_path)
    edit_yaml(data_dir, "events", _event_actor_order)
    run_load(data_dir)
    with database.connection_context():
        rows = (
            EventActor.select(EventActor.actor, EventActor.role)
            .where(EventActor.event == "russian-drone-strikes-on-ukraine")
            .order_by(EventActor.position)
            .tuples()
        )
        assert [(actor, role) for actor, role in rows] == [
            ("ukrainian-civilians", "affected_party"),
            ("ukraine-power-grid", "target"),
            ("ukraine", "target"),
            ("russia", "perpetrator"),
        ]


def test_two_successive_edits_bump_the_version_twice(app, seed_shipped, tmp_path):
    seed_shipped()
    data_dir = copy_data(tmp_path)
    edit_yaml(data_dir, "claims", _claim_field)
    run_load(data_dir)
    edit_yaml(data_dir, "claims", _claim_field)
    run_load(data_dir)
    state = snapshot()
    assert state["claims"]["factory-drones-sent-to-russia"][0] == 3
    assert state["revision"] == 3
    assert {
        version
        for record_id, version in versions(state, "claims").items()
        if record_id != "factory-drones-sent-to-russia"
    } == {1}


NEW_CLAIM = {
    "id": "refind-subscribers",
    "statement": "Refind is loved by 510,562 curious minds.",
    "status": "alleged",
    "status_rationale": "An advertisement in the article.",
    "credibility": 6,
    "credibility_rationale": "Cannot be judged.",
    "events": ["eu-expresses-concern-over-drone-collaboration"],
    "actors": [{"actor": "the-modern-warfare", "stance": "asserts"}],
    "sources": [
        {"source": "modern-warfare-newsletter", "stance": "reports", "excerpt": "Loved by 510,562 curious minds."}
    ],
}


def test_adding_a_record_creates_it_at_version_1(app, seed_shipped, tmp_path):
    seed_shipped()
    before = snapshot()
    data_dir = copy_data(tmp_path)
    edit_yaml(data_dir, "claims", lambda records: records.append(dict(NEW_CLAIM)))

    summary = run_load(data_dir)

    expected = {name: (0, 0, count) for name, count in SHIPPED_COUNTS.items()}
    expected["claims"] = (1, 0, SHIPPED_COUNTS["claims"])
    assert summary_counts(summary) == expected
    after = snapshot()
    assert after["revision"] == before["revision"] + 1
    version, created_at, updated_at = after["claims"]["refind-subscribers"]
    assert version == 1
    assert created_at == updated_at
    for name in SHIPPED_COUNTS:
        for record_id, values in before[name].items():
            assert after[name][record_id] == values
    assert len(after["claims"]) == SHIPPED_COUNTS["claims"] + 1
    assert len(after["ClaimSource"]) == len(before["ClaimSource"]) + 1


# --- All or nothing --------------------------------------------------------------


def _schema_error(data_dir):
    edit_yaml(
        data_dir, "claims", lambda records: by_id(records, "factory-produces-lethal-drones").update(status="certain")
    )
    return "claims.yaml", "factory-produces-lethal-drones", "status"


def _missing_required_field(data_dir):
    edit_yaml(data_dir, "events", lambda records: by_id(records, "drone-flight-testing").pop("summary"))
    return "events.yaml", "drone-flight-testing", "summary"


def _unknown_reference(data_dir):
    def edit(records):
        by_id(records, "drone-flight-testing")["actors"][1]["actor"] = "no-such-actor"

    edit_yaml(data_dir, "events", edit)
    return "events.yaml", "drone-flight-testing", "actors.1.actor"


def _unknown_claim_event(data_dir):
    edit_yaml(data_dir, "claims", lambda records: by_id(records, "factory-drones-sent-to-russia")["events"].append("x"))
    return "claims.yaml", "factory-drones-sent-to-russia", "events.3"


def _non_verbatim_excerpt(data_dir):
    def edit(records):
        link = by_id(records, "beijing-fully-aware-of-operation")["sources"][0]
        link["excerpt"] = link["excerpt"].replace("fully aware", "certainly aware")

    edit_yaml(data_dir, "claims", edit)
    return "claims.yaml", "beijing-fully-aware-of-operation", "sources.0.excerpt"


def _non_verbatim_reported_excerpt(data_dir):
    """A second-hand source's excerpt is checked against its reporter's document."""

    def edit(records):
        by_id(records, "drones-shipped-to-izhevsk")["sources"][0]["excerpt"] = "these drones were shipped to Moscow"

    edit_yaml(data_dir, "events", edit)
    return "events.yaml", "drones-shipped-to-izhevsk", "sources.0.excerpt"


def _duplicate_id(data_dir):
    def edit(records):
        records.append({**by_id(records, "reuters"), "name": "Reuters news agency"})

    edit_yaml(data_dir, "actors", edit)
    return "actors.yaml", "reuters", "id"


def _invalid_yaml(data_dir):
    path = data_dir / "events.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('title: "Drones shipped to', 'title: ["Drones shipped to', 1), encoding="utf-8")
    return "events.yaml", None, None


def _actor_parent_cycle(data_dir):
    edit_yaml(data_dir, "actors", lambda records: by_id(records, "european-union").update(parent="eu-diplomats"))
    return "actors.yaml", "european-union", "parent"


def _actor_self_parent(data_dir):
    edit_yaml(data_dir, "actors", lambda records: by_id(records, "almaz-antey").update(parent="almaz-antey"))
    return "actors.yaml", "almaz-antey", "parent"


def _source_reported_in_cycle(data_dir):
    def edit(records):
        by_id(records, "modern-warfare-newsletter")["reported_in"] = "reuters-investigation"

    edit_yaml(data_dir, "sources", edit)
    return "sources.yaml", "modern-warfare-newsletter", "reported_in"


def _invalid_calendar_date(data_dir):
    edit_yaml(data_dir, "events", lambda records: by_id(records, "drone-flight-testing").update(date="2023-02-29"))
    return "events.yaml", "drone-flight-testing", "date"


def _duplicate_event_actor_link(data_dir):
    """The same actor twice with the same role: must be a SeedError, not a database IntegrityError."""

    def edit(records):
        event = by_id(records, "drone-flight-testing")
        event["actors"].append(dict(event["actors"][0]))

    edit_yaml(data_dir, "events", edit)
    return "events.yaml", "drone-flight-testing", "actors"


def _duplicate_claim_event_link(data_dir):
    def edit(records):
        claim = by_id(records, "factory-drones-sent-to-russia")
        claim["events"].append(claim["events"][0])

    edit_yaml(data_dir, "claims", edit)
    return "claims.yaml", "factory-drones-sent-to-russia", "events"


CORRUPTIONS = [
    _schema_error,
    _missing_required_field,
    _unknown_reference,
    _unknown_claim_event,
    _non_verbatim_excerpt,
    _non_verbatim_reported_excerpt,
    _duplicate_id,
    _invalid_yaml,
    _actor_parent_cycle,
    _actor_self_parent,
    _source_reported_in_cycle,
    _invalid_calendar_date,
    _duplicate_event_actor_link,
    _duplicate_claim_event_link,
]
CORRUPTION_IDS = [corrupt.__name__.strip("_") for corrupt in CORRUPTIONS]
# The command is a thin wrapper over the loader: one case of each kind is enough there.
CLI_CORRUPTIONS = [
    _schema_error,
    _unknown_reference,
    _non_verbatim_excerpt,
    _duplicate_id,
    _invalid_yaml,
    _actor_parent_cycle,
    _duplicate_event_actor_link,
]


def corrupted_dir(tmp_path, corrupt):
    """Shipped data with valid changes that WOULD be written (an edit, a new record) plus one corruption."""
    data_dir = copy_data(tmp_path)
    edit_yaml(
        data_dir,
        "claims",
        lambda records: by_id(records, "evidence-insufficient-for-immediate-action").update(credibility=3),
    )
    edit_yaml(
        data_dir,
        "actors",
        lambda records: records.append(
            {"id": "refind", "name": "Refind", "kind": "company", "description": "An advertiser in the newsletter."}
        ),
    )
    expected = corrupt(data_dir)
    return data_dir, expected


def assert_names_problem(message, expected):
    file_name, record_id, field_name = expected
    assert "nothing was written" in message
    assert file_name in message
    if record_id is None:  # a YAML syntax error has no record; it names the line instead
        assert "not valid YAML" in message
        assert "line " in message
        return
    lines = [line for line in message.splitlines() if file_name in line and f"({record_id})" in line]
    assert lines, f"no problem names {file_name} ({record_id}): {message}"
    assert any(f"field '{field_name}" in line for line in lines), f"no problem names field {field_name}: {message}"


@pytest.mark.parametrize("state", ["seeded", "empty"])
@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=CORRUPTION_IDS)
def test_a_single_problem_loads_nothing(app, seed_shipped, tmp_path, corrupt, state):
    if state == "seeded":
        seed_shipped()
    before = snapshot()
    data_dir, expected = corrupted_dir(tmp_path, corrupt)

    with pytest.raises(SeedError) as raised:
        run_load(data_dir)

    assert_names_problem(str(raised.value), expected)
    assert snapshot() == before
    if state == "empty":
        assert before["revision"] == 0
        assert all(not before[name] for name in SHIPPED_COUNTS)


@pytest.mark.parametrize("corrupt", CLI_CORRUPTIONS, ids=[corrupt.__name__.strip("_") for corrupt in CLI_CORRUPTIONS])
def test_a_single_problem_fails_the_seed_command(app, seed_shipped, runner, tmp_path, corrupt):
    seed_shipped()
    before = snapshot()
    data_dir, expected = corrupted_dir(tmp_path, corrupt)

    result = runner.invoke(args=["seed", "--data", str(data_dir)])

    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert_names_problem(result.output, expected)
    assert snapshot() == before


def test_a_failed_load_does_not_even_create_tables(app, tmp_path):
    with database.connection_context():
        database.drop_tables(ALL_MODELS, safe=True, cascade=app.config["DATABASE_URL"].startswith("postgres"))
    data_dir, expected = corrupted_dir(tmp_path, _non_verbatim_excerpt)
    with pytest.raises(SeedError) as raised:
        run_load(data_dir)
    assert_names_problem(str(raised.value), expected)
    with database.connection_context():
        assert [model.__name__ for model in ALL_MODELS if database.table_exists(model._meta.table_name)] == []


def test_every_problem_is_reported_at_once(app, tmp_path):
    data_dir = copy_data(tmp_path)
    _schema_error(data_dir)
    _missing_required_field(data_dir)
    with pytest.raises(SeedError) as raised:
        run_load(data_dir)
    assert_names_problem(str(raised.value), ("claims.yaml", "factory-produces-lethal-drones", "status"))
    assert_names_problem(str(raised.value), ("events.yaml", "drone-flight-testing", "summary"))
    assert len(raised.value.problems) == 2


def test_a_missing_file_is_reported(app, tmp_path):
    data_dir = copy_data(tmp_path)
    (data_dir / "claims.yaml").unlink()
    with pytest.raises(SeedError) as raised:
        run_load(data_dir)
    assert "claims.yaml: file is missing" in str(raised.value)
    assert snapshot()["revision"] == 0


# --- Partial dates -----------------------------------------------------------------

DATED_EVENT = """
- id: dated-event
  title: "A dated event"
  summary: "An event used to test dates."
  type: accusation
  date: {date}
  actors:
    - {{actor: china, role: subject}}
  sources:
    - source: modern-warfare-newsletter
      stance: reports
      excerpt: "Stay informed. Stay vigilant. Stay ahead."
"""


def dated_dir(tmp_path, date_text):
    data_dir = copy_data(tmp_path)
    path = data_dir / "events.yaml"
    path.write_text(path.read_text(encoding="utf-8") + DATED_EVENT.format(date=date_text), encoding="utf-8")
    return data_dir


def stored_dates(event_id):
    with database.connection_context():
        return (
            Event.select(Event.date, Event.date_start, Event.date_end, Event.date_precision)
            .where(Event.id == event_id)
            .tuples()
            .get()
        )


@pytest.mark.parametrize(
    ("date_text", "expected"),
    [
        ("2024-09-25", ("2024-09-25", "2024-09-25", "2024-09-25", "day")),
        ('"2024-09-25"', ("2024-09-25", "2024-09-25", "2024-09-25", "day")),
        ("2024-02", ("2024-02", "2024-02-01", "2024-02-29", "month")),
        ("2023-02", ("2023-02", "2023-02-01", "2023-02-28", "month")),
        ("2024-12", ("2024-12", "2024-12-01", "2024-12-31", "month")),
        ('"2024"', ("2024", "2024-01-01", "2024-12-31", "year")),
        ("2024", ("2024", "2024-01-01", "2024-12-31", "year")),
        ("XXXX-09", ("XXXX-09", None, None, "month")),
        ("2024-02-29", ("2024-02-29", "2024-02-29", "2024-02-29", "day")),
    ],
    ids=[
        "unquoted-day",
        "quoted-day",
        "leap-month",
        "plain-february",
        "december",
        "quoted-year",
        "unquoted-year",
        "unknown-year",
        "leap-day",
    ],
)
def test_partial_dates_are_stored_as_ranges(app, tmp_path, date_text, expected):
    data_dir = dated_dir(tmp_path, date_text)
    fixtures = loader.read_fixtures(data_dir)
    loaded = by_id(fixtures["events"], "dated-event")["date"]
    assert isinstance(loaded, str)
    assert loaded == expected[0]
    run_load(data_dir)
    assert stored_dates("dated-event") == expected


def test_shipped_unknown_year_dates_have_no_range(app, seed_shipped):
    seed_shipped()
    assert stored_dates("beijing-denies-awareness") == ("XXXX-09", None, None, "month")
    assert stored_dates("reuters-investigation-published") == ("XXXX-09", None, None, "month")
    assert stored_dates("drone-flight-testing") == (None, None, None, None)
    with database.connection_context():
        source = Source.get_by_id("reuters-investigation")
        assert (source.published, source.published_start, source.published_end, source.published_precision) == (
            "XXXX-09",
            None,
            None,
            "month",
        )


def test_partial_dates_through_the_api(app, client, tmp_path):
    run_load(dated_dir(tmp_path, "2024-02"))
    data = client.get("/api/v1/events/dated-event").get_json()["data"]
    assert (data["date"], data["date_start"], data["date_end"], data["date_precision"]) == (
        "2024-02",
        "2024-02-01",
        "2024-02-29",
        "month",
    )
    data = client.get("/api/v1/events/beijing-denies-awareness").get_json()["data"]
    assert (data["date"], data["date_start"], data["date_end"], data["date_precision"]) == (
        "XXXX-09",
        None,
        None,
        "month",
    )


@pytest.mark.parametrize(
    "date_text", ["2023-02-29", "2024-04-31", "2024-13", "XXXX", "XXXX-09-25", "24-09", "2024-9", "September"]
)
def test_invalid_dates_are_refused(app, tmp_path, date_text):
    data_dir = dated_dir(tmp_path, date_text)
    with pytest.raises(SeedError) as raised:
        run_load(data_dir)
    assert_names_problem(str(raised.value), ("events.yaml", "dated-event", "date"))
    assert len(raised.value.problems) == 1
    assert snapshot()["revision"] == 0


def test_invalid_date_is_refused_by_the_seed_command(app, seed_shipped, runner, tmp_path):
    seed_shipped()
    before = snapshot()
    result = runner.invoke(args=["seed", "--data", str(dated_dir(tmp_path, "2023-02-29"))])
    assert result.exit_code != 0
    assert "'2023-02-29' is not a day of the calendar" in result.output
    assert_names_problem(result.output, ("events.yaml", "dated-event", "date"))
    assert snapshot() == before


def test_only_true_and_false_are_booleans(app, tmp_path):
    """`NO` (Norway) stays a country code rather than YAML 1.1's false."""
    data_dir = copy_data(tmp_path)
    path = data_dir / "actors.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n- id: norway\n  name: "Norway"\n  kind: state\n  country: NO\n  description: "A state."\n',
        encoding="utf-8",
    )
    run_load(data_dir)
    with database.connection_context():
        assert Actor.get_by_id("norway").country == "NO"
