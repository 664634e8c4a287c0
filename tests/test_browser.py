"""The rendered reports as a reader sees them, in headless Chromium (Debian's ``chromium``;
``.ci/run`` installs it): every chart drew, the console has no error, no request leaves the
output folder, each CSV link holds the data its chart plots, and injected markup stays text.
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest

from noordstats.analysis import indicators
from noordstats.report import wording
from noordstats.report.page import blocks, parameters
from noordstats.report.runner import suite
from noordstats.report.runner.worker import ReportSpec
from tests.browser_env import jupyterlab_server

pytestmark = pytest.mark.browser

REPORTS = ["theme-cleantech-LD01", "theme-defence_security-LD01", "claims-LD01"]
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'

#: for every chart in document order: the numbers it plots (x of horizontal bars, y otherwise;
#: map outlines skipped) and whether it drew an SVG root
CHARTS_JS = """() => Array.from(document.querySelectorAll('.noordstats-chart')).map(c => {
  const gd = c.querySelector('.plotly-graph-div');
  const values = [];
  for (const t of (gd && gd.data) || []) {
    if (t.fill === 'toself') continue;
    const v = (t.type === 'bar' && t.orientation === 'h') ? t.x : t.y;
    for (const n of v || []) if (typeof n === 'number' && isFinite(n)) values.push(n);
  }
  return {svg: c.querySelectorAll('.main-svg').length, values: values};
})"""
CHART_LINKS_JS = """() => Array.from(document.querySelectorAll('a.noordstats-chart-csv'))
  .map(a => a.getAttribute('href'))"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A small suite (two themes, the claims scorecard, the index) rendered into a folder."""
    folder = tmp_path_factory.mktemp("reports")
    specs = suite.plan_suite(["cleantech", "defence_security", "claims"])
    results = suite.run_suite(specs, folder, jobs=2, progress=False)
    assert [r["status"] for r in results] == ["rendered"] * 3, results
    return folder


