"""Indicators against the raw CBS files (read here with the csv module, not the code under
test), and properties every indicator must have."""

from __future__ import annotations

import csv
import math
import time
from functools import cache

import pandas as pd
import pytest

from noordstats import paths
from noordstats.analysis import arithmetic, frames, indicators
from noordstats.declarations.files import ConfigError
from noordstats.declarations.indicators import load_indicators
from noordstats.declarations.themes import tables_used, theme_ids
from noordstats.regions import RegionError
from noordstats.report import wording
from tests.raw_helpers import open_raw, read_raw_json

RAW = paths.raw_data_dir()
NORTH_COROP = [f"CR{i:02d}" for i in range(1, 10)]
ALL_COROP = [f"CR{i:02d}" for i in range(1, 41)]
PROVINCES = [f"PV{i}" for i in range(20, 32)]


@cache
def raw_regional_accounts() -> dict[tuple[str, str], dict[str, str]]:
    """85924NED.csv -> {(region title, period title): row}."""
    with open_raw(RAW / "cbs/85924NED/85924NED.csv") as f:
        return {
            (r["RegioS"].strip(), r["Perioden"].strip()): r
            for r in csv.DictReader(f, delimiter=";")
        }


@cache
def raw_jobs() -> dict[tuple[str, str, str], float | None]:
    """83582NED COROP csv -> {(sector key, COROP code, period code): jobs x 1 000 or None}."""
    out = {}
    with open_raw(RAW / "cbs/83582NED/corop/83582NED_corop.csv", "ascii") as f:
        for r in csv.DictReader(f):
            cell = r["BanenVanWerknemersInDecember_1"].strip()
            key = (r["BedrijfstakkenBranchesSBI2008"].strip(), r["RegioS"].strip(), r["Perioden"])
            out[key] = float(cell) if cell else None
    return out


def raw_jobs_sum(sector: str, areas: list[str], year: int) -> float:
    values = [raw_jobs()[(sector, area, f"{year}JJ00")] for area in areas]
    assert all(v is not None for v in values)
    return sum(values)


# --- against the raw files --------------------------------------------------------------------


def test_north_share_of_dutch_gdp_2023_from_the_raw_file():
    rows = raw_regional_accounts()
    north = float(rows[("Noord-Nederland (LD)", "2023")]["BbpMarktprijzen_1"])
    nl = float(rows[("Nederland", "2023")]["BbpMarktprijzen_1"])
    result = indicators.compute_indicator("gdp_share_nl", "LD01", year=2023)
    assert result.value == pytest.approx(north / nl * 100, rel=1e-12)
    assert result.period_code == "2023JJ00" and result.nl_value == pytest.approx(100.0)


def test_gdp_per_inhabitant_index_and_rank_among_provinces_from_the_raw_file():
    rows = raw_regional_accounts()
    titles = {"PV20": "Groningen (PV)", "PV21": "Fryslân (PV)", "PV22": "Drenthe (PV)"}
    nl = float(rows[("Nederland", "2023")]["BbpPerInwoner_2"])
    for code, title in titles.items():
        own = float(rows[(title, "2023")]["BbpPerInwoner_2"])
        result = indicators.compute_indicator("gdp_per_inhabitant_index", code, year=2023)
        assert result.value == pytest.approx(own / nl * 100, rel=1e-12)
        province_titles = [k[0] for k in rows if k[0].endswith("(PV)") and k[1] == "2023"]
        higher = sum(float(rows[(t, "2023")]["BbpPerInwoner_2"]) > own for t in province_titles)
        assert result.rank == higher + 1 and result.n_peers == 12


def test_real_growth_compounded_from_the_raw_yearly_changes():
    rows = raw_regional_accounts()
    factor = 1.0
    for year in range(2014, 2024):
        factor *= 1 + float(rows[("Noord-Nederland (LD)", str(year))]["BbpVolumemutaties_3"]) / 100
    result = indicators.compute_indicator("gdp_volume_cagr_10y", "LD01", year=2023)
    assert result.value == pytest.approx((factor ** (1 / 10) - 1) * 100, rel=1e-9)
    # ten yearly changes carry the 2013 level to 2023: one label per span, as a 10-year cagr's
    assert wording.period_text(result, "en") == "2013-2023"
    labour = indicators.compute_indicator("labour_years_cagr_10y", "LD01", year=2023)
    assert wording.period_text(labour, "en") == wording.period_text(result, "en")


