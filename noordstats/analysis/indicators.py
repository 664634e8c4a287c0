"""Indicators for any region: the figures the report notebooks and the claims show.

All functions read the cached indicator frames of :mod:`noordstats.analysis.frames`, so a notebook
that calls several of them loads each table once. Region codes: ``NL01``, ``LD01``..``LD04``,
``PV20``..``PV31``, ``CR01``..``CR40`` (where a table has them)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from noordstats import regions as reg
from noordstats.analysis import arithmetic, frames
from noordstats.declarations.files import ConfigError
from noordstats.declarations.indicators import Indicator, check_indicator, load_indicators
from noordstats.declarations.tables import get_declaration
from noordstats.declarations.themes import check_theme, load_themes

#: a figure older than this is dated: the headline says so, with the indicator's dated_reason
DATED_BEFORE = 2015

#: the figures of :func:`headline_figures` and :func:`region_profile`, values only (their words:
#: :func:`noordstats.report.wording.headline_texts`); ``caveats`` holds a tuple of :class:`Caveat`
HEADLINE_COLUMNS = [
    "indicator_id", "region_code", "value", "nl_value", "rank", "n_peers", "period_code", "year",
    "status", "table_id", "caveats", "is_dated", "is_fallback", "fallback_region_code",
    "fallback_region_name", "province_code", "province_value", "landsdeel_code",
    "landsdeel_value", "break_years", "outlier_years", "confirmed_break_years", "left_out_years",
]  # fmt: skip
SECTOR_COLUMNS = [
    "region_code", "region_name", "sector_code", "sector_name", "jobs_thousands",
    "share_of_region_pct", "share_of_nl_jobs_pct", "location_quotient", "period_code", "year",
    "status", "is_broad_proxy",
]  # fmt: skip
#: the rows of :func:`indicator_series`; the unit is the indicator's (its words:
#: :func:`noordstats.report.wording.with_unit`)
SERIES_COLUMNS = [
    "indicator_id", "region_code", "region_name", "period_code", "year", "value", "status",
    "value_index", "table_id", "confirmed_break_years",
]  # fmt: skip


@dataclass(frozen=True)
class Caveat:
    """Something to keep in mind about a figure, as data: ``kind`` names it (its words are the
    catalogue's ``caveat.<kind>``, or the indicator's declared text for ``comparability``) and
    ``params`` fill them in. :func:`noordstats.report.wording.caveat_text` makes the words."""

    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, kind: str, **params: Any) -> Caveat:
        return cls(kind, tuple(params.items()))


class _FrameIndex:
    """One indicator frame cut by region and by period, so that the claims matrix (some 1,500
    figures for 16 regions) does not filter the whole frame for every figure. Built once per
    frame; a frame read again (another source, a cleared cache) gets a new index."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._region_rows = frame.groupby("region_code", sort=False).indices
        with_value = frame[frame.value.notna()]
        #: the latest year in which any region has a figure
        self.latest_year = int(with_value.year.max()) if not with_value.empty else None
        self._with_value = with_value
        self._period_rows = with_value.groupby("period_code", sort=False).indices
        self._values: dict[str, pd.Series] = {}
        self._ranks: dict[tuple[str, tuple[str, ...]], pd.Series] = {}

    def rows_of(self, region: str) -> pd.DataFrame:
        """The region's rows, oldest first."""
        return self.frame.take(self._region_rows.get(region, []))

    def values_in(self, period_code: str) -> pd.Series:
        """Every region's figure in ``period_code`` (regions without one left out)."""
        if period_code not in self._values:
            rows = self._with_value.take(self._period_rows.get(period_code, []))
            self._values[period_code] = rows.set_index("region_code").value
        return self._values[period_code]

    def ranks(self, period_code: str, peers: list[str], better: str) -> pd.Series:
        """Rank of each of ``peers`` with a figure in ``period_code``; a figure that spans a
        confirmed series break is not ranked."""
        key = (period_code, tuple(peers))
        if key not in self._ranks:
            rows = self._with_value.take(self._period_rows.get(period_code, []))
            rows = rows[rows.region_code.isin(peers) & (rows.confirmed_break_years.map(len) == 0)]
            self._ranks[key] = arithmetic.rank_values(rows.set_index("region_code").value, better)
        return self._ranks[key]


