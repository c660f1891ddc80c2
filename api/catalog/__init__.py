"""The catalog: every resource the API serves, each declared once in a module of this package.

Routes, queries, writes, exports, the data package, the timeline and the changes feed all read
a resource from `SPECS`; adding a resource is a module here and a line below.
"""

from api.catalog import actors, claims, events, sources

# In the API's order: the index, the OpenAPI tags, the changes feed's and webhooks' choices.
SPECS = {module.spec.name: module.spec for module in (events, actors, claims, sources)}
# In the order records are written and files are read: a record refers only to records of the
# resources before its own, or to its own resource's (a parent, read parents first).
WRITE_ORDER = {module.spec.name: module.spec for module in (sources, actors, events, claims)}
RESOURCE_NAMES = tuple(SPECS)
# The resources whose links to sources quote them: each excerpt must be verbatim in the source's text.
QUOTING_RESOURCES = tuple(
    name
    for name, spec in WRITE_ORDER.items()
    if any(relation.target == "sources" and "excerpt" in relation.attributes for relation in spec.links.values())
)
