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
from noordstats.analysis import arithmetic
from noordstats.declarations.files import ConfigError
from noordstats.declarations.indicators import Indicator, Selection, check_indicator
from noordstats.declarations.tables import get_declaration
from noordstats.load import load_table

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
    "value", "status", "note", "nl_value", "table_id",
]  # fmt: skip


@lru_cache(maxsize=64)
def load_cached(table_id: str, source: str = "snapshot") -> pd.DataFrame:
    """:func:`noordstats.load.load_table`, loaded once per (table, source) in this process.

    The frame is shared: callers must not modify it."""
    return load_table(table_id, source=source)


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
    """The summed cells of a selection per (region, period): value, status, note, year, index."""
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
    num = select_values(ind, ind.frequency, ind.additive, source)
    if ind.denominator is not None:
        den = select_values(ind.denominator, ind.frequency, ind.additive, source)
        merged = num.merge(
            den[["region_code", "period_code", "value", "status", "note"]],
            on=["region_code", "period_code"], how="inner", suffixes=("", "_den"),
        )  # fmt: skip
    else:
        merged = num.assign(value_den=np.nan, status_den=None, note_den=[()] * len(num))
    merged["value"] = _apply_transform(ind, merged)
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


def _apply_transform(ind: Indicator, merged: pd.DataFrame) -> pd.Series:
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
    return _apply_span_transform(ind, merged)


def _apply_span_transform(ind: Indicator, merged: pd.DataFrame) -> pd.Series:
    span = int(ind.span_years or 0)
    keyed = merged.set_index(["region_code", "year", "period_index"]).value
    if ind.transform == "chained_cagr":
        return _chained_cagr(merged, span)
    start_keys = list(
        zip(merged.region_code, merged.year.astype(int) - span, merged.period_index, strict=True)
    )
    start = pd.Series(keyed.reindex(start_keys).to_numpy(), index=merged.index)
    if ind.transform == "growth":
        return arithmetic.compute_growth_pct(start, merged["value"])
    return arithmetic.compute_cagr_pct(start, merged["value"], span)


def span_start_period(ind: Indicator, year: int) -> int | None:
    """First year of the period a growth indicator covers when it ends in ``year``."""
    if ind.span_years is None:
        return None
    return year - ind.span_years + (1 if ind.transform == "chained_cagr" else 0)


def _chained_cagr(merged: pd.DataFrame, span: int) -> pd.Series:
    """Compound the yearly % changes of the ``span`` years ending in each row's year."""
    wide = merged.pivot_table(
        index="year", columns=["region_code", "period_index"], values="value", dropna=False
    )
    wide = wide.reindex(range(int(wide.index.min()), int(wide.index.max()) + 1))
    cagr = arithmetic.compute_chained_cagr_pct(wide, span).stack(
        ["region_code", "period_index"], future_stack=True
    )
    keys = pd.MultiIndex.from_arrays([merged.year, merged.region_code, merged.period_index])
    return pd.Series(cagr.reindex(keys).to_numpy(), index=merged.index, dtype=float)
