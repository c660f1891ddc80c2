"""The shipped dataset says no more than its one article: checked on the YAML files and through the API.

The YAML is parsed here straight from seed/data/*.yaml (not through the loader's schemas), so these
tests hold the files themselves to account; the API tests check the same facts after seeding.
seed/AUDIT.md records why each record says what it says; the tests below keep those decisions true.
"""

import re
from pathlib import Path

import pytest
import yaml

from seed.loader import DATA_DIR, DOCUMENTS_DIR, FixtureLoader

ARTICLE = "modern-warfare-russia-china-drone-partnership.txt"
NEWSLETTER = "modern-warfare-newsletter"
SHARED_ARTICLE = Path("/work/shared/sources") / ARTICLE

# The audit's vocabularies (issue 11): what a source's excerpt does for a record, and what an actor does
# with a claim. Written out here so that the files are held to them whatever the code's copy says.
EVIDENCE_STANCES = ("supports", "reports", "casts_doubt", "contradicts")
CLAIM_ACTOR_STANCES = ("asserts", "reports", "denies", "disputes", "subject")
CLAIM_STATUSES = ("confirmed", "refuted", "disputed", "denied", "alleged", "unverified")

# Words by which the article hedges what it says, or hands it to an unnamed other.
HEDGES = (
    "not yet confirmed",
    "unclear",
    "remain unknown",
    "if confirmed",
    "inconclusive",
    "not yet sufficient",
    "reportedly",
    "allegedly",
    "alleged",
    "if true",
    "may ",
    "could ",
    "likely",
)
# An excerpt with one of these is never `supports`: it calls the matter unconfirmed or unclear, or it is
# the newsletter handing it to someone it does not name.
NEVER_SUPPORTS = ("not yet confirmed", "inconclusive", "unclear", "reportedly", "allegedly", "alleged")
# Checked exceptions, each with why the hedge is the record's content rather than a doubt about it.
HEDGED_SUPPORT_EXCEPTIONS = {
    ("claims/evidence-insufficient-for-immediate-action", "as the evidence remains inconclusive"): (
        "the claim is that the evidence is not sufficient: the article's 'inconclusive' says so in its own voice"
    ),
}

# The article's denials: each must contradict a claim that China is recorded as denying.
DENIALS = (
    "Beijing responded by claiming it was unaware of any such project in Xinjiang",
    "China has consistently denied any direct involvement",
    "While China has consistently denied direct involvement in the conflict",
    "claiming a position of neutrality",
    "asserting that it maintains a neutral stance",
)
CHINESE_STATEMENTS = {"beijing-september-response", "china-denials-of-involvement"}

# Whose own words each source is: an actor asserts a claim exactly when its own source supports it.
VOICES = {
    "the-modern-warfare": NEWSLETTER,
    "reuters": "reuters-investigation",
    "high-ranking-eu-official": "high-ranking-eu-official-remarks",
}

# Where the article names each second-hand source: a link to it must cite a sentence that names it.
ATTRIBUTIONS = {
    "reuters-investigation": ("Reuters", "investigation"),
    "eu-diplomats-evidence": ("EU diplomats have received",),
    "eeas-intelligence": ("EEAS",),
    "beijing-september-response": ("Beijing responded",),
    "china-denials-of-involvement": ("China has consistently denied",),
    "high-ranking-eu-official-remarks": ("official",),
}


def _read(name):
    records = yaml.load((DATA_DIR / f"{name}.yaml").read_text(encoding="utf-8"), Loader=FixtureLoader)
    assert isinstance(records, list)
    return records


SOURCES = _read("sources")
ACTORS = _read("actors")
EVENTS = _read("events")
CLAIMS = _read("claims")
SOURCES_BY_ID = {source["id"]: source for source in SOURCES}
EVENTS_BY_ID = {event["id"]: event for event in EVENTS}
CLAIMS_BY_ID = {claim["id"]: claim for claim in CLAIMS}
ARTICLE_TEXT = (DOCUMENTS_DIR / ARTICLE).read_text(encoding="utf-8")


def document_of(source_id, sources_by_id=SOURCES_BY_ID):
    """The full text a source's excerpts must come from: its own document's file, or its reporter's."""
    source = sources_by_id[source_id]
    seen = set()
    while source["document"] is None:
        assert source["id"] not in seen, f"reported_in cycle at {source['id']}"
        seen.add(source["id"])
        assert source["reported_in"], f"source {source['id']} has neither a document nor reported_in"
        source = sources_by_id[source["reported_in"]]
    return (DOCUMENTS_DIR / source["document"]["file"]).read_text(encoding="utf-8")


