"""Storage: tables on disk (the snapshot and the live cache); the only code that knows those
layouts."""