_NO_VALUES = pd.Series(dtype=float)
_INDEXES: dict[tuple[str, str], _FrameIndex] = {}


def _frame_index(indicator_id: str, source: str) -> _FrameIndex:
    """The index of the indicator's (cached) frame, rebuilt when the frame is a new one."""
    frame = frames.indicator_frame(indicator_id, source)
    found = _INDEXES.get((indicator_id, source))
    if found is None or found.frame is not frame:
        found = _INDEXES[(indicator_id, source)] = _FrameIndex(frame)
    return found


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator for one region in one period, with its comparison to the Netherlands:
    values only (the indicator carries the unit and decimals); the words are
    :mod:`noordstats.report.wording`'s."""

    indicator: Indicator
    region_code: str
    region_name: str
    value: float
    nl_value: float
    period_code: str | None
    year: int | None
    status: str
    rank: float
    n_peers: int
    caveats: list[Caveat] = field(default_factory=list)
    #: the containing region whose figure is shown because ``region_code`` has none
    fallback_region_code: str | None = None
    #: the figures of the regions ``region_code`` lies in (province, landsdeel), same period
    context_values: dict[str, float] = field(default_factory=dict)
    #: years in the figure's span where CBS moved the region's boundary
    break_years: tuple[int, ...] = ()
    #: years in the span with an outlying change but no boundary change (kept, marked)
    outlier_years: tuple[int, ...] = ()
    #: years that are both: the figure spans a confirmed break and is not ranked
    confirmed_break_years: tuple[int, ...] = ()
    #: confirmed break years whose change is left out of the figure
    left_out_years: tuple[int, ...] = ()

    @property
    def is_fallback(self) -> bool:
        return self.fallback_region_code is not None

    @property
    def is_dated(self) -> bool:
        return any(c.kind == "dated" for c in self.caveats)


def compute_indicator(
    indicator_id: str,
    region: str = reg.NORTH,
    year: int | None = None,
    source: str = "snapshot",
    fallback: bool = False,
) -> IndicatorResult:
    """The indicator for ``region`` in ``year`` (default: the latest period with a figure),
    with its caveats as :class:`Caveat`. With ``fallback``, a region without a
    figure gets the latest figure of the nearest region it lies in (province, then landsdeel:
    ``fallback_region_code``), never ranked among ``region``'s peers; the Netherlands' figure is
    given whenever the table has one."""
    ind = check_indicator(indicator_id)
    reg.check_region(region, reg.ALL_LEVELS)
    index = _frame_index(indicator_id, source)
    caveats = _table_caveats(ind)
    own = index.rows_of(region)
    latest_overall = index.latest_year
    if year is not None:
        own = own[own.year == year]
    with_value = own[own.value.notna()]
    if with_value.empty and fallback and year is None:
        for parent in reg.containing_regions(region):
            if index.rows_of(parent).value.notna().any():
                found = compute_indicator(indicator_id, parent, source=source)
                return replace(
                    found,
                    region_code=region,
                    region_name=reg.region_name(region),
                    rank=math.nan,
                    n_peers=0,
                    fallback_region_code=parent,
                    context_values=_context_values(index, region, found.period_code, parent),
                )
    if with_value.empty:
        tables = ", ".join(ind.tables)
        if year is not None:
            caveats.append(Caveat.of("no_figure_year", region=region, year=year, tables=tables))
        else:
            caveats.append(Caveat.of("no_figure_any", region=region, tables=tables))
        row = own.iloc[-1] if not own.empty else _latest_nl_row(index)
        result = _result(ind, region, row, math.nan, 0, caveats)
        return replace(result, value=math.nan)
    row = with_value.iloc[-1]
    if year is None and int(row.year) < DATED_BEFORE:
        caveats.insert(0, Caveat.of("dated", year=int(row.year)))
    if year is None and latest_overall is not None and int(row.year) < latest_overall:
        caveats.append(
            Caveat.of("not_latest", region=region, latest=latest_overall, year=int(row.year))
        )
    if row.status in frames.PROVISIONAL:
        caveats.append(Caveat.of("provisional", status=row.status))
    if row.note:
        caveats.extend(_note_caveat(note) for note in row.note)
    elif row.status == "berekend":
        caveats.append(Caveat.of("berekend"))
    rank, n_peers = _rank(ind, index, region, row.period_code)
    return replace(
        _result(ind, region, row, rank, n_peers, caveats),
        context_values=_context_values(index, region, str(row.period_code)),
        break_years=tuple(row.break_years),
        outlier_years=tuple(row.outlier_years),
        confirmed_break_years=tuple(row.confirmed_break_years),
        left_out_years=tuple(row.left_out_years),
    )


