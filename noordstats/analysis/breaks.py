"""Series breaks: a year in which a region's figure jumps far outside what the nation did.

A region's yearly change that is both more than :data:`BREAK_MIN_POINTS` percentage points away
from the national change and more than :data:`BREAK_FACTOR` times the national change in size is
not read as growth: at COROP level it is, in the shipped tables, a boundary change (CBS moves a
COROP boundary when municipalities merge across it; CR05's +30.3% volume change in 2014, against
+1.6% for Nederland, is the 2014 reorganisation that formed De Friese Meren). The rule is applied
to yearly % changes as CBS publishes them (volume changes) or as computed from a level series.

Pure functions on plain frames; :mod:`noordstats.analysis.frames` applies them to indicators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: a region's yearly change is a break when it is more than this many times the national one ...
BREAK_FACTOR = 5.0
#: ... and differs from it by more than this many percentage points
BREAK_MIN_POINTS = 10.0
#: a boundary change marks a region's series when CBS says at least this many inhabitants moved
MATERIAL_INHABITANTS = 1000


def is_series_break(change_pct: float, nl_change_pct: float) -> bool:
    """Whether a yearly change of ``change_pct`` against a national ``nl_change_pct`` (both in %)
    is a series break by the rule above; False where either is missing."""
    if pd.isna(change_pct) or pd.isna(nl_change_pct):
        return False
    return abs(change_pct - nl_change_pct) > BREAK_MIN_POINTS and abs(
        change_pct
    ) > BREAK_FACTOR * abs(nl_change_pct)


def flag_series_breaks(changes: pd.DataFrame) -> pd.Series:
    """``changes`` (``change_pct``, ``nl_change_pct`` per row) -> a boolean Series: which rows
    are breaks (vectorised :func:`is_series_break`)."""
    change = changes["change_pct"].astype(float)
    nl = changes["nl_change_pct"].astype(float)
    flagged = ((change - nl).abs() > BREAK_MIN_POINTS) & (change.abs() > BREAK_FACTOR * nl.abs())
    return flagged.fillna(False).astype(bool)


def compute_yearly_changes_pct(levels: pd.DataFrame) -> pd.DataFrame:
    """``levels`` (``region_code``, ``year``, ``period_index``, ``value``) -> the same rows with
    ``change_pct``: the % change from the same period of the year before (NaN where that is not
    published)."""
    keyed = levels.set_index(["region_code", "year", "period_index"]).value
    before = keyed.reindex(
        list(
            zip(
                levels.region_code,
                levels.year.astype(int) - 1,
                levels.period_index,
                strict=True,
            )
        )
    ).to_numpy()
    out = levels.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = (levels.value.to_numpy(dtype=float) / before - 1.0) * 100.0
    out.loc[~np.isfinite(out.change_pct), "change_pct"] = np.nan
    return out


def find_series_breaks(changes: pd.DataFrame, nl_code: str) -> pd.DataFrame:
    """``changes`` (``region_code``, ``year``, ``period_index``, ``change_pct``) -> one row per
    break: ``region_code``, ``year``, ``change_pct``, ``nl_change_pct``. The nation itself has no
    breaks by this rule."""
    nl = changes[changes.region_code == nl_code].set_index(["year", "period_index"]).change_pct
    with_nl = changes[changes.region_code != nl_code].copy()
    keys = list(zip(with_nl.year, with_nl.period_index, strict=True))
    with_nl["nl_change_pct"] = nl.reindex(keys).to_numpy()
    flagged = with_nl[flag_series_breaks(with_nl)]
    return flagged[["region_code", "year", "change_pct", "nl_change_pct"]].reset_index(drop=True)


def material_boundary_years(changes: pd.DataFrame) -> dict[str, list[int]]:
    """CBS's boundary changes (``regions.load_boundary_changes``) -> {region: the years in
    which at least :data:`MATERIAL_INHABITANTS` inhabitants moved in or out}."""
    moved = changes.groupby(["region_code", "year"]).inhabitants.sum().reset_index()
    material = moved[moved.inhabitants >= MATERIAL_INHABITANTS]
    return {code: sorted(int(y) for y in g.year) for code, g in material.groupby("region_code")}


def breaks_in_span(break_years: list[int], end_year: int, span: int) -> tuple[int, ...]:
    """The break years among the yearly changes a growth figure over ``span`` years ending in
    ``end_year`` is made of (years ``end_year - span + 1`` .. ``end_year``)."""
    return tuple(sorted(int(y) for y in break_years if end_year - span < y <= end_year))