def source_links():
    for resource, records in (("events", EVENTS), ("claims", CLAIMS)):
        for record in records:
            for index, link in enumerate(record["sources"]):
                yield f"{resource}/{record['id']}/sources.{index}", link


SOURCE_LINKS = list(source_links())
LINK_IDS = [where for where, _ in SOURCE_LINKS]


def record_of(where):
    """'claims/some-id/sources.2' -> ('claims/some-id', the record)."""
    resource, record_id, _ = where.split("/")
    return f"{resource}/{record_id}", (EVENTS_BY_ID if resource == "events" else CLAIMS_BY_ID)[record_id]


def sentence_holding(excerpt, text=ARTICLE_TEXT):
    """The article's sentence (or sentences) around an excerpt: from the last full stop or line break before
    it to the first after it."""
    start = text.index(excerpt)
    end = start + len(excerpt)
    before = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start))
    after = [position for position in (text.find(". ", end), text.find("\n", end)) if position != -1]
    return text[before + 1 : min(after) if after else len(text)]


def occurrence_problem(link, text):
    """Why a link's excerpt does not say which occurrence it means, or None."""
    count = text.count(link["excerpt"])
    occurrence = link.get("occurrence")
    if count > 1 and occurrence is None:
        return f"occurs {count} times: give `occurrence`"
    if occurrence is not None and not (isinstance(occurrence, int) and 1 <= occurrence <= count):
        return f"occurrence {occurrence!r} is not between 1 and {count}"
    return None


# --- Status rules (schemas/vocabulary.py CLAIM_STATUSES), one function per status --------------------


def reporting_chain(source_id, sources_by_id=SOURCES_BY_ID):
    """The source and every source it is reported in."""
    chain = []
    while source_id is not None and source_id not in chain:
        chain.append(source_id)
        source_id = sources_by_id[source_id]["reported_in"]
    return set(chain)


def independent(first, second, sources_by_id=SOURCES_BY_ID):
    """Neither is reported in the other and no source reports both: their reporting chains do not meet."""
    return not reporting_chain(first, sources_by_id) & reporting_chain(second, sources_by_id)


def sources_with(claim, *stances):
    return {link["source"] for link in claim["sources"] if link["stance"] in stances}


def actors_with(claim, *stances):
    return {link["actor"] for link in claim["actors"] if link["stance"] in stances}


def corroborated(claim, sources_by_id=SOURCES_BY_ID):
    supporting = sorted(sources_with(claim, "supports"))
    return any(
        independent(first, second, sources_by_id)
        for index, first in enumerate(supporting)
        for second in supporting[index + 1 :]
    )


def confirmed_rule(claim, sources_by_id=SOURCES_BY_ID):
    """Two independent sources support it and none contradicts it."""
    return corroborated(claim, sources_by_id) and not sources_with(claim, "contradicts")


def refuted_rule(claim, sources_by_id=SOURCES_BY_ID):
    """A source contradicts it and none supports it."""
    return bool(sources_with(claim, "contradicts")) and not sources_with(claim, "supports")


def disputed_rule(claim, sources_by_id=SOURCES_BY_ID):
    """Parties disagree: someone asserts or supports it, and someone disputes, denies or contradicts it."""
    for_it = actors_with(claim, "asserts") or sources_with(claim, "supports")
    against_it = actors_with(claim, "disputes", "denies") or sources_with(claim, "contradicts")
    return bool(for_it and against_it)


def denied_rule(claim, sources_by_id=SOURCES_BY_ID):
    """The party it concerns denies it, and no one asserts it."""
    return bool(actors_with(claim, "denies")) and not actors_with(claim, "asserts")


def alleged_rule(claim, sources_by_id=SOURCES_BY_ID):
    """Someone asserts it, and it is not established."""
    return bool(actors_with(claim, "asserts")) and not confirmed_rule(claim, sources_by_id)


def unverified_rule(claim, sources_by_id=SOURCES_BY_ID):
    """Not established, and no claimant stands behind it or a source calls it unconfirmed or unclear."""
    doubted = bool(sources_with(claim, "casts_doubt"))
    return not confirmed_rule(claim, sources_by_id) and (not actors_with(claim, "asserts") or doubted)


STATUS_RULES = {
    "confirmed": confirmed_rule,
    "refuted": refuted_rule,
    "disputed": disputed_rule,
    "denied": denied_rule,
    "alleged": alleged_rule,
    "unverified": unverified_rule,
}


def claims_with_status(status):
    return {claim["id"] for claim in CLAIMS if claim["status"] == status}


