"""The citable data package: descriptor, zip, data dictionary and `eventledger export`.

The oracles are the API itself (its lists and records), the schemas and vocabularies, the
models, and `frictionless`, never a list written out here.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import click._termui_impl
import frictionless
import pandas as pd
import pytest
from helpers import RELATED, actor, get_ok, source
from marshmallow import fields as ma_fields
from marshmallow import validate

from api import web
from api.catalog.tabular import FORMULA_TRIGGERS
from api.db import database
from api.package import datapackage
from api.routes.package import DatasetChanged
from api.tables import JOIN_MODELS, DatasetState, dataset_revision
from schemas import vocabulary as vocab

DESCRIPTOR_URL = "/api/v1/datapackage.json"
ZIP_URL = "/api/v1/dataset.zip"
DICTIONARY_URL = "/docs/data-dictionary"
URLS = (DESCRIPTOR_URL, ZIP_URL, DICTIONARY_URL)
RECORDS = tuple(RELATED)
EVENTLEDGER = Path(sys.executable).with_name("eventledger")


# --- Helpers ------------------------------------------------------------------------------------


def revision_now():
    with database.connection_context():
        return dataset_revision()


def download(client, tmp_path, name="package"):
    """The zip from the API, written to disk and extracted beside it: (zip path, directory)."""
    response = client.get(ZIP_URL)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    path = tmp_path / f"{name}.zip"
    path.write_bytes(response.get_data())
    directory = tmp_path / name
    with zipfile.ZipFile(path) as archive:
        archive.extractall(directory)
    return path, directory


def assert_valid(report):
    errors = report.flatten(["taskNumber", "rowNumber", "fieldName", "type", "note"])
    assert report.valid and report.stats["errors"] == 0, errors[:20]


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def walk(client, url):
    """Every record of a list, following `next` links."""
    records = []
    while url:
        body = get_ok(client, url)
        records += body["data"]
        url = body["links"]["next"]
    return records


DOCUMENT_KEYS = ("sha256", "media_type", "characters", "retrieved", "archive_url")
TARGET_COLUMNS = ("target_source", "target_start", "target_end", "target_prefix", "target_suffix")


def flat(record, resource):
    """An API record as its table stores it: location flattened, a source's document as `document_*` columns,
    related lists left to the join tables."""
    nested = ("location", "document")
    row = {key: value for key, value in record.items() if key not in RELATED[resource] and key not in nested}
    row.update(record.get("location") or {})
    if resource == "sources":
        document = record["document"] or {}
        row.update({f"document_{key}": document.get(key) for key in DOCUMENT_KEYS})
    return row


def flat_link(link):
    """A link's attributes as its join table stores them: an excerpt's target as `target_*` columns."""
    attributes = {key: value for key, value in link.items() if key not in ("id", "target")}
    if "target" in link:
        target = link["target"]
        quote, position = target["selector"] if target else ({}, {})
        values = (
            (target or {}).get("source"),
            position.get("start"),
            position.get("end"),
            quote.get("prefix"),
            quote.get("suffix"),
        )
        attributes.update(zip(TARGET_COLUMNS, values, strict=True))
    return attributes


def cell(value):
    """What the API's value looks like in a package CSV, per the package description."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def assert_row_matches(row, record, where):
    assert set(row) == set(record), (where, set(row) ^ set(record))
    for key, value in record.items():
        if isinstance(value, list):
            assert json.loads(row[key]) == value, (where, key)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            assert type(value)(row[key]) == value, (where, key, row[key])
        else:
            assert row[key] == cell(value), (where, key, row[key], value)


def descriptor_of(client):
    response = client.get(DESCRIPTOR_URL)
    assert response.status_code == 200
    return response.get_json()


def resources_by_name(descriptor):
    return {resource["name"]: resource for resource in descriptor["resources"]}


def record_specs():
    return {spec.name: spec for spec in datapackage.RECORD_SPECS}


# --- The descriptor -----------------------------------------------------------------------------


