"""Live CBS tables: fetched through :mod:`noordstats.ingest.cbs_http`, cached, made tidy.

:func:`fetch_table` fetches any table of the catalog. It asks CBS for the table's ``Modified``
date first and reuses the local cache (:mod:`noordstats.storage.cache`) when it matches;
otherwise it downloads the table (:mod:`noordstats.ingest.live_read`): a table declared in
``data/tables.yaml`` in the codes of its snapshot, any other table from its own metadata. The
regions, periods and dimension categories asked for travel to CBS as one ``$filter``; the cache
entry is keyed by ``Modified`` and that filter. :func:`download_table` reads any table without
the cache.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import requests

from noordstats import regions as region_registry
from noordstats.cbs_codes import CodeError
from noordstats.declarations.tables import (
    TableDeclaration,
    UnknownTableError,
    declarations,
    get_declaration,
)
from noordstats.ingest import selection as rows
from noordstats.ingest.cbs_http import (
    HttpPolicy,
    LiveConfigError,
    LiveDataError,
    LiveNotSupportedError,
    LiveUnavailableError,
    Progress,
    UnknownCBSTableError,
    _Client,
    _http_reason,
    _TransportError,
    _UnusableAnswer,
    http_status,
    resolve_catalog,
    resolve_v4,
)
from noordstats.ingest.cbs_v4 import APIS, V4Client
from noordstats.ingest.importers.common import SourceFormatError
from noordstats.ingest.importers.odata_v3 import column_stem
from noordstats.ingest.live_read import plan_keys, read_any, read_declared
from noordstats.ingest.selection import Selection
from noordstats.ingest.structure import live_prints, make_structure
from noordstats.storage import cache

log = logging.getLogger(__name__)


_CBS_TABLE_ID = re.compile(r"[0-9A-Za-z]+")


def find_declaration(table_id: str) -> TableDeclaration | None:
    """The declaration of a table, or None for a table only CBS's catalog knows."""
    try:
        return get_declaration(table_id)
    except UnknownTableError:
        return None


def check_table_id(table_id: str) -> str:
    """A declared id or something that can be a CBS table id; else bad input."""
    decl = find_declaration(table_id)
    if decl is not None:
        return decl.id
    if not _CBS_TABLE_ID.fullmatch(table_id):
        raise LiveConfigError(
            f"not a CBS table id: {table_id!r} (e.g. 85924NED); find one with "
            "`noordstats search WORDS`"
        )
    return table_id


def resolve_api(api: str | None = None) -> str:
    """``v3``, ``v4`` or ``auto``: ``api``, else ``NOORDSTATS_API``, else ``auto``."""
    text = (api or os.environ.get("NOORDSTATS_API") or "auto").strip().lower()
    if text not in APIS:
        raise LiveConfigError(f"unknown CBS API {text!r}; valid: {', '.join(APIS)}")
    return text


def api_order(api: str | None = None) -> list[str]:
    """The services to ask, in order: ``auto`` is v4 (where CBS's new service has the table),
    then v3."""
    chosen = resolve_api(api)
    return ["v4", "v3"] if chosen == "auto" else [chosen]


def make_client(
    api: str,
    cbs_id: str,
    catalog_url: str | None = None,
    v4_url: str | None = None,
    policy: HttpPolicy | None = None,
    progress: Progress | None = None,
) -> _Client | V4Client:
    """A client of one service (``v3``: ``catalog_url``; ``v4``: ``v4_url``) for one table."""
    policy = policy or HttpPolicy.from_env()
    if api == "v4":
        return V4Client(resolve_v4(v4_url), policy, cbs_id, progress or _no_progress)
    return _Client(resolve_catalog(catalog_url), policy, cbs_id, progress or _no_progress)


