"""Faults while the report suite runs, through the real ``noordstats`` command (as a process):
two runs at once sharing one cache and one output folder, an output disk that is full, an output
folder that is read-only, a table that cannot be loaded during a report, and CBS unreachable
with ``--source auto``.

After each: the exit status and the one-line error say what happened; every page, notebook,
the manifest and the index under their final names are complete (parsed) and agree with each
other; and where the run could not write, the reports already in the folder are byte-for-byte
what they were. The output folder's lock file (``.noordstats-reports.lock``, it holds the pid of
the last run) is left out of those comparisons.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from noordstats import i18n, paths
from noordstats.ingest import live
from noordstats.report.runner.folder_lock import LOCK_NAME
from noordstats.report.runner.manifest import MANIFEST_NAME, read_manifest
from noordstats.report.runner.worker import TMP_PREFIX
from noordstats.storage import cache, store
from tests.reliability_env import (
    BALLAST_NAME,
    can_mount,
    copy_data_dir,
    describe_difference,
    full_disk,
    read_only,
    run_cli,
    subprocess_env,
    tree_digest,
    write_sitecustomize,
)
from tests.replay_server import ReplayServer, closed_port_url
from tests.test_live import assert_same_as_snapshot

pytestmark = pytest.mark.slow

THEME = "defence_security"  # one table (83582NED): the quickest real report
THEME_REPORT = f"theme-{THEME}-LD01"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return write_sitecustomize(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def previous(tmp_path_factory, site) -> Path:
    """An output folder holding a complete earlier run (one theme report and the index)."""
    folder = tmp_path_factory.mktemp("previous") / "reports"
    done = run_cli(["reports", "--only", THEME, "--out", str(folder), "--quiet"],
                   subprocess_env(site), cwd=folder.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder


def digest(folder: Path) -> dict[str, str]:
    """Every file of an output folder except the lock (and a full disk's ballast)."""
    return {k: v for k, v in tree_digest(folder).items() if k not in {LOCK_NAME, BALLAST_NAME}}


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()
            if p.name.startswith(TMP_PREFIX) or p.name.endswith(".tmp")]  # fmt: skip


def assert_consistent(folder: Path) -> dict[str, dict]:
    """Every file under a final name is whole, and the manifest, the index and the files agree:
    each rendered report has its page and notebook, each failed one its notebook and no page,
    and the index links exactly those. Returns the manifest entries."""
    manifest = read_manifest(folder)
    assert manifest, "the manifest parses and lists reports"
    json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert index.rstrip().endswith("</html>")
    for path in folder.glob("*.ipynb"):
        nbformat.validate(nbformat.read(path, as_version=4))
    for path in folder.glob("*.html"):
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path.name
    for name, entry in manifest.items():
        assert (folder / entry["notebook"]).is_file(), name
        if entry["status"] == "rendered":
            assert (folder / entry["html"]).is_file(), name
            assert f'href="{entry["html"]}"' in index, name
        else:
            assert not (folder / f"{name}.html").exists(), "no page for a failed report"
            assert f'href="{entry["notebook"]}"' in index and "mislukt" in index
    pages = {p.name for p in folder.glob("*.html")} - {"index.html", "index-en.html"}
    assert pages == {e["html"] for e in manifest.values() if e["status"] == "rendered"}
    assert leftovers(folder) == []
    return manifest


# ------------------------------------------------------------------------------ concurrency


def _holds_lock(folder: Path, pid: int) -> bool:
    try:
        return (folder / LOCK_NAME).read_text(encoding="utf-8").strip() == str(pid)
    except OSError:
        return False