def breaking(status):
    rule = STATUS_RULES[status]
    return {claim_id for claim_id in claims_with_status(status) if not rule(CLAIMS_BY_ID[claim_id])}


# Synthetic claims for the rules' own tests: a rule that accepted everything would prove nothing.
FIRST_HAND = {
    "a": {"id": "a", "reported_in": None},
    "b": {"id": "b", "reported_in": None},
    "a-report": {"id": "a-report", "reported_in": "a"},
}


def synthetic(sources=(), actors=()):
    return {
        "sources": [{"source": source, "stance": stance} for source, stance in sources],
        "actors": [{"actor": actor, "stance": stance} for actor, stance in actors],
    }


RULE_CASES = [
    ("confirmed", synthetic([("a", "supports"), ("b", "supports")]), True),
    ("confirmed", synthetic([("a", "supports"), ("a-report", "supports")]), False),
    ("confirmed", synthetic([("a", "supports"), ("b", "supports"), ("b", "contradicts")]), False),
    ("refuted", synthetic([("a", "contradicts")]), True),
    ("refuted", synthetic([("a", "contradicts"), ("b", "supports")]), False),
    ("disputed", synthetic([("a", "reports")], [("x", "asserts"), ("y", "denies")]), True),
    ("disputed", synthetic([("a", "supports"), ("b", "contradicts")]), True),
    ("disputed", synthetic([("a", "supports"), ("b", "casts_doubt")], [("x", "asserts")]), False),
    ("denied", synthetic([("a", "contradicts")], [("y", "denies")]), True),
    ("denied", synthetic([("a", "contradicts")], [("x", "asserts"), ("y", "denies")]), False),
    ("alleged", synthetic([("a", "reports")], [("x", "asserts")]), True),
    ("alleged", synthetic([("a", "reports")], [("x", "reports")]), False),
    ("alleged", synthetic([("a", "supports"), ("b", "supports")], [("x", "asserts")]), False),
    ("unverified", synthetic([("a", "reports")], [("x", "reports")]), True),
    ("unverified", synthetic([("a", "casts_doubt")], [("x", "asserts")]), True),
    ("unverified", synthetic([("a", "supports")], [("x", "asserts")]), False),
]


# --- The files ---------------------------------------------------------------------


def test_record_counts_are_in_range():
    assert 10 <= len(EVENTS) <= 25
    assert 15 <= len(ACTORS) <= 30
    assert 15 <= len(CLAIMS) <= 40


@pytest.mark.parametrize("name", ["sources", "actors", "events", "claims"])
def test_ids_are_unique(name):
    ids = [record["id"] for record in _read(name)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("where", "link"), SOURCE_LINKS, ids=LINK_IDS)
def test_every_excerpt_is_verbatim(where, link):
    assert link["source"] in SOURCES_BY_ID, where
    text = document_of(link["source"])
    assert link["excerpt"].strip() == link["excerpt"]
    assert link["excerpt"] in text, f"{where}: not verbatim: {link['excerpt']!r}"


@pytest.mark.parametrize(("where", "link"), SOURCE_LINKS, ids=LINK_IDS)
def test_every_repeated_excerpt_says_which_occurrence(where, link):
    assert occurrence_problem(link, document_of(link["source"])) is None, where


def test_the_occurrence_check_catches_a_repeated_excerpt():
    repeated = "the EU"
    assert ARTICLE_TEXT.count(repeated) > 1
    assert occurrence_problem({"excerpt": repeated}, ARTICLE_TEXT)
    assert occurrence_problem({"excerpt": repeated, "occurrence": ARTICLE_TEXT.count(repeated) + 1}, ARTICLE_TEXT)
    assert occurrence_problem({"excerpt": repeated, "occurrence": 2}, ARTICLE_TEXT) is None


def test_only_the_newsletter_has_a_document_and_every_other_source_is_reported_in_it():
    assert [source["id"] for source in SOURCES if source["document"]] == [NEWSLETTER]
    assert SOURCES_BY_ID[NEWSLETTER]["document"] == {
        "file": ARTICLE,
        "media_type": "text/plain",
        "retrieved": None,
        "archive_url": None,
    }
    assert SOURCES_BY_ID[NEWSLETTER]["reported_in"] is None
    for source in SOURCES:
        if source["id"] != NEWSLETTER:
            assert source["reported_in"] == NEWSLETTER, source["id"]
            assert source["document"] is None, source["id"]
            assert source["url"] is None, source["id"]


