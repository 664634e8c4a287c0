"""Harvested OData v3 CSVs (``dertje/cbs_datasets``): ``;``-separated, UTF-8 with BOM, first
column ``ID``, dimension columns holding CBS *titles*, measure columns under their CBS keys.

Region titles become codes through the CBS region code list; titles of regions outside the
snapshot (SG, GA, AM, ES, ET, LG, CP, 'niet in te delen', other municipalities) are dropped.
Period titles become codes (``'2023 1e kwartaal'`` -> ``2023KW01``). A period title that CBS
marked as provisional (trailing space or ``*``) gets status ``voorlopig``; an unmarked one
``onbekend``: the harvest dropped CBS's status column, so no mark does not prove "definitief".

A table declared ``national`` has no region column (every row is NL01); one declared with
``keep_declared_measures_only`` keeps its declared measure columns and drops the others.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from noordstats import regions as reg
from noordstats.cbs_codes import CodeError, encode_period_label
from noordstats.declarations.tables import SourceFile, TableDeclaration
from noordstats.ingest.importers.common import (
    REGION_TITLE_ALIASES,
    SourceFormatError,
    check_field_counts,
    label_codes,
    parse_values,
    parser_error,
)
from noordstats.storage import rawfiles

_DROPPED_SUFFIXES = ("(SG)", "(GA)", "(AM)", "(ES)", "(ET)", "(LG)", "(CP)", "(G4)")


def read_semicolon_csv(path: Path, encoding: str = "utf-8-sig") -> pd.DataFrame:
    try:
        raw = pd.read_csv(
            rawfiles.open_text(path, encoding),
            sep=";",
            dtype=str,
            keep_default_na=False,
            quotechar='"',
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise parser_error(path, exc, "a ';'-separated CBS CSV") from None
    check_field_counts(path, ";", encoding)
    return raw


#: Words of CBS aggregate titles that carry an LD/PV/CR suffix but are no region of the registry
#: ('Niet in te delen (PV)', 'Extra-Regio (LD)', 'Buitenland (LD)', 'West-Nederland, exclusief
#: G4 (LD)'): dropped like the other regions outside the snapshot.
REMAINDER_WORDS = ("niet in te delen", "extra-regio", "buitenland", "exclusief")


def is_remainder_title(title: str) -> bool:
    return any(word in title.lower() for word in REMAINDER_WORDS)


def resolve_regions(titles: pd.Series, path: Path, line_numbers: pd.Series) -> pd.Series:
    """Region titles -> codes (None = outside the snapshot). An LD/PV/CR title that the CBS
    code list does not know is an error, not a silent drop."""
    mapping: dict[str, str | None] = {}
    for title in titles.unique():
        code = reg.resolve_region_title(title) or REGION_TITLE_ALIASES.get(title.strip())
        stripped = title.strip()
        if code is None and stripped.endswith(("(LD)", "(PV)", "(CR)")):
            if not is_remainder_title(stripped):
                first = titles[titles == title].index[0]
                raise SourceFormatError(
                    f"{path}:{int(line_numbers.loc[first])}: unknown region title {title!r}"
                )
        mapping[title] = code
    return titles.map(mapping)


def import_source(decl: TableDeclaration, source: SourceFile, raw_dir: Path) -> pd.DataFrame:
    path = rawfiles.stored_path(raw_dir / source.path)
    raw = read_semicolon_csv(path)
    if raw.columns[0] != "ID":
        raise SourceFormatError(f"{path}:1: first column must be 'ID', found {raw.columns[0]!r}")
    line_numbers = pd.Series(range(2, len(raw) + 2), index=raw.index)
    region_col, period_col = decl.region_dimension, decl.period_dimension
    dims = [c for c in raw.columns[1:] if c not in decl.measures]
    expected = {period_col, *decl.dimensions} | (set() if decl.national else {region_col})
    undeclared = set(dims) - expected
    if decl.keep_declared_measures_only:
        dims = [c for c in dims if c not in undeclared]
    if set(dims) != expected:
        raise SourceFormatError(
            f"{path}:1: columns {sorted(set(dims) ^ expected)} are neither declared dimensions "
            f"nor declared measures of {decl.id}"
        )
    absent = [m for m in decl.measures if m not in raw.columns]
    if absent:
        raise SourceFormatError(
            f"{path}:1: declared measure(s) not in the file: {', '.join(absent)}"
        )
    frame = pd.DataFrame(index=raw.index)
    if decl.national:
        frame["region_code"] = reg.NETHERLANDS
    else:
        frame["region_code"] = resolve_regions(raw[region_col], path, line_numbers)
    suffix = source.options.get("year_label_suffix")
    period_map: dict[str, str] = {}
    for label in raw[period_col].unique():
        try:
            period_map[label] = encode_period_label(
                label, suffix if isinstance(suffix, str) else None
            )
        except CodeError as exc:
            first = raw.index[raw[period_col] == label][0]
            raise SourceFormatError(f"{path}:{int(line_numbers.loc[first])}: {exc}") from None
    frame["period_code"] = raw[period_col].map(period_map)
    marks = raw[period_col]
    frame["status"] = "onbekend"
    frame.loc[marks.str.endswith("*") | (marks != marks.str.rstrip()), "status"] = "voorlopig"
    frame.loc[marks.str.rstrip().str.endswith("**"), "status"] = "nader voorlopig"
    for key, dim in decl.dimensions.items():
        frame[f"{dim.column}_name"] = raw[key].str.strip()
        frame[f"{dim.column}_code"] = label_codes(frame[f"{dim.column}_name"], dim.codes)
    frame["line"] = line_numbers
    frame = frame[frame.region_code.notna()]
    measures = [m for m in decl.measures if m in raw.columns]
    long = frame.join(raw.loc[frame.index, measures]).melt(
        id_vars=list(frame.columns), value_vars=measures, var_name="measure_code", value_name="cell"
    )
    long["value"] = parse_values(long["cell"], path, long["line"])
    return long.drop(columns=["cell", "line"])
