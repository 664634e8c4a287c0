"""The live path, end to end and offline: cbsodata makes real HTTP requests to the OData v3
replay server (tests/replay_server.py), which serves the embedded snapshot tables.

Every test gets its own cache folder (NOORDSTATS_CACHE_DIR) and fast retry settings.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import cbsodata
import cbsodata.cbsodata3 as cbsodata3
import pandas as pd
import pyarrow.parquet as pq
import pytest
import requests

from noordstats import cli, paths
from noordstats.cbs_codes import normalise_status, parse_value
from noordstats.declarations.tables import declarations
from noordstats.ingest import cbs_http, live
from noordstats.ingest.importers.common import label_code
from noordstats.load import StaleDataWarning, load_table
from noordstats.storage import cache, store
from tests.replay_server import (
    ReplayServer,
    closed_port_url,
    compile_filter,
    isolate_live_settings,
    period_statuses,
)

MAIN_TABLES = ["85924NED", "83582NED"]
PAGE_SIZE = 1000
MODIFIED = "2025-04-22T02:00:00"  # the CBS Modified the replay server announces for MAIN_TABLES


def _snapshot_tables(fetchable: bool) -> list[str]:
    """Tables in the snapshot that can (or cannot) be fetched live, the main two first."""
    found = {
        t
        for t, d in declarations().items()
        if store.read_meta(paths.SNAPSHOT_DIR, t) is not None
        and (live.live_problem(d) is None) == fetchable
    }
    return [t for t in MAIN_TABLES if t in found] + sorted(found - set(MAIN_TABLES), key=str.lower)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    return isolate_live_settings(monkeypatch, tmp_path / "cache")


@pytest.fixture
def server():
    with ReplayServer(page_size=PAGE_SIZE) as replay:
        for table_id in MAIN_TABLES:
            replay.set_modified(table_id, MODIFIED)
        yield replay


class SleepRecorder:
    """Stands in for time.sleep: records the waits the retry logic asks for."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps():
    return SleepRecorder()


@pytest.fixture
def policy(sleeps):
    return cbs_http.HttpPolicy(
        connect_timeout=2, read_timeout=2, attempts=3, backoff=0.01, sleep=sleeps
    )


