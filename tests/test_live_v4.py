"""The live path over CBS's OData v4 service, end to end and offline: the v4 reader makes real
HTTP requests to the v4 replay server (tests/replay_server_v4.py), which serves the recorded
v4 table 80072ned and every snapshot table in the current v4 shape.

Expected values come from the recorded JSON (read here with ``json``) or from the snapshot
and the v3 route (the same table read both ways, compared cell by cell).
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest
import requests

from noordstats import cli
from noordstats.analysis import frames
from noordstats.declarations.tables import declarations
from noordstats.ingest import catalog, cbs_http, live
from noordstats.ingest.cbs_v4 import V4Client
from noordstats.load import StaleDataWarning, TableOrigin, load_table
from noordstats.report.page import blocks, provenance
from tests.cbs_recordings import read_body, sha256
from tests.replay_server import ReplayServer, closed_port_url, isolate_live_settings
from tests.replay_server_v4 import FIXTURES, V4ReplayServer, V4Table, recorded_2026
from tests.test_live import (
    SleepRecorder,
    _plain,
    _snapshot_tables,
    assert_codes_line_up,
    assert_same_as_snapshot,
    assert_same_frame,
)

MODIFIED = "2025-04-22T02:00:00+02:00"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    folder = isolate_live_settings(monkeypatch, tmp_path / "cache")
    monkeypatch.setenv("NOORDSTATS_API", "v4")
    return folder


@pytest.fixture(scope="module")
def shared_server():
    """One v4 server for the tests that only read (no faults, no overrides)."""
    with V4ReplayServer(page_size=1000) as replay:
        yield replay


@pytest.fixture
def server():
    with V4ReplayServer(page_size=1000) as replay:
        replay.set_modified("85924NED", MODIFIED)
        yield replay


@pytest.fixture
def sleeps():
    return SleepRecorder()


@pytest.fixture
def policy(sleeps):
    return cbs_http.HttpPolicy(
        connect_timeout=2, read_timeout=2, attempts=3, backoff=0.01, sleep=sleeps
    )


def recorded(name: str) -> object:
    return json.loads(read_body(FIXTURES / "80072ned" / f"{name}.json.gz"))


def observation_count(table_id: str, server: V4ReplayServer) -> int:
    return len(server.v4_table(table_id).observations)


# ------------------------------------------------------------------ the recordings


def test_v4_fixtures_are_the_recorded_bytes():
    """Every stored v4 body is the recorded file byte for byte: 80072ned's sha256 are in its
    PROVENANCE.md, 03759ned's and 83625NED's (those data/raw lacks) in SHA256SUMS."""
    text = (FIXTURES / "80072ned" / "PROVENANCE.md").read_text(encoding="utf-8")
    bodies = sorted((FIXTURES / "80072ned").glob("*.json.gz"))
    assert len(bodies) == 12
    for path in bodies:
        assert sha256(read_body(path)) in text, path.name
    for folder in ("03759ned", "83625NED"):
        sums = dict(
            reversed(line.split("  ")) for line in (FIXTURES / folder / "SHA256SUMS").read_text()
            .splitlines()
        )  # fmt: skip
        stored = {p.name.removesuffix(".gz") for p in (FIXTURES / folder).glob("*.json.gz")}
        assert stored == set(sums)
        for name, digest in sums.items():
            assert sha256(read_body(FIXTURES / folder / f"{name}.gz")) == digest


@pytest.mark.reliability(
    "real format",
    "OData v4 answers of the current service (83625NED, 2026: StringValue, Impossible cells)",
    "the figures of the recorded observations; Impossible cells missing with their reason",
)
def test_current_v4_recording_reads_as_recorded(raw_dir, policy):
    observations = json.loads(
        read_body(raw_dir / "cbs" / "83625NED" / "observations-page-1.json.gz")
    )["value"]
    regions, year = ["NL01", "LD01", "PV20", "GM0014"], "2024"
    with V4ReplayServer() as server:
        server.v4_overrides["83625NED"] = recorded_2026("83625NED", raw_dir)
        frame, meta = live.fetch_table(
            "83625NED", api="v4", v4_url=server.v4_url, regions=regions, periods=[int(year)],
            policy=policy,
        )  # fmt: skip
        sent = server.requests_for("Observations", "83625NED")[0].params["$filter"]
    assert "startswith(RegioS,'PV20')" in sent and "startswith(Perioden,'2024')" in sent
    wanted = [o for o in observations
              if o["RegioS"] in regions and o["Perioden"].startswith(year)]  # fmt: skip
    expected = {o["RegioS"]: o["Value"] for o in wanted if o["ValueAttribute"] == "None"}
    got = dict(zip(frame.region_code.astype(str), frame.value, strict=True))
    assert {k: v for k, v in got.items() if not pd.isna(v)} == expected and expected
    assert meta["modified"] == "2026-02-17T00:00:00+01:00"
    impossible = sum(1 for o in wanted if o["ValueAttribute"] == "Impossible")
    assert meta["value_attributes"].get("M001534: Impossible", 0) == impossible


# ------------------------------------------------------------------ a table never seen before


@pytest.mark.parametrize("page_size", [500, 10_000])  # small pages, and the recorded one page
@pytest.mark.reliability(
    "real format",
    "OData v4 table never seen (80072ned), paged or not",
    "search, info, fetch and load_table give the recorded figures",
)
def test_unseen_v4_table_search_info_fetch_load(page_size, policy, monkeypatch):
    observations = recorded("Observations")["value"]
    with V4ReplayServer(page_size=page_size) as server:
        monkeypatch.setenv("NOORDSTATS_V4_URL", server.v4_url)
        found = catalog.search_tables(["ziekteverzuim"], api="v4", v4_url=server.v4_url)
        info = catalog.table_info("80072ned", api="v4", v4_url=server.v4_url, policy=policy)
        frame, meta = live.fetch_table("80072ned", api="v4", v4_url=server.v4_url, policy=policy)
        pages = server.requests_for("Observations", "80072ned")
        loaded = load_table("80072ned", source="live", api="v4", periods=[2019])
    assert "80072ned" in set(found.table_id) and found.attrs["api"] == "v4"
    entry = next(e for e in recorded("Datasets")["value"] if e["Identifier"] == "80072ned")
    row = found.set_index("table_id").loc["80072ned"]
    assert (row.status, row.observations) == (entry["Status"], entry["ObservationCount"])
    measures = info[info.kind == "measure"]
    units = recorded("MeasureCodes")["value"]
    assert measures.key.tolist() == [m["Identifier"] for m in units]
    assert measures.unit.tolist() == [m["Unit"] for m in units]
    assert info.attrs["table"]["modified"] == "2020-06-19T02:00:00+02:00"
    periods = recorded("PeriodenCodes")["value"]
    assert info.attrs["table"]["periods"][2] == len(periods)
    # the figures: every recorded observation, by an independent route (the JSON itself)
    assert len(frame) == len(observations) and meta["api"] == "v4"
    expected = {(o["Perioden"], o["BedrijfskenmerkenSBI2008"]): o["Value"] for o in observations}
    got = dict(
        zip(zip(frame.period_code.astype(str), frame.bedrijfskenmerken_sbi2008_code.astype(str),
                strict=True), frame.value, strict=True)
    )  # fmt: skip
    assert got == expected
    status = {p["Identifier"]: p["Status"].lower() for p in periods}
    assert (frame.status.astype(str) == frame.period_code.astype(str).map(status)).all()
    assert len(pages) == math.ceil(len(observations) / page_size)
    assert set(loaded.year) == {2019} and loaded.attrs["meta"]["api"] == "v4"
    assert len(loaded) == sum(1 for o in observations if o["Perioden"].startswith("2019"))


def test_cli_search_info_fetch_over_v4(shared_server, monkeypatch, capsys):
    monkeypatch.setenv("NOORDSTATS_V4_URL", shared_server.v4_url)
    assert cli.main(["search", "ziekteverzuim", "--api", "v4"]) == 0
    assert "80072ned" in capsys.readouterr().out
    assert cli.main(["info", "80072ned", "--api", "v4"]) == 0
    out = capsys.readouterr().out
    assert "M001924" in out and "Ziekteverzuimpercentage" in out and "(OData v4)" in out
    assert cli.main(["fetch", "80072ned", "--api", "v4", "--no-progress"]) == 0
    assert "4409 rows (downloaded) over OData v4" in capsys.readouterr().out


# ------------------------------------------------------------------ every shipped table over v4


@pytest.mark.slow
@pytest.mark.parametrize("table_id", _snapshot_tables(fetchable=True))
def test_every_shipped_table_refreshes_over_v4_equal_to_snapshot(table_id, policy):
    cbs_id = declarations()[table_id].live_id
    with V4ReplayServer(page_size=1000) as server:
        cells = observation_count(cbs_id, server)
        server.page_size = max(1000, math.ceil(cells / 20))
        frame, meta = live.fetch_table(table_id, api="v4", v4_url=server.v4_url, policy=policy)
        pages = server.requests_for("Observations", cbs_id)
    if cbs_id == table_id:
        assert_same_as_snapshot(frame, table_id)
    else:
        assert_codes_line_up(frame, table_id, served=cbs_id)
    assert meta["api"] == "v4" and meta["source"] == "live"
    declared = declarations()[table_id].measures
    assert len(pages) >= 1 and all(r.status == 200 for r in pages)
    if len(declared) > 40 or cbs_id != table_id:
        return
    # a declared subset is asked by Measure; otherwise every cell travels, page by page
    assert len(pages) == math.ceil(cells / server.page_size) or "Measure eq" in pages[0].query


@pytest.mark.slow
@pytest.mark.parametrize("table_id", ["85924NED", "83582NED"])
def test_one_table_over_v3_and_v4_is_the_same_frame(table_id, policy):
    """The same table served both ways gives the same tidy frame, cell by cell."""
    with ReplayServer(page_size=2000) as v3_server:
        over_v3, meta_v3 = live.fetch_table(table_id, catalog_url=v3_server.url, api="v3",
                                            policy=policy)  # fmt: skip
    with V4ReplayServer(page_size=2000) as v4_server:
        over_v4, meta_v4 = live.fetch_table(table_id, api="v4", v4_url=v4_server.v4_url,
                                            policy=policy)  # fmt: skip
    assert (meta_v3["api"], meta_v4["api"]) == ("v3", "v4")
    v3_rows, v4_rows = _plain(over_v3), _plain(over_v4)
    keys = [c for c in v3_rows.columns if c.endswith("_code")]
    both = v3_rows.merge(v4_rows, on=keys, how="outer", suffixes=("", "_v4"), indicator=True)
    only_v3 = both[both._merge == "left_only"]
    assert only_v3.value.isna().all(), "v4 leaves out cells that are missing over v3 only"
    assert (both._merge != "right_only").all()
    same = both[both._merge == "both"]
    for column in ("region_name", "status", "measure_title", "unit"):
        assert (same[column].fillna("") == same[f"{column}_v4"].fillna("")).all(), column
    pd.testing.assert_series_equal(same.value, same.value_v4, check_names=False)
    assert meta_v4["cbs_units"] == meta_v3["cbs_units"]


# ------------------------------------------------------------------ cells with a reason


def test_value_attributes_and_string_values_are_kept_missing_never_zero(server, policy):
    table = server.v4_table("85924NED")
    observations = [dict(o) for o in table.observations]
    first, second = observations[0], observations[1]
    first.update(ValueAttribute="Confidential", Value=None)
    second.update(ValueAttribute="None", StringValue="zie toelichting")
    server.v4_overrides["85924NED"] = V4Table(
        "85924NED", table.properties, table.dimensions, table.measures, table.codes, observations
    )
    frame, meta = live.fetch_table("85924NED", api="v4", v4_url=server.v4_url, policy=policy)
    ids = {m["Identifier"]: m for m in table.measures}
    measure = [k for k, v in meta["cbs_keys"]["measures"].items() if v == first["Measure"]]
    measure = measure[0] if measure else ids[first["Measure"]]["Title"]
    cell = frame[
        (frame.region_code.astype(str) == first["RegioS"])
        & (frame.period_code.astype(str) == first["Perioden"])
        & (frame.measure_code.astype(str) == measure)
    ]
    assert len(cell) == 1 and cell.value.isna().all()
    assert meta["value_attributes"][f"{first['Measure']}: Confidential"] == 1
    assert meta["string_values"] == [
        {"measure": second["Measure"], "key": [second["RegioS"], second["Perioden"]],
         "text": "zie toelichting"}
    ]  # fmt: skip


# ------------------------------------------------------------------ auto: v4, else v3


@pytest.mark.slow
def test_auto_uses_v3_where_v4_lacks_the_table(policy, monkeypatch):
    monkeypatch.setenv("NOORDSTATS_API", "auto")
    with ReplayServer(page_size=5000) as v3_server, V4ReplayServer() as v4_server:
        v4_server.table_ids = {"83582NED"}
        frame, meta = live.fetch_table("85924NED", catalog_url=v3_server.url,
                                       v4_url=v4_server.v4_url, policy=policy)  # fmt: skip
        frame4, meta4 = live.fetch_table("83582NED", catalog_url=v3_server.url,
                                         v4_url=v4_server.v4_url, policy=policy)  # fmt: skip
        assert [r.status for r in v4_server.requests_for("Properties", "85924NED")] == [404]
    assert meta["api"] == "v3" and meta4["api"] == "v4"
    assert_same_as_snapshot(frame, "85924NED")


@pytest.mark.reliability("fault", "OData v4 unreachable (auto)", "v3 used; the origin says v3")
def test_auto_falls_back_to_v3_when_v4_fails(policy, monkeypatch):
    monkeypatch.setenv("NOORDSTATS_API", "auto")
    monkeypatch.setenv("NOORDSTATS_V4_URL", closed_port_url() + "/odata/v1")
    with ReplayServer(page_size=5000) as v3_server:
        loaded = load_table("85924NED", source="auto", catalog_url=v3_server.url)
    assert loaded.attrs["source"] == "live"
    assert TableOrigin.of(loaded).api == "v3"


@pytest.mark.reliability("fault", "both OData v3 and v4 unreachable (auto)",
                         "snapshot with a warning naming both failures")  # fmt: skip
def test_auto_with_both_services_down_uses_snapshot(monkeypatch):
    monkeypatch.setenv("NOORDSTATS_API", "auto")
    monkeypatch.setenv("NOORDSTATS_V4_URL", closed_port_url() + "/odata/v1")
    with pytest.warns(StaleDataWarning, match=r"OData v4: connection refused.*OData v3: conn"):
        loaded = load_table("85924NED", source="auto", catalog_url=closed_port_url())
    assert loaded.attrs["source"] == "snapshot" and TableOrigin.of(loaded).api is None


@pytest.mark.reliability("bad input", "unknown --api", "one line naming v3, v4, auto; exit 2")
def test_unknown_api_is_refused(capsys, monkeypatch):
    monkeypatch.setenv("NOORDSTATS_API", "v5")
    with pytest.raises(cbs_http.LiveConfigError, match="unknown CBS API 'v5'; valid: v3, v4, auto"):
        live.fetch_table("85924NED")
    with pytest.raises(SystemExit) as caught:
        cli.main(["fetch", "85924NED", "--api", "v5"])
    assert caught.value.code == 2 and "v3" in capsys.readouterr().err


@pytest.mark.reliability("bad input", "NOORDSTATS_V4_URL not a URL", "one line; exit 2")
def test_bad_v4_url_is_refused(monkeypatch):
    monkeypatch.setenv("NOORDSTATS_V4_URL", "ftp://x y")
    with pytest.raises(cbs_http.LiveConfigError, match="not an OData v4 service URL"):
        live.fetch_table("85924NED", api="v4")


# ------------------------------------------------------------------ faults over v4


@pytest.mark.slow
@pytest.mark.reliability("fault", "OData v4: HTTP 503 twice", "retry with backoff, then success")
def test_v4_503_backs_off(server, policy, sleeps):
    server.add_fault("status", resource="MeasureCodes", status=503, times=2)
    live.fetch_table("85924NED", api="v4", v4_url=server.v4_url, policy=policy)
    assert sleeps.waits == [0.01, 0.02]


@pytest.mark.slow
@pytest.mark.reliability("fault", "OData v4: HTTP 429 with Retry-After", "waits as told")
def test_v4_429_honours_retry_after(server, policy, sleeps):
    server.add_fault("status", resource="Observations", status=429, headers={"Retry-After": "7"})
    frame, _ = live.fetch_table("85924NED", api="v4", v4_url=server.v4_url, policy=policy)
    assert sleeps.waits == [7.0]
    assert_same_as_snapshot(frame, "85924NED")


@pytest.mark.slow
@pytest.mark.reliability("fault", "OData v4: connection reset while paging", "retry, success")
def test_v4_reset_while_paging(server, policy, sleeps):
    server.add_fault("reset", resource="Observations", when=lambda r: r.is_follow_up_page)
    frame, _ = live.fetch_table("85924NED", api="v4", v4_url=server.v4_url, policy=policy)
    assert len(sleeps.waits) == 1
    assert_same_as_snapshot(frame, "85924NED")


@pytest.mark.slow
@pytest.mark.reliability("fault", "OData v4: read timeout", "retry, then success")
def test_v4_read_timeout(server, sleeps):
    policy = cbs_http.HttpPolicy(read_timeout=0.2, attempts=2, backoff=0.01, sleep=sleeps)
    server.add_fault("delay", resource="Properties", delay=0.6)
    live.fetch_table("85924NED", api="v4", v4_url=server.v4_url, policy=policy)
    assert len(sleeps.waits) == 1


@pytest.mark.slow
@pytest.mark.reliability("fault", "OData v4: truncated JSON page", "retry, then success")
def test_v4_truncated_json(server, policy, sleeps):
    server.add_fault("truncate", resource="Observations", when=lambda r: r.is_follow_up_page)
    frame, _ = live.fetch_table("85924NED", api="v4", v4_url=server.v4_url, policy=policy)
    assert len(sleeps.waits) == 1
    assert_same_as_snapshot(frame, "85924NED")


@pytest.mark.reliability("fault", "OData v4: @odata.nextLink that loops", "stops, clear error")
def test_v4_looping_next_link(server, policy):
    def loop_back(body):
        link = body["@odata.nextLink"]
        return {**body, "@odata.nextLink": link.replace("skip=2000", "skip=1000")}

    server.add_fault("rewrite", resource="Observations", rewrite=loop_back, times=None,
                     when=lambda r: r.params.get("$skip") == "1000")  # fmt: skip
    with pytest.raises(cbs_http.LiveUnavailableError, match="loops back"):
        live.fetch_table("85924NED", api="v4", v4_url=server.v4_url, policy=policy)
    assert len(server.requests_for("Observations")) == 2, "the looping page is not asked again"


@pytest.mark.slow
@pytest.mark.reliability("fault", "OData v4: a measure renamed (schema drift)",
                         "not mapped; falls back to the cache naming the measure")  # fmt: skip
def test_v4_renamed_measure_is_drift(server, policy, monkeypatch):
    cached, _ = live.fetch_table("85924NED", api="v4", v4_url=server.v4_url, policy=policy)
    table = server.v4_table("85924NED")
    key = "BbpMarktprijzen_1"
    title = declarations()["85924NED"].measures[key].title
    renamed = [dict(m, Title="Bbp, nieuwe definitie") if m["Title"] == title else m
               for m in table.measures]  # fmt: skip
    assert renamed != table.measures
    server.v4_overrides["85924NED"] = V4Table(
        "85924NED", table.properties, table.dimensions, renamed, table.codes, table.observations
    )
    server.set_modified("85924NED", "2026-06-01T00:00:00+02:00")
    expected = f"measure(s) not reconciled by title and unit: {key} (no measure titled"
    with pytest.raises(cbs_http.LiveDataError, match=re.escape(expected)):
        live.fetch_table("85924NED", api="v4", v4_url=server.v4_url, policy=policy)
    monkeypatch.setenv("NOORDSTATS_V4_URL", server.v4_url)
    with pytest.warns(StaleDataWarning, match=re.escape(expected)):
        loaded = load_table("85924NED", source="auto", api="v4")
    assert loaded.attrs["source"] == "cache"
    assert_same_frame(loaded, cached)


@pytest.mark.reliability("fault", "OData v4: $filter on an unknown property", "HTTP 400, no retry")
def test_v4_400_on_unknown_filter_property(shared_server, sleeps):
    url = f"{shared_server.v4_url}/CBS/85924NED/Observations"
    answer = requests.get(url, params={"$filter": "Nope eq 'x'"}, timeout=5)
    assert answer.status_code == 400
    client = V4Client(cbs_http.resolve_v4(shared_server.v4_url),
                      cbs_http.HttpPolicy(sleep=sleeps), "85924NED")  # fmt: skip
    with pytest.raises(requests.HTTPError):
        client.get("TypedDataSet", filters="Nope eq 'x'")
    assert sleeps.waits == []


@pytest.mark.reliability("bad input", "OData v4: unknown table", "HTTP 404: one line, exit 2")
def test_v4_unknown_table(shared_server, capsys, monkeypatch):
    with pytest.raises(cbs_http.UnknownCBSTableError, match="99999XXX"):
        live.fetch_table("99999XXX", api="v4", v4_url=shared_server.v4_url)
    monkeypatch.setenv("NOORDSTATS_V4_URL", shared_server.v4_url)
    assert cli.main(["info", "99999XXX", "--api", "v4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "99999XXX" in err[0]


# ------------------------------------------------------------------ the page and the summary


@pytest.mark.slow
def test_report_status_and_summary_name_the_service(shared_server, monkeypatch):
    """The origin record (the notebook summary, the manifest, run.json) and the page's
    freshness statement say which CBS service each table came from."""
    monkeypatch.setenv("NOORDSTATS_V4_URL", shared_server.v4_url)
    shown: list[str] = []
    monkeypatch.setattr(blocks, "_show", shown.append)
    frames.load_cached.cache_clear()
    try:
        summary = provenance.build_summary(["85924NED"], "live")
        blocks.show_data_status(["85924NED"], "live", "en")
        blocks.show_data_status(["85924NED"], "live", "nl")
    finally:
        frames.load_cached.cache_clear()
    assert summary["tables"][0]["api"] == "v4" and summary["tables"][0]["source"] == "live"
    assert re.search(r"<li>85924NED: [^<]*\(over OData v4\)</li>", shown[0]), shown[0]
    assert re.search(r"<li>85924NED: [^<]*\(via OData v4\)</li>", shown[1]), shown[1]


UNSEEN_FAULTS = [
    ("HTTP 503 twice on MeasureCodes",
     lambda s: s.add_fault("status", resource="MeasureCodes", status=503, times=2)),
    ("HTTP 429 with Retry-After on Observations",
     lambda s: s.add_fault("status", resource="Observations", status=429,
                           headers={"Retry-After": "2"})),
    ("connection reset on a follow-up page",
     lambda s: s.add_fault("reset", resource="Observations", when=lambda r: r.is_follow_up_page)),
    ("truncated JSON on the first page",
     lambda s: s.add_fault("truncate", resource="Observations",
                           when=lambda r: not r.is_follow_up_page)),
    ("read timeout on the period codes",
     lambda s: s.add_fault("delay", resource="PeriodenCodes", delay=0.6)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "inject"),
    [
        pytest.param(*row, id=row[0], marks=pytest.mark.reliability(
            "fault", f"OData v4, a table never seen (80072ned): {row[0]}",
            "retry, then the recorded figures"))
        for row in UNSEEN_FAULTS
    ],
)  # fmt: skip
def test_unseen_v4_table_through_faults(case, inject, sleeps):
    policy = cbs_http.HttpPolicy(read_timeout=0.3, attempts=3, backoff=0.01, sleep=sleeps)
    observations = recorded("Observations")["value"]
    with V4ReplayServer(page_size=1000) as server:
        inject(server)
        frame, meta = live.fetch_table("80072ned", api="v4", v4_url=server.v4_url, policy=policy)
        assert sum(f.hits for f in server.faults) >= 1
    assert sleeps, "the fault was retried"
    expected = {(o["Perioden"], o["BedrijfskenmerkenSBI2008"]): o["Value"] for o in observations}
    got = dict(
        zip(zip(frame.period_code.astype(str), frame.bedrijfskenmerken_sbi2008_code.astype(str),
                strict=True), frame.value, strict=True)
    )  # fmt: skip
    assert got == expected and meta["api"] == "v4"


@pytest.mark.slow
def test_auto_search_reads_both_catalogs(monkeypatch):
    """v4's catalog is a partial subset of StatLine: ``auto`` lists both, saying which service
    has each table; with v4 down, v3's alone."""
    monkeypatch.setenv("NOORDSTATS_API", "auto")
    monkeypatch.setenv("NOORDSTATS_HTTP_TIMEOUT", "5,30")  # the v3 server builds every table
    with ReplayServer() as v3_server, V4ReplayServer() as v4_server:
        found = catalog.search_tables([], catalog_url=v3_server.url, v4_url=v4_server.v4_url)
        by_id = dict(zip(found.table_id.str.lower(), found.api, strict=True))
        v3_only = catalog.search_tables(
            [], catalog_url=v3_server.url, v4_url=closed_port_url() + "/odata/v1"
        )
    assert by_id["80072ned"] == "v4", "recorded in v4's catalog only"
    assert by_id["85924ned"] == "v3 v4"
    assert "v3" in set(found.api) and found.attrs["api"] == "v4 and v3"
    assert set(v3_only.api) == {"v3"} and v3_only.attrs["api"] == "v3"
    assert "80072ned" not in set(v3_only.table_id.str.lower())


@pytest.mark.reliability("bad input", "reports --api v5", "argparse names v3, v4, auto; exit 2")
def test_reports_refuse_an_unknown_api(capsys, tmp_path):
    with pytest.raises(SystemExit) as caught:
        cli.main(["reports", "--api", "v5", "--out", str(tmp_path / "out")])
    assert caught.value.code == 2
    assert "'v3', 'v4', 'auto'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
