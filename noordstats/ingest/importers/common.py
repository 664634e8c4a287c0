"""Shared steps of every importer: value parsing with file/line errors, and final assembly."""

from __future__ import annotations

import csv
import itertools
import re
from functools import cache
from pathlib import Path

import pandas as pd

from noordstats import regions as reg
from noordstats.cbs_codes import (
    FREQUENCIES,
    MISSING_MARKERS,
    NIL_MARKERS,
    PERIOD_CODE_PATTERN,
    CodeError,
)
from noordstats.declarations.tables import LEADING_COLUMNS, TRAILING_COLUMNS, TableDeclaration
from noordstats.errors import UserError
from noordstats.storage import rawfiles


class SourceFormatError(UserError):
    """A raw file that does not have the shape its importer expects (names file and line)."""


def parser_error(path: Path, exc: Exception, what: str) -> SourceFormatError:
    """A pandas/csv parsing error as a SourceFormatError naming file and line (pandas counts
    lines from 1, the header included, as an editor does)."""
    found = re.search(r"line (\d+)", str(exc))
    where = f"{path}:{found.group(1)}" if found else f"{path}"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SourceFormatError(f"{where}: not {what}: {detail}")


def check_field_counts(path: Path, sep: str, encoding: str = "utf-8-sig") -> None:
    """Every line has as many fields as the header. (pandas pads a short line with empty cells,
    which would read as 'not published': a cut line must be an error, named with its line.)"""
    with rawfiles.open_text(path, encoding) as fh:
        reader = csv.reader(fh, delimiter=sep, quotechar='"')
        width = len(next(reader, []))
        for row in reader:
            if row and len(row) != width:
                raise SourceFormatError(
                    f"{path}:{reader.line_num}: {len(row)} fields, the header has {width}"
                )


def parse_values(
    cells: pd.Series, path: Path, line_numbers: pd.Series, decimal_comma: bool = False
) -> pd.Series:
    """Vectorised :func:`noordstats.cbs_codes.parse_value`: markers -> NaN, ``-`` -> 0.

    A cell that is neither a number nor a CBS marker raises with the file and line.
    """
    text = cells.astype("string").str.strip().fillna("")
    if decimal_comma:
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    is_marker = text.isin(list(MISSING_MARKERS))
    is_nil = text.isin(list(NIL_MARKERS))
    numbers = pd.to_numeric(text.where(~(is_marker | is_nil)), errors="coerce")
    bad = numbers.isna() & ~is_marker & ~is_nil
    if bad.any():
        first = bad.idxmax()
        line = int(line_numbers.loc[first])
        raise SourceFormatError(f"{path}:{line}: not a number or CBS marker: {cells.loc[first]!r}")
    return numbers.where(~is_nil, 0.0).astype("float64")


def keep_snapshot_regions(frame: pd.DataFrame) -> pd.DataFrame:
    """The snapshot's region rule: NL, LD, PV, CR, and the municipalities of PV20-PV22."""
    registry = reg.load_regions().set_index("region_code")
    known = frame.region_code.isin(registry.index)
    level = frame.region_code.map(registry.region_level)
    province = frame.region_code.map(registry.province_code)
    keep = known & (
        level.isin(reg.SNAPSHOT_LEVELS) | ((level == "GM") & province.isin(reg.NORTHERN_PROVINCES))
    )
    return frame[keep]


def assemble(decl: TableDeclaration, frame: pd.DataFrame) -> pd.DataFrame:
    """Add names, levels, period parts, measure titles and units; order the columns."""
    unknown = sorted(set(frame.measure_code) - set(decl.measures))
    if unknown:
        raise CodeError(f"{decl.id}: measures not declared in tables.yaml: {', '.join(unknown)}")
    frame = keep_snapshot_regions(frame).copy()
    registry = reg.load_regions().set_index("region_code")
    frame["region_name"] = frame.region_code.map(registry.region_name)
    frame["region_level"] = frame.region_code.map(registry.region_level)
    periods = frame.period_code.drop_duplicates()
    bad = periods[~periods.str.match(PERIOD_CODE_PATTERN)]
    if not bad.empty:
        raise CodeError(f"{decl.id}: not CBS period codes: {', '.join(bad[:5])}")
    frame["year"] = frame.period_code.str[:4].astype("int16")
    frame["frequency"] = frame.period_code.str[4:6].map(FREQUENCIES)
    frame["period_index"] = frame.period_code.str[6:8].astype("int8")
    frame["measure_title"] = frame.measure_code.map({k: m.title for k, m in decl.measures.items()})
    frame["unit"] = frame.measure_code.map({k: m.unit for k, m in decl.measures.items()})
    dim_columns = [
        f"{d.column}_{part}" for d in decl.dimensions.values() for part in ("code", "name")
    ]
    missing = [c for c in dim_columns if c not in frame.columns]
    if missing:
        raise CodeError(f"{decl.id}: importer gave no {', '.join(missing)}")
    frame["value"] = frame["value"].astype("float64")
    columns = LEADING_COLUMNS + dim_columns + TRAILING_COLUMNS
    frame = frame[columns].sort_values(
        ["region_code", "period_code", *dim_columns[::2], "measure_code"], ignore_index=True
    )
    for column in columns:
        if column not in {"value", "year", "period_index"}:
            frame[column] = frame[column].astype("category")
            if frame[column].isna().all():  # e.g. no unit known: keep text categories on disk
                frame[column] = frame[column].cat.set_categories(pd.Index([], dtype="str"))
    return frame


