"""Build the embedded snapshot (``data/snapshot/``) from the raw captures with the importers,
and describe what it holds. ``noordstats snapshot build`` runs :func:`build_snapshot`
(checked by :mod:`noordstats.ingest.snapshot_verify`).

A build is reproducible: the same raw files and declarations give byte-identical files (with the
same pyarrow; see :func:`noordstats.storage.store.write_table`). It reads every raw file through
a check against ``data/raw_files.yaml`` (a file that differs from its record stops the build),
writes everything into a staging folder beside the snapshot, and moves the new files into place
only at the end, with SIGINT and SIGTERM held back while it does: an interrupted build leaves
the snapshot as it was, a finished one leaves it whole.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from noordstats import paths, regions, stopping
from noordstats.declarations.raw_files import RawFile, raw_files
from noordstats.declarations.tables import (
    SourceFile,
    TableDeclaration,
    declarations,
    get_declaration,
)
from noordstats.errors import UserError
from noordstats.ingest.importers import common, get_importer
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


class RawDataMissingError(UserError):
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
        **decl.provenance_fields(),
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


# ----------------------------------------------------------------------------- where it goes


@dataclass(frozen=True)
class Outputs:
    """The folders and the file a build writes."""

    snapshot_dir: Path
    geo_dir: Path
    provenance_dir: Path
    regions_file: Path

    @classmethod
    def default(cls) -> Outputs:
        """The project's: ``data/snapshot/`` (with ``regions.csv``), ``data/geo/``,
        ``data/provenance/``."""
        return cls(paths.SNAPSHOT_DIR, paths.GEO_DIR, paths.PROVENANCE_DIR, paths.REGIONS_FILE)

    @classmethod
    def under(cls, root: Path) -> Outputs:
        """The same layout below ``root``."""
        return cls(
            root / "snapshot", root / "geo", root / "provenance", root / "snapshot/regions.csv"
        )


STAGING_PREFIX = ".snapshot-build-"


class Staging:
    """The new files of a build, written into a hidden folder beside the snapshot (same file
    system) and moved into place by :meth:`commit`; the folder is removed in any case."""

    def __init__(self, target: Outputs) -> None:
        self.target = target
        parent = target.snapshot_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
        self.outputs = Outputs.under(self.root)
        self.removals: list[Path] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def moves(self) -> list[tuple[Path, Path]]:
        """(staged file, its place), data before metadata (a table's metadata last)."""
        pairs = []
        staged, target = self.outputs, self.target
        for folder, place in (
            (staged.snapshot_dir, target.snapshot_dir),
            (staged.geo_dir, target.geo_dir),
            (staged.provenance_dir, target.provenance_dir),
        ):
            for path in folder.rglob("*") if folder.is_dir() else ():
                if path.is_file() and path != staged.regions_file:
                    pairs.append((path, place / path.relative_to(folder)))
        if staged.regions_file.is_file():
            pairs.append((staged.regions_file, target.regions_file))
        return sorted(pairs, key=lambda p: (p[1].name.endswith(".meta.json"), str(p[1])))

    def commit(self) -> None:
        """Move every staged file into place and delete :attr:`removals`, with SIGINT and
        SIGTERM held back until all is done (a signal then takes effect after the commit)."""
        moves = self.moves()
        with stopping.signals_blocked():
            for staged, place in moves:
                place.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, place)
            for path in self.removals:
                path.unlink(missing_ok=True)


@contextmanager
def region_registry(path: Path) -> Iterator[None]:
    """The importers resolve regions through ``path`` (the registry this build just wrote)."""
    previous = paths.REGIONS_FILE
    paths.REGIONS_FILE = path
    _clear_region_caches()
    try:
        yield
    finally:
        paths.REGIONS_FILE = previous
        _clear_region_caches()


def _clear_region_caches() -> None:
    regions.clear_caches()
    common.municipality_codes.cache_clear()


