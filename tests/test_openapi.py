"""The OpenAPI document: generated from the schemas, committed, valid, served, and complete."""

import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from api import create_app

METHODS = {"get", "put", "post", "delete", "patch", "options", "head"}
SPEC_FILE = Path(__file__).resolve().parent.parent / "openapi.yaml"
REGENERATE = "eventledger openapi write --format yaml openapi.yaml"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('spec') / 'spec.sqlite3'}"})
    with app.app_context():
        return app.extensions["eventledger.api"].spec.to_dict()


@pytest.fixture(scope="module")
def committed():
    return yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))


def test_committed_spec_matches_the_code(generated, committed):
    assert committed == generated, f"openapi.yaml drifted from the schemas; regenerate it with `{REGENERATE}`"


def test_spec_is_valid_openapi_3_1(committed):
    assert committed["openapi"] == "3.1.0"
    validate(committed)


def test_served_spec_is_the_committed_one(client, committed):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json == committed


def test_every_route_is_documented(app, committed):
    undocumented = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "docs_assets.swagger_ui_asset") or rule.endpoint.startswith("api-docs."):
            continue
        path = rule.rule.replace("<string:", "{").replace("<", "{").replace(">", "}")
        if path not in committed["paths"]:
            undocumented.append(path)
    assert undocumented == []


def test_every_parameter_and_property_is_described(committed):
    missing = []
    for path, operations in committed["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and not parameter.get("description"):
                    missing.append(f"{method.upper()} {path} ?{parameter['name']}")
    for name in ("Event", "Actor", "Claim", "Source"):
        for prop, schema in committed["components"]["schemas"][name]["properties"].items():
            if prop != "id" and not schema.get("description"):
                missing.append(f"{name}.{prop}")
    assert missing == []


def test_errors_are_documented_as_problem_json(committed):
    for path, operations in committed["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            default = operation["responses"]["default"]["$ref"].split("/")[-1]
            assert "application/problem+json" in committed["components"]["responses"][default]["content"], path
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert list(response["content"]) == ["application/problem+json"], (path, status)


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_every_operation_has_a_unique_id_and_a_summary(committed):
    """Generated clients name their methods after operationIds; docs list operations by summary."""
    ids = [operation.get("operationId") for _, _, operation in operations(committed)]
    assert None not in ids
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", operation_id) for operation_id in ids)
    for path, method, operation in operations(committed):
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"
        assert not re.search(r"\ba [aeiou]", operation["summary"]), operation["summary"]


def test_links_lead_to_operations_with_those_parameters(committed):
    """Each OpenAPI link names an operation of the spec and fills parameters that operation has, from
    members the answer holds (the record's id, its ETag); every record write and detail links onward."""
    by_id = {operation["operationId"]: (path, operation) for path, _, operation in operations(committed)}
    linked = 0
    for path, method, operation in operations(committed):
        for status, response in operation["responses"].items():
            for name, link in response.get("links", {}).items():
                target_path, target = by_id[link["operationId"]]
                declared = [*committed["paths"][target_path].get("parameters", []), *target.get("parameters", [])]
                accepted = {(p["in"], p["name"]) for p in declared}
                for parameter, expression in link["parameters"].items():
                    location, _, name_only = parameter.rpartition(".")
                    assert (location or "path", name_only) in accepted, (path, method, name, parameter)
                    assert expression in ("$response.body#/data/id", "$response.header.ETag"), expression
                    if expression.endswith("ETag"):
                        assert "ETag" in response["headers"], (path, method, status)
                linked += 1
    for resource in ("events", "actors", "claims", "sources"):
        singular = resource[:-1].title()
        for path, method, status in (
            (f"/api/v1/{resource}", "post", "201"),
            (f"/api/v1/{resource}/{{record_id}}", "get", "200"),
            (f"/api/v1/{resource}/{{record_id}}", "patch", "200"),
        ):
            links = committed["paths"][path][method]["responses"][status]["links"]
            assert {f"get{singular}", f"update{singular}", f"delete{singular}"} <= set(links)
    assert linked >= 80
