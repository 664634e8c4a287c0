"""The raw captures as the tests read them: by a route independent of noordstats (the gzip and
csv modules), from ``data/raw/`` where every capture is stored as ``<name>.gz`` — or from a
folder of plain files (``NOORDSTATS_RAW_DIR``, a test's broken copy)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any


def stored(path: Path) -> Path:
    """``path`` if it exists, else ``path.gz``."""
    return path if path.exists() else path.with_name(path.name + ".gz")


def read_raw_bytes(path: Path) -> bytes:
    found = stored(path)
    data = found.read_bytes()
    return gzip.decompress(data) if found.name.endswith(".gz") else data


def read_raw_text(path: Path, encoding: str = "utf-8-sig") -> str:
    return read_raw_bytes(path).decode(encoding)


def open_raw(path: Path, encoding: str = "utf-8-sig") -> io.StringIO:
    """The file as text with its line ends untouched (as ``open(..., newline='')``)."""
    return io.StringIO(read_raw_text(path, encoding), newline="")


def read_raw_json(path: Path) -> Any:
    return json.loads(read_raw_text(path))


def copy_raw(source: Path, target: Path) -> Path:
    """A plain (uncompressed) copy of a raw file at ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(read_raw_bytes(source))
    return target
