"""The freshness statement a page shows, made from real origin records: tables loaded with
``source="auto"`` against a dead catalog (connection refused) and against the replay server
(every table live). The expected dates and periods are read from the snapshot's own metadata
records, not typed here."""

from __future__ import annotations

import datetime as dt
import re
import warnings

import pytest

from noordstats import i18n, paths
from noordstats.cbs_codes import PERIOD_CODE_PATTERN
from noordstats.declarations.tables import get_declaration
from noordstats.load import StaleDataWarning, TableOrigin, load_table
from noordstats.report.page import blocks
from noordstats.report.page.freshness import describe_freshness, is_stale
from noordstats.report.page.summary import stale_text
from noordstats.storage import store
from tests.replay_server import ReplayServer, closed_port_url, isolate_live_settings

#: a yearly CBS table, a quarterly one, and DUO's table (never asked live)
TABLES = ["82797NED", "85268NED", "duo-hbo"]
CODE = re.compile(PERIOD_CODE_PATTERN[1:-1])


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    return isolate_live_settings(monkeypatch, tmp_path / "cache")


def origins(url: str) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleDataWarning)
        return [vars(TableOrigin.of(load_table(t, source="auto", catalog_url=url))) for t in TABLES]


def snapshot_meta(table_id: str) -> dict:
    return store.read_meta(paths.SNAPSHOT_DIR, table_id)


def test_cbs_unreachable_one_sentence_then_each_table_in_the_pages_language():
    records = origins(closed_port_url())
    assert [r["stale_kind"] for r in records] == ["unreachable", "unreachable", "not_live"]
    captured = sorted({str(snapshot_meta(t)["captured"]) for t in TABLES[:2]})
    for lang in ("nl", "en"):
        fresh = describe_freshness(records, lang)
        assert fresh.is_alarm
        dates = [i18n.date(d, lang) for d in captured]
        if lang == "nl":
            assert fresh.sentence.startswith("CBS was niet bereikbaar op ")
            assert "de cijfers komen uit de meegeleverde kopie, vastgelegd" in fresh.sentence
        else:
            assert fresh.sentence.startswith("CBS could not be reached on ")
        assert all(d in fresh.sentence for d in dates), (fresh.sentence, dates)
        groups = {group: items for group, _, items in fresh.groups}
        assert set(groups) == {"snapshot", "other"}, "DUO's table is not counted as CBS's copy"
        words = " ".join([fresh.sentence, *(i for items in groups.values() for i in items)])
        assert "127.0.0.1" not in words and "not reachable at" not in words, "no error text"
        assert not CODE.search(words), "periods in words"
        quarterly = next(i for i in groups["snapshot"] if i.startswith("85268NED"))
        period = snapshot_meta("85268NED")["periods"][-1]  # 2024KW04
        quarter = int(period[-2:])
        expected = f"{quarter}e kwartaal" if lang == "nl" else f"Q{quarter} "
        assert expected in quarterly
        release = get_declaration("duo-hbo").release
        [duo] = groups["other"]
        source = "bron: DUO, stand van" if lang == "nl" else "source: DUO, as of"
        assert f"{source} {i18n.date(release.as_of, lang)}" in duo


@pytest.mark.slow
def test_every_cbs_table_live_is_no_alarm_and_duo_is_no_alarm_either():
    with ReplayServer() as server:
        records = origins(server.url)
    assert [r["source"] for r in records] == ["live", "live", "snapshot"]
    fresh = describe_freshness(records, "nl")
    assert not fresh.is_alarm
    today = i18n.date(dt.date.today(), "nl")
    assert (
        fresh.sentence
        == f"Alle 2 CBS-tabel(len) zijn op {today} rechtstreeks bij het CBS opgehaald."
    )
    assert stale_text({"tables": records}) is None, "nothing for the manifest to flag"
    shown = blocks.freshness_html(fresh, "nl")
    assert "noordstats-stale" not in shown and 'role="alert"' not in shown
    assert "<details>" in shown and "bron: DUO" in shown


@pytest.mark.slow
def test_a_table_of_another_publisher_is_stale_only_by_its_own_rule():
    with ReplayServer() as server:
        records = origins(server.url)
    duo = records[2]
    last_day = get_declaration("duo-hbo").release.overdue_after
    assert duo["overdue_after"] == last_day.isoformat()
    assert not is_stale(duo, last_day) and is_stale(duo, last_day + dt.timedelta(days=1))
    late = describe_freshness(records, "en", today=last_day + dt.timedelta(days=1))
    assert late.is_alarm and "duo-hbo (source: DUO, as of" in late.sentence
    assert not describe_freshness(records, "en", today=last_day).is_alarm


def test_stale_text_for_the_manifest_is_the_english_sentence():
    records = origins(closed_port_url())
    assert stale_text({"tables": records}) == describe_freshness(records, "en").sentence


def test_a_release_rule_is_for_other_publishers_only():
    from noordstats.declarations.tables import TableDeclaration

    entry = get_declaration("82797NED").model_dump(exclude_none=True)
    entry["release"] = get_declaration("duo-hbo").release.model_dump()
    with pytest.raises(ValueError, match="not published by CBS"):
        TableDeclaration.model_validate(entry)


def test_the_run_record_counts_each_table_once_and_names_what_was_not_refreshed():
    from noordstats.report.runner.run_record import (
        build_run_record,
        origin_counts,
        stale_cbs_tables,
        summary_line,
    )

    dead = origins(closed_port_url())
    change = {"table_id": "82797NED", "old_period": "2014JJ00", "new_period": "2015JJ00"}
    results = [
        {"name": "a", "status_this_run": "rendered", "seconds": 3.5, "tables": dead,
         "changes": [change]},
        {"name": "b", "status_this_run": "rendered", "seconds": 2.0, "tables": dead[:1],
         "changes": [change]},
        {"name": "c", "status_this_run": "skipped", "seconds": 9.0, "tables": dead},
    ]  # fmt: skip
    record = build_run_record(results, "2026-12-07T06:00:00+01:00", "2026-12-07T06:01:00+01:00")
    assert [t["table_id"] for t in record["tables"]] == sorted(TABLES)
    first = next(t for t in record["tables"] if t["table_id"] == TABLES[0])
    assert first["reports"] == ["a", "b"] and first["changed_since_previous_run"] == change
    assert {k: first[k] for k in dead[0]} == dead[0], "the whole origin record travels"
    assert record["changed"] == [change]
    assert [r["seconds"] for r in record["reports"]] == [3.5, 2.0, None], "skipped: not timed"
    assert origin_counts(record) == {"live": 0, "cache": 0, "snapshot": 2, "other": 1}
    assert stale_cbs_tables(record) == sorted(TABLES[:2])
    assert summary_line(record, "nl") == (
        "3 rapport(en) (2 gemaakt, 1 ongewijzigd, 0 mislukt); CBS-tabellen: 0 live, 0 uit cache, "
        "2 uit kopie; 1 gewijzigd sinds vorige run"
    )
