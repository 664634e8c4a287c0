"""Live CBS tables: fetched through :mod:`noordstats.ingest.cbs_http`, cached, made tidy.

:func:`fetch_table` asks CBS for the table's ``Modified`` date first and reuses the local cache
(:mod:`noordstats.storage.cache`) when it matches; otherwise it downloads the table's
properties, the code list of every dimension and the ``TypedDataSet`` rows with their codes, and
brings them into the canonical tidy frame with the same importer code the snapshot uses.
:func:`download_table` reads any table, declared or not, from its own metadata
(DataProperties, code lists, TypedDataSet; no cache).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from noordstats import regions as region_registry
from noordstats.cbs_codes import CodeError
from noordstats.declarations.tables import TableDeclaration, get_declaration
from noordstats.ingest.cbs_http import (
    HttpPolicy,
    LiveConfigError,
    LiveDataError,
    LiveNotSupportedError,
    LiveUnavailableError,
    Progress,
    _Client,
    _http_reason,
    _TransportError,
    _UnusableAnswer,
    resolve_catalog,
)
from noordstats.ingest.importers.common import SourceFormatError, assemble
from noordstats.ingest.importers.odata_v3 import (
    read_properties,
    round_to_decimals,
    tidy_from_properties,
    tidy_from_v3_rows,
)
from noordstats.ingest.snapshot_build import SNAPSHOT_RULE, describe
from noordstats.storage import cache, store

log = logging.getLogger(__name__)


_CBS_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


_CBS_TABLE_ID = re.compile(r"[0-9A-Za-z]+")


_CBS_CODE = re.compile(r"[0-9A-Za-z_]+")


def fetch_table(
    table_id: str,
    catalog_url: str | None = None,
    regions: Sequence[str] | None = None,
    policy: HttpPolicy | None = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fetch a declared CBS table live -> (tidy frame, metadata record).

    Reuses the cached download when CBS's ``Modified`` date has not changed. ``regions``:
    region codes to download (a ``$filter`` on the region dimension). Raises
    :class:`LiveUnavailableError` when CBS cannot deliver the table. A download that cannot
    be cached (disk full, read-only) is returned with ``meta['cache_path'] = None`` and
    ``meta['cache_error']``, the older cache left as it was.
    """
    decl = get_declaration(table_id)
    region_list = _check_regions(decl, regions)
    catalog = resolve_catalog(catalog_url)
    if problem := live_problem(decl):
        raise LiveNotSupportedError(decl.id, catalog.url, problem, _newest_cached_meta(decl.id))
    client = _Client(catalog, policy or HttpPolicy.from_env(), decl.id, progress or _no_progress)
    try:
        modified, info = client.get_modified()
        cached = cache.read_entry(decl.id, modified, region_list)
        if cached is not None:
            log.info("%s: Modified %s unchanged: %s", decl.id, modified, cached[1]["cache_path"])
            return cached
        frame, meta = _download(client, decl, info, region_list)
        modified_after, _ = client.get_modified()
        if modified_after != modified:
            raise _UnusableAnswer(
                f"table changed during download: Modified {modified} -> {modified_after}"
            )
    except _UnusableAnswer as exc:
        raise LiveDataError(decl.id, catalog.url, str(exc), _newest_cached_meta(decl.id)) from None
    except (_TransportError, requests.RequestException) as exc:
        reason = str(exc) if isinstance(exc, _TransportError) else _http_reason(exc)
        raise LiveUnavailableError(
            decl.id, catalog.url, reason, _newest_cached_meta(decl.id)
        ) from None
    try:
        folder = cache.write_entry(decl.id, modified, region_list, frame, meta)
    except OSError as exc:
        log.warning("%s: downloaded but not cached (%s)", decl.id, exc)
        return frame, {**meta, "cache_path": None, "cache_error": str(exc)}
    log.info("%s: CBS Modified %s cached in %s", decl.id, modified, folder)
    return frame, {**meta, "cache_path": str(folder)}


