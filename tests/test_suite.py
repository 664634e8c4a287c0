"""The report suite's mechanics: names, failure handling, incremental runs, atomic writes,
locking, and escaping of untrusted text in the pages it writes.

Most tests render tiny throw-away notebooks (one parameters cell, one cell of work) so they are
fast; the concurrency and kill tests drive the real CLI on real reports.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from noordstats import cli
from noordstats.analysis import indicators
from noordstats.declarations.themes import theme_ids
from noordstats.report import wording
from noordstats.report.page import blocks, charts, parameters
from noordstats.report.runner import folder_lock, suite
from noordstats.report.runner.index_page import render_index
from noordstats.report.runner.manifest import MANIFEST_NAME, compute_inputs_hash, read_manifest
from noordstats.report.runner.worker import TMP_PREFIX, ReportSpec, render_report

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
NOORDSTATS = str(Path(sys.executable).parent / "noordstats")


def write_notebook(path: Path, code: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    declared = nbformat.v4.new_code_cell(
        'region: str = "LD01"  # region code\nsource: str = "snapshot"  # data source'
    )
    declared.metadata["tags"] = ["parameters"]
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# A test report"),
        declared,
        nbformat.v4.new_code_cell(code),
    ]
    nbformat.write(notebook, path)
    return path


def tiny_spec(folder: Path, name: str, code: str = "print(region)", **overrides) -> ReportSpec:
    notebook = write_notebook(folder / f"{name}.ipynb", code)
    values = parameters.validate_request(notebook, overrides)
    return ReportSpec(name, "test", notebook, values, f"Test {name}", ["83582NED"])


@pytest.fixture
def sources(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    return folder


def leftovers(folder: Path) -> list[str]:
    return [
        p.name for p in folder.iterdir() if p.name.startswith(TMP_PREFIX) or p.name.endswith(".tmp")
    ]


def assert_complete(folder: Path) -> None:
    """Every file under its final name is whole: pages end with </html>, notebooks and the
    manifest parse."""
    for path in folder.iterdir():
        if path.name.startswith("."):
            continue
        if path.suffix == ".html":
            assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path.name
        elif path.suffix == ".ipynb":
            nbformat.validate(nbformat.read(path, as_version=4))
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))


def test_default_suite_has_deterministic_names():
    specs = suite.plan_suite()
    expected = [f"theme-{t}-LD01" for t in theme_ids()]
    assert [s.name for s in specs] == [*expected, "claims-LD01", "region_profile-LD01"]
    assert all(s.parameters["region"] == "LD01" for s in specs)
    assert [s.name for s in suite.plan_suite(["claims"], ["PV20", "CR01"])] == [
        "claims-PV20",
        "claims-CR01",
    ]
    assert "Groningen" in suite.plan_report("talent", "PV20").title


def test_dated_output_folder():
    import datetime as dt

    assert suite.output_folder(Path("out"), True, dt.date(2025, 3, 4)) == Path("out/2025-03-04")
    assert suite.output_folder(Path("out"), False) == Path("out")


@pytest.mark.slow
def test_failing_report_keeps_its_notebook_and_the_others_finish(sources, tmp_path):
    out = tmp_path / "reports"
    good = tiny_spec(sources, "good")
    bad = tiny_spec(sources, "bad", "raise RuntimeError('the data is on fire')")
    results = {r["name"]: r for r in suite.run_suite([bad, good], out, jobs=2, progress=False)}
    assert results["good"]["status"] == "rendered" and (out / "good.html").is_file()
    assert results["bad"]["status"] == "failed"
    assert results["bad"]["error"] == "RuntimeError: the data is on fire"
    assert not (out / "bad.html").exists()
    executed = nbformat.read(out / "bad.ipynb", as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].evalue == "the data is on fire"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="good.html"' in index and 'href="bad.ipynb"' in index
    assert "failed" in index and "the data is on fire" in index
    assert read_manifest(out)["bad"]["status"] == "failed"
    assert leftovers(out) == []
    assert_complete(out)


@pytest.mark.slow
def test_cli_exit_status_is_non_zero_when_a_report_fails(sources, tmp_path, monkeypatch, capsys):
    specs = [tiny_spec(sources, "good"), tiny_spec(sources, "bad", "1 / 0")]
    monkeypatch.setattr(suite, "plan_suite", lambda *args, **kwargs: specs)
    status = cli.main(["reports", "--out", str(tmp_path / "reports"), "--quiet"])
    captured = capsys.readouterr()
    assert status == 1
    assert "report bad failed: ZeroDivisionError" in captured.err
    assert "1 rendered, 0 unchanged, 1 failed" in captured.out


@pytest.mark.slow
def test_unchanged_reports_are_skipped_until_inputs_change_or_force(sources, tmp_path):
    out = tmp_path / "reports"
    spec = tiny_spec(sources, "one")
    first = suite.run_suite([spec], out, progress=False)[0]
    assert first["status_this_run"] == "rendered"
    stamps = {p: (out / p).stat().st_mtime_ns for p in ("one.html", "one.ipynb")}

    again = suite.run_suite([spec], out, progress=False)[0]
    assert again["status_this_run"] == "skipped"
    assert {p: (out / p).stat().st_mtime_ns for p in stamps} == stamps
    assert "one.html" in (out / "index.html").read_text(encoding="utf-8")

    changed = tiny_spec(sources, "one", region="PV21")
    assert suite.run_suite([changed], out, progress=False)[0]["status_this_run"] == "rendered"
    assert (
        suite.run_suite([changed], out, force=True, progress=False)[0]["status_this_run"]
        == "rendered"
    )
    (out / "one.html").unlink()
    assert suite.run_suite([changed], out, progress=False)[0]["status_this_run"] == "rendered"
    (out / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    assert suite.run_suite([changed], out, progress=False)[0]["status_this_run"] == "rendered"


def test_inputs_hash_follows_data_code_and_parameters(sources, monkeypatch):
    from noordstats.report.runner import manifest

    spec = tiny_spec(sources, "one")
    base = compute_inputs_hash(spec.notebook, spec.parameters, spec.table_ids, False)
    assert base == compute_inputs_hash(spec.notebook, spec.parameters, spec.table_ids, False)
    assert base != compute_inputs_hash(spec.notebook, {"region": "PV20"}, spec.table_ids, False)
    assert base != compute_inputs_hash(spec.notebook, spec.parameters, spec.table_ids, True)
    live = {**spec.parameters, "source": "live"}
    assert compute_inputs_hash(spec.notebook, live, [], False) != compute_inputs_hash(
        spec.notebook, live, [], False
    ), "live data is rendered every time"
    monkeypatch.setattr(manifest, "_data_version", lambda table_id: "new data")
    assert base != compute_inputs_hash(spec.notebook, spec.parameters, spec.table_ids, False)


@pytest.mark.slow
@pytest.mark.reliability(
    "fault",
    "HTML export fails (disk full) after the notebook ran",
    "report marked failed; executed notebook kept; no HTML page",
)
def test_failed_export_leaves_no_page(sources, tmp_path, monkeypatch):
    from noordstats.report.runner import export

    def broken_export(notebook, self_contained=False):
        raise OSError("No space left on device")

    out = tmp_path / "reports"
    out.mkdir()
    (out / "one.html").write_text("<html>an older page</html>\n", encoding="utf-8")
    monkeypatch.setattr(export, "export_html", broken_export)
    entry = render_report(tiny_spec(sources, "one"), out, self_contained=False)
    assert entry["status"] == "failed" and "No space left on device" in entry["error"]
    assert not (out / "one.html").exists(), "an older page must not pass for the current report"
    nbformat.validate(nbformat.read(out / "one.ipynb", as_version=4))
    assert leftovers(out) == []


@pytest.mark.slow
def test_temporaries_of_an_interrupted_run_are_removed(sources, tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / f"{TMP_PREFIX}one-123.ipynb").write_text("{", encoding="utf-8")
    (out / ".one.html.abc.tmp").write_text("<html>", encoding="utf-8")
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    suite.run_suite([tiny_spec(sources, "one")], out, progress=False)
    assert leftovers(out) == [] and (out / "keep.txt").exists()


@pytest.mark.slow
def test_a_held_lock_makes_the_next_run_wait(sources, tmp_path):
    out = tmp_path / "reports"
    spec = tiny_spec(sources, "one")
    with folder_lock.output_lock(out):
        with pytest.raises(folder_lock.ReportLockTimeout, match="still locked"):
            suite.run_suite([spec], out, progress=False, lock_timeout=0.3)
        assert not (out / "one.html").exists()
    result: list = []

    def run_after_release() -> None:
        result.extend(suite.run_suite([spec], out, progress=False, lock_timeout=30))

    with folder_lock.output_lock(out):
        worker = threading.Thread(target=run_after_release)
        worker.start()
        time.sleep(0.5)
        assert not result, "the second run must wait while the lock is held"
    worker.join(timeout=60)
    assert result and result[0]["status"] == "rendered"


@pytest.mark.slow
@pytest.mark.reliability(
    "fault",
    "two `noordstats reports` runs at once on one output folder",
    "the second waits, then finds the reports current; outputs intact",
)
def test_two_concurrent_suite_runs_do_not_interleave(tmp_path):
    out = tmp_path / "reports"
    command = [NOORDSTATS, "reports", "--only", "defence_security", "--out", str(out), "--quiet"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    # whichever took the lock first rendered; the other waited, then found the report current
    rendered = [out for out, _ in outputs if "1 rendered, 0 unchanged" in out]
    waited = [(out, err) for out, err in outputs if "waiting for it" in err]
    assert len(rendered) == 1 and len(waited) == 1, outputs
    assert "0 rendered, 1 unchanged" in waited[0][0]
    assert_complete(out)
    assert leftovers(out) == []


@pytest.mark.slow
@pytest.mark.reliability(
    "fault",
    "suite killed (kill -9) while rendering",
    "no half-written file under a final name; the next run completes",
)
def test_a_killed_run_leaves_nothing_half_written(tmp_path):
    out = tmp_path / "reports"
    command = [
        NOORDSTATS,
        "reports",
        "--only",
        "defence_security",
        "claims",
        "--out",
        str(out),
        "--quiet",
        "--jobs",
        "2",
    ]
    run = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(out.glob(f"{TMP_PREFIX}*")):
        time.sleep(0.05)
    time.sleep(1.0)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert_complete(out)
    manifest = read_manifest(out)
    for entry in manifest.values():
        assert (out / entry["html"]).is_file(), "the manifest lists only finished reports"
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert_complete(out)
    assert leftovers(out) == []
    assert {e["status"] for e in read_manifest(out).values()} == {"rendered"}


def test_index_escapes_every_text():
    entry = {
        "name": "x",
        "kind": "theme",
        "title": EVIL,
        "html": "x.html",
        "notebook": "x.ipynb",
        "status": "rendered",
        "rendered_at": EVIL,
        "data_date": EVIL,
        "latest_period": EVIL,
        "source": EVIL,
        "summary": {
            "figures": [{"title": EVIL, "value_text": EVIL, "period": EVIL}],
            "verdicts": [{"claim_id": "c", "verdict": EVIL}],
        },
    }
    failed = {**entry, "name": "y", "status": "failed", "error": EVIL, "html": None}
    page = render_index([entry, failed], EVIL)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page


@pytest.fixture
def shown(monkeypatch):
    markup: list[str] = []
    monkeypatch.setattr(blocks, "_show", lambda html, marks=None: markup.append(html))
    return markup


def test_report_blocks_escape_cbs_and_config_text(shown):
    figures = pd.DataFrame(
        [
            {
                "indicator_id": EVIL,
                "title": EVIL,
                "value_text": EVIL,
                "period": EVIL,
                "comparison_text": EVIL,
                "table_id": EVIL,
                "caveat": EVIL,
            }
        ]
    )
    claim = {
        c: EVIL
        for c in [
            "claim_id",
            "section",
            "theme",
            "quote_nl",
            "claim_en",
            "claim",
            "figure_text",
            "period",
            "comparison",
            "rule",
            "definition",
            "caveats",
        ]
    }
    blocks.show_headlines(figures)
    blocks.show_claims(
        pd.DataFrame(
            [
                {
                    **claim,
                    "verdict": "supported",
                    "first_rule_verdict": "not supported",
                    "first_rule": EVIL,
                }
            ]
        )
    )
    blocks.show_table(figures, EVIL, EVIL)
    blocks.show_definitions(headlines=figures, claims=pd.DataFrame([claim]))
    markup = "".join(shown)
    assert "<script" not in markup and "<img" not in markup
    assert markup.count("&lt;script&gt;") >= 10


def trend_series(**columns) -> pd.DataFrame:
    """Rows as ``indicators.indicator_series`` gives them (one region's, yearly, definitive
    percentages unless ``columns`` say otherwise)."""
    defaults = {"indicator_id": "x", "region_code": "LD01", "region_name": "Noord", "unit": "%",
                "status": "definitief"}  # fmt: skip
    return pd.DataFrame({**defaults, **columns})


def test_a_page_holds_the_charts_template_once():
    """Every chart built here has the same template: a page defines it once in its head and
    each chart's script refers to it; a figure with another template keeps its own."""
    import nbformat

    from noordstats.report.runner import export

    series = trend_series(period_code=["2020JJ00", "2021JJ00"], year=[2020, 2021], value=[1.5, 2.5])
    figure = json.loads(charts.line_trends(series, "t").figure.to_json())
    assert figure["layout"]["template"] == charts.template_json()
    other = {"data": [], "layout": {"template": {"layout": {"font": {"size": 7}}}}}
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("charts")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={charts.PLOTLY_MIMETYPE: f})
        for f in (figure, figure, other)
    ]
    notebook.cells.append(cell)
    page = export.export_html(notebook)
    template = json.dumps(charts.template_json()["layout"]["colorway"], separators=(",", ":"))
    assert page.count(template) == 1
    assert page.index(charts.chart_template_script()) < page.index("Plotly.newPlot")
    assert page.count(f"{{template: window.{charts.TEMPLATE_VARIABLE}}}") == 2
    assert '"template":{"layout":{"font":{"size":7}}}' in page


