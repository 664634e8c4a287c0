"""The local cache of live CBS downloads; the only module that knows its layout on disk.

``<cache_dir>/<table_id>/<modified>/`` holds one complete download of a table as CBS published
it at ``Modified`` (a download of some rows only gets ``<modified>~<selection key>``, the key
naming its filter: ``regions=PV20+CR01``), in the canonical
store layout (``<id>.parquet`` + ``<id>.meta.json``). An entry is written in a hidden temporary
folder and renamed into place in one step, so a reader sees a whole entry or none; an entry
whose metadata is missing or whose data does not match the checksum in its metadata is ignored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from noordstats import paths, stopping
from noordstats.storage import store

log = logging.getLogger(__name__)

_TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 3600


def table_dir(table_id: str) -> Path:
    return paths.cache_dir() / table_id


def entry_dir(table_id: str, modified: str, key: str | None = None) -> Path:
    """The folder of one cached download: ``<table_id>/<modified>[~<key>]``; ``key`` names the
    rows downloaded (None: the whole table)."""
    name = re.sub(r"[^0-9A-Za-z.-]", "", modified) or "unknown"
    if key:
        if len(key) > 60 or not re.fullmatch(r"[0-9A-Za-z_+=;.-]+", key):
            key = "h" + hashlib.sha256(key.encode()).hexdigest()[:16]
        name = f"{name}~{key}"
    return table_dir(table_id) / name


def write_entry(
    table_id: str,
    modified: str,
    key: str | None,
    frame: pd.DataFrame,
    meta: dict[str, Any],
) -> Path:
    """Store one download; returns its folder. Concurrent writers of the same entry are safe:
    the first complete entry wins and the others discard theirs."""
    target = entry_dir(table_id, modified, key)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=target.parent))
    try:
        store.write_table(tmp, table_id, frame, meta)
        with stopping.deferred():  # a stop signal does not cut a replacement in half
            _publish(tmp, target, table_id)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _publish(tmp: Path, target: Path, table_id: str) -> None:
    try:
        os.rename(tmp, target)
    except OSError:
        if _is_complete(target, table_id):
            return
        broken = target.with_name(f"{_TMP_PREFIX}broken-{target.name}-{os.getpid()}")
        os.rename(target, broken)
        shutil.rmtree(broken, ignore_errors=True)
        os.rename(tmp, target)


def _remove_stale_temporaries(folder: Path) -> None:
    """Leftovers of a writer that was killed: hidden folders older than an hour."""
    cutoff = time.time() - _STALE_TMP_SECONDS
    for path in folder.glob(f"{_TMP_PREFIX}*"):
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except FileNotFoundError:
            continue


def _is_complete(folder: Path, table_id: str) -> bool:
    return _read_valid_meta(folder, table_id) is not None


def _read_valid_meta(folder: Path, table_id: str) -> dict[str, Any] | None:
    """The entry's metadata if the entry is complete and its data matches the checksum."""
    try:
        meta = store.read_meta(folder, table_id)
    except (OSError, ValueError):
        meta = None
    if meta is None:
        return None
    data_path, _ = store.table_paths(folder, table_id)
    if not data_path.exists() or store.sha256_file(data_path) != meta.get("data_sha256"):
        log.warning("ignoring damaged cache entry %s", folder)
        return None
    return meta


def read_entry(
    table_id: str, modified: str, key: str | None = None
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The cached download of ``table_id`` at CBS ``modified`` of the rows ``key`` names (None:
    the whole table), or None if not cached."""
    return _read_folder(entry_dir(table_id, modified, key), table_id)


def read_newest(
    table_id: str, accept: Callable[[dict[str, Any]], bool] | None = None
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The newest complete cached download of ``table_id`` (by CBS Modified, then fetch time)
    whose metadata ``accept`` takes (default: whole-table downloads only). None if nothing is
    cached."""
    folder = table_dir(table_id)
    if not folder.is_dir():
        return None
    accept = accept or _is_whole
    entries = []
    for sub in folder.iterdir():
        if sub.name.startswith(".") or not sub.is_dir():
            continue
        meta = _read_valid_meta(sub, table_id)
        if meta is not None and accept(meta):
            entries.append((str(meta.get("modified")), str(meta.get("fetched_at")), sub))
    for *_, sub in sorted(entries, reverse=True):
        found = _read_folder(sub, table_id)
        if found is not None:
            return found
    return None


def _is_whole(meta: dict[str, Any]) -> bool:
    return not meta.get("selection") and not meta.get("regions_filter")


def _read_folder(folder: Path, table_id: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    meta = _read_valid_meta(folder, table_id)
    if meta is None:
        return None
    return store.read_table(folder, table_id), {**meta, "cache_path": str(folder)}
