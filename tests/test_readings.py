"""The new and changed readings of the claims (issue 12), each computed here independently from
the raw CBS files (csv + gzip only, not the indicator engine) and compared with what the claims
registry shows for the North."""

from __future__ import annotations

import csv
import math
from functools import cache

import pytest

from noordstats import paths
from noordstats.analysis.claims import evaluate_claims, robustness
from noordstats.declarations.claims import load_claims
from noordstats.report import wording
from tests.raw_helpers import open_raw

RAW = paths.raw_data_dir()
NORTH = "Noord-Nederland (LD)"
NL = "Nederland"


@cache
def harvested(table: str) -> dict[tuple[str, ...], dict[str, str]]:
    """A harvested CBS csv -> {(sector token or '', region title, period title): row}."""
    out = {}
    with open_raw(RAW / f"cbs/{table}/{table}.csv") as f:
        for r in csv.DictReader(f, delimiter=";"):
            sector = r.get("BedrijfstakkenBranchesSBI2008", "").strip().split(" ", 1)[0]
            out[(sector, r["RegioS"].strip(), r["Perioden"].strip())] = r
    return out


def cell(table: str, measure: str, region: str, period: str, sector: str = "") -> float:
    text = harvested(table)[(sector, region, period)][measure].strip()
    assert text, (table, measure, region, period, sector)
    return float(text)


def lq(table: str, measure: str, sectors: list[str], period: str) -> float:
    def share(region: str) -> float:
        part = sum(cell(table, measure, region, period, s) for s in sectors)
        return part / cell(table, measure, region, period, "A-U")

    return share(NORTH) / share(NL)


@cache
def north_readings() -> dict[tuple[str, str], dict]:
    """{(claim id, indicator id): reading} of the North's scorecard."""
    frame = wording.claim_texts(evaluate_claims("LD01"), "en")
    return {
        (row.claim_id, r["indicator_id"]): r
        for row in frame.itertuples()
        if isinstance(row.readings, list)
        for r in row.readings
    }


def reading(claim_id: str, indicator_id: str, year: int) -> float:
    found = north_readings()[(claim_id, indicator_id)]
    assert found["year"] == year, (claim_id, indicator_id, found["year"])
    return found["figure"]


@pytest.mark.parametrize(
    ("claim_id", "indicator_id", "table", "measure", "sectors", "year"),
    [
        ("cleantech_sectors", "lq_labour_volume_energy_water_waste", "82797NED",
         "ArbeidsvolumeWerkzamePersonen_8", ["D", "E"], 2015),
        ("cleantech_sectors", "lq_value_added_energy_water_waste", "82797NED",
         "BrutoToegevoegdeWaardeBasisprijzen_3", ["D", "E"], 2015),
        ("cleantech_sectors", "lq_establishments_energy_water_waste", "81644NED",
         "Vestigingen_1", ["D", "E"], 2025),
        ("industrial_scale_up", "lq_value_added_manufacturing", "85925NED",
         "BrutoToegevoegdeWaardeBasisprijzen_3", ["C"], 2022),
        ("industrial_scale_up", "lq_labour_volume_manufacturing", "85925NED",
         "ArbeidsvolumeTotaal_8", ["C"], 2022),
        ("green_chemistry_cluster", "lq_establishments_manufacturing", "81644NED",
         "Vestigingen_1", ["C"], 2025),
        ("agrofood_strength", "lq_labour_volume_agriculture", "85925NED",
         "ArbeidsvolumeTotaal_8", ["A"], 2022),
    ],
)  # fmt: skip
def test_location_quotients_of_the_new_readings(
    claim_id, indicator_id, table, measure, sectors, year
):
    expected = lq(table, measure, sectors, str(year))
    assert math.isclose(reading(claim_id, indicator_id, year), expected, rel_tol=1e-9)