def test_the_shipped_article_is_the_shared_original():
    if not SHARED_ARTICLE.exists():
        pytest.skip(f"{SHARED_ARTICLE} is not present")
    assert (DOCUMENTS_DIR / ARTICLE).read_bytes() == SHARED_ARTICLE.read_bytes()


# --- Stances -------------------------------------------------------------------------


@pytest.mark.parametrize(("where", "link"), SOURCE_LINKS, ids=LINK_IDS)
def test_every_evidence_link_has_a_stance(where, link):
    assert link.get("stance") in EVIDENCE_STANCES, where


def test_every_claim_actor_has_a_stance_and_no_actor_both_makes_and_relays_a_claim():
    for claim in CLAIMS:
        for link in claim["actors"]:
            assert link["stance"] in CLAIM_ACTOR_STANCES, (claim["id"], link)
        assert not actors_with(claim, "asserts") & actors_with(claim, "reports"), claim["id"]


@pytest.mark.parametrize(("actor", "source"), sorted(VOICES.items()))
def test_an_actor_asserts_a_claim_exactly_when_its_own_source_supports_it(actor, source):
    asserted = {claim["id"] for claim in CLAIMS if actor in actors_with(claim, "asserts")}
    supported = {claim["id"] for claim in CLAIMS if source in sources_with(claim, "supports")}
    assert asserted, f"{actor} asserts nothing: the check would prove nothing"
    assert asserted == supported


@pytest.mark.parametrize(("where", "link"), SOURCE_LINKS, ids=LINK_IDS)
def test_a_second_hand_source_is_cited_only_where_the_article_attributes_the_words_to_it(where, link):
    if SOURCES_BY_ID[link["source"]]["reported_in"] is None:
        return
    sentence = sentence_holding(link["excerpt"])
    assert any(marker in sentence for marker in ATTRIBUTIONS[link["source"]]), (where, sentence)
    # "reportedly", "allegedly": the newsletter's own hedges, handing the words to no one in particular.
    assert not re.search(r"reportedly|alleged", link["excerpt"], re.IGNORECASE), where


def test_the_newsletters_reportedly_is_not_credited_to_reuters():
    claim = CLAIMS_BY_ID["drones-intended-for-offensive-operations"]
    assert "reuters-investigation" not in {link["source"] for link in claim["sources"]}
    assert "reuters" not in {link["actor"] for link in claim["actors"]}
    assert actors_with(claim, "asserts") == set()


# --- Hedges --------------------------------------------------------------------------


def hedged_supports():
    """(record, excerpt, hedge) for every `supports` link whose excerpt carries a hedge."""
    for where, link in SOURCE_LINKS:
        if link["stance"] != "supports":
            continue
        record_key, _ = record_of(where)
        for hedge in HEDGES:
            if hedge in link["excerpt"].lower():
                yield record_key, link["excerpt"], hedge


def test_an_unconfirmed_or_unattributed_excerpt_never_supports():
    found = {(record, excerpt) for record, excerpt, hedge in hedged_supports() if hedge in NEVER_SUPPORTS}
    assert found == set(HEDGED_SUPPORT_EXCEPTIONS), "each exception must be listed, and each listed one used"


def test_a_hedged_excerpt_supports_only_a_record_that_carries_the_hedge():
    """'could', 'may', 'if confirmed' ... may support a statement that says 'could', 'may', 'if confirmed':
    then the hedge is the record's content, not a doubt about it."""
    checked = set()
    for record_key, excerpt, hedge in hedged_supports():
        if (record_key, excerpt) in HEDGED_SUPPORT_EXCEPTIONS:
            continue
        resource, record_id = record_key.split("/")
        record = (EVENTS_BY_ID if resource == "events" else CLAIMS_BY_ID)[record_id]
        own_words = record["summary"] if resource == "events" else record["statement"]
        assert hedge in own_words.lower(), f"{record_key}: {excerpt!r} supports it despite {hedge!r}"
        checked.add(record_key)
    assert checked, "no hedged support in the data: the check would prove nothing"


def test_no_hedged_claim_is_confirmed():
    hedged = {
        claim["id"]
        for claim in CLAIMS
        if any(hedge in link["excerpt"].lower() for link in claim["sources"] for hedge in HEDGES)
    }
    # The hedges do occur in the data; a test that matched nothing would prove nothing.
    assert {
        "factory-produces-lethal-drones",
        "factory-drones-sent-to-russia",
        "drones-reached-izhevsk-facility",
        "evidence-insufficient-for-immediate-action",
        "xinjiang-factory-set-up-to-assemble-drones",
        "chinese-specialists-collaborated-on-drones",
    } <= hedged
    assert {claim_id for claim_id in hedged if CLAIMS_BY_ID[claim_id]["status"] == "confirmed"} == set()