# ----------------------------------------------------------------------------- the raw files


def raw_check(raw_dir: Path, records: dict[str, RawFile]) -> rawfiles.Check:
    """The check every raw read of a build goes through: a file below ``raw_dir`` must be
    recorded in ``data/raw_files.yaml`` with the sha256 of its original bytes."""

    def check(stored: Path, data: bytes) -> None:
        try:
            rel = rawfiles.original_path(stored).relative_to(raw_dir).as_posix()
        except ValueError:
            return  # not a raw capture (a file of data/imports/)
        record = records.get(rel)
        if record is None:
            raise RawFileError(
                f"{stored}: not recorded in {paths.RAW_FILES_FILE.name} "
                "(record it with `noordstats snapshot add-raw`)"
            )
        found = rawfiles.sha256_bytes(data)
        if found != record.sha256:
            raise RawFileError(
                f"{stored}: sha256 {found} differs from the recorded {record.sha256} "
                f"({paths.RAW_FILES_FILE.name})"
            )

    return check


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


# ----------------------------------------------------------------------------- the build


def build_snapshot(
    table_ids: Iterable[str] | None = None,
    raw_dir: Path | None = None,
    progress: bool = True,
    outputs: Outputs | None = None,
) -> list[str]:
    """Import the declared tables (all by default) into the snapshot (``outputs``, by default
    ``data/snapshot/``, ``data/geo/``, ``data/provenance/``); return the ids built. A full
    build also removes the tables no declaration names any more."""
    ids = list(table_ids) if table_ids else list(declarations())
    decls = [get_declaration(t) for t in ids]  # an unknown table first, whatever else is wrong
    raw_dir = Path(raw_dir) if raw_dir else paths.raw_data_dir()
    if not raw_dir.is_dir():
        raise RawDataMissingError(f"raw data folder not found: {raw_dir} (set NOORDSTATS_RAW_DIR)")
    target = outputs or Outputs.default()
    records = raw_files()
    built = []
    with Staging(target) as stage, rawfiles.checking(raw_check(raw_dir, records)):
        out = stage.outputs
        write_region_file(raw_dir, out.regions_file)
        for rel in GEO_FILES:
            with store.atomic_path(out.geo_dir / Path(rel).name) as tmp:
                tmp.write_bytes(rawfiles.read_bytes(raw_dir / rel))
        with region_registry(out.regions_file):
            for decl in tqdm(decls, desc="importing", unit="table", disable=not progress):
                frame = import_table(decl, raw_dir)
                store.write_table(out.snapshot_dir, decl.id, frame, describe(decl, frame, raw_dir))
                copy_provenance(decl, raw_dir, out.provenance_dir)
                built.append(decl.id)
        if not table_ids:
            stage.removals = undeclared_table_files(target.snapshot_dir)
        stage.commit()
    _clear_region_caches()
    return built


def write_region_file(raw_dir: Path, target: Path) -> None:
    frame = regions.build_region_registry(raw_dir / REGION_CODE_LIST)
    with store.atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False)
    changes = regions.build_boundary_changes(raw_dir / REGION_CODE_LIST)
    with store.atomic_path(target.parent / paths.BOUNDARY_CHANGES_NAME) as tmp:
        changes.to_csv(tmp, index=False)


def copy_provenance(decl: TableDeclaration, raw_dir: Path, folder: Path) -> None:
    for rel in decl.provenance:
        with store.atomic_path(folder / rel) as tmp:
            tmp.write_bytes(rawfiles.read_bytes(raw_dir / rel))


def undeclared_table_files(folder: Path) -> list[Path]:
    """The files of snapshot tables no declaration names any more."""
    found = []
    for meta_path in sorted(folder.glob("*.meta.json")):
        table_id = meta_path.name.removesuffix(".meta.json")
        if table_id not in declarations():
            found += list(store.table_paths(folder, table_id))
    return found
