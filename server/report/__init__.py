"""The report: one object built from the store, rendered as JSON, HTML and CLI text."""