def test_the_izhevsk_finding_is_doubted_not_reported_by_the_open_question():
    claim = CLAIMS_BY_ID["drones-reached-izhevsk-facility"]
    [doubt] = [link for link in claim["sources"] if "whether any drones have already been sent" in link["excerpt"]]
    assert doubt["stance"] == "casts_doubt"


# --- Statuses --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "claim", "holds"), RULE_CASES)
def test_each_status_rule_can_tell_a_claim_that_meets_it_from_one_that_does_not(status, claim, holds):
    assert STATUS_RULES[status](claim, FIRST_HAND) is holds


def test_every_status_is_known():
    assert {claim["status"] for claim in CLAIMS} <= set(CLAIM_STATUSES)


def test_confirmed_claims_have_two_independent_supporting_sources_and_no_contradiction():
    # Every source but the newsletter is reported in it, so no two sources here are independent and
    # nothing in this dataset can be confirmed.
    assert not any(independent(first, second) for first in SOURCES_BY_ID for second in SOURCES_BY_ID if first < second)
    assert claims_with_status("confirmed") == set()
    assert breaking("confirmed") == set()


def test_refuted_claims_are_contradicted_and_unsupported():
    # Nothing in the article is shown false: no claim is refuted.
    assert claims_with_status("refuted") == set()
    assert breaking("refuted") == set()


def test_disputed_claims_have_parties_on_both_sides():
    assert claims_with_status("disputed"), "no disputed claim: the rule would be checked on nothing"
    assert breaking("disputed") == set()


def test_denied_claims_are_denied_and_asserted_by_no_one():
    # The article's denials all bear on claims it also calls unconfirmed (kept `unverified`, with China's
    # `denies` beside) or that someone asserts (`disputed`): no claim is simply `denied`.
    assert claims_with_status("denied") == set()
    assert breaking("denied") == set()


def test_alleged_claims_have_a_claimant_and_are_not_established():
    assert claims_with_status("alleged"), "no alleged claim: the rule would be checked on nothing"
    assert breaking("alleged") == set()


def test_unverified_claims_have_no_claimant_or_are_called_unconfirmed():
    assert claims_with_status("unverified"), "no unverified claim: the rule would be checked on nothing"
    assert breaking("unverified") == set()


def test_where_parties_disagree_the_claim_is_disputed_or_unconfirmed_and_denied():
    """The converse of the rules for `disputed` and `denied`: a disagreement is never hidden under a
    weaker status. An unconfirmed claim that is also denied stays `unverified`, with the denial beside it."""
    disagreements = {claim["id"] for claim in CLAIMS if disputed_rule(claim)}
    assert disagreements
    assert {claim_id for claim_id in disagreements if CLAIMS_BY_ID[claim_id]["status"] != "disputed"} == set()
    denied_only = {claim["id"] for claim in CLAIMS if denied_rule(claim)}
    assert denied_only
    for claim_id in denied_only:
        claim = CLAIMS_BY_ID[claim_id]
        assert claim["status"] in ("denied", "unverified"), claim_id
        if claim["status"] == "unverified":
            assert sources_with(claim, "casts_doubt"), f"{claim_id}: unverified but nothing calls it unconfirmed"


def test_no_claim_is_confirmed_on_a_single_witness():
    # `confirmed` means corroborated by more than one independent source; the shipped
    # dataset has one document, so even what it states plainly stays below that.
    assert [claim["id"] for claim in CLAIMS if claim["status"] == "confirmed"] == []
    # One article is the only witness: nothing is graded "confirmed by other sources".
    assert [claim["id"] for claim in CLAIMS if claim["credibility"] == 1] == []


@pytest.mark.parametrize(
    ("claim_id", "phrase"),
    [
        ("factory-produces-lethal-drones", "It is not yet confirmed whether the factory is producing lethal drones"),
        ("factory-drones-sent-to-russia", "whether any drones have already been sent to Russia"),
        ("beijing-fully-aware-of-operation", "if Beijing is fully aware of the scope and nature of this operation"),
    ],
)
def test_the_three_open_questions_are_unconfirmed_claims(claim_id, phrase):
    claim = CLAIMS_BY_ID[claim_id]
    assert claim["status"] == "unverified"
    assert claim["credibility"] >= 3
    [link] = [link for link in claim["sources"] if phrase in link["excerpt"]]
    assert link["stance"] == "casts_doubt"


# --- Denials -----------------------------------------------------------------------------


