"""A report hands over one structured result: the summary its notebook emits is what the
manifest, the index and the command line state (nothing is recomputed beside the page)."""

from __future__ import annotations

import json

import pytest

from noordstats.report.page.summary import SUMMARY_MIMETYPE, read_summary, stale_text
from noordstats.report.runner import suite
from noordstats.report.runner.manifest import read_manifest
from noordstats.storage import store
from tests.test_suite import tiny_spec

TABLES = [
    {"table_id": "83582NED", "source": "cache", "data_date": "2025-04-22T02:00:00",
     "latest_period": "2024JJ00", "stale_reason": "CBS not reachable (connection refused)",
     "stale_kind": "unreachable", "fetched_at": "2025-04-23T06:00:00+02:00",
     "asked_at": "2026-12-07T06:00:04+01:00"},
    {"table_id": "85924NED", "source": "live", "data_date": "2025-06-01T02:00:00",
     "latest_period": "2023JJ00", "stale_reason": None, "asked_at": "2026-12-07T06:00:03+01:00"},
]  # fmt: skip


def test_stale_text_says_what_happened_and_where_the_figures_come_from():
    assert stale_text({"tables": TABLES}) == (
        "1 of the 2 CBS table(s) could not be fetched from CBS on 7 December 2026 at 06:00; "
        "1 table(s) come from data fetched from CBS earlier, on 23 April 2025; "
        "1 table(s) were fetched live."
    )
    assert stale_text({"tables": TABLES[1:]}) is None, "live data is not stale"


@pytest.mark.slow
def test_the_index_states_what_the_notebook_emitted(tmp_path):
    spec = suite.plan_report("defence_security", "LD01")
    [entry] = suite.run_suite([spec], tmp_path, progress=False)
    assert entry["status"] == "rendered", entry.get("error")
    executed = json.loads((tmp_path / spec.notebook_name).read_text(encoding="utf-8"))
    emitted = read_summary(_Notebook(executed))
    assert emitted is not None, "the notebook emitted its summary"
    manifest = read_manifest(tmp_path)[spec.name]
    assert manifest["summary"]["figures"] == emitted["figures"]
    assert manifest["summary"]["verdicts"] == emitted["verdicts"]
    assert manifest["tables"] == emitted["tables"]
    assert {t["table_id"] for t in emitted["tables"]} == set(spec.table_ids)
    for table in emitted["tables"]:  # snapshot data: each table's own date, read from its meta
        meta = store.read_meta(suite.paths.SNAPSHOT_DIR, table["table_id"])
        assert table["source"] == "snapshot" and table["stale_reason"] is None
        assert table["data_date"] == (meta.get("modified") or meta.get("captured"))
        assert table["latest_period"] == meta["periods"][-1]
    dates = [t["data_date"] for t in emitted["tables"] if t["data_date"]]
    assert manifest["data_date"] == (max(dates) if dates else None)
    page = (tmp_path / spec.html_name).read_text(encoding="utf-8")
    assert SUMMARY_MIMETYPE not in page and "noordstats report summary" not in page
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for figure in emitted["figures"]:
        assert figure["value_text"] in page and figure["value_text"] in index


@pytest.mark.slow
def test_a_notebook_without_a_summary_is_listed_and_says_so(tmp_path):
    sources = tmp_path / "notebooks"
    sources.mkdir()
    out = tmp_path / "reports"
    out.mkdir()
    [entry] = suite.run_suite([tiny_spec(sources, "bare")], out, progress=False)
    assert entry["status"] == "rendered"
    assert entry["summary"] == {"error": "the notebook emitted no summary"}
    assert "bare.html" in (out / "index.html").read_text(encoding="utf-8")


class _Notebook:
    """The shape read_summary reads (``.cells``), over a notebook parsed as plain JSON."""

    def __init__(self, raw: dict) -> None:
        self.cells = raw["cells"]
