"""One vocabulary each: the verdicts (one enumeration: order, CSS class, colour), the region
levels (from regions.py) and the stylesheet (every CSS rule in report.css)."""

from __future__ import annotations

import re
from pathlib import Path

from noordstats import i18n, paths, regions
from noordstats.declarations.verdicts import VERDICTS, Verdict, css_class, order

PACKAGE = Path(__file__).resolve().parent.parent / "noordstats"
CSS = paths.REPORT_CSS_FILE.read_text(encoding="utf-8")
CSS_DECLARATION = re.compile(r"\b(background|color|border|font|padding|margin|outline)[\w-]*\s*:")


def python_sources() -> dict[str, str]:
    return {
        str(p.relative_to(PACKAGE.parent)): p.read_text(encoding="utf-8")
        for p in PACKAGE.rglob("*.py")
    }


def test_every_verdict_has_its_class_styled_in_report_css_for_the_badge_matrix_and_index():
    assert [v.value for v in Verdict] == VERDICTS
    for verdict in Verdict:
        cls = verdict.css_class
        for selector in (f".noordstats-verdict.{cls}", f"td.{cls}", f".noordstats-index .{cls}"):
            assert selector in CSS, (verdict, selector)
        assert re.fullmatch(r"#[0-9a-f]{6}", verdict.colour)
        assert i18n.has(f"verdict.{verdict}")
        assert css_class(verdict.value) == cls and order(verdict.value) == verdict.order
    assert css_class("failed") == "nodata" and order("failed") == len(VERDICTS)


def test_the_verdict_classes_are_spelled_only_by_the_enumeration():
    """No other module lists the verdicts or their CSS classes again."""
    for name, source in python_sources().items():
        if name.endswith("declarations/verdicts.py"):
            continue
        assert not re.search(r'"partly supported":\s*"', source), name
        assert not re.search(r"""["'](pa|na)["']""", source), name
        assert '"insufficient data",\n' not in source, name


def test_css_rules_live_only_in_report_css():
    """Python writes no CSS of its own; the one exception is the printed page's margin boxes,
    whose content is the report's title and 'page x of y' in the report's language."""
    for name, source in python_sources().items():
        for line in source.splitlines():
            if CSS_DECLARATION.search(line) and "<style>" not in line:
                assert "@bottom-" in line or "@page" in line or "#" not in line, (name, line)
        assert source.count("<style>") <= 1 or name.endswith("blocks.py"), name


def test_region_levels_are_spelled_out_only_in_regions_py():
    pattern = re.compile(r"""["'](NL|LD)["'],\s*["'](LD|PV)["'],\s*["'](PV|CR)["']""")
    allowed = {
        "noordstats/regions.py",
        "noordstats/ingest/catalog.py",  # CBS's catalog order, with its WK and BU levels
        "noordstats/declarations/tables.py",  # the schema's Literal (a stage before regions.py)
    }
    for name, source in python_sources().items():
        if name not in allowed and "/importers/" not in name:
            assert not pattern.search(source), name
    assert regions.ALL_LEVELS[0] == "NL" and set(regions.REPORT_LEVELS) < set(regions.ALL_LEVELS)
