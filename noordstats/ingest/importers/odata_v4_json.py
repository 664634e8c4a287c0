"""CBS OData v4 captures (datasets.cbs.nl): ``index.json`` names the observation pages and code
lists; observations are long (``Measure``, ``Value``, one column per dimension, unpadded codes).

The source path is the capture's ``index.json``. Dimension names come from ``codes-<dim>.json``,
the status of each period from ``codes-Perioden.json`` (``Status``). Observations CBS marks
``ValueAttribute = 'Impossible'`` (a region that did not exist that year, a period not yet
reached) are not statistics and are left out; any other empty ``Value`` stays NaN.
Options: ``derive_regions_from`` / ``derive_regions_to`` (see ``common.derive_regions``).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from noordstats.cbs_codes import CodeError, normalise_status
from noordstats.declarations.tables import SourceFile, TableDeclaration
from noordstats.ingest.importers.common import SourceFormatError, derive_regions
from noordstats.ingest.importers.json_records import read_json_document, read_json_items
from noordstats.regions import NETHERLANDS
from noordstats.storage import rawfiles

NOT_A_STATISTIC = "Impossible"


def read_code_list(folder: Path, dimension: str) -> list[dict]:
    path = rawfiles.stored_path(folder / f"codes-{dimension}.json")
    if not path.exists():
        raise SourceFormatError(f"{path}: code list of {dimension} missing from the capture")
    doc = read_json_document(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
        raise SourceFormatError(f"{path}:1: expected an OData object with a 'value' list")
    return doc["value"]


def read_period_status(folder: Path) -> dict[str, str]:
    path = rawfiles.stored_path(folder / "codes-Perioden.json")
    status = {}
    for item in read_code_list(folder, "Perioden"):
        try:
            status[item["Identifier"]] = normalise_status(item.get("Status"))
        except CodeError as exc:
            raise SourceFormatError(f"{path}: {exc}") from None
    return status


def import_source(decl: TableDeclaration, source: SourceFile, raw_dir: Path) -> pd.DataFrame:
    index_path = rawfiles.stored_path(raw_dir / source.path)
    folder = index_path.parent
    index = read_json_document(index_path)
    pages = index.get("observationPages") if isinstance(index, dict) else None
    if not pages:
        raise SourceFormatError(f"{index_path}:1: no 'observationPages' list in the index")
    statuses = read_period_status(folder)
    names = {
        key: {c["Identifier"]: c["Title"].strip() for c in read_code_list(folder, key)}
        for key in decl.dimensions
    }
    frames = [_read_page(decl, rawfiles.stored_path(folder / page), names) for page in pages]
    frame = pd.concat(frames, ignore_index=True)
    frame["status"] = [statuses.get(p, "onbekend") for p in frame.period_code]
    return derive_regions(frame, source.options)


def _read_page(
    decl: TableDeclaration, path: Path, names: dict[str, dict[str, str]]
) -> pd.DataFrame:
    items = read_json_items(path, "value")
    needed = ["Measure", "Value", decl.period_dimension, *decl.dimensions]
    if not decl.national:
        needed.append(decl.region_dimension)
    rows = []
    for line, item in items:
        if not isinstance(item, dict):
            raise SourceFormatError(f"{path}:{line}: an observation must be a JSON object")
        missing = [k for k in needed if k not in item]
        if missing:
            raise SourceFormatError(f"{path}:{line}: observation lacks {', '.join(missing)}")
        if item.get("ValueAttribute") == NOT_A_STATISTIC:
            continue
        value = item["Value"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise SourceFormatError(f"{path}:{line}: Value must be a number or null: {value!r}")
        measure = item["Measure"]
        if measure not in decl.measures:
            if decl.keep_declared_measures_only:
                continue
            raise SourceFormatError(
                f"{path}:{line}: measure {measure!r} is not declared for {decl.id}"
            )
        row = {
            "region_code": NETHERLANDS if decl.national else item[decl.region_dimension].strip(),
            "period_code": item[decl.period_dimension].strip(),
            "measure_code": measure,
            "value": math.nan if value is None else float(value),
        }
        for key, dim in decl.dimensions.items():
            code = str(item[key]).strip()
            if code not in names[key]:
                raise SourceFormatError(
                    f"{path}:{line}: {key} code {code!r} is not in its code list"
                )
            row[f"{dim.column}_code"] = code
            row[f"{dim.column}_name"] = names[key][code]
        rows.append(row)
    return pd.DataFrame(rows)
