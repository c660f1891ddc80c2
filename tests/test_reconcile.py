"""Reconciliation (W3C Entity Reconciliation API 0.2) with the protocol's own request shapes, as OpenRefine sends
them: the manifest, a form-encoded batch of queries with types, limits and property constraints, a GET batch,
suggest and preview; on the shipped data, on both databases."""

import json

import pytest

SERVICE = "/api/v1/reconcile/actors"


def batch(client, queries, service=SERVICE):
    response = client.post(service, data={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_manifest_describes_the_service_as_openrefine_reads_it(client, seeded):
    manifest = client.get(SERVICE).get_json()
    assert manifest["versions"] == ["0.2"]
    assert manifest["defaultTypes"] == [{"id": "actor", "name": "Actor"}]
    assert manifest["identifierSpace"].endswith("/api/v1/actors/")
    assert manifest["view"]["url"].endswith("/api/v1/actors/{{id}}")
    preview = manifest["preview"]["url"].replace("{{id}}", "china").replace("http://localhost", "")
    assert client.get(preview).status_code == 200
    entity = manifest["suggest"]["entity"]
    assert entity["service_url"].endswith(SERVICE) and entity["service_path"] == "/suggest/entity"
    assert client.get("/api/v1/reconcile/events").get_json()["defaultTypes"] == [{"id": "event", "name": "Event"}]


def test_a_column_of_names_reconciles_to_ids_by_name_and_alias(client, seeded):
    column = ["Almaz Antey", "Beijing", "almaz-antey", "EEAS", "Moscow", "Kremlin", "European Union"]
    answers = batch(client, {f"q{n}": {"query": name, "type": "actor", "limit": 3} for n, name in enumerate(column)})
    assert list(answers) == [f"q{n}" for n in range(len(column))]
    best = {name: answers[f"q{n}"]["result"] for n, name in enumerate(column)}
    for name, expected in (
        ("Almaz Antey", "almaz-antey"),  # punctuation and case set aside
        ("almaz-antey", "almaz-antey"),
        ("Beijing", "china"),  # an alias
        ("EEAS", "eeas"),
        ("Moscow", "russia"),
        ("European Union", "european-union"),
    ):
        first = best[name][0]
        assert (first["id"], first["score"], first["match"]) == (expected, 100.0, True), (name, best[name])
        assert first["type"] == [{"id": "actor", "name": "Actor"}]
        assert len(best[name]) <= 3
        assert all(not other["match"] for other in best[name][1:])
    # A name the data does not hold matches nothing, though candidates may be offered.
    assert not any(result["match"] for result in best["Kremlin"])
    # Scores come best first.
    for results in best.values():
        assert [result["score"] for result in results] == sorted((result["score"] for result in results), reverse=True)


def test_property_constraints_decide_between_candidates(client, seeded):
    answers = batch(
        client,
        {
            "right": {"query": "Almaz-Antey", "properties": [{"pid": "country", "v": "RU"}]},
            "wrong": {"query": "Almaz-Antey", "properties": [{"pid": "country", "v": {"id": "UA"}}]},
            "kind": {"query": "Almaz-Antey", "properties": [{"pid": "kind", "v": ["state", "government"]}]},
        },
    )
    assert answers["right"]["result"][0]["match"] is True
    wrong = {result["id"]: result for result in answers["wrong"]["result"]}
    assert wrong["almaz-antey"]["match"] is False and wrong["almaz-antey"]["score"] == 50.0
    assert not answers["kind"]["result"][0]["match"]


def test_a_get_batch_and_the_events_service(client, seeded):
    queries = json.dumps({"q0": {"query": "Beijing says it was unaware of any drone project in Xinjiang"}})
    answer = client.get("/api/v1/reconcile/events", query_string={"queries": queries}).get_json()
    first = answer["q0"]["result"][0]
    assert (first["id"], first["match"]) == ("beijing-denies-awareness", True)
    partial = batch(client, {"q": {"query": "Beijing denies"}}, service="/api/v1/reconcile/events")
    assert partial["q"]["result"][0]["id"] == "beijing-denies-awareness"


def test_suggest_and_preview(client, seeded):
    suggested = client.get(f"{SERVICE}/suggest/entity", query_string={"prefix": "alm"}).get_json()["result"]
    assert [item["id"] for item in suggested] == ["almaz-antey", "almaz-antey-subsidiary"]
    assert client.get(f"{SERVICE}/suggest/entity", query_string={"prefix": "beij"}).get_json()["result"] == [
        {"id": "china", "name": "China"}
    ]
    properties = client.get(f"{SERVICE}/suggest/property", query_string={"prefix": "c"}).get_json()["result"]
    assert [item["id"] for item in properties] == ["country"]
    page = client.get(f"{SERVICE}/preview", query_string={"id": "almaz-antey"})
    assert page.mimetype == "text/html" and "Almaz-Antey" in page.get_data(as_text=True)
    assert client.get(f"{SERVICE}/preview", query_string={"id": "nobody"}).status_code == 404


@pytest.mark.parametrize(
    "queries",
    [
        "not json",
        "[1, 2]",
        json.dumps({"q0": {"limit": 3}}),
        json.dumps({"q0": {"query": "x", "limit": 0}}),
        json.dumps({"q0": {"query": "x", "properties": "country"}}),
        json.dumps({f"q{n}": {"query": "x"} for n in range(101)}),
        json.dumps({"q0": {"query": "x", "properties": [{"pid": ["country"], "v": "RU"}]}}),
        json.dumps({"q0": {"query": "x", "properties": [{"pid": {"id": "country"}, "v": "RU"}]}}),
        json.dumps({"q0": {"query": "x" * 201}}),
    ],
)
def test_a_malformed_batch_is_a_400_problem(client, seeded, queries):
    response = client.post(SERVICE, data={"queries": queries})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_a_post_without_queries_is_a_400_naming_them(client, seeded):
    response = client.post(SERVICE, data={})
    assert response.status_code in (400, 422) and response.mimetype == "application/problem+json"
    assert "queries" in response.get_data(as_text=True)