def test_location_quotient_of_agriculture_in_the_north_from_raw_corop_sums():
    year = 2024
    north_a = raw_jobs_sum("301000", NORTH_COROP, year)
    north_total = raw_jobs_sum("T001081", NORTH_COROP, year)
    nl_a = raw_jobs_sum("301000", ALL_COROP, year)
    nl_total = raw_jobs_sum("T001081", ALL_COROP, year)
    expected = (north_a / north_total) / (nl_a / nl_total)
    result = indicators.compute_indicator("lq_jobs_agriculture", "LD01", year=year)
    assert result.value == pytest.approx(expected, rel=1e-9)


def test_jobs_growth_of_a_corop_area_from_the_raw_file():
    start, end = (
        raw_jobs()[("T001081", "CR05", "2014JJ00")],
        raw_jobs()[("T001081", "CR05", "2024JJ00")],
    )
    result = indicators.compute_indicator("jobs_growth_10y", "CR05")
    assert result.year == 2024
    assert result.value == pytest.approx((end / start - 1) * 100, rel=1e-9)


def test_sector_profile_matches_raw_corop_sums():
    profile = indicators.sector_profile("life_sciences_health", "PV21", compare=["NL01"], year=2022)
    q = profile[(profile.region_code == "PV21") & (profile.sector_code == "422400")].iloc[0]
    fr = ["CR04", "CR05", "CR06"]
    assert q.jobs_thousands == pytest.approx(raw_jobs_sum("422400", fr, 2022))
    assert q.share_of_region_pct == pytest.approx(
        raw_jobs_sum("422400", fr, 2022) / raw_jobs_sum("T001081", fr, 2022) * 100
    )
    assert q.share_of_nl_jobs_pct == pytest.approx(
        raw_jobs_sum("422400", fr, 2022) / raw_jobs_sum("422400", ALL_COROP, 2022) * 100
    )
    nl = profile[(profile.region_code == "NL01")]
    assert (nl.location_quotient.dropna() == 1.0).all()


def test_a_suppressed_cell_makes_the_figure_missing_not_zero():
    # D (energy supply) jobs are suppressed for CR01 in the raw file: the North's D+E is missing.
    assert raw_jobs()[("346600", "CR01", "2024JJ00")] is None
    result = indicators.compute_indicator("lq_jobs_energy_water_waste", "LD01")
    assert math.isnan(result.value)
    assert any("no figure" in c for c in wording.caveat_texts(result, "en"))


# --- properties -------------------------------------------------------------------------------


@pytest.mark.parametrize("indicator_id", list(load_indicators()))
def test_every_indicator_computes_with_sane_values(indicator_id):
    ind = load_indicators()[indicator_id]
    frame = frames.indicator_frame(indicator_id)
    assert list(frame.columns) == frames.FRAME_COLUMNS
    values = frame.value.dropna()
    if ind.transform in {"share_of_nl", "share_of_region"}:
        assert values.between(0, 100).all()
    if ind.transform == "location_quotient":
        nl = frame[(frame.region_code == "NL01") & frame.value.notna()]
        assert (nl.value == 1.0).all()
        assert (values >= 0).all()
    if ind.transform in {"share_of_nl", "index_nl_100"}:
        nl = frame[(frame.region_code == "NL01") & frame.value.notna()]
        assert nl.value.sub(100).abs().max() < 1e-9
    result = indicators.compute_indicator(indicator_id, "PV20")
    if not math.isnan(result.rank):
        assert 1 <= result.rank <= result.n_peers <= 12


def test_three_northern_provinces_add_up_to_the_north_where_cbs_publishes_both():
    frame = frames.indicator_frame("gdp_mln_eur")
    wide = frame.pivot_table(index="year", columns="region_code", values="value")
    summed = wide[["PV20", "PV21", "PV22"]].sum(axis=1, min_count=3)
    assert (summed - wide["LD01"]).abs().max() <= 2  # mln euro; CBS rounds each figure
    jobs = frames.indicator_frame("jobs_thousands")
    wide = jobs.pivot_table(index="year", columns="region_code", values="value")
    assert (wide[["PV20", "PV21", "PV22"]].sum(axis=1) - wide["LD01"]).abs().max() < 1e-6


def test_shares_of_the_provinces_and_extra_regio_sum_to_100():
    # The continental shelf (offshore gas, 'Extra-Regio') belongs to no province.
    frame = frames.indicator_frame("gdp_share_nl")
    provinces = frame[frame.region_code.isin(PROVINCES)]
    totals = provinces.groupby("year").value.sum()
    rows = raw_regional_accounts()
    for year, total in totals.items():
        extra = float(rows[("Extra-Regio (LD)", str(year))]["BbpMarktprijzen_1"])
        nl = float(rows[("Nederland", str(year))]["BbpMarktprijzen_1"])
        assert total + extra / nl * 100 == pytest.approx(100, abs=0.01)


