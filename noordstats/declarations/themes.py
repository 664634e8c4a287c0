"""The themes (``data/themes.yaml``): the paper's specialisations and foundation themes, their
sectors, rationale, limits and indicators, and the jobs table their sectors are read from.

The file is the only list of themes: their ids and order (the paper's) come from it, and so do
the sector table, its measure, its sector dimension and its all-activities total. Sector codes
are CBS keys of that table or SBI section letters (``D``), which are turned into keys here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from noordstats import paths
from noordstats.declarations.files import (
    ConfigError,
    Strict,
    fail,
    read_file_model,
    validate_entries,
)
from noordstats.declarations.indicators import Indicator, load_indicators, unknown_indicator
from noordstats.declarations.tables import TableDeclaration, declarations
from noordstats.declarations.texts import (
    Text,
    deprecated_text_property,
    old_text_keys_folder,
    warn_old_form,
)


class SectorTable(Strict):
    """The jobs table a theme's sectors are counted in."""

    table: str = Field(description="table id, declared in tables.yaml")
    measure: str = Field(description="the measure counted (jobs)")
    dimension: str = Field(description="column stem of the sector dimension, e.g. 'sector'")
    total: str = Field(description="the code of all activities together (a key or SBI letters)")


class Theme(Strict):
    id: str
    title: Text = Field(description="{language: title}")
    kind: Literal["specialisation", "foundation"]
    sbi: list[str] = Field(default=[], description="sector codes of the sector table that proxy it")
    sbi_broad: list[str] = Field(
        default=[], description="sector codes shown for context, too broad to count as it"
    )
    rationale: Text = Field(description="{language: why the paper names it}")
    limits: Text = Field(description="{language: what the sector proxy cannot show}")
    indicators: list[str]

    _fold_old_text_keys = model_validator(mode="before")(old_text_keys_folder("theme"))
    title_nl = deprecated_text_property("title", "nl")
    title_en = deprecated_text_property("title", "en")
    rationale_nl = deprecated_text_property("rationale", "nl")
    limits_nl = deprecated_text_property("limits", "nl")


class ThemeFile(Strict):
    sectors: SectorTable
    themes: list[dict]


class ThemeRegistry(dict[str, Theme]):
    """{id: Theme} in the paper's order, plus the sector table (``sectors``)."""

    sectors: SectorTable


def read_themes(
    path: Path, indicators: dict[str, Indicator], tables: dict[str, TableDeclaration] | None = None
) -> ThemeRegistry:
    """``data/themes.yaml`` -> {id: Theme}; sector codes, tables and indicators are checked and
    sector codes given as SBI letters become the table's keys."""
    tables = declarations() if tables is None else tables
    top = read_file_model(path, "themes", ThemeFile)
    sectors = top.sectors
    if sectors.table not in tables:
        fail(
            path, "sectors", "table", f"unknown table {sectors.table!r}; known: {', '.join(tables)}"
        )
    decl = tables[sectors.table]
    if sectors.measure not in decl.measures:
        valid = ", ".join(decl.measures)
        fail(
            path,
            "sectors",
            "measure",
            f"{sectors.table} has no measure {sectors.measure!r}; valid: {valid}",
        )
    dimensions = {dim.column: dim for dim in decl.dimensions.values()}
    if sectors.dimension not in dimensions:
        valid = ", ".join(dimensions) or "(none)"
        fail(
            path,
            "sectors",
            "dimension",
            f"{sectors.table} has no dimension {sectors.dimension!r}; dimensions: {valid}",
        )
    dimension = dimensions[sectors.dimension]
    totals, unknown = dimension.resolve_codes([sectors.total])
    if unknown:
        fail(path, "sectors", "total", f"sector code not in {sectors.table}: {sectors.total}")
    entries = validate_entries(path, top.themes, Theme)
    warn_old_form(path, [("theme", raw) for raw in top.themes])
    for theme_id, theme in entries.items():
        resolved = {}
        for key in ("sbi", "sbi_broad"):
            resolved[key], unknown = dimension.resolve_codes(getattr(theme, key))
            if unknown:
                fail(
                    path,
                    theme.id,
                    key,
                    f"sector codes not in {sectors.table}: {', '.join(unknown)}",
                )
        for ind_id in theme.indicators:
            if ind_id not in indicators:
                fail(path, theme.id, "indicators", unknown_indicator(ind_id, indicators))
        entries[theme_id] = theme.model_copy(update=resolved)
    registry = ThemeRegistry(entries)
    registry.sectors = sectors.model_copy(update={"total": totals[0]})
    return registry


@cache
def load_themes() -> ThemeRegistry:
    """The shipped themes (``data/themes.yaml``), validated, in the paper's order."""
    return read_themes(paths.THEMES_FILE, load_indicators())


def theme_ids() -> list[str]:
    """Every theme id, in the paper's order (the order of ``data/themes.yaml``)."""
    return list(load_themes())


def check_theme(theme_id: str) -> str:
    """Return ``theme_id`` if declared, else raise ConfigError naming the valid ids."""
    if theme_id not in load_themes():
        raise ConfigError(f"unknown theme {theme_id!r}; valid: {', '.join(theme_ids())}")
    return theme_id


def tables_used(theme: str | None = None) -> list[str]:
    """Table ids behind a theme's figures (every indicator's when None), sector table included
    when the theme has sectors."""
    indicators = load_indicators()
    themes = load_themes()
    if theme is None:
        ids = list(indicators)
        has_sectors = True
    else:
        chosen = themes[check_theme(theme)]
        ids = chosen.indicators
        has_sectors = bool(chosen.sbi or chosen.sbi_broad)
    tables = [t for i in ids for t in indicators[i].tables]
    if has_sectors:
        tables.append(themes.sectors.table)
    return list(dict.fromkeys(tables))
