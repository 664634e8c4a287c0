"""Untrusted text in the rendered pages: markup planted in the data and the declarations a real
report reads comes out as text, never as markup that runs.

A sandbox copy of ``data/`` gets ``<script>`` and ``onerror=`` in a table title (tables.yaml),
a region label (the region registry, where every page takes region names from), a sector label
inside the CBS table itself (83582NED's rows, as CBS would send them), a theme title and
rationale (themes.yaml), an indicator title (indicators.yaml) and a claim quote
(claims.yaml). The real
``noordstats report`` renders the defence report and the index from it. Each planted string must
reach the pages (so the test can fail), never unescaped; and in headless Chromium nothing runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from noordstats.storage import store
from tests.reliability_env import copy_data_dir, run_cli, subprocess_env, write_sitecustomize

THEME = "defence_security"
REPORT = f"theme-{THEME}-LD01"
EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
RAW_MARKUP = re.compile(r"<script>window\.__pwned|<img src=x onerror", re.IGNORECASE)


def planted(site: str) -> str:
    return f"[{site}]{EVIL}"


def _edit_yaml(path: Path, top: str, entry_id: str, change: Callable[[dict], None]) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(next(e for e in raw[top] if e["id"] == entry_id))
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _rename_category(frame: pd.DataFrame, column: str, old: str, new: str) -> pd.DataFrame:
    assert old in frame[column].cat.categories, (column, old)
    frame[column] = frame[column].cat.rename_categories({old: new})
    return frame


def plant(data: Path) -> list[str]:
    """Plant markup in the sandbox copy of data/ (in the Dutch texts: the report is rendered in
    Dutch, the default); return the sites planted."""
    _edit_yaml(data / "tables.yaml", "tables", "83582NED",
               lambda e: e.update(title=planted("table-title")))  # fmt: skip
    _edit_yaml(data / "themes.yaml", "themes", THEME,
               lambda e: (e["title"].update(nl=planted("theme-title")),
                          e["rationale"].update(nl=planted("theme-rationale"))))  # fmt: skip
    _edit_yaml(data / "indicators.yaml", "indicators", "lq_jobs_public_administration",
               lambda e: e["title"].update(nl=planted("indicator-title")))  # fmt: skip
    _edit_yaml(data / "claims.yaml", "claims", "defence_position",
               lambda e: e.update(quote_nl=planted("claim-quote")))  # fmt: skip
    registry = data / "snapshot" / "regions.csv"
    regions = pd.read_csv(registry, dtype=str, keep_default_na=False)
    regions.loc[regions.region_code == "LD01", "region_name"] = planted("region-label")
    regions.to_csv(registry, index=False)
    snapshot = data / "snapshot"
    frame = store.read_table(snapshot, "83582NED")
    frame = _rename_category(frame, "sector_name", "O Openbaar bestuur en overheidsdiensten",
                             planted("sector-label"))  # fmt: skip
    store.write_table(snapshot, "83582NED", frame, store.read_meta(snapshot, "83582NED"))
    return ["table-title", "theme-title", "theme-rationale", "indicator-title", "claim-quote",
            "region-label", "sector-label"]  # fmt: skip


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("planted")
    data = copy_data_dir(root / "data")
    sites = plant(data)
    site = write_sitecustomize(root / "site")
    out = root / "reports"
    done = run_cli(["report", THEME, "--out", str(out), "--quiet"],
                   subprocess_env(site, data_dir=data), cwd=root)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out, sites


def _escaped_forms(site: str) -> list[str]:
    """How the planted text may appear in a page when it is inert: HTML-escaped text, or inside
    a script's JSON with '<' written as \\u003c (plotly labels: escaped, then encoded)."""
    return [f"[{site}]&lt;script&gt;", f"[{site}]\\u003cscript"]


@pytest.mark.slow  # its fixture renders a real report (the notebook suite)
@pytest.mark.reliability(
    "bad input",
    "<script> and onerror= planted in a table title, a region label, a sector label in the CBS "
    "rows, a theme title and rationale, an indicator title and a claim quote",
    "every one reaches the report and the index escaped; none appears as markup",
)
def test_planted_markup_is_escaped_in_report_and_index(rendered):
    out, sites = rendered
    page = (out / f"{REPORT}.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    for name, text in (("report", page), ("index", index)):
        found = RAW_MARKUP.search(text)
        assert found is None, f"raw markup in the {name}: ...{text[found.start() - 80 :][:200]}"
        assert "&amp;lt;script" not in text, f"escaped twice in the {name} (readers see &lt;)"
    for site in sites:
        assert any(form in page for form in _escaped_forms(site)), f"{site} not in the report"
    for site in ("theme-title", "region-label", "indicator-title"):
        assert f"[{site}]&lt;script&gt;" in index, f"{site} not in the index"


@pytest.mark.browser
@pytest.mark.parametrize("page_name", [f"{REPORT}.html", "index.html"])
@pytest.mark.reliability(
    "bad input",
    "the pages with planted <script>/onerror= opened in headless Chromium",
    "window.__pwned stays undefined, no dialog or page error; the planted text is visible as text",
)
def test_planted_markup_does_not_run_in_a_browser(rendered, browser, page_name):
    out, sites = rendered
    context = browser.new_context()
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        out.resolve().as_uri()) else route.abort())  # fmt: skip
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: (problems.append(dialog.message), dialog.dismiss()))
    page.goto((out / page_name).resolve().as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")
    pwned = page.evaluate("() => window.__pwned")
    text = page.inner_text("body")
    chart_text = page.evaluate(
        "() => Array.from(document.querySelectorAll('.main-svg text')).map(t => t.textContent)"
        ".join(' ')"
    )
    context.close()
    assert pwned is None and problems == []
    shown = [s for s in sites if f"[{s}]{EVIL}" in text or f"[{s}]{EVIL}" in chart_text]
    expected = sites if page_name != "index.html" else ["theme-title", "region-label"]
    assert set(expected) <= set(shown), f"not shown as text: {set(expected) - set(shown)}"