def test_transforms_propagate_missing_values():
    assert math.isnan(arithmetic.compute_share_pct(float("nan"), 10))
    assert math.isnan(arithmetic.compute_share_pct(5, 0))
    assert math.isnan(arithmetic.compute_location_quotient(1, 2, float("nan"), 4))
    assert arithmetic.compute_location_quotient(2, 10, 20, 100) == pytest.approx(1.0)
    assert arithmetic.compute_growth_pct(100, 110) == pytest.approx(10)
    assert arithmetic.compute_cagr_pct(100, 121, 2) == pytest.approx(10)
    yearly = pd.DataFrame({"a": [10.0, 10.0, 21.0], "b": [10.0, float("nan"), 10.0]})
    chained = arithmetic.compute_chained_cagr_pct(yearly, 2)  # what frames computes with
    assert math.isnan(chained["a"][0])  # fewer than span years
    assert chained["a"][1] == pytest.approx(10)
    assert chained["a"][2] == pytest.approx((1.1 * 1.21) ** 0.5 * 100 - 100)
    assert chained["b"].isna().all()  # a missing year leaves every span that holds it missing
    ranks = arithmetic.rank_values(pd.Series({"a": 3.0, "b": 1.0, "c": float("nan")}), "higher")
    assert ranks["a"] == 1 and ranks["b"] == 2 and math.isnan(ranks["c"])
    assert arithmetic.rank_values(pd.Series({"a": 3.0, "b": 1.0}), "lower")["b"] == 1


# --- API shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", theme_ids())
def test_headline_figures_and_sector_profile_for_every_specialisation(spec):
    figures = indicators.headline_figures(spec, "LD01")
    assert list(figures.columns) == indicators.HEADLINE_COLUMNS and len(figures) >= 1
    profile = indicators.sector_profile(spec, "LD01", compare=["PV20", "NL01"])
    assert list(profile.columns) == indicators.SECTOR_COLUMNS
    if not profile.empty:
        assert set(profile.region_code) == {"LD01", "PV20", "NL01"}
    tables = tables_used(spec)
    assert tables and all(isinstance(t, str) for t in tables)


def test_indicator_series_indexes_levels_at_the_first_year_shown():
    series = indicators.indicator_series("jobs_thousands", ["LD01", "NL01"], start_year=2015)
    assert list(series.columns) == indicators.SERIES_COLUMNS
    assert series.year.min() == 2015 and set(series.region_code) == {"LD01", "NL01"}
    first = series[series.year == 2015]
    assert (first.value_index == 100).all()


def test_map_values_by_level():
    provinces = indicators.map_values("gdp_per_inhabitant_index", "PV", 2023)
    assert sorted(provinces.region_code) == PROVINCES
    corop = indicators.map_values("lq_jobs_health", "CR")
    assert len(corop) == 40 and corop.year.nunique() == 1
    with pytest.raises(ConfigError, match="levels with figures"):
        indicators.map_values("gdp_share_nl", "GM")


def test_region_profile_and_bad_region():
    profile = indicators.region_profile("PV27")
    assert len(profile) == len(load_indicators().region_profile)
    assert profile.value.notna().any()
    with pytest.raises(RegionError, match="valid"):
        indicators.compute_indicator("gdp_share_nl", "PV99")
    with pytest.raises(ConfigError, match="unknown indicator"):
        indicators.compute_indicator("no_such_indicator", "LD01")


def test_warm_indicator_query_is_fast():
    indicators.compute_indicator("lq_jobs_ict", "LD01")
    start = time.perf_counter()
    indicators.compute_indicator("lq_jobs_ict", "PV21")
    assert time.perf_counter() - start < 0.05


# --- the newer tables, against their raw files ------------------------------------------------


def raw_harvested(table: str) -> list[dict[str, str]]:
    with open_raw(RAW / f"cbs/{table}/{table}.csv") as f:
        return list(csv.DictReader(f, delimiter=";"))


@cache
def raw_municipality_provinces() -> dict[str, str]:
    """Municipality title -> province code, from CBS's code list (DimensionGroupId GMPVnn)."""
    items = read_raw_json(RAW / "cbs/03759ned/odata_v4_2026/codes-RegioS.json")["value"]
    return {
        i["Title"]: i["DimensionGroupId"][2:]
        for i in items
        if i["Identifier"].startswith("GM") and (i.get("DimensionGroupId") or "").startswith("GMPV")
    }


