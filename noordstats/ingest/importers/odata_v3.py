"""CBS OData v3 rows with codes: padded keys (``'CR01  '``), period codes (``2024JJ00``), one
column per measure. Used for raw v3 CSV captures (83582NED COROP copy) and for the rows the live
path downloads with cbsodata (``TypedDataSet``). A table declared ``national`` has no region
column: every row is Nederland (NL01).

Dimension codes are kept as CBS serves them (stripped). Names come from the dimension's code list
when one is given (live: CBS's own list; snapshot: the table declaration's ``codes`` mapping,
label -> code, read in reverse).

:func:`tidy_from_properties` needs no declaration: it reads any table from its own DataProperties
(dimensions, GeoDetail, TopicGroups, topics with Datatype, Unit, Decimals), its code lists and its
rows, as CBS's OData v3 service sends them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from noordstats import regions as region_registry
from noordstats.cbs_codes import (
    FREQUENCIES,
    PERIOD_CODE_PATTERN,
    CodeError,
    normalise_status,
    region_level,
)
from noordstats.declarations.tables import (
    LEADING_COLUMNS,
    TRAILING_COLUMNS,
    SourceFile,
    TableDeclaration,
)
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


#: DataProperties types that are dimensions; the geo ones are region dimensions (GeoDetail: the
#: wijken-en-buurten tables, codes NL00, GM0014, WK001400, BU00140000).
DIMENSION_TYPES = ("Dimension", "GeoDimension", "GeoDetail", "TimeDimension")
REGION_TYPES = ("GeoDimension", "GeoDetail")
#: Topic Datatypes that hold numbers; any other (``String``) is text and left out of the values.
NUMBER_DATATYPES = ("Long", "Integer", "Short", "Float", "Double", "Decimal")


@dataclass
class V3Properties:
    """A table's DataProperties, read: what each key is."""

    region: str | None = None  # the GeoDimension / GeoDetail key
    period: str | None = None  # the TimeDimension key
    dimensions: dict[str, str] = field(default_factory=dict)  # other dimensions: key -> title
    measures: dict[str, dict[str, Any]] = field(default_factory=dict)  # numeric topics
    text_measures: dict[str, str] = field(default_factory=dict)  # String topics: key -> title
    groups: dict[str, list[str]] = field(default_factory=dict)  # topic key -> group titles

    @property
    def dimension_keys(self) -> list[str]:
        return [k for k in (self.region, self.period) if k] + list(self.dimensions)


def topic_groups(properties: list[dict[str, Any]]) -> dict[str, list[str]]:
    """{topic key: titles of the TopicGroups it is nested in, outermost first}. CBS lists groups
    as entries with Key "" and Position null; topics point at their group by ParentID, groups
    at theirs (80137ned: 'Gemiddeld aantal banen' > Totaal_1; 84799NED nests three deep)."""
    by_id = {p.get("ID"): p for p in properties if p.get("ID") is not None}
    groups = {}
    for prop in properties:
        if prop.get("Type") != "Topic":
            continue
        path: list[str] = []
        parent, seen = prop.get("ParentID"), set()
        while parent is not None and parent in by_id and parent not in seen:
            seen.add(parent)
            entry = by_id[parent]
            if entry.get("Type") == "TopicGroup":
                path.append(str(entry.get("Title") or "").strip())
            parent = entry.get("ParentID")
        groups[str(prop["Key"])] = path[::-1]
    return groups


