"""Raw captures on disk: a file is stored as itself (``x.csv``) or gzip-compressed beside its name
(``x.csv.gz``); a reader names the original file and gets the original bytes either way.

The repository keeps its captures compressed (``data/raw/``, see :data:`COMPRESSED_SUFFIXES`),
written by :func:`gzip_bytes` so that compressing the same bytes again gives the same file.
While :func:`checking` is active, every read goes through a check (the snapshot build compares
each file with its recorded sha256). Imports nothing from the project.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from noordstats.errors import UserError

GZIP_SUFFIX = ".gz"

#: Captures stored gzip-compressed in ``data/raw/``; notes (``.md``, ``.txt``) stay plain text.
COMPRESSED_SUFFIXES = (".csv", ".json", ".geojson")

#: Fixed compression level: with mtime 0 and no file name in the header, the same bytes always
#: compress to the same file (with the same zlib).
GZIP_LEVEL = 9

#: called with (stored path, original bytes) on every read while :func:`checking` is active
Check = Callable[[Path, bytes], None]
_check: ContextVar[Check | None] = ContextVar("noordstats_raw_check", default=None)


class RawFileError(UserError):
    """A raw file that cannot be read, is not recorded, or is not the file its record names."""


def stored_path(path: Path) -> Path:
    """The file holding ``path``'s content: ``path`` itself, else ``path.gz`` if that exists
    (else ``path``, so that opening it names the file that is missing)."""
    path = Path(path)
    if path.exists() or path.name.endswith(GZIP_SUFFIX):
        return path
    packed = path.with_name(path.name + GZIP_SUFFIX)
    return packed if packed.exists() else path


def original_path(path: Path) -> Path:
    """``x.csv.gz`` -> ``x.csv``: the name of the original file a stored file holds."""
    path = Path(path)
    return path.with_name(path.name.removesuffix(GZIP_SUFFIX))


def read_unchecked(path: Path) -> bytes:
    """The original bytes of ``path`` (decompressed when it is stored as ``.gz``)."""
    stored = stored_path(path)
    data = stored.read_bytes()
    if stored.name.endswith(GZIP_SUFFIX):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise RawFileError(f"{stored}: not a readable gzip file: {exc}") from None
    return data


def read_bytes(path: Path) -> bytes:
    """:func:`read_unchecked`, passed through the active check (see :func:`checking`)."""
    data = read_unchecked(path)
    check = _check.get()
    if check is not None:
        check(stored_path(path), data)
    return data


def read_text(path: Path, encoding: str = "utf-8-sig") -> str:
    return read_bytes(path).decode(encoding)


def open_text(path: Path, encoding: str = "utf-8-sig") -> io.StringIO:
    """The decoded file as a text stream with its line ends untouched (like ``newline=''``)."""
    return io.StringIO(read_text(path, encoding), newline="")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_sha256(path: Path) -> str:
    """sha256 of the original bytes: the same for ``x.csv`` and its ``x.csv.gz``."""
    return sha256_bytes(read_unchecked(path))


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: level :data:`GZIP_LEVEL`, mtime 0, no file name in the header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(
        filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=buffer, mtime=0
    ) as packed:
        packed.write(data)
    return buffer.getvalue()


def stored_name(name: str) -> str:
    """The name a capture gets in ``data/raw/``: ``x.csv`` -> ``x.csv.gz``; notes unchanged."""
    return name + GZIP_SUFFIX if name.endswith(COMPRESSED_SUFFIXES) else name


@contextmanager
def checking(check: Check) -> Iterator[None]:
    """Within the block, every :func:`read_bytes` (and what reads through it) calls ``check``."""
    token = _check.set(check)
    try:
        yield
    finally:
        _check.reset(token)
