"""JSON arrays read item by item, so that an importer can name the line of a bad record."""

from __future__ import annotations

import bisect
import json
from pathlib import Path
from typing import Any

from noordstats.ingest.importers.common import SourceFormatError
from noordstats.storage import rawfiles

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


def _read_text(path: Path) -> str:
    try:
        return rawfiles.read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceFormatError(f"{path}: cannot read: {exc}") from None


def _parse(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceFormatError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None


def read_json_document(path: Path) -> Any:
    """The whole file as JSON (plain or ``.gz``); a syntax error names file and line."""
    return _parse(path, _read_text(path))


def read_json_items(path: Path, key: str | None = None) -> list[tuple[int, Any]]:
    """The items of a JSON array with the line each starts on: the top-level array, or the array
    under the top-level object's ``key`` (OData's ``value``)."""
    text = _read_text(path)
    _parse(path, text)  # syntax errors first, with their line
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def line_of(pos: int) -> int:
        return bisect.bisect_left(newlines, pos) + 1

    pos = _skip(text, 0)
    if key is not None:
        pos = _find_member(text, pos, key, path, line_of)
    if text[pos] != "[":
        raise SourceFormatError(f"{path}:{line_of(pos)}: expected a JSON array")
    items: list[tuple[int, Any]] = []
    pos = _skip(text, pos + 1)
    while text[pos] != "]":
        item, end = _DECODER.raw_decode(text, pos)
        items.append((line_of(pos), item))
        pos = _skip(text, end)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    return items


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _find_member(text: str, pos: int, key: str, path: Path, line_of: Any) -> int:
    """Position of the value of ``key`` in the object that starts at ``pos``."""
    if text[pos] != "{":
        raise SourceFormatError(f"{path}:{line_of(pos)}: expected a JSON object")
    pos = _skip(text, pos + 1)
    while text[pos] != "}":
        name, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        pos = _skip(text, pos + 1)  # the ':'
        if name == key:
            return pos
        _, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    raise SourceFormatError(f"{path}:1: no member {key!r} in the top-level object")
