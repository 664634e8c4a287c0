"""StatLine "CSV met statistische symbolen" exports in wide layout (85701NED): ``;``-separated,
labels instead of codes, regions as columns. The layout, line by line:

1. the table title;
2. filter lines ``<dimension>: <label>`` (the period must be one of them: ``Perioden: 2023/'24*``),
   then an empty line;
3. ``Onderwerp`` + the measure title of each column;
4. ``<region dimension>`` + the region title of each column (municipality names, or
   ``Groningen (PV)``-style titles);
5. ``<row dimension>`` + the unit of each column (``aantal``);
6. one line per category of the row dimension; a last ``Bron: CBS`` line.

Measure codes are built from the measure titles (``Leerlingen/studenten`` ->
``LeerlingenStudenten``; the export has no CBS keys); a column's unit must equal its measure's
declared unit. StatLine lists every municipality of the table's whole period: a column with no
value at all is a municipality that did not exist in this period and is left out. A period title
marked ``*`` has status ``voorlopig``, an unmarked one ``definitief`` (StatLine's convention).

Options: ``derive_regions_from`` / ``derive_regions_to`` (region sums, see
``common.add_region_sums``), ``unassigned_region`` (the title of a column that belongs to
Nederland but to no lower region, e.g. ``Gemeenten; niet in te delen``: counted in the NL sum
only), ``decimal_comma``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from noordstats.cbs_codes import CodeError, encode_period_label, key_from_title, status_from_label
from noordstats.declarations.tables import SourceFile, TableDeclaration
from noordstats.ingest.importers.common import (
    SourceFormatError,
    add_region_sums,
    label_codes,
    parse_values,
    read_csv_rows,
    resolve_any_region,
)
from noordstats.storage import rawfiles

MEASURE_ROW = "Onderwerp"


@dataclass
class WideExport:
    path: Path
    title: str
    filters: dict[str, tuple[str, int]]  # dimension title -> (label, line)
    measures: list[str]  # per data column
    regions: list[str]
    units: list[str]
    row_dimension: str
    header_line: int  # line of the region row
    data: list[tuple[int, list[str]]]  # (line, cells)


def read_wide_export(path: Path, region_dimension: str, encoding: str = "utf-8-sig") -> WideExport:
    """Split a wide StatLine export into its parts; a line out of place names file and line."""
    lines = read_csv_rows(path, "StatLine CSV export", encoding)
    if not lines or not lines[0][1] or not lines[0][1][0].strip():
        raise SourceFormatError(f"{path}:1: the first line must hold the table title")
    width = len(lines[0][1])
    for line, row in lines:
        if len(row) != width:
            raise SourceFormatError(f"{path}:{line}: {len(row)} fields, line 1 has {width}")
    title = lines[0][1][0].strip()
    filters: dict[str, tuple[str, int]] = {}
    pos = 1
    while pos < len(lines) and any(c.strip() for c in lines[pos][1]):
        line, row = lines[pos]
        name, sep, label = row[0].partition(": ")
        if not sep or any(c.strip() for c in row[1:]):
            raise SourceFormatError(f"{path}:{line}: expected a filter line '<dimension>: <label>'")
        filters[name.strip()] = (label.strip(), line)
        pos += 1
    header = lines[pos + 1 : pos + 4]
    if len(header) < 3 or header[0][1][0] != MEASURE_ROW:
        found = header[0][1][0] if header else "end of file"
        raise SourceFormatError(
            f"{path}:{header[0][0] if header else pos + 1}: expected the '{MEASURE_ROW}' line, "
            f"found {found!r}"
        )
    if header[1][1][0] != region_dimension:
        raise SourceFormatError(
            f"{path}:{header[1][0]}: expected the region line '{region_dimension}', "
            f"found {header[1][1][0]!r}"
        )
    data = []
    for line, row in lines[pos + 4 :]:
        if row[0].startswith("Bron:") or not any(c.strip() for c in row):
            break
        data.append((line, row))
    if not data:
        raise SourceFormatError(f"{path}:{header[2][0] + 1}: no data lines after the header")
    return WideExport(
        path=path,
        title=title,
        filters=filters,
        measures=[c.strip() for c in header[0][1][1:]],
        regions=[c.strip() for c in header[1][1][1:]],
        units=[c.strip() for c in header[2][1][1:]],
        row_dimension=header[2][1][0].strip(),
        header_line=header[1][0],
        data=data,
    )


def import_source(decl: TableDeclaration, source: SourceFile, raw_dir: Path) -> pd.DataFrame:
    path = rawfiles.stored_path(raw_dir / source.path)
    encoding = str(source.options.get("encoding", "utf-8-sig"))
    export = read_wide_export(path, decl.region_dimension, encoding)
    period_label, period_line = _filter(export, decl.period_dimension)
    try:
        period_code = encode_period_label(period_label)
    except CodeError as exc:
        raise SourceFormatError(f"{path}:{period_line}: {exc}") from None
    columns = _resolve_columns(decl, export, str(source.options.get("unassigned_region", "")))
    cells = pd.DataFrame(
        [row[1:] for _, row in export.data], index=[line for line, _ in export.data]
    )
    cells.columns = range(len(columns))
    cells = cells[[i for i in cells.columns if (cells[i].str.strip() != "").any()]]
    long = cells.rename_axis("line").reset_index().melt(id_vars="line", var_name="column")
    labels = {line: row[0].strip() for line, row in export.data}
    frame = pd.DataFrame(
        {
            "region_code": long.column.map(lambda i: columns[i][0]),
            "period_code": period_code,
            "status": status_from_label(period_label, unmarked="definitief"),
            "measure_code": long.column.map(lambda i: columns[i][1]),
        }
    )
    for key, dim in decl.dimensions.items():
        if key == export.row_dimension:
            names = long.line.map(labels)
        else:
            names = pd.Series(_filter(export, key)[0], index=long.index)
        frame[f"{dim.column}_name"] = names
        frame[f"{dim.column}_code"] = label_codes(names, dim.codes)
    decimal_comma = bool(source.options.get("decimal_comma", False))
    frame["value"] = parse_values(long.value, path, long.line, decimal_comma)
    return _derive(frame, source.options)


def _filter(export: WideExport, dimension: str) -> tuple[str, int]:
    if dimension not in export.filters:
        raise SourceFormatError(
            f"{export.path}:2: no filter line '{dimension}: ...' "
            f"(found: {', '.join(export.filters) or 'none'})"
        )
    return export.filters[dimension]


def _resolve_columns(
    decl: TableDeclaration, export: WideExport, unassigned: str
) -> list[tuple[str, str]]:
    """(region code, measure code) per data column; unknown titles name the header line."""
    where = f"{export.path}:{export.header_line}"
    resolved = []
    for title, measure_title, unit in zip(
        export.regions, export.measures, export.units, strict=True
    ):
        code = "unassigned" if unassigned and title == unassigned else resolve_any_region(title)
        if code is None:
            raise SourceFormatError(f"{where}: region title {title!r} is not in CBS's code list")
        measure = key_from_title(measure_title)
        if measure not in decl.measures:
            raise SourceFormatError(
                f"{where}: measure {measure_title!r} (code {measure}) is not declared for {decl.id}"
            )
        declared = decl.measures[measure]
        if declared.title != measure_title or declared.unit != unit:
            raise SourceFormatError(
                f"{where}: measure {measure_title!r} in {unit!r}, declared as "
                f"{declared.title!r} in {declared.unit!r}"
            )
        resolved.append((code, measure))
    return resolved


def _derive(frame: pd.DataFrame, options: dict) -> pd.DataFrame:
    unassigned = frame[frame.region_code == "unassigned"]
    frame = frame[frame.region_code != "unassigned"]
    source_level = options.get("derive_regions_from")
    if not source_level:
        if not unassigned.empty:
            raise SourceFormatError("'unassigned_region' needs 'derive_regions_from'")
        return frame
    to_levels = tuple(str(t) for t in (options.get("derive_regions_to") or ["PV", "LD", "NL"]))
    extra = unassigned if not unassigned.empty else None
    return add_region_sums(frame, str(source_level), to_levels, national_extra=extra)