def fetch_table(
    table_id: str,
    catalog_url: str | None = None,
    regions: Iterable[str] | None = None,
    periods: Iterable[str | int] | None = None,
    filters: Mapping[str, Iterable[str] | str] | None = None,
    policy: HttpPolicy | None = None,
    progress: Progress | None = None,
    api: str | None = None,
    v4_url: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fetch a CBS table live -> (tidy frame, metadata record).

    Any table of the catalog: a declared one comes in its snapshot's codes, another from its own
    metadata. ``regions`` (region codes), ``periods`` (period codes or years) and ``filters``
    ({dimension key or column stem: codes}) are sent to CBS as one ``$filter``. Reuses the
    cached download when CBS's ``Modified`` date has not changed. Raises
    :class:`LiveUnavailableError` when CBS cannot deliver the table, :class:`UnknownCBSTableError`
    for an id the catalog does not have, :class:`~noordstats.ingest.selection.SelectionError`
    for a region, period, dimension or code the table lacks. A download that cannot be cached
    (disk full, read-only) is returned with ``meta['cache_path'] = None`` and
    ``meta['cache_error']``, the older cache left as it was.

    ``api``: ``'v3'`` (opendata.cbs.nl, ``catalog_url``), ``'v4'`` (datasets.cbs.nl,
    ``v4_url``) or ``'auto'`` (default, or ``NOORDSTATS_API``): v4, and v3 where v4 does not
    have the table or fails. ``meta['api']`` says which service answered.
    """
    table_id = check_table_id(table_id)
    decl = find_declaration(table_id)
    selection = Selection.of(regions, periods, filters)
    if decl is not None:
        selection = _check_declared_regions(decl, selection)
    order = api_order(api)
    policy = policy or HttpPolicy.from_env()
    failures: list[tuple[str, LiveUnavailableError]] = []
    for which in order:
        client = make_client(which, table_id, catalog_url, v4_url, policy, progress)
        if decl is not None and (problem := live_problem(decl)):
            raise LiveNotSupportedError(
                table_id, client.catalog.url, problem, _newest_cached_meta(table_id)
            )
        if decl is not None:
            client.table_id = decl.live_id
        try:
            return _fetch_from(client, table_id, decl, selection)
        except LiveNotSupportedError:
            raise
        except LiveUnavailableError as exc:  # UnknownCBSTableError is a LiveConfigError
            failures.append((which, exc))
            log.warning("%s: CBS OData %s failed (%s)", table_id, which, exc.reason)
        except UnknownCBSTableError as exc:
            if which == order[-1] and not failures:
                raise
            failures.append((which, LiveUnavailableError(table_id, exc.url, "not in its catalog")))
    if all("not in its catalog" == f.reason for _, f in failures):
        raise UnknownCBSTableError(table_id, failures[-1][1].url)
    if len(failures) == 1:
        raise failures[0][1]
    last = failures[-1][1]
    reason = "; ".join(f"OData {which}: {exc.reason}" for which, exc in failures)
    raise type(last)(table_id, last.url, reason, _newest_cached_meta(table_id))


def _fetch_from(
    client: _Client | V4Client,
    table_id: str,
    decl: TableDeclaration | None,
    selection: Selection,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`fetch_table` from one service."""
    catalog = client.catalog
    try:
        try:
            modified, info = client.get_modified()
        except requests.RequestException as exc:
            if decl is None and http_status(exc) == 404 and cache.read_newest(table_id) is None:
                raise UnknownCBSTableError(table_id, catalog.url) from None
            raise
        cached = read_cached_entry(table_id, modified, selection, decl)
        if cached is not None:
            log.info("%s: Modified %s unchanged: %s", table_id, modified, cached[1]["cache_path"])
            return cached
        if decl is not None:
            frame, meta = read_declared(client, decl, info, selection)
        else:
            frame, meta = read_any(client, table_id, info, selection)
        modified_after, _ = client.get_modified()
        if modified_after != modified:
            raise _UnusableAnswer(
                f"table changed during download: Modified {modified} -> {modified_after}"
            )
    except (_UnusableAnswer, SourceFormatError, CodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise LiveDataError(table_id, catalog.url, reason, _newest_cached_meta(table_id)) from None
    except (_TransportError, requests.RequestException) as exc:
        reason = str(exc) if isinstance(exc, _TransportError) else _http_reason(exc)
        raise LiveUnavailableError(
            table_id, catalog.url, reason, _newest_cached_meta(table_id)
        ) from None
    meta["requests"] = client.transport.request_count
    try:
        folder = cache.write_entry(table_id, modified, selection.cache_key, frame, meta)
    except OSError as exc:
        log.warning("%s: downloaded but not cached (%s)", table_id, exc)
        return frame, {**meta, "cache_path": None, "cache_error": str(exc)}
    log.info("%s: CBS Modified %s cached in %s", table_id, modified, folder)
    return frame, {**meta, "cache_path": str(folder)}


def read_cached_entry(
    table_id: str, modified: str, selection: Selection, decl: TableDeclaration | None = None
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The cached rows of ``selection`` at CBS ``modified``: an entry for exactly these rows,
    or the whole-table entry filtered to them. None if not cached."""
    found = cache.read_entry(table_id, modified, selection.cache_key)
    if found is not None or not selection:
        return found
    whole = cache.read_entry(table_id, modified)
    if whole is None:
        return None
    frame = rows.apply(whole[0], selection, _filter_columns(whole[1], decl))
    return None if frame is None else (frame, whole[1])


def _filter_columns(meta: dict[str, Any], decl: TableDeclaration | None) -> dict[str, str]:
    """{dimension key or column stem: column stem} of a downloaded table."""
    columns: dict[str, str] = {}
    for key, dim in (meta.get("dimensions") or {}).items():
        stem = dim.get("column") or column_stem(key)
        columns.update({key: stem, stem: stem})
    for key, cbs in ((meta.get("cbs_keys") or {}).get("dimensions") or {}).items():
        if key in columns:
            columns[cbs] = columns[key]
    return columns


def read_cached(
    table_id: str, selection: Selection | None = None
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The newest complete cached download of the whole table (or one that holds every row
    of ``selection``, filtered to them), or None."""
    table_id = check_table_id(table_id)
    selection = selection or Selection()
    decl = find_declaration(table_id)

    def holds(meta: dict[str, Any]) -> bool:
        return rows.from_record(meta.get("selection")).covers(selection)

    found = cache.read_newest(table_id, holds if selection else None)
    if found is None or not selection:
        return found
    frame = rows.apply(found[0], selection, _filter_columns(found[1], decl))
    return None if frame is None else (frame, found[1])


def _newest_cached_meta(table_id: str) -> dict | None:
    found = cache.read_newest(table_id)
    return None if found is None else found[1]


def _no_progress(table_id: str, resource: str, count: int) -> None:
    return None


def live_problem(decl: TableDeclaration) -> str | None:
    """Why a declared table cannot be fetched from CBS's OData service, or None if it can."""
    if decl.publisher != "CBS":
        return f"a {decl.publisher} table, not at CBS"
    if not _CBS_TABLE_ID.fullmatch(decl.live_id):
        return "not a CBS table id; a copy declared under its own id without `cbs_table`"
    return None


def cbs_modified(
    table_ids: Iterable[str],
    catalog_url: str | None = None,
    policy: HttpPolicy | None = None,
    api: str | None = None,
    v4_url: str | None = None,
) -> dict[str, str | None]:
    """CBS's ``Modified`` date of each table (one TableInfos or v4 Properties request each;
    ``auto``: v4, then v3); ``'not live'`` for a table that is never fetched live (DUO's), None
    where CBS did not give it (unreachable, an error)."""
    order = api_order(api)
    policy = policy or HttpPolicy.from_env()
    dates: dict[str, str | None] = {}
    for table_id in dict.fromkeys(table_ids):
        decl = find_declaration(table_id)
        if decl is not None and live_problem(decl):
            dates[table_id] = "not live"
            continue
        cbs_id = decl.live_id if decl is not None else table_id
        dates[table_id] = None
        for which in order:
            client = make_client(which, cbs_id, catalog_url, v4_url, policy)
            try:
                dates[table_id] = client.get_modified()[0]
                break
            except (_UnusableAnswer, _TransportError, requests.RequestException) as exc:
                log.info("%s: no CBS Modified date over %s (%s)", table_id, which, exc)
    return dates


def _check_declared_regions(decl: TableDeclaration, selection: Selection) -> Selection:
    """Known region codes; a national table asked for NL01 only is asked for every row."""
    for code in selection.regions:
        region_registry.check_region(code)
    if selection.regions and decl.national:
        if set(selection.regions) != {region_registry.NETHERLANDS}:
            raise LiveConfigError(
                f"{decl.id} is a national table: only {region_registry.NETHERLANDS} can be asked"
            )
        return Selection(periods=selection.periods, filters=selection.filters)
    return selection


def download_table(
    table_id: str,
    catalog_url: str | None = None,
    policy: HttpPolicy | None = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Any CBS table, declared or not, read from its own metadata -> (tidy frame, metadata).

    Downloads DataProperties, the code list of every dimension (GeoDetail and the periods
    included) and every TypedDataSet row, with :func:`fetch_table`'s timeouts and retries, and
    brings them into the canonical layout with
    :func:`~noordstats.ingest.importers.odata_v3.tidy_from_properties`: every region kept, text
    topics left out (named in ``text_measures``), measure groups, units and decimals in the
    metadata. No TableInfos, no cache. Raises :class:`LiveUnavailableError` /
    :class:`LiveDataError` as :func:`fetch_table` does.
    """
    catalog = resolve_catalog(catalog_url)
    if not _CBS_TABLE_ID.fullmatch(table_id):
        raise LiveConfigError(f"not a CBS table id: {table_id!r} (e.g. 85924NED)")
    client = _Client(catalog, policy or HttpPolicy.from_env(), table_id, progress or _no_progress)
    try:
        return read_any(client, table_id, None, Selection())
    except (_UnusableAnswer, SourceFormatError, CodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise LiveDataError(table_id, catalog.url, reason) from None
    except (_TransportError, requests.RequestException) as exc:
        reason = str(exc) if isinstance(exc, _TransportError) else _http_reason(exc)
        raise LiveUnavailableError(table_id, catalog.url, reason) from None


def structure_from_cbs(
    table_id: str,
    api: str | None = None,
    catalog_url: str | None = None,
    v4_url: str | None = None,
    policy: HttpPolicy | None = None,
):
    """A declared table's structure as CBS serves it now (``auto``: v4, then v3), to record
    after review (``noordstats snapshot fingerprint --from-cbs``). Raises
    :class:`LiveDataError` when CBS's table no longer fits the declaration (a measure or
    dimension gone or added: update data/tables.yaml first), :class:`LiveUnavailableError`
    when CBS cannot be asked."""
    decl = declarations()[table_id]
    order = api_order(api)
    for which in order:
        client = make_client(which, decl.live_id, catalog_url, v4_url, policy)
        try:
            properties = client.get("DataProperties")
        except (_TransportError, requests.RequestException) as exc:
            reason = str(exc) if isinstance(exc, _TransportError) else _http_reason(exc)
            if which == order[-1]:
                raise LiveUnavailableError(table_id, client.catalog.url, reason) from None
            continue
        except _UnusableAnswer as exc:
            raise LiveDataError(table_id, client.catalog.url, str(exc)) from None
        dims, measures, problems = plan_keys(decl, properties, client.api)
        if problems:
            raise LiveDataError(
                table_id, client.catalog.url, "schema drift: " + "; ".join(problems)
            )
        prints = live_prints(decl, properties, dims, measures)
        return make_structure(table_id, f"cbs-{client.api}", prints)
    raise AssertionError("unreachable")