def test_descriptor_is_a_valid_data_package(seeded, client):
    response = client.get(DESCRIPTOR_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    descriptor = response.get_json()
    assert list(frictionless.Package.metadata_validate(descriptor)) == []
    package = frictionless.Package(descriptor)
    assert [resource.name for resource in package.resources] == [r["name"] for r in descriptor["resources"]]

    revision = get_ok(client, "/api/v1")["dataset_revision"]
    assert descriptor["version"] == f"r{revision}" == response.headers["Dataset-Version"]
    with database.connection_context():
        changed_at = DatasetState.get_by_id(1).changed_at
    assert datetime.fromisoformat(descriptor["created"]) == changed_at.replace(microsecond=0, tzinfo=UTC)
    info = get_ok(client, "/api/v1/openapi.json")["info"]
    assert [licence["name"] for licence in descriptor["licenses"]] == [info["license"]["identifier"]]
    assert descriptor["$schema"].startswith("https://datapackage.org/profiles/2.")


def test_descriptor_sources_are_the_documents(seeded, client):
    documents = [s for s in walk(client, "/api/v1/sources?limit=200&sort=id") if s["document"] or s["url"]]
    assert documents, "the shipped dataset has a source document"
    listed = descriptor_of(client)["sources"]
    assert len(listed) == len(documents)
    for entry, record in zip(listed, documents, strict=True):
        assert entry["title"].startswith(record["title"])
        assert entry.get("path") == record["url"]


def test_resources_are_the_record_and_join_tables(seeded, client):
    descriptor = descriptor_of(client)
    names = [resource["name"] for resource in descriptor["resources"]]
    index = [resource["name"] for resource in get_ok(client, "/api/v1")["resources"]]
    assert set(index) <= set(names)
    joins = [name for name in names if name not in index and name != "source_documents"]
    assert len(joins) == len(JOIN_MODELS)
    documents = resources_by_name(descriptor)["source_documents"]["schema"]
    assert [key["reference"]["resource"] for key in documents["foreignKeys"]] == ["sources"]
    for resource in descriptor["resources"]:
        assert resource["path"] == f"data/{resource['name']}.csv"
        assert resource["type"] == "table" and resource["mediatype"] == "text/csv"
        assert resource["description"].strip(), resource["name"]
        schema = resource["schema"]
        assert schema["primaryKey"], resource["name"]
        for field in schema["fields"]:
            assert field["description"].strip(), (resource["name"], field["name"])
        targets = {key["reference"]["resource"] for key in schema.get("foreignKeys", [])}
        assert targets <= set(index), resource["name"]
        if resource["name"] in joins:
            assert len(targets) == 2, (resource["name"], targets)  # a link joins two records
    by_name = resources_by_name(descriptor)
    self_references = {
        name: [(key["fields"], key["reference"]) for key in by_name[name]["schema"].get("foreignKeys", [])]
        for name in ("actors", "sources")
    }
    assert self_references == {
        "actors": [(["parent"], {"resource": "actors", "fields": ["id"]})],
        "sources": [(["reported_in"], {"resource": "sources", "fields": ["id"]})],
    }


def test_record_tables_hold_every_field_of_the_api_records(seeded, client):
    by_name = resources_by_name(descriptor_of(client))
    for resource in RECORDS:
        record = get_ok(client, f"/api/v1/{resource}?limit=1")["data"][0]
        columns = [field["name"] for field in by_name[resource]["schema"]["fields"]]
        assert sorted(columns) == sorted(flat(record, resource)), resource
        assert columns[0] == "id" and columns[-4:] == ["created_at", "updated_at", "version", "revision"]


def test_enums_are_the_vocabularies(seeded, client):
    all_vocabularies = {name: values for name, values in vars(vocab).items() if name.isupper()}
    used = set()
    for resource in descriptor_of(client)["resources"]:
        for field in resource["schema"]["fields"]:
            enum = field.get("constraints", {}).get("enum")
            if enum is None:
                continue
            matches = [name for name, values in all_vocabularies.items() if list(values) == enum]
            assert len(matches) == 1, (resource["name"], field["name"], enum)
            used.add(matches[0])
            meanings = all_vocabularies[matches[0]]
            assert field["categories"] == [{"value": value, "label": meanings[value]} for value in enum]
    assert used == set(all_vocabularies), f"vocabularies no field uses: {set(all_vocabularies) - used}"


def test_choice_fields_of_the_schemas_carry_their_enum(seeded, client):
    by_name = resources_by_name(descriptor_of(client))
    for spec in datapackage.RECORD_SPECS:
        schema_fields = dict(spec.schema.fields)
        for name, nested in [(n, f) for n, f in spec.schema.fields.items() if isinstance(f, ma_fields.Nested)]:
            schema_fields.update(nested.schema.fields)
            schema_fields.update({f"{name}_{inner}": field for inner, field in nested.schema.fields.items()})
        for field in by_name[spec.name]["schema"]["fields"]:
            validators = getattr(schema_fields[field["name"]], "validators", [])
            for choices in [v.choices for v in validators if isinstance(v, validate.OneOf)]:
                assert field["constraints"]["enum"] == list(choices), (spec.name, field["name"])


def test_required_is_what_the_database_requires(seeded, client):
    by_name = resources_by_name(descriptor_of(client))
    for table in datapackage.tables():
        model_fields = table.model._meta.sorted_fields
        columns = {**{f.name: f for f in model_fields}, **{f.column_name: f for f in model_fields}}
        for field in by_name[table.name]["schema"]["fields"]:
            model_field = columns[field["name"]]
            required = field.get("constraints", {}).get("required", False)
            assert required is not model_field.null, (table.name, field["name"])


# --- The zip -------------------------------------------------------------------------------------


def test_zip_is_a_valid_package_for_frictionless(seeded, client, tmp_path):
    path, directory = download(client, tmp_path)
    report = frictionless.validate(str(path))
    assert_valid(report)
    assert report.stats["tasks"] == len(descriptor_of(client)["resources"])
    assert_valid(frictionless.validate(str(directory / "datapackage.json")))


def test_zip_headers_and_streaming(seeded, client):
    response = client.get(ZIP_URL)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    version = f"r{get_ok(client, '/api/v1')['dataset_revision']}"
    assert response.headers["Content-Disposition"] == f'attachment; filename="eventledger-{version}.zip"'
    assert response.headers["Dataset-Version"] == version
    assert response.headers["ETag"] and response.headers["Cache-Control"]
    body = response.get_data()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        descriptor = json.loads(archive.read("datapackage.json"))
    assert names == ["datapackage.json", *(resource["path"] for resource in descriptor["resources"])]
    assert descriptor == descriptor_of(client)
    assert client.get(ZIP_URL).get_data() == body, "a revision's zip is the same bytes every time"


def test_csvs_hold_exactly_the_api_records_in_id_order(seeded, client, tmp_path):
    _, directory = download(client, tmp_path)
    for resource in RECORDS:
        records = walk(client, f"/api/v1/{resource}?limit=200&sort=id")
        rows = read_rows(directory / "data" / f"{resource}.csv")
        assert [row["id"] for row in rows] == [record["id"] for record in records], resource
        frame = pd.read_csv(directory / "data" / f"{resource}.csv", dtype=str, keep_default_na=False)
        assert frame["id"].tolist() == [record["id"] for record in records], resource
        assert frame.to_dict("records") == rows, resource
        for row, record in zip(rows, records, strict=True):
            assert_row_matches(row, flat(record, resource), (resource, record["id"]))


def test_join_tables_hold_exactly_the_links_in_curated_order(seeded, client, tmp_path):
    _, directory = download(client, tmp_path)
    descriptor = descriptor_of(client)
    checked = 0
    for table in datapackage.tables():
        if table.owner is None:
            continue
        owner = next(spec for spec in datapackage.RECORD_SPECS if spec.model is table.owner.rel_model)
        relation = next(r for r in owner.relations.values() if r.join_model is table.model)
        owner_column, target_column = table.owner.name, relation.remote_key.name
        expected = []
        for record in walk(client, f"/api/v1/{owner.name}?limit=200&sort=id"):
            for position, link in enumerate(record[relation.name]):
                row = {owner_column: record["id"], target_column: link["id"], **flat_link(link), "position": position}
                expected.append(row)
        rows = read_rows(directory / table.path)
        assert len(rows) == len(expected), table.name
        for row, link in zip(rows, expected, strict=True):
            assert_row_matches(row, link, table.name)
        columns = [field["name"] for field in resources_by_name(descriptor)[table.name]["schema"]["fields"]]
        assert list(rows[0]) == columns
        checked += 1
    assert checked == len(JOIN_MODELS)


TRICKY = 'He said, "no"\nand left; twice'
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def tricky(load):
    """Records whose text needs quoting, neutralising or an empty cell, and a negative coordinate."""
    load(
        sources=[
            source("doc", title='A "quoted", multi-line\r\ntitle — Zürich 北京', url="https://example.org/doc?a=1&b=2"),
            source("relay", title="Relayed", reported_in="doc"),
        ],
        actors=[
            actor("parent-body", aliases=["Alias; with a separator", 'Quote " alias', "=SUM(1)"]),
            actor("child-body", parent="parent-body", description="-starts with a minus"),
        ],
        events=[
            {
                "id": "tricky-event",
                "title": "@mention first",
                "summary": "",
                "type": "accusation",
                "date": "2024-09",
                "location": {"place": "Madrid, Spain", "country": "ES", "latitude": 40.4168, "longitude": -3.7038},
                "actors": [{"actor": "child-body", "role": "accuser"}, {"actor": "parent-body", "role": "subject"}],
                "sources": [
                    {"source": "doc", "stance": "reports", "excerpt": TRICKY},
                    {"source": "relay", "stance": "reports", "excerpt": FORMULA},
                ],
            }
        ],
        claims=[
            {
                "id": "tricky-claim",
                "statement": "\ttab-led statement",
                "status": "alleged",
                "status_rationale": "",
                "credibility": 6,
                "credibility_rationale": "+plus-led",
                "events": ["tricky-event"],
                "actors": [{"actor": "parent-body", "stance": "asserts"}],
                "sources": [{"source": "doc", "stance": "reports", "excerpt": FORMULA}],
            }
        ],
    )


def test_text_round_trips_verbatim_and_formulas_come_back_neutralised(tricky, client, tmp_path):
    path, directory = download(client, tmp_path)
    assert_valid(frictionless.validate(str(path)))
    for resource in RECORDS:
        records = walk(client, f"/api/v1/{resource}?limit=200&sort=id")
        for reader in (read_rows, lambda p: pd.read_csv(p, dtype=str, keep_default_na=False).to_dict("records")):
            rows = reader(directory / "data" / f"{resource}.csv")
            for row, record in zip(rows, records, strict=True):
                assert_row_matches(row, flat(record, resource), (resource, record["id"]))

    excerpts = [row["excerpt"] for row in read_rows(directory / "data" / "event_sources.csv")]
    assert excerpts == [TRICKY, "'" + FORMULA]
    frame = pd.read_csv(directory / "data" / "event_sources.csv", keep_default_na=False)
    assert frame["excerpt"].tolist() == [TRICKY, "'" + FORMULA]
    (event,) = read_rows(directory / "data" / "events.csv")
    assert (event["summary"], event["title"], event["longitude"]) == ("", "'@mention first", "-3.7038")
    assert (event["date_start"], event["date_end"], event["date_precision"]) == ("2024-09-01", "2024-09-30", "month")
    actors = {row["id"]: row for row in read_rows(directory / "data" / "actors.csv")}
    assert json.loads(actors["parent-body"]["aliases"]) == ["Alias; with a separator", 'Quote " alias', "=SUM(1)"]
    assert actors["child-body"]["description"] == "'-starts with a minus"

    # frictionless reads the typed values back: an empty required text is "", not a missing value.
    package = frictionless.Package(str(directory / "datapackage.json"))
    (typed,) = package.get_resource("events").read_rows()
    assert typed["summary"] == "" and typed["date_approximate"] is False
    assert float(typed["longitude"]) == -3.7038 and str(typed["date_start"]) == "2024-09-01"
    actor_rows = {row["id"]: row for row in package.get_resource("actors").read_rows()}
    assert actor_rows["parent-body"]["aliases"] == ["Alias; with a separator", 'Quote " alias', "=SUM(1)"]


def test_foreign_keys_are_checked_by_frictionless(tricky, client, tmp_path):
    _, directory = download(client, tmp_path)
    assert_valid(frictionless.validate(str(directory / "datapackage.json")))
    links = directory / "data" / "event_actors.csv"
    links.write_bytes(links.read_bytes().replace(b"tricky-event,child-body", b"tricky-event,no-such-actor"))
    parents = directory / "data" / "actors.csv"
    parents.write_bytes(parents.read_bytes().replace(b",parent-body,", b",no-such-parent,"))
    report = frictionless.validate(str(directory / "datapackage.json"))
    assert not report.valid
    notes = [note for _, kind, note in report.flatten(["taskNumber", "type", "note"]) if kind == "foreign-key"]
    assert any("no-such-actor" in note for note in notes), notes
    assert any("no-such-parent" in note for note in notes), notes


def test_reading_in_small_batches_gives_the_same_zip(seeded, client, monkeypatch):
    """Keyset batches neither skip nor repeat a row at their boundaries, whatever the batch size."""
    whole = client.get(ZIP_URL).get_data()
    for size in (1, 2, 7):
        monkeypatch.setattr(datapackage, "BATCH_SIZE", size)
        assert client.get(ZIP_URL).get_data() == whole, size


def test_queries_do_not_grow_with_the_records(tricky, client, load, count_queries):
    def zip_queries():
        before = count_queries.count
        assert client.get(ZIP_URL).get_data()
        return count_queries.count - before

    few = zip_queries()
    load(sources=[source(f"more-{n}") for n in range(30)], actors=[actor(f"more-{n}") for n in range(30)])
    assert zip_queries() == few
    # The revision, the snapshot's state and the sources, then per table one batch (two for links).
    assert few <= 3 + 2 * len(datapackage.tables()), count_queries.queries


def test_a_revision_change_before_the_stream_begins_aborts_it(seeded, client, monkeypatch):
    # The headers were made for revision 0; the snapshot finds 1: no byte of 1 goes out under 0's name.
    monkeypatch.setattr(web, "dataset_state", lambda: (0, {}))
    with pytest.raises(DatasetChanged):
        client.get(ZIP_URL).get_data()


def test_a_descriptor_names_the_revision_it_was_read_from(seeded, client, monkeypatch):
    # The revision was looked up (for the ETag of the request) before a write; the snapshot comes after it.
    actual = revision_now()
    monkeypatch.setattr(web, "dataset_state", lambda: (actual - 1, {}))
    response = client.get(DESCRIPTOR_URL)
    assert response.get_json()["version"] == f"r{actual}" == response.headers["Dataset-Version"]
    assert response.headers["ETag"].startswith(f'"r{actual}-')


def test_an_empty_dataset_is_a_valid_package(client, tmp_path):
    path, directory = download(client, tmp_path)
    assert_valid(frictionless.validate(str(path)))
    descriptor = json.loads((directory / "datapackage.json").read_text())
    assert descriptor["version"] == "r0" and descriptor["sources"] == []
    for resource in descriptor["resources"]:
        lines = (directory / resource["path"]).read_bytes()
        assert lines == (",".join(f["name"] for f in resource["schema"]["fields"]) + "\r\n").encode()


# --- Conditional GETs and bad input ------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_conditional_get_answers_304_until_the_dataset_changes(seeded, client, load, url):
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    first.close()
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag

    load(sources=[source("a-new-source")])
    version = f"r{revision_now()}"
    changed = client.get(url, headers={"If-None-Match": etag})
    changed.close()  # a zip streams in its own snapshot transaction until it is finished or closed
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.headers["Dataset-Version"] == version


def test_head_of_the_zip_reads_no_data_and_leaves_no_transaction_open(seeded, client, count_queries):
    response = client.head(ZIP_URL)
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert not any('FROM "event"' in query for query in count_queries.queries)
    with database.connection_context():
        assert not database.in_transaction()
    assert client.get(ZIP_URL).status_code == 200


@pytest.mark.parametrize("url", URLS)
def test_unknown_query_parameters_are_a_400_problem(seeded, client, url):
    response = client.get(f"{url}?format=xml")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert [error["parameter"] for error in response.get_json()["errors"]] == ["format"]


# --- The data dictionary -------------------------------------------------------------------------


def sections(page):
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', page, re.S))


def test_dictionary_lists_every_table_field_and_vocabulary_value(seeded, client):
    response = client.get(DICTIONARY_URL)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    found = sections(page)
    descriptor = descriptor_of(client)
    assert escape(descriptor["version"]) in page
    for resource in descriptor["resources"]:
        section = found[f"table-{resource['name']}"]
        assert escape(resource["path"]) in section
        for field in resource["schema"]["fields"]:
            row = re.search(rf'<tr id="field-{resource["name"]}-{field["name"]}">(.*?)</tr>', section, re.S)
            assert row, (resource["name"], field["name"])
            assert f"<code>{field['name']}</code>" in row.group(1)
            assert f"<td>{field['type']}" in row.group(1)
    for name, values in vars(vocab).items():
        if not name.isupper():
            continue
        section = found[f"vocabulary-{name.lower()}"]
        for value, meaning in values.items():
            meaning = re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(meaning))  # the page sets names as code
            assert f"<td><code>{escape(str(value))}</code></td><td>{meaning}</td>" in section, (name, value)
    for entry in descriptor["sources"]:
        assert escape(entry["title"]) in page