@pytest.mark.parametrize("denial", DENIALS)
def test_every_denial_in_the_article_contradicts_a_claim_china_denies(denial):
    assert denial in ARTICLE_TEXT
    contradicted = {
        claim["id"]
        for claim in CLAIMS
        for link in claim["sources"]
        if denial in link["excerpt"] and link["stance"] == "contradicts"
    }
    assert contradicted, f"the denial {denial!r} contradicts no claim"
    for claim_id in contradicted:
        assert "china" in actors_with(CLAIMS_BY_ID[claim_id], "denies"), claim_id


def test_china_denies_a_claim_exactly_when_its_own_statement_contradicts_it():
    denied = {claim["id"] for claim in CLAIMS if "china" in actors_with(claim, "denies")}
    contradicted = {claim["id"] for claim in CLAIMS if sources_with(claim, "contradicts") & CHINESE_STATEMENTS}
    assert denied and denied == contradicted
    # China's statements are its denials: on a claim they can only contradict it.
    for claim in CLAIMS:
        for link in claim["sources"]:
            if link["source"] in CHINESE_STATEMENTS:
                assert link["stance"] == "contradicts", claim["id"]


def test_beijings_denial_is_an_official_denial_by_china():
    denial = EVENTS_BY_ID["beijing-denies-awareness"]
    assert denial["type"] == "official_denial"
    assert {"actor": "china", "role": "denier"} in denial["actors"]
    assert any(
        "Beijing responded by claiming it was unaware of any such project in Xinjiang" in link["excerpt"]
        for link in denial["sources"]
    )
    denials = {event["id"] for event in EVENTS if event["type"] == "official_denial"}
    assert denials == {"beijing-denies-awareness", "china-denies-direct-involvement"}
    for event_id in denials:
        assert [link["actor"] for link in EVENTS_BY_ID[event_id]["actors"] if link["role"] == "denier"] == ["china"]


# --- Contradictions inside the article ---------------------------------------------------


@pytest.mark.parametrize(
    ("claim_id", "one_side", "other_side"),
    [
        # "Despite this denial" sets the diplomats against Beijing; their words agree with it.
        ("beijing-fully-aware-of-operation", "Despite this denial", "Beijing is not fully informed"),
        # A "no-limits partnership" with Russia, then a "no-limits" partnership between the EU and China.
        (
            "china-russia-no-limits-partnership",
            '"no-limits partnership" with Russia',
            "“no-limits” partnership with China",
        ),
        # A weapons program in the article's own voice, and an "alleged factory" on "inconclusive" evidence.
        ("xinjiang-drone-factory-exists", "As evidence mounts", "the alleged factory"),
        ("xinjiang-drone-factory-exists", "As evidence mounts", "the evidence remains inconclusive"),
        ("xinjiang-factory-set-up-to-assemble-drones", "confirming that a factory", "the alleged factory"),
        # "Chinese-manufactured" drones, and a Russian program that makes them.
        ("drones-are-chinese-manufactured", "Chinese-manufactured", "secret Russian weapons program"),
        # Drones shipped to Izhevsk, and no drone yet confirmed sent to Russia.
        ("drones-reached-izhevsk-facility", "Izhevsk facility", "whether any drones have already been sent to Russia"),
    ],
)
def test_each_contradiction_in_the_article_is_recorded_not_resolved(claim_id, one_side, other_side):
    claim = CLAIMS_BY_ID[claim_id]
    stances = {link["excerpt"]: link["stance"] for link in claim["sources"]}
    [for_it] = [stance for excerpt, stance in stances.items() if one_side in excerpt]
    [against_it] = [stance for excerpt, stance in stances.items() if other_side in excerpt]
    assert for_it in ("supports", "reports")
    assert against_it in ("casts_doubt", "contradicts")
    assert "contradict" in claim["status_rationale"], "the status rationale must name the contradiction"


# --- What the article states is present ---------------------------------------------------


@pytest.mark.parametrize(
    "phrase",
    [
        "deepening ties between Russia and China",
        '"no-limits partnership" with Russia',
        "its commitment to its",
        "which is a crucial economic partner",
        "could be seen as an implicit endorsement",
        "potentially emboldening Moscow and further undermining European unity",
        "The coming months will likely reveal whether China",
        "Chinese-manufactured lethal drones",
        "could dramatically change the balance of power",
        "future offensives against Ukrainian cities",
        "challenge the EU’s efforts to isolate Moscow",
        "complicate European efforts to negotiate peace",
        "its actions have been interpreted by many as a tacit endorsement",
        "Beijing's ongoing support for Moscow",
    ],
)
def test_the_article_statement_is_in_a_claim(phrase):
    assert phrase in ARTICLE_TEXT
    assert any(phrase in link["excerpt"] for claim in CLAIMS for link in claim["sources"]), phrase


