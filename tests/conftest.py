"""Shared pytest configuration. Fixtures here stay generic; feature fixtures live with their
tests."""

from __future__ import annotations

import os
import sys

import pytest

pytest_plugins = ["tests.reliability_plugin"]

# The live-path tests written against the OData v3 replay server ask v3 (as they did before
# OData v4 was read); users get ``auto`` (v4, then v3). Tests of v4 and of ``auto`` pass
# ``api=`` or set NOORDSTATS_API themselves. Subprocesses inherit it.
os.environ.setdefault("NOORDSTATS_API", "v3")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("NOORDSTATS_LIVE_TESTS") == "1":
        return
    skip_live = pytest.mark.skip(reason="talks to the real CBS API; set NOORDSTATS_LIVE_TESTS=1")
    for item in items:
        if item.get_closest_marker("live"):
            item.add_marker(skip_live)


@pytest.fixture(autouse=True)
def _every_service_asked_again():
    """A service one test found unreachable is asked again by the next test (the memory of
    :mod:`noordstats.ingest.cbs_http` lasts a process, and tests share processes)."""
    module = sys.modules.get("noordstats.ingest.cbs_http")
    if module is not None:
        module.forget_unreachable()


@pytest.fixture(scope="session")
def raw_dir():
    """The raw CBS/DUO captures: the repository's data/raw (or NOORDSTATS_RAW_DIR). They ship
    with the repository, so a missing folder is an error, not a reason to skip."""
    from noordstats import paths

    folder = paths.raw_data_dir()
    assert (folder / "cbs").is_dir(), f"raw data folder {folder} has no cbs/ captures"
    return folder


@pytest.fixture
def isolated_snapshot(tmp_path, monkeypatch):
    """Snapshot (with a copy of the region registry), local declarations, imports, provenance and
    geo folders in a temporary folder; data/tables.yaml stays the shipped one. Caches are cleared
    before and after."""
    import shutil

    from noordstats import paths, regions
    from noordstats.declarations.tables import declarations

    (tmp_path / "snapshot").mkdir()
    shutil.copyfile(paths.REGIONS_FILE, tmp_path / "snapshot" / "regions.csv")
    changes = paths.BOUNDARY_CHANGES_NAME
    shutil.copyfile(paths.REGIONS_FILE.parent / changes, tmp_path / "snapshot" / changes)
    monkeypatch.setattr(paths, "REGIONS_FILE", tmp_path / "snapshot" / "regions.csv")
    regions.clear_caches()
    monkeypatch.setattr(paths, "SNAPSHOT_DIR", tmp_path / "snapshot")
    monkeypatch.setattr(paths, "LOCAL_SNAPSHOT_DIR", None)  # imports go into SNAPSHOT_DIR
    monkeypatch.setattr(paths, "LOCAL_TABLES_FILE", tmp_path / "tables.local.yaml")
    monkeypatch.setattr(paths, "IMPORTS_DIR", tmp_path / "imports")
    monkeypatch.setattr(paths, "PROVENANCE_DIR", tmp_path / "provenance")
    monkeypatch.setattr(paths, "GEO_DIR", tmp_path / "geo")
    declarations.cache_clear()
    yield tmp_path
    declarations.cache_clear()
    regions.clear_caches()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's), driven by Playwright."""
    from tests.browser_env import launch_chromium

    with launch_chromium() as chromium:
        yield chromium
