"""Report: ``page`` (what runs inside a notebook), ``runner`` (the suite that runs notebooks into
pages) and ``claims_doc`` (docs/claims.md)."""
