"""The record of verdict changes (``data/verdict_history.yaml``): for each change of a claim's
verdict for the North, the date, the old and the new verdict, and why; and the record of rule
changes (``rule_changes``): for each change of a claim's primary rule, the date, whether the
figure was known when the rule changed, the old rule (machine-readable, so its verdict can be
computed today), the new rule in words, and why. A claim's *first registered rule* is the old rule
of its earliest recorded change."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import Field, ValidationError, field_validator

from noordstats import paths
from noordstats.declarations.claims import VERDICTS, Rule
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


class RuleChange(Strict):
    claim_id: str
    date: dt.date
    figure_known: bool = Field(description="whether the figure was known when the rule changed")
    old_rule: Rule = Field(description="the rule before the change, as it was registered")
    new_rule: str = Field(description="the rule after the change, in words")
    new_rule_nl: str
    reason: str
    reason_nl: str


_Dated = TypeVar("_Dated", "VerdictChange", "RuleChange")


class HistoryFile(Strict):
    changes: list[dict]
    rule_changes: list[dict] = []


def read_verdict_history(path: Path) -> list[VerdictChange]:
    """The changes in file order; a claim may change at most once per date."""
    top = read_file_model(path, "changes", HistoryFile)
    return _read_dated(path, top.changes, VerdictChange, "change")


def read_rule_changes(path: Path) -> list[RuleChange]:
    """The rule changes in file order; a claim's rule may change at most once per date."""
    top = read_file_model(path, "changes", HistoryFile)
    return _read_dated(path, top.rule_changes, RuleChange, "rule change")


def _read_dated(path: Path, items: list[dict], model: type[_Dated], what: str) -> list[_Dated]:
    """``items`` validated as ``model`` in file order; a second ``what`` of one claim on one
    date is refused (one line naming the file, the entry and the key)."""
    changes: list[_Dated] = []
    seen: set[tuple[str, dt.date]] = set()
    for i, item in enumerate(items):
        entry = str(item.get("claim_id", f"#{i}")) if isinstance(item, dict) else f"#{i}"
        try:
            change = model.model_validate(item)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(path, entry, exc, model)) from None
        if (change.claim_id, change.date) in seen:
            fail(path, entry, "date", f"a second {what} of {change.claim_id!r} on {change.date}")
        seen.add((change.claim_id, change.date))
        changes.append(change)
    return changes


@cache
def load_verdict_history() -> list[VerdictChange]:
    return read_verdict_history(paths.VERDICT_HISTORY_FILE)


@cache
def load_rule_changes() -> list[RuleChange]:
    return read_rule_changes(paths.VERDICT_HISTORY_FILE)


def rule_changes_of(claim_id: str) -> list[RuleChange]:
    """A claim's recorded rule changes, oldest first."""
    return sorted((c for c in load_rule_changes() if c.claim_id == claim_id), key=lambda c: c.date)


def first_registered_rule(claim_id: str) -> Rule | None:
    """The rule a claim was first registered with, when a later change was made with its figure
    known (None when the rule never changed that way)."""
    changes = rule_changes_of(claim_id)
    if not any(c.figure_known for c in changes):
        return None
    return changes[0].old_rule
