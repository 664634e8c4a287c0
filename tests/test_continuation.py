"""Successor tables: ``continues`` in tables.yaml (strictly validated), an indicator that reads
the newest table and the older one only for the periods the newer lacks, and the break marked in
the chart, its CSV, the figure's caveat and the sources footer. Shipped pair: 85268NED continues
83523NED (the regional labour-force key figures, two editions)."""

from __future__ import annotations

import copy

import pytest
import yaml

from noordstats import paths
from noordstats.analysis import frames, indicators
from noordstats.declarations.tables import (
    DeclarationError,
    TableDeclaration,
    check_continuations,
    continuation_chain,
    declarations,
)
from noordstats.load import load_table
from noordstats.report import wording
from noordstats.report.page import charts, provenance

NEW, OLD = "85268NED", "83523NED"


def test_shipped_continuation():
    assert continuation_chain(NEW) == [NEW, OLD]
    assert indicators.check_indicator("unemployment_rate").tables == [NEW, OLD]


def _tables(change) -> dict[str, TableDeclaration]:
    raw = yaml.safe_load(paths.TABLES_FILE.read_text("utf-8"))["tables"]
    entries = {e["id"]: copy.deepcopy(e) for e in raw}
    change(entries)
    return {k: TableDeclaration.model_validate(v) for k, v in entries.items()}


def _set(table: str, value: dict):
    def change(entries: dict) -> None:
        entries[table]["continues"] = value

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (_set(NEW, {"table": "99999NED", "note": "x"}),
         "entry '85268NED', key 'continues.table': '99999NED' is not another declared table"),
        (_set(NEW, {"table": NEW, "note": "x"}), "'85268NED' is not another declared table"),
        (lambda e: (_set(NEW, {"table": OLD, "note": "x"})(e),
                    _set(OLD, {"table": NEW, "note": "x"})(e)), "a cycle: "),
        (_set(NEW, {"table": "83582NED", "note": "x"}), "83582NED has other dimensions (sector"),
        (_set(NEW, {"table": OLD, "note": "x", "measures": {"Nope_1": "Beroepsbevolking_2"}}),
         "key 'continues.measures': 85268NED has no measure 'Nope_1'"),
        (_set(NEW, {"table": OLD, "note": "x", "measures": {"Beroepsbevolking_2": "Nope"}}),
         "83523NED has no measure 'Nope'; valid: BeroepsEnNietBeroepsbevolking_1"),
        (_set(NEW, {"table": "85924NED", "note": "x"}), "no measure of 85268NED is in 85924NED"),
    ],
)  # fmt: skip
@pytest.mark.reliability(
    "bad input", "tables.yaml: a wrong 'continues'", "DeclarationError naming entry, key, valid"
)
def test_bad_continuation_is_refused(change, message):
    with pytest.raises(DeclarationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_continuations(paths.TABLES_FILE, _tables(change))


def test_unknown_key_in_continues_is_refused():
    with pytest.raises(Exception, match="unexpected|extra|not permitted|valid keys"):
        _tables(_set(NEW, {"table": OLD, "note": "x", "since": 2013}))


def _own_value(table_id: str, region: str, year: int) -> float:
    frame = load_table(table_id, regions=region, periods=f"{year}JJ00")
    row = frame[frame.measure_code == "Werkloosheidspercentage_13"]
    return float(row.value.iloc[0])


def test_indicator_reads_the_newest_table_and_the_older_one_for_missing_periods():
    series = indicators.indicator_series("unemployment_rate", ["LD01"])
    by_table = series.groupby("table_id").year.agg(["min", "max"])
    newer_years = set(load_table(NEW).year)
    assert by_table.loc[NEW, "min"] == min(newer_years)
    assert by_table.loc[OLD, "max"] == min(newer_years) - 1, "the older only where newer lacks"
    assert len(series) == series.year.nunique(), "one figure per year: no period twice"
    for year, table in [(2010, OLD), (2015, NEW)]:
        row = series[series.year == year].iloc[0]
        assert row.table_id == table and row.value == pytest.approx(_own_value(table, "LD01", year))
    overlap = set(load_table(OLD).year) & newer_years
    assert overlap and not (series[series.year.isin(overlap)].table_id == OLD).any()


def test_a_figure_from_the_older_table_says_so():
    result = indicators.compute_indicator("unemployment_rate", "LD01", year=2010)
    texts = wording.caveat_texts(result, "en")
    assert any(f"from {OLD}, the older table {NEW} continues" in c for c in texts)
    latest = indicators.compute_indicator("unemployment_rate", "LD01")
    assert not any("older table" in c for c in wording.caveat_texts(latest, "en"))


def test_chart_csv_and_footer_mark_the_break():
    series = indicators.indicator_series("unemployment_rate", ["LD01", "NL01"])
    chart = charts.line_trends(series, "Unemployment", lang="en")
    assert "table_id" in chart.data.columns
    assert set(chart.data.table_id) == {NEW, OLD}
    breaks = [s for s in chart.figure.layout.shapes if s.line.dash == "dot"]
    assert len(breaks) == 1 and breaks[0].x0 == min(load_table(NEW).year) - 0.5
    assert f"figures before 2013 come from {OLD}, the older table {NEW} continues" in chart.note
    rows = {r.table_id: r for r in provenance.describe_sources([NEW, OLD]).itertuples()}
    assert f"continues table {OLD} (a break in the series)" in provenance.source_item(rows[NEW])
    assert (
        f"continued by {NEW}: used only for the periods {NEW} lacks (a break in the series)"
        in provenance.source_item(rows[OLD])
    )
    assert f"voortgezet door {NEW}" in provenance.source_item(rows[OLD], "nl")


def test_tables_without_continuation_are_unchanged():
    frame = frames.continued_frame("85924NED")
    assert set(frame.table_id) == {"85924NED"}
    assert len(frame) == len(load_table("85924NED"))
    assert declarations()["85924NED"].continues is None
