"""The index that scales: for several regions a matrix (regions × reports) with each report's
main headline figure and verdict counts, filtered, sorted and searched by a few lines of inline
script; within its byte budget (300 KB for 56 regions × 10 reports, so linear in the cells);
every text escaped; for one region the list it always was. Entries are synthesised as the
manifest holds them (no notebook runs)."""

from __future__ import annotations

import re

import pytest

from noordstats import regions
from noordstats.declarations.themes import load_themes, theme_ids
from noordstats.report.runner.index_page import render_index

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
BUDGET_56_BY_10 = 300 * 1024
VERDICTS = ["supported", "partly supported", "not supported", "insufficient data", "not testable"]


def region_codes(levels: tuple[str, ...]) -> list[str]:
    return list(regions.list_regions(levels).region_code)


def synthetic_entries(codes: list[str], lang: str = "nl") -> list[dict]:
    """Ten reports per region (8 themes, claims, profile) as the manifest records them, with
    made-up figures (this tests the page, not the statistics)."""
    suffix = "" if lang == "nl" else f"-{lang}"
    entries = []
    for r, code in enumerate(codes):
        name = regions.region_name(code)
        kinds = [(f"theme-{t}", "theme", t, load_themes()[t].title_nl) for t in theme_ids()]
        kinds += [("claims", "claims", None, "Toetsing van de claims")]
        kinds += [("region_profile", "region_profile", None, "Regioprofiel")]
        for k, (stem, kind, theme, label) in enumerate(kinds):
            value = round(0.5 + ((r * 7 + k * 3) % 23) / 10, 2)
            params = {"region": code, "source": "snapshot", "lang": lang}
            if theme:
                params["theme"] = theme
            figures = [
                {"indicator_id": "x", "title": "Locatiequotiënt", "value": value,
                 "value_text": f"{value:.2f} LQ".replace(".", ","), "period": "2024"}
            ]  # fmt: skip
            verdicts = [{"claim_id": f"c{i}", "verdict": VERDICTS[(r + i) % 5]} for i in range(4)]
            entries.append(
                {
                    "name": f"{stem}-{code}{suffix}",
                    "kind": kind,
                    "title": f"{label} — {name}",
                    "label": label,
                    "region_name": name,
                    "parameters": params,
                    "html": f"{stem}-{code}{suffix}.html",
                    "notebook": f"{stem}-{code}{suffix}.ipynb",
                    "pdf": f"{stem}-{code}{suffix}.pdf",
                    "status": "rendered",
                    "rendered_at": "2026-11-30T06:00:00+01:00",
                    "data_date": "2025-04-22T02:00:00",
                    "latest_period": "2024JJ00",
                    "source": "snapshot",
                    "tables": [
                        {
                            "table_id": "83582NED",
                            "source": "snapshot",
                            "data_date": "2025-04-22T02:00:00",
                            "latest_period": "2024JJ00",
                            "stale_reason": None,
                        }
                    ],  # fmt: skip
                    "summary": {
                        "figures": figures if kind != "claims" else [],
                        "verdicts": verdicts if kind != "region_profile" else [],
                    },
                }  # fmt: skip
            )
    return entries


def test_sixteen_regions_make_a_matrix_within_the_budget():
    codes = region_codes(("LD", "PV"))
    assert len(codes) == 16
    page = render_index(synthetic_entries(codes), "2026-11-30T06:00:00+01:00")
    size = len(page.encode("utf-8"))
    assert size <= BUDGET_56_BY_10 * 16 / 56, f"{size} bytes for 16 regions"
    assert page.count("<tr data-l=") == 16
    assert page.count('<td data-k="claims"') == 16
    assert 'id="f-level"' in page and 'id="f-report"' in page and 'id="f-search"' in page
    assert "<script src" not in page and "http" not in page.replace("http-equiv", "")
    assert '<html lang="nl">' in page and "Regio" in page and "30 november 2026" in page


def test_fifty_six_regions_by_ten_reports_stay_under_300_kb():
    codes = region_codes(("LD", "PV", "CR"))
    assert len(codes) == 56
    page = render_index(synthetic_entries(codes), "2026-11-30T06:00:00+01:00")
    assert len(page.encode("utf-8")) <= BUDGET_56_BY_10
    assert page.count('href="theme-') == 56 * 8 * 2, "each theme cell links page and PDF"