# --- Grades ------------------------------------------------------------------------------


def test_reliability_grades_the_source_not_the_way_the_dataset_reached_it():
    grades = {source["id"]: source["reliability"] for source in SOURCES}
    # Reuters, known second-hand, is graded on its public track record: access does not set the grade.
    assert grades.pop("reuters-investigation") == "B"
    assert SOURCES_BY_ID["reuters-investigation"]["reported_in"] is not None
    assert "public track record" in SOURCES_BY_ID["reuters-investigation"]["reliability_rationale"]
    # Every other grade rests on the article alone, which gives no record to grade on; F says so.
    assert set(grades.values()) == {"F"}
    for source_id in grades:
        assert SOURCES_BY_ID[source_id]["reliability_rationale"].startswith("No basis to grade"), source_id


def test_second_hand_support_lowers_credibility_and_says_so():
    second_hand = {source["id"] for source in SOURCES if source["reported_in"]}
    checked = 0
    for claim in CLAIMS:
        supporting = sources_with(claim, "supports")
        if supporting & second_hand:
            assert "second-hand" in claim["credibility_rationale"], claim["id"]
            # Support known only second-hand makes a claim possibly true at best; "probably" needs the
            # newsletter's own first-hand word beside it.
            assert claim["credibility"] >= 3 or supporting - second_hand, claim["id"]
            checked += 1
    assert checked


# --- Dates, places and links -------------------------------------------------------------------


def test_no_date_carries_a_year():
    """The article gives no year: dates are null or XXXX-MM, and each XXXX-MM one says why."""
    dated = [(f"events/{event['id']}", event["date"], event["date_note"]) for event in EVENTS]
    dated += [(f"sources/{source['id']}", source["published"], source["published_note"]) for source in SOURCES]
    for where, date, note in dated:
        assert date is None or (isinstance(date, str) and date.startswith("XXXX-")), f"{where}: {date!r}"
        if date is not None:
            assert date == "XXXX-09", f"{where}: the only month the article names is September"
            assert note and "September" in note, f"{where}: a XXXX-09 date needs a note"
    assert {event["id"] for event in EVENTS if event["date"]} == {
        "reuters-investigation-published",
        "beijing-denies-awareness",
    }
    assert all(event["date_note"] for event in EVENTS)


def test_no_coordinates_anywhere():
    for event in EVENTS:
        location = event.get("location") or {}
        assert location.get("latitude") is None, event["id"]
        assert location.get("longitude") is None, event["id"]


def test_every_event_has_an_actor_and_a_source():
    for event in EVENTS:
        assert len(event["actors"]) >= 1, event["id"]
        assert len(event["sources"]) >= 1, event["id"]


def test_every_claim_has_an_actor_an_event_and_a_source():
    for claim in CLAIMS:
        assert len(claim["actors"]) >= 1, claim["id"]
        assert len(claim["events"]) >= 1, claim["id"]
        assert len(claim["sources"]) >= 1, claim["id"]
        assert set(claim["events"]) <= set(EVENTS_BY_ID), claim["id"]


def test_every_actor_and_event_is_used():
    used_actors = {link["actor"] for event in EVENTS for link in event["actors"]}
    used_actors |= {link["actor"] for claim in CLAIMS for link in claim["actors"]}
    assert {actor["id"] for actor in ACTORS} - used_actors == set()
    # Since the second audit every event bears on a claim (the EU's concern and the diplomats' caution
    # now carry the partnership and impact claims).
    assert {event["id"] for event in EVENTS} - {event_id for claim in CLAIMS for event_id in claim["events"]} == set()


# --- Through the API -----------------------------------------------------------------


def get_all(client, path):
    records, url = [], f"{path}{'&' if '?' in path else '?'}limit=200"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        records += body["data"]
        url = body["links"]["next"]
    return records


def test_api_counts_match_the_files(client, seeded):
    for name, records in (("sources", SOURCES), ("actors", ACTORS), ("events", EVENTS), ("claims", CLAIMS)):
        body = client.get(f"/api/v1/{name}?limit=1").get_json()
        assert body["meta"]["count"] == len(records), name
        assert {record["id"] for record in get_all(client, f"/api/v1/{name}")} == {r["id"] for r in records}


