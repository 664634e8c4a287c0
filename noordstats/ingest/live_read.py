"""Read one live CBS table through a :class:`~noordstats.ingest.cbs_http._Client`: a declared
table in its snapshot's codes (:func:`read_declared`), any table from its own metadata
(:func:`read_any`). Both push the caller's :class:`~noordstats.ingest.selection.Selection` down
to CBS as one ``$filter``. Caching and error mapping are :mod:`noordstats.ingest.live`'s.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from noordstats import regions as region_registry
from noordstats.cbs_codes import CodeError
from noordstats.declarations.tables import TableDeclaration
from noordstats.ingest.cbs_http import _Client, _UnusableAnswer
from noordstats.ingest.importers.common import SourceFormatError, assemble
from noordstats.ingest.importers.odata_v3 import (
    column_stem,
    read_properties,
    round_to_decimals,
    tidy_from_properties,
    tidy_from_v3_rows,
)
from noordstats.ingest.reconcile import CodeMap, match_keys, match_measures, reconcile_codes
from noordstats.ingest.selection import (
    Selection,
    SelectionError,
    check_periods,
    odata_filter,
    resolve_filters,
)
from noordstats.ingest.snapshot_build import SNAPSHOT_RULE, describe
from noordstats.ingest.structure import compare, live_prints, recorded_structure
from noordstats.storage import store

log = logging.getLogger(__name__)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------- declared tables


def plan_keys(
    decl: TableDeclaration, properties: list[dict[str, Any]], api: str = "v3"
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """({declared dimension key: CBS key}, {declared measure: CBS topic key}, problems).

    Region and period are CBS's GeoDimension and TimeDimension. Other dimensions and measures
    keep their key; a table whose keys were made from titles (no CBS keys in its source) is
    matched by title too (:func:`~noordstats.ingest.reconcile.match_keys`). Problems: a declared
    measure or dimension CBS no longer has (or types as text), a dimension CBS added. Over
    OData v4 (``api='v4'``) measures have identifiers of their own (``M000352``): they are
    matched by title and unit (:func:`~noordstats.ingest.reconcile.match_measures`; the
    reviewed structure's title and unit where it records them, else the declaration's), and a
    declared measure that does not match is named with the reason."""
    read = read_properties(properties)
    problems: list[str] = []
    dims: dict[str, str] = {}
    if not decl.national:
        if read.region is None:
            problems.append(f"dimension(s) {decl.region_dimension} no longer at CBS")
        else:
            dims[decl.region_dimension] = read.region
    elif read.region is not None:
        problems.append(f"dimension(s) {read.region} added at CBS")
    if read.period is None:
        problems.append(f"dimension(s) {decl.period_dimension} no longer at CBS")
    else:
        dims[decl.period_dimension] = read.period
    declared = {k: d.title for k, d in decl.dimensions.items()}
    topics = {**{k: m["title"] for k, m in read.measures.items()}, **read.text_measures}
    wanted = {k: m.title for k, m in decl.measures.items()}
    measure_problems: list[str] = []
    if api == "v4":
        if decl.keys_from_labels:
            matched, gone, added = match_keys(declared, read.dimensions)
        else:
            matched = {k: k for k in declared if k in read.dimensions}
            gone = [k for k in declared if k not in read.dimensions]
            added = [k for k in read.dimensions if k not in declared]
        cbs_measures = {
            **{k: (m["title"], m["unit"]) for k, m in read.measures.items()},
            **{k: (t, None) for k, t in read.text_measures.items()},
        }
        reviewed = recorded_structure(decl.id)
        known = reviewed.measures if reviewed is not None else {}
        measures, measure_problems, _ = match_measures(
            {
                k: (
                    getattr(known.get(k), "title", None) or m.title,
                    getattr(known.get(k), "unit", None) or m.unit,
                )
                for k, m in decl.measures.items()
            },
            cbs_measures,
        )
        gone_measures = []
    elif decl.keys_from_labels:
        matched, gone, added = match_keys(declared, read.dimensions)
        measures, gone_measures, _ = match_keys(wanted, topics)
    else:
        matched = {k: k for k in declared if k in read.dimensions}
        gone = [k for k in declared if k not in read.dimensions]
        added = [k for k in read.dimensions if k not in declared]
        measures = {k: k for k in wanted if k in topics}
        gone_measures = [k for k in wanted if k not in topics]
    dims.update(matched)
    if gone_measures:
        problems.insert(0, f"measure(s) {', '.join(sorted(gone_measures))} no longer at CBS")
    if measure_problems:
        problems.insert(0, "measure(s) not reconciled by title and unit: "
                        + ", ".join(measure_problems))  # fmt: skip
    if text := sorted(k for k, c in measures.items() if c in read.text_measures):
        problems.insert(1, f"measure(s) {', '.join(text)} are text at CBS (Datatype String)")
    if gone:
        problems.append(f"dimension(s) {', '.join(sorted(gone))} no longer at CBS")
    if added:
        problems.append(f"dimension(s) {', '.join(sorted(added))} added at CBS")
    if extra := sorted(set(read.measures) - set(measures.values())):
        log.info("%s: CBS measures not declared (not downloaded): %s", decl.id, ", ".join(extra))
    return dims, measures, problems


def read_declared(
    client: _Client, decl: TableDeclaration, info: dict[str, Any], selection: Selection
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A declared table, in the codes of its snapshot (:mod:`noordstats.ingest.reconcile`)."""
    properties = client.get("DataProperties")
    dims, measures, problems = plan_keys(decl, properties, client.api)
    if problems:
        raise _UnusableAnswer("schema drift: " + "; ".join(problems) + "; update data/tables.yaml")
    check_structure(decl, properties, dims, measures)
    topics = {p["Key"]: p for p in properties if p.get("Type") == "Topic"}
    snapshot = (store.read_snapshot_meta(decl.id) or {}).get("dimensions", {})
    code_lists: dict[str, list[dict[str, Any]]] = {}
    maps: dict[str, CodeMap] = {}
    for key, dim in decl.dimensions.items():
        code_lists[dims[key]] = client.get(dims[key])
        keys = {str(c["Key"]).strip() for c in code_lists[dims[key]]}
        if gone := sorted(set(dim.codes.values()) - keys):
            raise _UnusableAnswer(
                f"schema drift: declared {key} code(s) {', '.join(gone[:5])} no longer at CBS; "
                "update data/tables.yaml"
            )
        maps[key] = reconcile_codes(
            key,
            code_lists[dims[key]],
            snapshot.get(key, {}).get("codes", {}),
            dim.codes,
            decl.codes_from_labels,
        )
    period_list = client.get(dims[decl.period_dimension])
    check_periods(decl.id, selection, (p["Key"] for p in period_list))
    period_status = {str(p["Key"]).strip(): p.get("Status") for p in period_list}
    filterable = {
        dims[key]: {
            "names": {key, dims[key], dim.column},
            "codes": {**maps[key].codes, **{code: cbs for cbs, code in maps[key].codes.items()}},
        }
        for key, dim in decl.dimensions.items()
    }
    resolved = resolve_filters(decl.id, selection, filterable, code_lists)
    region_key = dims.get(decl.region_dimension)
    text_filter = odata_filter(region_key, dims[decl.period_dimension], selection, resolved)
    cbs_columns = [*(dims[k] for k in _dimension_order(decl)), *measures.values()]
    rows = client.get("TypedDataSet", select=["ID", *cbs_columns], filters=text_filter)
    if not rows:
        raise _UnusableAnswer("TypedDataSet has no rows" + _for(selection))
    frame = pd.DataFrame.from_records(rows, columns=["ID", *cbs_columns])
    frame = frame.rename(columns={cbs: key for key, cbs in {**dims, **measures}.items()})
    for key in decl.dimensions:
        frame[key] = frame[key].astype(str).str.strip().map(maps[key].codes)
    for key, cbs in measures.items():
        frame[key] = round_to_decimals(frame[key], topics[cbs].get("Decimals"))
    source = client.data_url()
    names = {key: maps[key].names for key in decl.dimensions}
    try:
        tidy = tidy_from_v3_rows(
            decl, frame, dimension_names=names, period_status=period_status, path=source
        )
        frame = assemble(decl, tidy)
    except (SourceFormatError, CodeError) as exc:
        raise _UnusableAnswer(str(exc).splitlines()[0]) from None
    groups = read_properties(properties).groups
    meta = describe_live(decl, frame, info, client, selection, text_filter)
    meta.update(
        {
            "cbs_table": decl.live_id,
            "cbs_keys": {
                "dimensions": {k: v for k, v in dims.items() if k != v},
                "measures": {k: v for k, v in measures.items() if k != v},
            },
            "cbs_units": {k: topics[c].get("Unit") for k, c in measures.items()},
            "cbs_decimals": {k: topics[c].get("Decimals") for k, c in measures.items()},
            "measure_groups": {k: groups.get(c, []) for k, c in measures.items()},
            "reconciliation": {key: m.report() for key, m in maps.items()},
            "not_reconciled": [p for m in maps.values() for p in m.problems()],
            "requests": client.transport.request_count,
            **_cell_notes(client),
        }
    )
    return frame, meta


