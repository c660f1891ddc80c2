"""Provenance anyone can check: stored, hashed documents, excerpts located by W3C selectors, a page marking
them, records linking to them, and claims as ClaimReview; all through HTTP, on both databases."""

import base64
import hashlib
from html.parser import HTMLParser

import pytest
from helpers import get_ok
from writes_helpers import API, all_changes, assert_problem, auth, etag_of, make_key, snapshot

from seed.loader import DOCUMENTS_DIR

ARTICLE = "modern-warfare-newsletter"
ARTICLE_TEXT = (DOCUMENTS_DIR / "modern-warfare-russia-china-drone-partnership.txt").read_text(encoding="utf-8")
QUOTING = ("events", "claims")


def every(client, resource):
    records, url = [], f"{API}/{resource}?limit=200"
    while url:
        body = get_ok(client, url)
        records += body["data"]
        url = body["links"]["next"]
    return records


def document_text(client, source_id):
    response = client.get(f"{API}/sources/{source_id}/document", headers={"Accept": "text/plain"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# --- The stored documents -------------------------------------------------------------------


def test_the_shipped_article_is_stored_hashed_and_served_as_text(client, seeded):
    source = get_ok(client, f"{API}/sources/{ARTICLE}")["data"]
    digest = hashlib.sha256(ARTICLE_TEXT.encode()).digest()
    assert source["document"] == {
        "sha256": digest.hex(),
        "media_type": "text/plain",
        "characters": len(ARTICLE_TEXT),
        "retrieved": source["document"]["retrieved"],
        "archive_url": source["document"]["archive_url"],
    }
    assert source["access"] == "first_hand"
    response = client.get(f"{API}/sources/{ARTICLE}/document", headers={"Accept": "text/plain"})
    assert response.mimetype == "text/plain" and response.mimetype_params["charset"] == "utf-8"
    assert response.get_data(as_text=True) == ARTICLE_TEXT
    assert response.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert "Accept" in response.headers["Vary"]
    # The same URL, asked for JSON (the default) or with `format`, and a conditional GET of each.
    body = get_ok(client, f"{API}/sources/{ARTICLE}/document")["data"]
    assert body["text"] == ARTICLE_TEXT and body["sha256"] == digest.hex()
    assert client.get(f"{API}/sources/{ARTICLE}/document?format=txt").get_data(as_text=True) == ARTICLE_TEXT
    again = client.get(f"{API}/sources/{ARTICLE}/document", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 200  # the ETag names the text/plain variant, not the JSON one
    again = client.get(
        f"{API}/sources/{ARTICLE}/document",
        headers={"Accept": "text/plain", "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_a_second_hand_source_holds_no_document_and_says_whose_holds_its_excerpts(client, seeded):
    sources = every(client, "sources")
    second_hand = [source for source in sources if source["reported_in"]]
    assert second_hand
    for source in second_hand:
        assert source["access"] == "second_hand" and source["document"] is None
        response = client.get(f"{API}/sources/{source['id']}/document")
        body = assert_problem(response, 404)
        assert source["reported_in"] in body["detail"]
    assert_problem(client.get(f"{API}/sources/no-such-source/document"), 404)
    assert_problem(client.get(f"{API}/sources/{ARTICLE}/document?format=pdf"), 400)


def test_every_excerpt_is_located_by_selectors_that_check_against_its_stored_document(client, seeded):
    texts, checked = {}, 0
    for resource in QUOTING:
        for record in every(client, resource):
            for index, link in enumerate(record["sources"]):
                where = f"{resource}/{record['id']}/sources.{index}"
                target = link["target"]
                assert target is not None, where
                if target["source"] not in texts:
                    texts[target["source"]] = document_text(client, target["source"])
                text = texts[target["source"]]
                quote, position = target["selector"]
                assert quote["type"] == "TextQuoteSelector" and position["type"] == "TextPositionSelector"
                start, end = position["start"], position["end"]
                assert text[start:end] == link["excerpt"] == quote["exact"], where
                assert quote["prefix"] == text[max(0, start - 32) : start], where
                assert quote["suffix"] == text[end : end + 32], where
                starts = [i for i in range(len(text)) if text.startswith(link["excerpt"], i)]
                assert starts[link["occurrence"] - 1] == start, where
                checked += 1
    assert checked > 50 and set(texts) == {ARTICLE}


def test_the_document_json_lists_every_excerpt_that_cites_it(client, seeded):
    expected = sorted(
        (resource, record["id"], link["id"], link["stance"], link["target"]["selector"][1]["start"])
        for resource in QUOTING
        for record in every(client, resource)
        for link in record["sources"]
        if link["target"]["source"] == ARTICLE
    )
    excerpts = get_ok(client, f"{API}/sources/{ARTICLE}/document")["data"]["excerpts"]
    listed = sorted(
        (item["record"]["resource"], item["record"]["id"], item["source"], item["stance"], item["selector"][1]["start"])
        for item in excerpts
    )
    assert listed == expected
    starts = [item["selector"][1]["start"] for item in excerpts]
    assert starts == sorted(starts)
    for item in excerpts:
        assert item["record"]["url"] == f"{API}/{item['record']['resource']}/{item['record']['id']}"
        assert ARTICLE_TEXT[item["selector"][1]["start"] : item["selector"][1]["end"]] == item["excerpt"]


# --- Writing documents and excerpts -----------------------------------------------------------

LEDGER = "Alpha said the drones flew. Beta said the drones flew. Gamma denied it.\n"


def new_source(source_id, text=LEDGER, **fields):
    document = {"text": text, "media_type": "text/plain", "retrieved": "2026-11-30", "archive_url": None}
    return {
        "id": source_id,
        "type": "press_report",
        "title": f"Source {source_id}",
        "reliability": "C",
        "reliability_rationale": "A test source.",
        "document": document if text is not None else None,
        **fields,
    }


def new_claim(claim_id, links, status="alleged"):
    return {
        "id": claim_id,
        "statement": "The drones flew.",
        "status": status,
        "status_rationale": "Said by Alpha and Beta.",
        "credibility": 3,
        "credibility_rationale": "Two sayings.",
        "events": ["reuters-investigation-published"],
        "actors": [{"actor": "reuters", "stance": "asserts"}],
        "sources": links,
    }


def post(client, key, resource, body):
    return client.post(f"{API}/{resource}", json=body, headers=auth(key))


def test_excerpts_are_anchored_when_written_and_a_repeated_one_must_say_which(client, seeded):
    key = make_key()
    created = post(client, key, "sources", new_source("ledger"))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert client.get(f"{API}/sources/ledger/document?format=txt").get_data(as_text=True) == LEDGER
    assert created.get_json()["data"]["document"]["sha256"] == hashlib.sha256(LEDGER.encode()).hexdigest()

    repeated = {"source": "ledger", "stance": "supports", "excerpt": "the drones flew"}
    body = assert_problem(post(client, key, "claims", new_claim("c-repeat", [repeated])), 422, "sources.0.occurrence")
    assert "2 times" in body["detail"]
    too_far = {**repeated, "occurrence": 3}
    assert_problem(post(client, key, "claims", new_claim("c-repeat", [too_far])), 422, "sources.0.occurrence")
    missing = {**repeated, "excerpt": "the drones landed"}
    assert_problem(post(client, key, "claims", new_claim("c-repeat", [missing])), 422, "sources.0.excerpt")

    response = post(client, key, "claims", new_claim("c-repeat", [{**repeated, "occurrence": 2}]))
    assert response.status_code == 201, response.get_data(as_text=True)
    link = response.get_json()["data"]["sources"][0]
    start = LEDGER.index("the drones flew", LEDGER.index("Beta"))
    assert link["occurrence"] == 2
    assert link["target"] == {
        "source": "ledger",
        "selector": [
            {
                "type": "TextQuoteSelector",
                "exact": "the drones flew",
                "prefix": LEDGER[max(0, start - 32) : start],
                "suffix": LEDGER[start + 15 : start + 47],
            },
            {"type": "TextPositionSelector", "start": start, "end": start + 15},
        ],
    }
    # Read from the other side, the link carries the same stance and place.
    from_source = get_ok(client, f"{API}/sources/ledger")["data"]["claims"][0]
    assert (from_source["stance"], from_source["target"]) == ("supports", link["target"])


def test_a_changed_document_moves_its_excerpts_or_is_refused_naming_the_records(client, seeded):
    key = make_key()
    assert post(client, key, "sources", new_source("ledger")).status_code == 201
    excerpt = {"source": "ledger", "stance": "reports", "excerpt": "Gamma denied it."}
    assert post(client, key, "claims", new_claim("c-gamma", [excerpt])).status_code == 201
    feed_before = len(all_changes())

    moved = "Preface.\n" + LEDGER
    response = client.patch(
        f"{API}/sources/ledger",
        json={"document": {"text": moved}},
        headers=auth(key, **{"If-Match": etag_of(client, "sources", "ledger")}),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    claim = get_ok(client, f"{API}/claims/c-gamma")["data"]
    assert claim["sources"][0]["target"]["selector"][1]["start"] == moved.index("Gamma denied it.")
    assert claim["version"] == 2
    # Both changes are in the feed: the document's and the claim's moved excerpt.
    kinds = [(change["resource"], change["record_id"], change["kind"]) for change in all_changes()[feed_before:]]
    assert kinds == [("sources", "ledger", "update"), ("claims", "c-gamma", "update")]

    before = snapshot()
    response = client.patch(
        f"{API}/sources/ledger",
        json={"document": {"text": "Alpha said the drones flew.\n"}},
        headers=auth(key, **{"If-Match": etag_of(client, "sources", "ledger")}),
    )
    body = assert_problem(response, 422, "document")
    assert "c-gamma" in body["detail"]
    assert snapshot() == before


def test_a_changed_document_moves_its_excerpts_in_records_that_cite_other_sources_too(client, seeded):
    key = make_key()
    assert post(client, key, "sources", new_source("ledger")).status_code == 201
    mixed = [
        {"source": "ledger", "stance": "reports", "excerpt": "Gamma denied it."},
        {"source": "modern-warfare-newsletter", "stance": "reports", "excerpt": "Beijing responded by claiming"},
    ]
    assert post(client, key, "claims", new_claim("c-mixed", mixed)).status_code == 201
    response = client.patch(
        f"{API}/sources/ledger",
        json={"document": {"text": "Preface.\n" + LEDGER}},
        headers=auth(key, **{"If-Match": etag_of(client, "sources", "ledger")}),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    links = get_ok(client, f"{API}/claims/c-mixed")["data"]["sources"]
    assert links[0]["target"]["selector"][1]["start"] == LEDGER.index("Gamma") + len("Preface.\n")
    assert links[1]["target"]["source"] == "modern-warfare-newsletter"


def test_a_document_read_back_keeps_its_text_and_a_wrong_digest_is_refused(client, seeded):
    key = make_key()
    assert post(client, key, "sources", new_source("ledger")).status_code == 201
    read = get_ok(client, f"{API}/sources/ledger")["data"]["document"]
    before = snapshot()
    response = client.patch(
        f"{API}/sources/ledger",
        json={"document": read},
        headers=auth(key, **{"If-Match": etag_of(client, "sources", "ledger")}),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["data"]["version"] == 1 and snapshot() == before
    wrong = {**read, "sha256": "0" * 64}
    response = client.patch(
        f"{API}/sources/ledger",
        json={"document": wrong},
        headers=auth(key, **{"If-Match": etag_of(client, "sources", "ledger")}),
    )
    assert_problem(response, 422, "document.text")
    mismatched = {"text": LEDGER, "sha256": "0" * 64}
    assert_problem(post(client, key, "sources", new_source("other", document=mismatched)), 422, "document.sha256")


def test_an_excerpt_of_a_source_without_any_text_is_refused(client, seeded):
    key = make_key()
    orphan = new_source("orphan", text=None)
    assert_problem(post(client, key, "sources", orphan), 422, "document")
    second_hand = new_source("second-hand", text=None, reported_in="ledger")
    assert post(client, key, "sources", new_source("ledger")).status_code == 201
    assert post(client, key, "sources", second_hand).status_code == 201
    link = {"source": "second-hand", "stance": "reports", "excerpt": "Gamma denied it."}
    response = post(client, key, "claims", new_claim("c-second", [link]))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["data"]["sources"][0]["target"]["source"] == "ledger"
    assert get_ok(client, f"{API}/sources/second-hand")["data"]["access"] == "second_hand"


def test_confirmed_needs_two_independent_supporting_sources(client, seeded):
    key = make_key()
    for source_id in ("ledger", "gazette"):
        assert post(client, key, "sources", new_source(source_id)).status_code == 201
    assert post(client, key, "sources", new_source("relayed", text=None, reported_in="ledger")).status_code == 201
    flew = {"stance": "supports", "excerpt": "Alpha said the drones flew."}
    not_independent = [{"source": "ledger", **flew}, {"source": "relayed", **flew}]
    response = post(client, key, "claims", new_claim("c-confirmed", not_independent, status="confirmed"))
    assert_problem(response, 422, "status")
    independent = [{"source": "ledger", **flew}, {"source": "gazette", **flew}]
    contradicted = [*independent, {"source": "gazette", "stance": "contradicts", "excerpt": "Gamma denied it."}]
    response = post(client, key, "claims", new_claim("c-confirmed", contradicted, status="confirmed"))
    assert_problem(response, 422, "status")
    response = post(client, key, "claims", new_claim("c-confirmed", independent, status="confirmed"))
    assert response.status_code == 201, response.get_data(as_text=True)
    response = post(client, key, "claims", new_claim("c-refuted", independent, status="refuted"))
    assert_problem(response, 422, "status")


# --- The pages ------------------------------------------------------------------------------------


class MarkedDocument(HTMLParser):
    """The document's text as the page shows it (citation markers left out), and its marks' ids."""

    def __init__(self):
        super().__init__()
        self.depth, self.in_cite, self.text, self.mark_ids, self.open_marks = 0, False, [], [], 0
        self.max_nesting = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("id") == "document":
            self.depth = 1
        elif self.depth:
            self.depth += 1
            if tag == "mark":
                self.open_marks += 1
                self.max_nesting = max(self.max_nesting, self.open_marks)
                if "id" in attrs:
                    self.mark_ids.append(attrs["id"])
            if tag == "a" and attrs.get("class") == "cite":
                self.in_cite = True

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            if tag == "mark":
                self.open_marks -= 1
            if tag == "a":
                self.in_cite = False

    def handle_data(self, data):
        if self.depth and not self.in_cite:
            self.text.append(data)


def page(client, url):
    response = client.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_the_document_page_marks_every_excerpt_and_keeps_the_text_verbatim(client, seeded):
    html = page(client, f"{API}/sources/{ARTICLE}/document")
    parsed = MarkedDocument()
    parsed.feed(html)
    assert "".join(parsed.text) == ARTICLE_TEXT
    excerpts = get_ok(client, f"{API}/sources/{ARTICLE}/document")["data"]["excerpts"]
    assert sorted(parsed.mark_ids) == sorted({item["anchor"] for item in excerpts})
    assert parsed.max_nesting >= 2  # the shipped excerpts overlap, and the marks nest instead of crossing
    for item in excerpts:
        assert f'href="{item["record"]["url"]}"' in html


def test_the_document_page_escapes_the_text(client, seeded):
    key = make_key()
    hostile = '<script>alert("x")</script> & <b onmouseover=alert(1)>bold</b>\n'
    assert post(client, key, "sources", new_source("hostile", text=hostile)).status_code == 201
    link = {"source": "hostile", "stance": "reports", "excerpt": "<script>"}
    assert post(client, key, "claims", new_claim("c-hostile", [link])).status_code == 201
    html = page(client, f"{API}/sources/hostile/document")
    assert "<script>" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;" in html
    parsed = MarkedDocument()
    parsed.feed(html)
    assert "".join(parsed.text) == hostile


def test_each_record_page_links_every_excerpt_to_its_mark_in_the_document(client, seeded):
    document = page(client, f"{API}/sources/{ARTICLE}/document")
    for resource, record_id in (("claims", "beijing-fully-aware-of-operation"), ("events", "beijing-denies-awareness")):
        html = page(client, f"{API}/{resource}/{record_id}")
        record = get_ok(client, f"{API}/{resource}/{record_id}")["data"]
        for link in record["sources"]:
            anchor = f"excerpt-{resource}-{record_id}-{link['id']}-{link['target']['selector'][1]['start']}"
            assert f'href="{API}/sources/{ARTICLE}/document#{anchor}"' in html
            assert f'id="{anchor}"' in document
    # The source's page lists the records it bears on, each excerpt linked the same way.
    html = page(client, f"{API}/sources/{ARTICLE}")
    assert html.count('class="in-document"') == sum(
        1
        for resource in QUOTING
        for record in every(client, resource)
        for link in record["sources"]
        if link["id"] == ARTICLE
    )
    # JSON stays the default for clients that accept anything.
    assert client.get(f"{API}/claims/beijing-fully-aware-of-operation").mimetype == "application/json"


def test_a_claim_is_available_as_claim_review_json_ld(client, seeded):
    claim = get_ok(client, f"{API}/claims/beijing-fully-aware-of-operation")["data"]
    response = client.get(f"{API}/claims/{claim['id']}", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    review = response.get_json()
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == claim["statement"]
    assert review["url"].endswith(f"{API}/claims/{claim['id']}")
    assert review["reviewRating"]["alternateName"] == claim["status"]
    assert review["reviewRating"]["ratingExplanation"] == claim["status_rationale"]
    claimants = [link["id"] for link in claim["actors"] if link["stance"] == "asserts"]
    assert [author["identifier"] for author in review["itemReviewed"]["author"]] == claimants
    appearances = review["itemReviewed"]["appearance"]
    assert [(item["identifier"], item["text"]) for item in appearances] == [
        (link["id"], link["excerpt"]) for link in claim["sources"]
    ]
    assert all(
        item["description"].startswith(link["stance"]) for item, link in zip(appearances, claim["sources"], strict=True)
    )
    assert "Vary" in response.headers and "Accept" in response.headers["Vary"]
    # Only claims are reviews: an event asked for JSON-LD answers its JSON.
    assert client.get(f"{API}/events/beijing-denies-awareness", headers={"Accept": "application/ld+json"}).mimetype == (
        "application/json"
    )


def test_the_data_package_carries_stances_and_selectors(client, seeded):
    descriptor = get_ok(client, f"{API}/datapackage.json")
    tables = {resource["name"]: resource for resource in descriptor["resources"]}
    for table in ("event_sources", "claim_sources"):
        names = [field["name"] for field in tables[table]["schema"]["fields"]]
        for column in ("stance", "excerpt", "occurrence", "target_source", "target_start", "target_end"):
            assert column in names, (table, column)
    source_fields = [field["name"] for field in tables["sources"]["schema"]["fields"]]
    assert {"document_sha256", "access"} <= set(source_fields)
    assert [field["name"] for field in tables["source_documents"]["schema"]["fields"]] == ["id", "text"]


@pytest.mark.parametrize("resource", QUOTING)
def test_every_evidence_link_has_a_stance(client, seeded, resource):
    stances = {link["stance"] for record in every(client, resource) for link in record["sources"]}
    assert stances and stances <= {"supports", "reports", "casts_doubt", "contradicts"}


def test_documents_and_pages_cost_a_fixed_number_of_statements(seeded, client, count_queries):
    """The document is one SELECT and its excerpts one per quoting resource, however many there are; a record's
    page and its ClaimReview read what its JSON reads."""

    def statements(url, accept):
        count_queries.queries.clear()
        response = client.get(url, headers={"Accept": accept})
        assert response.status_code == 200, response.get_data(as_text=True)
        return len([query for query in count_queries.queries if query.startswith(("('", '("'))])

    document = f"{API}/sources/{ARTICLE}/document"
    text = statements(document, "text/plain")
    assert text <= 3  # the revision, the cursor secret (first GET only), the source with its text
    assert statements(document, "application/json") == statements(document, "text/html") == text + len(QUOTING)
    claim = f"{API}/claims/beijing-fully-aware-of-operation"
    detail = statements(f"{claim}?fields=id", "application/json")  # a URL not served yet: not from the cache
    assert statements(claim, "text/html") == statements(claim, "application/ld+json") == detail
