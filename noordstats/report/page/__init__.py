"""What runs inside a report notebook: the building blocks of a page (blocks, charts, maps,
the claims matrix, provenance, the summary the suite reads) and the notebook parameters."""