def check_structure(
    decl: TableDeclaration,
    properties: list[dict[str, Any]],
    dims: dict[str, str],
    measures: dict[str, str],
) -> None:
    """CBS's structure must be the reviewed one (``data/table_structure.yaml``): a measure
    retitled or in another unit, a dimension retitled, is not mapped onto the snapshot."""
    recorded = recorded_structure(decl.id)
    if recorded is None:
        return
    changes = compare(recorded, live_prints(decl, properties, dims, measures))
    if changes:
        raise _UnusableAnswer(
            f"CBS changed the table: {'; '.join(changes)}; review data/tables.yaml, then "
            f"`noordstats snapshot fingerprint {decl.id} --from-cbs`"
        )


def _cell_notes(client: _Client) -> dict[str, Any]:
    """What an OData v4 answer said of its cells beyond the number: {'Measure: attribute':
    cells} for cells that are missing with a reason (``Impossible``, ``Confidential``, ...) and
    the ``StringValue`` texts (empty over v3, which has neither)."""
    notes = getattr(client, "cell_notes", None) or {}
    return {
        "value_attributes": dict(notes.get("value_attributes") or {}),
        "string_values": list(notes.get("string_values") or []),
    }


def _dimension_order(decl: TableDeclaration) -> list[str]:
    region = [] if decl.national else [decl.region_dimension]
    return [*region, decl.period_dimension, *decl.dimensions]


