"""CBS OData v3 rows with codes: padded keys (``'CR01  '``), period codes (``2024JJ00``), one
column per measure. Used for raw v3 CSV captures (83582NED COROP copy) and for the rows the live
path downloads with cbsodata (``TypedDataSet``). A table declared ``national`` has no region
column: every row is Nederland (NL01).

Dimension codes are kept as CBS serves them (stripped). Names come from the dimension's code list
when one is given (live: CBS's own list; snapshot: the table declaration's ``codes`` mapping,
label -> code, read in reverse).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from noordstats.cbs_codes import PERIOD_CODE_PATTERN, normalise_status
from noordstats.declarations.tables import SourceFile, TableDeclaration
from noordstats.ingest.importers.common import (
    SourceFormatError,
    check_field_counts,
    derive_regions,
    parse_values,
    parser_error,
)
from noordstats.regions import NETHERLANDS
from noordstats.storage import rawfiles


def tidy_from_v3_rows(
    decl: TableDeclaration,
    rows: pd.DataFrame,
    dimension_names: dict[str, dict[str, str]] | None = None,
    period_status: dict[str, str] | None = None,
    path: Path | str = "<rows>",
    line_numbers: pd.Series | None = None,
) -> pd.DataFrame:
    """v3 rows (columns = CBS keys) -> importer frame (see ``noordstats.ingest.importers``).

    ``dimension_names``: {dimension key: {code: title}}; defaults to the declaration's codes.
    ``period_status``: {period code: CBS status}; missing periods get ``onbekend``.
    """
    path = Path(path)
    if line_numbers is None:
        line_numbers = pd.Series(range(2, len(rows) + 2), index=rows.index)
    region_col, period_col = decl.region_dimension, decl.period_dimension
    needed = (
        [period_col, *decl.dimensions]
        if decl.national
        else [region_col, period_col, *decl.dimensions]
    )
    missing = [c for c in needed if c not in rows.columns]
    if missing:
        raise SourceFormatError(f"{path}:1: missing dimension column(s) {', '.join(missing)}")
    measures = [c for c in rows.columns if c in decl.measures]
    undeclared = [
        c for c in rows.columns if c not in decl.measures and c not in needed and c != "ID"
    ]
    if undeclared:
        raise SourceFormatError(
            f"{path}:1: column(s) {', '.join(undeclared)} are not declared for {decl.id}"
        )
    frame = pd.DataFrame(index=rows.index)
    frame["region_code"] = (
        NETHERLANDS if decl.national else rows[region_col].astype(str).str.strip()
    )
    frame["period_code"] = rows[period_col].astype(str).str.strip()
    bad = ~frame.period_code.str.match(PERIOD_CODE_PATTERN)
    if bad.any():
        first = bad.idxmax()
        raise SourceFormatError(
            f"{path}:{int(line_numbers.loc[first])}: not a CBS period code: "
            f"{rows.loc[first, period_col]!r} (e.g. 2023JJ00, 2023KW01, 2023MM12)"
        )
    statuses = {k: normalise_status(v) for k, v in (period_status or {}).items()}
    frame["status"] = [statuses.get(p, "onbekend") for p in frame.period_code]
    names = dimension_names or {}
    for key, dim in decl.dimensions.items():
        codes = rows[key].astype(str).str.strip()
        lookup = names.get(key) or {code: label for label, code in dim.codes.items()}
        unknown = sorted(set(codes) - set(lookup))
        if unknown:
            raise SourceFormatError(
                f"{path}: {key} code(s) without a name: {', '.join(unknown[:5])}"
            )
        frame[f"{dim.column}_code"] = codes
        frame[f"{dim.column}_name"] = codes.map(lookup)
    frame["line"] = line_numbers
    long = frame.join(rows[measures]).melt(
        id_vars=list(frame.columns), value_vars=measures, var_name="measure_code", value_name="cell"
    )
    long["value"] = parse_values(long["cell"], path, long["line"])
    return long.drop(columns=["cell", "line"])


def import_source(decl: TableDeclaration, source: SourceFile, raw_dir: Path) -> pd.DataFrame:
    path = rawfiles.stored_path(raw_dir / source.path)
    sep = source.options.get("separator", ",")
    try:
        rows = pd.read_csv(rawfiles.open_text(path), sep=str(sep), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise parser_error(path, exc, "an OData v3 CSV") from None
    check_field_counts(path, str(sep))
    frame = tidy_from_v3_rows(decl, rows, path=path)
    return derive_regions(frame, source.options)
