"""Exports of every list as CSV, NDJSON, JSON and GeoJSON, parsed back with the standard tools.

The oracle of every export is the same list walked page by page through the JSON API.
"""

import csv
import io
import json

import geojson
import pandas
import pytest
from helpers import (
    LISTS,
    RELATED,
    SEEDED_IDS,
    actor,
    assert_bad_parameter,
    assert_stored_json_is_fresh,
    check_each,
    get_ok,
    source,
)

from api.catalog.tabular import safe_cell
from api.reading import exports
from api.reading.exports import csv_column_names, csv_columns

API = "/api/v1"
FILTERED_LISTS = (
    "/api/v1/events",
    "/api/v1/events?sort=-date",
    "/api/v1/events?type=accusation,official_denial",
    "/api/v1/events?q=drone",
    "/api/v1/events?actor=european-union&sort=title",
    "/api/v1/claims?status=alleged&sort=-credibility",
    "/api/v1/claims?actor=china&stance=denies",
    "/api/v1/actors?country=CN",
    "/api/v1/actors?kind=state,government&sort=-name",
    "/api/v1/sources?reliability=F",
    "/api/v1/actors/european-union/events",
    "/api/v1/sources/modern-warfare-newsletter/claims?sort=status",
)


def with_params(url, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def walk_pages(client, url, limit=7):
    """Every record of a list, page by page, as a user of the JSON API sees it."""
    records, page_url = [], with_params(url, limit=limit)
    while page_url:
        body = get_ok(client, page_url)
        records += body["data"]
        page_url = body["links"]["next"]
    return records


def export(client, url, headers=None):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.get_data(as_text=True))
    assert response.is_streamed, url
    response.get_data()  # read it whole: an unread stream would be finalised outside its request
    return response


def resource_of(url):
    path = url.split("?")[0].removeprefix(API + "/").split("/")
    return path[-1] if len(path) == 3 else path[0]


# --- exactly the rows of the list ------------------------------------------------------------


def test_each_format_returns_exactly_the_rows_the_list_walks(client, seeded):
    def check(url):
        # A related list's page gives each record its `links` to the parent; an export gives the records alone.
        expected = [{k: v for k, v in record.items() if k != "links"} for record in walk_pages(client, url)]
        assert expected, f"{url} matches nothing: a useless case"
        ids = [record["id"] for record in expected]

        ndjson_lines = export(client, with_params(url, format="ndjson")).get_data(as_text=True).splitlines()
        assert [json.loads(line) for line in ndjson_lines] == expected

        body = json.loads(export(client, with_params(url, format="json")).get_data())
        assert body["data"] == expected
        assert body["meta"]["count"] == len(expected)
        assert body["meta"]["limit"] is body["meta"]["next_cursor"] is body["links"]["next"] is None

        rows = list(csv.DictReader(io.StringIO(export(client, with_params(url, format="csv")).get_data(as_text=True))))
        assert [row["id"] for row in rows] == ids

    check_each(FILTERED_LISTS, check)


def test_csv_reads_back_with_pandas_and_flattens_relations(client, seeded):
    response = export(client, f"{API}/events?format=csv")
    frame = pandas.read_csv(io.BytesIO(response.get_data()), keep_default_na=False)
    events = walk_pages(client, f"{API}/events?include=actors,sources,claims")
    assert list(frame["id"]) == [event["id"] for event in events]
    for event, (_, row) in zip(events, frame.iterrows(), strict=True):
        assert row["title"] == event["title"]
        assert row["actor_ids"] == "; ".join(link["id"] for link in event["actors"])
        assert row["actor_names"] == "; ".join(link["name"] for link in event["actors"])
        assert row["actor_roles"] == "; ".join(link["role"] for link in event["actors"])
        assert row["source_excerpts"] == "\n".join(link["excerpt"] for link in event["sources"])
        assert row["claim_ids"] == "; ".join(link["id"] for link in event["claims"])
        assert row["date"] == (event["date"] or "")
        assert row["date_approximate"] == event["date_approximate"]


def test_csv_header_is_the_documented_column_order(client, seeded, app):
    for url in LISTS:
        resource = resource_of(url)
        header = export(client, f"{url}?format=csv").get_data(as_text=True).split("\r\n")[0]
        with app.app_context():
            columns = csv_column_names(app.extensions["eventledger.specs"][resource])
        assert header.split(",") == columns
        assert columns[0] == "id"
        for relation in RELATED[resource]:
            singular = app.extensions["eventledger.specs"][relation].singular
            assert f"{singular}_ids" in columns, (resource, relation)
        documented = client.get(f"{API}/openapi.json").get_json()["paths"][url]["get"]["responses"]["200"]
        assert ", ".join(columns) in documented["content"]["text/csv"]["schema"]["description"]


