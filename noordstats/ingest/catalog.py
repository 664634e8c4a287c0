"""Find and inspect CBS tables: :func:`search_tables` reads CBS's catalog
(``/ODataCatalog/Tables``, every page), :func:`table_info` one table's own metadata."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd
import requests

from noordstats.cbs_codes import CodeError, region_level
from noordstats.ingest.cbs_http import (
    CatalogUnavailableError,
    HttpPolicy,
    LiveUnavailableError,
    UnknownCBSTableError,
    _Client,
    _http_reason,
    _TransportError,
    _UnusableAnswer,
    get_catalog,
    http_status,
    resolve_catalog,
    resolve_v4,
)
from noordstats.ingest.cbs_v4 import get_catalog_v4
from noordstats.ingest.importers.odata_v3 import column_stem, read_properties
from noordstats.ingest.live import api_order, check_table_id, find_declaration, make_client
from noordstats.ingest.live_read import plan_keys
from noordstats.ingest.structure import compare, live_prints, recorded_structure

DATASETS = "CBS/Datasets"
log = logging.getLogger(__name__)
SEARCH_COLUMNS = [
    "table_id", "title", "period", "frequency", "modified", "summary", "api", "status",
    "observations",
]  # fmt: skip
INFO_COLUMNS = ["kind", "key", "column", "title", "categories", "levels", "unit", "group"]


def _text(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


def search_tables(
    words: Iterable[str] | str,
    regional: bool = False,
    catalog_url: str | None = None,
    policy: HttpPolicy | None = None,
    api: str | None = None,
    v4_url: str | None = None,
) -> pd.DataFrame:
    """Tables of CBS's catalog whose id, title or summary hold every one of ``words`` (case
    aside): table_id, title, period (the years covered, as CBS states them), frequency, modified
    (CBS Modified), summary, api (the service(s) listing it: ``v4``, ``v3`` or ``v3 v4``),
    status (CBS's: ``Regulier``, ``Gediscontinueerd``, ...) and observations (cells, as v4's
    catalog states them; v3's does not), newest first. ``regional``: only tables with a region
    dimension (each match's metadata is asked). ``api``: the v3 catalog
    (``/ODataCatalog/Tables``), the v4 one (``/CBS/Datasets``) or ``auto``: both (v4's is a
    partial subset of StatLine), either if the other fails. ``attrs``: ``requests`` made,
    ``catalog_url`` and ``api`` of the catalog(s) read."""
    wanted = [w.lower() for w in ([words] if isinstance(words, str) else list(words)) if w]
    policy = policy or HttpPolicy.from_env()
    order = api_order(api)
    read: dict[str, list[dict]] = {}
    urls: list[str] = []
    requests_made = 0
    for which in order:
        try:
            entries, made, url = _read_catalog(which, catalog_url, v4_url, policy)
        except CatalogUnavailableError as exc:
            if which == order[-1] and not read:
                raise
            log.warning("%s; searching the other catalog only", exc)
            continue
        read[which], requests_made = entries, requests_made + made
        urls.append(url)
    rows: dict[str, dict] = {}
    for which, entries in read.items():
        for entry in entries:
            haystack = " ".join(
                _text(entry.get(f)).lower()
                for f in ("Identifier", "Title", "ShortTitle", "Summary", "ShortDescription")
            )
            if not all(word in haystack for word in wanted):
                continue
            key = _text(entry["Identifier"]).lower()
            if key in rows:
                rows[key]["api"] = " ".join(sorted({*rows[key]["api"].split(), which}))
                continue
            rows[key] = {
                "table_id": _text(entry["Identifier"]),
                "title": _text(entry["Title"]),
                "period": _text(entry.get("Period")),
                "frequency": _text(entry.get("Frequency")),
                "modified": _text(entry.get("Modified"))[:10],
                "summary": _text(entry.get("Summary"))[:200],
                "api": which,
                "status": _text(entry.get("Status") or entry.get("OutputStatus")),
                "observations": entry.get("ObservationCount"),
            }
    frame = pd.DataFrame(list(rows.values()), columns=SEARCH_COLUMNS)
    frame["observations"] = frame.observations.astype("Int64")
    if regional and not frame.empty:
        keep = []
        for table_id, listed in zip(frame.table_id, frame.api, strict=True):
            which = "v4" if "v4" in listed.split() else "v3"
            client = make_client(which, table_id, catalog_url, v4_url, policy)
            try:
                properties = client.get("DataProperties")
            except (_TransportError, _UnusableAnswer, requests.RequestException):
                properties = []  # a table without readable metadata is not shown as regional
            requests_made += client.transport.request_count
            keep.append(read_properties(properties).region is not None)
        frame = frame[keep]
    frame = frame.sort_values(["modified", "table_id"], ascending=[False, True], ignore_index=True)
    frame.attrs = {"catalog_url": ", ".join(urls), "requests": requests_made,
                   "api": " and ".join(read)}  # fmt: skip
    return frame


def _read_catalog(
    which: str, catalog_url: str | None, v4_url: str | None, policy: HttpPolicy
) -> tuple[list[dict], int, str]:
    """One service's catalog -> (entries, requests made, its URL); CatalogUnavailableError."""
    if which == "v3":
        catalog = resolve_catalog(catalog_url)
        entries, made = get_catalog(catalog, policy)
        return entries, made, catalog.url
    service = resolve_v4(v4_url)
    try:
        entries, made = get_catalog_v4(service, policy)
    except _UnusableAnswer as exc:
        raise CatalogUnavailableError(service.url, f"unusable answer: {exc}", DATASETS) from None
    except _TransportError as exc:
        raise CatalogUnavailableError(service.url, str(exc), DATASETS) from None
    except requests.RequestException as exc:
        raise CatalogUnavailableError(service.url, _http_reason(exc), DATASETS) from None
    return entries, made, service.url


def table_info(
    table_id: str,
    catalog_url: str | None = None,
    policy: HttpPolicy | None = None,
    api: str | None = None,
    v4_url: str | None = None,
) -> pd.DataFrame:
    """One table as CBS describes it: a row per dimension (kind ``region``, ``period`` or
    ``dimension``: key, column stem in the tidy frame, title, number of categories, region
    levels present) and per measure (kind ``measure``: key, title, unit, TopicGroups it is
    nested in; ``text measure`` for String topics). ``attrs['table']``: id, title, summary,
    modified, periods (first, last, count), declared (in ``data/tables.yaml``), api (the
    service that answered: ``auto`` asks v4, then v3), structure_changes (a declared table: how
    CBS's table differs from its reviewed structure, empty when it does not; None otherwise)."""
    table_id = check_table_id(table_id)
    decl = find_declaration(table_id)
    cbs_id = decl.live_id if decl is not None else table_id
    order = api_order(api)
    policy = policy or HttpPolicy.from_env()
    for which in order:
        try:
            return _table_info(make_client(which, cbs_id, catalog_url, v4_url, policy), table_id)
        except (LiveUnavailableError, UnknownCBSTableError):
            if which == order[-1]:
                raise
    raise AssertionError("unreachable")


def _table_info(client: _Client, table_id: str) -> pd.DataFrame:
    decl = find_declaration(table_id)
    cbs_id, catalog = client.table_id, client.catalog
    try:
        try:
            modified, info = client.get_modified()
        except requests.RequestException as exc:
            if http_status(exc) == 404:
                raise UnknownCBSTableError(cbs_id, catalog.url) from None
            raise
        properties = client.get("DataProperties")
        read = read_properties(properties)
        code_lists = {key: client.get(key) for key in read.dimension_keys}
    except _UnusableAnswer as exc:
        raise LiveUnavailableError(cbs_id, catalog.url, str(exc)) from None
    except (_TransportError, requests.RequestException) as exc:
        reason = str(exc) if isinstance(exc, _TransportError) else _http_reason(exc)
        raise LiveUnavailableError(cbs_id, catalog.url, reason) from None
    rows = []
    titles = {p.get("Key"): _text(p.get("Title")) for p in properties}
    for key in read.dimension_keys:
        keys = [str(c["Key"]).strip() for c in code_lists[key]]
        kind = "region" if key == read.region else "period" if key == read.period else "dimension"
        levels = ""
        if kind == "region":
            found = {_level(k) for k in keys} - {None}
            order = ["NL", "LD", "PV", "CR", "GM", "WK", "BU"]
            levels = " ".join(
                f"{lv}:{sum(_level(k) == lv for k in keys)}"
                for lv in sorted(found, key=lambda x: order.index(x) if x in order else 99)
            )
        column = {"region": "region", "period": "period"}.get(kind, column_stem(key))
        rows.append([kind, key, column, titles.get(key, ""), len(keys), levels, "", ""])
    for key, measure in read.measures.items():
        group = " > ".join(read.groups.get(key, []))
        rows.append(["measure", key, "", measure["title"], None, "", measure["unit"] or "", group])
    for key, title in read.text_measures.items():
        rows.append(["text measure", key, "", title, None, "", "", ""])
    frame = pd.DataFrame(rows, columns=INFO_COLUMNS)
    frame["categories"] = frame.categories.astype("Int64")
    changes = structure_changes(decl, properties, client.api) if decl is not None else None
    periods = sorted(str(c["Key"]).strip() for c in code_lists.get(read.period, []))
    frame.attrs = {
        "table": {
            "table_id": table_id,
            "cbs_table": cbs_id,
            "title": _text(info.get("Title")),
            "summary": _text(info.get("Summary")),
            "modified": modified,
            "frequency": _text(info.get("Frequency")),
            "periods": [periods[0], periods[-1], len(periods)] if periods else None,
            "declared": decl is not None,
            "catalog_url": catalog.url,
            "api": client.api,
            "structure_changes": changes,
        },
        "requests": client.transport.request_count,
    }
    return frame


def structure_changes(decl, properties: list[dict[str, Any]], api: str) -> list[str]:
    """How CBS's table differs from its declaration and reviewed structure
    (``data/table_structure.yaml``); empty when it does not."""
    dims, measures, problems = plan_keys(decl, properties, api)
    recorded = recorded_structure(decl.id)
    if recorded is None:
        return [*problems, f"no reviewed structure: `noordstats snapshot fingerprint {decl.id}`"]
    return [*problems, *compare(recorded, live_prints(decl, properties, dims, measures))]


def _level(code: str) -> str | None:
    try:
        return region_level(code)
    except CodeError:
        return None
