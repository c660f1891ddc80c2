"""The catalog declares each resource once, and every part of the API reads it from there.

These tests hold the parts to the declaration through what users see (the OpenAPI document, the
list and timeline parameters, the write checks), so that a filter, facet or relation added to
a catalog module reaches all of them, and a part that kept a list of its own would fail here.
"""

import pytest
from helpers import actor, claim, event, source

from api import create_app
from api.catalog import RESOURCE_NAMES, SPECS, WRITE_ORDER
from api.catalog.declarations import RelationFilter

API = "/api/v1"
COMMON_LIST_PARAMETERS = ["format", "bom", "limit", "cursor", "q", "updated_since"]


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'spec.sqlite3'}"})
    with app.app_context():
        return app.extensions["eventledger.api"].spec.to_dict()


def parameter_names(document, path):
    return [
        parameter["name"] for parameter in document["paths"][path]["get"]["parameters"] if parameter["in"] == "query"
    ]


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_a_list_takes_exactly_the_declared_filters_sorts_fields_relations_and_facets(document, resource):
    spec = SPECS[resource]
    declared = [*COMMON_LIST_PARAMETERS, *spec.filter_parameters, "sort", "fields", "include", "facets"]
    assert parameter_names(document, f"{API}/{resource}") == declared
    by_name = {p["name"]: p for p in document["paths"][f"{API}/{resource}"]["get"]["parameters"]}
    assert by_name["sort"]["schema"]["items"]["enum"][: len(spec.sort_keys)] == list(spec.sort_keys)
    assert by_name["include"]["schema"]["items"]["enum"] == list(spec.relations)
    assert by_name["facets"]["schema"]["items"]["enum"] == [facet.name for facet in spec.facets]
    assert by_name["format"]["schema"]["enum"] == list(spec.export_formats)


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_every_related_list_takes_its_target_lists_parameters(document, resource):
    for relation in SPECS[resource].relations.values():
        path = f"{API}/{resource}/{{record_id}}/{relation.name}"
        assert parameter_names(document, path) == parameter_names(document, f"{API}/{relation.target}"), path


def test_the_timeline_takes_every_filter_of_the_events_list(document):
    assert parameter_names(document, f"{API}/timeline") == [
        *SPECS["events"].filter_parameters,
        "q",
        "updated_since",
        "interval",
        "per_period",
    ]


def test_every_declared_filter_parameter_filters_the_list_and_the_timeline(client, load):
    """Each filter parameter of the events declaration, sent to the list and to the timeline, keeps the same events."""
    load(
        sources=[source("s-1"), source("s-2")],
        actors=[actor("a-1", country="CN"), actor("a-2")],
        events=[
            event("e-1", [("a-1", "accuser")], ["s-1"], date="2024-09", type="accusation", location={"country": "CN"}),
            event("e-2", [("a-2", "denier")], ["s-2"], type="official_denial"),
        ],
        claims=[claim("c-1", ["e-1"], [("a-1", "asserts")], [("s-1", "supports")])],
    )
    values = {
        "type": "accusation",
        "actor": "a-1",
        "role": "accuser",
        "country": "CN",
        "date_from": "2024",
        "date_to": "2024-12",
        "claim": "c-1",
        "source": "s-1",
    }
    assert set(values) == set(SPECS["events"].filter_parameters), "a new events filter needs a value here"
    for name, value in values.items():
        listed = client.get(f"{API}/events?{name}={value}").get_json()
        assert [record["id"] for record in listed["data"]] == ["e-1"], name
        periods = client.get(f"{API}/timeline?{name}={value}").get_json()["data"]
        assert [item["id"] for period in periods for item in period["events"]["items"]] == ["e-1"], name


@pytest.mark.parametrize("resource", RESOURCE_NAMES)
def test_relation_filters_and_link_facets_name_declared_relations(resource):
    spec = SPECS[resource]
    for spec_filter in spec.filters:
        if isinstance(spec_filter, RelationFilter):
            assert spec_filter.relation_name in spec.relations, spec_filter
    for facet in spec.facets:
        relation_name = getattr(facet, "relation_name", None)
        assert relation_name is None or relation_name in spec.relations, facet


def test_records_are_written_after_the_records_they_refer_to():
    order = list(WRITE_ORDER)
    assert sorted(order) == sorted(RESOURCE_NAMES)
    for position, (name, spec) in enumerate(WRITE_ORDER.items()):
        for relation in spec.links.values():
            assert order.index(relation.target) < position, (name, relation.name)


def test_a_duplicate_link_is_refused_as_the_join_tables_unique_index_would(client, load, runner):
    """The identity of a link (actor and role; a claim's event) comes from the join table's unique index."""
    assert SPECS["events"].links["actors"].identity_keys == ("actor", "role")
    assert SPECS["claims"].links["events"].identity_keys == ("event",)
    assert SPECS["events"].links["sources"].identity_keys is None  # a source may be quoted twice
    load(sources=[source("s-1")], actors=[actor("a-1")])
    key = runner.invoke(args=["keys", "create", "catalog test"]).stdout.strip()
    body = event("e-1", [("a-1", "accuser"), ("a-1", "accuser")], ["s-1"])
    response = client.post(f"{API}/events", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert [error["parameter"] for error in response.get_json()["errors"]] == ["actors.1"]