def test_chart_html_escapes_labels_and_keeps_one_script():
    series = trend_series(
        region_code=["LD01", "LD01"],
        region_name=EVIL,
        period_code=["2020JJ00", "2021JJ00"],
        year=[2020, 2021],
        value=[1.0, 2.0],
        unit=EVIL,
        status=EVIL,
    )
    chart = charts.line_trends(series, EVIL)
    figure = json.loads(chart.figure.to_json())
    page = charts.render_chart_html(chart, figure) + charts.render_csv_link(chart)
    assert page.count("<script") == 1 and page.count("</script>") == 1
    assert "<img" not in page


def test_trend_lines_never_bridge_a_missing_year():
    series = trend_series(
        period_code=["2019JJ00", "2020JJ00", "2023JJ00"],
        year=[2019, 2020, 2023],
        value=[1.0, 2.0, 3.0],
    )
    trace = charts.line_trends(series, "t").figure.data[0]
    assert list(trace.x) == [2019, 2020, None, 2023]
    assert list(trace.y) == [1.0, 2.0, None, 3.0]


def test_csv_link_holds_exactly_the_chart_rows():
    import io
    import re
    import urllib.parse

    series = trend_series(
        region_code=["LD01", "NL01"],
        region_name=["Noord", "Nederland"],
        period_code="2020JJ00",
        year=2020,
        value=[1.5, float("nan")],
        status="voorlopig",
        extra="not shown",
    )
    chart = charts.line_trends(series, "t")
    prefix = re.escape(blocks.CSV_DATA_URI)
    payload = re.search(prefix + r"([^\"]+)\"", charts.render_csv_link(chart, "en")).group(1)
    rows = pd.read_csv(io.BytesIO(urllib.parse.unquote_to_bytes(payload)))
    columns = list(charts.TREND_CHART_COLUMNS)
    columns.insert(columns.index("period_code") + 1, "period")  # the code and its words
    assert list(rows.columns) == [blocks.column_name(c, "en") for c in columns]
    assert rows.period.tolist() == ["2020 (provisional)"] * 2
    assert rows.value.tolist()[0] == 1.5 and pd.isna(rows.value.tolist()[1])
    # Dutch: Dutch headers, ';' between fields and a decimal comma, as Dutch spreadsheets read it
    payload = re.search(prefix + r"([^\"]+)\"", charts.render_csv_link(chart, "nl")).group(1)
    text = urllib.parse.unquote_to_bytes(payload).decode("utf-8")
    assert text.splitlines()[0].split(";")[:2] == ["indicator", "regiocode"]
    rows = pd.read_csv(io.StringIO(text), sep=";", decimal=",")
    assert rows.waarde.tolist()[0] == 1.5 and rows.status.tolist()[0] == "voorlopig"
    assert rows.periode.tolist()[0] == "2020 (voorlopig)"


