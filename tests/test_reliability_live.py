"""The CBS faults of the live path, each with a warm cache: what the fetch does, and that the
cache is intact afterwards, read back and compared.

Before every case the cache holds a complete download of 85924NED (CBS Modified 2025-04-22) and
the replay server announces a newer version, so each case really downloads. The same faults
(schema drift aside: an undeclared table has no declared schema to drift from) are tried on
80137ned, a table declared nowhere, read from its own metadata (the recorded CBS answers). A
fault the retry logic should absorb must give the new version, equal to the snapshot, written to
the cache as a whole entry, with the older entry byte-for-byte as it was. A fault it cannot
absorb must raise an error naming the table and what went wrong, leave the cache byte-for-byte
as it was, and let ``load_table(source='auto')`` fall back to the older entry with a warning
that says why. A ``noordstats fetch`` killed with SIGKILL in the middle of paging leaves the
cache as it was.
"""

from __future__ import annotations

import dataclasses
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from noordstats import paths
from noordstats.ingest import cbs_http, live
from noordstats.load import StaleDataWarning, load_table
from tests.reliability_env import describe_difference, tree_digest
from tests.replay_server import ReplayServer
from tests.test_live import assert_same_as_snapshot, assert_same_frame

TABLE = "85924NED"
UNDECLARED = "80137ned"
OLD = "2025-04-22T02:00:00"
NEW = "2026-02-01T02:00:00"
#: rows per page: 85924NED has 1,653 rows (two pages), 80137ned 675 (three pages)
PAGE_SIZES = {TABLE: 1000, UNDECLARED: 300}