def _latest_nl_row(index: _FrameIndex) -> pd.Series | None:
    """The Netherlands' latest row with a figure (its ``nl_value`` is the national figure)."""
    rows = index.rows_of(reg.NETHERLANDS)
    rows = rows[rows.value.notna()]
    return rows.iloc[-1] if not rows.empty else None


def _context_values(
    index: _FrameIndex, region: str, period_code: str | None, skip: str | None = None
) -> dict[str, float]:
    """{containing region: its figure in ``period_code``} (province, landsdeel), leaving out
    ``skip`` (the region whose figure is shown) and regions without a figure."""
    if period_code is None:
        return {}
    rows = index.values_in(period_code)
    return {
        code: float(rows[code])
        for code in reg.containing_regions(region)
        if code != skip and code in rows.index
    }


def _note_caveat(note: frames.FrameNote) -> Caveat:
    """The caveat of a note the indicator frames carry (summed provinces, an older table)."""
    if note.kind == "older_table":
        return Caveat.of("older_table", table=note.table, used=note.used)
    return Caveat.of(note.kind)


def _result(ind, region, row, rank, n_peers, caveats) -> IndicatorResult:
    return IndicatorResult(
        indicator=ind,
        region_code=region,
        region_name=reg.region_name(region),
        value=float(row.value) if row is not None else math.nan,
        nl_value=float(row.nl_value) if row is not None else math.nan,
        period_code=str(row.period_code) if row is not None else None,
        year=int(row.year) if row is not None else None,
        status=str(row.status) if row is not None else "onbekend",
        rank=rank,
        n_peers=n_peers,
        caveats=list(dict.fromkeys(caveats)),
    )


def _rank(ind: Indicator, index: _FrameIndex, region: str, period_code: str) -> tuple[float, int]:
    if region == reg.NETHERLANDS:
        return math.nan, 0
    ranks = index.ranks(period_code, reg.peers_of(region), ind.better)
    if region not in ranks.index:
        return math.nan, 0
    return float(ranks[region]), int(len(ranks))


def _table_caveats(ind: Indicator) -> list[Caveat]:
    notes = []
    for table_id in ind.tables:
        decl = get_declaration(table_id)
        if decl.completeness == "partial":
            notes.append(Caveat.of("partial_copy", table=table_id, note=decl.completeness_note))
    if ind.comparability:
        notes.append(Caveat.of("comparability"))
    return notes


def headline_figures(theme: str, region: str = reg.NORTH, source: str = "snapshot") -> pd.DataFrame:
    """The theme's indicators for ``region`` vs NL: one row per indicator (:data:`HEADLINE_COLUMNS`;
    their words: :func:`noordstats.report.wording.headline_texts`)."""
    spec = load_themes()[check_theme(theme)]
    rows = [
        result_row(compute_indicator(ind_id, region, source=source, fallback=True))
        for ind_id in spec.indicators
    ]
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


def result_row(result: IndicatorResult) -> dict:
    """One row of :data:`HEADLINE_COLUMNS`: the result's values."""
    ind = result.indicator
    parents = (
        [] if result.region_code == reg.NETHERLANDS else reg.containing_regions(result.region_code)
    )
    province = next((c for c in parents if c.startswith("PV")), None)
    landsdeel = next((c for c in parents if c.startswith("LD")), None)
    return {
        "indicator_id": ind.id,
        "region_code": result.region_code,
        "value": result.value,
        "nl_value": result.nl_value,
        "rank": result.rank,
        "n_peers": result.n_peers,
        "period_code": result.period_code,
        "year": result.year,
        "status": result.status,
        "table_id": ", ".join(ind.tables),
        "caveats": tuple(result.caveats),
        "is_dated": result.is_dated,
        "is_fallback": result.is_fallback,
        "fallback_region_code": result.fallback_region_code,
        "fallback_region_name": (
            reg.region_name(result.fallback_region_code) if result.is_fallback else None
        ),
        "province_code": province,
        "province_value": _figure_of(result, province),
        "landsdeel_code": landsdeel,
        "landsdeel_value": _figure_of(result, landsdeel),
        "break_years": result.break_years,
        "outlier_years": result.outlier_years,
        "confirmed_break_years": result.confirmed_break_years,
        "left_out_years": result.left_out_years,
    }