def _for(selection: Selection) -> str:
    return f" for {selection.describe()}" if selection else ""


def describe_live(
    decl: TableDeclaration,
    frame: pd.DataFrame,
    info: dict[str, Any],
    client: _Client,
    selection: Selection,
    text_filter: str | None,
) -> dict[str, Any]:
    """The metadata record of a live download of a declared table:
    :func:`~noordstats.ingest.snapshot_build.describe` for the frame, with the live source
    instead of the raw files."""
    fetched_at = _now()
    url, data_url = client.catalog.url, client.data_url()
    resource = data_url.rsplit("/", 1)[-1]
    meta = describe(decl.model_copy(update={"sources": []}), frame, Path())
    scope = f"rows of {selection.describe()} only" if selection else "every row"
    meta.update(
        {
            "source": "live",
            "api": client.api,
            "catalog_url": url,
            "fetched_at": fetched_at,
            "captured": fetched_at[:10],
            "modified": str(info["Modified"]),
            "cbs_title": info.get("Title"),
            "completeness": "partial" if selection else "complete",
            "completeness_note": f"downloaded live from CBS ({url}, {resource}): {scope}",
            "reduction": SNAPSHOT_RULE,
            "regions_filter": list(selection.regions) or None,
            "selection": selection.as_record(),
            "sources": [
                {
                    "url": data_url,
                    "filter": text_filter,
                    "modified": str(info["Modified"]),
                    "fetched_at": fetched_at,
                }
            ],
        }
    )
    return meta


