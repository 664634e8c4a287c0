"""StatLine "UntypedDataSet" / "TypedDataSet" CSV exports: the OData v3 rows as ``;``-separated,
quoted CSV (UTF-8 with BOM) with CBS codes: padded keys (``"PV20  "``), period codes
(``2019JJ00``), values right-aligned with spaces, ``.`` = not available.

Optionally with the StatLine metadata export of the same download (``<id>_metadata.csv``:
TableInfos, DataProperties and one code list per dimension), which gives the table title, the
measure titles and units, dimension names and the status of each period. Without it, period
status is ``onbekend`` and dimension names come from the declaration.

Options: ``metadata`` (path of the metadata CSV beside the data file),
``derive_regions_from`` / ``derive_regions_to`` (see ``common.derive_regions``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from noordstats.cbs_codes import CodeError, normalise_status, strip_key
from noordstats.declarations.tables import SourceFile, TableDeclaration
from noordstats.ingest.importers.common import SourceFormatError, derive_regions, read_csv_rows
from noordstats.ingest.importers.odata_v3 import tidy_from_v3_rows
from noordstats.storage import rawfiles


@dataclass
class StatlineMetadata:
    """What a StatLine metadata export says about its table."""

    identifier: str = ""
    title: str = ""
    modified: str = ""
    measures: dict[str, dict[str, str | None]] = field(default_factory=dict)
    dimension_titles: dict[str, str] = field(default_factory=dict)
    dimensions: dict[str, dict[str, str]] = field(default_factory=dict)
    period_status: dict[str, str] = field(default_factory=dict)


def read_rows(path: Path) -> pd.DataFrame:
    """The data rows, every cell as text; a ragged or undecodable file names file and line."""
    lines = read_csv_rows(path, "StatLine CSV export")
    if not lines or not lines[0][1]:
        raise SourceFormatError(f"{path}:1: empty file")
    header = lines[0][1]
    for line, row in lines[1:]:
        if len(row) != len(header):
            raise SourceFormatError(
                f"{path}:{line}: {len(row)} fields, the header has {len(header)}"
            )
    if header[0] != "ID":
        raise SourceFormatError(f"{path}:1: first column must be 'ID', found {header[0]!r}")
    rows = [row for _, row in lines[1:]]
    return pd.DataFrame(rows, columns=header, dtype="string").astype(object)


def read_statline_metadata(path: Path) -> StatlineMetadata:
    """Parse a StatLine metadata CSV: blocks, each a one-field title line, a header, rows."""
    blocks: dict[str, list[dict[str, str]]] = {}
    name, header, lines = None, None, {}
    for line, row in read_csv_rows(path, "StatLine metadata export"):
        if len(row) == 1 and row[0]:
            name, header = row[0], None
            blocks[name] = []
        elif name is None:
            raise SourceFormatError(f"{path}:{line}: expected a block title")
        elif header is None:
            header = row
        elif row:
            if len(row) != len(header):
                raise SourceFormatError(
                    f"{path}:{line}: {len(row)} fields, block {name!r} has {len(header)}"
                )
            blocks[name].append(dict(zip(header, row, strict=True)))
            lines[(name, len(blocks[name]))] = line
    if "TableInfos" not in blocks or "DataProperties" not in blocks:
        raise SourceFormatError(f"{path}:1: no TableInfos/DataProperties blocks")
    info = blocks["TableInfos"][0] if blocks["TableInfos"] else {}
    meta = StatlineMetadata(
        identifier=info.get("Identifier", ""),
        title=info.get("Title", "").strip(),
        modified=info.get("Modified", "")[:10],
    )
    for prop in blocks["DataProperties"]:
        key = prop.get("Key", "")
        if prop.get("Type") == "Topic":
            meta.measures[key] = {"title": prop["Title"].strip(), "unit": prop.get("Unit") or None}
        elif prop.get("Type", "").endswith("Dimension"):
            meta.dimension_titles[key] = prop["Title"].strip()
    for key in meta.dimension_titles:
        meta.dimensions[key] = {
            strip_key(r["Key"]): r["Title"].strip() for r in blocks.get(key, [])
        }
    for i, r in enumerate(blocks.get("Perioden", []), start=1):
        try:
            meta.period_status[strip_key(r["Key"])] = normalise_status(r.get("Status"))
        except CodeError as exc:
            raise SourceFormatError(f"{path}:{lines[('Perioden', i)]}: {exc}") from None
    return meta


def import_source(decl: TableDeclaration, source: SourceFile, raw_dir: Path) -> pd.DataFrame:
    path = rawfiles.stored_path(raw_dir / source.path)
    rows = read_rows(path)
    if decl.keep_declared_measures_only:
        kept = {"ID", decl.region_dimension, decl.period_dimension, *decl.dimensions}
        rows = rows[[c for c in rows.columns if c in kept or c in decl.measures]]
    absent = [m for m in decl.measures if m not in rows.columns]
    if absent:
        raise SourceFormatError(
            f"{path}:1: declared measure(s) not in the file: {', '.join(absent)}"
        )
    metadata = source.options.get("metadata")
    names, status = None, None
    if metadata:
        meta = read_statline_metadata(rawfiles.stored_path(path.parent / str(metadata)))
        names = {k: meta.dimensions[k] for k in decl.dimensions if k in meta.dimensions}
        status = meta.period_status
    frame = tidy_from_v3_rows(decl, rows, dimension_names=names, period_status=status, path=path)
    return derive_regions(frame, source.options)
