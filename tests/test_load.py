"""load_table on every shipped table: the canonical layout, its metadata, filters and errors."""

from __future__ import annotations

import pytest

from noordstats.cbs_codes import PERIOD_CODE_PATTERN
from noordstats.declarations.tables import (
    LEADING_COLUMNS,
    TRAILING_COLUMNS,
    UnknownTableError,
    declarations,
)
from noordstats.load import load_table
from noordstats.regions import RegionError

TABLES = list(declarations())
CATEGORY_COLUMNS = {"region_code", "region_name", "region_level", "period_code", "frequency"}


@pytest.mark.parametrize("table_id", TABLES)
def test_canonical_columns_in_order_with_dtypes(table_id: str) -> None:
    decl = declarations()[table_id]
    frame = load_table(table_id)
    dims = [f"{d.column}_{part}" for d in decl.dimensions.values() for part in ("code", "name")]
    assert list(frame.columns) == LEADING_COLUMNS + dims + TRAILING_COLUMNS
    assert len(frame) > 0
    assert frame.value.dtype == "float64"
    assert str(frame.year.dtype).startswith("int")
    assert str(frame.period_index.dtype).startswith("int")
    for column in CATEGORY_COLUMNS | {"status", "measure_code", *dims}:
        assert frame[column].dtype == "category", column
    assert set(frame.status.astype(str)) <= {
        "definitief", "voorlopig", "nader voorlopig", "berekend", "onbekend"
    }  # fmt: skip
    assert set(frame.frequency.astype(str)) <= {
        "year", "quarter", "month", "half-year", "school-year", "multi-year"
    }  # fmt: skip


@pytest.mark.parametrize("table_id", TABLES)
def test_codes_are_never_labels(table_id: str) -> None:
    decl = declarations()[table_id]
    frame = load_table(table_id)
    assert frame.region_code.astype(str).str.match(r"^(NL|LD|PV|CR|GM)\d+$").all()
    assert frame.period_code.astype(str).str.match(PERIOD_CODE_PATTERN).all()
    assert (frame.region_code.astype(str).str[:2] == frame.region_level.astype(str)).all()
    assert (frame.period_code.astype(str).str[:4].astype(int) == frame.year).all()
    assert set(frame.measure_code.astype(str)) <= set(decl.measures)
    titles = {k: m.title for k, m in decl.measures.items()}
    assert (frame.measure_code.astype(str).map(titles) == frame.measure_title.astype(str)).all()
    for dim in decl.dimensions.values():
        codes = frame[f"{dim.column}_code"].astype(str)
        assert not codes.str.contains(" ").any(), f"{dim.column}: a label used as code"
        pairs = frame[[f"{dim.column}_code", f"{dim.column}_name"]].drop_duplicates()
        assert pairs[f"{dim.column}_code"].is_unique, f"{dim.column}: one code, two names"


@pytest.mark.parametrize("table_id", TABLES)
def test_rows_are_unique_per_region_period_dims_measure(table_id: str) -> None:
    decl = declarations()[table_id]
    frame = load_table(table_id)
    keys = ["region_code", "period_code", *(f"{d.column}_code" for d in decl.dimensions.values())]
    assert not frame.duplicated([*keys, "measure_code"]).any()


@pytest.mark.parametrize("table_id", TABLES)
def test_metadata_travels_with_the_frame(table_id: str) -> None:
    decl = declarations()[table_id]
    frame = load_table(table_id)
    meta = frame.attrs["meta"]
    assert frame.attrs["source"] == "snapshot"
    assert frame.attrs["table_id"] == decl.id
    assert meta["id"] == decl.id
    assert meta["title"] == decl.title
    assert meta["licence"] == decl.licence
    assert meta["completeness"] == decl.completeness
    assert meta["sources"][0]["repository"] == decl.sources[0].repository
    assert meta["captured"] or meta["captured_note"]
    assert set(meta["measures"]) == set(decl.measures)


def test_partial_tables_say_so() -> None:
    for table_id, decl in declarations().items():
        if decl.completeness == "partial":
            assert load_table(table_id).attrs["meta"]["completeness_note"], table_id
    harvest = declarations()["83582NED-harvest"]
    assert harvest.completeness == "partial"
    assert "first 10,000 rows" in harvest.completeness_note


def test_region_and_period_filters() -> None:
    frame = load_table("83582NED", regions="LD01", periods=2020)
    assert set(frame.region_code.astype(str)) == {"LD01"}
    assert set(frame.period_code.astype(str)) == {"2020JJ00"}
    frame = load_table("83582NED", regions=["PV20", "NL01"], periods=["2010JJ00", "2024JJ00"])
    assert set(frame.region_code.astype(str)) == {"PV20", "NL01"}
    assert set(frame.period_code.astype(str)) == {"2010JJ00", "2024JJ00"}
    frame = load_table("85268NED", regions="LD01", periods="2024KW04")
    assert list(frame.frequency.astype(str).unique()) == ["quarter"]
    municipality = load_table("85701NED", regions="GM0014")
    assert set(municipality.region_name.astype(str)) == {"Groningen"}


def test_table_ids_are_case_insensitive() -> None:
    assert load_table("85701ned").attrs["table_id"] == "85701NED"


def test_unknown_table_lists_the_known_ones() -> None:
    with pytest.raises(UnknownTableError) as info:
        load_table("99999XYZ")
    message = str(info.value)
    assert "'99999XYZ'" in message
    for known in ("83582NED", "85701NED", "duo-hbo", "03759ned"):
        assert known in message


@pytest.mark.parametrize("code", ["PV99", "LD05", "XX01", "GM9999"])
def test_unknown_region_lists_the_valid_ones(code: str) -> None:
    with pytest.raises(RegionError) as info:
        load_table("83582NED", regions=code)
    assert "NL01" in str(info.value) and "PV20" in str(info.value)


def test_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError, match="valid: auto, snapshot, live"):
        load_table("83582NED", source="cache")  # type: ignore[arg-type]
