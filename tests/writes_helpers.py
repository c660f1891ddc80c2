"""What the write and history tests share: API keys, request helpers and a snapshot of everything stored."""

import copy

from helpers import SHIPPED

from api.auth import create_key, revoke_key
from api.db import database
from api.tables import ALL_MODELS, Change, dataset_revision

API = "/api/v1"


def make_key(name="alice", revoked=False):
    with database.connection_context():
        row, key = create_key(name)
        if revoked:
            revoke_key(row.prefix)
    return key


def auth(key, **headers):
    return {"Authorization": f"Bearer {key}", **headers}


SOURCE_LINK_INPUT = ("source", "stance", "excerpt", "occurrence")


def shipped(resource, record_id=None, **changes):
    """A copy of a shipped record (the first, or `record_id`), valid as a POST body, with `changes` applied:
    without what loading it worked out (its excerpts' anchors, an unset digest of its document)."""
    records = SHIPPED[resource]
    record = copy.deepcopy(next(r for r in records if record_id in (None, r["id"])))
    if "sources" in record:
        record["sources"] = [{key: link[key] for key in SOURCE_LINK_INPUT} for link in record["sources"]]
    if record.get("document"):
        record["document"] = {key: value for key, value in record["document"].items() if value is not None}
    record.update(changes)
    return record


def etag_of(client, resource, record_id):
    response = client.get(f"{API}/{resource}/{record_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.headers["ETag"]


def snapshot():
    """Every stored row of every table (but API keys and idempotency records), and the dataset revision."""
    with database.connection_context():
        tables = {
            model.__name__: sorted(map(repr, model.select().tuples()))
            for model in ALL_MODELS
            if model.__name__ not in ("ApiKey", "IdempotentRequest")
        }
        return tables, dataset_revision()


def row_counts():
    """The number of rows of every table, and the dataset revision: a cheap look at whether anything was written,
    for tests that ask it thousands of times (`snapshot` compares the rows themselves)."""
    with database.connection_context():
        return {model.__name__: model.select().count() for model in ALL_MODELS}, dataset_revision()


def changes_of(resource, record_id):
    with database.connection_context():
        query = Change.select().where((Change.resource == resource) & (Change.record_id == record_id))
        return list(query.order_by(Change.id).dicts())


def all_changes():
    with database.connection_context():
        return list(Change.select().order_by(Change.id).dicts())


def assert_problem(response, status, parameter=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    if parameter is not None:
        assert parameter in [error["parameter"] for error in body.get("errors", [])], body
    return body
