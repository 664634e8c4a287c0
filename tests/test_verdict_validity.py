"""Verdicts an economist would sign (issue 20): the new readings recomputed from the raw CBS files
(csv + gzip, not the indicator engine), each reading's validity and its bound on the verdict, the
regional method of a table, the rule record with the verdict under the first registered rule,
evidence counted once, and 'distinctive' over groups."""

from __future__ import annotations

import copy
import csv
import json
import math
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache

import pytest
import yaml

from noordstats import cli, paths
from noordstats.analysis.claims import evaluate_claims, is_fragile
from noordstats.analysis.claims_compare import compare_regions, distinctive_counts
from noordstats.analysis.evidence import count_verdicts_by_group, evidence_groups, group_members
from noordstats.analysis.indicators import IndicatorResult
from noordstats.declarations.claims import Rule, load_claims, read_claims
from noordstats.declarations.files import ConfigError
from noordstats.declarations.indicators import load_indicators
from noordstats.declarations.tables import get_declaration
from noordstats.declarations.verdict_history import first_registered_rule, load_rule_changes
from noordstats.report import wording
from noordstats.report.page.blocks import first_rule_note
from tests.raw_helpers import open_raw
from tests.test_readings import NL, NORTH, cell, north_readings, reading

RAW = paths.raw_data_dir()


