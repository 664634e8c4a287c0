"""One loading API: :func:`load_table` -> the tidy canonical frame of any shipped table."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from noordstats import regions
from noordstats.declarations.tables import Release, UnknownTableError, get_declaration
from noordstats.ingest.selection import Selection, SelectionError
from noordstats.ingest.selection import apply as apply_selection
from noordstats.storage import SOURCES, store

log = logging.getLogger(__name__)

Source = Literal["auto", "snapshot", "live"]


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
    """Where a loaded table's rows came from, as a report states it (and the run record keeps
    it: every field travels, so a field added here reaches ``run.json`` as it is)."""

    table_id: str
    source: str  # 'live', 'cache' or 'snapshot'
    data_date: str | None  # CBS Modified, else the date the copy was captured
    latest_period: str | None
    stale_reason: str | None  # why live data was asked for and not used; None otherwise
    api: str | None = None  # CBS's service the rows came from: 'v3' or 'v4'; None: snapshot
    publisher: str = "CBS"
    captured: str | None = None  # the date the copy (snapshot) or download (live, cache) was made
    fetched_at: str | None = None  # when a live or cached copy was downloaded from CBS
    asked_at: str | None = None  # when CBS was asked for live data (None: it was not asked)
    stale_kind: str | None = None  # 'unreachable', 'unusable' or 'not_live' with stale_reason
    overdue_after: str | None = None  # a table not CBS's: the last day its copy is current

    def __deepcopy__(self, memo: dict) -> TableOrigin:
        return self  # immutable; pandas deep-copies the attrs of a frame that carries one

    @classmethod
    def of(cls, frame: pd.DataFrame) -> TableOrigin:
        """The origin of a frame returned by :func:`load_table`."""
        meta = frame.attrs.get("meta", {})
        table_id = frame.attrs.get("table_id", meta.get("id", ""))
        release = _release(table_id)
        date = meta.get("modified") or meta.get("captured") or (release and release.as_of)
        periods = meta.get("periods") or [None]
        return cls(
            table_id=table_id,
            source=frame.attrs.get("source", "snapshot"),
            data_date=str(date) if date else None,
            latest_period=periods[-1],
            stale_reason=frame.attrs.get("stale_reason"),
            api=meta.get("api") if meta.get("source") == "live" else None,
            publisher=meta.get("publisher") or "CBS",
            captured=str(meta["captured"]) if meta.get("captured") else None,
            fetched_at=meta.get("fetched_at"),
            asked_at=frame.attrs.get("asked_at"),
            stale_kind=frame.attrs.get("stale_kind"),
            overdue_after=release.overdue_after.isoformat() if release else None,
        )


def _release(table_id: str) -> Release | None:
    """The declared release rule of a table that is not CBS's (None for CBS's and undeclared)."""
    try:
        return get_declaration(table_id).release
    except UnknownTableError:
        return None


def load_table(
    table_id: str,
    regions: Iterable[str] | str | None = None,
    periods: Iterable[str | int] | str | int | None = None,
    source: Source = "snapshot",
    catalog_url: str | None = None,
    filters: Mapping[str, Iterable[str] | str] | None = None,
    api: str | None = None,
) -> pd.DataFrame:
    """Load a CBS table as a tidy long frame.

    ``table_id``: a table of ``data/tables.yaml``, or (``source='live'``/``'auto'``) any table
    of CBS's catalog (``noordstats.search_tables`` finds one). ``regions``: region codes
    (``'LD01'``, ``['PV20', 'NL01']``); ``periods``: period codes (``'2023JJ00'``) or years
    (``2023``); ``filters``: {dimension key or column stem: codes}, e.g.
    ``{"BedrijfstakkenBranchesSBI2008": ["T001081"]}``. ``source``: ``'snapshot'`` (embedded,
    offline), ``'live'`` (CBS's OData v4 or v3, see ``api``; cached; the filters are sent to
    CBS, so only those rows travel), or ``'auto'`` (live, falling back to the newest cache, then the
    snapshot, with a :class:`StaleDataWarning` naming the data's date). ``api``: CBS's service
    for live data, ``'v3'`` (opendata.cbs.nl), ``'v4'`` (datasets.cbs.nl) or ``'auto'`` (the
    default, or ``NOORDSTATS_API``: v4, then v3 where v4 lacks the table or fails);
    ``df.attrs['meta']['api']`` says which one answered.

    The table's metadata (title, licence, sources, completeness, ...) is in ``df.attrs['meta']``;
    ``df.attrs['source']`` says where the rows came from.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; valid: {', '.join(SOURCES)}")
    try:
        table_id = get_declaration(table_id).id
        declared = True
    except UnknownTableError as exc:
        if source == "snapshot":
            raise UnknownTableError(
                f"{exc}; any other CBS table loads with source='live' or 'auto' (find one with "
                "noordstats.search_tables)"
            ) from None
        declared = False
    selection = Selection.of(regions, periods, filters)
    if declared:
        for code in selection.regions:
            _check_region(code)
    stale_reason = stale_kind = asked_at = None
    if source == "snapshot":
        frame, meta, origin = _read_snapshot(table_id)
    else:
        asked_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        frame, meta, origin, stale = _read_live_or_fallback(
            table_id, source, catalog_url, selection, declared, api
        )
        stale_reason, stale_kind = stale
    if origin == "snapshot":  # live and cached rows come as selected
        frame = _select(frame, meta, selection, table_id)
    frame = frame.reset_index(drop=True)
    frame.attrs = {"meta": meta, "source": origin, "table_id": table_id}
    if asked_at:
        frame.attrs["asked_at"] = asked_at
    if stale_reason:
        frame.attrs["stale_reason"] = stale_reason
        frame.attrs["stale_kind"] = stale_kind
    return frame


def _select(frame: pd.DataFrame, meta: dict, selection: Selection, table_id: str) -> pd.DataFrame:
    """The rows of ``selection`` (already so for a live download; a snapshot or a cached whole
    table is filtered here). A dimension or code the table lacks is bad input."""
    columns = {}
    for key, dim in (meta.get("dimensions") or {}).items():
        columns.update({key: dim["column"], dim["column"]: dim["column"]})
    for key, codes in selection.filters:
        stem = columns.get(key)
        if stem is None:
            raise SelectionError(
                f"{table_id} has no dimension {key!r} to filter on; dimensions: "
                f"{', '.join(sorted(columns)) or '(none)'}"
            )
        present = set(frame[f"{stem}_code"].astype(str))
        if unknown := sorted(set(codes) - present):
            raise SelectionError(
                f"{table_id}: {', '.join(repr(c) for c in unknown)} not in {key!r}; valid: "
                f"{', '.join(sorted(present))}"
            )
    selected = apply_selection(frame, selection, columns)
    return (frame if selected is None else selected).reset_index(drop=True)


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
    table_id: str,
    source: Source,
    catalog_url: str | None,
    selection: Selection,
    declared: bool,
    api: str | None = None,
) -> tuple[pd.DataFrame, dict, str, tuple[str | None, str | None]]:
    """Live data; if CBS cannot deliver it, the newest cache, then (``auto``, a declared table)
    the snapshot, with a :class:`StaleDataWarning` naming the data's date. The last item is why
    live data was not used, in words and as a kind (``unreachable``, ...); Nones when it was."""
    # deferred: requests and cbsodata are imported only when CBS is asked
    from noordstats.ingest import cbs_http, live

    try:
        frame, meta = live.fetch_table(
            table_id,
            catalog_url=catalog_url,
            regions=selection.regions,
            periods=selection.periods,
            filters=dict(selection.filters),
            api=api,
        )
        return frame, meta, "live", (None, None)
    except cbs_http.LiveUnavailableError as exc:
        problem = str(getattr(exc, "problem_text", exc))
        kind = getattr(exc, "kind", "unreachable")
        cached = live.read_cached(table_id, selection)
        if cached is not None:
            frame, meta = cached
            _warn_stale(StaleDataWarning(table_id, problem, "cache", _data_date(meta)))
            return frame, meta, "cache", (problem, kind)
        if source == "live" or not declared:
            raise
        frame, meta, _ = _read_snapshot(table_id)
        _warn_stale(StaleDataWarning(table_id, problem, "snapshot", _data_date(meta)))
        return frame, meta, "snapshot", (problem, kind)


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
