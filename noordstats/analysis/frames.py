"""Indicator values for every region and period of a table, computed once per process.

:func:`indicator_frame` turns an :class:`~noordstats.declarations.indicators.Indicator` into one
long frame (region x period -> value, status, note) with the Netherlands' value alongside. Numerator
and denominator are always matched on the same period code; a sum is published only when every part
is (NaN propagates); a missing landsdeel or Nederland row is the sum of its provinces only for
indicators declared ``additive`` (and then says so in ``note``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd

from noordstats import regions as reg
from noordstats.analysis import arithmetic, breaks
from noordstats.declarations.files import ConfigError
from noordstats.declarations.indicators import Indicator, Selection, check_indicator
from noordstats.declarations.tables import get_declaration
from noordstats.load import TableOrigin, load_table

NL = reg.NETHERLANDS


@dataclass(frozen=True)
class FrameNote:
    """What a figure of an indicator frame needs said, as data (the words are the report's):
    ``summed_provinces`` (a landsdeel or Nederland the table lacks, summed by noordstats), or
    ``older_table`` (a figure from ``used``, the older table ``table`` continues)."""

    kind: Literal["summed_provinces", "older_table"]
    table: str = ""
    used: str = ""


SUMMED = FrameNote("summed_provinces")
PROVISIONAL = ("voorlopig", "nader voorlopig")
FRAME_COLUMNS = [
    "region_code", "region_level", "period_code", "year", "period_index",
    "value", "status", "note", "nl_value", "table_id", "break_years", "outlier_years",
    "confirmed_break_years", "left_out_years",
]  # fmt: skip
#: transforms over a span of years, whose figures can span a series break
SPAN_TRANSFORMS = ("growth", "cagr", "chained_cagr")


@lru_cache(maxsize=64)
def load_cached(table_id: str, source: str = "snapshot") -> pd.DataFrame:
    """:func:`noordstats.load.load_table`, loaded once per (table, source) in this process.

    The frame is shared: callers must not modify it. Its only attribute is ``origin``, the
    :class:`TableOrigin` of the rows (:func:`table_origin`): pandas deep-copies a frame's
    ``attrs`` in every operation, and the table's metadata made that a third of a claims run."""
    frame = load_table(table_id, source=source)
    frame.attrs = {"origin": TableOrigin.of(frame)}
    return frame


def table_origin(table_id: str, source: str = "snapshot") -> TableOrigin:
    """Where the rows of :func:`load_cached`'s frame came from."""
    return load_cached(table_id, source).attrs["origin"]


@lru_cache(maxsize=64)
def continued_frame(table_id: str, source: str = "snapshot") -> pd.DataFrame:
    """The table, and where it continues an older one (``continues`` in tables.yaml), the older
    table's rows for the periods this one lacks (its measures renamed as declared); column
    ``table_id`` says which table each row is from. Shared: callers must not modify it."""
    frame = load_cached(table_id, source)
    decl = get_declaration(table_id)
    if decl.continues is None:
        return frame.assign(table_id=table_id)
    older = continued_frame(decl.continues.table, source)
    renamed = {old: new for new, old in decl.continues.measures.items()}
    older = older[~older.period_code.astype(str).isin(set(frame.period_code.astype(str)))]
    older = older.assign(measure_code=older.measure_code.astype(str).replace(renamed))
    text = {c: str for c in frame.columns if frame[c].dtype == "category"}
    newer = frame.astype(text).assign(table_id=table_id)
    return pd.concat([newer, older.astype({c: str for c in text if c in older})], ignore_index=True)


def continuation_note(table_id: str, used: str) -> FrameNote:
    """The note of a figure from ``used``, the older table ``table_id`` continues."""
    return FrameNote("older_table", table=table_id, used=used)


#: Which status a figure made of several cells gets: the highest rank among its cells
#: (provisional wins, then 'berekend', then 'onbekend'; 'definitief' only when every cell is).
STATUS_RANK = {"definitief": 1, "onbekend": 2, "berekend": 3, "nader voorlopig": 4, "voorlopig": 5}
STATUS_BY_RANK = {rank: status for status, rank in STATUS_RANK.items()}


def select_values(sel: Selection, frequency: str, additive: bool, source: str) -> pd.DataFrame:
    """The summed cells of a selection per (region, period): value, status, note, year, index.
    With ``minus``, the cells of :meth:`Selection.subtracted` are taken off (missing when either
    side is)."""
    if sel.minus:
        whole = select_values(sel.without_minus(), frequency, additive, source)
        part = select_values(sel.subtracted(), frequency, additive, source)
        return _combine(whole, part, lambda a, b: a - b)
    frame = continued_frame(sel.table, source)
    mask = frame.measure_code.isin(sel.measures) & (frame.frequency == frequency)
    parts = len(sel.measures)
    for column, codes in sel.filters.items():
        code_column = f"{column}_code"
        if code_column not in frame.columns:
            raise ConfigError(f"table {sel.table} has no dimension column {column!r}")
        missing = sorted(set(codes) - set(frame[code_column].astype(str).unique()))
        if missing:
            raise ConfigError(
                f"table {sel.table}: codes {', '.join(missing)} not in {column!r} "
                f"(present: {', '.join(sorted(frame[code_column].astype(str).unique()))})"
            )
        mask &= frame[code_column].isin(codes)
        parts *= len(codes)
    rows = frame.loc[
        mask, ["region_code", "period_code", "year", "period_index", "status", "value", "table_id"]
    ]
    rows = rows.astype({"region_code": str, "period_code": str, "status": str})
    rows["status_rank"] = rows.status.map(STATUS_RANK).fillna(STATUS_RANK["onbekend"])
    out = (
        rows.groupby(["region_code", "period_code"], sort=False)
        .agg(
            year=("year", "first"),
            period_index=("period_index", "first"),
            value=("value", "sum"),
            published=("value", "count"),
            status_rank=("status_rank", "max"),
            table_id=("table_id", "first"),
        )
        .reset_index()
    )
    out["value"] = out.value.where(out.published == parts)
    out["status"] = out.status_rank.map(STATUS_BY_RANK)
    out = out.drop(columns=["published", "status_rank"])
    older = out.table_id != sel.table
    out["note"] = [
        (continuation_note(sel.table, t),) if o else ()
        for t, o in zip(out.table_id, older, strict=True)
    ]
    if additive:
        out = _add_missing_sums(out)
    return out


def _combine(whole: pd.DataFrame, part: pd.DataFrame, how) -> pd.DataFrame:
    """``whole`` with its value replaced by ``how(whole.value, part.value)`` per (region,
    period); status the higher rank of the two, notes joined."""
    merged = whole.merge(
        part[["region_code", "period_code", "value", "status", "note"]],
        on=["region_code", "period_code"], how="left", suffixes=("", "_part"),
    )  # fmt: skip
    merged["value"] = how(merged.value, merged.value_part)
    ranks = pd.concat(
        [merged.status.map(STATUS_RANK), merged.status_part.map(STATUS_RANK)], axis=1
    ).max(axis=1)
    merged["status"] = ranks.fillna(STATUS_RANK["onbekend"]).astype(int).map(STATUS_BY_RANK)
    merged["note"] = [
        tuple(dict.fromkeys((*a, *(b if isinstance(b, tuple) else ()))))
        for a, b in zip(merged.note, merged.note_part, strict=True)
    ]
    return merged.drop(columns=["value_part", "status_part", "note_part"])


def volume_changes_excluding(ind: Indicator, source: str = "snapshot") -> pd.DataFrame:
    """Yearly volume % changes of a total minus a part (``filters`` minus ``minus``), from the
    published volume changes of both and their current-price values of the previous year
    (``weights``): a chain-linked volume is additive at the previous year's prices, so
    change(total - part) = (W_total * (1 + g_total) - W_part * (1 + g_part)) / (W_total - W_part)
    - 1, with W of the year before. Missing where any input is."""
    changes_total = select_values(ind.without_minus(), ind.frequency, ind.additive, source)
    changes_part = select_values(ind.subtracted(), ind.frequency, ind.additive, source)
    weights = ind.weights
    w_total = select_values(weights.without_minus(), ind.frequency, ind.additive, source)
    w_part = select_values(weights.subtracted(), ind.frequency, ind.additive, source)

    def previous(values: pd.DataFrame) -> pd.Series:
        keyed = values.set_index(["region_code", "year"]).value
        keys = list(zip(changes_total.region_code, changes_total.year.astype(int) - 1, strict=True))
        return pd.Series(keyed.reindex(keys).to_numpy(), index=changes_total.index)

    part = changes_total[["region_code", "period_code"]].merge(
        changes_part[["region_code", "period_code", "value"]],
        on=["region_code", "period_code"], how="left",
    ).value.to_numpy()  # fmt: skip
    wt, wp = previous(w_total), previous(w_part)
    g_total = changes_total.value / 100.0
    excluded = (wt * (1 + g_total) - wp * (1 + part / 100.0)) / (wt - wp).where(wt != wp) - 1
    return changes_total.assign(value=excluded * 100.0)


def _add_missing_sums(values: pd.DataFrame) -> pd.DataFrame:
    """Landsdelen and Nederland that the table lacks, as sums of all their provinces."""
    registry = reg.load_regions()
    present = set(values.region_code)
    provinces = values[values.region_code.str.startswith("PV")]
    if provinces.empty:
        return values
    targets: dict[str, list[str]] = {}
    for ld in registry.loc[registry.region_level == "LD", "region_code"]:
        if ld not in present:
            targets[ld] = reg.provinces_of(ld)
    if NL not in present:
        targets[NL] = sorted(registry.loc[registry.region_level == "PV", "region_code"])
    sums = []
    for target, members in targets.items():
        part = provinces[provinces.region_code.isin(members)]
        for period, group in part.groupby("period_code", sort=False):
            complete = len(group) == len(members) and group.value.notna().all()
            sums.append(
                {
                    "region_code": target,
                    "period_code": period,
                    "year": group.year.iloc[0],
                    "period_index": group.period_index.iloc[0],
                    "value": group.value.sum() if complete else np.nan,
                    "status": "berekend",
                    "note": (SUMMED,),
                    "table_id": group.table_id.iloc[0],
                }
            )
    return pd.concat([values, pd.DataFrame(sums)], ignore_index=True) if sums else values


@lru_cache(maxsize=256)
def indicator_frame(indicator_id: str, source: str = "snapshot") -> pd.DataFrame:
    """Every region and period the tables hold, with the indicator's value and NL's value."""
    ind = check_indicator(indicator_id)
    num = indicator_numerator(ind, source)
    if ind.denominator is not None:
        den = select_values(ind.denominator, ind.frequency, ind.additive, source)
        merged = num.merge(
            den[["region_code", "period_code", "value", "status", "note"]],
            on=["region_code", "period_code"], how="inner", suffixes=("", "_den"),
        )  # fmt: skip
    else:
        merged = num.assign(value_den=np.nan, status_den=None, note_den=[()] * len(num))
    series_breaks = find_indicator_breaks(ind, num)
    merged["value"] = _apply_transform(ind, merged, series_breaks)
    for column, years in _span_breaks(ind, merged, series_breaks).items():
        merged[column] = years
    ranks = pd.concat(
        [merged.status.map(STATUS_RANK), merged.status_den.map(STATUS_RANK)], axis=1
    ).max(axis=1)
    merged["status"] = ranks.fillna(STATUS_RANK["onbekend"]).astype(int).map(STATUS_BY_RANK)
    merged["note"] = [
        tuple(dict.fromkeys((*a, *b))) for a, b in zip(merged.note, merged.note_den, strict=True)
    ]
    levels = merged.region_code.str[:2]
    merged["region_level"] = levels
    nl_values = merged.loc[merged.region_code == NL].set_index("period_code").value
    merged["nl_value"] = merged.period_code.map(nl_values)
    merged = merged[levels.isin(reg.ALL_LEVELS)]
    out = merged[FRAME_COLUMNS].sort_values(
        ["region_code", "year", "period_index"], ignore_index=True
    )
    out["year"] = out["year"].astype(int)
    return out


def indicator_numerator(ind: Indicator, source: str = "snapshot") -> pd.DataFrame:
    """The indicator's numerator per region and period (for a chained growth without a part,
    the yearly volume changes of the total minus that part)."""
    if ind.transform == "chained_cagr" and ind.minus:
        return volume_changes_excluding(ind, source)
    return select_values(ind, ind.frequency, ind.additive, source)


def series_breaks(indicator_id: str, source: str = "snapshot") -> pd.DataFrame:
    """:func:`find_indicator_breaks` of one indicator, from the numerator its figures use."""
    ind = check_indicator(indicator_id)
    return find_indicator_breaks(ind, indicator_numerator(ind, source))


def find_indicator_breaks(ind: Indicator, num: pd.DataFrame) -> pd.DataFrame:
    """The series breaks of a growth indicator (``SPAN_TRANSFORMS``) in its yearly changes:
    one row per region and year with ``is_outlier`` (the rule of :mod:`breaks`),
    ``is_boundary_change`` (CBS moved at least ``MATERIAL_INHABITANTS`` inhabitants across the
    region's boundary that year), ``is_confirmed`` (both) and ``is_left_out`` (confirmed, and
    left out of a chained growth figure). Empty for other indicators."""
    columns = ["region_code", "year", "change_pct", "nl_change_pct", "is_outlier",
               "is_boundary_change", "is_confirmed", "is_left_out"]  # fmt: skip
    if ind.transform not in SPAN_TRANSFORMS:
        return pd.DataFrame(columns=columns)
    rows = num[["region_code", "year", "period_index", "value"]]
    if ind.transform == "chained_cagr":
        changes = rows.rename(columns={"value": "change_pct"})
    else:
        changes = breaks.compute_yearly_changes_pct(rows)
    outliers = breaks.find_series_breaks(changes, NL).assign(is_outlier=True)
    boundary = breaks.material_boundary_years(reg.load_boundary_changes())
    present = set(zip(changes.region_code, changes.year.astype(int), strict=True))
    keyed = changes.set_index(["region_code", "year"])
    extra = [
        {
            "region_code": code,
            "year": year,
            "change_pct": keyed.change_pct.get((code, year), np.nan),
            "nl_change_pct": keyed.change_pct.get((NL, year), np.nan),
            "is_outlier": False,
        }
        for code, years in boundary.items()
        for year in years
        if (code, year) in present
    ]
    found = pd.concat([outliers, pd.DataFrame(extra)], ignore_index=True)
    if found.empty:
        return pd.DataFrame(columns=columns)
    found = (
        found.groupby(["region_code", "year"], as_index=False)
        .agg(change_pct=("change_pct", "first"), nl_change_pct=("nl_change_pct", "first"),
             is_outlier=("is_outlier", "max"))
    )  # fmt: skip
    found["year"] = found.year.astype(int)
    found["is_boundary_change"] = [
        int(y) in boundary.get(c, []) for c, y in zip(found.region_code, found.year, strict=True)
    ]
    found["is_confirmed"] = found.is_outlier.astype(bool) & found.is_boundary_change
    found["is_left_out"] = found.is_confirmed & (ind.transform == "chained_cagr")
    return found[columns].sort_values(["region_code", "year"], ignore_index=True)


def _span_breaks(
    ind: Indicator, merged: pd.DataFrame, series_breaks: pd.DataFrame
) -> dict[str, list[tuple[int, ...]]]:
    """Per row, the years inside the span of its figure: ``break_years`` (CBS moved the region's
    boundary), ``outlier_years`` (an outlying change without a boundary change: kept, but
    marked), ``confirmed_break_years`` (both: the figure is not ranked) and ``left_out_years``
    (confirmed breaks not counted in a chained figure)."""
    span = int(ind.span_years or 0)
    kinds = {
        "break_years": series_breaks[series_breaks.is_boundary_change.astype(bool)],
        "outlier_years": series_breaks[
            series_breaks.is_outlier.astype(bool) & ~series_breaks.is_boundary_change.astype(bool)
        ],
        "confirmed_break_years": series_breaks[series_breaks.is_confirmed.astype(bool)],
        "left_out_years": series_breaks[series_breaks.is_left_out.astype(bool)],
    }
    out = {}
    for column, found in kinds.items():
        by_region = {c: list(g.year) for c, g in found.groupby("region_code")}
        out[column] = [
            breaks.breaks_in_span(by_region.get(code, []), year, span) if span else ()
            for code, year in zip(merged.region_code, merged.year.astype(int), strict=True)
        ]
    return out


def _apply_transform(
    ind: Indicator, merged: pd.DataFrame, series_breaks: pd.DataFrame | None = None
) -> pd.Series:
    num, den = merged["value"], merged["value_den"]
    by_period = merged.region_code == NL
    nl_num = merged.period_code.map(merged.loc[by_period].set_index("period_code").value)
    if ind.transform == "level":
        return num
    if ind.transform in {"share_of_nl", "index_nl_100"}:
        return arithmetic.compute_share_pct(num, nl_num)
    if ind.transform == "share_of_region":
        return arithmetic.compute_share_pct(num, den)
    if ind.transform == "quotient":
        return arithmetic.compute_ratio(num, den)
    if ind.transform == "per_1000_inhabitants":
        return arithmetic.compute_per_1000(num, den)
    if ind.transform == "location_quotient":
        nl_den = merged.period_code.map(merged.loc[by_period].set_index("period_code").value_den)
        return arithmetic.compute_location_quotient(num, den, nl_num, nl_den)
    return _apply_span_transform(ind, merged, series_breaks)


def _apply_span_transform(
    ind: Indicator, merged: pd.DataFrame, series_breaks: pd.DataFrame | None
) -> pd.Series:
    span = int(ind.span_years or 0)
    keyed = merged.set_index(["region_code", "year", "period_index"]).value
    if ind.transform == "chained_cagr":
        left = series_breaks[series_breaks.is_left_out] if series_breaks is not None else None
        left_out = set() if left is None else set(zip(left.region_code, left.year, strict=True))
        return _chained_cagr(merged, span, left_out)
    start_keys = list(
        zip(merged.region_code, merged.year.astype(int) - span, merged.period_index, strict=True)
    )
    start = pd.Series(keyed.reindex(start_keys).to_numpy(), index=merged.index)
    if ind.transform == "growth":
        return arithmetic.compute_growth_pct(start, merged["value"])
    return arithmetic.compute_cagr_pct(start, merged["value"], span)


def span_start_period(ind: Indicator, year: int) -> int | None:
    """First year of the period a growth indicator covers when it ends in ``year``: the base
    year, for every growth transform alike (ten yearly changes ending in 2023 compound the level
    of 2013 into that of 2023: '2013-2023', the label of a 10-year cagr too)."""
    if ind.span_years is None:
        return None
    return year - ind.span_years


def _chained_cagr(
    merged: pd.DataFrame, span: int, left_out: set[tuple[str, int]] | None = None
) -> pd.Series:
    """Compound the yearly % changes of the ``span`` years ending in each row's year; a year in
    ``left_out`` (region, year) does not count, and the figure is the average over the others
    (every one of them must be published)."""
    wide = merged.pivot_table(
        index="year", columns=["region_code", "period_index"], values="value", dropna=False
    )
    wide = wide.reindex(range(int(wide.index.min()), int(wide.index.max()) + 1))
    skipped = pd.DataFrame(False, index=wide.index, columns=wide.columns)
    for code, year in left_out or ():
        if year in skipped.index:
            skipped.loc[year, [c for c in wide.columns if c[0] == code]] = True
    cagr = arithmetic.compute_chained_cagr_pct(wide, span, skipped).stack(
        ["region_code", "period_index"], future_stack=True
    )
    keys = pd.MultiIndex.from_arrays([merged.year, merged.region_code, merged.period_index])
    return pd.Series(cagr.reindex(keys).to_numpy(), index=merged.index, dtype=float)