def test_api_sources_keep_their_access_and_reliability(client, seeded):
    for source in get_all(client, "/api/v1/sources"):
        expected = SOURCES_BY_ID[source["id"]]
        assert source["reported_in"] == expected["reported_in"], source["id"]
        assert source["access"] == ("second_hand" if expected["reported_in"] else "first_hand"), source["id"]
        assert (source["document"] is None) == (expected["document"] is None), source["id"]
        assert (source["reliability"], source["reliability_rationale"]) == (
            expected["reliability"],
            expected["reliability_rationale"],
        )


def test_api_excerpts_are_verbatim(client, seeded):
    checked = 0
    for name in ("events", "claims"):
        for record in get_all(client, f"/api/v1/{name}"):
            assert record["sources"], f"{name}/{record['id']} has no source"
            for link in record["sources"]:
                assert link["excerpt"] in document_of(link["id"]), f"{name}/{record['id']}: {link}"
                checked += 1
    assert checked == len(SOURCE_LINKS)


def test_api_events_have_no_year_and_no_coordinates(client, seeded):
    events = get_all(client, "/api/v1/events")
    assert len(events) == len(EVENTS)
    for event in events:
        assert event["location"]["latitude"] is None and event["location"]["longitude"] is None, event["id"]
        assert event["date_start"] is None and event["date_end"] is None, event["id"]
        assert event["date"] in (None, "XXXX-09"), event["id"]
        assert event["actors"] and event["sources"], event["id"]
    # No date filter can match an event whose year is unknown.
    assert client.get("/api/v1/events?date_from=1900&date_to=2100").get_json()["meta"]["count"] == 0


def test_api_beijing_denial(client, seeded):
    body = client.get("/api/v1/events?type=official_denial&actor=china&role=denier").get_json()
    assert sorted(event["id"] for event in body["data"]) == [
        "beijing-denies-awareness",
        "china-denies-direct-involvement",
    ]
    denial = client.get("/api/v1/events/beijing-denies-awareness").get_json()["data"]
    assert denial["type"] == "official_denial"
    assert [(actor["id"], actor["role"]) for actor in denial["actors"]] == [
        ("china", "denier"),
        ("xinjiang-drone-factory", "subject"),
    ]


def test_api_china_denies_what_its_statements_contradict(client, seeded):
    body = get_all(client, "/api/v1/claims?actor=china&stance=denies")
    assert {claim["id"] for claim in body} == {
        claim["id"] for claim in CLAIMS if "china" in actors_with(claim, "denies")
    }


def test_api_open_questions_are_not_confirmed(client, seeded):
    body = client.get("/api/v1/claims?status=confirmed&limit=200").get_json()
    assert body["data"] == []
    open_questions = "factory-produces-lethal-drones,factory-drones-sent-to-russia,beijing-fully-aware-of-operation"
    statuses = {
        claim_id: client.get(f"/api/v1/claims/{claim_id}").get_json()["data"]["status"]
        for claim_id in open_questions.split(",")
    }
    assert statuses == dict.fromkeys(open_questions.split(","), "unverified")


def link_rows(links):
    """A record's source links as the file gives them: an unstated occurrence is the first."""
    return [(link["source"], link["stance"], link["excerpt"], link.get("occurrence", 1)) for link in links]


def api_link_rows(links):
    return [(link["id"], link["stance"], link["excerpt"], link["occurrence"]) for link in links]


@pytest.mark.parametrize("claim_id", sorted(CLAIMS_BY_ID))
def test_api_claim_detail_matches_the_file(client, seeded, claim_id):
    claim = CLAIMS_BY_ID[claim_id]
    response = client.get(f"/api/v1/claims/{claim_id}")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["id"] == claim_id
    assert (data["statement"], data["status"], data["credibility"]) == (
        claim["statement"],
        claim["status"],
        claim["credibility"],
    )
    assert data["status_rationale"] == claim["status_rationale"]
    assert api_link_rows(data["sources"]) == link_rows(claim["sources"])
    assert [(link["id"], link["stance"]) for link in data["actors"]] == [
        (link["actor"], link["stance"]) for link in claim["actors"]
    ]
    assert [event["id"] for event in data["events"]] == claim["events"]


@pytest.mark.parametrize("event_id", sorted(EVENTS_BY_ID))
def test_api_event_detail_matches_the_file(client, seeded, event_id):
    event = EVENTS_BY_ID[event_id]
    response = client.get(f"/api/v1/events/{event_id}")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert (data["id"], data["title"], data["summary"]) == (event_id, event["title"], event["summary"])
    assert api_link_rows(data["sources"]) == link_rows(event["sources"])
    assert [(link["id"], link["role"]) for link in data["actors"]] == [
        (link["actor"], link["role"]) for link in event["actors"]
    ]
