"""Sparse fieldsets (`fields`) and embedded related records (`include`) on lists and details."""

import pytest
from helpers import assert_bad_parameter, get_ok

API = "/api/v1"

LIST_KEYS = {
    "events": {
        "id",
        "title",
        "summary",
        "type",
        "date",
        "date_approximate",
        "date_note",
        "location",
        "created_at",
        "updated_at",
        "version",
        "revision",
        "date_start",
        "date_end",
        "date_precision",
        "actors",
        "sources",
    },
    "claims": {
        "id",
        "statement",
        "status",
        "status_rationale",
        "credibility",
        "credibility_rationale",
        "created_at",
        "updated_at",
        "version",
        "revision",
        "actors",
        "sources",
        "events",
    },
    "actors": {
        "id",
        "name",
        "kind",
        "country",
        "aliases",
        "parent",
        "description",
        "created_at",
        "updated_at",
        "version",
        "revision",
    },
    "sources": {
        "id",
        "type",
        "title",
        "publisher",
        "author",
        "url",
        "published",
        "published_note",
        "language",
        "reliability",
        "reliability_rationale",
        "document",
        "reported_in",
        "access",
        "created_at",
        "updated_at",
        "version",
        "revision",
        "published_start",
        "published_end",
        "published_precision",
    },
}
SUMMARY_KEYS = {
    "events": ("id", "title", "type", "date"),
    "claims": ("id", "statement", "status", "credibility"),
    "actors": ("id", "name", "kind", "country"),
    "sources": ("id", "title", "publisher", "type", "reliability"),
}
# A source link's attributes: what is written, then its place in its document (api/catalog/excerpts.py).
EXCERPT_LINK = ("stance", "excerpt", "occurrence", "target")
# resource -> relation -> (target resource, attributes of the relation, owned by the resource)
RELATIONS = {
    "events": {
        "actors": ("actors", ("role",), True),
        "sources": ("sources", EXCERPT_LINK, True),
        "claims": ("claims", (), False),
    },
    "claims": {
        "actors": ("actors", ("stance",), True),
        "sources": ("sources", EXCERPT_LINK, True),
        "events": ("events", (), True),
    },
    "actors": {"events": ("events", ("role",), False), "claims": ("claims", ("stance",), False)},
    "sources": {"events": ("events", EXCERPT_LINK, False), "claims": ("claims", EXCERPT_LINK, False)},
}


# --- helpers -------------------------------------------------------------------


def list_data(client, url):
    separator = "&" if "?" in url else "?"
    body = get_ok(client, f"{url}{separator}limit=200")
    assert body["meta"]["next_cursor"] is None
    return body["data"]


def records_by_id(client, resource):
    """Each record of a resource as its plain list shows it (no fields, no include)."""
    return {record["id"]: record for record in list_data(client, f"{API}/{resource}")}


def excerpt_attributes(link):
    """A source link's attributes as the API shows them, from a fixture dict (anchored if the loader read it)."""
    target = None
    if link.get("target_source") is not None:
        quote = {"exact": link["excerpt"], "prefix": link["target_prefix"], "suffix": link["target_suffix"]}
        position = {"start": link["target_start"], "end": link["target_end"]}
        selector = [{"type": "TextQuoteSelector", **quote}, {"type": "TextPositionSelector", **position}]
        target = {"source": link["target_source"], "selector": selector}
    return {
        "stance": link["stance"],
        "excerpt": link["excerpt"],
        "occurrence": link.get("occurrence"),
        "target": target,
    }


def expected_links(records, resource, relation):
    """[(related id, {attribute: value})] of every record, from the fixture dicts we loaded, in curated order."""
    links = {record["id"]: [] for record in records[resource]}
    if resource == "events" and relation == "actors":
        for item in records["events"]:
            links[item["id"]] = [(link["actor"], {"role": link["role"]}) for link in item["actors"]]
    elif resource == "events" and relation == "sources":
        for item in records["events"]:
            links[item["id"]] = [(link["source"], excerpt_attributes(link)) for link in item["sources"]]
    elif resource == "events" and relation == "claims":
        for item in records["claims"]:
            for event_id in item["events"]:
                links[event_id].append((item["id"], {}))
    elif resource == "claims" and relation == "actors":
        for item in records["claims"]:
            links[item["id"]] = [(link["actor"], {"stance": link["stance"]}) for link in item["actors"]]
    elif resource == "claims" and relation == "sources":
        for item in records["claims"]:
            links[item["id"]] = [(link["source"], excerpt_attributes(link)) for link in item["sources"]]
    elif resource == "claims" and relation == "events":
        for item in records["claims"]:
            links[item["id"]] = [(event_id, {}) for event_id in item["events"]]
    elif resource == "actors" and relation == "events":
        for item in records["events"]:
            for link in item["actors"]:
                links[link["actor"]].append((item["id"], {"role": link["role"]}))
    elif resource == "actors" and relation == "claims":
        for item in records["claims"]:
            for link in item["actors"]:
                links[link["actor"]].append((item["id"], {"stance": link["stance"]}))
    elif resource == "sources" and relation == "events":
        for item in records["events"]:
            for link in item["sources"]:
                links[link["source"]].append((item["id"], excerpt_attributes(link)))
    elif resource == "sources" and relation == "claims":
        for item in records["claims"]:
            for link in item["sources"]:
                links[link["source"]].append((item["id"], excerpt_attributes(link)))
    else:
        raise AssertionError(f"no relation {resource}.{relation}")
    return links