def _figure_of(result: IndicatorResult, code: str | None) -> float:
    """The figure of containing region ``code`` beside ``result`` (its own when it is the
    fallback), NaN where there is none."""
    if code is None:
        return math.nan
    if code == result.fallback_region_code:
        return result.value
    return result.context_values.get(code, math.nan)


def region_profile(region: str, source: str = "snapshot") -> pd.DataFrame:
    """Key indicators (``region_profile`` in indicators.yaml) for ``region`` vs NL, as
    :func:`headline_figures`."""
    reg.check_region(region, reg.ALL_LEVELS)
    ids = load_indicators().region_profile
    rows = [result_row(compute_indicator(i, region, source=source, fallback=True)) for i in ids]
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


def sector_profile(
    theme: str,
    region: str = reg.NORTH,
    compare: list[str] | None = None,
    year: int | None = None,
    source: str = "snapshot",
) -> pd.DataFrame:
    """Jobs in the theme's SBI sections (the sector table of ``data/themes.yaml``) for
    ``region`` and ``compare``: jobs, share of the region's jobs, share of NL's jobs in the
    sector, location quotient."""
    spec = load_themes()[check_theme(theme)]
    codes = list(dict.fromkeys([*spec.sbi, *spec.sbi_broad]))
    wanted = list(dict.fromkeys([region, *(compare or [])]))
    for code in wanted:
        reg.check_region(code, reg.ALL_LEVELS)
    if not codes:
        return pd.DataFrame(columns=SECTOR_COLUMNS)
    jobs = _sector_jobs(source)
    if year is None:
        year = int(jobs.year.max())
    elif year not in set(jobs.year):
        years = sorted(set(jobs.year))
        table = load_themes().sectors.table
        raise ConfigError(f"no {table} figures for {year}; years: {years[0]}..{years[-1]}")
    jobs = jobs[jobs.year == year]
    totals = jobs[jobs.sector_code == load_themes().sectors.total].set_index("region_code").value
    nl_sector = jobs[jobs.region_code == reg.NETHERLANDS].set_index("sector_code").value
    rows = []
    for code in wanted:
        own = jobs[(jobs.region_code == code) & jobs.sector_code.isin(codes)]
        for r in own.itertuples():
            rows.append(
                {
                    "region_code": code,
                    "region_name": reg.region_name(code),
                    "sector_code": r.sector_code,
                    "sector_name": r.sector_name,
                    "jobs_thousands": r.value,
                    "share_of_region_pct": arithmetic.compute_share_pct(
                        r.value, totals.get(code, math.nan)
                    ),
                    "share_of_nl_jobs_pct": arithmetic.compute_share_pct(
                        r.value, nl_sector.get(r.sector_code, math.nan)
                    ),
                    "location_quotient": arithmetic.compute_location_quotient(
                        r.value,
                        totals.get(code, math.nan),
                        nl_sector.get(r.sector_code, math.nan),
                        totals.get(reg.NETHERLANDS, math.nan),
                    ),  # fmt: skip
                    "period_code": r.period_code,
                    "year": int(r.year),
                    "status": r.status,
                    "is_broad_proxy": r.sector_code in spec.sbi_broad,
                }
            )
    frame = pd.DataFrame(rows, columns=SECTOR_COLUMNS)
    order = {c: i for i, c in enumerate(codes)}
    frame["_order"] = frame.sector_code.map(order)
    frame["_region"] = frame.region_code.map({c: i for i, c in enumerate(wanted)})
    return (
        frame.sort_values(["_region", "_order"])
        .drop(columns=["_order", "_region"])
        .reset_index(drop=True)
    )


