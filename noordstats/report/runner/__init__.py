"""The suite that runs report notebooks into pages: the suite, its worker pool and workers, the
manifest, the folder lock, the index page, the nbconvert exporter and PDF printing."""