def label_codes(labels: pd.Series, declared: dict[str, str]) -> pd.Series:
    """Codes for a label-only dimension: the declared CBS code where known, else the leading
    code token of an SBI-style label (``'A-U Alle economische activiteiten'`` -> ``'A-U'``,
    ``'G+I Handel en horeca'`` -> ``'G+I'``),
    else a key derived from the label itself. Never returns the bare label as a code."""

    mapping = {label: label_code(label, declared) for label in labels.dropna().unique()}
    return labels.map(mapping)


def label_code(label: str, declared: dict[str, str] | None = None) -> str:
    """One label's code by :func:`label_codes`' rule (also used to reconcile CBS's titles with
    a snapshot whose codes were rebuilt from labels)."""
    if declared and label in declared:
        return declared[label]
    token = label.split(" ", 1)[0]
    if len(label.split(" ", 1)) == 2 and (
        token.replace("-", "").replace("+", "").isalnum() and (token.isupper() or token.isdigit())
    ):
        return token
    return "L_" + "".join(ch if ch.isalnum() else "_" for ch in label.lower()).strip("_")


def add_region_sums(
    frame: pd.DataFrame,
    from_level: str,
    to_levels: tuple[str, ...],
    national_extra: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add rows for higher regions as sums of ``from_level`` regions (status ``berekend``).

    Used where CBS publishes only lower regions in the captured file (83582NED COROP copy,
    85701NED municipalities). A sum is published only when every part is: one missing
    (secret, not available) part makes the sum missing, never a partial total.
    ``national_extra``: rows (same columns) that belong to Nederland but to no lower region
    (85701NED's 'Gemeenten; niet in te delen'); they count towards the NL sum only.
    """
    registry = reg.load_regions().set_index("region_code")
    base = frame[frame.region_code.map(registry.region_level) == from_level]
    parent_column = {"PV": "province_code", "LD": "landsdeel_code"}
    keys = [c for c in base.columns if c not in {"region_code", "value", "status"}]
    sums = []
    for level in to_levels:
        parts = base
        if level == "NL":
            if national_extra is not None:
                parts = pd.concat([base, national_extra[base.columns]], ignore_index=True)
            parent = pd.Series("NL01", index=parts.index)
        else:
            parent = base.region_code.map(registry[parent_column[level]])
        grouped = parts.assign(region_code=parent).groupby(["region_code", *keys], observed=True)
        total = grouped["value"].sum(min_count=1)
        complete = grouped["value"].count() == grouped["value"].size()
        total = total.where(complete)
        sums.append(total.reset_index().assign(status="berekend"))
    return pd.concat([frame, *sums], ignore_index=True)


def derive_regions(frame: pd.DataFrame, options: dict) -> pd.DataFrame:
    """Apply a source's ``derive_regions_from`` / ``derive_regions_to`` options (default: sums
    for PV, LD and NL) with :func:`add_region_sums`; without the option the frame is unchanged."""
    source_level = options.get("derive_regions_from")
    if not source_level:
        return frame
    to_levels = options.get("derive_regions_to") or ["PV", "LD", "NL"]
    return add_region_sums(frame, str(source_level), tuple(str(t) for t in to_levels))


#: Spellings of region titles in the raw files that the CBS code list (2026) does not carry; every
#: LD/PV/CR title and every northern municipality title of the raw files was checked against it.
REGION_TITLE_ALIASES = {
    "Súdwest Fryslân": "GM1900",  # 81575ned (StatWeb, 2012); code list: 'Súdwest-Fryslân'
    "Noord-Fryslân (CR)": "CR04",  # 81578NED; code list: 'Noord-Friesland (CR)'
    "Zuidwest-Fryslân (CR)": "CR05",  # 81578NED; code list: 'Zuidwest-Friesland (CR)'
    "Zuidoost-Fryslân (CR)": "CR06",  # 81578NED; code list: 'Zuidoost-Friesland (CR)'
}


@cache
def municipality_codes() -> dict[str, str]:
    """Every municipality in the CBS code list (dissolved ones too): CBS title and bare name ->
    GM code. A name that two municipalities share maps to neither (resolved only by title)."""
    registry = reg.load_regions()
    gm = registry[registry.region_level == "GM"]
    by_title = dict(zip(gm.cbs_title, gm.region_code, strict=True))
    names = gm.region_name.value_counts()
    by_name = {n: c for n, c in zip(gm.region_name, gm.region_code, strict=True) if names[n] == 1}
    aliases = {k: v for k, v in REGION_TITLE_ALIASES.items() if v.startswith("GM")}
    return {**aliases, **by_name, **by_title}


def resolve_any_region(title: str) -> str | None:
    """A region title -> code at every level, municipalities of the whole country included
    (``'Groningen (PV)'`` -> PV20, ``'Aa en Hunze'`` -> GM1680); None if CBS's list lacks it."""
    return reg.resolve_region_title(title, municipalities=False) or municipality_codes().get(
        title.strip()
    )


def read_csv_rows(
    path: Path,
    what: str,
    encoding: str = "utf-8-sig",
    limit: int | None = None,
    skip_blank: bool = False,
) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` of a ``;``-separated export (plain or ``.gz``, see
    :mod:`noordstats.storage.rawfiles`); an unreadable line or encoding is a
    :class:`SourceFormatError` naming the file (and line) and ``what`` the file should be."""
    reader = None
    try:
        with rawfiles.open_text(path, encoding) as fh:
            reader = csv.reader(fh, delimiter=";", quotechar='"', strict=True)
            rows = itertools.islice(reader, limit) if limit else reader
            return [(reader.line_num, row) for row in rows if row or not skip_blank]
    except csv.Error as exc:
        raise SourceFormatError(f"{path}:{reader.line_num}: not a {what}: {exc}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise SourceFormatError(f"{path}: not a {what}: {exc}") from None