def test_one_region_stays_a_readable_list():
    page = render_index(synthetic_entries(["LD01"]), "2026-11-30T06:00:00+01:00")
    assert 'id="m"' not in page and "<script" not in page
    assert page.count("<tr><td>") == 10
    assert 'href="claims-LD01.pdf">PDF</a>' in page
    assert "Kerncijfers" in page and "ondersteund: " in page


def test_english_index_and_a_link_to_the_other_language():
    entries = synthetic_entries(["LD01", "PV20"], "en")
    page = render_index(entries, "2026-11-30T06:00:00+01:00", "en", {"nl": "index.html"})
    assert '<html lang="en">' in page and 'href="index.html"' in page
    assert "Nederlandse versie" in page and "30 November 2026" in page
    assert "Search region" in page and "Zoek regio" not in page


def test_every_text_of_the_matrix_is_escaped():
    entries = synthetic_entries(["LD01", "PV20"])
    for entry in entries:
        entry["title"] = f"{EVIL} — {EVIL}"
        entry["parameters"]["theme"] = EVIL
        entry["summary"]["figures"] = [{"title": EVIL, "value_text": EVIL, "period": EVIL,
                                        "value": 1.0}]  # fmt: skip
        entry["summary"]["verdicts"] = [{"claim_id": EVIL, "verdict": EVIL}]
    entries[0].update(status="failed", error=EVIL, html=None)
    page = render_index(entries, EVIL)
    assert "<img" not in page and "<script>window" not in page
    assert "&lt;script&gt;" in page


VISIBLE_JS = """() => Array.from(document.querySelectorAll('#m tbody tr'))
  .filter(r => !r.hidden).map(r => r.dataset.l + ' ' + r.querySelector('th').textContent)"""
COLUMNS_JS = """() => Array.from(document.querySelectorAll('#m thead th'))
  .filter(h => !h.hidden).length"""
CLAIMS_COLUMN = len(theme_ids()) + 2  # region, the themes, then claims (1-based, CSS nth-child)


@pytest.mark.browser
def test_filter_sort_and_search_work_in_chromium(browser, tmp_path):
    entries = synthetic_entries(region_codes(("LD", "PV")))
    (tmp_path / "index.html").write_text(render_index(entries, "2026-11-30"), encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto((tmp_path / "index.html").as_uri())
    assert len(page.evaluate(VISIBLE_JS)) == 16
    page.select_option("#f-level", "PV")
    visible = page.evaluate(VISIBLE_JS)
    assert len(visible) == 12 and all(v.startswith("PV ") for v in visible)
    page.fill("#f-search", "gron")
    assert [v.split()[1] for v in page.evaluate(VISIBLE_JS)] == ["Groningen"]
    page.fill("#f-search", "")
    page.select_option("#f-level", "")
    page.select_option("#f-report", "cleantech")
    assert page.evaluate(COLUMNS_JS) == 2, "the region and the chosen report"
    page.select_option("#f-report", "")
    assert page.evaluate(COLUMNS_JS) == 1 + 10
    page.click("#m thead th:nth-child(2) button")  # the first theme: highest figure first
    values = page.eval_on_selector_all(
        "#m tbody tr td:nth-of-type(1)", "cells => cells.map(c => parseFloat(c.dataset.v))"
    )
    assert values == sorted(values, reverse=True) and len(set(values)) > 1
    heading = "#m thead th:nth-child(2)"
    assert page.get_attribute(heading, "aria-sort") == "descending"
    assert page.text_content("#m-status").startswith("Gesorteerd op ")
    assert page.text_content("#m-status").endswith("hoogste eerst")
    page.focus(f"{heading} button")  # by keyboard: the heading's button takes Enter
    page.keyboard.press("Enter")
    values = page.eval_on_selector_all(
        "#m tbody tr td:nth-of-type(1)", "cells => cells.map(c => parseFloat(c.dataset.v))"
    )
    assert values == sorted(values)
    assert page.get_attribute(heading, "aria-sort") == "ascending"
    assert page.text_content("#m-status").endswith("laagste eerst")
    assert page.eval_on_selector_all("#m th[aria-sort]", "hs => hs.length") == 1
    page.click("#m thead th:nth-child(1) button")  # by region name
    names = page.eval_on_selector_all("#m tbody tr", "rows => rows.map(r => r.dataset.n)")
    assert names == sorted(names)
    link = page.eval_on_selector(f"#m tbody tr td:nth-child({CLAIMS_COLUMN}) a", "a => a.href")
    assert re.search(r"claims-(LD|PV)\d\d\.html$", link)
    assert errors == []
    page.close()
