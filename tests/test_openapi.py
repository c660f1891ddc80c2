"""The OpenAPI document: generated from the schemas, committed, valid, served, and complete."""

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
