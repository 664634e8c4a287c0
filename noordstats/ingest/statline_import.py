"""Add a StatLine CSV export an analyst downloaded to the snapshot: ``noordstats snapshot import``.

Two kinds of export are understood:

- the **UntypedDataSet / TypedDataSet CSV** (``<id>_UntypedDataSet_<ddmmyyyy>_<hhmmss>.csv``: an
  ``ID`` column, dimension columns with CBS codes, measure columns under their CBS keys), with
  the **metadata export** of the same download (``<id>_metadata.csv``) when it lies beside it or
  is named with ``--metadata``: it gives the table title, measure titles and units, the names of
  the dimension codes and the status of each period;
- the **"CSV met statistische symbolen"** in wide layout (title on line 1, filter lines, then
  ``Onderwerp``, one region per column, a unit line): see ``importers.statline_wide_csv``.

The file is validated by the same importers the snapshot build uses, and only then written: the
file is copied to ``imports/<id>/``, the tidy table to ``snapshot/`` and its declaration appended
to ``tables.local.yaml`` (kept apart from the curated ``tables.yaml``;
:func:`noordstats.declarations.tables.declarations` merges both), all in the working folder, else
the user data folder, or in a checkout the repository's ``data/`` (see :mod:`noordstats.paths`).
Every write is atomic, and if a later step fails the earlier ones are undone: nothing is left
half-written."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from noordstats import paths
from noordstats.cbs_codes import is_measure_key, key_from_title, title_from_key
from noordstats.declarations.tables import TableDeclaration, declarations, read_table_declarations
from noordstats.errors import UserError
from noordstats.ingest.importers.common import SourceFormatError, read_csv_rows, resolve_any_region
from noordstats.ingest.importers.statline_untyped_csv import read_rows, read_statline_metadata
from noordstats.ingest.importers.statline_wide_csv import MEASURE_ROW, read_wide_export
from noordstats.ingest.snapshot_build import describe, import_table
from noordstats.storage import store

_DOWNLOAD_NAME = re.compile(r"^(?P<id>[0-9A-Za-z]+)_(?:Untyped|Typed)DataSet_(?P<date>\d{8})_\d{6}")
_TABLE_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]*$")
_LOCAL_HEADER = (
    "# Tables added with `noordstats snapshot import` (same schema as data/tables.yaml).\n"
    "# Their files are in imports/<id>/ beside this file. Edit titles and notes freely; in a\n"
    "# repository checkout, rebuild with `noordstats snapshot build <id>`.\n"
)
#: Column stems for dimension keys CBS uses in many tables (others: the key in snake_case).
KNOWN_STEMS = {
    "Geslacht": "sex",
    "Leeftijd": "age",
    "BurgerlijkeStaat": "marital_status",
    "BedrijfstakkenBranchesSBI2008": "sector",
    "Onderwijssoort": "education_type",
}


class ImportUsageError(UserError):
    """The command was given something it cannot import (names what to give instead)."""


def import_export(
    path: Path,
    table_id: str | None = None,
    title: str | None = None,
    metadata: Path | None = None,
) -> TableDeclaration:
    """Validate a StatLine export, add it to the snapshot and declare it; return the declaration."""
    path = Path(path)
    if not path.is_file():
        raise ImportUsageError(f"no such file: {path}")
    kind = detect_kind(path)
    if kind == "untyped":
        decl_data, extra_files = _declare_untyped(path, table_id, title, metadata)
    else:
        decl_data, extra_files = _declare_wide(path, table_id, title)
    _check_new_id(decl_data["id"])
    files = [path, *extra_files]
    with tempfile.TemporaryDirectory(prefix="noordstats-import-") as staging:
        for file in files:  # the importer finds the metadata export beside the data file
            shutil.copyfile(file, Path(staging) / file.name)
        probe = _declaration(decl_data, root="raw", files=files)
        try:
            frame = import_table(probe, Path(staging))
        except SourceFormatError as exc:  # name the analyst's file, not the staging copy
            message = str(exc)
            for file in files:
                message = message.replace(str(Path(staging) / file.name), str(file))
            raise SourceFormatError(message) from None
    if frame.empty:
        raise SourceFormatError(
            f"{path}: no rows left after the snapshot's region rule (NL, LD, PV, CR and the "
            "northern municipalities)"
        )
    decl = _declaration(decl_data, root="imports", files=files)
    written: list[Path] = []
    try:
        for file in files:
            target = paths.IMPORTS_DIR / decl.id / file.name
            with store.atomic_path(target) as tmp:
                shutil.copyfile(file, tmp)
            written.append(target)
        snapshot_dir = paths.local_snapshot_dir()
        written += list(store.table_paths(snapshot_dir, decl.id))
        store.write_table(snapshot_dir, decl.id, frame, describe(decl, frame, path.parent))
        _append_declaration(decl)
    except BaseException:
        for target in written:
            target.unlink(missing_ok=True)
        if written and not any((paths.IMPORTS_DIR / decl.id).iterdir()):
            (paths.IMPORTS_DIR / decl.id).rmdir()
        raise
    declarations.cache_clear()
    return decl


def detect_kind(path: Path) -> str:
    """``'untyped'`` (ID column, codes) or ``'wide'`` ('CSV met statistische symbolen')."""
    lines = [row for _, row in read_csv_rows(path, "StatLine CSV export", limit=12)]
    first = lines[0] if lines else []
    if first and first[0] == "ID":
        return "untyped"
    if any(row and row[0] == MEASURE_ROW for row in lines):
        return "wide"
    raise SourceFormatError(
        f"{path}:1: not a StatLine CSV export (expected an UntypedDataSet/TypedDataSet CSV whose "
        f"first column is 'ID', or a 'CSV met statistische symbolen' with an '{MEASURE_ROW}' line)"
    )


def _declare_untyped(
    path: Path, table_id: str | None, title: str | None, metadata: Path | None
) -> tuple[dict[str, Any], list[Path]]:
    match = _DOWNLOAD_NAME.match(path.name)
    rows = read_rows(path)
    columns = list(rows.columns[1:])
    if metadata is None and match:
        sibling = path.with_name(f"{match['id']}_metadata.csv")
        metadata = sibling if sibling.exists() else None
    meta = read_statline_metadata(metadata) if metadata else None
    table_id = table_id or (match["id"] if match else None) or (meta.identifier if meta else None)
    if not table_id:
        raise ImportUsageError(f"{path.name}: the table id is not in the file name; give --id")
    title = title or (meta.title if meta else None)
    if not title:
        raise ImportUsageError(
            f"{path.name}: no table title (no metadata export beside it); "
            "give --title or --metadata"
        )
    if "Perioden" not in columns:
        raise SourceFormatError(f"{path}:1: no 'Perioden' column")
    dims = [c for c in columns if not is_measure_key(c) and c not in {"RegioS", "Perioden"}]
    dimensions = {}
    for key in dims:
        if meta is None or not meta.dimensions.get(key):
            raise ImportUsageError(
                f"{path.name}: dimension {key!r} has codes only; give the StatLine metadata "
                "export of the same download (--metadata) for its names"
            )
        dimensions[key] = {
            "column": KNOWN_STEMS.get(key, _snake_case(key)),
            "title": meta.dimension_titles.get(key, key),
        }
    measures = {}
    for key in (c for c in columns if is_measure_key(c)):
        found = meta.measures.get(key) if meta else None
        measures[key] = (
            {"title": found["title"], "unit": found["unit"], "unit_note": "StatLine metadata"}
            if found
            else {"title": title_from_key(key)}
        )
    options: dict[str, Any] = {}
    if meta:
        options["metadata"] = metadata.name
    captured = _download_date(match["date"]) if match else None
    data = {
        "id": table_id,
        "title": title,
        "title_note": "from the StatLine metadata export" if meta and title == meta.title else None,
        "captured": captured,
        "captured_note": None if captured else "download date not in the file name",
        "modified": meta.modified or None if meta else None,
        "national": "RegioS" not in columns,
        "measure_title_note": (
            "CBS's titles and units from the StatLine metadata export"
            if meta
            else "built from the CBS keys (no metadata export came with the file)"
        ),
        "dimensions": dimensions,
        "measures": measures,
        "format": "statline_untyped_csv",
        "options": options,
    }
    return data, [metadata] if metadata else []


def _declare_wide(
    path: Path, table_id: str | None, title: str | None
) -> tuple[dict[str, Any], list[Path]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(itertools.islice(csv.reader(fh, delimiter=";"), 8))
    region_line = next(
        (rows[i + 1][0] for i, row in enumerate(rows[:-1]) if row and row[0] == MEASURE_ROW), ""
    )
    export = read_wide_export(path, region_line)
    if not table_id:
        raise ImportUsageError(f"{path.name}: a wide StatLine export names no table id; give --id")
    period = "Perioden"
    filters = [k for k in export.filters if k != period]
    dimensions = {
        key: {"column": KNOWN_STEMS.get(key, _snake_case(key)), "title": key}
        for key in [*filters, export.row_dimension]
    }
    measures = {}
    for measure_title, unit in zip(export.measures, export.units, strict=True):
        measures[key_from_title(measure_title)] = {
            "title": measure_title,
            "unit": unit or None,
            "unit_note": "unit line of the export" if unit else None,
        }
    codes = [resolve_any_region(r) for r in export.regions]
    unassigned = [r for r, c in zip(export.regions, codes, strict=True) if c is None]
    options: dict[str, Any] = {}
    levels = {c[:2] for c in codes if c}
    if levels == {"GM"}:
        options["derive_regions_from"] = "GM"
        if len(unassigned) == 1 and "niet in te delen" in unassigned[0].lower():
            options["unassigned_region"] = unassigned[0]
    data = {
        "id": table_id,
        "title": title or export.title,
        "title_note": None if title else "line 1 of the export",
        "captured": None,
        "captured_note": "a StatLine wide export carries no download date",
        "modified": None,
        "national": False,
        "region_dimension": region_line,
        "measure_title_note": (
            "CBS's titles from the export's 'Onderwerp' line; codes built from them"
        ),
        "dimensions": dimensions,
        "measures": measures,
        "format": "statline_wide_csv",
        "options": options,
    }
    return data, []


def _declaration(data: dict[str, Any], root: str, files: list[Path]) -> TableDeclaration:
    source_path = files[0].name if root == "raw" else f"{data['id']}/{files[0].name}"
    fields = {k: v for k, v in data.items() if k not in {"format", "options"} and v is not None}
    return TableDeclaration.model_validate(
        {
            **fields,
            "completeness": "partial",
            "completeness_note": (
                "an analyst's StatLine download: the regions, periods and measures selected for "
                "it; not checked against the complete CBS table"
            ),
            "sources": [
                {
                    "path": source_path,
                    "root": root,
                    "format": data["format"],
                    "repository": "local import (noordstats snapshot import)",
                    "commit": "sha256:" + store.sha256_file(files[0])[:16],
                    "options": data["options"],
                }
            ],
            "provenance": [],
        }
    )


def _append_declaration(decl: TableDeclaration) -> None:
    """Append to tables.local.yaml atomically, after validating the whole new file."""
    target = paths.LOCAL_TABLES_FILE
    existing: list[dict] = []
    if target.exists():
        loaded = yaml.safe_load(target.read_text(encoding="utf-8")) or {}
        existing = loaded.get("tables") or []
    entry = decl.model_dump(mode="json", exclude_defaults=True)
    text = _LOCAL_HEADER + yaml.safe_dump(
        {"tables": [*existing, entry]}, sort_keys=False, allow_unicode=True, width=100
    )
    with store.atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        read_table_declarations(tmp)


def _check_new_id(table_id: str) -> None:
    if not _TABLE_ID.match(table_id):
        raise ImportUsageError(
            f"table id {table_id!r}: use letters, digits, '-' and '_' (e.g. 85701NED-2024)"
        )
    known = {k.lower() for k in declarations()}
    if table_id.lower() in known:
        raise ImportUsageError(
            f"table {table_id!r} is already declared; give another --id (known: "
            f"{', '.join(sorted(declarations(), key=str.lower))})"
        )


def _snake_case(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()


def _download_date(ddmmyyyy: str) -> str | None:
    try:
        return dt.datetime.strptime(ddmmyyyy, "%d%m%Y").date().isoformat()
    except ValueError:
        return None
