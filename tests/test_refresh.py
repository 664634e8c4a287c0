"""A scheduled ``noordstats reports --source auto``: it renders again exactly the reports whose
tables CBS has published anew (a newer ``Modified``), and the index says what changed since the
previous run. Real reports, rendered by the CLI in a subprocess against the replay server.

To publish "a new year" the server repeats 70960ned's 2023 cells under 2024JJ00 with a newer
Modified: a test double of a CBS release, not a statistic.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from noordstats import i18n
from noordstats.declarations.indicators import check_indicator
from noordstats.report.runner.manifest import read_manifest
from tests.replay_server import ReplayServer

CHANGES_HEADING = i18n.t("index.changes", "nl")  # the index is Dutch by default

NOORDSTATS = str(Path(sys.executable).parent / "noordstats")
REPORTS = ["defence_security", "cleantech"]  # 83582NED; 83582NED, 70960ned, 03759ned, 85004NED
CHANGED = "70960ned"


def add_year(server: ReplayServer, table_id: str, year: int, modified: str) -> None:
    """The table as CBS would serve it after publishing ``year``: the previous year's cells
    repeated under the new period code, the period in the Perioden list, a newer Modified."""
    table = server.table(table_id)
    last, new = f"{year - 1}JJ00", f"{year}JJ00"
    added = [
        {**row, "ID": len(table.typed_rows) + i, "Perioden": new}
        for i, row in enumerate(r for r in table.typed_rows if r["Perioden"].strip() == last)
    ]
    periods = table.code_lists["Perioden"]
    entry = next(p for p in periods if p["Key"].strip() == last)
    server.overrides[table_id] = dataclasses.replace(
        table,
        typed_rows=[*table.typed_rows, *added],
        code_lists={
            **table.code_lists,
            "Perioden": [
                *periods,
                {**entry, "Key": new, "Title": str(year), "Status": "Voorlopig"},
            ],
        },
    )
    server.set_modified(table_id, modified)


def run_reports(out: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    argv = [NOORDSTATS, "reports", "--only", *REPORTS, "--source", "auto", "--out", str(out)]
    run = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    return run


@pytest.mark.slow
@pytest.mark.reliability(
    "fault", "scheduled run: CBS publishes a new year of one table",
    "exactly the reports reading it are rendered again; the index lists table old → new period",
)  # fmt: skip
def test_scheduled_refresh_renders_what_changed_and_says_so(tmp_path):
    out = tmp_path / "reports"
    with ReplayServer() as server:
        env = {
            **os.environ,
            "NOORDSTATS_CATALOG_URL": server.url,
            "NOORDSTATS_CACHE_DIR": str(tmp_path / "cache"),
            "NOORDSTATS_HTTP_ATTEMPTS": "2",
        }
        first = run_reports(out, env)
        assert "2 rendered, 0 unchanged" in first.stdout + first.stderr
        before = read_manifest(out)
        wind = next(n for n in before if "cleantech" in n)
        assert {t["source"] for t in before[wind]["tables"]} == {"live"}
        tables = {t["table_id"]: t for t in before[wind]["tables"]}
        assert tables[CHANGED]["latest_period"] == "2023JJ00"

        server.requests.clear()
        again = run_reports(out, env)
        assert "0 rendered, 2 unchanged" in again.stdout + again.stderr
        asked = {r.resource for r in server.requests}
        assert asked == {"TableInfos"}, "nothing changed at CBS: only the dates are asked"
        assert CHANGES_HEADING not in (out / "index.html").read_text("utf-8")

        add_year(server, CHANGED, 2024, "2026-05-01T02:00:00")
        third = run_reports(out, env)
        assert "1 rendered, 1 unchanged" in third.stdout + third.stderr
    after = read_manifest(out)
    other = next(n for n in after if n != wind)
    assert after[other]["rendered_at"] == before[other]["rendered_at"], "not rendered again"
    assert after[wind]["rendered_at"] != before[wind]["rendered_at"]
    assert after[wind]["changes"] == [
        {
            "table_id": CHANGED,
            "old_period": "2023JJ00",
            "new_period": "2024JJ00",
            "old_date": tables[CHANGED]["data_date"],
            "new_date": "2026-05-01T02:00:00",
        }
    ]
    assert after[other]["changes"] == []
    figures = {f["title"]: f for f in after[wind]["summary"]["figures"]}
    title = check_indicator("wind_capacity_per_inhabitant").title_nl  # a Dutch report
    assert figures[title]["period"] == "2024", "the report shows 2024"
    index = (out / "index.html").read_text("utf-8")
    assert CHANGES_HEADING in index
    assert i18n.t("index.change", "nl", table=CHANGED, old="2023", new="2024") in index
