"""Report: notebook parameters and blocks, charts, HTML export, the suite, its workers,
manifest, folder lock and index page."""
