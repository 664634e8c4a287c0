"""The claims beside every region: --region lists, --all-regions, the comparison sentence, the
distinctiveness count, the claims x regions matrix (HTML) and the summary field the index shows."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from noordstats import cli
from noordstats.analysis import frames
from noordstats.analysis.claims import all_regions, evaluate_claims, evaluate_claims_regions
from noordstats.analysis.claims_compare import compare_regions, distinctive_counts, rule_direction
from noordstats.declarations.claims import Condition, Rule, load_claims
from noordstats.report import wording
from noordstats.report.page import claims_matrix
from noordstats.report.page.provenance import build_summary
from noordstats.report.runner.index_page import render_index
from noordstats.report.wording import comparison_sentence


@pytest.fixture(scope="module")
def everywhere() -> pd.DataFrame:
    return evaluate_claims_regions(all_regions())


def test_all_regions_are_the_landsdelen_and_provinces_north_first():
    codes = all_regions()
    assert len(codes) == 16 and codes[0] == "LD01"
    assert {c[:2] for c in codes} == {"LD", "PV"} and len(set(codes)) == 16


@pytest.mark.slow
def test_every_region_is_judged_by_the_same_rules(everywhere):
    assert len(everywhere) == 16 * len(load_claims())
    for code, group in everywhere.groupby("region_code"):
        single = evaluate_claims(code)
        assert list(group.verdict) == list(single.verdict), code


@pytest.mark.slow
def test_many_regions_cost_little_more_than_one():
    frames.indicator_frame.cache_clear()
    frames.load_cached.cache_clear()
    start = time.perf_counter()
    evaluate_claims("LD01")
    one = time.perf_counter() - start
    start = time.perf_counter()
    evaluate_claims_regions(all_regions())
    sixteen = time.perf_counter() - start
    assert sixteen < 6 * one + 5, (one, sixteen)  # frames are computed once for all regions


def test_comparison_counts_regions_meeting_the_rule(everywhere):
    comparison = compare_regions(everywhere, "LD01")
    # claims whose readings are all context give no verdict, so there is nothing to compare
    judged = [c.id for c in load_claims() if c.rule is not None]
    assert list(comparison.claim_id) == judged
    for row in comparison.itertuples():
        group = everywhere[everywhere.claim_id == row.claim_id].set_index("region_code")
        lds = group[group.index.str.startswith("LD")]
        pvs = group[group.index.str.startswith("PV")]
        assert row.peers_meeting == int(lds.meets_rule.sum()) and row.n_peers == 4
        assert row.provinces_meeting == int(pvs.meets_rule.sum()) and row.n_provinces == 12
        others = row.peers_meeting - int(row.meets_rule)
        # distinctive says 'supported' only of a claim whose verdict is 'supported'
        assert row.distinctive == (row.meets_rule and row.verdict == "supported" and others <= 1)
        assert comparison_sentence(row._asdict(), "en").startswith("Noord-Nederland")
    counts = distinctive_counts(comparison)
    assert counts["meets_rule"] == int(comparison.meets_rule.sum())
    assert 0 <= counts["distinctive"] <= counts["supported"] <= counts["meets_rule"]
    distinct = comparison[comparison.distinctive]
    assert counts["distinctive_groups"] == distinct.evidence_group.nunique()
    assert counts["distinctive_groups"] <= counts["distinctive"]


def test_rank_follows_the_rule_direction():
    up = Rule(
        indicator="x",
        validity="direct",
        validity_reason="a direct measure in a test",
        text="t",
        supported=[Condition(metric="value", at_least=1)],
    )
    down = Rule(
        indicator="x",
        validity="direct",
        validity_reason="a direct measure in a test",
        text="t",
        supported=[Condition(metric="ratio_to_nl", at_most=1)],
    )
    both = Rule(
        indicator="x",
        validity="direct",
        validity_reason="a direct measure in a test",
        text="t",
        supported=[Condition(at_least=1, at_most=2)],
    )
    assert rule_direction(up) == "higher" and rule_direction(down) == "lower"
    assert rule_direction(both) is None


def test_the_sentence_reads_as_the_issue_asks():
    row = {
        "region_code": "LD01", "rank": 2.0, "n_ranked": 4, "level": "LD",
        "peers_meeting": 1, "n_peers": 4, "provinces_meeting": 3, "n_provinces": 12,
        "distinctive": False, "verdict": "supported",
    }  # fmt: skip
    assert comparison_sentence(row, "en") == (
        "Noord-Nederland ranks 2nd of 4 landsdelen; 1 of 4 landsdelen and 3 of 12 provinces "
        "meet the rule for 'supported'."
    )
    assert comparison_sentence(row, "nl") == (
        "Noord-Nederland staat 2e van 4 landsdelen; 1 van 4 landsdelen en 3 van 12 provincies "
        "voldoen aan de regel voor 'ondersteund'."
    )


def test_matrix_html_has_a_coloured_cell_per_claim_and_region(everywhere):
    comparison = compare_regions(everywhere, "LD01")
    markup = claims_matrix.matrix_html(everywhere, comparison, "LD01")
    testable = [c.id for c in load_claims() if c.testable]
    assert markup.count("<tr>") == len(testable) + 1
    assert markup.count("data-verdict=") == 16 * len(testable)
    for code in all_regions():
        assert f">{code}</th>" in markup
    assert 'class="ok own"' in markup or 'class="partly own"' in markup
    north = wording.claim_texts(everywhere[everywhere.region_code == "LD01"], "en")
    readings = claims_matrix.readings_html(north, "en")
    assert "primary" in readings and "check" in readings and "sensitive" in readings


def test_matrix_escapes_what_it_shows(everywhere):
    planted = everywhere.copy()
    planted.loc[planted.index[0], "figure_text"] = "<script>x</script>"
    planted.loc[planted.index[0], "claim_id"] = "<b>id</b>"
    markup = claims_matrix.matrix_html(planted, compare_regions(everywhere, "LD01"), "LD01")
    assert "<script>x" not in markup and "<b>id</b>" not in markup


def test_the_summary_and_the_index_carry_the_distinctive_count(tmp_path):
    summary = build_summary([], "snapshot", distinctive={"meets_rule": 12, "distinctive": 8})
    assert summary["distinctive"] == {"meets_rule": 12, "distinctive": 8}
    entry = {
        "kind": "claims", "name": "claims-LD01", "title": "Claims", "status": "rendered",
        "html": "claims-LD01.html", "notebook": "claims-LD01.ipynb", "summary": summary,
    }  # fmt: skip
    page = render_index([entry], "now", lang="en")
    assert "8 of 12 claims the region meets are distinctive" in page
    assert "8 van de 12 claims die de regio haalt zijn onderscheidend" in render_index(
        [entry], "now"
    )
    del entry["summary"]["distinctive"]
    assert "distinctive" not in render_index([entry], "now", lang="en")
    assert "onderscheidend" not in render_index([entry], "now")


# --- CLI ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_region_list_and_all_regions(capsys):
    assert cli.main(["claims", "--region", "LD01", "LD02", "PV20", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 3 * len(load_claims())
    assert [r["region_code"] for r in records[:: len(load_claims())]] == ["LD01", "LD02", "PV20"]
    testable = [r for r in records if r["verdict"] != "not testable"]
    assert all(isinstance(r["readings"], list) and r["readings"] for r in testable)
    assert cli.main(["claims", "--all-regions", "--theme", "agrofood", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    agro = [c for c in load_claims() if c.theme == "agrofood"]
    assert len(lines) == 1 + 16 * len(agro)
    assert cli.main(["claims", "--region", "LD01", "LD03"]) == 0
    assert "claim x region rows" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["claims", "--region", "LD01", "XX01"], "unknown region 'XX01'; valid: LD01",
            marks=pytest.mark.reliability(
                "bad input", "claims --region LD01 XX01 (one unknown code in a list)",
                "exit 2, one line naming the unknown code and the valid ones; nothing printed",
            ),
        ),
        pytest.param(
            ["claims", "--all-regions", "--region", "LD01"], "exclude each other",
            marks=pytest.mark.reliability(
                "bad input", "claims --all-regions together with --region",
                "exit 2, one line: the two options exclude each other",
            ),
        ),
        pytest.param(
            ["claims", "--region"], "expected at least one argument",
            marks=pytest.mark.reliability(
                "bad input", "claims --region without a code",
                "exit 2, one line: --region expects at least one code",
            ),
        ),
    ],
)  # fmt: skip
def test_cli_bad_region_input_exits_2_with_one_line(capsys, argv, expected):
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse's own check (nargs), one line by OneLineParser
        status = exc.code
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err and captured.err.count("\n") == 1
