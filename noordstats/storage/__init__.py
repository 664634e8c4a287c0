"""Storage: tables on disk (the snapshot and the live cache); the only code that knows those
layouts."""

#: where ``load_table`` reads a table from: the snapshot, live CBS, or live with a fallback
SOURCES = ("auto", "snapshot", "live")