def published(value: float, decimals: int) -> Decimal:
    """A figure as the report prints it (the rules compare these)."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_EVEN)


def verdict_of(ratio: Decimal, supported: str, partly: str) -> str:
    if ratio >= Decimal(supported):
        return "supported"
    return "partly supported" if ratio >= Decimal(partly) else "not supported"


# --- new readings from the raw files ------------------------------------------------------------


def turnover_lq(sector: str, denominator: list[str], period: str = "2017") -> float:
    def share(region: str) -> float:
        total = sum(cell("83796NED", "NettoOmzet_1", region, period, s) for s in denominator)
        return cell("83796NED", "NettoOmzet_1", region, period, sector) / total

    return share(NORTH) / share(NL)


@pytest.mark.parametrize(
    ("claim_id", "indicator_id", "sector", "denominator"),
    [
        ("green_chemistry_cluster", "lq_turnover_chemistry", "19-22", ["C"]),
        ("agrofood_strength", "lq_turnover_food_industry", "10-12", ["C"]),
        ("agrofood_earning_capacity", "lq_turnover_food_industry", "10-12", ["C"]),
        ("ai_digital_position", "lq_turnover_it_services", "62", ["C", "F", "G", "J", "N"]),
    ],
)
def test_turnover_quotients_from_the_raw_file(claim_id, indicator_id, sector, denominator):
    expected = turnover_lq(sector, denominator)
    assert math.isclose(reading(claim_id, indicator_id, 2017), expected, rel_tol=1e-9)
    found = north_readings()[(claim_id, indicator_id)]
    assert found["validity"] == "proxy"
    uncapped = verdict_of(published(expected, 2), "1.2", "1.0")
    assert found["uncapped_verdict"] == uncapped
    assert found["verdict"] == ("partly supported" if uncapped == "supported" else uncapped)


def test_green_chemistry_is_judged_on_chemistry_not_on_all_manufacturing():
    row = evaluate_claims("LD01").set_index("claim_id").loc["green_chemistry_cluster"]
    primary = [r for r in row.readings if r["primary"]]
    assert [r["indicator_id"] for r in primary] == ["lq_turnover_chemistry"]
    manufacturing = [r for r in row.readings if r["indicator_id"].endswith("_manufacturing")]
    assert manufacturing and {r["verdict"] for r in manufacturing} == {"context"}
    assert row.verdict == primary[0]["verdict"]


@cache
def mbo_rows() -> dict[tuple[str, str, str], float]:
    out = {}
    with open_raw(RAW / "cbs/83851NED/83851NED.csv") as f:
        for r in csv.DictReader(f, delimiter=";"):
            if r["MboStudenten_1"].strip():
                key = (r["Studierichting"].strip(), r["Regiokenmerken"].strip(), r["Perioden"])
                out[key] = float(r["MboStudenten_1"])
    return out


def test_mbo_technical_share_from_the_raw_file():
    def share(region: str) -> float:
        rows = mbo_rows()
        return rows[("Sector techniek", region, "2021/'22")] / rows[("Totaal", region, "2021/'22")]

    north, nl = share(NORTH) * 100, share(NL) * 100
    found = north_readings()[("craftsmanship", "mbo_technical_share")]
    assert found["year"] == 2021 and found["period"] == "2021/'22"
    assert math.isclose(found["figure"], north, rel_tol=1e-9)
    ratio = published(north, 1) / published(nl, 1)
    assert found["uncapped_verdict"] == verdict_of(ratio, "1.0", "0.95")
    assert found["validity"] == "proxy" and found["verdict"] != "supported"


def test_growth_of_value_added_without_mining_from_the_raw_files():
    """Chain-linked volumes add up at the previous year's prices: each year's change of A-U minus
    B from the published changes of A-U and B (85926NED), weighted by their current-price value
    added of the year before (85925NED)."""

    def cagr(region: str) -> float:
        factor = 1.0
        for year in range(2014, 2024):
            w = {s: cell("85925NED", "BrutoToegevoegdeWaardeBasisprijzen_3", region,
                          str(year - 1), s) for s in ("A-U", "B")}  # fmt: skip
            g = {s: cell("85926NED", "BrutoToegevoegdeWaardeVolumemutaties_2", region,
                          str(year), s) / 100 for s in ("A-U", "B")}  # fmt: skip
            volume = w["A-U"] * (1 + g["A-U"]) - w["B"] * (1 + g["B"])
            factor *= volume / (w["A-U"] - w["B"])
        return (factor ** (1 / 10) - 1) * 100

    north, nl = cagr(NORTH), cagr(NL)
    found = north_readings()[("earning_capacity_growth", "value_added_volume_cagr_10y_excl_mining")]
    assert found["period"] == "2013-2023" and found["validity"] == "direct"
    assert math.isclose(found["figure"], north, rel_tol=1e-9)
    gap = published(north, 2) - published(nl, 2)
    expected = (
        "supported"
        if gap >= 0
        else "partly supported"
        if gap >= Decimal("-0.5")
        else ("not supported")
    )
    assert found["verdict"] == expected
    # with gas the same claim is not supported: the verdict is marked sensitive
    row = evaluate_claims("LD01").set_index("claim_id").loc["earning_capacity_growth"]
    assert row.robustness == "sensitive"


def test_manufacturing_quotient_without_mining_in_the_total_from_the_raw_file():
    measure = "BrutoToegevoegdeWaardeBasisprijzen_3"

    def share(region: str) -> float:
        total = cell("85925NED", measure, region, "2022", "A-U")
        total -= cell("85925NED", measure, region, "2022", "B")
        return cell("85925NED", measure, region, "2022", "C") / total

    expected = share(NORTH) / share(NL)
    found = reading("industrial_scale_up", "lq_value_added_manufacturing_excl_mining", 2022)
    assert math.isclose(found, expected, rel_tol=1e-9)


# --- validity, regional method -----------------------------------------------------------------


def test_an_allocated_table_is_never_read_for_where_an_activity_takes_place():
    assert get_declaration("85922NED").regional_method == "allocated"
    indicators = load_indicators()
    for claim in load_claims():
        for r in claim.readings:
            methods = {get_declaration(t).regional_method for t in indicators[r.indicator].tables}
            if "allocated" in methods:
                assert r.validity == "context", (claim.id, r.indicator)
    primary = evaluate_claims("LD01").set_index("claim_id").loc["innovation_region"].readings
    assert [r["indicator_id"] for r in primary if r["primary"]] == ["rd_expenditure_share_gdp"]


def _refused(tmp_path, change) -> str:
    data = yaml.safe_load(paths.CLAIMS_FILE.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    change(next(c for c in data["claims"] if c["id"] == "innovation_region"))
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_claims(path, load_indicators())
    message = str(info.value)
    assert str(path) in message and "innovation_region" in message and "\n" not in message
    return message


@pytest.mark.reliability(
    "bad input",
    "claims.yaml: a reading without a validity class",
    "one line naming the file, the claim and the key; the registry is refused",
)
def test_a_reading_without_validity_is_refused_in_one_line(tmp_path):
    def drop(claim):
        del claim["readings"][0]["validity"]

    assert "validity" in _refused(tmp_path, drop)


@pytest.mark.slow
@pytest.mark.reliability(
    "bad input",
    "claims.yaml: a reading of an allocated table (85922NED) that is not context",
    "one line naming the table and why: an allocated table cannot say where activity is",
)
def test_a_verdict_from_an_allocated_table_is_refused(tmp_path):
    def promote(claim):
        claim["readings"][-1]["validity"] = "direct"

    assert "85922NED" in _refused(tmp_path, promote)


@pytest.mark.slow
@pytest.mark.reliability(
    "bad input",
    "claims.yaml: a testable claim with no direct reading and no direct_measure",
    "one line asking for 'direct_measure' (what would measure the sentence)",
)
def test_a_claim_without_a_direct_reading_must_say_what_would_measure_it(tmp_path):
    def proxies_only(claim):
        for r in claim["readings"]:
            r["validity"] = "proxy" if r["validity"] == "direct" else r["validity"]

    assert "direct_measure" in _refused(tmp_path, proxies_only)


# --- the rule record -------------------------------------------------------------------------


def test_the_verdict_under_the_first_registered_rule_is_computed_from_the_raw_file():
    """startup_landscape was loosened with its figure known: first registered, it asked for
    growth at least as fast as nationally."""
    first = first_registered_rule("startup_landscape")
    assert first is not None and first.indicator == "startups_growth_8y"

    def growth(region: str) -> float:
        founded = [cell("83631NED", "OprichtingenVanVestigingen_1", region, p, "A-U")
                   for p in ("2015", "2023")]  # fmt: skip
        return (founded[1] / founded[0] - 1) * 100

    north, nl = growth(NORTH), growth(NL)
    first_verdict = (
        "supported"
        if north > 0 and north >= nl
        else "partly supported"
        if north > 0
        else ("not supported")
    )
    row = wording.claim_texts(evaluate_claims("LD01"), "en").set_index("claim_id")
    row = row.loc["startup_landscape"]
    assert row.first_rule_verdict == first_verdict
    assert row.verdict == ("supported" if north > 0 else "not supported")
    note = first_rule_note(row.first_rule_verdict, row.verdict, row.first_rule, "nl")
    assert (note != "") == (row.first_rule_verdict != row.verdict)
    if note:
        assert "eerst geregistreerde regel" in note and "deels ondersteund" in note


def test_every_rule_change_is_dated_with_both_languages_and_the_two_changes_of_nov_30():
    changes = load_rule_changes()
    known = {c.id for c in load_claims()}
    assert all(c.claim_id in known and c.reason_nl and c.new_rule_nl for c in changes)
    nov30 = {c.claim_id for c in changes if c.date.isoformat() == "2026-11-30"}
    assert {"startup_landscape", "labour_reserve"} <= nov30
    assert all(c.figure_known for c in changes if c.claim_id in ("startup_landscape",
                                                                  "labour_reserve"))  # fmt: skip


# --- evidence counted once ------------------------------------------------------------------


def test_claims_that_read_the_same_figures_form_one_evidence_group():
    groups = evidence_groups()
    assert groups["room_for_development"] == groups["space_under_pressure"]
    assert groups["renewable_wind"] == groups["renewable_generation"]
    assert groups["agrofood_earning_capacity"] == groups["agrofood_strength"]
    # context readings link nothing: chemistry no longer repeats the industrial claim
    assert groups["green_chemistry_cluster"] != groups["industrial_scale_up"]
    indicators = {c.id: {r.indicator for r in c.readings if r.validity != "context"}
                  for c in load_claims()}  # fmt: skip
    for a in indicators:
        for b in indicators:
            if indicators[a] & indicators[b]:
                assert groups[a] == groups[b], (a, b)
    for members in group_members().values():
        assert members == [c.id for c in load_claims() if c.id in members]


@pytest.mark.slow
def test_counts_per_claim_and_per_independent_group(capsys):
    frame = evaluate_claims("LD01")
    counts = count_verdicts_by_group(frame)
    for verdict, count in counts.items():
        own = frame[frame.verdict == verdict]
        assert count["claims"] == len(own)
        assert count["groups"] == len({evidence_groups()[c] for c in own.claim_id})
        assert count["groups"] <= count["claims"]
    assert counts["supported"]["groups"] < counts["supported"]["claims"]
    assert cli.main(["claims", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    supported = [r for r in records if r["verdict"] == "supported"]
    assert {r["verdict_claims"] for r in supported} == {counts["supported"]["claims"]}
    assert {r["verdict_groups"] for r in supported} == {counts["supported"]["groups"]}
    assert all("evidence_group" in r and "first_rule_verdict" in r for r in records)
    assert cli.main(["claims"]) == 0
    n, g = counts["supported"]["claims"], counts["supported"]["groups"]
    assert f"supported: {n} (from {g} independent groups)" in capsys.readouterr().out


@pytest.mark.slow
def test_distinctive_says_supported_only_for_supported_verdicts_and_counts_groups():
    from noordstats.analysis.claims import all_regions, evaluate_claims_regions

    comparison = compare_regions(evaluate_claims_regions(all_regions()), "LD01")
    distinct = comparison[comparison.distinctive]
    assert (distinct.verdict == "supported").all()
    counts = distinctive_counts(comparison)
    assert counts["distinctive"] == len(distinct)
    assert counts["distinctive_groups"] == distinct.evidence_group.nunique()
    assert counts["supported"] == int((comparison.verdict == "supported").sum())


def test_a_difference_inside_the_published_precision_is_fragile():
    """West-Nederland's self-employed share 17.355% against NL 17.405%: published as 17.4 and
    17.4 it meets 'at least the national share'; one unit lower it would not."""
    indicator = load_indicators()["self_employed_share"]
    rule = Rule(indicator=indicator.id, validity="direct", validity_reason="a test reading",
                text="t", supported=[{"metric": "ratio_to_nl", "at_least": 1.0}])  # fmt: skip

    def result(value: float, nl: float) -> IndicatorResult:
        return IndicatorResult(indicator, "LD03", "West-Nederland", value, nl, "2023JJ00", 2023,
                               "definitief", 2.0, 4)  # fmt: skip

    assert is_fragile(rule, result(17.355, 17.405))
    assert not is_fragile(rule, result(19.2, 17.405))


def test_nederland_summed_from_corop_leaves_out_jobs_cbs_counts_in_its_own_total():
    """The jobs indicators say that their Nederland is the sum of the 40 COROP areas and that
    CBS's own total (the harvested copy) is larger in 2012-2018: check both against the raw
    files (40 cells rounded to 0.1 make the sum uncertain by at most 2.0)."""
    from noordstats.analysis import frames

    jobs = frames.select_values(load_indicators()["jobs_growth_10y"], "year", False, "snapshot")
    nl_sum = jobs[jobs.region_code == "NL01"].set_index("year").value
    larger = set()
    for year in range(2010, 2024):
        own = cell("83582NED", "BanenVanWerknemersInDecember_1", NL, f"{year} december", "A-U")
        assert own >= nl_sum[year] - 2.0, year
        if own > nl_sum[year] + 2.0:
            larger.add(year)
    assert larger == set(range(2012, 2019))
    for ind in ("jobs_share_nl", "jobs_growth_10y"):
        assert "2012-2018" in load_indicators()[ind].comparability


def test_one_rank_statement_for_a_range_rule():
    """students_share judges a range (13.5-16.5%): the comparison sentence ranks the North as
    the figure's comparison does, instead of saying 'no ranking'."""
    from noordstats.analysis.claims import evaluate_claims_regions

    frame = evaluate_claims_regions(["LD01", "LD02", "LD03", "LD04"], theme="talent")
    row = compare_regions(frame, "LD01").set_index("claim_id").loc["students_share"]
    comparison = (
        wording.claim_texts(frame, "en")
        .set_index(["claim_id", "region_code"])
        .loc[("students_share", "LD01"), "comparison"]
    )
    assert f"rank {int(row['rank'])} of 4 landsdelen" in comparison
    sentence = wording.comparison_sentence(row, "en")
    assert f"ranks {int(row['rank'])}" in sentence and "no ranking" not in sentence