def read_cached(table_id: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The newest complete cached download of the whole table, or None."""
    return cache.read_newest(get_declaration(table_id).id)


def _newest_cached_meta(table_id: str) -> dict | None:
    found = cache.read_newest(table_id)
    return None if found is None else found[1]


def _no_progress(table_id: str, resource: str, rows: int) -> None:
    return None


def _download(
    client: _Client, decl: TableDeclaration, info: dict[str, Any], regions: list[str] | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    url = client.catalog.url
    properties = client.get("DataProperties")
    topics = {p["Key"]: p for p in properties if p.get("Type") == "Topic"}
    if problems := schema_problems(decl, properties):
        raise _UnusableAnswer("schema drift: " + "; ".join(problems) + "; update data/tables.yaml")
    names = {}
    for key, dim in decl.dimensions.items():
        # CBS titles may end in a space ('2011 december ')
        names[key] = {str(c["Key"]).strip(): str(c["Title"]).strip() for c in client.get(key)}
        if gone := sorted(set(dim.codes.values()) - set(names[key])):
            raise _UnusableAnswer(
                f"schema drift: declared {key} code(s) {', '.join(gone[:5])} no longer at CBS; "
                "update data/tables.yaml"
            )
    period_status = {
        str(p["Key"]).strip(): p.get("Status") for p in client.get(decl.period_dimension)
    }
    columns = [*dimension_keys(decl), *decl.measures]
    rows = client.get("TypedDataSet", select=["ID", *columns], filters=region_filter(decl, regions))
    if not rows:
        raise _UnusableAnswer("TypedDataSet has no rows" + _for_regions(regions))
    frame = pd.DataFrame.from_records(rows, columns=["ID", *columns])
    for key in decl.measures:
        frame[key] = round_to_decimals(frame[key], topics[key].get("Decimals"))
    source = f"{url}/ODataFeed/odata/{decl.id}/TypedDataSet"
    try:
        tidy = tidy_from_v3_rows(
            decl, frame, dimension_names=names, period_status=period_status, path=source
        )
        frame = assemble(decl, tidy)
    except (SourceFormatError, CodeError) as exc:
        raise _UnusableAnswer(str(exc).splitlines()[0]) from None
    groups = read_properties(properties).groups
    return frame, describe_live(decl, frame, info, topics, url, regions, groups)


def schema_problems(decl: TableDeclaration, properties: list[dict[str, Any]]) -> list[str]:
    """Differences between CBS's DataProperties and the declaration that make a download
    unusable: a declared measure or dimension CBS no longer has, a dimension CBS added.
    Measures CBS added are not downloaded (logged)."""
    kinds = {"Dimension", "GeoDimension", "TimeDimension", "GeoDetail"}
    cbs_dims = {p["Key"] for p in properties if p.get("Type") in kinds}
    topics = {p["Key"] for p in properties if p.get("Type") == "Topic"}
    declared_dims = set(dimension_keys(decl))
    problems = []
    if gone := sorted(set(decl.measures) - topics):
        problems.append(f"measure(s) {', '.join(gone)} no longer at CBS")
    if text := sorted(set(decl.measures) & set(read_properties(properties).text_measures)):
        problems.append(f"measure(s) {', '.join(text)} are text at CBS (Datatype String)")
    if gone := sorted(declared_dims - cbs_dims):
        problems.append(f"dimension(s) {', '.join(gone)} no longer at CBS")
    if added := sorted(cbs_dims - declared_dims):
        problems.append(f"dimension(s) {', '.join(added)} added at CBS")
    if extra := sorted(topics - set(decl.measures)):
        log.info("%s: CBS measures not declared (not downloaded): %s", decl.id, ", ".join(extra))
    return problems


def live_problem(decl: TableDeclaration) -> str | None:
    """Why a declared table cannot be fetched from CBS's OData service, or None if it can."""
    if decl.publisher != "CBS":
        return f"a {decl.publisher} table, not at CBS"
    if not _CBS_TABLE_ID.fullmatch(decl.id):
        return "not a CBS table id; a copy declared under its own id"
    keys = [*dimension_keys(decl), *decl.measures]
    if bad := [k for k in keys if not _CBS_KEY.fullmatch(k)]:
        return f"declared with labels, not CBS keys: {', '.join(repr(k) for k in bad[:3])}"
    meta = store.read_snapshot_meta(decl.id) or {}
    for key, dim in meta.get("dimensions", {}).items():
        if rebuilt := [c for c in dim["codes"] if _is_label_code(c)]:
            return (
                f"{key} codes in the snapshot were rebuilt from labels (e.g. {rebuilt[0]!r}); "
                "CBS's keys would not match them"
            )
    return None


def _is_label_code(code: str) -> bool:
    """A code made from a label by :func:`noordstats.ingest.importers.common.label_codes`
    (``'L_totaal'``, ``'A-U'``), not a CBS key."""
    return code.startswith("L_") or not _CBS_CODE.fullmatch(code)


def dimension_keys(decl: TableDeclaration) -> list[str]:
    """The CBS keys of the table's dimensions: region (unless national), period, others."""
    region = [] if getattr(decl, "national", False) else [decl.region_dimension]
    return [*region, decl.period_dimension, *decl.dimensions]


def _check_regions(decl: TableDeclaration, regions: Sequence[str] | None) -> list[str] | None:
    """Known region codes, sorted; None for the whole table (also for a national table asked
    for NL01)."""
    codes = sorted({region_registry.check_region(code.strip()) for code in regions or []})
    if codes and getattr(decl, "national", False):
        if set(codes) != {region_registry.NETHERLANDS}:
            raise LiveConfigError(
                f"{decl.id} is a national table: only {region_registry.NETHERLANDS} can be asked"
            )
        return None
    return codes or None


def region_filter(decl: TableDeclaration, regions: list[str] | None) -> str | None:
    """OData ``$filter`` for region codes; ``startswith`` because CBS pads keys ('PV20  ')."""
    if not regions:
        return None
    return " or ".join(f"startswith({decl.region_dimension},'{code}')" for code in regions)


def _for_regions(regions: list[str] | None) -> str:
    return f" for regions {', '.join(regions)}" if regions else ""


def describe_live(
    decl: TableDeclaration,
    frame: pd.DataFrame,
    info: dict[str, Any],
    topics: dict[str, dict[str, Any]],
    url: str,
    regions: list[str] | None,
    groups: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The metadata record of a live download: :func:`~noordstats.ingest.snapshot_build.describe`
    for the frame, with the live source instead of the raw files, and what CBS's DataProperties
    say of each measure: unit, decimals and ``measure_groups`` (the titles of the TopicGroups it
    is nested in, outermost first)."""
    fetched_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    meta = describe(decl.model_copy(update={"sources": []}), frame, Path())
    scope = f"rows of regions {', '.join(regions)} only" if regions else "every row"
    meta.update(
        {
            "source": "live",
            "catalog_url": url,
            "fetched_at": fetched_at,
            "captured": fetched_at[:10],
            "modified": str(info["Modified"]),
            "cbs_title": info.get("Title"),
            "completeness": "partial" if regions else "complete",
            "completeness_note": f"downloaded live from CBS ({url}, TypedDataSet): {scope}",
            "reduction": SNAPSHOT_RULE,
            "regions_filter": regions,
            "sources": [
                {
                    "url": f"{url}/ODataFeed/odata/{decl.id}/TypedDataSet",
                    "filter": region_filter(decl, regions),
                    "modified": str(info["Modified"]),
                    "fetched_at": fetched_at,
                }
            ],
            "cbs_units": {k: topics[k].get("Unit") for k in decl.measures},
            "cbs_decimals": {k: topics[k].get("Decimals") for k in decl.measures},
            "measure_groups": {k: (groups or {}).get(k, []) for k in decl.measures},
        }
    )
    return meta


def download_table(
    table_id: str,
    catalog_url: str | None = None,
    policy: HttpPolicy | None = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Any CBS table, declared or not, read from its own metadata -> (tidy frame, metadata).

    Downloads DataProperties, the code list of every dimension (GeoDetail and the periods
    included) and every TypedDataSet row (no ``$select``: a long one would not fit CBS's URL
    limit), with :func:`fetch_table`'s timeouts and retries, and brings them into the canonical
    layout with :func:`~noordstats.ingest.importers.odata_v3.tidy_from_properties`: every region
    kept, text topics left out (named in ``text_measures``), measure groups, units and decimals
    in the metadata. No TableInfos, no cache: the building block for fetching any table. Raises
    :class:`LiveUnavailableError` / :class:`LiveDataError` as :func:`fetch_table` does.
    """
    catalog = resolve_catalog(catalog_url)
    if not _CBS_TABLE_ID.fullmatch(table_id):
        raise LiveConfigError(f"not a CBS table id: {table_id!r} (e.g. 85924NED)")
    client = _Client(catalog, policy or HttpPolicy.from_env(), table_id, progress or _no_progress)
    source = f"{catalog.url}/ODataFeed/odata/{table_id}/TypedDataSet"
    try:
        properties = client.get("DataProperties")
        keys = read_properties(properties).dimension_keys
        code_lists = {key: client.get(key) for key in keys}
        rows = client.get("TypedDataSet")
        if not rows:
            raise _UnusableAnswer("TypedDataSet has no rows")
        frame, notes = tidy_from_properties(properties, code_lists, rows, path=source)
    except (_UnusableAnswer, SourceFormatError, CodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise LiveDataError(table_id, catalog.url, reason) from None
    except (_TransportError, requests.RequestException) as exc:
        reason = str(exc) if isinstance(exc, _TransportError) else _http_reason(exc)
        raise LiveUnavailableError(table_id, catalog.url, reason) from None
    fetched_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    return frame, {
        "id": table_id,
        "source": "live",
        "catalog_url": catalog.url,
        "fetched_at": fetched_at,
        "sources": [{"url": source, "filter": None, "fetched_at": fetched_at}],
        "row_count": len(frame),
        "value_count": int(frame.value.notna().sum()),
        "requests": client.transport.request_count,
        **notes,
    }
