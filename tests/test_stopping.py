"""Stopping a run: SIGINT to the process group (Ctrl-C), SIGTERM to the command and ``kill -9`` of
the command, at several moments of ``noordstats reports`` (while planning, mid-render, while
writing the index) and of ``noordstats fetch``; and ``--timeout``.

Real processes throughout. After each stop: how long from the signal to the exit (at most 2 s
for SIGINT and SIGTERM) and until every process of the run is gone (the tree recorded before
the signal, and any process carrying the run's marker in its environment: kernels included);
no file in the output folder is newer than the signal plus 2 s; the folder is consistent (the
manifest parses, each rendered report has its page and notebook, the index links only files
that exist); and the next run renders exactly what is missing and leaves no temporary file.

The moments "planning" and "index" are reached with the test-only ``NOORDSTATS_TEST_PAUSE``
(see :mod:`noordstats.stopping`); "mid-render" waits until a kernel is running.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from noordstats import i18n, stopping
from noordstats.ingest import live
from noordstats.report.runner import suite
from noordstats.report.runner.manifest import MANIFEST_NAME, read_manifest
from noordstats.report.runner.worker import TMP_PREFIX
from tests.reliability_env import (
    describe_difference,
    subprocess_env,
    tree_digest,
    write_sitecustomize,
)
from tests.replay_server import ReplayServer
from tests.test_suite import tiny_spec

INTERRUPTED = i18n.t("index.interrupted", "nl")  # the index is Dutch by default

REPORTS = ["defence_security", "claims"]  # the two quickest real reports
NAMES = {"theme-defence_security-LD01", "claims-LD01"}
RUN_MARKER = "NOORDSTATS_TEST_RUN_MARKER"
STOP_BUDGET = 2.0  # seconds from the signal to the exit, and until every process is gone

HOW = {
    "SIGINT": "SIGINT to the process group (Ctrl-C)",
    "SIGTERM": "SIGTERM to the noordstats process",
    "SIGKILL": "kill -9 of the noordstats process",
}
EXPECTED = {
    "SIGINT": "exit 130 within 2 s, one line 'interrupted: k of n reports rendered'; ",
    "SIGTERM": "exit 143 within 2 s, one line 'interrupted: k of n reports rendered'; ",
    "SIGKILL": "",
}
COMMON = (
    "no process of the run alive 2 s after the signal, no file written after it; finished "
    "reports stay, manifest and index consistent; the next run renders exactly what is missing"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return write_sitecustomize(tmp_path_factory.mktemp("site"))


# ------------------------------------------------------------------------------ helpers


def start(args: list[str], env: dict[str, str], cwd: Path, stderr: Path) -> subprocess.Popen:
    """``python -m noordstats.cli ARGS`` in its own session (so SIGINT can go to its group)."""
    with open(stderr, "w", encoding="utf-8") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "noordstats.cli", *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,
        )


def wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def kernel_running(pid: int) -> bool:
    def is_kernel(process: psutil.Process) -> bool:
        try:
            return "ipykernel_launcher" in " ".join(process.cmdline())
        except psutil.Error:
            return False

    return any(is_kernel(p) for p in tree(pid))


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    living = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                living.append(process)
        except psutil.NoSuchProcess:
            continue
    return living


def marked(marker: str) -> list[psutil.Process]:
    """Every process on the machine whose environment carries this run's marker."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and process.environ().get(RUN_MARKER) == marker:
                if process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
        except psutil.Error:
            continue
    return found


def send(run: subprocess.Popen, how: str) -> None:
    if how == "SIGINT":
        os.killpg(run.pid, signal.SIGINT)
    else:
        os.kill(run.pid, getattr(signal, how))


def leftovers(folder: Path) -> list[str]:
    return sorted(
        p.name for p in folder.iterdir() if p.name.startswith(TMP_PREFIX) or p.name.endswith(".tmp")
    )