def read_properties(properties: list[dict[str, Any]]) -> V3Properties:
    """DataProperties -> :class:`V3Properties`. The first GeoDimension/GeoDetail is the region
    dimension and the first TimeDimension the period dimension; any further one is an ordinary
    dimension."""
    read = V3Properties(groups=topic_groups(properties))
    for prop in properties:
        kind, key = prop.get("Type"), str(prop.get("Key") or "")
        title = str(prop.get("Title") or "").strip()
        if kind in REGION_TYPES and read.region is None:
            read.region = key
        elif kind == "TimeDimension" and read.period is None:
            read.period = key
        elif kind in DIMENSION_TYPES:
            read.dimensions[key] = title
        elif kind == "Topic" and prop.get("Datatype", "Double") not in NUMBER_DATATYPES:
            read.text_measures[key] = title
        elif kind == "Topic":
            read.measures[key] = {
                "title": title,
                "unit": str(prop.get("Unit") or "").strip() or None,
                "decimals": prop.get("Decimals"),
                "datatype": prop.get("Datatype"),
            }
    return read


def column_stem(key: str) -> str:
    """A dimension key -> the stem of its canonical columns: ``'BedrijfstakkenSBI93'`` ->
    ``'bedrijfstakken_sbi93'`` (``bedrijfstakken_sbi93_code``, ``_name``)."""
    words = re.findall(r"[A-Z]+\d*(?=[A-Z][a-z])|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+", key)
    return "_".join(w.lower() for w in words) or key.lower()


def round_to_decimals(values: pd.Series, decimals: int | None) -> pd.Series:
    """Numbers rounded to the topic's ``Decimals`` (no-op for CBS's JSON, which has no more;
    removes float noise, e.g. of values stored as float32 on the way)."""
    if decimals is None or not pd.api.types.is_numeric_dtype(values):
        return values
    return values.round(int(decimals))


def _names(code_list: list[dict[str, Any]] | None) -> dict[str, str]:
    """A code list -> {stripped key: stripped title}."""
    return {str(c["Key"]).strip(): str(c.get("Title") or "").strip() for c in code_list or []}