def test_trend_hover_names_periods_in_words_and_the_unit_once():
    series = trend_series(
        period_code=["2022KW04", "2023KW01", "2023KW02"],
        year=[2022, 2023, 2023],
        value=[1.5, 2.25, 3.0],
        unit="% van de beroepsbevolking",
        status=["definitief", "definitief", "voorlopig"],
    )
    trace = charts.line_trends(series, "t", "nl").figure.data[0]
    # the status varies along the trace: each point says its own
    assert list(trace.customdata) == [
        "4e kwartaal 2022 (definitief): 1,5",
        "1e kwartaal 2023 (definitief): 2,25",
        "2e kwartaal 2023 (voorlopig): 3",
    ]
    assert trace.hovertemplate == (
        "Noord (LD01)<br>%{customdata} % van de beroepsbevolking<extra></extra>"
    )
    # one status along the whole trace: said once, in the template
    series["status"] = "voorlopig"
    trace = charts.line_trends(series, "t", "en").figure.data[0]
    assert list(trace.customdata)[0] == "Q4 2022: 1.5"
    assert trace.hovertemplate.endswith("% van de beroepsbevolking (provisional)<extra></extra>")


def drawn_distance(point, start, end) -> float:
    """The distance of ``point`` to the segment ``start``-``end`` on the drawn map (degrees of
    latitude; a degree of longitude is cos(52.2°) as long there)."""
    import math

    from noordstats.report.page import maps

    (px, py), (ax, ay), (bx, by) = [(p[0] / maps.MAP_ASPECT, p[1]) for p in (point, start, end)]
    length = (bx - ax) ** 2 + (by - ay) ** 2
    share = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / length if length else 0.0
    share = min(1.0, max(0.0, share))
    return math.hypot(px - ax - share * (bx - ax), py - ay - share * (by - ay))