def test_north_share_of_hbo_and_wo_students_from_the_raw_statline_export():
    with open_raw(RAW / "cbs/85701NED/2023_2024.csv", "utf-8") as f:
        lines = list(csv.reader(f, delimiter=";"))
    regions_row = next(r for r in lines if r and r[0] == "Regiokenmerken")
    wanted = [
        r for r in lines if r and r[0] in {"Hoger beroepsonderwijs", "Wetenschappelijk onderwijs"}
    ]
    assert len(wanted) == 2
    provinces = raw_municipality_provinces()
    north = nl = 0.0
    for row in wanted:
        for name, cell in zip(regions_row[1:], row[1:], strict=False):
            if not cell.strip():
                continue
            nl += float(cell)
            if provinces.get(name) in {"PV20", "PV21", "PV22"}:
                north += float(cell)
    result = indicators.compute_indicator("students_hbo_wo_share_nl", "LD01")
    assert wording.period_text(result, "en") == "2023/'24"
    assert result.value == pytest.approx(north / nl * 100, rel=1e-9)


def test_north_wind_capacity_per_inhabitant_from_the_raw_files():
    rows = {(r["RegioS"], r["Perioden"].strip()): r for r in raw_harvested("70960ned")}
    titles = ["Groningen (PV)", "Fryslân (PV)", "Drenthe (PV)"]
    megawatt = sum(float(rows[(t, "2023")]["OpgesteldVermogenEindeJaar_9"]) for t in titles)
    observations = read_raw_json(RAW / "cbs/03759ned/odata_v4_2026/observations-page-1.json")[
        "value"
    ]
    inhabitants = sum(
        o["Value"]
        for o in observations
        if o["Measure"] == "M000365"
        and o["Perioden"] == "2023JJ00"
        and o["RegioS"] in {"PV20", "PV21", "PV22"}
    )
    result = indicators.compute_indicator("wind_capacity_per_inhabitant", "LD01", year=2023)
    assert result.value == pytest.approx(megawatt / inhabitants * 1000, rel=1e-9)
    assert any("sum of provinces" in c for c in wording.caveat_texts(result, "en"))


def test_sme_labour_share_from_the_raw_file():
    rows = [
        r
        for r in raw_harvested("80341ned")
        if r["RegioS"] == "Noord-Nederland (LD)"
        and r["Perioden"].strip() == "2009"
        and r["BedrijfstakkenBranchesSBI2008"].startswith("A-U")
    ]
    volume = {r["Vestigingsgrootte"]: float(r["ArbeidsvolumeWerkzamePersonen_4"]) for r in rows}
    small = sum(v for k, v in volume.items() if not k.startswith(("250", "Totaal")))
    assert len(volume) == 7
    result = indicators.compute_indicator("sme_labour_share", "LD01")
    assert result.year == 2009
    assert result.value == pytest.approx(small / volume["Totaal werkzame personen"] * 100)


def test_agricultural_land_share_from_the_raw_file():
    row = next(
        r
        for r in raw_harvested("70262ned")
        if r["RegioS"] == "Noord-Nederland (LD)" and r["Perioden"].strip() == "2017"
    )
    land_columns = [
        "TotaalVerkeersterrein_2",
        "TotaalBebouwdTerrein_6",
        "TotaalSemiBebouwdTerrein_12",
        "TotaalRecreatieterrein_19",
        "TotaalAgrarischTerrein_25",
        "TotaalBosEnOpenNatuurlijkTerrein_28",
    ]
    land = sum(float(row[c]) for c in land_columns)
    result = indicators.compute_indicator("agricultural_land_share", "LD01", year=2017)
    assert result.value == pytest.approx(float(row["TotaalAgrarischTerrein_25"]) / land * 100)


@pytest.mark.parametrize(
    "indicator_id", ["cultuurgrond_share_nl", "lq_value_added_agriculture", "gdp_mln_eur"]
)
def test_provinces_add_up_to_the_north_in_tables_that_publish_both(indicator_id):
    ind = load_indicators()[indicator_id]
    for selection in ind.selections:
        values = frames.select_values(selection, ind.frequency, False, "snapshot")
        wide = values.pivot_table(index="period_code", columns="region_code", values="value")
        both = wide[["PV20", "PV21", "PV22", "LD01"]].dropna()
        assert not both.empty
        gap = (both[["PV20", "PV21", "PV22"]].sum(axis=1) - both.LD01).abs()
        # CBS rounds each published figure: allow a few units of rounding.
        assert (gap <= 3).all(), gap.max()


