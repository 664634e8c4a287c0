"""Analysis: arithmetic, indicator frames, indicators and claim verdicts, from tidy frames."""
