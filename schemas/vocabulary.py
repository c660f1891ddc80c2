"""Controlled vocabularies of the dataset, each value with its meaning.

These dictionaries are the one place a vocabulary is defined: the schemas
validate against them, the OpenAPI document lists them, and the README's data
dictionary is written from them.
"""

SOURCE_TYPES = {
    "news_investigation": "An investigative news report based on original reporting.",
    "newsletter_analysis": "A newsletter or analysis piece that summarises and interprets other reporting.",
    "official_statement": "A statement by a government, ministry or official body.",
    "intelligence_report": "Intelligence or evidence shared by a government service, usually not public.",
    "press_report": "A routine news report.",
    "other": "Any other kind of source.",
}

# Admiralty (NATO AJP-2.1) source reliability grades.
RELIABILITY_GRADES = {
    "A": "Completely reliable: no doubt of authenticity, trustworthiness or competency.",
    "B": "Usually reliable: minor doubt; a history of valid information most of the time.",
    "C": "Fairly reliable: doubt; has provided valid information in the past.",
    "D": "Not usually reliable: significant doubt; has provided valid information in the past.",
    "E": "Unreliable: lacking in authenticity, trustworthiness and competency.",
    "F": "Reliability cannot be judged: no basis exists for evaluating the source.",
}

ACTOR_KINDS = {
    "state": "A sovereign state, as a country.",
    "government": "The government of a state (including metonyms such as 'Beijing' or 'Moscow').",
    "intergovernmental_body": "A body of several states, such as the European Union.",
    "agency": "A service or agency of a government or intergovernmental body.",
    "company": "A company or state-owned enterprise.",
    "facility": "A site such as a factory or a plant.",
    "person": "An individual, named or not.",
    "group": "A group of people or organisations described collectively.",
    "media_outlet": "A news organisation or publication.",
}

EVENT_TYPES = {
    "investigation_published": "A news or research investigation was published.",
    "intelligence_received": "A party received intelligence or evidence.",
    "weapons_development": "Weapons were designed or developed.",
    "weapons_testing": "Weapons were tested, including flight tests.",
    "weapons_production": "Weapons were manufactured or assembled, or a site was set up to do so.",
    "weapons_transfer": "Weapons were shipped or delivered.",
    "official_denial": "A party officially denied an allegation.",
    "accusation": "A party accused another of an act.",
    "sanctions_imposed": "Sanctions were imposed.",
    "sanctions_deliberation": "Sanctions were discussed or considered but not (yet) imposed.",
    "military_attack": "Military strikes or attacks.",
    "official_assessment": "An official or body stated an assessment of the situation.",
}

EVENT_ROLES = {
    "reporter": "Reported the event.",
    "investigator": "Investigated the matter.",
    "accuser": "Made an accusation.",
    "subject": "Is what the event is about.",
    "denier": "Denied an allegation.",
    "target": "Was targeted or attacked.",
    "perpetrator": "Carried out an attack or act.",
    "developer": "Developed a weapon or technology.",
    "producer": "Manufactured or assembled something.",
    "recipient": "Received something (goods, intelligence, evidence).",
    "supplier": "Supplied something.",
    "sanctioning_party": "Imposed or considered sanctions.",
    "sanctioned_party": "Was sanctioned.",
    "decision_maker": "Has to take a decision the event concerns.",
    "location": "The place where the event happened.",
    "affected_party": "Was affected by the event.",
}

DATE_PRECISIONS = {
    "day": "The date is known to the day (YYYY-MM-DD).",
    "month": "The date is known to the month (YYYY-MM, or XXXX-MM when the year is not stated).",
    "year": "The date is known to the year (YYYY).",
}

# Each status with the rule that decides it. The first four are checked whenever a claim is written
# (api/writing/checks.py `status_problems`); a denial never replaces a status, it is an actor's `denies`
# stance beside it, so a claim both unconfirmed and denied keeps both.
CLAIM_STATUSES = {
    "confirmed": (
        "Established: at least two independent sources support it (stance `supports`) and none contradicts it. "
        "Two sources are independent only when neither is reported in the other and they share no reporting source."
    ),
    "refuted": "Shown to be false: at least one source contradicts it (stance `contradicts`) and none supports it.",
    "disputed": (
        "Parties disagree: an actor asserts it or a source supports it, and an actor disputes or denies it "
        "or a source contradicts it."
    ),
    "denied": "The party it concerns denies it (an actor with stance `denies`), and no actor asserts it.",
    "alleged": "An actor asserts it (stance `asserts`), and it is not established.",
    "unverified": (
        "Reported but not established: no claimant stands behind it, or its source calls it unconfirmed or unclear. "
        "A denial of an unverified claim is kept as the denying actor's `denies` stance beside the status."
    ),
}

# Admiralty (NATO AJP-2.1) information credibility grades.
CREDIBILITY_GRADES = {
    1: "Confirmed by other sources.",
    2: "Probably true.",
    3: "Possibly true.",
    4: "Doubtful.",
    5: "Improbable.",
    6: "Truth cannot be judged.",
}

CLAIM_ACTOR_STANCES = {
    "asserts": "The actor makes the claim: the claimant.",
    "reports": "The actor relays the claim without making it (a news outlet reporting another's finding).",
    "denies": "The actor denies the claim.",
    "disputes": "The actor disputes or doubts the claim.",
    "subject": "The claim is about the actor.",
}

# What a source's excerpt does for the event or claim it is linked to: one vocabulary for both.
EVIDENCE_STANCES = {
    "supports": "The source gives it as so, on its own account or evidence.",
    "reports": "The source relays it, attributing it to another, without endorsing it.",
    "casts_doubt": "The source hedges it, or calls it unconfirmed, unclear or inconclusive.",
    "contradicts": "The source states the opposite, or denies it.",
}

# How the dataset reached a source: derived from `reported_in`, apart from the source's reliability.
SOURCE_ACCESS = {
    "first_hand": "The dataset holds the source's own text.",
    "second_hand": (
        "Known only through another source's account of it (`reported_in`): this lowers the credibility of the "
        "information it carries, not the source's reliability."
    ),
}

DOCUMENT_MEDIA_TYPES = {
    "text/plain": "Plain text, stored and served as given; excerpts are located in it character by character.",
}


def describe(vocabulary):
    """One line per value, for field descriptions in the OpenAPI document."""
    return "; ".join(f"`{value}`: {meaning}" for value, meaning in vocabulary.items())