def assert_same_frame(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal columns, dtypes and cells (categories compared as strings: fast)."""
    assert list(left.columns) == list(right.columns)
    assert left.dtypes.astype(str).tolist() == right.dtypes.astype(str).tolist()
    as_text = {c: "str" for c in left.columns if left[c].dtype == "category"}
    pd.testing.assert_frame_equal(left.astype(as_text), right.astype(as_text))


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categories as strings (no unit: None), rows in key order: frames comparable whatever
    their origin."""
    unit = frame["unit"].astype(object)
    frame = frame.astype({c: "str" for c in frame.columns if frame[c].dtype == "category"})
    frame["unit"] = unit.where(unit.notna(), None)
    keys = [c for c in frame.columns if c.endswith("_code")]
    return frame.sort_values(keys, ignore_index=True)


def assert_same_as_snapshot(fetched: pd.DataFrame, table_id: str) -> None:
    """Live rows equal the snapshot rows. Documented differences: (1) a period's status comes
    from CBS's Perioden list, so rows the snapshot computed itself (status 'berekend') get
    their period's status; (2) cells the snapshot does not have at all come back missing (NaN)
    because the v3 wire format has one column per measure."""
    snapshot = _plain(load_table(table_id, source="snapshot"))
    fetched = _plain(fetched)
    assert list(fetched.columns) == list(snapshot.columns)
    keys = [c for c in snapshot.columns if c.endswith("_code")]
    merged = fetched.merge(
        snapshot[keys].assign(in_snapshot=True), on=keys, how="left", validate="one_to_one"
    )
    extra = merged[merged.in_snapshot.isna()]
    assert extra.value.isna().all(), "rows not in the snapshot must be missing cells"
    fetched = fetched[merged.in_snapshot.notna().to_numpy()].reset_index(drop=True)
    assert len(fetched) == len(snapshot)
    served = period_statuses(load_table(table_id, source="snapshot"))  # CBS: 'NaderVoorlopig'
    period_status = {k: normalise_status(v) for k, v in served.items()}
    computed = snapshot.status == "berekend"
    expected_status = snapshot.status.where(~computed, snapshot.period_code.map(period_status))
    pd.testing.assert_series_equal(fetched.status, expected_status, check_names=False)
    columns = [c for c in snapshot.columns if c != "status"]
    assert_same_frame(fetched[columns], snapshot[columns])


def assert_codes_line_up(fetched: pd.DataFrame, table_id: str, served: str) -> None:
    """A copy refreshed from another CBS table (83582NED-harvest from 83582NED): every row of
    the copy's snapshot that CBS has comes back under the same codes, and its values are those
    of the table served (translated through the sector titles)."""
    snapshot = _plain(load_table(table_id, source="snapshot"))
    fetched = _plain(fetched)
    keys = [c for c in snapshot.columns if c.endswith("_code")]
    both = snapshot.merge(fetched, on=keys, suffixes=("", "_live"))
    assert len(both) > 0 and set(both.sector_code) == set(snapshot.sector_code)
    assert set(snapshot.region_code) - set(both.region_code) <= {
        c for c in snapshot.region_code if c.startswith("GM")
    }, "only municipalities, which the served COROP copy lacks, may be missing"
    source = _plain(load_table(served, source="snapshot"))
    titles = dict(zip(source.sector_code, source.sector_name, strict=False))
    source["sector_code"] = source.sector_code.map(lambda key: label_code(titles[key], {}))
    expected = source.merge(fetched, on=keys, suffixes=("", "_live"))
    assert len(expected) == len(fetched)
    pd.testing.assert_series_equal(
        expected.value_live, expected.value, check_names=False, check_exact=False
    )


def _typed_row_count(table_id: str) -> int:
    """Rows of the v3 TypedDataSet (one per region x period x other dimensions), read from the
    snapshot parquet file with pyarrow."""
    table = pq.read_table(paths.SNAPSHOT_DIR / f"{table_id}.parquet").to_pandas()
    keys = [c for c in table.columns if c.endswith("_code") and c != "measure_code"]
    return len(table[keys].astype(str).drop_duplicates())


# ------------------------------------------------------------------ round trip through cbsodata


@pytest.mark.slow
@pytest.mark.parametrize("table_id", _snapshot_tables(fetchable=True))
def test_fetch_through_replay_equals_snapshot(table_id, policy):
    cbs_id = declarations()[table_id].live_id
    rows = _typed_row_count(cbs_id)
    page_size = max(PAGE_SIZE, math.ceil(rows / 20))
    with ReplayServer(page_size=page_size) as server:
        frame, meta = live.fetch_table(table_id, catalog_url=server.url, policy=policy)
        served_modified = server.table(cbs_id).info["Modified"]
        data_requests = server.requests_for("TypedDataSet", cbs_id)
        url = server.url
    if cbs_id == table_id:
        assert_same_as_snapshot(frame, table_id)
    else:  # a copy refreshed from the table it copies: its codes, the served table's values
        assert_codes_line_up(frame, table_id, served=cbs_id)
    assert len(data_requests) == math.ceil(rows / page_size)
    assert meta["source"] == "live" and meta["modified"] == served_modified
    assert meta["catalog_url"] == url and meta["row_count"] == len(frame)
    assert meta["completeness"] == "complete" and meta["regions_filter"] is None


@pytest.mark.parametrize("table_id", _snapshot_tables(fetchable=False))
def test_tables_without_cbs_keys_are_not_fetched(table_id, server, capsys):
    """Tables whose source had labels only (or that are not CBS's) are refused before any
    request: by fetch_table as unavailable (so ``auto`` uses the snapshot), by the CLI as
    bad input."""
    with pytest.raises(cbs_http.LiveNotSupportedError, match=f"{table_id} cannot be fetched live"):
        live.fetch_table(table_id, catalog_url=server.url)
    assert server.requests == []
    with pytest.warns(StaleDataWarning, match="cannot be fetched live"):
        loaded = load_table(table_id, source="auto", catalog_url=server.url)
    assert loaded.attrs["source"] == "snapshot"
    assert cli.main(["fetch", table_id, "--catalog-url", server.url]) == 2
    assert "cannot be fetched live" in capsys.readouterr().err


def test_paging_follows_next_links(server, policy):
    live.fetch_table("83582NED", catalog_url=server.url, policy=policy)
    pages = server.requests_for("TypedDataSet")
    rows = _typed_row_count("83582NED")
    assert rows > 10 * PAGE_SIZE
    assert len(pages) == math.ceil(rows / PAGE_SIZE)
    assert not pages[0].is_follow_up_page
    skips = [int(p.params["$skip"]) for p in pages[1:]]
    assert skips == list(range(PAGE_SIZE, rows, PAGE_SIZE))
    assert all(p.params["$select"] == pages[0].params["$select"] for p in pages)


def test_regions_filter_is_sent_to_cbs(server, policy):
    frame, meta = live.fetch_table(
        "83582NED", catalog_url=server.url, regions=["PV20", "CR01"], policy=policy
    )
    pages = server.requests_for("TypedDataSet")
    assert pages[0].params["$filter"] == "startswith(RegioS,'CR01') or startswith(RegioS,'PV20')"
    assert set(frame.region_code) == {"CR01", "PV20"}
    snapshot = load_table("83582NED", regions=["CR01", "PV20"])
    assert len(frame) == len(snapshot)
    assert frame.value.sum() == pytest.approx(snapshot.value.sum())
    assert meta["completeness"] == "partial" and meta["regions_filter"] == ["CR01", "PV20"]
    assert live.read_cached("83582NED") is None, "a regions-only download is not the table"


def test_cbsodata_get_data_reads_the_root_listing_and_code_lists(server):
    """cbsodata's own get_data (root listing, every code list, codes replaced by titles) and
    the untyped rows (strings, '.' for missing) agree with the typed rows."""
    old = cbsodata.options.use_https
    cbsodata.options.use_https = False
    try:
        rows = cbsodata.get_data("85924NED", catalog_url=server.host)
        untyped = cbsodata.get_meta("85924NED", "UntypedDataSet", catalog_url=server.host)
        typed = cbsodata.get_meta("85924NED", "TypedDataSet", catalog_url=server.host)
    finally:
        cbsodata.options.use_https = old
    assert len(rows) == len(typed) == len(untyped) == _typed_row_count("85924NED")
    snapshot = load_table("85924NED")
    # CBS titles may end in a space ('2011 december '): compared stripped
    assert {r["RegioS"].strip() for r in rows} == set(snapshot.region_name.astype(str))
    assert {r["RegioS"] for r in typed} == {c.ljust(6) for c in snapshot.region_code.astype(str)}
    measures = declarations()["85924NED"].measures
    missing = 0
    for u, t in zip(untyped, typed, strict=True):
        for key in measures:
            got = parse_value(u[key])
            missing += t[key] is None
            assert (math.isnan(got) and t[key] is None) or got == t[key]
    assert missing == snapshot.value.isna().sum() > 0


# ------------------------------------------------------------------------------------ cache


@pytest.mark.slow
def test_unchanged_modified_reuses_cache_and_new_modified_downloads(server, policy, isolated):
    first, meta = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    before = len(server.requests)
    again, meta_again = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    asked = [r.resource for r in server.requests[before:]]
    assert asked == ["TableInfos"], "same Modified: only TableInfos is asked"
    assert_same_frame(again, first)
    assert meta_again["fetched_at"] == meta["fetched_at"]

    server.set_modified("85924NED", "2026-01-15T02:00:00")
    before = len(server.requests)
    newer, newer_meta = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert "TypedDataSet" in [r.resource for r in server.requests[before:]]
    assert newer_meta["modified"] == "2026-01-15T02:00:00"
    assert sorted(p.name for p in (isolated / "85924NED").iterdir()) == [
        "2025-04-22T020000",
        "2026-01-15T020000",
    ]
    cached, cached_meta = live.read_cached("85924NED")
    assert cached_meta["modified"] == "2026-01-15T02:00:00"
    assert_same_frame(cached, newer)


def test_cache_entries_are_written_whole(server, policy, isolated):
    frame, meta = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    files = sorted(p.relative_to(isolated).as_posix() for p in isolated.rglob("*"))
    assert files == [
        "85924NED",
        "85924NED/2025-04-22T020000",
        "85924NED/2025-04-22T020000/85924NED.meta.json",
        "85924NED/2025-04-22T020000/85924NED.parquet",
    ], "no temporary files are left"
    stored = json.loads((isolated / files[2]).read_text())
    assert stored["data_sha256"] == store.sha256_file(isolated / files[3])


def test_crash_leftovers_are_ignored(server, policy, isolated):
    frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    table_dir = isolated / "85924NED"
    newer = table_dir / "2026-02-01T020000"  # a writer died after the data, before the meta
    newer.mkdir()
    frame.to_parquet(newer / "85924NED.parquet")
    hidden = table_dir / ".tmp-abc123"  # a writer died inside its temporary folder
    hidden.mkdir()
    (hidden / "85924NED.parquet").write_bytes(b"PAR1 half")
    (table_dir / "2025-04-22T020000" / ".85924NED.parquet.x.tmp").write_bytes(b"half")
    cached, meta = live.read_cached("85924NED")
    assert meta["modified"] == "2025-04-22T02:00:00"
    assert_same_frame(cached, frame)


@pytest.mark.slow
def test_damaged_cache_entry_is_ignored(server, policy, isolated):
    live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    data = isolated / "85924NED" / "2025-04-22T020000" / "85924NED.parquet"
    data.write_bytes(data.read_bytes()[:1000])
    assert live.read_cached("85924NED") is None
    before = len(server.requests)
    frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert "TypedDataSet" in [r.resource for r in server.requests[before:]]
    assert_same_as_snapshot(frame, "85924NED")
    assert live.read_cached("85924NED") is not None


@pytest.mark.slow
@pytest.mark.reliability(
    "fault", "cache write fails (disk full)", "data used uncached with a warning; old cache intact"
)
def test_failed_cache_write_leaves_old_entry(server, policy, isolated, monkeypatch, caplog, capsys):
    frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    server.set_modified("85924NED", "2026-03-01T02:00:00")

    def disk_full(target, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "write_text_atomic", disk_full)
    fresh, meta = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert meta["cache_path"] is None and "No space left" in meta["cache_error"]
    assert "85924NED: downloaded but not cached" in caplog.text
    assert_same_as_snapshot(fresh, "85924NED")
    assert sorted(p.name for p in (isolated / "85924NED").iterdir()) == ["2025-04-22T020000"]
    cached, cached_meta = live.read_cached("85924NED")
    assert cached_meta["modified"] == MODIFIED
    assert_same_frame(cached, frame)
    argv = ["fetch", "85924NED", "--catalog-url", server.url, "--no-progress"]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "noordstats: error: 85924NED: not cached: [Errno 28] No space left on device"
    ]


