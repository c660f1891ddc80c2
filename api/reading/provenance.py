"""Provenance a reader can check: a source's stored document with every excerpt that cites it (as text, JSON
and an HTML page with the excerpts marked), each record as a page linking to its excerpts in their documents,
and a claim as schema.org ClaimReview JSON-LD.

Each excerpt's place in its document was found when its link was written (`api.writing.checks`), so the
page marks stored offsets; nothing here searches the text. URLs come from the caller (the web layer), as
functions, so this module knows no routes.
"""

import html
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from api.catalog import QUOTING_RESOURCES, SPECS
from api.tables import Source, SourceDocument
from schemas import vocabulary as vocab
from schemas.records import document_of_row

_environment = Environment(
    loader=PackageLoader("api.reading", "templates"),
    autoescape=select_autoescape(("html",), default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
)


@dataclass(frozen=True)
class Citation:
    """One link of a record to a source, whose excerpt stands in this document at [start, end)."""

    number: int
    resource: str
    record_id: str
    label: str
    source: str
    stance: str
    excerpt: str
    occurrence: int
    start: int
    end: int
    prefix: str
    suffix: str

    @property
    def anchor(self):
        return excerpt_anchor(self.resource, self.record_id, self.source, self.start)

    @property
    def selector(self):
        return [
            {"type": "TextQuoteSelector", "exact": self.excerpt, "prefix": self.prefix, "suffix": self.suffix},
            {"type": "TextPositionSelector", "start": self.start, "end": self.end},
        ]


def excerpt_anchor(resource, record_id, source_id, start):
    """The id of an excerpt's mark on its document's page: made from what the record's JSON shows of the link
    (the record, the linked source and its TextPositionSelector's start), so a client can build it too."""
    return f"excerpt-{resource}-{record_id}-{source_id}-{start}"


def stored_document(source_id):
    """The source's row with its document's text (`text`), or None when the source is unknown; `text` is None
    when it holds no document."""
    return (
        Source.select(Source, SourceDocument.text)
        .left_outer_join(SourceDocument, on=(SourceDocument.source == Source.id))
        .where(Source.id == source_id)
        .dicts()
        .first()
    )


def citations(source_id):
    """Every excerpt located in this source's document, from every quoting resource, in document order."""
    found = []
    for resource in QUOTING_RESOURCES:
        spec = SPECS[resource]
        relation = spec.links["sources"]
        join, owner = relation.join_model, spec.model
        label = getattr(owner, spec.summary_fields[1])
        query = (
            join.select(
                getattr(join, relation.owner_key).alias("record_id"),
                label.alias("label"),
                join.source.alias("source"),
                join.stance,
                join.excerpt,
                join.occurrence,
                join.target_start,
                join.target_end,
                join.target_prefix,
                join.target_suffix,
            )
            .join(owner, on=(getattr(join, relation.owner_key) == owner.id))
            .where(join.target_source == source_id)
        )
        found += [(resource, row) for row in query.dicts()]
    found.sort(key=lambda item: (item[1]["target_start"], -item[1]["target_end"], item[0], item[1]["record_id"]))
    return [
        Citation(
            number=number,
            resource=resource,
            record_id=row["record_id"],
            label=row["label"],
            source=row["source"],
            stance=row["stance"],
            excerpt=row["excerpt"],
            occurrence=row["occurrence"],
            start=row["target_start"],
            end=row["target_end"],
            prefix=row["target_prefix"],
            suffix=row["target_suffix"],
        )
        for number, (resource, row) in enumerate(found, start=1)
    ]


def document_json(row, cited, record_url):
    """The document as JSON: its description, its text, and every excerpt citing it with its selectors."""
    return {
        "source": row["id"],
        "title": row["title"],
        "language": row["language"],
        "url": row["url"],
        "published": row["published"],
        **document_of_row(row),
        "text": row["text"],
        "excerpts": [
            {
                "record": {
                    "resource": citation.resource,
                    "id": citation.record_id,
                    "label": citation.label,
                    "url": record_url(citation.resource, citation.record_id),
                },
                "source": citation.source,
                "stance": citation.stance,
                "excerpt": citation.excerpt,
                "occurrence": citation.occurrence,
                "selector": citation.selector,
                "anchor": citation.anchor,
            }
            for citation in cited
        ],
    }


def marked_text(text, cited):
    """The text, escaped, with each excerpt in `<mark>` elements and a numbered link to its citation after it.

    Excerpts overlap and nest: the marks are opened at each start (the longer first) and closed at each end;
    closing one that others were opened inside closes them too and opens them again, so the markup stays
    well nested. Only an excerpt's first `<mark>` carries its anchor.
    """
    opening, closing = {}, {}
    for citation in cited:
        opening.setdefault(citation.start, []).append(citation)
        closing.setdefault(citation.end, []).append(citation)
    boundaries = sorted({0, len(text), *opening, *closing})
    parts, open_marks = [], []

    def mark(citation, first):
        anchor = f' id="{citation.anchor}"' if first else ""
        title = escape(f"{citation.stance}: {citation.label}")
        return (
            f'<mark{anchor} class="excerpt stance-{escape(citation.stance)}" '
            f'data-citation="{citation.number}" title="{title}">'
        )

    for index, position in enumerate(boundaries):
        for citation in closing.get(position, []):
            reopened = []
            while open_marks and open_marks[-1] is not citation:
                reopened.append(open_marks.pop())
                parts.append("</mark>")
            open_marks.pop()
            parts.append(f'</mark><a class="cite" href="#citation-{citation.number}">[{citation.number}]</a>')
            for other in reversed(reopened):
                parts.append(mark(other, first=False))
                open_marks.append(other)
        for citation in sorted(opening.get(position, []), key=lambda item: -item.end):
            parts.append(mark(citation, first=True))
            open_marks.append(citation)
        if index + 1 < len(boundaries):
            parts.append(html.escape(text[position : boundaries[index + 1]], quote=False))
    return Markup("".join(parts))


def document_page(row, cited, urls):
    """The document's page: its text with every excerpt marked, and the list of citations linking to records."""
    return _environment.get_template("document.html").render(
        source=row,
        document=document_of_row(row),
        text=marked_text(row["text"], cited),
        citations=cited,
        urls=urls,
        stances=vocab.EVIDENCE_STANCES,
    )


def record_page(spec, record, urls):
    """A record's page: its fields, its related records as links to their pages, and each source excerpt
    linked to its mark on its document's page."""
    own = {
        name: value
        for name, value in record.items()
        if name not in spec.relations and not isinstance(value, list | dict) and name != "id"
    }
    nested = {name: value for name, value in record.items() if isinstance(value, dict)}
    relations = {name: record.get(name, []) for name in spec.relations}
    return _environment.get_template("record.html").render(
        spec=spec,
        record=record,
        label=record.get(spec.summary_fields[1], record["id"]),
        own=own,
        nested=nested,
        relations=relations,
        specs=SPECS,
        urls=urls,
        excerpt_anchor=excerpt_anchor,
    )


def _publisher(source_link):
    name = source_link.get("publisher")
    return {"publisher": {"@type": "Organization", "name": name}} if name else {}


def claim_review(claim, claim_url, actor_url, source_url):
    """A claim as schema.org ClaimReview: the claimants (actors who assert it) as the claim's authors, each
    source excerpt as an appearance, the status as the rating with its rule and rationale, and the
    credibility grade in the review's body."""
    claimants = [link for link in claim["actors"] if link["stance"] == "asserts"]
    credibility = claim["credibility"]
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "@id": claim_url,
        "url": claim_url,
        "identifier": claim["id"],
        "claimReviewed": claim["statement"],
        "datePublished": claim["created_at"][:10],
        "dateModified": claim["updated_at"],
        "author": {"@type": "Organization", "name": "eventledger"},
        "reviewRating": {
            "@type": "Rating",
            "alternateName": claim["status"],
            "name": vocab.CLAIM_STATUSES[claim["status"]],
            "ratingExplanation": claim["status_rationale"],
        },
        "reviewBody": (
            f"Status: {claim['status']}. {claim['status_rationale']} Credibility {credibility} on the Admiralty "
            f"scale ({vocab.CREDIBILITY_GRADES[credibility]}): {claim['credibility_rationale']}"
        ),
        "itemReviewed": {
            "@type": "Claim",
            "author": [
                {"@type": "Thing", "@id": actor_url(link["id"]), "identifier": link["id"], "name": link.get("name")}
                for link in claimants
            ],
            "appearance": [
                {
                    "@type": "CreativeWork",
                    "@id": source_url(link["id"]),
                    "identifier": link["id"],
                    "name": link.get("title"),
                    **(
                        {"publisher": {"@type": "Organization", "name": link["publisher"]}}
                        if link.get("publisher")
                        else {}
                    ),
                    "text": link["excerpt"],
                    "description": f"{link['stance']}: {vocab.EVIDENCE_STANCES[link['stance']]}",
                }
                for link in claim["sources"]
            ],
        },
    }