def test_map_outlines_are_simplified_within_half_a_pixel_and_keep_common_borders():
    import itertools
    import math

    from noordstats import paths
    from noordstats.report.page import maps

    collection = json.loads(paths.COROP_GEOJSON_FILE.read_text(encoding="utf-8"))
    original: dict[str, list[list[tuple[float, float]]]] = {}
    for feature in collection["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        original[feature["properties"]["statcode"]] = [
            [tuple(p) for p in ring] for polygon in polygons for ring in polygon
        ]
    points = [p for rings in original.values() for ring in rings for p in ring]
    west, south = min(p[0] for p in points), min(p[1] for p in points)
    north = max(p[1] for p in points)
    tolerance = maps.SIMPLIFY_PIXELS * (north - south) / maps.MAP_PLOT_HEIGHT
    shapes = maps._corop_shapes()
    assert sorted(shapes) == sorted(original)
    kept_points = 0
    for code, (x, y) in shapes.items():
        assert all(isinstance(v, int) for v in x + y if v is not None)
        rings: list[list[tuple[float, float]]] = [[]]
        for vx, vy in zip(x, y, strict=True):
            if vx is None:
                rings.append([])
            else:
                lon = round(west + vx / maps.COORDINATE_SCALE, 3)
                rings[-1].append((lon, round(south + vy / maps.COORDINATE_SCALE, 3)))
        rings = [r for r in rings if r]
        assert len(rings) == len(original[code])
        for simple, ring in zip(rings, original[code], strict=True):
            assert simple[0] == simple[-1] and set(simple) <= set(ring)
            kept_points += len(simple)
            for point in ring:  # no point of the file's outline strays from the drawn one
                near = min(drawn_distance(point, a, b) for a, b in itertools.pairwise(simple))
                assert near <= tolerance + 1e-9, (code, point)
    assert kept_points < 0.95 * len(points)
    # a point two areas share in the file is kept by both or by neither: no slivers, no gaps
    kept = {code: {p for p in zip(x, y, strict=True) if p[0] is not None} for code, (x, y) in
            shapes.items()}  # fmt: skip
    scaled = {
        code: {
            (round((p[0] - west) * 1000), round((p[1] - south) * 1000))
            for ring in rings
            for p in ring
        }
        for code, rings in original.items()
    }
    owners: dict[tuple[int, int], list[str]] = {}
    for code, found in scaled.items():
        for point in found:
            owners.setdefault(point, []).append(code)
    shared = {p: codes for p, codes in owners.items() if len(codes) > 1}
    assert shared
    for point, codes in shared.items():
        assert len({point in kept[code] for code in codes}) == 1, (point, codes)
    assert not math.isnan(tolerance) and 0.001 < tolerance < 0.01  # degrees: half a pixel