def test_concurrent_writers_of_one_entry(server, policy, isolated):
    frame, meta = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    again = cache.write_entry("85924NED", meta["modified"], None, frame, meta)
    assert again == isolated / "85924NED" / "2025-04-22T020000"
    assert [p.name for p in (isolated / "85924NED").iterdir()] == ["2025-04-22T020000"]
    assert_same_frame(live.read_cached("85924NED")[0], frame)


def test_writers_racing_for_one_entry(server, policy, isolated):
    frame, meta = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    shutil.rmtree(isolated / "85924NED")
    with ThreadPoolExecutor(max_workers=4) as pool:
        folders = list(
            pool.map(
                lambda _: cache.write_entry("85924NED", meta["modified"], None, frame, meta),
                range(4),
            )
        )
    assert len(set(folders)) == 1
    assert [p.name for p in (isolated / "85924NED").iterdir()] == ["2025-04-22T020000"]
    assert_same_frame(live.read_cached("85924NED")[0], frame)


_WRITER = """
import sys
import pandas as pd
from noordstats.storage import cache
frame = pd.read_parquet(sys.argv[1])
for i in range(1000):
    cache.write_entry("85924NED", f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}", None, frame,
                      {"modified": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}", "fetched_at": "x"})
"""


@pytest.mark.slow
@pytest.mark.reliability("fault", "kill -9 while writing the cache", "complete entries only")
def test_kill_9_while_writing_cache(isolated, tmp_path):
    """A writer killed at an arbitrary moment leaves complete entries and hidden leftovers,
    never an entry that reads as complete but is not."""
    source = paths.SNAPSHOT_DIR / "85924NED.parquet"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(source)], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            entries = list((isolated / "85924NED").glob("2026-*")) if isolated.exists() else []
            if len(entries) >= 3:
                break
            time.sleep(0.02)
        time.sleep(0.05)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    entries = [p for p in (isolated / "85924NED").iterdir() if not p.name.startswith(".")]
    assert len(entries) >= 3
    modified = [json.loads((e / "85924NED.meta.json").read_text())["modified"] for e in entries]
    for value in modified:
        assert cache.read_entry("85924NED", value) is not None, "every visible entry is whole"
    newest_frame, newest_meta = cache.read_newest("85924NED")
    assert newest_meta["modified"] == max(modified)
    assert_same_frame(newest_frame, pd.read_parquet(source))