def canonical(items):
    """A link list in an order-independent form (reverse relations have no curated order)."""
    return sorted(items, key=lambda item: repr(sorted(item.items())))


def assert_embedded(found, expected, owned):
    if owned:
        assert found == expected
    else:
        assert canonical(found) == canonical(expected)


# --- dataset -------------------------------------------------------------------

RECORDS = {
    "sources": [
        {
            "id": "s-a",
            "type": "news_investigation",
            "title": "Investigation",
            "publisher": "Reuters",
            "author": "A. Writer",
            "url": "https://example.org/a",
            "published": "2024-09",
            "language": "en",
            "reliability": "B",
            "reliability_rationale": "Usually reliable",
        },
        {
            "id": "s-b",
            "type": "official_statement",
            "title": "Statement",
            "reliability": "A",
            "reliability_rationale": "Official",
            "reported_in": "s-a",
        },
        {"id": "s-idle", "type": "other", "title": "Unused", "reliability": "F", "reliability_rationale": "None"},
    ],
    "actors": [
        {"id": "a-x", "name": "Xland", "kind": "state", "country": "RU", "aliases": ["X", "Ex"], "description": "d"},
        {"id": "a-y", "name": "Y agency", "kind": "agency", "country": "CN", "parent": "a-x", "description": "d"},
        {"id": "a-z", "name": "Zed", "kind": "person", "description": "d"},
    ],
    "events": [
        {
            "id": "e-1",
            "title": "First",
            "summary": "s",
            "type": "accusation",
            "date": "2024-09-15",
            "location": {"place": "Izhevsk", "country": "RU", "latitude": 56.85, "longitude": 53.2},
            "actors": [
                {"actor": "a-x", "role": "subject"},
                {"actor": "a-y", "role": "reporter"},
                {"actor": "a-x", "role": "accuser"},
            ],
            "sources": [
                {"source": "s-b", "stance": "reports", "excerpt": "one"},
                {"source": "s-a", "stance": "reports", "excerpt": "two"},
                {"source": "s-b", "stance": "reports", "excerpt": "three"},
            ],
        },
        {
            "id": "e-2",
            "title": "Second",
            "summary": "s",
            "type": "official_denial",
            "date": "XXXX-09",
            "actors": [{"actor": "a-y", "role": "denier"}],
            "sources": [{"source": "s-b", "stance": "reports", "excerpt": "four"}],
        },
        {
            "id": "e-3",
            "title": "Third",
            "summary": "s",
            "type": "military_attack",
            "actors": [{"actor": "a-x", "role": "target"}],
            "sources": [{"source": "s-a", "stance": "reports", "excerpt": "five"}],
        },
    ],
    "claims": [
        {
            "id": "c-1",
            "statement": "One",
            "status": "alleged",
            "status_rationale": "r",
            "credibility": 2,
            "credibility_rationale": "r",
            "events": ["e-2", "e-1"],
            "actors": [{"actor": "a-y", "stance": "denies"}, {"actor": "a-x", "stance": "asserts"}],
            "sources": [
                {"source": "s-a", "stance": "supports", "excerpt": "six"},
                {"source": "s-b", "stance": "contradicts", "excerpt": "seven"},
            ],
        },
        {
            "id": "c-2",
            "statement": "Two",
            "status": "disputed",
            "status_rationale": "r",
            "credibility": 4,
            "credibility_rationale": "r",
            "events": ["e-1"],
            "actors": [{"actor": "a-y", "stance": "subject"}],
            "sources": [{"source": "s-a", "stance": "reports", "excerpt": "eight"}],
        },
    ],
}

ALL_RELATIONS = [(resource, relation) for resource, relations in RELATIONS.items() for relation in relations]


@pytest.fixture
def linked(client, load):
    load(**RECORDS)
    return client


# --- plain lists and details ---------------------------------------------------


