"""The live fault matrix of ``tests/test_reliability_live.py`` over CBS's OData v4 service: the
same faults, injected into the v4 replay server at the v4 resource that plays the v3 one's part
(``Observations`` for TypedDataSet, ``MeasureCodes`` for DataProperties, ``Properties`` for
TableInfos, ``PeriodenCodes`` for Perioden), each with a warm cache of the declared table
85924NED. An absorbed fault gives the new version, equal to the snapshot, cached whole, the older
entry intact; an unabsorbed one is named in one line, leaves the cache byte for byte as it was,
and ``load_table(source='auto')`` falls back to it. Schema drift over v4 is in
``tests/test_live_v4.py`` and ``tests/test_structure.py``.
"""

from __future__ import annotations

import itertools
import re

import pytest

from noordstats.ingest import cbs_http, live
from noordstats.load import StaleDataWarning, load_table
from tests.reliability_env import describe_difference, tree_digest
from tests.replay_server_v4 import V4ReplayServer, V4Table
from tests.test_live import assert_same_as_snapshot, assert_same_frame
from tests.test_reliability_live import NEW, OLD, RECOVERED, REFUSED, Sleeps

TABLE = "85924NED"
#: observations a page: 85924NED has 15 declared measures over 1,653 rows: 5 pages
PAGE_SIZE = 5000
V4_RESOURCES = {
    "TypedDataSet": "Observations",
    "DataProperties": "MeasureCodes",
    "TableInfos": "Properties",
    "Perioden": "PeriodenCodes",
}


class FaultyV4Server(V4ReplayServer):
    """Faults named by the v3 resource land on the v4 resource that plays its part."""

    def add_fault(self, action: str, **options):
        if options.get("resource") in V4_RESOURCES:
            options["resource"] = V4_RESOURCES[options["resource"]]
        return super().add_fault(action, **options)


def _looping(server: FaultyV4Server) -> None:
    """The last page links back to the one before it."""
    seen: dict[str, str] = {}

    def loop_back(body: dict) -> dict:
        if "@odata.nextLink" in body:
            seen["next"] = body["@odata.nextLink"]
            return body
        return {**body, "@odata.nextLink": seen["next"]}

    server.add_fault("rewrite", resource="Observations", rewrite=loop_back, times=None)


def _empty(server: FaultyV4Server) -> None:
    table = server.v4_table(TABLE)
    server.v4_overrides[TABLE] = V4Table(
        TABLE, table.properties, table.dimensions, table.measures, table.codes, []
    )


def _moving_modified(server: FaultyV4Server) -> None:
    """CBS publishes a new version while the observations are being paged (every page)."""
    versions = itertools.count()

    def publish_again(body: dict) -> dict:
        day = next(versions) % 28 + 1
        server.set_modified(TABLE, f"2026-03-{day:02d}T02:00:00")
        return body

    server.add_fault("rewrite", resource="Observations", rewrite=publish_again, times=None,
                     when=lambda r: r.is_follow_up_page)  # fmt: skip


def _v4_reason(reason: str) -> str:
    """A v3 case's expected message, for the v4 service's URL and resources."""
    reason = reason.replace(r"127\.0\.0\.1:\d+ ", r"127\.0\.0\.1:\d+/odata/v1 ")
    return reason.replace(r"odata\.nextLink of TypedDataSet", r"odata\.nextLink of Observations")


REFUSED_V4 = [
    (case, {"odata.nextLink that loops back": _looping, "empty table": _empty,
            "CBS Modified moves between two pages": _moving_modified}.get(case, inject),
     error, _v4_reason(reason))
    for case, inject, error, reason in REFUSED
    if not case.startswith("schema drift")
]  # fmt: skip


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NOORDSTATS_CACHE_DIR", str(folder))
    monkeypatch.setenv("NOORDSTATS_API", "v4")
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


@pytest.fixture
def server(cache_dir, policy, monkeypatch):
    """The v4 replay server, after a first download of 85924NED at OLD; it now announces NEW."""
    with FaultyV4Server(page_size=PAGE_SIZE) as replay:
        monkeypatch.setenv("NOORDSTATS_V4_URL", replay.v4_url)
        replay.set_modified(TABLE, OLD)
        live.fetch_table(TABLE, api="v4", v4_url=replay.v4_url, policy=policy)
        replay.set_modified(TABLE, NEW)
        replay.requests.clear()
        replay.table_under_test = TABLE
        yield replay


def _mark(case: str, expected: str):
    return pytest.mark.reliability("fault", f"live fetch over OData v4, warm cache: {case}",
                                   expected)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "inject", "waits"),
    [
        pytest.param(*row, id=row[0], marks=_mark(row[0],
            "retry, then the new version, equal to the snapshot, cached whole; old entry intact"))
        for row in RECOVERED
    ],
)  # fmt: skip
def test_absorbed_fault_over_v4(server, policy, sleeps, cache_dir, case, inject, waits):
    old_entry = cache_dir / TABLE / "2025-04-22T020000"
    old_files = tree_digest(old_entry)
    inject(server)
    frame, meta = live.fetch_table(TABLE, api="v4", v4_url=server.v4_url, policy=policy)
    assert sleeps == waits and meta["modified"] == NEW and meta["api"] == "v4"
    assert_same_as_snapshot(frame, TABLE)
    assert tree_digest(old_entry) == old_files, "the older entry is untouched"
    assert sorted(p.name for p in (cache_dir / TABLE).iterdir()) == [
        "2025-04-22T020000", "2026-02-01T020000"
    ]  # fmt: skip
    cached, cached_meta = live.read_cached(TABLE)
    assert cached_meta["modified"] == NEW
    assert_same_frame(cached, frame)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "inject", "error", "reason"),
    [
        pytest.param(*row, id=row[0], marks=_mark(row[0],
            "one-line error naming the table and the fault; cache byte-for-byte unchanged; "
            "auto falls back to it with a warning"))
        for row in REFUSED_V4
    ],
)  # fmt: skip
def test_unabsorbed_fault_over_v4(server, policy, cache_dir, case, inject, error, reason):
    before = tree_digest(cache_dir)
    warm, _ = live.read_cached(TABLE)
    inject(server)
    with pytest.raises(error) as caught:
        live.fetch_table(TABLE, api="v4", v4_url=server.v4_url, policy=policy)
    message = str(caught.value)
    assert "\n" not in message and re.search(reason, message), message
    assert f"newest cached copy of {TABLE}: CBS Modified {OLD}" in message
    after = tree_digest(cache_dir)
    assert after == before, describe_difference(before, after)
    with pytest.warns(StaleDataWarning) as warned:
        loaded = load_table(TABLE, source="auto", api="v4")
    assert re.search(reason, str(warned[0].message))
    assert loaded.attrs["source"] == "cache" and loaded.attrs["meta"]["modified"] == OLD
    assert_same_frame(loaded, warm)
    assert tree_digest(cache_dir) == before