def test_rd_readings_from_the_raw_files():
    rd_inv = cell("85922NED", "OnderzoekEnOntwikkeling_10", NORTH, "2022")
    gdp = cell("85924NED", "BbpMarktprijzen_1", NORTH, "2022")
    assert math.isclose(
        reading("innovation_region", "rd_investment_share_gdp", 2022), rd_inv / gdp * 100
    )
    rd_years = cell("82352NED", "ArbeidsjarenEigenRDPersoneel_2", NORTH, "2016")
    labour_years = cell("85924NED", "ArbeidsjarenTotaal_7", NORTH, "2016")  # x 1 000
    per_1000 = rd_years / labour_years
    assert math.isclose(reading("innovation_region", "rd_labour_years_per_1000", 2016), per_1000)
    assert math.isclose(reading("knowledge_workforce", "rd_labour_years_per_1000", 2016), per_1000)
    # 85922NED allocates R&D by a key: context only, it gives no verdict
    assert north_readings()[("innovation_region", "rd_investment_share_gdp")]["verdict"] == (
        "context"
    )

    # the verdict: R&D spending (observed) as % of GDP, at its published precision (2 decimals)
    def spend_share(region: str) -> float:
        spend = cell("82352NED", "VerrichteRDUitgavenEigenPersoneel_1", region, "2016")
        return round(spend / cell("85924NED", "BbpMarktprijzen_1", region, "2016") * 100, 2)

    share, nl_share = spend_share(NORTH), spend_share(NL)
    ratio = share / nl_share
    verdict = north_readings()[("innovation_region", "rd_expenditure_share_gdp")]["verdict"]
    expected = (
        "supported" if ratio >= 1 else "partly supported" if ratio >= 0.8 else "not supported"
    )
    assert verdict == expected


def test_occupational_levels_from_the_raw_labour_force_file():
    def share(measures: list[str]) -> float:
        part = sum(cell("85268NED", m, NORTH, "2024") for m in measures)
        return part / cell("85268NED", "WerkzameBeroepsbevolking_3", NORTH, "2024") * 100

    level4 = share(["Beroepsniveau4_10"])
    assert math.isclose(
        reading("knowledge_workforce", "occupation_level_4_share", 2024), level4, rel_tol=1e-9
    )
    middle = share(["Beroepsniveau2_8", "Beroepsniveau3_9"])
    assert math.isclose(
        reading("craftsmanship", "occupation_level_2_3_share", 2024), middle, rel_tol=1e-9
    )
    self_employed = share(["Zelfstandige_5"])
    assert math.isclose(
        reading("entrepreneurship", "self_employed_share_lfs", 2024), self_employed, rel_tol=1e-9
    )


def test_unemployment_reading_and_the_revised_rule_from_the_raw_file():
    north = cell("85268NED", "Werkloosheidspercentage_13", NORTH, "2024")
    nl = cell("85268NED", "Werkloosheidspercentage_13", NL, "2024")
    assert math.isclose(reading("labour_reserve", "unemployment_rate", 2024), north)
    diff = north - nl
    expected = (
        "supported" if diff >= 1.0 else "partly supported" if diff >= 0.5 else "not supported"
    )
    assert north_readings()[("labour_reserve", "unemployment_rate")]["verdict"] == expected


def test_net_domestic_migration_of_the_north_from_the_raw_province_rows():
    with open_raw(RAW / "cbs/70072ned/70072ned_UntypedDataSet_29122019_191739.csv") as f:
        rows = [r for r in csv.DictReader(f, delimiter=";") if r["Perioden"].strip() == "2018JJ00"]
    north = [r for r in rows if r["RegioS"].strip() in ("PV20", "PV21", "PV22")]
    assert len(north) == 3
    balance = sum(float(r["BinnenlandsMigratiesaldo_71"]) for r in north)
    population = sum(float(r["TotaleBevolking_1"]) for r in north)
    expected = balance / population * 1000
    assert math.isclose(
        reading("talent_retention", "domestic_migration_per_1000", 2018), expected, rel_tol=1e-9
    )
    # 2018 is dominated by the relocation of asylum seekers: context, no verdict
    verdict = north_readings()[("talent_retention", "domestic_migration_per_1000")]["verdict"]
    assert verdict == "context"


def test_establishments_growing_on_and_closing_from_the_raw_files():
    def growth(region: str) -> float:
        start = cell("81644NED", "k_10OfMeerWerkzamePersonen_5", region, "2015", "A-U")
        end = cell("81644NED", "k_10OfMeerWerkzamePersonen_5", region, "2025", "A-U")
        return (end / start - 1) * 100

    north = growth(NORTH)
    assert math.isclose(
        reading("startup_scale_up", "establishments_10plus_growth_10y", 2025), north, rel_tol=1e-9
    )
    closures = cell("83635NED", "OpheffingenVanVestigingen_1", NORTH, "2023", "A-U")
    stock = cell("81578NED", "Vestigingen_1", NORTH, "2023", "A-U")
    assert math.isclose(
        reading("startup_scale_up", "closure_rate", 2023), closures / stock * 100, rel_tol=1e-9
    )
    verdict = north_readings()[("startup_scale_up", "establishments_10plus_growth_10y")]
    nl = growth(NL)
    expected = (
        "supported"
        if north > 0 and round(north, 1) >= round(nl, 1)
        else "partly supported"
        if north > 0
        else "not supported"
    )
    assert verdict["uncapped_verdict"] == expected
    # a proxy of growing on: at most partly supported
    capped = "partly supported" if expected == "supported" else expected
    assert verdict["verdict"] == capped


