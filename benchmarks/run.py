"""`make bench`: measure the suite in ONE run on this machine and write benchmarks/results.md.

Everything is measured here, now, as ratios against a floor measured in the same run, because
machines here are noisy. Targets are those of issue 6, and of issue 13: the suite for the 4
landsdelen + 12 provinces (160 reports) against 16 × the one-region suite (cost grows no faster
than linearly), its peak RSS, the bytes of its index, and the time to print one report to PDF.
``NOORDSTATS_BENCH_SCALE=0`` leaves out the 160-report run (it takes minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results.md"
#: issue 19: the suite at or under this fraction of its papermill + nbconvert floor
SUITE_FLOOR_TARGET = 0.40
#: what a report's kernel and the floor's CLIs import (see :func:`warm_up`)
WARM_UP_CODE = (
    "import ipykernel.kernelapp, papermill, nbconvert, plotly.graph_objects, "
    "noordstats.analysis.claims, noordstats.report.page.blocks, noordstats.report.page.charts, "
    "noordstats.report.page.maps, noordstats.report.runner.worker"
)


def describe_machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, "
        f"{mem:.0f} GiB RAM, Python {platform.python_version()}"
    )


def run_timed(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    """Run a command; return (wall seconds, peak RSS in bytes of its whole process tree)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                procs = [parent, *parent.children(recursive=True)]
                total = sum(p.memory_info().rss for p in procs if p.is_running())
                peak = max(peak, total)
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode()[-2000:]}"
        )
    return elapsed, peak