# ---------------------------------------------------------------- any table


def read_any(
    client: _Client, table_id: str, info: dict[str, Any] | None, selection: Selection
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Any CBS table, read from its own metadata: DataProperties, every code list, the
    TypedDataSet rows the selection asks for (no ``$select``: a long one would not fit CBS's
    URL limit), made tidy by
    :func:`~noordstats.ingest.importers.odata_v3.tidy_from_properties`."""
    properties = client.get("DataProperties")
    read = read_properties(properties)
    code_lists = {key: client.get(key) for key in read.dimension_keys}
    regions = _check_any_regions(table_id, read.region, code_lists, selection)
    if selection.periods:
        if read.period is None:
            raise SelectionError(f"{table_id} has no period dimension; leave out periods")
        check_periods(table_id, selection, (p["Key"] for p in code_lists[read.period]))
    filterable = {
        key: {
            "names": {key, column_stem(key)},
            "codes": {str(c["Key"]).strip(): str(c["Key"]).strip() for c in code_lists[key]},
        }
        for key in read.dimensions
    }
    resolved = resolve_filters(table_id, selection, filterable, code_lists)
    pushed = Selection(regions=regions, periods=selection.periods, filters=selection.filters)
    text_filter = odata_filter(read.region, read.period, pushed, resolved)
    rows = (
        client.get("TypedDataSet", filters=text_filter)
        if text_filter
        else client.get("TypedDataSet")
    )
    if not rows:
        raise _UnusableAnswer("TypedDataSet has no rows" + _for(selection))
    source = client.data_url()
    frame, notes = tidy_from_properties(properties, code_lists, rows, path=source)
    fetched_at = _now()
    periods = sorted(frame.period_code.dropna().astype(str).unique())
    meta: dict[str, Any] = {
        "id": table_id,
        "source": "live",
        "api": client.api,
        "catalog_url": client.catalog.url,
        "fetched_at": fetched_at,
        "sources": [{"url": source, "filter": text_filter, "fetched_at": fetched_at}],
        "row_count": len(frame),
        "value_count": int(frame.value.notna().sum()),
        "requests": client.transport.request_count,
        **notes,
        **_cell_notes(client),
    }
    if info is not None:
        meta.update(
            {
                "title": str(info.get("Title") or "").strip(),
                "cbs_title": info.get("Title"),
                "licence": "CC BY 4.0 — Bron: CBS",
                "modified": str(info["Modified"]),
                "captured": fetched_at[:10],
                "periods": periods,
                "completeness": "partial" if selection else "complete",
                "completeness_note": f"downloaded live from CBS ({client.catalog.url}, "
                f"{source.rsplit('/', 1)[-1]}): "
                f"{selection.describe() if selection else 'every row'}",
                "selection": selection.as_record(),
                "regions_filter": list(selection.regions) or None,
                "declared": False,
            }
        )
        meta["sources"][0]["modified"] = str(info["Modified"])
    return frame, meta


def _check_any_regions(
    table_id: str,
    region_key: str | None,
    code_lists: dict[str, list[dict[str, Any]]],
    selection: Selection,
) -> tuple[str, ...]:
    """The region codes to push down: every asked code must be in CBS's region list. A table
    without a region dimension is Nederland: NL01 may be asked (nothing to filter)."""
    if not selection.regions:
        return ()
    if region_key is None:
        if set(selection.regions) == {region_registry.NETHERLANDS}:
            return ()
        raise SelectionError(
            f"{table_id} has no region dimension (every row is Nederland, "
            f"{region_registry.NETHERLANDS}); leave out regions"
        )
    known = {str(c["Key"]).strip() for c in code_lists[region_key]}
    unknown = [r for r in selection.regions if r not in known]
    if unknown:
        shown = sorted(known)
        more = f", ... ({len(shown)} in all)" if len(shown) > 30 else ""
        raise SelectionError(
            f"{table_id}: region(s) {', '.join(unknown)} not in {region_key}; valid: "
            f"{', '.join(shown[:30])}{more}"
        )
    return selection.regions