@pytest.mark.reliability(
    "fault",
    "two `noordstats reports --source auto` runs at once sharing one cache and one output folder",
    "the second waits, then renders from the cache (no download); both exit 0; reports, index, "
    "manifest and cache complete and consistent",
)
def test_two_runs_share_one_cache_and_one_folder(tmp_path, site, monkeypatch):
    out, cache_dir = tmp_path / "reports", tmp_path / "cache"
    monkeypatch.setenv("NOORDSTATS_CACHE_DIR", str(cache_dir))
    with ReplayServer() as server:
        url = server.url
        env = subprocess_env(site, cache_dir=cache_dir, NOORDSTATS_CATALOG_URL=url)
        command = [sys.executable, "-m", "noordstats.cli", "reports", "--only", THEME,
                   "life_sciences_health", "--jobs", "2", "--source", "auto", "--out", str(out),
                   "--quiet"]  # fmt: skip
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        runs = [subprocess.Popen(command, env=env, cwd=tmp_path, **pipes)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _holds_lock(out, runs[0].pid):
            time.sleep(0.05)
        runs.append(subprocess.Popen(command, env=env, cwd=tmp_path, **pipes))
        first = runs[0].communicate(timeout=300)
        downloads = len(server.requests_for("TypedDataSet"))
        second = runs[1].communicate(timeout=300)
        assert len(server.requests_for("TypedDataSet")) == downloads, (
            "the second run used the cache"
        )
    assert [r.returncode for r in runs] == [0, 0], (first, second)
    assert downloads > 0 and "2 rendered" in first[0]
    # the second run waited, then found CBS's Modified unchanged: nothing to render again
    assert "0 rendered, 2 unchanged" in second[0]
    assert "waiting for it" in second[1]
    manifest = assert_consistent(out)
    assert set(manifest) == {THEME_REPORT, "theme-life_sciences_health-LD01"}
    assert {e["status"] for e in manifest.values()} == {"rendered"}
    assert all(e["source"] == "auto" and not e.get("stale") for e in manifest.values())
    table_dir = cache_dir / "83582NED"
    assert len(list(table_dir.iterdir())) == 1, "one whole entry, nothing left over"
    cached, meta = cache.read_newest("83582NED")
    assert meta["source"] == "live" and meta["catalog_url"] == url
    assert_same_as_snapshot(cached, "83582NED")


# ------------------------------------------------------------------------ output folder faults


FULL_DISK = [
    pytest.param("tmpfs", id="tmpfs", marks=pytest.mark.reliability(
        "fault", "output disk full during `noordstats reports --force` (a real full tmpfs)",
        "exit 1, one line naming the folder and the full disk; earlier reports, index and "
        "manifest byte-for-byte unchanged; no temporary file left")),
    pytest.param("injected", id="injected", marks=pytest.mark.reliability(
        "fault", "output disk full during `noordstats reports --force` (ENOSPC on every write "
        "into the folder, in every process)",
        "exit 1, one line naming the folder and the full disk; earlier reports, index and "
        "manifest byte-for-byte unchanged; no temporary file left")),
]  # fmt: skip


@pytest.mark.parametrize("how", FULL_DISK)
def test_full_output_disk_leaves_the_earlier_reports(tmp_path, site, previous, how):
    if how == "tmpfs" and not can_mount(tmp_path / "probe"):
        pytest.skip("this process may not mount a tmpfs; the injected variant runs instead")
    out = tmp_path / "reports"
    with full_disk(out, previous, how) as fault:
        before = digest(out)
        done = run_cli(["reports", "--only", THEME, "--force", "--out", str(out), "--quiet"],
                       subprocess_env(site, write_fault=fault), cwd=tmp_path)  # fmt: skip
        after = digest(out)
        assert done.returncode == 1, done.stderr
        assert done.stdout == ""
        assert done.stderr.splitlines() == [done.stderr.strip()], "one line"
        assert done.stderr.startswith(f"noordstats: error: cannot write reports to {out}: ")
        assert "No space left on device" in done.stderr
        assert after == before, describe_difference(before, after)
        assert_consistent(out)


READ_ONLY = [
    pytest.param("os", id="os", marks=pytest.mark.reliability(
        "fault", "output folder read-only (chmod 0555; as root a read-only bind mount)",
        "exit 1, one line naming the folder; earlier reports byte-for-byte unchanged")),
    pytest.param("injected", id="injected", marks=pytest.mark.reliability(
        "fault", "output folder read-only (EROFS on every write, move and delete in it)",
        "exit 1, one line naming the folder; earlier reports byte-for-byte unchanged")),
]  # fmt: skip


@pytest.mark.parametrize("how", READ_ONLY)
def test_read_only_output_folder_leaves_the_earlier_reports(tmp_path, site, previous, how):
    if how == "os" and os.geteuid() == 0 and not can_mount(tmp_path / "probe"):
        pytest.skip("root here may not bind-mount; the injected variant runs instead")
    out = tmp_path / "reports"
    shutil.copytree(previous, out)
    with read_only(out, how) as fault:
        before = digest(out)
        done = run_cli(["reports", "--only", THEME, "--force", "--out", str(out), "--quiet"],
                       subprocess_env(site, write_fault=fault), cwd=tmp_path)  # fmt: skip
        after = digest(out)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()], "one line"
    assert done.stderr.startswith(f"noordstats: error: cannot write reports to {out}: ")
    assert re.search(r"Read-only file system|Permission denied", done.stderr)
    assert after == before, describe_difference(before, after)
    assert_consistent(out)


