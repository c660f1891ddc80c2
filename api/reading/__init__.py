"""Reading the dataset: a list request's query (filters, search, sort, cursor), its page, facets and
exports, records rendered to JSON, and the timeline."""