# ------------------------------------------------------------ no network: fallback and errors


@pytest.fixture
def warm_cache(server, policy):
    frame, meta = live.fetch_table("83582NED", catalog_url=server.url, policy=policy)
    return frame, meta


@pytest.mark.slow
@pytest.mark.parametrize("source", ["auto", "live"], ids=["source-auto", "source-live"])
@pytest.mark.reliability("fault", "dead catalog URL, warm cache", "cached data + stale warning")
def test_dead_url_with_warm_cache_returns_cache(warm_cache, source):
    frame, meta = warm_cache
    with pytest.warns(StaleDataWarning) as caught:
        loaded = load_table("83582NED", source=source, catalog_url=closed_port_url())
    message = str(caught[0].message)
    assert "connection refused" in message
    assert (
        f"the cached copy of 83582NED (data as of CBS Modified {meta['modified'][:10]}" in message
    )
    assert loaded.attrs["source"] == "cache"
    assert loaded.attrs["meta"]["modified"] == meta["modified"]
    assert_same_frame(loaded, frame)


@pytest.mark.reliability("fault", "dead catalog URL, empty cache, auto", "snapshot + warning")
def test_dead_url_without_cache_falls_back_to_snapshot():
    with pytest.warns(StaleDataWarning, match=r"embedded snapshot of 85924NED \(data as") as caught:
        loaded = load_table("85924NED", source="auto", catalog_url=closed_port_url())
    snapshot_meta = store.read_meta(paths.SNAPSHOT_DIR, "85924NED")
    assert str(snapshot_meta["captured"]) in str(caught[0].message)
    assert loaded.attrs["source"] == "snapshot"
    assert_same_frame(loaded, load_table("85924NED", source="snapshot"))


