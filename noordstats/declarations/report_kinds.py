"""The kinds of report (``data/report_kinds.yaml``): each kind's notebook, the tables it reads,
its title and its place in the index, declared once for the suite, the index, the command line
help and ``noordstats init``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from noordstats import i18n, paths
from noordstats.declarations.files import ConfigError, Strict, read_file_model, validate_entries


class ReportKind(Strict):
    id: str
    notebook: str = Field(description="the notebook in notebooks/, e.g. claims.ipynb")
    per_theme: bool = Field(default=False, description="one report per theme")
    tables: Literal["theme", "every_indicator", "region_profile", "indicators"]
    indicators: list[str] = Field(default=[], description="(tables: indicators) indicator ids")
    title: str | dict[str, str] | None = Field(
        default=None, description="catalogue key of the title, or the title as {language: text}"
    )
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> ReportKind:
        if self.per_theme and self.title is not None:
            raise ValueError("a per-theme kind is titled by its theme: give no 'title'")
        if not self.per_theme and self.title is None:
            raise ValueError("a kind needs 'title' (a catalogue key)")
        if self.tables == "theme" and not self.per_theme:
            raise ValueError("tables 'theme' needs per_theme: true")
        if (self.tables == "indicators") != bool(self.indicators):
            raise ValueError("give 'indicators' exactly when tables is 'indicators'")
        return self

    def label(self, lang: str) -> str:
        """The kind's title in ``lang`` (a per-theme kind: the theme's title, not this)."""
        if isinstance(self.title, dict):
            return i18n.pick_text(self.title, lang)
        return i18n.t(str(self.title), lang)

    @property
    def order(self) -> int:
        return list(load_report_kinds()).index(self.id)


class ReportKindFile(Strict):
    kinds: list[dict]


def read_report_kinds(path: Path) -> dict[str, ReportKind]:
    """``data/report_kinds.yaml`` -> {id: ReportKind} in the file's (the index's) order."""
    top = read_file_model(path, "kinds", ReportKindFile)
    kinds = validate_entries(path, top.kinds, ReportKind)
    if sum(k.per_theme for k in kinds.values()) > 1:
        raise ConfigError(f"{path}: at most one kind can be per_theme")
    return kinds


def describe_kinds(theme_word: str = "a theme id") -> str:
    """The kinds as the command line and the working folder's README name them:
    ``a theme id, claims, region_profile``."""
    return ", ".join(theme_word if k.per_theme else k.id for k in load_report_kinds().values())


@cache
def load_report_kinds() -> dict[str, ReportKind]:
    return read_report_kinds(paths.REPORT_KINDS_FILE)


def theme_kind() -> ReportKind | None:
    """The per-theme kind, if one is declared."""
    return next((k for k in load_report_kinds().values() if k.per_theme), None)
