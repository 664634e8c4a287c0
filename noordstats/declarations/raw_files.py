"""The raw-file record (``data/raw_files.yaml``): the sha256 and size of every original file the
snapshot is built from, recorded once.

Where a file comes from is declared elsewhere, also once: the source files of a table in
``data/tables.yaml`` (repository, commit, path, capture date, completeness), and every file in
the ``PROVENANCE.md`` its entry names (``documented_in``). ``data/raw/`` holds the files,
gzip-compressed where :data:`noordstats.storage.rawfiles.COMPRESSED_SUFFIXES` says; the hash is
that of the original, uncompressed bytes, so that a file can be traced to its source.
``noordstats snapshot add-raw`` writes this file; ``noordstats snapshot verify`` checks it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import Field

from noordstats import paths
from noordstats.declarations.files import ConfigError, Strict, read_yaml, validate_entries

NOTE_NAMES = ("PROVENANCE.md", "README.md")

HEADER = """\
# Every raw file the snapshot is built from (and the tests read), recorded once. Written by
# `noordstats snapshot add-raw`; checked by `noordstats snapshot build` (a file that differs from
# its record is refused) and `noordstats snapshot verify`.
#
# path          the file below data/raw/ (or NOORDSTATS_RAW_DIR), named as the declarations name
#               it; data/raw/ stores captures gzip-compressed as <path>.gz (.csv, .json, .geojson)
# sha256, size  of the ORIGINAL, uncompressed file (as in its source repository)
# documented_in the PROVENANCE.md that says where the file comes from; the source files of a
#               table also have repository, commit and capture date in data/tables.yaml
"""


class RawFile(Strict):
    path: str = Field(description="path below the raw folder, as the declarations name it")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="of the original bytes")
    size: int = Field(ge=0, description="bytes of the original file")
    documented_in: str | None = Field(
        default=None,
        description="the PROVENANCE.md (below the raw folder) that documents the file's origin; "
        "none for the notes themselves",
    )


def read_raw_files(path: Path) -> dict[str, RawFile]:
    """``data/raw_files.yaml`` -> {path: record}; errors name file, entry and key."""
    raw = read_yaml(path, "files")
    if len(raw) != 1:
        raise ConfigError(f"{path}: expected exactly a top-level 'files:' list")
    records = validate_entries(path, raw["files"], RawFile, id_key="path")
    for record in records.values():
        if record.documented_in is not None and record.documented_in not in records:
            raise ConfigError(
                f"{path}: entry {record.path!r}, key 'documented_in': "
                f"{record.documented_in!r} is not recorded"
            )
    return records


@cache
def raw_files() -> dict[str, RawFile]:
    """The project's raw-file record (``data/raw_files.yaml``)."""
    return read_raw_files(paths.RAW_FILES_FILE)


def render_raw_files(records: dict[str, RawFile]) -> str:
    """The text of ``data/raw_files.yaml``: the header, then every record sorted by path."""
    lines = [HEADER, "files:"]
    for key in sorted(records):
        record = records[key]
        lines += [
            f"  - path: {json.dumps(record.path, ensure_ascii=False)}",
            f'    sha256: "{record.sha256}"',
            f"    size: {record.size}",
        ]
        if record.documented_in:
            lines.append(f"    documented_in: {json.dumps(record.documented_in)}")
    return "\n".join(lines) + "\n"


def documenting_note(rel: str, known: set[str]) -> str | None:
    """The PROVENANCE.md in ``rel``'s folder or the nearest folder above it (among ``known``);
    None for a note itself. Raises ConfigError when no note documents ``rel``."""
    parts = rel.split("/")
    if parts[-1] in NOTE_NAMES:
        return None
    for depth in range(len(parts) - 1, 0, -1):
        note = "/".join([*parts[:depth], "PROVENANCE.md"])
        if note in known:
            return note
    raise ConfigError(f"{rel}: no PROVENANCE.md in its folder or above says where it comes from")
