"""The HTTP routes, one module per area; api/routes/records.py holds every route of a resource."""
