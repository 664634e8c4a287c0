"""``noordstats snapshot verify``: the raw files are as recorded, and the snapshot is what a
rebuild from them and the declarations gives (a rebuild into a temporary folder, compared file by
file with the shipped snapshot)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from noordstats import paths
from noordstats.declarations.raw_files import raw_files
from noordstats.ingest.snapshot_build import (
    GEO_FILES,
    Outputs,
    RawDataMissingError,
    build_snapshot,
    check_raw_files,
    undeclared_table_files,
)
from noordstats.storage import store

# ----------------------------------------------------------------------------- is it current?


@dataclass
class Verification:
    """What :func:`verify_snapshot` found: raw files that are not as recorded, stale outputs
    (one line each, naming the table or file), and notes that do not make the snapshot stale."""

    raw_problems: list[str]
    stale: list[str]
    notes: list[str]
    checked_files: int
    checked_tables: int

    @property
    def current(self) -> bool:
        return not self.raw_problems and not self.stale


def verify_snapshot(raw_dir: Path | None = None) -> Verification:
    """Check every raw file against its record, then rebuild the whole snapshot into a
    temporary folder and compare it with the project's, file by file."""
    raw_dir = Path(raw_dir) if raw_dir else paths.raw_data_dir()
    if not raw_dir.is_dir():
        raise RawDataMissingError(f"raw data folder not found: {raw_dir} (set NOORDSTATS_RAW_DIR)")
    records = raw_files()
    result = Verification(check_raw_files(raw_dir, records), [], [], len(records), 0)
    if result.raw_problems:
        return result
    shipped = Outputs.default()
    with tempfile.TemporaryDirectory(prefix="noordstats-verify-") as tmp:
        fresh = Outputs.under(Path(tmp))
        built = build_snapshot(raw_dir=raw_dir, progress=False, outputs=fresh)
        result.checked_tables = len(built)
        for table_id in built:
            _compare_table(table_id, fresh.snapshot_dir, shipped.snapshot_dir, result)
        for path in undeclared_table_files(shipped.snapshot_dir):
            if path.name.endswith(".meta.json"):
                table_id = path.name.removesuffix(".meta.json")
                result.stale.append(f"{table_id}: in {shipped.snapshot_dir} but not declared")
        _compare_file(fresh.regions_file, shipped.regions_file, result)
        changes = paths.BOUNDARY_CHANGES_NAME
        _compare_file(
            fresh.regions_file.parent / changes, shipped.regions_file.parent / changes, result
        )
        for rel in GEO_FILES:
            name = Path(rel).name
            _compare_file(fresh.geo_dir / name, shipped.geo_dir / name, result)
        for path in sorted(p for p in fresh.provenance_dir.rglob("*") if p.is_file()):
            rel = path.relative_to(fresh.provenance_dir)
            _compare_file(path, shipped.provenance_dir / rel, result)
    return result


def _compare_file(fresh: Path, shipped: Path, result: Verification) -> None:
    if not shipped.is_file():
        result.stale.append(f"{shipped}: missing")
    elif fresh.read_bytes() != shipped.read_bytes():
        result.stale.append(f"{shipped}: differs from a rebuild")


def _compare_table(table_id: str, fresh: Path, shipped: Path, result: Verification) -> None:
    new_data, new_meta = store.table_paths(fresh, table_id)
    old_data, old_meta = store.table_paths(shipped, table_id)
    if not (old_data.is_file() and old_meta.is_file()):
        result.stale.append(f"{table_id}: not in {shipped}")
        return
    if new_data.read_bytes() == old_data.read_bytes():
        if new_meta.read_bytes() != old_meta.read_bytes():
            result.stale.append(
                f"{table_id}: stale metadata ({_meta_difference(table_id, fresh, shipped)})"
            )
        return
    same_rows = store.read_table(fresh, table_id).equals(store.read_table(shipped, table_id))
    if not same_rows:
        result.stale.append(f"{table_id}: stale data (a rebuild gives other rows or values)")
        return
    differs = _meta_difference(table_id, fresh, shipped, ignore={"data_sha256"})
    if differs:
        result.stale.append(f"{table_id}: stale metadata ({differs})")
    else:
        result.notes.append(
            f"{table_id}: same rows and metadata, other parquet bytes "
            f"({store.parquet_writer(old_data)} shipped, {store.parquet_writer(new_data)} here)"
        )


def _meta_difference(
    table_id: str, fresh: Path, shipped: Path, ignore: set[str] | frozenset = frozenset()
) -> str:
    new, old = store.read_meta(fresh, table_id) or {}, store.read_meta(shipped, table_id) or {}
    keys = sorted(k for k in set(new) | set(old) if k not in ignore and new.get(k) != old.get(k))
    return "differs in " + ", ".join(keys) if keys else ""