@pytest.mark.reliability("fault", "dead catalog URL, empty cache, live", "one-line error")
def test_dead_url_without_cache_live_raises_one_line():
    url = closed_port_url()
    with pytest.raises(cbs_http.LiveUnavailableError) as caught:
        load_table("85924NED", source="live", catalog_url=url)
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        f"CBS not reachable at {url} (connection refused; 2 attempts) and nothing cached for "
        "85924NED; use --source snapshot"
    )


@pytest.mark.reliability(
    "fault",
    "CBS unreachable for every table of a run (--source auto, connection refused)",
    "CBS is tried once with its retries; every later table in the process falls back at once, "
    "with the same reason; a service that answers again is asked again",
)
def test_an_unreachable_service_is_tried_once_per_process(server, sleeps, monkeypatch):
    http = cbs_http
    from_env = http.HttpPolicy.from_env.__func__
    monkeypatch.setattr(
        http.HttpPolicy,
        "from_env",
        classmethod(lambda cls, **kw: from_env(cls, **{"sleep": sleeps, **kw})),
    )
    monkeypatch.setenv("NOORDSTATS_HTTP_ATTEMPTS", "3")
    monkeypatch.setenv("NOORDSTATS_HTTP_BACKOFF", "1")
    url = closed_port_url()
    reasons = []
    for table_id in ("85924NED", "83582NED", "70072ned"):
        with pytest.warns(StaleDataWarning) as caught:
            loaded = load_table(table_id, source="auto", catalog_url=url)
        assert loaded.attrs["source"] == "snapshot"
        reasons.append(loaded.attrs["stale_reason"])
    assert sleeps.waits == [1.0, 2.0], "the first table's retries only"
    assert len(set(reasons)) == 1 and "connection refused; 3 attempts" in reasons[0]
    assert "connection refused" in str(caught[0].message)
    # another service is still asked, and one that answered is never remembered as down
    frame, _ = live.fetch_table("85924NED", catalog_url=server.url)
    assert server.requests_for("TypedDataSet") and len(frame)
    assert http._origin(server.url + "/x") not in http._UNREACHABLE
    http.forget_unreachable()
    with pytest.warns(StaleDataWarning):
        load_table("85924NED", source="auto", catalog_url=url)
    assert sleeps.waits == [1.0, 2.0, 1.0, 2.0], "forgotten: asked again with its retries"


def test_catalog_from_environment(server, policy, monkeypatch):
    monkeypatch.setenv("NOORDSTATS_CATALOG_URL", server.url)
    frame, meta = live.fetch_table("85924NED", policy=policy)
    assert meta["catalog_url"] == server.url
    assert server.requests_for("TypedDataSet")


def test_cbsodata_globals_restored(server, policy):
    live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    with pytest.raises(cbs_http.LiveUnavailableError):
        live.fetch_table("85924NED", catalog_url=closed_port_url(), policy=policy)
    assert cbsodata.options.use_https is True
    assert cbsodata3.Session is requests.Session


# --------------------------------------------------------------------------------------- CLI


def test_cli_fetch_downloads_then_reuses(server, capsys, isolated):
    assert cli.main(["fetch", "85924NED", "--catalog-url", server.url, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "85924NED: CBS Modified 2025-04-22T02:00:00" in out and "(downloaded)" in out
    assert str(isolated / "85924NED" / "2025-04-22T020000") in out
    assert cli.main(["fetch", "85924NED", "--catalog-url", server.url, "--no-progress"]) == 0
    assert "unchanged at CBS, not downloaded again" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["fetch", "NOPE", "--catalog-url", "{url}"],
         "table 'NOPE' is not in the catalog at {url}; find a table with `noordstats search"),
        (["fetch", "85-x"], "not a CBS table id: '85-x' (e.g. 85924NED)"),
        (["fetch", "83582NED", "--regions", "XX01"], "unknown region 'XX01'"),
        (["fetch", "83582NED", "--catalog-url", "ftp://x"], "not a catalog URL: 'ftp://x'"),
        (["fetch", "83582NED", "--filter", "sector", "--catalog-url", "{url}"],
         "--filter 'sector': expected DIMENSION=CODE"),
    ],
)  # fmt: skip
@pytest.mark.reliability("bad input", "noordstats fetch: bad table/region/URL", "exit 2, one line")
def test_cli_fetch_bad_input(argv, expected, capsys, isolated, server):
    argv = [a.replace("{url}", server.url) for a in argv]
    expected = expected.replace("{url}", server.url)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"noordstats: error: {expected}")
    assert not isolated.exists()


