"""Regions up the tree (a figure of the province for a COROP area or municipality without one),
series breaks (outlying yearly changes, CBS boundary changes) and chart text alternatives, on
the shipped snapshot; expected values read from the raw files by an independent route."""

from __future__ import annotations

import csv
import gzip
import html
import io
import json
import math
import re
import subprocess
import sys

import pandas as pd
import pytest

from noordstats import i18n
from noordstats import regions as reg
from noordstats.analysis import breaks, frames, indicators
from noordstats.report import wording
from noordstats.report.page import blocks, charts, parameters
from noordstats.report.runner import suite


@pytest.mark.parametrize(
    ("code", "chain"),
    [
        ("CR05", ["PV21", "LD01"]),
        ("CR01", ["PV20", "LD01"]),
        ("CR09", ["PV22", "LD01"]),
        ("GM0014", ["PV20", "LD01"]),
        ("PV22", ["LD01"]),
        ("LD01", []),
        ("NL01", []),
    ],
)
def test_containing_regions_come_from_cbs_code_list(code, chain):
    assert reg.containing_regions(code) == chain


@pytest.mark.parametrize(
    ("change", "nl", "is_break"),
    [
        (30.3, 1.6, True),  # CR05 2014: the De Friese Meren reorganisation
        (-19.4, 0.1, True),
        (9.0, 1.0, False),  # within 10 points of the nation
        (12.0, 3.0, False),  # more than 10 points away, but not 5 times the national change
        (float("nan"), 1.0, False),
    ],
)
def test_the_break_rule(change, nl, is_break):
    assert breaks.is_series_break(change, nl) is is_break
    frame = pd.DataFrame({"change_pct": [change], "nl_change_pct": [nl]})
    assert bool(breaks.flag_series_breaks(frame).iloc[0]) is is_break


def _raw_85924(raw_dir, region_title: str) -> dict[int, float]:
    """BbpVolumemutaties_3 by year for one region title, straight from the raw CSV."""
    text = gzip.decompress((raw_dir / "cbs/85924NED/85924NED.csv.gz").read_bytes()).decode()
    out = {}
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"):
        if row["RegioS"] == region_title and row["BbpVolumemutaties_3"]:
            out[int(row["Perioden"].rstrip("*"))] = float(row["BbpVolumemutaties_3"])
    return out


def test_boundary_changes_are_read_from_cbs_descriptions(raw_dir):
    items = json.loads(
        gzip.decompress(
            (raw_dir / "cbs/03759ned/odata_v4_2026/codes-RegioS.json.gz").read_bytes()
        ).decode()
    )["value"]
    description = next(i["Description"] for i in items if i["Identifier"] == "CR05")
    block = description.split("Grenswijziging per 01-01-2014:")[1].split("Grenswijziging")[0]
    expected = sum(int(n) for n in re.findall(r"^- .*? (\d+) inwoners", block, re.M))
    changes = reg.load_boundary_changes()
    got = changes[(changes.region_code == "CR05") & (changes.year == 2014)].inhabitants.sum()
    assert got == expected > 0
    assert 2014 in breaks.material_boundary_years(changes)["CR05"]
    moves = [
        line
        for item in items
        if item["Identifier"].strip()[:2] in {"LD", "PV", "CR"}
        for block in item["Description"].split("Grenswijziging per ")[1:]
        for line in block.split("\r\n\r\n")[0].split("\r\n")[1:]
        if line.startswith("- ")
    ]
    assert len(changes) == len(moves), "every move CBS describes is read"


def test_cr05_growth_leaves_out_its_2014_boundary_break(raw_dir):
    own = _raw_85924(raw_dir, "Zuidwest-Friesland (CR)")
    nl = _raw_85924(raw_dir, "Nederland")
    assert breaks.is_series_break(own[2014], nl[2014])
    result = indicators.compute_indicator("gdp_volume_cagr_10y", "CR05")
    end = result.year
    kept = [own[y] for y in range(end - 9, end + 1) if y != 2014]
    factor = math.prod(1 + c / 100 for c in kept)
    assert result.left_out_years == (2014,)
    assert result.value == pytest.approx((factor ** (1 / len(kept)) - 1) * 100, abs=1e-9)
    assert math.isnan(result.rank) and result.n_peers == 0, "a figure with a break is not ranked"
    others = indicators.compute_indicator("gdp_volume_cagr_10y", "CR04")
    assert others.n_peers == 39, "CR05 is left out of the ranking of the others"