def test_fields_choose_the_csv_columns_and_the_json_members(client, seeded):
    header = export(client, f"{API}/events?format=csv&fields=title,actors").get_data(as_text=True).split("\r\n")[0]
    assert header == "id,title,actor_ids,actor_names,actor_roles"
    line = export(client, f"{API}/events?format=ndjson&fields=title").get_data(as_text=True).splitlines()[0]
    assert set(json.loads(line)) == {"id", "title"}


def test_include_embeds_whole_related_records_in_json_exports(client, seeded):
    url = f"{API}/claims?include=actors,events"
    expected = walk_pages(client, url)
    lines = export(client, with_params(url, format="ndjson")).get_data(as_text=True).splitlines()
    assert [json.loads(line) for line in lines] == expected
    assert expected[0]["actors"][0]["name"]


def test_parameters_an_export_cannot_honour_are_refused(client, seeded):
    assert_bad_parameter(client, f"{API}/events?format=csv&include=actors", "include")
    assert_bad_parameter(client, f"{API}/events?format=csv&facets=type", "facets")
    assert_bad_parameter(client, f"{API}/events?format=ndjson&facets=type", "facets")
    assert_bad_parameter(client, f"{API}/events?bom=true", "bom")
    assert_bad_parameter(client, f"{API}/events?format=json&bom=true", "bom")


def test_json_exports_carry_the_facets_of_the_whole_result(client, seeded):
    page = get_ok(client, f"{API}/claims?facets=status,credibility&status=alleged,disputed")
    body = export(client, f"{API}/claims?facets=status,credibility&status=alleged,disputed&format=json").get_json()
    assert body["meta"]["facets"] == page["meta"]["facets"]
    assert body["meta"]["count"] == page["meta"]["count"]


def test_an_explicit_limit_caps_an_export_and_a_cursor_resumes_it(client, seeded):
    everything = walk_pages(client, f"{API}/claims")
    sample = export(client, f"{API}/claims?format=ndjson&limit=3").get_data(as_text=True).splitlines()
    assert [json.loads(line)["id"] for line in sample] == [record["id"] for record in everything[:3]]

    cursor = get_ok(client, f"{API}/claims?limit=5")["meta"]["next_cursor"]
    rest = export(client, f"{API}/claims?format=json&cursor={cursor}").get_json()["data"]
    assert rest == everything[5:]


# --- negotiation, names, versions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/csv", "text/csv"),
        ("application/x-ndjson", "application/x-ndjson"),
        ("application/geo+json", "application/geo+json"),
        ("text/csv;q=0.9, application/json;q=0.5", "text/csv"),
        ("application/json", None),
        ("*/*", None),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", None),
        ("image/png", None),
    ],
)
def test_accept_chooses_the_export(client, seeded, accept, media_type):
    response = client.get(f"{API}/events", headers={"Accept": accept})
    assert response.status_code == 200
    assert "Accept" in response.headers["Vary"]
    if media_type is None:
        assert response.mimetype == "application/json"
        assert "next_cursor" in response.get_json()["meta"]
        assert "Content-Disposition" not in response.headers
    else:
        assert response.mimetype == media_type
        assert response.is_streamed
        response.get_data()


def test_geojson_is_offered_for_events_only(client, seeded):
    response = client.get(f"{API}/actors", headers={"Accept": "application/geo+json"})
    assert response.mimetype == "application/json"
    assert_bad_parameter(client, f"{API}/actors?format=geojson", "format")
    assert_bad_parameter(client, f"{API}/events?format=xlsx", "format")


def test_a_download_is_named_after_the_resource_and_the_dataset_version(client, seeded):
    for url in LISTS:
        resource = resource_of(url)
        for fmt, extension in (("csv", "csv"), ("ndjson", "ndjson"), ("json", "json")):
            response = export(client, f"{url}?format={fmt}")
            version = response.headers["Dataset-Version"]
            assert version == f"r{get_ok(client, API)['dataset_revision']}"
            assert response.headers["Content-Disposition"] == (
                f'attachment; filename="eventledger-{resource}-{version}.{extension}"'
            )