def _sector_jobs(source: str) -> pd.DataFrame:
    """The sector table's jobs (``data/themes.yaml``: sectors), with ``sector_code`` and
    ``sector_name`` columns whatever the table calls its sector dimension."""
    sectors = load_themes().sectors
    frame = frames.load_cached(sectors.table, source)
    jobs = frame[frame.measure_code == sectors.measure].rename(
        columns={
            f"{sectors.dimension}_code": "sector_code",
            f"{sectors.dimension}_name": "sector_name",
        }
    )
    return jobs[
        ["region_code", "sector_code", "sector_name", "period_code", "year", "status", "value"]
    ].astype(
        {
            "region_code": str,
            "sector_code": str,
            "sector_name": str,
            "period_code": str,
            "status": str,
        }
    )


def indicator_series(
    indicator_id: str,
    regions: list[str] | None = None,
    start_year: int | None = None,
    end_year: int | None = None,
    source: str = "snapshot",
) -> pd.DataFrame:
    """Long frame of the indicator over time for ``regions`` (trend charts). For levels,
    ``value_index`` is 100 at the first year shown."""
    return _series(indicator_id, regions or [reg.NORTH], start_year, end_year, source)


def _series(indicator_id, region_codes, start_year, end_year, source) -> pd.DataFrame:
    ind = check_indicator(indicator_id)
    for code in region_codes:
        reg.check_region(code, reg.ALL_LEVELS)
    frame = frames.indicator_frame(indicator_id, source)
    rows = frame[frame.region_code.isin(region_codes)]
    if start_year is not None:
        rows = rows[rows.year >= start_year]
    if end_year is not None:
        rows = rows[rows.year <= end_year]
    rows = rows[rows.value.notna()].copy()
    rows["indicator_id"] = ind.id
    rows["region_name"] = rows.region_code.map(reg.region_name)
    if ind.transform == "level":
        first = rows.groupby("region_code").value.transform("first")
        rows["value_index"] = arithmetic.compute_share_pct(rows.value, first)
    else:
        rows["value_index"] = math.nan
    order = {c: i for i, c in enumerate(region_codes)}
    rows = rows.sort_values(["year", "period_index"]).sort_values(
        "region_code", key=lambda s: s.map(order), kind="stable"
    )
    return rows[SERIES_COLUMNS].reset_index(drop=True)


def indicators_with_figures(
    indicator_ids: list[str], region: str, source: str = "snapshot"
) -> list[str]:
    """Those of ``indicator_ids`` for which ``region`` itself has a figure in some period."""
    found = []
    for indicator_id in dict.fromkeys(indicator_ids):
        frame = frames.indicator_frame(indicator_id, source)
        if frame.loc[frame.region_code == region, "value"].notna().any():
            found.append(indicator_id)
    return found


def indicator_levels(indicator_id: str, source: str = "snapshot") -> list[str]:
    """Region levels (LD, PV, CR, GM) at which the indicator has figures, for :func:`map_values`."""
    check_indicator(indicator_id)
    frame = frames.indicator_frame(indicator_id, source)
    levels = set(frame.loc[frame.value.notna(), "region_level"]) - {"NL"}
    return [level for level in reg.SUBNATIONAL_LEVELS if level in levels]


def map_values(
    indicator_id: str,
    level: str = "PV",
    year: int | None = None,
    source: str = "snapshot",
) -> pd.DataFrame:
    """The indicator for every region of ``level`` in one period (choropleth maps)."""
    check_indicator(indicator_id)
    frame = frames.indicator_frame(indicator_id, source)
    with_value = frame[frame.value.notna()]
    levels = indicator_levels(indicator_id, source)
    if level not in levels:
        raise ConfigError(
            f"indicator {indicator_id} has no figures at level {level!r}; "
            f"levels with figures: {', '.join(levels)}"
        )
    rows = with_value[with_value.region_level == level]
    if year is None:
        year = int(rows.year.max())
    rows = rows[rows.year == year].copy()
    if rows.empty:
        years = sorted(set(with_value[with_value.region_level == level].year))
        raise ConfigError(
            f"indicator {indicator_id} has no {level} figures for {year}; years: {years}"
        )
    rows["region_name"] = rows.region_code.map(reg.region_name)
    return rows[
        ["region_code", "region_name", "value", "period_code", "year", "status"]
    ].reset_index(drop=True)