def test_an_outlying_change_without_boundary_change_is_kept_and_marked():
    # Groningen's 2023 gas-field closure: an outlier, but no boundary moved: not left out
    result = indicators.compute_indicator("gdp_volume_cagr_10y", "PV20", year=2023)
    assert result.outlier_years == (2023,) and result.left_out_years == ()
    assert result.n_peers == 12


def test_a_corop_area_without_a_figure_shows_its_province_marked_and_unranked():
    own = indicators.compute_indicator("unemployment_rate", "CR05")
    assert math.isnan(own.value), "the table has no COROP figure"
    shown = indicators.compute_indicator("unemployment_rate", "CR05", fallback=True)
    province = indicators.compute_indicator("unemployment_rate", "PV21")
    assert shown.fallback_region_code == "PV21" and shown.is_fallback
    assert (shown.value, shown.period_code) == (province.value, province.period_code)
    assert shown.nl_value == province.nl_value and not math.isnan(shown.nl_value)
    assert math.isnan(shown.rank) and shown.n_peers == 0
    row = indicators.result_row(shown)
    assert row["province_code"] == "PV21" and row["province_value"] == province.value
    assert row["landsdeel_code"] == "LD01"


def test_the_national_figure_is_shown_where_the_region_has_none():
    result = indicators.compute_indicator("unemployment_rate", "CR05")
    nl = indicators.compute_indicator("unemployment_rate", "NL01")
    assert math.isnan(result.value) and result.nl_value == nl.value


def test_a_card_and_its_csv_say_the_figure_is_the_province_s():
    profile = wording.headline_texts(indicators.region_profile("CR05"), "nl")
    fallback = profile[profile.is_fallback]
    assert set(fallback.fallback_region_code) == {"PV21"}
    assert not fallback["rank"].notna().any()
    shown = blocks.localise_frame(profile.reindex(columns=blocks.FIGURE_TABLE_COLUMNS), "nl")
    assert "PV21" in set(shown[blocks.column_name("fallback_region_code", "nl")])
    assert "2014" in set(shown[blocks.column_name("left_out_years", "nl")])


@pytest.mark.slow
def test_a_municipality_report_needs_figures_of_the_municipality():
    with pytest.raises(
        parameters.ParameterError, match="reports with figures for GM0014: .*talent"
    ):
        suite.plan_report("cleantech", "GM0014")
    spec = suite.plan_report("talent", "GM0014")
    assert spec.parameters["compare"] == ["NL01", "PV20", "LD01"]


def test_every_chart_builder_gives_a_text_alternative_from_its_data():
    series = indicators.indicator_series("gdp_share_nl", ["LD01", "LD02", "LD03", "LD04"])
    for lang in ("nl", "en"):
        chart = charts.line_trends(series, lang=lang)
        latest = series[series.year == series.year.max()]
        top = latest.loc[latest.value.idxmax()]
        assert chart.summary.startswith(chart.title)
        decimals = indicators.load_indicators()["gdp_share_nl"].decimals
        assert f"{top.region_name} {i18n.number(top.value, lang, decimals)}" in chart.summary
        markup = charts.render_chart_html(chart, {"data": [], "layout": {}}, lang)
        assert markup.startswith('<figure class="noordstats-chart"')
        assert re.search(r'aria-labelledby="([^"]+)".*<figcaption id="\1"', markup, re.S)


