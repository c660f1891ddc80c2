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

CLAIM_STATUSES = {
    "confirmed": "Established as fact and corroborated by more than one independent source.",
    "alleged": "Asserted by a party but not established.",
    "unverified": (
        "Reported, but not corroborated by an independent source, or described by the source as unconfirmed or unclear."
    ),
    "disputed": "Parties disagree: some assert it, some dispute it.",
    "denied": "The party it concerns denies it.",
    "refuted": "Shown to be false.",
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
    "asserts": "The actor asserts the claim.",
    "denies": "The actor denies the claim.",
    "disputes": "The actor disputes or doubts the claim.",
    "subject": "The claim is about the actor.",
}

CLAIM_SOURCE_STANCES = {
    "supports": "The source supports the claim with evidence of its own.",
    "disputes": "The source disputes the claim.",
    "reports": "The source reports the claim without endorsing it.",
}


def describe(vocabulary):
    """One line per value, for field descriptions in the OpenAPI document."""
    return "; ".join(f"`{value}`: {meaning}" for value, meaning in vocabulary.items())