def test_indicator_levels_match_map_values():
    assert indicators.indicator_levels("rd_expenditure_per_labour_year") == ["LD"]
    assert indicators.indicator_levels("lq_jobs_energy_water_waste") == []
    assert "CR" in indicators.indicator_levels("lq_jobs_health")
    assert len(indicators.map_values("rd_expenditure_per_labour_year", "LD")) == 4


# --- indicators of 82352NED, 85922NED, 82797NED, 82538NED, 83583NED, from their raw files -----


def raw_rows(table: str, **where: str) -> list[dict[str, str]]:
    """Rows of a harvested raw file whose columns (stripped) equal ``where``."""
    return [r for r in raw_harvested(table) if all(r[k].strip() == v for k, v in where.items())]


def raw_cell(table: str, measure: str, **where: str) -> float:
    (row,) = raw_rows(table, **where)
    return float(row[measure])


def test_rd_expenditure_share_of_gdp_from_the_raw_files():
    rd = raw_cell(
        "82352NED",
        "VerrichteRDUitgavenEigenPersoneel_1",
        RegioS="Noord-Nederland (LD)",
        Perioden="2016",
    )
    gdp = float(raw_regional_accounts()[("Noord-Nederland (LD)", "2016")]["BbpMarktprijzen_1"])
    result = indicators.compute_indicator("rd_expenditure_share_gdp", "LD01", year=2016)
    assert result.value == pytest.approx(rd / gdp * 100, rel=1e-12)
    # Groningen 2011 is suppressed in 82352NED: no figure, never 0
    assert math.isnan(indicators.compute_indicator("rd_expenditure_share_gdp", "PV20", 2011).value)


def test_rd_investment_share_from_the_raw_file():
    where = {"RegioS": "Groningen (PV)", "Perioden": "2022"}
    rd = raw_cell("85922NED", "OnderzoekEnOntwikkeling_10", **where)
    total = raw_cell("85922NED", "TotaleInvesteringen_1", **where)
    result = indicators.compute_indicator("rd_investment_share", "PV20", year=2022)
    assert result.value == pytest.approx(rd / total * 100, rel=1e-12)


def test_value_added_share_of_energy_water_waste_from_the_raw_file():
    def cell(sector: str, region: str) -> float:
        return raw_cell(
            "82797NED",
            "BrutoToegevoegdeWaardeBasisprijzen_3",
            BedrijfstakkenBranchesSBI2008=sector,
            RegioS=region,
            Perioden="2015",
        )

    for code, title in (("LD01", "Noord-Nederland (LD)"), ("PV21", "Friesland (PV)")):
        parts = cell("D Energievoorziening", title) + cell("E Waterbedrijven en afvalbeheer", title)
        total = cell("A-U Alle economische activiteiten", title)
        result = indicators.compute_indicator("value_added_share_energy_water_waste", code, 2015)
        assert result.value == pytest.approx(parts / total * 100, rel=1e-12)
    # E is not in the partial copy for Limburg: the D+E share is missing there, never D alone
    assert math.isnan(
        indicators.compute_indicator("value_added_share_energy_water_waste", "PV31", 2015).value
    )


def test_gas_delivered_to_companies_share_from_the_raw_file():
    def cell(region: str) -> float:
        return raw_cell(
            "82538NED",
            "GeleverdAardgas_1",
            BedrijfstakkenBranchesSBI2008="A-U Alle economische activiteiten",
            RegioS=region,
            Perioden="2023",
        )

    result = indicators.compute_indicator("gas_delivered_companies_share_nl", "PV21", year=2023)
    assert result.value == pytest.approx(cell("Fryslân (PV)") / cell("Nederland") * 100, rel=1e-12)


def test_jobs_share_in_firms_under_50_from_the_raw_file():
    def cell(size: str) -> float:
        return raw_cell(
            "83583NED",
            "BanenVanWerknemersInDecember_1",
            BedrijfstakkenBranchesSBI2008="A-U Alle economische activiteiten",
            Bedrijfsgrootte=size,
            Perioden="2023 december",
        )

    small = cell("0  tot 10 werkzame personen") + cell("10  tot 50 werkzame personen")
    result = indicators.compute_indicator("jobs_share_firms_under_50_nl", "NL01", year=2023)
    assert result.value == pytest.approx(small / cell("Totaal") * 100, rel=1e-12)
    assert math.isnan(indicators.compute_indicator("jobs_share_firms_under_50_nl", "LD01").value)