@pytest.fixture(scope="module")
def area_reports(tmp_path_factory):
    """One COROP and one municipality report (the region profile of CR05 and of GM0014)."""
    out = tmp_path_factory.mktemp("areas")
    done = subprocess.run(
        [sys.executable, "-m", "noordstats.cli", "reports", "--only", "region_profile",
         "--region", "CR05", "GM0014", "--out", str(out), "--quiet", "--jobs", "2"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("code", "province"), [("CR05", "Fryslân"), ("GM0014", "Groningen")])
def test_corop_and_municipality_reports_show_figures_beside_their_province(
    area_reports, code, province
):
    page = (area_reports / f"region_profile-{code}.html").read_text(encoding="utf-8")
    card = r'<div class="noordstats-card(?: fallback)?">'
    cards = re.findall(card + r'(.*?)(?=<div class="noordstats-card|$)', page, re.S)
    cards = [html.unescape(re.sub(r"<[^>]+>", " ", c)) for c in cards]
    with_figure = [c for c in cards if "geen cijfer" not in c.split("·")[0]]
    assert len(cards) == len(indicators.load_indicators().region_profile)
    assert len(with_figure) / len(cards) > 0.9
    assert all(province in c or "Noord-Nederland" in c for c in with_figure)
    assert "alleen per provincie" in page
    if code == "CR05":
        assert "2014 weggelaten" in page
    index = (area_reports / "index.html").read_text(encoding="utf-8")
    assert f"region_profile-{code}.html" in index


def test_a_start_to_end_growth_across_a_confirmed_break_is_marked_and_not_ranked():
    # CR05's employed persons jump 27.7% in 2014 (NL -0.2%), the year CBS moved 29,357
    # inhabitants into it: a growth over 2010-2020 spans that break
    result = indicators.compute_indicator("employed_persons_growth_10y", "CR05", year=2020)
    assert result.confirmed_break_years == (2014,) and result.left_out_years == ()
    assert math.isnan(result.rank) and result.n_peers == 0
    assert "2014" in wording.comparison_text(result, "en")


@pytest.mark.slow
def test_docs_list_every_confirmed_break_in_the_shipped_tables():
    from noordstats import paths

    doc = (paths.PROJECT_DIR / "docs" / "data.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    found = set()
    for ind in indicators.load_indicators().values():
        if ind.transform not in frames.SPAN_TRANSFORMS:
            continue
        confirmed = frames.series_breaks(ind.id)
        for r in confirmed[confirmed.is_confirmed.astype(bool)].itertuples():
            found.add((ind.id, r.region_code, int(r.year)))
    assert ("gdp_volume_cagr_10y", "CR05", 2014) in found
    for indicator_id, code, year in sorted(found):
        listed = [
            row
            for row in rows
            if f"`{indicator_id}`" in row and code in row and f"| {year} |" in row
        ]
        assert listed, f"docs/data.md does not list the break {indicator_id} {code} {year}"


@pytest.mark.slow
@pytest.mark.browser
def test_corop_and_municipality_pages_have_no_axe_violations(browser, area_reports):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for name in ("region_profile-CR05", "region_profile-GM0014", "index"):
        page = browser.new_page()
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort()
        )
        page.goto((area_reports / f"{name}.html").as_uri(), wait_until="load")
        page.wait_for_load_state("networkidle")
        violations = axe.run(page).response["violations"]
        page.close()
        assert [(v["id"], v["nodes"][0]["html"][:120]) for v in violations] == [], name


@pytest.mark.slow
def test_claims_evaluate_for_a_municipality_beside_every_region():
    from noordstats.analysis import claims

    scorecard = claims.evaluate_claims_regions(["LD01", "PV20", "GM0014"])
    assert set(scorecard.region_code) == {"LD01", "PV20", "GM0014"}


def test_a_trend_chart_marks_the_report_region_s_confirmed_break():
    series = indicators.indicator_series("gdp_volume_cagr_10y", ["CR05", "PV21", "NL01"], 2010)
    chart = charts.line_trends(series, lang="en", region="CR05")
    assert "2014" in chart.note and "Zuidwest-Friesland" in chart.note
    assert any(shape.x0 == 2013.5 for shape in chart.figure.layout.shapes)
    assert "confirmed_break_years" not in chart.data, "the CSV holds the rows drawn"
    other = charts.line_trends(series, lang="en", region="PV21")
    assert "2014" not in other.note