def tidy_from_properties(
    properties: list[dict[str, Any]],
    code_lists: dict[str, list[dict[str, Any]]],
    rows: list[dict[str, Any]],
    path: Path | str = "<rows>",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Any CBS OData v3 table, read from its own metadata -> (tidy frame, notes).

    ``properties``: DataProperties; ``code_lists``: {dimension key: code list} (the period list
    gives each period's Status); ``rows``: TypedDataSet (numbers) or UntypedDataSet (strings)
    rows. The frame has the canonical layout (``docs/data.md``): region from the GeoDimension or
    GeoDetail (no region dimension: every row is Nederland, NL01), periods from the
    TimeDimension (none: period columns empty), ``<stem>_code``/``<stem>_name`` per other
    dimension (:func:`column_stem`), one row per numeric topic, values rounded to its Decimals.
    Every region is kept (no snapshot rule); ``region_level`` is what the code says (WK, BU),
    empty for a code without a CBS prefix. Titles are stripped. Text topics (Datatype String)
    are left out and named in the notes. Notes: measure groups (TopicGroup titles, outermost
    first), CBS units, decimals and datatypes, dimensions and their columns, text topics left
    out.
    """
    path = Path(path)
    read = read_properties(properties)
    frame = pd.DataFrame.from_records(rows)
    missing = [k for k in [*read.dimension_keys, *read.measures] if k not in frame.columns]
    if missing:
        raise SourceFormatError(f"{path}:1: missing column(s) {', '.join(missing[:5])}")
    n_rows, measures = len(frame), list(read.measures)
    line_numbers = pd.Series(range(1, n_rows + 1), index=frame.index)
    ids = pd.DataFrame(index=frame.index)
    if read.region:
        ids["region_code"] = frame[read.region].astype(str).str.strip()
        names = _names(code_lists.get(read.region))
    else:
        ids["region_code"] = NETHERLANDS
        names = {NETHERLANDS: region_registry.region_name(NETHERLANDS)}
    ids["region_name"] = ids.region_code.map(names)
    levels = {code: _region_level(code) for code in ids.region_code.unique()}
    ids["region_level"] = ids.region_code.map(levels)
    if read.period:
        ids["period_code"] = frame[read.period].astype(str).str.strip()
        bad = ~ids.period_code.str.match(PERIOD_CODE_PATTERN)
        if bad.any():
            raise SourceFormatError(
                f"{path}:{int(line_numbers[bad.idxmax()])}: not a CBS period code: "
                f"{frame.loc[bad.idxmax(), read.period]!r} (e.g. 2023JJ00, 2023KW01, 2023MM12)"
            )
        ids["year"] = ids.period_code.str[:4].astype("int16")
        ids["frequency"] = ids.period_code.str[4:6].map(FREQUENCIES)
        ids["period_index"] = ids.period_code.str[6:8].astype("int8")
        statuses = {
            str(p["Key"]).strip(): normalise_status(p.get("Status"))
            for p in code_lists.get(read.period) or []
        }
        ids["status"] = ids.period_code.map(statuses).fillna("onbekend")
    else:
        ids["period_code"] = None
        ids["year"] = pd.array([pd.NA] * n_rows, dtype="Int16")
        ids["frequency"] = None
        ids["period_index"] = pd.array([pd.NA] * n_rows, dtype="Int8")
        ids["status"] = "onbekend"
    dimensions = {}
    for key, title in read.dimensions.items():
        stem = column_stem(key)
        dimensions[key] = {"column": stem, "title": title}
        ids[f"{stem}_code"] = frame[key].astype(str).str.strip()
        lookup = _names(code_lists.get(key))
        unknown = sorted(set(ids[f"{stem}_code"]) - set(lookup))
        if unknown:
            raise SourceFormatError(f"{path}: {key} code(s) without a name: {', '.join(unknown)}")
        ids[f"{stem}_name"] = ids[f"{stem}_code"].map(lookup)
    values = {
        m: round_to_decimals(
            parse_values(frame[m], path, line_numbers), read.measures[m]["decimals"]
        )
        for m in measures
    }
    # long: the id columns repeated once per measure (measure-major, like DataFrame.melt)
    repeat = np.tile(np.arange(n_rows), len(measures))
    long = {
        column: pd.Categorical(ids[column]).take(repeat)
        if not pd.api.types.is_numeric_dtype(ids[column])
        else ids[column].array.take(repeat)
        for column in ids.columns
    }
    tidy = pd.DataFrame(long)
    tidy["measure_code"] = np.repeat(measures, n_rows)
    tidy["measure_title"] = tidy.measure_code.map({m: d["title"] for m, d in read.measures.items()})
    tidy["unit"] = tidy.measure_code.map({m: d["unit"] for m, d in read.measures.items()})
    tidy["value"] = np.concatenate(
        [values[m].to_numpy(dtype="float64") for m in measures] or [np.empty(0)]
    )
    dim_columns = [
        f"{d['column']}_{part}" for d in dimensions.values() for part in ("code", "name")
    ]
    tidy = tidy[LEADING_COLUMNS + dim_columns + TRAILING_COLUMNS]
    for column in tidy.columns:
        if column not in {"value", "year", "period_index"}:
            tidy[column] = tidy[column].astype("category")
    notes = {
        "national": read.region is None,
        "region_dimension": read.region,
        "period_dimension": read.period,
        "dimensions": dimensions,
        "measure_groups": {m: read.groups.get(m, []) for m in measures},
        "cbs_units": {m: d["unit"] for m, d in read.measures.items()},
        "cbs_decimals": {m: d["decimals"] for m, d in read.measures.items()},
        "cbs_datatypes": {m: d["datatype"] for m, d in read.measures.items()},
        "text_measures": dict(read.text_measures),
        "text_measures_note": (
            f"{len(read.text_measures)} text topic(s) (Datatype String) left out: "
            + ", ".join(read.text_measures)
            if read.text_measures
            else None
        ),
    }
    return tidy, notes


def _region_level(code: str) -> str | None:
    try:
        return region_level(code)
    except CodeError:
        return None