CHART_CODE = """
import pandas as pd
from noordstats.report.page import charts
series = pd.DataFrame({"indicator_id": "x", "region_code": ["LD01", "LD01"],
    "region_name": "Noord", "period_code": ["2020JJ00", "2021JJ00"], "year": [2020, 2021],
    "value": [1.5, 2.5], "unit": "%", "status": "definitief"})
charts.show_chart(charts.line_trends(series, "plain"), "en")
chart = charts.line_trends(series, "noted")
chart.note = "FOOTNOTE-OF-NOTED"
charts.show_chart(chart, "en")
from noordstats.report.page import blocks
blocks.show_table(series, "rows", "TABLE-CAPTION", lang="en")
"""


def test_the_kept_notebook_leaves_the_csv_links_to_the_page(sources, tmp_path):
    """The CSV link of a chart or a table is page-only: the page has one per chart, beside its
    footnote in the same output, and one under the table; the kept notebook has the footnote
    and the table, and no link (the analyst has the frame)."""
    out = tmp_path / "reports"
    out.mkdir()
    entry = render_report(tiny_spec(sources, "charts", CHART_CODE), out, self_contained=False)
    assert entry["status"] == "rendered", entry
    page = (out / "charts.html").read_text(encoding="utf-8")
    assert page.count('class="noordstats-chart-csv"') == 2
    assert page.count(blocks.CSV_DATA_URI) == 3
    assert 'download="rows.csv"' in page
    assert 'FOOTNOTE-OF-NOTED</p><p class="noordstats-download">' in page
    kept = nbformat.read(out / "charts.ipynb", as_version=4)
    outputs = [o for c in kept.cells for o in c.get("outputs", [])]
    text = json.dumps(outputs)
    assert "data:text/csv" not in text and "noordstats-download" not in text
    assert "page_only" not in text
    notes = [o for o in outputs if "FOOTNOTE-OF-NOTED" in o.get("data", {}).get("text/html", "")]
    assert len(notes) == 1
    assert sum(charts.PLOTLY_MIMETYPE in o.get("data", {}) for o in outputs) == 2
    tables = [o for o in outputs if "TABLE-CAPTION" in o.get("data", {}).get("text/html", "")]
    assert len(tables) == 1 and "<table" in tables[0]["data"]["text/html"]
    assert tables[0]["data"]["text/html"].count("Noord") == 2  # both rows


