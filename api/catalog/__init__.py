"""The catalog: every resource the API serves, each declared once in a module of this package.

Routes, queries, writes, exports, the data package, the timeline and the changes feed all read
a resource from `SPECS`; adding a resource is a module here and a line below.
"""

from api.catalog import actors, claims, events, sources

SPECS = {module.spec.name: module.spec for module in (events, actors, claims, sources)}
