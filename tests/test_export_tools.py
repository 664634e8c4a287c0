"""Reports exported with the ecosystem's own tools, and printed to PDF.

* ``jupyter nbconvert --to noordstats`` (the exporter registered in pyproject.toml) writes the
  suite's offline page with plotly.min.js and report.css beside it; every chart draws in
  Chromium and nothing is fetched from elsewhere.
* JupyterLab lists the exporter (File → Save and Export Notebook As) and its server endpoint
  ``/nbconvert/noordstats/<path>`` hands out the same page in a zip.
* Plain ``--to html`` gives a page that says, where each chart would be, how to get it.
* ``noordstats reports --pdf``: A4 PDFs with page numbers, the provenance footer, charts as
  vectors; the index links them. Without Chromium: one line, exit 2, nothing written.

The checkout is on PYTHONPATH, not installed, so the tests register the exporter the way an
install does: a ``.dist-info`` with the entry points that pyproject.toml declares.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

from noordstats import paths
from tests.browser_env import JUPYTER, jupyterlab_server
from tests.test_browser import CHARTS_JS, count_charts, open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PYPROJECT = paths.PROJECT_DIR / "pyproject.toml"


def exporter_entry_point() -> str:
    groups = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["entry-points"]
    return groups["nbconvert.exporters"]["noordstats"]


@pytest.fixture(scope="module")
def registered(tmp_path_factory) -> dict[str, str]:
    """An environment in which the exporter is registered as pyproject.toml declares it."""
    site = tmp_path_factory.mktemp("site")
    info = site / "noordstats_exporter_registration-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: noordstats-exporter-registration\nVersion: 0\n",
        encoding="utf-8",
    )
    (info / "entry_points.txt").write_text(
        f"[nbconvert.exporters]\nnoordstats = {exporter_entry_point()}\n", encoding="utf-8"
    )
    path = os.pathsep.join([str(site), str(paths.PROJECT_DIR), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> Path:
    """The claims notebook run by papermill (as an analyst would, outputs kept whole), in a
    folder of its own."""
    import papermill

    folder = tmp_path_factory.mktemp("executed")
    papermill.execute_notebook(
        str(paths.NOTEBOOKS_DIR / "claims.ipynb"),
        str(folder / "claims.ipynb"),
        parameters={"region": "PV20"},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(paths.NOTEBOOKS_DIR),
    )
    return folder / "claims.ipynb"


def test_pyproject_registers_the_exporter():
    assert exporter_entry_point() == "noordstats.report.runner.export:NoordstatsExporter"
    from noordstats.report.runner.export import NoordstatsExporter

    assert NoordstatsExporter.__name__ == "NoordstatsExporter"


def assert_offline_page(browser, page_file: Path, notebook: Path) -> str:
    folder = page_file.parent
    markup = page_file.read_text(encoding="utf-8")
    assert "cdnjs" not in markup and "require.min.js" not in markup and "MathJax" not in markup
    assert (folder / "plotly.min.js").is_file() and (folder / "report.css").is_file()
    page, requests, errors, inside = open_page(browser, page_file, folder)
    charts = page.evaluate(CHARTS_JS)
    text = page.inner_text("body")
    page.context.close()
    assert errors == [] and all(url.startswith(inside) for url in requests), requests
    assert len(charts) == count_charts(notebook) > 0
    assert all(c["svg"] > 0 for c in charts), "every chart drawn"
    assert "noordstats report summary" not in text and "parameters.check_values" not in text
    return text


def test_nbconvert_to_noordstats_writes_the_offline_page(browser, registered, executed, tmp_path):
    out = tmp_path / "exported"
    done = subprocess.run(
        [JUPYTER, "nbconvert", "--to", "noordstats", str(executed), "--output-dir", str(out)],
        capture_output=True, text=True, env=registered, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["claims.html", "plotly.min.js", "report.css"]
    text = assert_offline_page(browser, out / "claims.html", executed)
    assert "Toetsing van de claims — Groningen (PV20)" in text and "Bronnen" in text


def test_nbconvert_draws_a_suite_notebook_that_kept_only_the_figures(browser, registered, tmp_path):
    """The suite's .ipynb keeps plotly's JSON only; the exporter draws it again."""
    from noordstats.report.runner import suite

    folder = tmp_path / "reports"
    spec = suite.plan_report("defence_security", "LD01", {"lang": "en"})
    assert suite.run_suite([spec], folder, progress=False)[0]["status"] == "rendered"
    out = tmp_path / "exported"
    done = subprocess.run(
        [JUPYTER, "nbconvert", "--to", "noordstats", str(folder / spec.notebook_name),
         "--output-dir", str(out)],
        capture_output=True, text=True, env=registered, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = out / spec.html_name
    assert_offline_page(browser, page, folder / spec.notebook_name)
    assert '<html lang="en">' in page.read_text(encoding="utf-8")


def test_plain_html_export_says_how_to_get_the_charts(browser, executed, tmp_path):
    out = tmp_path / "plain"
    done = subprocess.run(
        [JUPYTER, "nbconvert", "--to", "html", str(executed), "--output-dir", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page, _, _, _ = open_page(browser, out / "claims.html", out)  # the CDN is not reached
    notes = page.eval_on_selector_all(
        ".noordstats-chart-fallback", "ps => ps.filter(p => p.offsetParent).map(p => p.innerText)"
    )
    page.context.close()
    assert len(notes) == count_charts(executed)
    assert all("jupyter nbconvert --to noordstats" in n and "Noordstats" in n for n in notes)


@pytest.fixture(scope="module")
def lab(registered, executed):
    """JupyterLab with the exporter registered, serving the executed notebook."""
    with jupyterlab_server(executed.parent, env=registered) as (base, token):
        yield base, token


def test_jupyterlab_offers_the_export_and_serves_the_page(browser, lab, executed, tmp_path):
    base, token = lab
    formats = json.load(urllib.request.urlopen(f"{base}/api/nbconvert?token={token}"))
    assert "noordstats" in formats and formats["noordstats"]["output_mimetype"] == "text/html"
    # what File > Save and Export Notebook As > Noordstats asks the server for
    url = f"{base}/nbconvert/noordstats/claims.ipynb?download=true&token={token}"
    answer = urllib.request.urlopen(url, timeout=120)
    assert answer.headers["Content-Type"] == "application/zip"
    out = tmp_path / "from-lab"
    zipfile.ZipFile(io.BytesIO(answer.read())).extractall(out)
    assert sorted(p.name for p in out.iterdir()) == ["claims.html", "plotly.min.js", "report.css"]
    assert_offline_page(browser, out / "claims.html", executed)
    # the menu itself: File > Save and Export Notebook As > Noordstats downloads the same zip
    page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page.goto(f"{base}/lab/tree/claims.ipynb?token={token}")
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
    page.get_by_role("menuitem", name="File", exact=True).click()
    page.get_by_text("Save and Export Notebook As", exact=False).first.hover()
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("menuitem", name="Noordstats", exact=True).click()
    menu_zip = tmp_path / "menu.zip"
    download.value.save_as(menu_zip)
    page.close()
    names = sorted(zipfile.ZipFile(menu_zip).namelist())
    assert names == ["claims.html", "plotly.min.js", "report.css"]


def pdf_info(path: Path) -> dict[str, str]:
    done = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    if not shutil.which("pdfinfo"):
        pytest.skip("poppler-utils is not installed (apt-get install poppler-utils)")
    out = tmp_path_factory.mktemp("pdf")
    done = subprocess.run(
        [sys.executable, "-m", "noordstats.cli", "reports", "--only", "claims", "defence_security",
         "--pdf", "--out", str(out), "--quiet", "--jobs", "2"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize(
    ("name", "title"),
    [("claims-LD01", "Toetsing van de claims"), ("theme-defence_security-LD01", "Defensie")],
)
def test_pdf_is_a4_with_page_numbers_footer_and_vector_charts(printed, name, title):
    pdf = printed / f"{name}.pdf"
    info = pdf_info(pdf)
    pages = int(info["Pages"])
    assert pages >= 2 and "A4" in info["Page size"]
    text = pdf_text(pdf)
    assert title in text
    numbers = re.findall(r"pagina (\d+) van (\d+)", text)
    assert [int(n) for n, _ in numbers] == list(range(1, pages + 1))
    assert {int(total) for _, total in numbers} == {pages}
    assert "Bronnen." in text and "Bron: CBS, CC BY 4.0" in text, "the provenance footer"
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True)
    assert len(images.stdout.strip().splitlines()) <= 2, "charts are vectors, not pictures"
    assert re.search(r"Nederland|ondersteund", text), "chart labels are text in the PDF"


def test_chart_texts_are_printed_in_the_pdf(printed):
    page = (printed / "theme-defence_security-LD01.html").read_text(encoding="utf-8")
    captions = [
        html.unescape(c) for c in re.findall(r"<figcaption[^>]*>(.*?)</figcaption>", page, re.S)
    ]
    printed_text = re.sub(r"\s+", "", pdf_text(printed / "theme-defence_security-LD01.pdf"))
    assert captions, "the page has chart texts"
    for caption in captions:
        assert re.sub(r"\s+", "", caption)[:60] in printed_text, caption


def test_the_index_links_each_pdf(printed):
    index = (printed / "index.html").read_text(encoding="utf-8")
    for name in ("claims-LD01", "theme-defence_security-LD01"):
        assert f'href="{name}.pdf"' in index


def test_a_chart_is_never_cut_across_a_page_break(browser, printed):
    page, _, _, _ = open_page(browser, printed / "claims-LD01.html", printed)
    page.emulate_media(media="print")
    rules = page.eval_on_selector_all(
        ".noordstats-chart", "cs => cs.map(c => getComputedStyle(c).breakInside)"
    )
    page.context.close()
    assert rules and set(rules) == {"avoid"}


@pytest.mark.reliability(
    "bad input",
    "`noordstats reports --pdf` on a machine without Chromium",
    "one line naming `apt-get install chromium`, exit 2, nothing written",
)
@pytest.mark.parametrize("how", ["not on PATH", "NOORDSTATS_CHROMIUM names no program"])
def test_pdf_without_chromium_says_how_to_install_it(tmp_path, how):
    env = {**os.environ, "PYTHONPATH": str(paths.PROJECT_DIR)}
    if how == "not on PATH":
        env["PATH"] = str(tmp_path / "empty")
        env.pop("NOORDSTATS_CHROMIUM", None)
    else:
        env["NOORDSTATS_CHROMIUM"] = str(tmp_path / "no-chromium")
    out = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "noordstats.cli", "reports", "--pdf", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "apt-get install chromium" in done.stderr
    assert not out.exists()
