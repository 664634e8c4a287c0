"""One loading API: :func:`load_table` -> the tidy canonical frame of any shipped table."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from noordstats import regions
from noordstats.declarations.tables import get_declaration
from noordstats.storage import store

log = logging.getLogger(__name__)

Source = Literal["auto", "snapshot", "live"]
SOURCES = ("auto", "snapshot", "live")


class StaleDataWarning(UserWarning):
    """Live data could not be fetched; older data (cache or snapshot) is used instead. Its
    fields say which table, why, which copy was used and the data's date."""

    def __init__(self, table_id: str, problem: str, fallback: str, data_date: str) -> None:
        self.table_id = table_id
        self.problem = problem
        self.fallback = fallback  # 'cache' or 'snapshot'
        self.data_date = data_date
        copy = "the cached copy" if fallback == "cache" else "the embedded snapshot"
        super().__init__(f"{problem}; using {copy} of {table_id} ({data_date})")

    def __reduce__(self) -> tuple:
        return type(self), (self.table_id, self.problem, self.fallback, self.data_date)


@dataclass(frozen=True)
class TableOrigin:
    """Where a loaded table's rows came from, as a report states it."""

    table_id: str
    source: str  # 'live', 'cache' or 'snapshot'
    data_date: str | None  # CBS Modified, else the date the copy was captured
    latest_period: str | None
    stale_reason: str | None  # why live data was asked for and not used; None otherwise

    @classmethod
    def of(cls, frame: pd.DataFrame) -> TableOrigin:
        """The origin of a frame returned by :func:`load_table`."""
        meta = frame.attrs.get("meta", {})
        date = meta.get("modified") or meta.get("captured")
        periods = meta.get("periods") or [None]
        return cls(
            table_id=frame.attrs.get("table_id", meta.get("id", "")),
            source=frame.attrs.get("source", "snapshot"),
            data_date=str(date) if date else None,
            latest_period=periods[-1],
            stale_reason=frame.attrs.get("stale_reason"),
        )


def load_table(
    table_id: str,
    regions: Iterable[str] | str | None = None,
    periods: Iterable[str | int] | str | int | None = None,
    source: Source = "snapshot",
    catalog_url: str | None = None,
) -> pd.DataFrame:
    """Load a CBS table as a tidy long frame.

    ``regions``: region codes (``'LD01'``, ``['PV20', 'NL01']``); ``periods``: period codes
    (``'2023JJ00'``) or years (``2023``). ``source``: ``'snapshot'`` (embedded, offline),
    ``'live'`` (CBS through cbsodata, cached), or ``'auto'`` (live, falling back to the newest
    cache, then the snapshot, with a :class:`StaleDataWarning` naming the data's date).

    The table's metadata (title, licence, sources, completeness, ...) is in ``df.attrs['meta']``;
    ``df.attrs['source']`` says where the rows came from.
    """
    decl = get_declaration(table_id)
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; valid: {', '.join(SOURCES)}")
    region_list = _as_list(regions)
    for code in region_list:
        _check_region(code)
    stale_reason = None
    if source == "snapshot":
        frame, meta, origin = _read_snapshot(decl.id)
    else:
        frame, meta, origin, stale_reason = _read_live_or_fallback(decl.id, source, catalog_url)
    if region_list:
        frame = frame[frame.region_code.isin(region_list)]
    period_list = _as_list(periods)
    if period_list:
        codes = {p for p in period_list if isinstance(p, str) and not p.isdigit()}
        years = {int(p) for p in period_list if isinstance(p, int) or str(p).isdigit()}
        frame = frame[frame.period_code.isin(codes) | frame.year.isin(years)]
    frame = frame.reset_index(drop=True)
    frame.attrs = {"meta": meta, "source": origin, "table_id": decl.id}
    if stale_reason:
        frame.attrs["stale_reason"] = stale_reason
    return frame


def _as_list(value: Iterable | str | int | None) -> list:
    if value is None:
        return []
    if isinstance(value, str | int):
        return [value]
    return list(value)


def _check_region(code: str) -> None:
    regions.check_region(code)  # the module: load_table's ``regions`` argument shadows it there


def _read_snapshot(table_id: str) -> tuple[pd.DataFrame, dict, str]:
    folder = store.snapshot_folder(table_id)
    meta = store.read_meta(folder, table_id)
    if meta is None:
        raise FileNotFoundError(
            f"table {table_id} is declared but not in the snapshot; run `noordstats snapshot build`"
        )
    return store.read_table(folder, table_id), meta, "snapshot"


def _read_live_or_fallback(
    table_id: str, source: Source, catalog_url: str | None
) -> tuple[pd.DataFrame, dict, str, str | None]:
    """Live data; if CBS cannot deliver it, the newest cache, then (``auto`` only) the
    snapshot, with a :class:`StaleDataWarning` naming the data's date. The last item is why
    live data was not used (None when it was)."""
    # deferred: requests and cbsodata are imported only when CBS is asked
    from noordstats.ingest import cbs_http, live

    try:
        frame, meta = live.fetch_table(table_id, catalog_url=catalog_url)
        return frame, meta, "live", None
    except cbs_http.LiveUnavailableError as exc:
        problem = str(getattr(exc, "problem_text", exc))
        cached = live.read_cached(table_id)
        if cached is not None:
            frame, meta = cached
            _warn_stale(StaleDataWarning(table_id, problem, "cache", _data_date(meta)))
            return frame, meta, "cache", problem
        if source == "live":
            raise
        frame, meta, _ = _read_snapshot(table_id)
        _warn_stale(StaleDataWarning(table_id, problem, "snapshot", _data_date(meta)))
        return frame, meta, "snapshot", problem


def _data_date(meta: dict) -> str:
    """'data as of CBS Modified 2025-03-20, fetched 2025-04-01' / '... captured 2025-04-22'."""
    if meta.get("source") == "live":
        return f"data as of CBS Modified {meta['modified'][:10]}, fetched {meta['fetched_at'][:10]}"
    captured = meta.get("captured") or "on an unstated date"
    if meta.get("modified"):
        return f"data as of CBS Modified {str(meta['modified'])[:10]}, captured {captured}"
    return f"data as captured {captured}"


def _warn_stale(warning: StaleDataWarning) -> None:
    log.warning(str(warning))
    warnings.warn(warning, stacklevel=4)