def folder_bytes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def measure_floor(count: int, work: Path) -> float:
    """`count` trivial one-cell notebooks, each run by the papermill CLI then exported by the
    nbconvert CLI, one after another."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    src = work / "trivial.ipynb"
    nbformat.write(nb, src)
    start = time.perf_counter()
    for i in range(count):
        out = work / f"trivial-{i}.ipynb"
        subprocess.run(
            [str(BIN / "papermill"), "-k", "python3", str(src), str(out)],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "html", str(out)],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - start


def python_timing(code: str) -> dict:
    """Run `code` in a fresh interpreter; it prints a JSON dict of timings."""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


QUERY_CODE = """
import json, time
t0 = time.perf_counter()
from noordstats.analysis.indicators import headline_figures
t1 = time.perf_counter()
headline_figures("cleantech", "LD01")
t2 = time.perf_counter()
headline_figures("cleantech", "LD01")
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "cold_s": t2 - t1, "warm_s": t3 - t2}))
"""

TABLES_CODE = """
import json, time
t0 = time.perf_counter()
from noordstats import load_table
from noordstats.declarations.tables import declarations
t1 = time.perf_counter()
rows = sum(len(load_table(t)) for t in declarations())
t2 = time.perf_counter()
n = len(declarations())
print(json.dumps({"import_s": t1 - t0, "load_all_s": t2 - t1, "tables": n, "rows": rows}))
"""


SCALE_REGIONS = ["LD01", "LD02", "LD03", "LD04", *(f"PV{n}" for n in range(20, 32))]
INDEX_BUDGET_56_BY_10 = 300 * 1024


def measure_pdf(folder: Path, count: int = 3) -> float:
    """Seconds to print one report to PDF (the mean over ``count`` reports, one at a time)."""
    from noordstats.report.runner import pdf

    pages = sorted(p for p in folder.glob("*.html") if not p.name.startswith("index"))[:count]
    start = time.perf_counter()
    for page in pages:
        pdf.print_pdf(page, folder / f"{page.stem}.bench.pdf")
    return (time.perf_counter() - start) / len(pages)


def measure_scale(noordstats: str, work: Path, one_region_s: float) -> list[tuple]:
    """The suite for 16 regions (160 reports) in one run, against 16 × the one-region suite."""
    out = work / "scale"
    seconds, peak = run_timed(
        [noordstats, "reports", "--force", "--quiet", "--region", *SCALE_REGIONS, "--out", str(out)]
    )
    index_bytes = (out / "index.html").stat().st_size
    reports = len([p for p in out.glob("*.html") if not p.name.startswith("index")])
    budget = INDEX_BUDGET_56_BY_10 * len(SCALE_REGIONS) / 56
    linear = 16 * one_region_s
    return [
        (
            f"suite for 16 regions ({reports} reports) ÷ 16 × one-region suite",
            f"{seconds:.0f} s ÷ {linear:.0f} s = {seconds / linear:.2f}",
            "≤ 1.0 (no worse than linear)",
            seconds / linear <= 1.0,
        ),
        (
            "peak RSS of the 16-region suite (whole process tree)",
            f"{peak / 2**30:.2f} GiB",
            "≤ 1.5 GiB",
            peak <= 1.5 * 2**30,
        ),
        (
            "index bytes, 16 regions × 10 reports (matrix)",
            f"{index_bytes / 1024:.0f} KB (budget {budget / 1024:.0f} KB = 300 KB × 16/56)",
            "≤ budget",
            index_bytes <= budget,
        ),
    ]


def warm_up() -> None:
    """Import, once and untimed, what both the suite and the floor import (compiling bytecode
    after a change, reading the packages into the page cache), so that neither timing pays for
    it and the one measured first is not the one measured cold."""
    subprocess.run(
        [str(BIN / "python"), "-c", WARM_UP_CODE], cwd=ROOT, check=True, capture_output=True
    )


def main() -> int:
    noordstats = str(BIN / "noordstats")
    warm_up()
    with tempfile.TemporaryDirectory(prefix="noordstats-bench-") as tmp:
        work = Path(tmp)
        out = work / "reports"
        suite_s, peak_rss = run_timed([noordstats, "reports", "--force", "--out", str(out)])
        files = folder_bytes(out)  # before the PDFs below: they are not part of the budget
        pdf_s = measure_pdf(out)
        manifest = (
            json.loads((out / "manifest.json").read_text())
            if (out / "manifest.json").exists()
            else {}
        )
        reports = [f for f in files if f.endswith(".html") and not f.startswith("index")]
        rerun_s, _ = run_timed([noordstats, "reports", "--out", str(out)])
        floor_s = measure_floor(len(reports), work)
        query = python_timing(QUERY_CODE)
        tables = python_timing(TABLES_CODE)
        scale = []
        if os.environ.get("NOORDSTATS_BENCH_SCALE", "1") != "0":
            scale = measure_scale(noordstats, work, suite_s)
    import plotly

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    plotly_bytes = plotly_js.stat().st_size
    total = sum(files.values())
    budget = plotly_bytes + 300_000 * len(reports)
    per_report = {f: files[f] for f in reports}
    rows = [
        (
            "suite wall time ÷ floor",
            f"{suite_s:.1f} s ÷ {floor_s:.1f} s = {suite_s / floor_s:.2f}",
            f"≤ {SUITE_FLOOR_TARGET:.2f}",
            suite_s / floor_s <= SUITE_FLOOR_TARGET,
        ),
        (
            "output folder bytes",
            f"{total / 1e6:.2f} MB for {len(reports)} reports (budget {budget / 1e6:.2f} MB "
            f"= plotly.js {plotly_bytes / 1e6:.2f} MB + 300 KB × {len(reports)})",
            "≤ budget",
            total <= budget,
        ),
        (
            "indicator query, cold (fresh process, after import)",
            f"{query['cold_s'] * 1000:.0f} ms (import {query['import_s'] * 1000:.0f} ms)",
            "—",
            True,
        ),
        (
            "indicator query, warm",
            f"{query['warm_s'] * 1000:.1f} ms",
            "≤ 50 ms",
            query["warm_s"] <= 0.05,
        ),
        (
            "load every snapshot table, cold",
            f"{tables['load_all_s']:.2f} s ({tables['tables']} tables, "
            f"{tables['rows']:,} rows; import {tables['import_s']:.2f} s)",
            "≤ 2 s",
            tables["load_all_s"] <= 2.0,
        ),
        (
            "unchanged re-run ÷ full run",
            f"{rerun_s:.1f} s ÷ {suite_s:.1f} s = {rerun_s / suite_s:.1%}",
            "≤ 10 %",
            rerun_s / suite_s <= 0.10,
        ),
        (
            "peak RSS of the suite (whole process tree)",
            f"{peak_rss / 2**30:.2f} GiB",
            "≤ 1.5 GiB",
            peak_rss <= 1.5 * 2**30,
        ),
        (
            "print one report to PDF (headless Chromium, A4)",
            f"{pdf_s:.1f} s per report (mean of 3)",
            "—",
            True,
        ),
        *scale,
    ]
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (`benchmarks/run.py`) on {time.strftime('%Y-%m-%d %H:%M %Z')}.",
        f"Machine: {describe_machine()}.",
        "All numbers come from this one run; compare ratios, not seconds, across machines.",
        "",
        "| measure | result | target | met |",
        "|---|---|---|---|",
        *[f"| {m} | {r} | {t} | {'yes' if ok else 'NO'} |" for m, r, t, ok in rows],
        "",
        "Floor: the same number of trivial one-cell notebooks, each executed by the `papermill`",
        "CLI and exported by `jupyter nbconvert --to html`, one after another.",
        "",
        "## Output files of the full run",
        "",
        "| file | bytes |",
        "|---|---|",
        *[f"| {f} | {b:,} |" for f, b in files.items()],
        "",
    ]
    if manifest:
        lines += [
            "Reports listed in the manifest: " + ", ".join(sorted(manifest.get("reports", {}))),
            "",
        ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[: 8 + len(rows)]))
    print(f"per-report bytes: {json.dumps(per_report)}")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
