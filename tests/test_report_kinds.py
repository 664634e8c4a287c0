"""Report kinds are declared once (data/report_kinds.yaml): the suite, the index, the command
line help and `noordstats init` read the declaration, so a new kind of report is one entry there
and its notebook (the worked example below)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from noordstats import cli, paths
from noordstats.declarations import report_kinds
from noordstats.declarations.files import ConfigError
from noordstats.declarations.indicators import load_indicators
from noordstats.report.runner import suite
from noordstats.report.runner.index_page import render_index

NEW_KIND = {
    "id": "labour_market",
    "notebook": "labour_market.ipynb",
    "tables": "indicators",
    "indicators": ["unemployment_rate"],
    "title": {"nl": "Arbeidsmarkt", "en": "Labour market"},
    "description": "the labour market against Nederland",
}


@pytest.fixture
def declared_kinds(tmp_path, monkeypatch):
    """A copy of the packaged notebooks and report kinds the test may extend."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(paths.PACKAGED_NOTEBOOKS_DIR, notebooks)
    kinds_file = tmp_path / "report_kinds.yaml"
    shutil.copyfile(paths.REPORT_KINDS_FILE, kinds_file)
    monkeypatch.setattr(paths, "NOTEBOOKS_DIR", notebooks)
    monkeypatch.setattr(paths, "REPORT_KINDS_FILE", kinds_file)
    report_kinds.load_report_kinds.cache_clear()
    yield kinds_file, notebooks
    report_kinds.load_report_kinds.cache_clear()


def add_kind(kinds_file, notebooks, kind: dict) -> None:
    raw = yaml.safe_load(kinds_file.read_text(encoding="utf-8"))
    raw["kinds"].append(kind)
    kinds_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shutil.copyfile(notebooks / "region_profile.ipynb", notebooks / kind["notebook"])
    report_kinds.load_report_kinds.cache_clear()


def test_the_packaged_kinds_plan_the_suite_in_the_declared_order():
    kinds = list(report_kinds.load_report_kinds().values())
    specs = suite.plan_suite()
    assert [s.kind for s in specs] == [
        k.id for k in kinds for _ in (range(len(suite.theme_ids())) if k.per_theme else [0])
    ]
    claims = next(s for s in specs if s.kind == "claims")
    assert claims.notebook.name == "claims.ipynb" and claims.label == "Toetsing van de claims"
    assert claims.region_name == "Noord-Nederland" and claims.name == "claims-LD01"


def test_a_new_kind_is_one_declaration_and_its_notebook(declared_kinds, capsys):
    kinds_file, notebooks = declared_kinds
    add_kind(kinds_file, notebooks, NEW_KIND)
    assert suite.report_kinds()[-1] == "labour_market"
    spec = suite.plan_report("labour_market", "PV21", {"lang": "en"})
    expected_tables = load_indicators()["unemployment_rate"].tables
    assert spec.name == "labour_market-PV21-en" and spec.kind == "labour_market"
    assert spec.notebook == notebooks / "labour_market.ipynb"
    assert spec.table_ids == list(dict.fromkeys(expected_tables))
    assert (spec.label, spec.region_name) == ("Labour market", "Fryslân")
    # the index lists it after the declared kinds before it, under its own column
    entries = [
        {"name": s.name, "kind": s.kind, "title": s.title, "label": s.label,
         "region_name": s.region_name, "parameters": s.parameters, "status": "rendered",
         "html": f"{s.name}.html", "summary": {}}
        for s in [spec, *(suite.plan_report("claims", r, {"lang": "en"}) for r in ("PV21", "LD01"))]
    ]  # fmt: skip
    page = render_index(entries, "2026-12-07T12:00:00", "en")
    assert page.index("Claims") < page.index("Labour market") and "Fryslân" in page
    # the command line help names it
    with pytest.raises(SystemExit):
        cli.main(["report", "--help"])
    assert "labour_market" in capsys.readouterr().out


@pytest.mark.reliability(
    "bad input",
    "report_kinds.yaml: a kind without a title, or a second per-theme kind",
    "one line naming the file and the entry; exit status 2",
)
def test_a_malformed_kind_is_refused(declared_kinds):
    kinds_file, notebooks = declared_kinds
    untitled = {k: v for k, v in NEW_KIND.items() if k != "title"}
    add_kind(kinds_file, notebooks, untitled)
    with pytest.raises(ConfigError) as caught:
        report_kinds.load_report_kinds()
    assert "labour_market" in str(caught.value) and "title" in str(caught.value)
    kinds_file.write_text(kinds_file.read_text().replace("labour_market", "x"), encoding="utf-8")
    raw = yaml.safe_load(kinds_file.read_text(encoding="utf-8"))
    raw["kinds"] = [k for k in raw["kinds"] if k["id"] != "x"]
    raw["kinds"].append({**raw["kinds"][0], "id": "theme2"})
    kinds_file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    report_kinds.load_report_kinds.cache_clear()
    with pytest.raises(ConfigError) as caught:
        report_kinds.load_report_kinds()
    assert "at most one kind can be per_theme" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1