@pytest.mark.reliability(
    "bad input",
    "indicators.yaml: 'minus' on a dimension the filters do not select",
    "one line naming the file, the indicator and the key; the registry is refused",
)
def test_minus_needs_a_dimension_the_filters_select(tmp_path):
    from noordstats.declarations.indicators import read_indicators

    data = yaml.safe_load(paths.INDICATORS_FILE.read_text(encoding="utf-8"))
    entry = next(i for i in data["indicators"] if i["id"] == "lq_value_added_manufacturing")
    entry["denominator"]["minus"] = {"region": ["B"]}
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_indicators(path)
    message = str(info.value)
    assert "lq_value_added_manufacturing" in message and "denominator.minus.region" in message
    assert "\n" not in message


def test_immigration_shows_the_one_off_behind_the_domestic_migration_balance():
    """Immigration from abroad per 1,000 inhabitants from the raw 70072ned rows of the three
    northern provinces: it more than doubled from 2010-2013 to 2016-2017, the years the domestic
    balance fell; the reading is context and the claim has no verdict."""
    with open_raw(RAW / "cbs/70072ned/70072ned_UntypedDataSet_29122019_191739.csv") as f:
        rows = list(csv.DictReader(f, delimiter=";"))

    def per_1000(year: int) -> float:
        north = [r for r in rows if r["RegioS"].strip() in ("PV20", "PV21", "PV22")
                 and r["Perioden"].strip() == f"{year}JJ00"]  # fmt: skip
        assert len(north) == 3
        immigration = sum(float(r["Immigratie_74"]) for r in north)
        return immigration / sum(float(r["TotaleBevolking_1"]) for r in north) * 1000

    assert math.isclose(reading("talent_retention", "immigration_per_1000", 2018), per_1000(2018))
    assert min(per_1000(y) for y in (2016, 2017)) > 2 * max(per_1000(y) for y in range(2010, 2014))
    row = evaluate_claims("LD01").set_index("claim_id").loc["talent_retention"]
    assert row.verdict == "insufficient data"
    assert {r["validity"] for r in row.readings} == {"context"}
    assert row.readings[0]["indicator_id"] == "domestic_migration_per_1000"


def test_share_of_dutch_mbo_students_from_the_raw_file():
    rows = mbo_rows()
    share = rows[("Totaal", NORTH, "2021/'22")] / rows[("Totaal", NL, "2021/'22")] * 100
    found = north_readings()[("students_share_incl_mbo", "mbo_students_share_nl")]
    assert math.isclose(found["figure"], share, rel_tol=1e-9)
    value = published(share, 1)
    expected = (
        "supported" if Decimal("13.5") <= value <= Decimal("16.5")
        else "partly supported" if Decimal("12.0") <= value <= Decimal("18.0")
        else "not supported"
    )  # fmt: skip
    assert found["uncapped_verdict"] == expected and found["validity"] == "proxy"
