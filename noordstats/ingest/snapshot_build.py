"""Build the embedded snapshot (``data/snapshot/``) from the raw CBS captures with the importers,
and describe what it holds. ``noordstats snapshot build`` runs :func:`build_snapshot`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from noordstats import paths, regions
from noordstats.declarations.raw_files import RawFile, raw_files
from noordstats.declarations.tables import (
    SourceFile,
    TableDeclaration,
    declarations,
    get_declaration,
)
from noordstats.ingest.importers import get_importer
from noordstats.ingest.importers.common import assemble
from noordstats.storage import rawfiles, store
from noordstats.storage.rawfiles import RawFileError

REGION_CODE_LIST = "cbs/03759ned/odata_v4_2026/codes-RegioS.json"


GEO_FILES = (
    "geo/provincie_2023.geojson",
    "geo/landsdeel_2023.geojson",
    "geo/coropgebied_2023.geojson",
    "geo/PROVENANCE.md",
)


SNAPSHOT_RULE = (
    "Regions kept: Nederland (NL01), the 4 landsdelen, the 12 provinces, the 40 COROP areas and "
    "the municipalities of Groningen, Fryslân and Drenthe; every other region type (SG, GA, AM, "
    "CP, ES, ET, LG, 'niet in te delen', Extra-Regio, other municipalities) is dropped."
)


class RawDataMissingError(ValueError):
    """The raw captures the snapshot is built from are not where they should be."""


def source_root(source: SourceFile, raw_dir: Path) -> Path:
    """The folder a source path is below: the raw captures, or ``data/imports/``."""
    return paths.IMPORTS_DIR if source.root == "imports" else raw_dir


def import_table(decl: TableDeclaration, raw_dir: Path) -> pd.DataFrame:
    """Run the importer of every source file of a table and assemble one tidy frame."""
    parts = [get_importer(src.format)(decl, src, source_root(src, raw_dir)) for src in decl.sources]
    return assemble(decl, pd.concat(parts, ignore_index=True))


def describe(decl: TableDeclaration, frame: pd.DataFrame, raw_dir: Path) -> dict[str, Any]:
    """The metadata record that travels with a table. It depends on the declaration and the
    data only (no build date, no tool version), so that a rebuild reproduces it."""
    periods = sorted(frame.period_code.astype(str).unique())
    levels = frame.drop_duplicates("region_code").region_level.astype(str).value_counts()
    dims = {}
    for key, dim in decl.dimensions.items():
        pairs = frame[[f"{dim.column}_code", f"{dim.column}_name"]].drop_duplicates()
        dims[key] = {
            "column": dim.column,
            "title": dim.title,
            "codes": dict(
                zip(pairs.iloc[:, 0].astype(str), pairs.iloc[:, 1].astype(str), strict=True)
            ),
        }
    return {
        "id": decl.id,
        "title": decl.title,
        "title_note": decl.title_note,
        "publisher": decl.publisher,
        "licence": decl.licence,
        "captured": decl.captured.isoformat() if decl.captured else None,
        "captured_note": decl.captured_note,
        "modified": decl.modified.isoformat() if decl.modified else None,
        "completeness": decl.completeness,
        "completeness_note": decl.completeness_note,
        "reduction": "; ".join(r for r in (decl.reduction, SNAPSHOT_RULE) if r),
        "national": decl.national,
        "measure_title_note": decl.measure_title_note,
        "sources": [
            {
                **src.model_dump(exclude={"options"}),
                "sha256": rawfiles.content_sha256(source_root(src, raw_dir) / src.path),
            }
            for src in decl.sources
        ],
        "provenance": decl.provenance,
        "region_dimension": decl.region_dimension,
        "period_dimension": decl.period_dimension,
        "dimensions": dims,
        "measures": {k: m.model_dump() for k, m in decl.measures.items()},
        "periods": periods,
        "frequencies": sorted(frame.frequency.astype(str).unique()),
        "regions_by_level": {str(k): int(v) for k, v in sorted(levels.items())},
        "row_count": len(frame),
        "value_count": int(frame.value.notna().sum()),
    }


def build_region_file(raw_dir: Path) -> None:
    frame = regions.build_region_registry(raw_dir / REGION_CODE_LIST)
    with store.atomic_path(paths.REGIONS_FILE) as tmp:
        frame.to_csv(tmp, index=False)
    regions.clear_caches()


def copy_provenance(decl: TableDeclaration, raw_dir: Path) -> None:
    for rel in decl.provenance:
        with store.atomic_path(paths.PROVENANCE_DIR / rel) as tmp:
            tmp.write_bytes(rawfiles.read_bytes(raw_dir / rel))


def check_raw_files(raw_dir: Path, records: dict[str, RawFile] | None = None) -> list[str]:
    """One line per raw file that is missing, differs from its record (naming both hashes) or,
    in the project's own ``data/raw/``, is not recorded. Empty: every file is as recorded."""
    records = raw_files() if records is None else records
    problems = []
    for rel, record in sorted(records.items()):
        stored = rawfiles.stored_path(raw_dir / rel)
        if not stored.is_file():
            problems.append(f"{raw_dir / rel}: missing (recorded in {paths.RAW_FILES_FILE.name})")
            continue
        try:
            found = rawfiles.content_sha256(stored)
        except RawFileError as exc:
            problems.append(str(exc))
            continue
        if found != record.sha256:
            problems.append(f"{stored}: sha256 {found} differs from the recorded {record.sha256}")
    if raw_dir.resolve() == paths.RAW_DIR.resolve():
        for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
            rel = rawfiles.original_path(path).relative_to(raw_dir).as_posix()
            if rel not in records:
                problems.append(f"{path}: not recorded in {paths.RAW_FILES_FILE.name}")
    return problems


def build_snapshot(
    table_ids: Iterable[str] | None = None, raw_dir: Path | None = None, progress: bool = True
) -> list[str]:
    """Import the declared tables (all by default) into ``data/snapshot/``."""
    from tqdm import tqdm

    raw_dir = raw_dir or paths.raw_data_dir()
    if not raw_dir.is_dir():
        raise RawDataMissingError(f"raw data folder not found: {raw_dir} (set NOORDSTATS_RAW_DIR)")
    ids = list(table_ids) if table_ids else list(declarations())
    decls = [get_declaration(t) for t in ids]
    build_region_file(raw_dir)
    for rel in GEO_FILES:
        with store.atomic_path(paths.GEO_DIR / Path(rel).name) as tmp:
            tmp.write_bytes(rawfiles.read_bytes(raw_dir / rel))
    built = []
    for decl in tqdm(decls, desc="importing", unit="table", disable=not progress):
        frame = import_table(decl, raw_dir)
        store.write_table(paths.SNAPSHOT_DIR, decl.id, frame, describe(decl, frame, raw_dir))
        copy_provenance(decl, raw_dir)
        built.append(decl.id)
    if not table_ids:
        remove_undeclared_tables()
    return built


def remove_undeclared_tables() -> list[str]:
    """Delete snapshot tables no declaration names any more (after a full rebuild)."""
    removed = []
    for meta_path in sorted(paths.SNAPSHOT_DIR.glob("*.meta.json")):
        table_id = meta_path.name.removesuffix(".meta.json")
        if table_id not in declarations():
            for path in store.table_paths(paths.SNAPSHOT_DIR, table_id):
                path.unlink(missing_ok=True)
            removed.append(table_id)
    return removed