def test_csv_content_type_declares_utf8_and_header(client, seeded):
    response = export(client, f"{API}/sources?format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert export(client, f"{API}/sources?format=ndjson").headers["Content-Type"] == "application/x-ndjson"


def test_every_response_carries_the_dataset_version(client, seeded):
    version = f"r{get_ok(client, API)['dataset_revision']}"
    etag = client.get(f"{API}/events").headers["ETag"]
    responses = [
        client.get(API),
        client.get(f"{API}/events"),
        client.get(f"{API}/events/{SEEDED_IDS['events']}"),
        client.get(f"{API}/events/no-such-event"),
        client.get(f"{API}/events?limit=0"),
        client.get(f"{API}/events", headers={"If-None-Match": etag}),
        export(client, f"{API}/events?format=csv"),
        client.get(f"{API}/openapi.json"),
        client.post(f"{API}/events"),
    ]
    assert [response.headers.get("Dataset-Version") for response in responses] == [version] * len(responses)
    # liveness answers without the database, so without its version
    assert "Dataset-Version" not in client.get("/healthz").headers
    assert "Dataset-Version" in client.get(f"{API}/events", headers={"Origin": "https://example.org"}).headers.get(
        "Access-Control-Expose-Headers"
    )


def test_exports_answer_if_none_match_with_304_per_representation(client, seeded):
    csv_response = export(client, f"{API}/events", headers={"Accept": "text/csv"})
    page = client.get(f"{API}/events")
    assert csv_response.headers["ETag"] != page.headers["ETag"]
    again = client.get(f"{API}/events", headers={"Accept": "text/csv", "If-None-Match": csv_response.headers["ETag"]})
    assert again.status_code == 304
    not_csv = export(client, f"{API}/events", headers={"Accept": "text/csv", "If-None-Match": page.headers["ETag"]})
    assert not_csv.status_code == 200
    assert not_csv.mimetype == "text/csv"
    by_format = export(client, f"{API}/events?format=csv")
    repeat = client.get(f"{API}/events?format=csv", headers={"If-None-Match": by_format.headers["ETag"]})
    assert repeat.status_code == 304


def test_a_page_cached_as_json_is_never_served_to_a_csv_request(client, seeded):
    client.get(f"{API}/events?limit=3")
    response = export(client, f"{API}/events?limit=3", headers={"Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    assert len(response.get_data(as_text=True).strip().split("\r\n")) == 4


def test_related_list_exports_check_their_parent(client, seeded):
    response = client.get(f"{API}/actors/no-such-actor/events?format=csv")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


# --- CSV that spreadsheets open cleanly ------------------------------------------------------

AWKWARD = [
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(A1:A2)",
    "-2+3",
    "@cmd",
    "\tTabbed",
    'Quotes "inside", commas, and\nnewlines',
    "Unicode: Zürich, Ürümqi, 新疆, ‘curly’ — dash",
]


@pytest.fixture
def awkward(load):
    sources = [source("awkward-source", title=AWKWARD[0])]
    actors = [actor("awkward-actor", name=AWKWARD[1], aliases=["@alias", "plain"])]
    events = [
        {
            "id": f"awkward-{index}",
            "title": text,
            "summary": AWKWARD[(index + 1) % len(AWKWARD)],
            "type": "accusation",
            "date": "2024-03-0" + str(index + 1),
            "location": {"place": text, "country": "CN", "latitude": -12.5 - index, "longitude": -70.25 + index},
            "actors": [{"actor": "awkward-actor", "role": "accuser"}],
            "sources": [{"source": "awkward-source", "stance": "reports", "excerpt": text}],
        }
        for index, text in enumerate(AWKWARD)
    ]
    load(sources=sources, actors=actors, events=events)
    return events


def neutralised(text):
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def test_csv_neutralises_formulas_and_round_trips_everything_else(client, awkward):
    response = export(client, f"{API}/events?format=csv&sort=date")
    raw = response.get_data()
    assert raw.split(b"\r\n")[0].startswith(b"id,title,")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    frame = pandas.read_csv(io.BytesIO(raw), keep_default_na=False)
    assert len(rows) == len(frame) == len(AWKWARD)
    for text, row, (_, frame_row) in zip(AWKWARD, rows, frame.iterrows(), strict=True):
        assert row["title"] == frame_row["title"] == neutralised(text)
        assert row["place"] == neutralised(text)
        assert row["source_excerpts"] == neutralised(text)
        assert row["actor_names"] == neutralised(AWKWARD[1])
        assert row["source_titles"] == neutralised(AWKWARD[0])
        # Numbers stay numbers: a negative coordinate is not a formula.
        assert isinstance(frame_row["latitude"], float) and frame_row["latitude"] < 0
        assert row["date_start"] == row["date"]
    actors = list(csv.DictReader(io.StringIO(export(client, f"{API}/actors?format=csv").get_data(as_text=True))))
    assert actors[0]["aliases"] == "'@alias; plain"


def test_csv_rows_are_what_the_csv_module_writes_of_the_records_the_json_api_reads(client, awkward, app):
    """A CSV row is joined from the pieces stored with its record and the labels of its related records:
    it must be byte for byte what csv.writer makes of the record as the JSON API serves it, related
    records included, awkward text (quotes, commas, line breaks, formulas) and all."""
    for url in LISTS:
        resource = resource_of(url)
        spec = app.extensions["eventledger.specs"][resource]
        records = walk_pages(client, f"{url}?include={','.join(spec.relations)}")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(csv_column_names(spec))
        writer.writerows([safe_cell(get(record)) for _, get in csv_columns(spec)] for record in records)
        assert export(client, f"{url}?format=csv").get_data(as_text=True) == buffer.getvalue(), url


def test_bom_makes_excel_read_utf8_and_pandas_still_reads_the_header(client, awkward):
    raw = export(client, f"{API}/events?format=csv&bom=true").get_data()
    assert raw.startswith("\ufeff".encode())
    assert not export(client, f"{API}/events?format=csv").get_data().startswith("\ufeff".encode())
    frame = pandas.read_csv(io.BytesIO(raw), keep_default_na=False)
    assert list(frame.columns)[0] == "id"


# --- GeoJSON -----------------------------------------------------------------------------------


def test_geojson_is_valid_rfc7946_with_events_without_coordinates_counted(client, awkward, load):
    load(
        sources=[source("awkward-source", title=AWKWARD[0])],
        events=[
            {
                "id": "no-coordinates",
                "title": "Somewhere unknown",
                "summary": "No place given.",
                "type": "accusation",
                "actors": [{"actor": "awkward-actor", "role": "accuser"}],
                "sources": [{"source": "awkward-source", "stance": "reports", "excerpt": "x"}],
            }
        ],
        actors=[actor("awkward-actor", name=AWKWARD[1], aliases=["@alias", "plain"])],
    )
    response = export(client, f"{API}/events?format=geojson")
    assert response.mimetype == "application/geo+json"
    collection = geojson.loads(response.get_data(as_text=True))
    assert collection.is_valid, collection.errors()
    assert collection["type"] == "FeatureCollection"
    by_id = {feature["id"]: feature for feature in collection["features"]}
    assert set(by_id) == {event["id"] for event in awkward}
    for event in awkward:
        feature = by_id[event["id"]]
        assert feature["geometry"] == {
            "type": "Point",
            "coordinates": [event["location"]["longitude"], event["location"]["latitude"]],
        }
        assert feature["properties"]["title"] == event["title"]
    assert collection["metadata"]["count"] == len(awkward)
    assert collection["metadata"]["without_coordinates"] == 1

    filtered = export(client, f"{API}/events?format=geojson&q=Unicode&sort=date").get_json()
    assert [feature["id"] for feature in filtered["features"]] == ["awkward-5", "awkward-6"]
    assert filtered["metadata"]["without_coordinates"] == 0


def test_geojson_of_the_shipped_dataset_is_empty_and_says_why(client, seeded):
    """The source gives no coordinates, so none are invented: every event is counted as left out."""
    collection = export(client, f"{API}/events", headers={"Accept": "application/geo+json"}).get_json()
    assert collection["features"] == []
    assert collection["metadata"]["without_coordinates"] == get_ok(client, f"{API}/events")["meta"]["count"]
    assert geojson.loads(json.dumps(collection)).is_valid


# --- streamed, in batches, with few queries ---------------------------------------------------


def test_an_export_streams_batch_by_batch_instead_of_building_the_body(
    client, seeded, monkeypatch, count_queries, database_url
):
    monkeypatch.setattr(exports, "BATCH_SIZE", 4)
    total = get_ok(client, f"{API}/events")["meta"]["count"]
    response = client.get(f"{API}/events?format=csv")
    assert response.is_streamed
    chunks = iter(response.response)
    before = count_queries.count
    header = next(chunks)
    assert header.startswith(b"id,")
    assert count_queries.count - before <= 1, "the header went out before the rows were read"
    first_batch = next(chunks)
    assert first_batch.count(b"\r\n") >= 4
    if database_url.startswith("postgres"):
        # psycopg2 would otherwise fetch the whole result before the first row: a server-side cursor is open.
        from api.db import database

        assert database.execute_sql("SELECT count(*) FROM pg_cursors").fetchone()[0] == 1
    after_first_batch = count_queries.count
    rest = list(chunks)
    assert len(rest) >= total // 4 - 1
    assert count_queries.count > after_first_batch, "later batches are read only when the stream reaches them"


def test_queries_grow_with_batches_not_rows(client, seeded, monkeypatch, count_queries):
    """One query for the rows and a fixed few for the relations of each batch, whatever its size."""
    monkeypatch.setattr(exports, "BATCH_SIZE", 5)
    total = get_ok(client, f"{API}/events")["meta"]["count"]
    batches = -(-total // 5)
    for fmt in ("csv", "ndjson", "json"):
        before = count_queries.count
        export(client, f"{API}/events?format={fmt}").get_data()
        per_batch = (count_queries.count - before) / batches
        assert per_batch <= 10, (fmt, count_queries.queries[before:])


def test_each_records_stored_json_is_what_its_schema_dumps(app, seeded):
    """Records are dumped without their links, which are then set as the join query returns them, and
    stored: each must equal the full schema's dump of its row and links."""
    assert_stored_json_is_fresh(app)