def test_lists_carry_owned_links_only_as_ids_with_attributes(linked):
    for resource, relations in RELATIONS.items():
        for record in list_data(linked, f"{API}/{resource}"):
            assert set(record) == LIST_KEYS[resource], resource
            for relation, (_target, attributes, owned) in relations.items():
                if not owned:
                    assert relation not in record
                    continue
                links = expected_links(RECORDS, resource, relation)[record["id"]]
                assert record[relation] == [{"id": related, **attrs} for related, attrs in links]
                assert all(set(link) == {"id", *attributes} for link in record[relation])


@pytest.mark.parametrize(("resource", "relation"), ALL_RELATIONS)
def test_detail_without_include_has_summaries_with_attributes(linked, resource, relation):
    target, attributes, owned = RELATIONS[resource][relation]
    targets = records_by_id(linked, target)
    for record_id, links in expected_links(RECORDS, resource, relation).items():
        body = get_ok(linked, f"{API}/{resource}/{record_id}")
        data = body["data"]
        assert set(data) == LIST_KEYS[resource] | set(RELATIONS[resource])
        expected = [
            {**{key: targets[related][key] for key in SUMMARY_KEYS[target]}, **attrs} for related, attrs in links
        ]
        assert_embedded(data[relation], expected, owned)
        assert all(set(item) == {*SUMMARY_KEYS[target], *attributes} for item in data[relation])


# --- include -------------------------------------------------------------------


@pytest.mark.parametrize(("resource", "relation"), ALL_RELATIONS)
def test_include_in_a_list_embeds_full_records_with_attributes(linked, resource, relation):
    target, attributes, owned = RELATIONS[resource][relation]
    targets = records_by_id(linked, target)
    plain = records_by_id(linked, resource)
    links = expected_links(RECORDS, resource, relation)
    data = list_data(linked, f"{API}/{resource}?include={relation}")
    assert [record["id"] for record in data] == list(plain)
    for record in data:
        expected = [{**targets[related], **attrs} for related, attrs in links[record["id"]]]
        assert_embedded(record[relation], expected, owned)
        assert all(set(item) == LIST_KEYS[target] | set(attributes) for item in record[relation])
        # everything else is as in the plain list
        rest = {key: value for key, value in record.items() if key != relation}
        assert rest == {key: value for key, value in plain[record["id"]].items() if key != relation}


@pytest.mark.parametrize(("resource", "relation"), ALL_RELATIONS)
def test_include_on_a_detail_replaces_the_summaries_with_full_records(linked, resource, relation):
    target, attributes, owned = RELATIONS[resource][relation]
    targets = records_by_id(linked, target)
    for record_id, links in expected_links(RECORDS, resource, relation).items():
        plain = get_ok(linked, f"{API}/{resource}/{record_id}")["data"]
        data = get_ok(linked, f"{API}/{resource}/{record_id}?include={relation}")["data"]
        expected = [{**targets[related], **attrs} for related, attrs in links]
        assert_embedded(data[relation], expected, owned)
        assert all(set(item) == LIST_KEYS[target] | set(attributes) for item in data[relation])
        # the other relations stay summaries
        assert {key: value for key, value in data.items() if key != relation} == {
            key: value for key, value in plain.items() if key != relation
        }


def test_include_several_relations_at_once(linked):
    actors, sources, claims = (records_by_id(linked, name) for name in ("actors", "sources", "claims"))
    for query in ("include=actors,sources,claims", "include=actors&include=sources&include=claims"):
        data = {record["id"]: record for record in list_data(linked, f"{API}/events?{query}")}
        first = data["e-1"]
        assert first["actors"] == [
            {**actors["a-x"], "role": "subject"},
            {**actors["a-y"], "role": "reporter"},
            {**actors["a-x"], "role": "accuser"},
        ]
        assert first["sources"] == [
            {**sources["s-b"], "stance": "reports", "excerpt": "one", "occurrence": None, "target": None},
            {**sources["s-a"], "stance": "reports", "excerpt": "two", "occurrence": None, "target": None},
            {**sources["s-b"], "stance": "reports", "excerpt": "three", "occurrence": None, "target": None},
        ]
        assert canonical(first["claims"]) == canonical([claims["c-1"], claims["c-2"]])
        assert data["e-3"]["claims"] == []
    detail = get_ok(linked, f"{API}/actors/a-y?include=events,claims")["data"]
    events = records_by_id(linked, "events")
    assert canonical(detail["events"]) == canonical(
        [{**events["e-1"], "role": "reporter"}, {**events["e-2"], "role": "denier"}]
    )
    assert canonical(detail["claims"]) == canonical(
        [{**claims["c-1"], "stance": "denies"}, {**claims["c-2"], "stance": "subject"}]
    )


def test_a_record_without_related_records_includes_an_empty_list(linked):
    assert get_ok(linked, f"{API}/actors/a-z?include=events,claims")["data"]["events"] == []
    assert get_ok(linked, f"{API}/actors/a-z")["data"]["claims"] == []
    idle = [record for record in list_data(linked, f"{API}/sources?include=events,claims") if record["id"] == "s-idle"]
    assert idle[0]["events"] == [] and idle[0]["claims"] == []