# ------------------------------------------------------------------------ data faults


@pytest.mark.reliability(
    "fault",
    "a snapshot table damaged (truncated parquet) during `noordstats reports`",
    "that report failed in the index with its executed notebook (error shown) kept; the other "
    "rendered; exit 1 naming it",
)
def test_failing_data_load_fails_only_its_report(tmp_path, site):
    data = copy_data_dir(tmp_path / "data")
    damaged = data / "snapshot" / "85924NED.parquet"  # read by the claims scorecard, not THEME
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 3])
    out = tmp_path / "reports"
    done = run_cli(["reports", "--only", THEME, "claims", "--out", str(out), "--quiet"],
                   subprocess_env(site, data_dir=data), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    failed = [line for line in done.stderr.splitlines() if line.startswith("noordstats: report")]
    assert len(failed) == 1 and failed[0].startswith("noordstats: report claims-LD01 failed: ")
    assert f"(see {out / 'claims-LD01.ipynb'})" in failed[0]
    assert "0 unchanged, 1 failed" in done.stdout and "1 rendered" in done.stdout
    manifest = assert_consistent(out)
    assert manifest["claims-LD01"]["status"] == "failed"
    assert manifest[THEME_REPORT]["status"] == "rendered"
    kept = nbformat.read(out / "claims-LD01.ipynb", as_version=4)
    errors = [o for c in kept.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors, "the executed notebook shows where it failed"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="claims-LD01.ipynb">notebook</a>' in index and "mislukt" in index


@pytest.mark.reliability(
    "fault",
    "CBS unreachable with --source auto, one table cached earlier",
    "report rendered from the cache with one freshness statement naming the cached copy's date "
    "and why (in the page's language); one summary line on stderr; index marks it not live",
)
def test_unreachable_cbs_renders_from_cache_with_a_stale_banner(tmp_path, site, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("NOORDSTATS_CACHE_DIR", str(cache_dir))
    with ReplayServer() as server:
        server.set_modified("83582NED", "2025-04-22T02:00:00")
        live.fetch_table("83582NED", catalog_url=server.url)
    before = tree_digest(cache_dir)
    out = tmp_path / "reports"
    env = subprocess_env(site, cache_dir=cache_dir, NOORDSTATS_CATALOG_URL=closed_port_url(),
                         NOORDSTATS_HTTP_ATTEMPTS="1")  # fmt: skip
    done = run_cli(["reports", "--only", THEME, "--source", "auto", "--out", str(out), "--quiet"],
                   env, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("noordstats: 1 rapport(en) (1 gemaakt"), done.stderr
    assert "CBS-tabellen: 0 live, 1 uit cache, 0 uit kopie" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, "one summary line, no log line (--quiet)"
    assert "StaleDataWarning" not in done.stderr
    page = (out / f"{THEME_REPORT}.html").read_text(encoding="utf-8")
    banner = page[page.index('class="noordstats-stale"') :].split("</div>", 1)[0]
    assert page.index('class="noordstats-stale"') < page.index("Kerncijfers")
    fetched = i18n.date(cache.read_newest("83582NED")[1]["fetched_at"], "nl")
    assert "CBS was niet bereikbaar op" in banner  # the report is Dutch (the default)
    assert f"eerder bij het CBS zijn opgehaald, op {fetched}" in banner
    assert "(reden: CBS niet bereikbaar)" in banner and "connection refused" not in banner
    assert "83582NED: opgehaald op " in banner and "CBS-gegevens van 22 april 2025" in banner
    manifest = assert_consistent(out)
    assert "the figures come from data fetched from CBS earlier" in manifest[THEME_REPORT]["stale"]
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    [table] = record["tables"]
    assert table["source"] == "cache" and "connection refused" in table["stale_reason"]
    assert "niet actueel" in (out / "index.html").read_text(encoding="utf-8")
    assert tree_digest(cache_dir) == before, "the cache is read, not changed"
    assert store.read_meta(paths.SNAPSHOT_DIR, "83582NED") is not None