def check_folder(folder: Path) -> set[str]:
    """The folder agrees with itself; returns the names of the reports rendered in it."""
    if not (folder / MANIFEST_NAME).exists():
        assert not list(folder.glob("*.ipynb")), "no notebook without a manifest"
        assert {p.name for p in folder.glob("*.html")} <= {"index.html"}
        return set()
    json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest = read_manifest(folder)
    rendered = {n for n, e in manifest.items() if e["status"] == "rendered"}
    for name in rendered:
        assert (folder / f"{name}.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
        nbformat.validate(nbformat.read(folder / f"{name}.ipynb", as_version=4))
    pages = {p.stem for p in folder.glob("*.html")} - {"index"}
    assert pages <= rendered, "every page on disk is a rendered report of the manifest"
    index = folder / "index.html"
    if index.exists():
        text = index.read_text(encoding="utf-8")
        assert text.rstrip().endswith("</html>")
        for link in re.findall(r'href="([^"]+)"', text):
            assert (folder / link).is_file(), f"the index links {link}, which does not exist"
    return rendered


# ------------------------------------------------------------------- noordstats reports


MOMENTS = {
    "planning": "while planning",
    "render": "mid-render",
    "index": "while writing the index",
}
CASES = [
    pytest.param(how, moment, id=f"{how}-{moment}", marks=pytest.mark.reliability(
        "fault", f"`noordstats reports` stopped by {HOW[how]} {MOMENTS[moment]}",
        EXPECTED[how] + COMMON))
    for how in HOW
    for moment in MOMENTS
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("how", "moment"), CASES)
def test_a_stopped_run_ends_at_once_and_the_next_completes(tmp_path, site, how, moment):
    out, marker = tmp_path / "reports", uuid.uuid4().hex
    pause = {"planning": "planning:60", "index": "index:60"}.get(moment)
    env = subprocess_env(site, **{RUN_MARKER: marker})
    if pause:
        env[stopping.TEST_PAUSE_ENV] = pause
    # one worker for 'index', so the second report is still rendering when the first is indexed
    jobs = "1" if moment == "index" else "2"
    args = ["reports", "--only", *REPORTS, "--jobs", jobs, "--out", str(out), "--quiet"]
    stderr = tmp_path / "stderr.txt"
    run = start(args, env, tmp_path, stderr)
    try:
        if pause:
            paused = f"test pause: {moment}"
            wait_for(lambda: paused in stderr.read_text(encoding="utf-8"), paused)
        else:
            wait_for(lambda: kernel_running(run.pid), "a kernel")
            time.sleep(0.5)
        processes = tree(run.pid)
        signalled_at, t0 = time.time(), time.monotonic()
        send(run, how)
        run.wait(timeout=30)
        exit_seconds = time.monotonic() - t0
        wait_for(lambda: not alive(processes) and not marked(marker), "processes", 10)
        gone_seconds = time.monotonic() - t0
    finally:
        for process in alive(tree(run.pid)) + marked(marker):
            process.kill()
        run.wait(timeout=30)
    print(f"\nstop {how} {moment}: exit after {exit_seconds:.2f} s, "
          f"every process gone after {gone_seconds:.2f} s")  # fmt: skip

    expected_status = {"SIGINT": 130, "SIGTERM": 143, "SIGKILL": -signal.SIGKILL}[how]
    assert run.returncode == expected_status, stderr.read_text(encoding="utf-8")
    assert gone_seconds <= STOP_BUDGET, f"processes lived {gone_seconds:.2f} s after the signal"
    if how != "SIGKILL":
        assert exit_seconds <= STOP_BUDGET, f"exit {exit_seconds:.2f} s after the signal"
    time.sleep(max(0.0, t0 + STOP_BUDGET + 0.5 - time.monotonic()))  # would anything write?
    newest = max((p.stat().st_mtime for p in out.iterdir()), default=0.0)
    assert newest <= signalled_at + STOP_BUDGET, "a file was written after the run ended"

    rendered = check_folder(out)
    if moment == "index":
        assert len(rendered) == 1, "the report whose index was being written stays"
    if how != "SIGKILL":
        lines = stderr.read_text(encoding="utf-8").splitlines()
        assert lines[-1] == f"noordstats: interrupted: {len(rendered)} of 2 reports rendered"
        assert leftovers(out) == [], "a stopped run removes its temporary files"
        if moment != "planning":
            index = (out / "index.html").read_text(encoding="utf-8")
            assert index.count(INTERRUPTED) == 2 - len(rendered)

    again = subprocess.run(
        [sys.executable, "-m", "noordstats.cli", *args],
        env=subprocess_env(site), cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    missing = 2 - len(rendered)
    assert f"{missing} rendered, {len(rendered)} unchanged, 0 failed" in again.stdout
    assert check_folder(out) == NAMES
    assert leftovers(out) == []
    assert "interrupted" not in (out / "index.html").read_text(encoding="utf-8")


# -------------------------------------------------------- in this process, tiny notebooks


@pytest.fixture
def sources(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    return folder


def workers_and_kernels() -> list[psutil.Process]:
    """What the suite's fork server (a child of this process) started and is still running."""
    servers = [
        p for p in alive(psutil.Process().children())
        if "multiprocessing.forkserver" in " ".join(p.cmdline())
    ]  # fmt: skip
    return alive([c for server in servers for c in server.children(recursive=True)])


def signal_when(condition, signum: int, armed: threading.Event) -> threading.Thread:
    """A thread that sends ``signum`` to this process once ``condition()`` holds, if the test
    is still ``armed`` (inside its stop_on_signals block) then."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while not condition() and time.monotonic() < deadline and armed.is_set():
            time.sleep(0.05)
        if armed.is_set() and condition():
            os.kill(os.getpid(), signum)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
@pytest.mark.reliability(
    "fault",
    "SIGTERM while one report is rendered and another (a notebook that sleeps) still runs, "
    "an older page of it in the folder",
    "Interrupted (exit status 143); the sleeping kernel and its worker gone within 2 s; the "
    "finished report is published; the index marks the other 'not rendered: interrupted' and "
    "links its previous page; no temporary file",
)
def test_sigterm_mid_run_keeps_what_finished(sources, tmp_path):
    out = tmp_path / "reports"
    quick = tiny_spec(sources, "quick")
    suite.run_suite([tiny_spec(sources, "slow")], out, progress=False)  # the older page
    slow = tiny_spec(sources, "slow", "import time\ntime.sleep(120)")
    armed = threading.Event()
    armed.set()
    signal_when(lambda: (out / "quick.html").exists() and workers_and_kernels(), signal.SIGTERM,
                armed)  # fmt: skip
    try:
        with pytest.raises(stopping.Interrupted) as stopped:
            with stopping.stop_on_signals():
                suite.run_suite([quick, slow], out, jobs=2, progress=False)
    finally:
        armed.clear()
    assert stopped.value.exit_status == 143
    wait_for(lambda: not workers_and_kernels(), "workers and kernels to go", STOP_BUDGET)
    results = {r["name"]: r["status_this_run"] for r in stopped.value.results}
    assert results == {"quick": "rendered", "slow": "interrupted"}
    index = (out / "index.html").read_text(encoding="utf-8")
    assert INTERRUPTED in index and 'href="slow.html"' in index
    assert read_manifest(out)["quick"]["status"] == "rendered"
    assert leftovers(out) == []


@pytest.mark.slow
@pytest.mark.reliability(
    "fault",
    "`--timeout`: one report (a notebook that sleeps) runs past it, another is quick",
    "the slow one is stopped (kernel and worker gone) and marked failed 'timed out after N s'; "
    "the quick one is rendered; no temporary file",
)
def test_a_report_over_its_time_is_stopped_and_the_others_go_on(sources, tmp_path):
    out = tmp_path / "reports"
    slow = tiny_spec(sources, "slow", "import time\ntime.sleep(120)")
    quick = tiny_spec(sources, "quick")
    before = time.monotonic()
    results = {
        r["name"]: r for r in suite.run_suite([slow, quick], out, jobs=1, progress=False, timeout=8)
    }
    assert time.monotonic() - before < 60
    assert results["slow"]["status"] == "failed"
    assert results["slow"]["error"] == "timed out after 8 s"
    assert results["quick"]["status"] == "rendered" and (out / "quick.html").is_file()
    assert not (out / "slow.html").exists()
    assert "timed out after 8 s" in (out / "index.html").read_text(encoding="utf-8")
    assert not workers_and_kernels(), "no worker or kernel left"
    assert leftovers(out) == []


def test_a_signal_inside_a_deferred_step_waits_for_its_end():
    with stopping.stop_on_signals():
        done = []
        with pytest.raises(stopping.Interrupted) as stopped:
            with stopping.deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)
                done.append("the step finished")
        assert done and stopped.value.exit_status == 130
        os.kill(os.getpid(), signal.SIGTERM)  # while cleaning up, further signals are ignored
        time.sleep(0.1)
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


# ---------------------------------------------------------------------- noordstats fetch


FETCH_TABLE = "85924NED"  # 1,653 rows at CBS: two pages of 1,000


@pytest.mark.slow
@pytest.mark.parametrize(
    "how",
    [
        pytest.param(how, id=how, marks=pytest.mark.reliability(
            "fault", f"`noordstats fetch` stopped by {HOW[how]} in the middle of paging",
            f"exit {128 + getattr(signal, how)} within 2 s, one line 'interrupted: 0 of 1 "
            "tables fetched'; cache byte-for-byte as before (no temporary folder); the next "
            "fetch completes"))
        for how in ("SIGINT", "SIGTERM")
    ],
)  # fmt: skip
def test_a_stopped_fetch_leaves_the_cache_as_it_was(tmp_path, site, monkeypatch, how):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("NOORDSTATS_CACHE_DIR", str(cache_dir))
    policy = live.HttpPolicy(connect_timeout=2, read_timeout=5, attempts=1, backoff=0.01)
    with ReplayServer(page_size=1000) as server:
        server.set_modified(FETCH_TABLE, "2025-04-22T02:00:00")
        live.fetch_table(FETCH_TABLE, catalog_url=server.url, policy=policy)  # an older entry
        server.set_modified(FETCH_TABLE, "2026-02-01T02:00:00")
        server.requests.clear()
        server.add_fault("delay", resource="TypedDataSet", delay=30,
                         when=lambda r: r.is_follow_up_page)  # fmt: skip
        before = tree_digest(cache_dir)
        env = subprocess_env(site, cache_dir=cache_dir)
        args = ["fetch", FETCH_TABLE, "--catalog-url", server.url, "--no-progress"]
        stderr = tmp_path / "stderr.txt"
        run = start(args, env, tmp_path, stderr)
        try:
            wait_for(
                lambda: any(r.is_follow_up_page for r in server.requests_for("TypedDataSet")),
                "the second page",
            )
            t0 = time.monotonic()
            send(run, how)
            run.wait(timeout=30)
            seconds = time.monotonic() - t0
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        print(f"\nstop fetch {how}: exit after {seconds:.2f} s")
        assert run.returncode == 128 + getattr(signal, how), stderr.read_text(encoding="utf-8")
        assert seconds <= STOP_BUDGET
        assert stderr.read_text(encoding="utf-8").splitlines() == [
            "noordstats: interrupted: 0 of 1 tables fetched"
        ]
        after = tree_digest(cache_dir)
        assert after == before, describe_difference(before, after)
        server.faults.clear()
        again = subprocess.run(
            [sys.executable, "-m", "noordstats.cli", *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert "CBS Modified 2026-02-01T02:00:00" in again.stdout
        assert "rows (downloaded)" in again.stdout
