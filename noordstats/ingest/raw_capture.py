"""``noordstats snapshot add-raw``: copy original raw files into ``data/raw/`` (captures
gzip-compressed, deterministically) and record the sha256 and size of each original in
``data/raw_files.yaml``."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from noordstats import paths
from noordstats.declarations.files import ConfigError
from noordstats.declarations.raw_files import (
    RawFile,
    documenting_note,
    raw_files,
    read_raw_files,
    render_raw_files,
)
from noordstats.storage import rawfiles, store


def add_raw_files(source_dir: Path, rels: list[str]) -> list[RawFile]:
    """Copy ``source_dir/<rel>`` to ``data/raw/<rel>`` (``.gz`` for captures) for every ``rel``
    and record it. A file recorded before must be byte-identical (a changed capture is a new
    capture: give it a new path). Every file needs a PROVENANCE.md in its folder or above (added
    in the same call or before). Nothing is written unless every file is acceptable."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise ConfigError(f"not a folder: {source_dir}")
    known = read_raw_files(paths.RAW_FILES_FILE) if paths.RAW_FILES_FILE.exists() else {}
    wanted = [_checked_rel(rel) for rel in rels]
    names = set(known) | set(wanted)
    new: dict[str, tuple[RawFile, bytes]] = {}
    for rel in wanted:
        source = source_dir / rel
        if not source.is_file():
            raise ConfigError(f"no such file: {source}")
        data = source.read_bytes()
        record = RawFile(
            path=rel,
            sha256=rawfiles.sha256_bytes(data),
            size=len(data),
            documented_in=documenting_note(rel, names),
        )
        old = known.get(rel)
        if old is not None and old.sha256 != record.sha256:
            raise ConfigError(
                f"{rel}: recorded with sha256 {old.sha256}; {source} has {record.sha256} "
                "(a changed capture needs a path of its own)"
            )
        new[rel] = (record, data)
    for rel, (_, data) in new.items():
        target = paths.RAW_DIR / Path(rel).parent / rawfiles.stored_name(Path(rel).name)
        packed = rawfiles.gzip_bytes(data) if target.name.endswith(rawfiles.GZIP_SUFFIX) else data
        with store.atomic_path(target) as tmp:
            tmp.write_bytes(packed)
    records = {**known, **{rel: record for rel, (record, _) in new.items()}}
    store.write_text_atomic(paths.RAW_FILES_FILE, render_raw_files(records))
    raw_files.cache_clear()
    return [record for record, _ in new.values()]


def _checked_rel(rel: str) -> str:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ConfigError(f"{rel!r}: give a path relative to the source folder, without '..'")
    if path.name.endswith(rawfiles.GZIP_SUFFIX):
        raise ConfigError(f"{rel!r}: give the original, uncompressed file")
    return path.as_posix()