def open_page(browser, page_file: Path, folder: Path) -> tuple:
    """Open a page; record every request (anything outside ``folder`` is aborted) and every
    console error."""
    context = browser.new_context()
    requests: list[str] = []
    errors: list[str] = []
    inside = folder.resolve().as_uri() + "/"

    def route(route) -> None:
        requests.append(route.request.url)
        if route.request.url.startswith(inside):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(page_file.resolve().as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, requests, errors, inside


def count_charts(notebook: Path) -> int:
    """Charts in an executed notebook: outputs that carry the plotly mimetype."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(PLOTLY_MIMETYPE in o.get("data", {}) for c in cells for o in c.get("outputs", []))


@pytest.mark.parametrize("name", REPORTS)
def test_report_draws_every_chart_offline_without_errors(browser, rendered, name):
    page, requests, errors, inside = open_page(browser, rendered / f"{name}.html", rendered)
    expected = count_charts(rendered / f"{name}.ipynb")
    charts = page.evaluate(CHARTS_JS)
    assert expected > 0
    assert len(charts) == expected
    assert [c["svg"] > 0 for c in charts] == [True] * expected, "a chart did not draw"
    assert errors == []
    assert requests and all(url.startswith(inside) for url in requests), requests
    assert {url.rsplit("/", 1)[1] for url in requests} == {
        f"{name}.html",
        "plotly.min.js",
        "report.css",
    }
    assert "Bron: CBS, CC BY 4.0" in page.inner_text("body")
    page.context.close()


@pytest.mark.parametrize("name", REPORTS)
def test_each_csv_link_holds_what_its_chart_plots(browser, rendered, name):
    page, _, _, _ = open_page(browser, rendered / f"{name}.html", rendered)
    charts = page.evaluate(CHARTS_JS)
    links = page.evaluate(CHART_LINKS_JS)
    page.context.close()
    assert len(links) == len(charts)
    for chart, href in zip(charts, links, strict=True):
        assert href.startswith(blocks.CSV_DATA_URI)
        payload = io.BytesIO(urllib.parse.unquote_to_bytes(href.split(",", 1)[1]))
        rows = pd.read_csv(payload, sep=";", decimal=",")  # a Dutch report: a Dutch CSV
        numbers = [v for col in rows.select_dtypes("number") for v in rows[col].dropna()]
        for plotted in chart["values"]:
            assert any(math.isclose(plotted, n, rel_tol=1e-9) for n in numbers), plotted


#: every text a chart shows on hover, as the page's plotly.js holds it (per trace: the template,
#: the per-point data it fills in, the hover and point texts)
HOVER_TEXTS_JS = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).flatMap(gd =>
  (gd.data || []).flatMap(t => [t.hovertemplate, t.customdata, t.text, t.hovertext]
    .flat(Infinity).filter(v => typeof v === 'string')))"""
#: a CBS period code (2023JJ00, 2023KW04, 2023MM12, 2023X000, ...): readers get periods in words
PERIOD_CODE = re.compile(r"\d{4}(?:JJ|KW|MM|HJ|SJ|X)\d\d")


@pytest.mark.parametrize("name", REPORTS)
def test_no_chart_shows_a_period_code_on_hover(browser, rendered, name):
    page, _, _, _ = open_page(browser, rendered / f"{name}.html", rendered)
    texts = page.evaluate(HOVER_TEXTS_JS)
    page.context.close()
    if name.startswith("theme-"):
        assert any(": " in text for text in texts), "a trend chart's points have hover text"
    assert [text for text in texts if PERIOD_CODE.search(text)] == []


def test_a_csv_link_downloads_its_csv_byte_for_byte(browser, rendered, tmp_path):
    """Chromium saves what the link's percent-encoded ``data:`` URI holds, UTF-8 (é, –) and
    line ends included: the bytes a spreadsheet opens."""
    page, _, _, _ = open_page(browser, rendered / "theme-cleantech-LD01.html", rendered)
    links = page.locator("a.noordstats-chart-csv")
    assert links.count() > 0
    for index in range(links.count()):
        link = links.nth(index)
        href = link.get_attribute("href")
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename == link.get_attribute("download")
        saved = tmp_path / f"{index}.csv"
        download.save_as(saved)
        expected = urllib.parse.unquote_to_bytes(href.removeprefix(blocks.CSV_DATA_URI))
        assert saved.read_bytes() == expected
        text = expected.decode("utf-8")
        assert text.count("\n") >= 2 and ";" in text.splitlines()[0]
    page.context.close()


def test_index_links_every_report_with_its_figures(browser, rendered):
    page, requests, errors, inside = open_page(browser, rendered / "index.html", rendered)
    hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
    text = page.inner_text("body")
    page.context.close()
    assert errors == [] and all(url.startswith(inside) for url in requests)
    for name in REPORTS:
        assert f"{name}.html" in hrefs and f"{name}.ipynb" in hrefs
    assert all((rendered / href).is_file() for href in hrefs)
    figures = wording.headline_texts(indicators.headline_figures("cleantech"), "nl")
    for figure in figures.itertuples():
        assert figure.value_text in text
    assert "mislukt" not in text


def test_self_contained_page_works_alone(browser, tmp_path):
    folder = tmp_path / "reports"
    spec = suite.plan_report("defence_security", "LD01")
    result = suite.run_suite([spec], folder, self_contained=True, progress=False)[0]
    assert result["status"] == "rendered"
    assert not (folder / "plotly.min.js").exists()
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copyfile(folder / spec.html_name, alone / spec.html_name)
    page, requests, errors, _ = open_page(browser, alone / spec.html_name, alone)
    charts = page.evaluate(CHARTS_JS)
    page.context.close()
    assert len(charts) == count_charts(folder / spec.notebook_name)
    assert all(c["svg"] > 0 for c in charts) and errors == []
    assert [url.rsplit("/", 1)[1] for url in requests] == [spec.html_name]


@pytest.mark.reliability(
    "bad input",
    "<script> and onerror= in a title, a label and a table cell",
    "shown as text in the rendered report; nothing runs",
)
def test_injected_markup_is_inert_in_the_rendered_page(browser, tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    declared = nbformat.v4.new_code_cell('region: str = "LD01"  # region code')
    declared.metadata["tags"] = ["parameters"]
    work = nbformat.v4.new_code_cell(
        "import pandas as pd\n"
        "from noordstats.report.page import blocks, charts\n"
        f"evil = {EVIL!r}\n"
        "series = pd.DataFrame({'indicator_id': 'x', 'region_code': 'LD01', 'region_name': evil,"
        " 'period_code': ['2020JJ00', '2021JJ00'], 'year': [2020, 2021], 'value': [1.0, 2.0],"
        " 'unit': evil, 'status': evil})\n"
        "blocks.show_report_header(evil, region)\n"
        "charts.show_chart(charts.line_trends(series, evil))\n"
        "blocks.show_table(series, 'evil', evil)\n"
    )
    notebook.cells = [declared, work]
    path = tmp_path / "evil.ipynb"
    nbformat.write(notebook, path)
    folder = tmp_path / "reports"
    spec = ReportSpec("evil", "test", path, parameters.validate_request(path, {}), EVIL)
    assert suite.run_suite([spec], folder, progress=False)[0]["status"] == "rendered"
    page, _, errors, _ = open_page(browser, folder / "evil.html", folder)
    pwned = page.evaluate("() => window.__pwned")
    text = page.inner_text("body")
    svg_text = page.eval_on_selector(".main-svg .gtitle", "t => t.textContent")
    title = page.title()
    page.context.close()
    assert pwned is None and errors == []
    assert "<script>window.__pwned = 1</script>" in text
    assert svg_text == EVIL
    assert title == EVIL


#: in the visible notebook: code cells, how many have run (prompt shows a number), errors,
#: plotly plots and plots that drew an SVG root
NOTEBOOK_STATE_JS = """() => {
  const panel = Array.from(document.querySelectorAll('.jp-NotebookPanel'))
    .find(p => !p.classList.contains('lm-mod-hidden'));
  if (!panel) return null;
  const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt'));
  const plots = Array.from(panel.querySelectorAll('.js-plotly-plot'));
  return {
    cells: prompts.length,
    ran: prompts.filter(p => /\\[\\d+\\]/.test(p.textContent)).length,
    errors: panel.querySelectorAll("[data-mime-type='application/vnd.jupyter.error']").length,
    plots: plots.length,
    drawn: plots.filter(p => p.querySelector('.main-svg')).length,
  };
}"""


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on localhost serving a copy of notebooks/ (kernel 'python3')."""
    from noordstats import paths

    root = tmp_path_factory.mktemp("lab")
    for notebook in paths.NOTEBOOKS_DIR.glob("*.ipynb"):
        shutil.copyfile(notebook, root / notebook.name)
    with jupyterlab_server(root) as (base, token):
        yield base, token


@pytest.mark.slow
@pytest.mark.parametrize("name", ["theme", "claims", "region_profile"])
def test_notebook_runs_interactively_in_jupyterlab(browser, jupyterlab, name):
    """Open the notebook in JupyterLab, Run > Run All Cells with its defaults: every cell runs,
    no error, and JupyterLab draws the charts itself (plotly's mime renderer)."""
    base, token = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/doc/tree/{name}.ipynb?token={token}")
    page.wait_for_function(
        f"() => {{ const s = ({NOTEBOOK_STATE_JS})(); return s && s.cells > 0; }}",
        timeout=60_000,
    )
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_function(
        f"() => {{ const s = ({NOTEBOOK_STATE_JS})(); return s && s.ran === s.cells; }}",
        timeout=120_000,
    )
    state = page.evaluate(NOTEBOOK_STATE_JS)
    page.close()
    assert state["errors"] == 0
    assert state["plots"] > 0 and state["drawn"] == state["plots"]


MATRIX_JS = """() => {
  const m = document.querySelector('#noordstats-claims-matrix table');
  if (!m) return null;
  const heads = Array.from(m.querySelectorAll('thead th')).map(th => th.textContent.trim());
  const cells = Array.from(m.querySelectorAll('td[data-verdict]')).map(td => ({
    verdict: td.getAttribute('data-verdict'), text: td.textContent.trim(),
    colour: getComputedStyle(td).backgroundColor}));
  const rows = m.querySelectorAll('tbody tr').length;
  return {heads: heads, cells: cells, rows: rows};
}"""
#: the background each verdict's cell must have (blocks' badge colours)
VERDICT_COLOURS = {
    "supported": "rgb(212, 237, 218)",
    "partly supported": "rgb(255, 243, 205)",
    "not supported": "rgb(248, 215, 218)",
    "insufficient data": "rgb(226, 227, 229)",
}


def test_claims_report_shows_the_matrix_of_all_16_regions_coloured(browser, rendered):
    page, requests, errors, inside = open_page(browser, rendered / "claims-LD01.html", rendered)
    matrix = page.evaluate(MATRIX_JS)
    text = page.inner_text("body")
    page.context.close()
    assert errors == [] and all(url.startswith(inside) for url in requests)
    assert matrix is not None, "no claims matrix in the page"
    regions = [h for h in matrix["heads"] if h[:2] in ("LD", "PV") and len(h) == 4]
    assert len(regions) == 16 and regions[0] == "LD01"
    assert len(matrix["cells"]) == 16 * matrix["rows"] and matrix["rows"] >= 20
    for cell in matrix["cells"]:
        assert cell["colour"] == VERDICT_COLOURS[cell["verdict"].replace("-", " ")], cell
        assert cell["text"]
    # the suite renders in Dutch (the default)
    assert " staat " in text and "voldoen aan de regel voor 'ondersteund'" in text
    assert "primair: " in text and "controle: " in text and "gevoelig" in text.lower()


def test_index_says_how_many_supported_claims_are_distinctive(browser, rendered):
    page, _, errors, _ = open_page(browser, rendered / "index.html", rendered)
    found = page.eval_on_selector_all(".distinctive", "els => els.map(e => e.textContent)")
    page.context.close()
    assert errors == []
    assert len(found) == 1 and "onafhankelijke gegevens" in found[0]
    assert "onderscheidend, uit" in found[0]
