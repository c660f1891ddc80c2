"""A typed client generated from the live spec reads the API's real answers: datamodel-code-generator makes
pydantic models of every schema (extra members forbidden, required ones required), and every kind of answer
of the shipped dataset validates against its operation's model."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import LISTS, RELATED, SHIPPED

CODEGEN = Path(sys.executable).parent / "datamodel-codegen"
DETAILS = {"events": "EventDetail", "actors": "ActorDetail", "claims": "ClaimDetail", "sources": "SourceDetail"}
LIST_MODELS = {"events": "EventList", "actors": "ActorList", "claims": "ClaimList", "sources": "SourceList"}


@pytest.fixture(scope="module")
def client_models(tmp_path_factory, shared_app):
    """The models generated from the spec the app serves."""
    app, _, _ = shared_app
    directory = tmp_path_factory.mktemp("typed-client")
    spec = directory / "openapi.json"
    spec.write_bytes(app.test_client().get("/api/v1/openapi.json").get_data())
    output = directory / "eventledger_client.py"
    result = subprocess.run(
        [str(CODEGEN), "--input", str(spec), "--input-file-type", "openapi", "--output", str(output)]
        + ["--output-model-type", "pydantic_v2.BaseModel", "--formatters", "ruff-format"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = importlib.util.spec_from_file_location("eventledger_client", output)
    module = importlib.util.module_from_spec(loaded)
    sys.modules[loaded.name] = module  # pydantic resolves the models' references through it
    loaded.loader.exec_module(module)
    yield module
    del sys.modules[loaded.name]


def check(model, response):
    assert response.status_code < 300, response.get_data(as_text=True)
    return model.model_validate_json(response.get_data())


def test_every_list_and_detail_reads_into_its_model(seeded, client, client_models):
    for path in LISTS:
        resource = path.rsplit("/", 1)[1]
        page = check(getattr(client_models, LIST_MODELS[resource]), client.get(f"{path}?limit=200"))
        # What a strict client does without a check: every record has its id.
        assert {record.id for record in page.data} == {record["id"] for record in SHIPPED[resource]}
        for record in SHIPPED[resource]:
            detail = check(getattr(client_models, DETAILS[resource]), client.get(f"{path}/{record['id']}"))
            assert detail.data.id == record["id"]


def test_related_lists_include_and_fields_read_into_their_models(seeded, client, client_models):
    for resource, relations in RELATED.items():
        record_id = SHIPPED[resource][0]["id"]
        for relation in relations:
            # A relation with attributes has a list model of its own (records with `links`); a bare one the target's.
            model = getattr(client_models, f"{resource[:-1].title()}{relation.title()}List", None)
            model = model or getattr(client_models, LIST_MODELS[relation])
            page = check(model, client.get(f"/api/v1/{resource}/{record_id}/{relation}"))
            assert all(isinstance(record.id, str) for record in page.data)
        included = ",".join(relations)
        check(getattr(client_models, LIST_MODELS[resource]), client.get(f"/api/v1/{resource}?include={included}"))
        check(getattr(client_models, LIST_MODELS[resource]), client.get(f"/api/v1/{resource}?fields=id&limit=5"))
    searched = check(client_models.EventList, client.get("/api/v1/events?q=drone&facets=type"))
    assert searched.data and all(record.match is not None for record in searched.data)


def test_the_other_answers_read_into_their_models(seeded, client, client_models):
    document = check(
        client_models.SourceDocumentEnvelope, client.get("/api/v1/sources/modern-warfare-newsletter/document")
    )
    assert document.data.excerpts and document.data.sha256
    check(client_models.ChangesFeed, client.get("/api/v1/changes?limit=50"))
    check(client_models.Timeline, client.get("/api/v1/timeline?interval=month"))
    missing = client.get("/api/v1/events/no-such-event")
    assert missing.status_code == 404
    problem = client_models.Problem.model_validate_json(missing.get_data())
    assert problem.status == 404


def test_the_models_require_what_is_always_there(client_models):
    for list_model in LIST_MODELS.values():
        page_model = getattr(client_models, list_model)
        record_model = page_model.model_fields["data"].annotation.__args__[0]
        assert record_model.model_fields["id"].is_required()
        assert page_model.model_fields["meta"].is_required() and page_model.model_fields["links"].is_required()
        assert not record_model.model_fields["created_at"].is_required()  # `fields` may leave it out
    link = client_models.ClaimSourcesListLink
    assert all(link.model_fields[name].is_required() for name in ("stance", "excerpt", "occurrence", "target"))