class Sleeps(list):
    """Stands in for time.sleep: records the waits."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NOORDSTATS_CACHE_DIR", str(folder))
    monkeypatch.delenv("NOORDSTATS_CATALOG_URL", raising=False)
    # what load_table(source="auto") uses: one quick attempt
    monkeypatch.setenv("NOORDSTATS_HTTP_ATTEMPTS", "1")
    monkeypatch.setenv("NOORDSTATS_HTTP_TIMEOUT", "2,0.8")
    return folder


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def policy(sleeps):
    return cbs_http.HttpPolicy(connect_timeout=2, read_timeout=1, attempts=3, backoff=0.01,
                           sleep=sleeps)  # fmt: skip


@pytest.fixture(params=[TABLE, UNDECLARED], ids=["declared", "undeclared"])
def table(request):
    return request.param


@pytest.fixture
def server(cache_dir, policy, table):
    """The replay server, after a first download of ``table`` at OLD into the cache; it now
    announces NEW."""
    with ReplayServer(page_size=PAGE_SIZES[table]) as replay:
        replay.set_modified(table, OLD)
        live.fetch_table(table, catalog_url=replay.url, policy=policy)
        replay.set_modified(table, NEW)
        replay.requests.clear()
        replay.table_under_test = table
        yield replay


def assert_as_served(frame, table: str, server: ReplayServer) -> None:
    """The declared table equals its snapshot; the undeclared one a download of it read
    without the cache (download_table)."""
    if table == TABLE:
        assert_same_as_snapshot(frame, table)
    else:
        reference, _ = live.download_table(table, catalog_url=server.url)
        assert_same_frame(frame, reference)


def _follow_up(record) -> bool:
    return record.is_follow_up_page


def _drift(change: Callable[[list[dict]], list[dict]]) -> Callable[[ReplayServer], None]:
    def apply(server: ReplayServer) -> None:
        table = server.table(server.table_under_test)
        properties = change([dict(p) for p in table.properties])
        server.overrides[server.table_under_test] = dataclasses.replace(
            table, properties=properties
        )

    return apply


def _rename_measure(properties: list[dict]) -> list[dict]:
    next(p for p in properties if p["Key"] == "BbpMarktprijzen_1")["Key"] = "BbpMarktprijzen_9"
    return properties


def _empty(server: ReplayServer) -> None:
    server.overrides[server.table_under_test] = dataclasses.replace(
        server.table(server.table_under_test), typed_rows=[], untyped_rows=[]
    )


def _moving_modified(server: ReplayServer) -> None:
    """CBS publishes a new version while the rows are being paged (every time)."""
    versions = iter(f"2026-03-{day:02d}T02:00:00" for day in range(1, 29))

    def publish_again(body: dict) -> dict:
        server.set_modified(server.table_under_test, next(versions))
        return body

    server.add_fault("rewrite", resource="TypedDataSet", rewrite=publish_again, times=None,
                     when=_follow_up)  # fmt: skip


def _looping(server: ReplayServer) -> None:
    """The last page links back to itself."""
    seen: dict[str, str] = {}

    def loop_back(body: dict) -> dict:
        if "odata.nextLink" in body:
            seen["next"] = body["odata.nextLink"]
            return body
        return {**body, "odata.nextLink": seen["next"]}

    server.add_fault("rewrite", resource="TypedDataSet", rewrite=loop_back, times=None)


RECOVERED = [
    ("HTTP 500 on the second page",
     lambda s: s.add_fault("status", resource="TypedDataSet", status=500, when=_follow_up),
     [0.01]),
    ("HTTP 503 twice on the measure list",
     lambda s: s.add_fault("status", resource="DataProperties", status=503, times=2),
     [0.01, 0.02]),
    ("HTTP 429 with Retry-After: 3",
     lambda s: s.add_fault("status", resource="TypedDataSet", status=429,
                           headers={"Retry-After": "3"}),
     [3.0]),
    ("connection reset on the second page",
     lambda s: s.add_fault("reset", resource="TypedDataSet", when=_follow_up), [0.01]),
    ("read timeout on the period list",
     lambda s: s.add_fault("delay", resource="Perioden", delay=1.3), [0.01]),
    ("truncated JSON on the first page",
     lambda s: s.add_fault("truncate", resource="TypedDataSet", when=lambda r: not _follow_up(r)),
     [0.01]),
]  # fmt: skip

REFUSED = [
    ("HTTP 503 on every attempt",
     lambda s: s.add_fault("status", resource="TypedDataSet", status=503, times=None),
     cbs_http.LiveUnavailableError, r"CBS not reachable at http://127\.0\.0\.1:\d+ \(HTTP 503; "),
    ("HTTP 429 with a Retry-After of an hour",
     lambda s: s.add_fault("status", resource="TableInfos", status=429, times=None,
                           headers={"Retry-After": "3600"}),
     cbs_http.LiveUnavailableError, r"\(HTTP 429, Retry-After 3600 s\)"),
    ("HTTP 500 on every attempt at the second page",
     lambda s: s.add_fault("status", resource="TypedDataSet", status=500, times=None,
                           when=_follow_up),
     cbs_http.LiveUnavailableError, r"\(HTTP 500; "),
    ("connection reset on every attempt",
     lambda s: s.add_fault("reset", resource="DataProperties", times=None),
     cbs_http.LiveUnavailableError, r"\((connection reset by peer|remote end closed connection "
                                r"without response|connection aborted); "),
    ("read timeout on every attempt",
     lambda s: s.add_fault("delay", resource="TableInfos", delay=1.3, times=None),
     cbs_http.LiveUnavailableError, r"\(read timed out after [\d.]+ s; "),
    ("truncated JSON on every attempt",
     lambda s: s.add_fault("truncate", resource="TypedDataSet", times=None, when=_follow_up),
     cbs_http.LiveUnavailableError, r"\(broken JSON in the response; "),
    ("odata.nextLink that loops back", _looping,
     cbs_http.LiveUnavailableError, r"odata\.nextLink of TypedDataSet loops back"),
    ("schema drift: a measure renamed", _drift(_rename_measure),
     cbs_http.LiveDataError, r"schema drift: measure\(s\) BbpMarktprijzen_1 no longer at CBS"),
    ("schema drift: a dimension added",
     _drift(lambda p: [{"Type": "Dimension", "Key": "Sector", "Title": "Sector"}, *p]),
     cbs_http.LiveDataError, r"schema drift: dimension\(s\) Sector added at CBS"),
    ("schema drift: the region dimension removed",
     _drift(lambda p: [x for x in p if x["Key"] != "RegioS"]),
     cbs_http.LiveDataError, r"schema drift: dimension\(s\) RegioS no longer at CBS"),
    ("empty table", _empty, cbs_http.LiveDataError, r"TypedDataSet has no rows"),
    ("CBS Modified moves between two pages", _moving_modified,
     cbs_http.LiveDataError, r"table changed during download: Modified 2026-0\d-\d\dT02:00:00 -> "
                         r"2026-03-\d\dT02:00:00"),
]  # fmt: skip


def _mark(kind: str, case: str, expected: str):
    return pytest.mark.reliability(kind, case, expected)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "inject", "waits"),
    [
        pytest.param(*row, id=row[0], marks=_mark(
            "fault", f"live fetch, warm cache: {row[0]}",
            "retry, then the new version, equal to the snapshot, cached whole; old entry intact"))
        for row in RECOVERED
    ],
)  # fmt: skip
def test_absorbed_fault_gives_the_new_version_and_keeps_the_old(
    server, policy, sleeps, cache_dir, case, inject, waits, table
):
    old_entry = cache_dir / table / "2025-04-22T020000"
    old_files = tree_digest(old_entry)
    inject(server)
    frame, meta = live.fetch_table(table, catalog_url=server.url, policy=policy)
    assert sleeps == waits
    assert meta["modified"] == NEW
    assert_as_served(frame, table, server)
    assert tree_digest(old_entry) == old_files, "the older entry is untouched"
    entries = sorted(p.name for p in (cache_dir / table).iterdir())
    assert entries == ["2025-04-22T020000", "2026-02-01T020000"], "no leftovers"
    cached, cached_meta = live.read_cached(table)
    assert cached_meta["modified"] == NEW
    assert_same_frame(cached, frame)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("table", "case", "inject", "error", "reason"),
    [
        pytest.param(table, *row, id=f"{kind}-{row[0]}", marks=_mark(
            "fault", f"live fetch, warm cache: {row[0]}",
            "one-line error naming the table and the fault; cache byte-for-byte unchanged; "
            "auto falls back to it with a warning"))
        for table, kind in ((TABLE, "declared"), (UNDECLARED, "undeclared"))
        for row in REFUSED
        # an undeclared table has no declared schema to drift from
        if not (table == UNDECLARED and row[0].startswith("schema drift"))
    ],
)  # fmt: skip
def test_unabsorbed_fault_is_named_and_the_cache_is_kept(
    server, policy, cache_dir, case, inject, error, reason, table
):
    before = tree_digest(cache_dir)
    warm, warm_meta = live.read_cached(table)
    inject(server)
    with pytest.raises(error) as caught:
        live.fetch_table(table, catalog_url=server.url, policy=policy)
    message = str(caught.value)
    assert "\n" not in message and re.search(reason, message), message
    assert table in message and f"newest cached copy of {table}: CBS Modified {OLD}" in message
    after = tree_digest(cache_dir)
    assert after == before, describe_difference(before, after)
    with pytest.warns(StaleDataWarning) as warned:
        loaded = load_table(table, source="auto", catalog_url=server.url)
    text = str(warned[0].message)
    assert re.search(reason, text) and f"the cached copy of {table}" in text
    assert loaded.attrs["source"] == "cache" and loaded.attrs["meta"]["modified"] == OLD
    assert_same_frame(loaded, warm)
    assert tree_digest(cache_dir) == before


_FETCH = """
import sys
from noordstats import cli
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.reliability(
    "fault", "noordstats fetch killed (kill -9) in the middle of paging",
    "cache byte-for-byte unchanged; the next fetch completes and equals the snapshot",
)  # fmt: skip
def test_fetch_killed_while_paging_leaves_the_cache_as_it_was(server, cache_dir, policy, table):
    server.add_fault("delay", resource="TypedDataSet", delay=30, when=_follow_up)
    before = tree_digest(cache_dir)
    fetch = subprocess.Popen(
        [sys.executable, "-c", _FETCH, "fetch", table, "--catalog-url", server.url,
         "--no-progress"],
        cwd=paths.PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            r.is_follow_up_page for r in server.requests_for("TypedDataSet")
        ):
            time.sleep(0.05)
        assert server.requests_for("TypedDataSet"), "the fetch reached the data pages"
    finally:
        fetch.send_signal(signal.SIGKILL)
        fetch.wait(timeout=30)
    assert fetch.returncode == -signal.SIGKILL
    after = tree_digest(cache_dir)
    assert after == before, describe_difference(before, after)
    server.faults.clear()
    frame, meta = live.fetch_table(table, catalog_url=server.url, policy=policy)
    assert meta["modified"] == NEW
    assert_as_served(live.read_cached(table)[0], table, server)
