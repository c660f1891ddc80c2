"""A source link: an excerpt that bears on an event or a claim, its stance, and its place in a document.

The place is worked out when the link is written (`api.writing.checks.anchor_excerpts`) and stored in the
link's row (`api.tables.AnchoredExcerpt`); a link shows it as a W3C Web Annotation target, a
TextQuoteSelector and a TextPositionSelector into the document that holds the excerpt.
"""

from api.catalog.declarations import Relation
from api.tables import ANCHOR_COLUMNS

EXCERPT_ATTRIBUTES = ("stance", "excerpt", "occurrence")


def present_target(link):
    """The link as shown: its anchor columns become one `target`, null when the link was never anchored."""
    source = link.pop("target_source")
    start, end = link.pop("target_start"), link.pop("target_end")
    prefix, suffix = link.pop("target_prefix"), link.pop("target_suffix")
    link["target"] = (
        None
        if source is None
        else {
            "source": source,
            "selector": [
                {"type": "TextQuoteSelector", "exact": link["excerpt"], "prefix": prefix, "suffix": suffix},
                {"type": "TextPositionSelector", "start": start, "end": end},
            ],
        }
    )
    return link


def excerpt_relation(name, target, join_model, local_key, remote_key, **options):
    """A relation whose links are source excerpts, from either side."""
    return Relation(
        name,
        target,
        join_model,
        local_key,
        remote_key,
        EXCERPT_ATTRIBUTES,
        computed=ANCHOR_COLUMNS,
        present=present_target,
        **options,
    )
