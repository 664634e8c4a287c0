"""Structure fingerprints of declared CBS tables: computed from the snapshot's metadata or from
CBS's answer, compared with the reviewed record (``data/table_structure.yaml``,
:mod:`noordstats.declarations.table_structure`), and written by ``noordstats snapshot
fingerprint``.

A structure is, in the declaration's keys: every dimension with its kind (region, period,
dimension) and title, and every declared measure with its title and unit. Titles and units are
compared with case, spacing and punctuation aside (``'x 1 000'`` is ``'x 1000'``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from noordstats import paths
from noordstats.cbs_codes import title_from_key
from noordstats.declarations.table_structure import (
    DimensionPrint,
    MeasurePrint,
    TableStructure,
    read_table_structures,
    render_table_structures,
    structure_digest,
    table_structures,
)
from noordstats.declarations.tables import TableDeclaration, declarations
from noordstats.ingest.importers.odata_v3 import read_properties
from noordstats.ingest.reconcile import normalise_title, normalise_unit
from noordstats.storage import store

Prints = tuple[dict[str, DimensionPrint], dict[str, MeasurePrint]]


def make_structure(table_id: str, source: str, prints: Prints) -> TableStructure:
    dims, measures = prints
    digest = structure_digest(
        {k: v.model_dump() for k, v in dims.items()},
        {k: v.model_dump() for k, v in measures.items()},
    )
    return TableStructure(
        id=table_id, source=source, digest=digest, dimensions=dims, measures=measures
    )


def snapshot_prints(decl: TableDeclaration, meta: dict[str, Any]) -> Prints:
    """The structure the snapshot holds: its dimensions and declared measures."""
    dims: dict[str, DimensionPrint] = {}
    if not decl.national:
        dims[decl.region_dimension] = DimensionPrint(kind="region")
    dims[decl.period_dimension] = DimensionPrint(kind="period")
    held = meta.get("dimensions") or {}
    for key, dim in decl.dimensions.items():
        title = (held.get(key) or {}).get("title") or dim.title
        dims[key] = DimensionPrint(kind="dimension", title=title)
    held_measures = meta.get("measures") or {}
    measures = {}
    for key, measure in decl.measures.items():
        found = held_measures.get(key) or {}
        title = found.get("title") or measure.title
        measures[key] = MeasurePrint(
            title=None if title == title_from_key(key) else title,  # built from the key
            unit=found.get("unit") or measure.unit,
        )
    return dims, measures


def live_prints(
    decl: TableDeclaration,
    properties: list[dict[str, Any]],
    dims: dict[str, str],
    measures: dict[str, str],
) -> Prints:
    """The structure CBS serves, in the declaration's keys: ``properties`` are DataProperties
    (v4 answers in that shape), ``dims`` and ``measures`` {declared key: CBS key} as
    :func:`~noordstats.ingest.live_read.plan_keys` matched them."""
    read = read_properties(properties)
    found: dict[str, DimensionPrint] = {}
    if read.region is not None:
        key = decl.region_dimension if not decl.national else read.region
        found[key] = DimensionPrint(kind="region")
    if read.period is not None:
        found[decl.period_dimension] = DimensionPrint(kind="period")
    by_cbs = {cbs: key for key, cbs in dims.items()}
    for cbs, title in read.dimensions.items():
        found[by_cbs.get(cbs, cbs)] = DimensionPrint(kind="dimension", title=title)
    prints = {}
    for key, cbs in measures.items():
        topic = read.measures.get(cbs)
        if topic is not None:
            prints[key] = MeasurePrint(title=topic["title"], unit=topic["unit"])
    return found, prints


def compare(recorded: TableStructure, live: Prints) -> list[str]:
    """What differs between the reviewed structure and CBS's, one phrase each (empty: none)."""
    dims, measures = live
    changes = []
    for key in sorted(set(recorded.dimensions) - set(dims)):
        changes.append(f"dimension {key} gone")
    for key in sorted(set(dims) - set(recorded.dimensions)):
        changes.append(f"dimension {key} added")
    for key in sorted(set(dims) & set(recorded.dimensions)):
        was, now = recorded.dimensions[key], dims[key]
        if was.kind != now.kind:
            changes.append(f"dimension {key} is a {now.kind} dimension (was {was.kind})")
        elif was.title and now.title and not same_title(was.title, now.title):
            changes.append(f"dimension {key} retitled {was.title!r} -> {now.title!r}")
    for key in sorted(set(recorded.measures) - set(measures)):
        changes.append(f"measure {key} gone")
    for key in sorted(set(recorded.measures) & set(measures)):
        was, now = recorded.measures[key], measures[key]
        if was.title is not None and not same_title(was.title, now.title or ""):
            changes.append(f"measure {key} retitled {was.title!r} -> {now.title!r}")
        if was.unit is not None and normalise_unit(was.unit) != normalise_unit(now.unit):
            changes.append(f"measure {key} unit {was.unit!r} -> {now.unit!r}")
    return changes


def same_title(was: str, now: str) -> bool:
    """Equal with case, spacing and punctuation aside; a title cut short (``'...'``) is equal to
    the one it begins."""
    if was.rstrip().endswith(("...", "…")):
        return normalise_title(now).startswith(normalise_title(was.rstrip(" .…")))
    return normalise_title(was) == normalise_title(now)


def recorded_structure(table_id: str) -> TableStructure | None:
    return table_structures().get(table_id)


def fingerprinted_tables() -> list[str]:
    """The declared tables that need a fingerprint: CBS's, with a CBS id (fetched live)."""
    return [
        t
        for t, d in declarations().items()
        if d.publisher == "CBS" and (d.cbs_table or t).isalnum()
    ]


def structure_from_snapshot(table_id: str) -> TableStructure:
    decl = declarations()[table_id]
    meta = store.read_snapshot_meta(table_id) or {}
    return make_structure(table_id, "snapshot", snapshot_prints(decl, meta))


def write_structures(new: Iterable[TableStructure]) -> list[str]:
    """Record ``new`` in ``data/table_structure.yaml`` (others kept), atomically; the ids
    whose record changed."""
    path = paths.TABLE_STRUCTURE_FILE
    entries = read_table_structures(path)
    changed = []
    for entry in new:
        if entries.get(entry.id) != entry:
            changed.append(entry.id)
        entries[entry.id] = entry
    store.write_text_atomic(path, render_table_structures(entries))
    table_structures.cache_clear()
    return changed