def test_unknown_relation_is_rejected(linked):
    cases = [
        "events?include=bogus",
        "events?include=actors,bogus",
        "events?include=events",
        "claims?include=claims",
        "actors?include=sources",
        "actors?include=actors",
        "sources?include=actors",
        "sources?include=sources",
        "events/e-1?include=bogus",
        "actors/a-x?include=sources",
        "sources/s-a?include=actors",
        "claims/c-1?include=claims",
        "events?include=",
    ]
    for case in cases:
        assert_bad_parameter(linked, f"{API}/{case}", "include")


# --- fields --------------------------------------------------------------------


def test_fields_keep_only_the_named_fields_and_the_id(linked):
    cases = {
        "events": ["title", "type,date", "location", "actors", "date_start,date_end,date_precision"],
        "claims": ["status", "credibility,statement", "events"],
        "actors": ["name", "country,aliases,parent"],
        "sources": ["publisher", "reliability,published,reported_in"],
    }
    for resource, field_lists in cases.items():
        plain = records_by_id(linked, resource)
        for field_list in field_lists:
            names = set(field_list.split(","))
            data = list_data(linked, f"{API}/{resource}?fields={field_list}")
            assert [record["id"] for record in data] == list(plain), field_list
            for record in data:
                assert record == {key: plain[record["id"]][key] for key in names | {"id"}}, (resource, field_list)


def test_fields_may_repeat_and_id_is_always_there(linked):
    data = list_data(linked, f"{API}/events?fields=title&fields=type")
    assert [set(record) for record in data] == [{"id", "title", "type"}] * 3
    data = list_data(linked, f"{API}/events?fields=id")
    assert data == [{"id": "e-1"}, {"id": "e-2"}, {"id": "e-3"}]


def test_fields_with_include_keep_the_included_relation(linked):
    actors = records_by_id(linked, "actors")
    data = list_data(linked, f"{API}/events?fields=title&include=actors")
    assert [set(record) for record in data] == [{"id", "title", "actors"}] * 3
    assert data[0]["actors"][1] == {**actors["a-y"], "role": "reporter"}
    data = list_data(linked, f"{API}/sources?fields=title&include=claims")
    assert all(set(record) == {"id", "title", "claims"} for record in data)


def test_fields_on_a_detail(linked):
    data = get_ok(linked, f"{API}/events/e-1?fields=title")["data"]
    assert data == {"id": "e-1", "title": "First"}
    data = get_ok(linked, f"{API}/events/e-1?fields=title,claims")["data"]
    assert set(data) == {"id", "title", "claims"}
    assert canonical(data["claims"]) == canonical(
        [
            {"id": "c-1", "statement": "One", "status": "alleged", "credibility": 2},
            {"id": "c-2", "statement": "Two", "status": "disputed", "credibility": 4},
        ]
    )
    claims = records_by_id(linked, "claims")
    data = get_ok(linked, f"{API}/actors/a-x?fields=name&include=claims")["data"]
    assert data == {"id": "a-x", "name": "Xland", "claims": [{**claims["c-1"], "stance": "asserts"}]}


def test_unknown_field_is_rejected(linked):
    cases = [
        "events?fields=bogus",
        "events?fields=title,bogus",
        "events?fields=name",
        "events?fields=role",
        "events?fields=place",
        "claims?fields=title",
        "actors?fields=title",
        "sources?fields=name",
        "events/e-1?fields=bogus",
        "actors/a-x?fields=role",
        "events?fields=",
    ]
    for case in cases:
        assert_bad_parameter(linked, f"{API}/{case}", "fields")


# --- the shipped dataset -------------------------------------------------------


def test_shipped_details_embed_exactly_the_relations_of_the_seed_files(seeded, seed_fixtures):
    client = seeded.test_client()
    mismatches = []
    for resource, relation in ALL_RELATIONS:
        target, attributes, owned = RELATIONS[resource][relation]
        for record_id, links in expected_links(seed_fixtures, resource, relation).items():
            embedded = get_ok(client, f"{API}/{resource}/{record_id}")["data"][relation]
            found = [{key: item[key] for key in ("id", *attributes)} for item in embedded]
            wanted = [{"id": related, **attrs} for related, attrs in links]
            if (found != wanted) if owned else (canonical(found) != canonical(wanted)):
                mismatches.append(f"{resource}/{record_id} {relation}: expected {wanted}, got {found}")
            if not all(set(item) == {*SUMMARY_KEYS[target], *attributes} for item in embedded):
                mismatches.append(f"{resource}/{record_id} {relation}: not summaries: {embedded}")
    assert not mismatches, "\n".join(mismatches)
