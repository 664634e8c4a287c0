"""The on-disk canonical layout: ``<id>.parquet`` (tidy frame) + ``<id>.meta.json`` (provenance).

Used for the embedded snapshot (``data/snapshot/``) and the live cache alike. Every write goes to
a temporary file in the same folder and is moved into place with ``os.replace``: a reader sees
the old file or the new one, never half of one. Both files are deterministic: the same frame and
record give the same bytes (parquet with fixed options and no library versions in its pandas
metadata; only the footer's ``created_by`` names the pyarrow that wrote it).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from noordstats import paths

#: Fixed writer options (pyarrow's defaults may change between versions).
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "row_group_size": 1 << 20,
}

#: Keys of the pandas metadata that name library versions, not the data: left out.
_VERSION_KEYS = ("creator", "pandas_version")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success move it over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def table_paths(folder: Path, table_id: str) -> tuple[Path, Path]:
    return folder / f"{table_id}.parquet", folder / f"{table_id}.meta.json"


def snapshot_folder(table_id: str) -> Path:
    """The snapshot folder holding a table: the one of imported tables (a working folder's or
    the user's ``snapshot/``) when it holds the table, else the embedded snapshot."""
    local = paths.LOCAL_SNAPSHOT_DIR
    if local is not None and table_paths(local, table_id)[1].exists():
        return local
    return paths.SNAPSHOT_DIR


def read_snapshot_meta(table_id: str) -> dict[str, Any] | None:
    """The metadata of a snapshot table (embedded or imported), or None when it is absent."""
    return read_meta(snapshot_folder(table_id), table_id)


def write_table(folder: Path, table_id: str, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Write data first, metadata last: metadata present = the table is complete."""
    data_path, meta_path = table_paths(folder, table_id)
    with atomic_path(data_path) as tmp:
        write_parquet(frame, tmp)
    meta = {**meta, "data_sha256": sha256_file(data_path)}
    write_text_atomic(meta_path, json.dumps(meta, indent=1, ensure_ascii=False, default=str) + "\n")


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` (its index left out) as parquet, written the same way every time."""
    # deferred: pyarrow is imported only by what writes or inspects parquet (pandas reads it)
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema_meta = dict(table.schema.metadata or {})
    if b"pandas" in schema_meta:
        pandas_meta = json.loads(schema_meta[b"pandas"])
        for key in _VERSION_KEYS:
            pandas_meta.pop(key, None)
        schema_meta[b"pandas"] = json.dumps(pandas_meta).encode()
    pq.write_table(table.replace_schema_metadata(schema_meta), path, **PARQUET_OPTIONS)


def parquet_writer(path: Path) -> str:
    """The library that wrote a parquet file (its footer's ``created_by``)."""
    # deferred: as in write_parquet
    import pyarrow.parquet as pq

    return str(pq.ParquetFile(path).metadata.created_by)


def read_meta(folder: Path, table_id: str) -> dict[str, Any] | None:
    _, meta_path = table_paths(folder, table_id)
    if not meta_path.exists():
        return None
    return json.loads(meta_path.read_text(encoding="utf-8"))


def read_table(
    folder: Path, table_id: str, filters: list[tuple[str, str, Any]] | None = None
) -> pd.DataFrame:
    data_path, _ = table_paths(folder, table_id)
    return pd.read_parquet(data_path, filters=filters or None)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
