"""The change log: the one write transaction that records every change, the changes feed,
record history, and webhooks."""