def test_dictionary_escapes_the_data(tricky, client, load):
    load(sources=[source("scripted", title='<script>alert("x")</script> & co', url="https://example.org/?q=<b>&x=1")])
    page = client.get(DICTIONARY_URL).get_data(as_text=True)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert 'href="https://example.org/?q=&lt;b&gt;&amp;x=1"' in page
    assert 'href="https://example.org/doc?a=1&amp;b=2"' in page


class Anchors(HTMLParser):
    """Every id and every `href` of a page, in order."""

    def __init__(self):
        super().__init__()
        self.ids, self.hrefs = [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if "href" in attributes:
            self.hrefs.append(attributes["href"])


def test_dictionary_ids_are_unique_and_every_internal_link_has_its_target(seeded, client):
    parser = Anchors()
    parser.feed(client.get(DICTIONARY_URL).get_data(as_text=True))
    parser.close()
    assert len(parser.ids) == len(set(parser.ids)), sorted({i for i in parser.ids if parser.ids.count(i) > 1})
    internal = [href[1:] for href in parser.hrefs if href.startswith("#")]
    assert internal
    assert set(internal) <= set(parser.ids), sorted(set(internal) - set(parser.ids))


def test_index_and_openapi_link_the_package_and_the_dictionary(seeded, client):
    links = get_ok(client, "/api/v1")["links"]
    assert client.get(links["datapackage"]).get_json()["name"] == "eventledger"
    assert client.get(links["data_dictionary"]).mimetype == "text/html"
    document = get_ok(client, "/api/v1/openapi.json")
    description = document["info"]["description"]
    for url in URLS:
        assert f"]({url})" in description, url
    assert document["paths"][ZIP_URL]["get"]["responses"]["200"]["content"].keys() == {"application/zip"}
    assert document["paths"][DICTIONARY_URL]["get"]["responses"]["200"]["content"].keys() == {"text/html"}
    assert document["paths"][DESCRIPTOR_URL]["get"]["responses"]["200"]["content"].keys() == {"application/json"}


# --- eventledger export ---------------------------------------------------------------------------


def package_files(directory):
    return {
        path.relative_to(directory).as_posix(): path.read_bytes() for path in directory.rglob("*") if path.is_file()
    }


def test_export_writes_the_files_of_the_zip(seeded, client, runner, tmp_path):
    target = tmp_path / "export"
    result = runner.invoke(args=["export", str(target)])
    assert result.exit_code == 0, result.output
    version = f"r{revision_now()}"
    assert f"Exporting {version}" in result.stderr
    for table in datapackage.tables():
        assert f"{table.path}: " in result.stdout
    assert f"Wrote eventledger {version} of {client.application.config['DATABASE_URL']} (" in result.stdout

    _, extracted = download(client, tmp_path)
    assert package_files(target) == package_files(extracted)
    assert_valid(frictionless.validate(str(target / "datapackage.json")))


def test_export_zip_is_the_downloaded_zip(seeded, client, runner, tmp_path):
    result = runner.invoke(args=["export", "--zip", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (archive,) = (tmp_path / "out").iterdir()
    assert archive.name == f"eventledger-r{revision_now()}.zip"
    assert archive.read_bytes() == client.get(ZIP_URL).get_data()


def test_export_refuses_a_non_empty_directory_without_force(seeded, runner, tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = runner.invoke(args=["export", str(target)])
    assert result.exit_code == 2
    assert "is not empty" in result.output and "--force" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]

    forced = runner.invoke(args=["export", "--force", str(target)])
    assert forced.exit_code == 0, forced.output
    assert (target / "datapackage.json").exists() and (target / "notes.txt").read_text() == "mine"


def test_export_refuses_a_file_as_directory(seeded, runner, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    result = runner.invoke(args=["export", str(target)])
    assert result.exit_code == 2 and "is a file" in result.output


def test_export_draws_a_progress_bar_on_a_terminal(seeded, runner, tmp_path, monkeypatch):
    monkeypatch.setattr(click._termui_impl, "isatty", lambda _stream: True)
    monkeypatch.setattr(datapackage, "BATCH_SIZE", 5)
    result = runner.invoke(args=["export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "100%" in result.stderr and "Exporting r1" in result.stderr
    assert result.stderr.count("\r") > len(datapackage.tables()), "the bar is redrawn as batches are written"


def test_console_script_exports_with_output_piped(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("FLASK_APP", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"

    def run(*args):
        result = subprocess.run(
            [str(EVENTLEDGER), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result

    run("seed")
    result = run("export", str(tmp_path / "out"))
    assert result.stderr.strip() == "Exporting r1", result.stderr
    assert "Wrote eventledger r1" in result.stdout
    assert_valid(frictionless.validate(str(tmp_path / "out" / "datapackage.json")))
