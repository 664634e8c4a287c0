"""Old StatLine (StatWeb) CSV exports, transposed (81575ned, 2012): ``;``-separated, quoted,
latin-1. Line 1: ``Regio's`` + the region title of each column; line 2: ``Perioden`` + the period
title of each column; line 3: the row dimension's title + the unit of each column; then one line
per category of the row dimension (its label first). One measure: the declaration names it
(option ``measure``) and the unit row must equal its declared unit.

Region titles become codes through the CBS code list (``Friesland (PV)`` included); regions
outside the snapshot (GA, SG, municipalities outside the North) are dropped. ``*`` marks a
provisional period (``voorlopig``); an unmarked one is ``definitief``. ``.`` = not available
(NaN), ``-`` = nil (0).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from noordstats.cbs_codes import CodeError, encode_period_label, status_from_label
from noordstats.declarations.tables import SourceFile, TableDeclaration
from noordstats.ingest.importers.common import (
    SourceFormatError,
    label_codes,
    parse_values,
    read_csv_rows,
)
from noordstats.ingest.importers.harvested import resolve_regions
from noordstats.storage import rawfiles

REGION_ROW = "Regio's"
PERIOD_ROW = "Perioden"


def read_lines(path: Path, encoding: str) -> list[tuple[int, list[str]]]:
    lines = read_csv_rows(path, "StatWeb CSV export", encoding, skip_blank=True)
    if len(lines) < 4:
        raise SourceFormatError(f"{path}:{len(lines) + 1}: expected 3 header lines and data")
    width = len(lines[0][1])
    for line, row in lines:
        if len(row) != width:
            raise SourceFormatError(f"{path}:{line}: {len(row)} fields, line 1 has {width}")
    for (line, row), first in zip(lines[:2], (REGION_ROW, PERIOD_ROW), strict=True):
        if row[0] != first:
            raise SourceFormatError(f"{path}:{line}: expected {first!r} first, found {row[0]!r}")
    return lines


def import_source(decl: TableDeclaration, source: SourceFile, raw_dir: Path) -> pd.DataFrame:
    path = rawfiles.stored_path(raw_dir / source.path)
    lines = read_lines(path, str(source.options.get("encoding", "latin-1")))
    (_, regions), (period_line, periods), (unit_line, units) = lines[:3]
    row_dimension = units[0]
    if row_dimension not in decl.dimensions or len(decl.dimensions) != 1:
        raise SourceFormatError(
            f"{path}:{unit_line}: row dimension {row_dimension!r}; declared: "
            f"{', '.join(decl.dimensions) or 'none'}"
        )
    measure = str(source.options.get("measure", ""))
    if measure not in decl.measures:
        raise SourceFormatError(
            f"{path}: option 'measure' must name a declared measure of {decl.id}"
        )
    unit = decl.measures[measure].unit
    wrong = [u for u in units[1:] if u != unit]
    if wrong:
        raise SourceFormatError(f"{path}:{unit_line}: unit {wrong[0]!r}, declared {unit!r}")
    n_columns = len(regions) - 1
    header = pd.DataFrame({"region": regions[1:], "period": periods[1:]})
    header_lines = pd.Series(1, index=header.index)
    header["region_code"] = resolve_regions(header.region, path, header_lines)
    period_codes = {}
    for label in header.period.unique():
        try:
            period_codes[label] = encode_period_label(label)
        except CodeError as exc:
            raise SourceFormatError(f"{path}:{period_line}: {exc}") from None
    header["period_code"] = header.period.map(period_codes)
    header["status"] = header.period.map(lambda p: status_from_label(p, unmarked="definitief"))
    kept = header[header.region_code.notna()]
    data = lines[3:]
    cells = pd.DataFrame([row[1:] for _, row in data], index=[line for line, _ in data])
    cells.columns = range(n_columns)
    long = (
        cells[kept.index].rename_axis("line").reset_index().melt(id_vars="line", var_name="column")
    )
    frame = kept.loc[long.column, ["region_code", "period_code", "status"]].reset_index(drop=True)
    dim = decl.dimensions[row_dimension]
    names = long.line.map({line: row[0].strip() for line, row in data})
    frame[f"{dim.column}_name"] = names
    frame[f"{dim.column}_code"] = label_codes(names, dim.codes)
    frame["measure_code"] = measure
    frame["value"] = parse_values(long.value, path, long.line)
    return frame