def test_startups_are_judged_on_growth_alone():
    def founded(period: str) -> float:
        return cell("83631NED", "OprichtingenVanVestigingen_1", NORTH, period, "A-U")

    growth = (founded("2023") / founded("2015") - 1) * 100
    assert math.isclose(reading("startup_landscape", "startups_growth_8y", 2023), growth)
    verdict = north_readings()[("startup_landscape", "startups_growth_8y")]["verdict"]
    assert verdict == ("supported" if growth > 0 else "not supported")


def test_growth_of_labour_years_and_employed_persons_from_the_raw_file():
    years = [cell("85924NED", "ArbeidsjarenTotaal_7", NORTH, str(y)) for y in (2013, 2023)]
    cagr = ((years[1] / years[0]) ** (1 / 10) - 1) * 100
    assert math.isclose(reading("earning_capacity_growth", "labour_years_cagr_10y", 2023), cagr)
    persons = [cell("85924NED", "WerkzamePersonenTotaal_10", NORTH, str(y)) for y in (2013, 2023)]
    growth = (persons[1] / persons[0] - 1) * 100
    assert math.isclose(
        reading("earning_capacity_jobs", "employed_persons_growth_10y", 2023), growth
    )


def test_defence_is_no_longer_judged_on_public_administration_jobs():
    claim = next(c for c in load_claims() if c.id == "defence_position")
    assert not claim.testable and claim.rule is None
    assert "students_share_by_location" not in {c.id for c in load_claims()}


def test_every_claim_with_a_second_measure_has_two_readings():
    multi = {c.id for c in load_claims() if len(c.readings) > 1}
    assert {
        "earning_capacity_level", "earning_capacity_growth", "earning_capacity_jobs",
        "industrial_scale_up", "cleantech_sectors", "green_chemistry_cluster",
        "life_sciences_position", "entrepreneurship", "startup_landscape", "startup_scale_up",
        "innovation_region", "agrofood_strength", "space_under_pressure", "labour_reserve",
        "room_for_development", "knowledge_workforce", "renewable_generation", "renewable_wind",
        "students_share",
    } <= multi  # fmt: skip


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["supported", "supported"], "robust"),
        (["supported", "partly supported"], "sensitive"),
        (["not supported", "insufficient data"], "single reading"),
        (["insufficient data"], "-"),
    ],
)
def test_robustness_compares_the_readings_with_a_figure(verdicts, expected):
    assert robustness([{"uncapped_verdict": v} for v in verdicts]) == expected


def test_the_claim_json_gives_readings_side_by_side_with_period_and_source():
    frame = wording.claim_texts(evaluate_claims("LD01"), "en")
    testable = frame[frame.verdict != "not testable"]
    for row in testable.itertuples():
        primary = [r for r in row.readings if r["primary"]]
        if primary:
            assert primary[0]["verdict"] == row.verdict and primary[0]["validity"] != "context"
        else:  # every reading is context: no verdict
            assert row.verdict == "insufficient data"
            assert {r["validity"] for r in row.readings} == {"context"}
        for r in row.readings:
            assert {"indicator_id", "figure_text", "period", "source", "verdict", "rule"} <= set(r)


def test_no_headline_figure_is_older_than_2015_without_saying_why():
    from noordstats.analysis.indicators import DATED_BEFORE, headline_figures
    from noordstats.declarations.indicators import load_indicators
    from noordstats.declarations.themes import theme_ids

    indicators = load_indicators()
    for theme in theme_ids():
        for row in wording.headline_texts(headline_figures(theme, "LD01"), "en").itertuples():
            if row.year is not None and not math.isnan(row.year) and row.year < DATED_BEFORE:
                assert indicators[row.indicator_id].dated_reason, (theme, row.indicator_id)
                assert row.caveat.startswith("Dated: the latest figure is from"), row.caveat
    economy = headline_figures("economy", "LD01").set_index("indicator_id")
    assert "rd_expenditure_per_labour_year" not in economy.index
    assert economy.loc["rd_investment_share_gdp", "year"] >= 2015
    cleantech = wording.headline_texts(headline_figures("cleantech", "LD01"), "en")
    cleantech = cleantech.set_index("indicator_id")
    assert cleantech.loc["lq_labour_volume_energy_water_waste", "value_text"] != "n/a"
