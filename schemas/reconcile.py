"""What the reconciliation service takes: the W3C Entity Reconciliation API's own parameters."""

from marshmallow import fields, validate

from schemas.query import QueryArgs

MAX_QUERIES_TEXT = 100_000  # characters of the `queries` JSON: 100 queries of a few hundred characters


class ReconcileArgs(QueryArgs):
    queries = fields.String(
        validate=validate.Length(min=2, max=MAX_QUERIES_TEXT),
        metadata={
            "description": 'A JSON object of queries, each `{"query": "Almaz Antey", "limit": 3, "properties": '
            '[{"pid": "country", "v": "RU"}]}`; without it, the service manifest.'
        },
    )


class ReconcileBatchArgs(QueryArgs):
    queries = fields.String(
        required=True,
        validate=validate.Length(min=2, max=MAX_QUERIES_TEXT),
        metadata={"description": ReconcileArgs._declared_fields["queries"].metadata["description"].split(";")[0]},
    )


class SuggestArgs(QueryArgs):
    prefix = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"description": "What was typed so far."}
    )
    cursor = fields.Integer(
        load_default=0, validate=validate.Range(0, 1000), metadata={"description": "Results to skip."}
    )


class PreviewArgs(QueryArgs):
    id = fields.String(
        required=True, validate=validate.Length(min=1, max=80), metadata={"description": "The record's id."}
    )


RECONCILE_RESPONSE = {
    "type": "object",
    "description": 'The service manifest (without `queries`), or per query key `{"result": [{"id", "name", '
    '"type", "score", "match"}]}`, best first (W3C Entity Reconciliation API 0.2).',
    "additionalProperties": True,
}
SUGGEST_RESPONSE = {
    "type": "object",
    "required": ["result"],
    "properties": {
        "result": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            },
        }
    },
}
