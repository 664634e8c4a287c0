"""The record of verdict changes (``data/verdict_history.yaml``): for each change of a claim's
verdict for the North, the date, the old and the new verdict, and why."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from pydantic import ValidationError, field_validator

from noordstats import paths
from noordstats.declarations.claims import VERDICTS
from noordstats.declarations.files import (
    ConfigError,
    Strict,
    fail,
    format_validation_error,
    read_file_model,
)

#: an old verdict may also be 'none' (a claim added that day); a new one 'removed'
OLD_VERDICTS = [*VERDICTS, "none"]
NEW_VERDICTS = [*VERDICTS, "removed"]


class VerdictChange(Strict):
    claim_id: str
    date: dt.date
    old_verdict: str
    new_verdict: str
    reason: str

    @field_validator("old_verdict")
    @classmethod
    def _old(cls, value: str) -> str:
        if value not in OLD_VERDICTS:
            raise ValueError(f"unknown verdict {value!r}; valid: {', '.join(OLD_VERDICTS)}")
        return value

    @field_validator("new_verdict")
    @classmethod
    def _new(cls, value: str) -> str:
        if value not in NEW_VERDICTS:
            raise ValueError(f"unknown verdict {value!r}; valid: {', '.join(NEW_VERDICTS)}")
        return value


class HistoryFile(Strict):
    changes: list[dict]


def read_verdict_history(path: Path) -> list[VerdictChange]:
    """The changes in file order; a claim may change at most once per date."""
    top = read_file_model(path, "changes", HistoryFile)
    changes: list[VerdictChange] = []
    seen: set[tuple[str, dt.date]] = set()
    for i, item in enumerate(top.changes):
        entry = str(item.get("claim_id", f"#{i}")) if isinstance(item, dict) else f"#{i}"
        try:
            change = VerdictChange.model_validate(item)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(path, entry, exc, VerdictChange)) from None
        if (change.claim_id, change.date) in seen:
            fail(path, entry, "date", f"a second change of {change.claim_id!r} on {change.date}")
        seen.add((change.claim_id, change.date))
        changes.append(change)
    return changes


@cache
def load_verdict_history() -> list[VerdictChange]:
    return read_verdict_history(paths.VERDICT_HISTORY_FILE)
