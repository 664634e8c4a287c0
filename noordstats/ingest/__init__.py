"""Ingest: CBS answers and raw captures into the canonical tidy frame (importers, live CBS,
snapshot build, StatLine import)."""