def test_cli_fetch_unreachable(capsys, monkeypatch):
    monkeypatch.setenv("NOORDSTATS_HTTP_ATTEMPTS", "1")
    url = closed_port_url()
    assert cli.main(["fetch", "85924NED", "--catalog-url", url, "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"noordstats: error: CBS not reachable at {url} (connection refused; 1 attempt) and "
        "nothing cached for 85924NED; use --source snapshot"
    ]


# ----------------------------------------------------------------------------- HTTP faults


@pytest.mark.slow
@pytest.mark.reliability("fault", "HTTP 500 in the middle of paging", "retry, then success")
def test_http_500_then_success(server, policy, sleeps):
    fault = server.add_fault("status", resource="TypedDataSet", status=500,
                             when=lambda r: r.is_follow_up_page)  # fmt: skip
    frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert fault.hits == 1
    statuses = [r.status for r in server.requests_for("TypedDataSet")]
    assert statuses == [200, 500, 200]
    assert sleeps.waits == [0.01]
    assert_same_as_snapshot(frame, "85924NED")
    assert_same_as_snapshot(live.read_cached("85924NED")[0], "85924NED")


@pytest.mark.reliability("fault", "HTTP 503 twice", "retry with exponential backoff, then success")
def test_http_503_backs_off_exponentially(server, policy, sleeps):
    server.add_fault("status", resource="DataProperties", status=503, times=2)
    live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert sleeps.waits == [0.01, 0.02]


@pytest.mark.slow
@pytest.mark.reliability("fault", "HTTP 429 with Retry-After", "waits as told, then success")
def test_http_429_honours_retry_after(server, policy, sleeps):
    server.add_fault("status", resource="TypedDataSet", status=429, headers={"Retry-After": "7"})
    frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert sleeps.waits == [7.0]
    assert_same_as_snapshot(frame, "85924NED")


@pytest.mark.reliability("fault", "HTTP 429, Retry-After too long", "gives up at once, clear error")
def test_http_429_with_too_long_retry_after_gives_up(server, policy, sleeps):
    server.add_fault("status", resource="TableInfos", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(cbs_http.LiveUnavailableError, match=r"\(HTTP 429, Retry-After 3600 s\)"):
        live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert sleeps.waits == [] and len(server.requests) == 1


@pytest.mark.reliability("fault", "HTTP 503 on every attempt", "bounded attempts, clear error")
def test_attempts_are_bounded(server, policy, sleeps, warm_cache):
    server.set_modified("83582NED", "2026-04-01T02:00:00")
    server.add_fault("status", resource="Perioden", status=503, times=None)
    with pytest.raises(cbs_http.LiveUnavailableError) as caught:
        live.fetch_table("83582NED", catalog_url=server.url, policy=policy)
    assert caught.value.reason == "HTTP 503; 3 attempts"
    assert "newest cached copy of 83582NED: CBS Modified 2025-04-22T02:00:00" in str(caught.value)
    assert [r.status for r in server.requests_for("Perioden")] == [200, 503, 503, 503]
    assert_same_frame(live.read_cached("83582NED")[0], warm_cache[0])


@pytest.mark.reliability("fault", "HTTP 404 (table not in catalog)", "no retry, clear error")
def test_http_404_is_not_retried(server, policy, sleeps):
    server.table_ids = {"83582NED"}
    with pytest.raises(cbs_http.LiveUnavailableError, match=r"\(HTTP 404 Not Found\)"):
        live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert sleeps.waits == [] and len(server.requests) == 1


@pytest.mark.reliability("fault", "connection reset while paging", "retry, then success")
def test_connection_reset_while_paging(server, policy, sleeps):
    server.add_fault("reset", resource="TypedDataSet", when=lambda r: r.is_follow_up_page)
    frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert len(sleeps.waits) == 1
    assert_same_as_snapshot(frame, "85924NED")


@pytest.mark.reliability("fault", "read timeout", "retry, then success")
def test_read_timeout_then_success(server, sleeps):
    policy = cbs_http.HttpPolicy(read_timeout=0.2, attempts=2, backoff=0.01, sleep=sleeps)
    server.add_fault("delay", resource="TableInfos", delay=0.6)
    live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert len(sleeps.waits) == 1


@pytest.mark.reliability("fault", "truncated JSON page", "retry, then success")
def test_truncated_json_then_success(server, policy, sleeps):
    server.add_fault("truncate", resource="TypedDataSet")
    frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert len(sleeps.waits) == 1
    assert_same_as_snapshot(frame, "85924NED")


@pytest.mark.reliability("fault", "odata.nextLink that loops", "stops, clear error, cache intact")
def test_looping_next_link_is_stopped(server, policy, warm_cache):
    server.set_modified("83582NED", "2026-04-01T02:00:00")

    def loop_back(body):
        return {**body, "odata.nextLink": body["odata.nextLink"].replace("skip=2000", "skip=1000")}

    server.add_fault("rewrite", resource="TypedDataSet", rewrite=loop_back, times=None,
                     when=lambda r: r.params.get("$skip") == "1000")  # fmt: skip
    before = len(server.requests_for("TypedDataSet"))
    with pytest.raises(cbs_http.LiveUnavailableError, match="loops back"):
        live.fetch_table("83582NED", catalog_url=server.url, policy=policy)
    asked = len(server.requests_for("TypedDataSet")) - before
    assert asked == 2, "the looping page is not asked again"
    assert_same_frame(live.read_cached("83582NED")[0], warm_cache[0])


@pytest.mark.reliability("fault", "CBS Modified changes between pages", "error, nothing cached")
def test_modified_changing_during_download(server, policy, isolated):
    def publish_new_version(body):
        server.set_modified("85924NED", "2026-05-01T02:00:00")
        return body

    server.add_fault("rewrite", resource="TypedDataSet", rewrite=publish_new_version,
                     when=lambda r: r.is_follow_up_page)  # fmt: skip
    with pytest.raises(cbs_http.LiveDataError, match="Modified 2025-04-22T02:00:00 -> 2026-05-01"):
        live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert not (isolated / "85924NED").exists() or not any((isolated / "85924NED").iterdir())
    frame, meta = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert meta["modified"] == "2026-05-01T02:00:00"


@pytest.mark.parametrize(
    "drift, expected",
    [
        ("remove measure", "measure(s) BbpMarktprijzen_1 no longer at CBS"),
        ("rename measure", "measure(s) BbpMarktprijzen_1 no longer at CBS"),
        ("add dimension", "dimension(s) Geslacht added at CBS"),
    ],
)
@pytest.mark.reliability("fault", "schema drift", "fallback to cache with warning naming the drift")
def test_schema_drift_falls_back_with_reason(server, policy, drift, expected):
    frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    table = server.table("85924NED")
    properties = [dict(p) for p in table.properties]
    if drift == "remove measure":
        properties = [p for p in properties if p["Key"] != "BbpMarktprijzen_1"]
    elif drift == "rename measure":
        next(p for p in properties if p["Key"] == "BbpMarktprijzen_1")["Key"] = "Bbp_1"
    else:
        properties.insert(0, {"Type": "Dimension", "Key": "Geslacht", "Title": "Geslacht"})
    server.overrides["85924NED"] = dataclasses.replace(table, properties=properties)
    server.set_modified("85924NED", "2026-06-01T02:00:00")
    with pytest.raises(cbs_http.LiveDataError, match=re.escape(f"schema drift: {expected}")):
        live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    with pytest.warns(StaleDataWarning, match=re.escape(f"schema drift: {expected}")):
        loaded = load_table("85924NED", source="auto", catalog_url=server.url)
    assert loaded.attrs["source"] == "cache"
    assert_same_frame(loaded, frame)


@pytest.mark.reliability("fault", "schema drift: a declared code gone", "clear error naming it")
def test_declared_code_missing_at_cbs(server, policy, isolated):
    table = server.table("83582NED")
    sectors = [
        {**c, "Key": "T999999"} if c["Key"].strip() == "T001081" else c
        for c in table.code_lists["BedrijfstakkenBranchesSBI2008"]
    ]
    server.overrides["83582NED"] = dataclasses.replace(
        table, code_lists={**table.code_lists, "BedrijfstakkenBranchesSBI2008": sectors}
    )
    expected = "declared BedrijfstakkenBranchesSBI2008 code(s) T001081 no longer at CBS"
    with pytest.raises(cbs_http.LiveDataError, match=re.escape(expected)):
        live.fetch_table("83582NED", catalog_url=server.url, policy=policy)
    assert server.requests_for("TypedDataSet") == [] and live.read_cached("83582NED") is None


@pytest.mark.reliability("fault", "empty table", "clear error, nothing cached")
def test_empty_table_is_an_error(server, policy, isolated):
    server.overrides["85924NED"] = dataclasses.replace(
        server.table("85924NED"), typed_rows=[], untyped_rows=[]
    )
    with pytest.raises(cbs_http.LiveDataError, match="TypedDataSet has no rows"):
        live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert live.read_cached("85924NED") is None


# ------------------------------------------------------------------ settings and pure helpers


@pytest.mark.parametrize(
    "text, host, https",
    [
        (None, "opendata.cbs.nl", True),
        ("dataderden.cbs.nl", "dataderden.cbs.nl", True),
        ("https://opendata.cbs.nl/", "opendata.cbs.nl", True),
        ("http://127.0.0.1:8765", "127.0.0.1:8765", False),
        ("http://localhost:8080/cbs", "localhost:8080/cbs", False),
    ],
)
def test_resolve_catalog(text, host, https):
    assert cbs_http.resolve_catalog(text) == cbs_http.Catalog(host, https)


@pytest.mark.parametrize("text", ["ftp://x", "http://", "a b", "http://x:123456", "https://-x"])
@pytest.mark.reliability("bad input", "malformed catalog URL", "LiveConfigError naming examples")
def test_resolve_catalog_refuses(text):
    with pytest.raises(cbs_http.LiveConfigError, match="e.g. opendata.cbs.nl"):
        cbs_http.resolve_catalog(text)


def test_policy_from_env(monkeypatch):
    monkeypatch.setenv("NOORDSTATS_HTTP_TIMEOUT", "3")
    monkeypatch.setenv("NOORDSTATS_HTTP_ATTEMPTS", "5")
    monkeypatch.setenv("NOORDSTATS_HTTP_BACKOFF", "0")
    policy = cbs_http.HttpPolicy.from_env()
    assert (policy.connect_timeout, policy.read_timeout, policy.attempts, policy.backoff) == (
        3.0, 3.0, 5, 0.0,
    )  # fmt: skip
    monkeypatch.setenv("NOORDSTATS_HTTP_TIMEOUT", "4,30")
    assert cbs_http.HttpPolicy.from_env().read_timeout == 30.0


@pytest.mark.parametrize(
    "name, value",
    [
        ("NOORDSTATS_HTTP_TIMEOUT", "soon"),
        ("NOORDSTATS_HTTP_TIMEOUT", "1,2,3"),
        ("NOORDSTATS_HTTP_ATTEMPTS", "0"),
        ("NOORDSTATS_HTTP_ATTEMPTS", "2.5"),
        ("NOORDSTATS_HTTP_BACKOFF", "-1"),
    ],
)
@pytest.mark.reliability("bad input", "malformed HTTP setting", "LiveConfigError naming it")
def test_policy_from_env_refuses(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(cbs_http.LiveConfigError, match=name):
        cbs_http.HttpPolicy.from_env()


@pytest.mark.parametrize(
    "header, seconds",
    [(None, None), ("", None), ("5", 5.0), ("0", 0.0), ("soon", None),
     ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)  # fmt: skip
def test_parse_retry_after(header, seconds):
    assert cbs_http.parse_retry_after(header) == seconds


@pytest.mark.parametrize(
    "error, reason",
    [
        (requests.ConnectTimeout("x"), "connect timed out after 3 s"),
        (requests.ReadTimeout("x"), "read timed out after 9 s"),
        (requests.ConnectionError("Pool: Read timed out. (read timeout=9)"),
         "read timed out after 9 s"),
        (requests.ConnectionError("NewConnectionError('[Errno 111] Connection refused')"),
         "connection refused"),
        (requests.ConnectionError("('Connection aborted.', ConnectionResetError(104, "
                                  "'Connection reset by peer'))"), "connection reset by peer"),
        (requests.ConnectionError("[Errno -2] Name or service not known)"),
         "name or service not known"),
        (requests.exceptions.ChunkedEncodingError("IncompleteRead(10 bytes read)"),
         "response cut off"),
    ],
)  # fmt: skip
def test_describe_request_error(error, reason):
    assert cbs_http.describe_request_error(error, (3.0, 9.0)) == reason


def test_unknown_table_names_it_and_suggests_search(server):
    with pytest.raises(cbs_http.UnknownCBSTableError, match="99999XXX.*noordstats search"):
        live.fetch_table("99999XXX", catalog_url=server.url)
    assert [r.resource for r in server.requests] == ["TableInfos"]


@pytest.mark.parametrize(
    "expression, keys",
    [
        ("RegioS eq 'PV20  '", ["PV20  "]),
        ("RegioS eq 'PV20'", []),
        ("startswith(RegioS,'PV2')", ["PV20  ", "PV21  "]),
        ("substringof('V2', RegioS) and not (RegioS eq 'PV21  ')", ["PV20  "]),
        ("(RegioS eq 'CR01  ') or startswith(RegioS, 'PV21')", ["CR01  ", "PV21  "]),
        ("Value ge 2 and Value lt 3", ["PV21  "]),
    ],
)
def test_replay_filter(expression, keys):
    rows = [{"RegioS": k, "Value": v} for k, v in [("CR01  ", 1), ("PV20  ", 3), ("PV21  ", 2)]]
    predicate = compile_filter(expression, {"RegioS", "Value"})
    assert sorted(r["RegioS"] for r in rows if predicate(r)) == keys


def test_replay_server_refuses_bad_queries(server):
    base = f"{server.url}/ODataFeed/odata/85924NED/TypedDataSet?$format=json"
    assert requests.get(base + "&$filter=RegioS eq", timeout=5).status_code == 400
    assert requests.get(base + "&$select=Nope", timeout=5).status_code == 400
    assert requests.get(f"{server.url}/ODataFeed/odata/XX/TableInfos", timeout=5).status_code == 404


# ------------------------------------------------------------------------------- real CBS


@pytest.mark.live
def test_real_cbs_fetch(policy):
    frame, meta = live.fetch_table("85924NED", regions=["NL01", "PV20"], policy=policy)
    assert meta["modified"] and meta["catalog_url"] == "https://opendata.cbs.nl"
    assert set(frame.region_code) == {"NL01", "PV20"}
    assert set(frame.measure_code) == set(declarations()["85924NED"].measures)
    assert frame.value.notna().mean() > 0.5