@pytest.mark.slow
@pytest.mark.reliability(
    "fault",
    "CBS unreachable while rendering with --source auto (empty cache)",
    "report rendered from the snapshot with one freshness statement at the top, in the page's "
    "language; the library's log line on stderr, not in the page; index says not live",
)
def test_unreachable_cbs_gives_a_stale_banner(tmp_path):
    out = tmp_path / "reports"
    env = {
        **os.environ,
        "NOORDSTATS_CATALOG_URL": "http://127.0.0.1:9",
        "NOORDSTATS_HTTP_ATTEMPTS": "1",
        "NOORDSTATS_CACHE_DIR": str(tmp_path / "cache"),
    }
    run = subprocess.run(
        [NOORDSTATS, "report", "defence_security", "--source", "auto", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    log = "noordstats kernel: WARNING: noordstats.load: CBS not reachable at http://127.0.0.1:9"
    assert log in run.stderr, "the library's log line stays on the process's stderr"
    assert run.stderr.strip().splitlines()[-1].startswith("noordstats: 1 rapport(en) (1 gemaakt")
    page = (out / "theme-defence_security-LD01.html").read_text(encoding="utf-8")
    banner = page.index('class="noordstats-stale"')
    assert banner < page.index("Kerncijfers"), "the banner is at the top"
    assert "CBS was niet bereikbaar op" in page and "de meegeleverde kopie, vastgelegd" in page
    assert "reden: CBS niet bereikbaar" in page, "the banner says why, in Dutch"
    assert "127.0.0.1" not in page and "WARNING" not in page
    entry = read_manifest(out)["theme-defence_security-LD01"]
    assert entry["source"] == "auto" and "CBS could not be reached" in entry["stale"]
    assert "niet actueel" in (out / "index.html").read_text(encoding="utf-8")


def test_snapshot_reports_show_no_banner(shown):
    blocks.show_data_status(["83582NED"], "snapshot", "en")
    blocks.show_data_status(["83582NED"], "snapshot", "nl")
    assert "noordstats-stale" not in "".join(shown)
    assert "embedded snapshot" in shown[0] and "ingebouwde momentopname" in shown[1]


def test_a_card_marks_a_provisional_period_in_the_readers_words(shown):
    """CBS marks a figure provisional: the card says so beside its period, in both languages
    (the snapshot's headline figures carry no such mark, so one row's status is set here)."""
    for lang, mark in (("nl", "voorlopig"), ("en", "provisional")):
        figures = indicators.headline_figures("cleantech").head(2)
        headlines = wording.headline_texts(figures, lang)
        headlines.loc[headlines.index[0], "status"] = "voorlopig"
        shown.clear()
        blocks.show_headlines(headlines, lang)
        first = headlines.period.tolist()[0]
        assert f"{first} ({mark}) · " in shown[0]
        assert shown[0].count(f"({mark})") == 1, "only the provisional figure is marked"


@pytest.mark.reliability(
    "fault",
    "a log line, a warning and a traceback among an executed notebook's outputs",
    "left out of the exported page; the executed notebook keeps them for the analyst",
)
def test_the_page_leaves_log_text_and_tracebacks_to_the_notebook():
    import nbformat

    from noordstats.report.runner import export

    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("blocks.show_data_status(tables, source, lang)")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<p>for the reader</p>"}),
        nbformat.v4.new_output(
            "stream", name="stderr", text="WARNING:noordstats.load:CBS not reachable\n"
        ),
        nbformat.v4.new_output(
            "stream", name="stderr", text="/x/frames.py:38: StaleDataWarning: CBS not reachable\n"
        ),
        nbformat.v4.new_output(
            "error", ename="KeyError", evalue="'x'", traceback=["Traceback (most recent call)"]
        ),
    ]
    notebook.cells.append(cell)
    page = export.export_html(notebook)
    assert "for the reader" in page
    for text in ("WARNING:", "StaleDataWarning", "frames.py", "Traceback", "KeyError"):
        assert text not in page, text
    assert len(notebook.cells[0].outputs) == 4, "the notebook itself is not changed"


def test_the_page_carries_no_syntax_colours_for_the_code_it_hides():
    """The page links report.css; pygments' stylesheet (for code cells, which a page hides) is
    not copied into every page."""
    import nbformat

    from noordstats.report.runner import export

    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("x = 1"))
    page = export.export_html(notebook)
    assert 'href="report.css"' in page
    assert ".highlight" not in page and "<style" not in page
