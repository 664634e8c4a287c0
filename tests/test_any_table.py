"""Any CBS table, no declaration needed: found by ``search``, described by ``info``, fetched
tidy and cached, with filters pushed down to CBS; declared tables whose snapshot codes were
rebuilt from labels, reconciled through CBS's titles. Against the replay server
(tests/replay_server.py), which serves the recorded CBS answers (80137ned, 84799NED), every
shipped table with CBS-style keys, and a catalog with decoys."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pandas as pd
import pytest

import noordstats
from noordstats import cli
from noordstats.declarations.tables import declarations
from noordstats.ingest import catalog, cbs_http, live
from noordstats.ingest.selection import SelectionError
from noordstats.load import load_table
from tests import cbs_recordings
from tests.reliability_env import describe_difference, tree_digest
from tests.replay_server import ReplayServer, closed_port_url, isolate_live_settings
from tests.test_cbs_wire_format import FIXTURES
from tests.test_live import assert_same_as_snapshot, assert_same_frame


def recorded(folder: str, name: str) -> list[dict]:
    return json.loads(gzip.decompress((FIXTURES / folder / f"{name}.json.gz").read_bytes()))[
        "value"
    ]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    return isolate_live_settings(monkeypatch, tmp_path / "cache", "5,30")


@pytest.fixture
def server():
    with ReplayServer(page_size=1000) as replay:
        yield replay


@pytest.fixture
def policy():
    return cbs_http.HttpPolicy(connect_timeout=5, read_timeout=30, attempts=2, backoff=0.01,
                               sleep=lambda seconds: None)  # fmt: skip


class RowCounter:
    """A progress callback: rows transferred per resource."""

    def __init__(self):
        self.rows: dict[str, int] = {}

    def __call__(self, table: str, resource: str, count: int) -> None:
        self.rows[resource] = self.rows.get(resource, 0) + count


# ------------------------------------------------------------------------ search and info


@pytest.mark.slow
def test_search_pages_through_the_catalog_and_skips_decoys(monkeypatch):
    with ReplayServer(page_size=10) as server:
        monkeypatch.setenv("NOORDSTATS_CATALOG_URL", server.url)
        found = noordstats.search_tables(["arbeidsrekeningen"])
        pages = server.requests_for("Tables")
        served = len(server.catalog_rows(server.url))
    assert found.table_id.tolist() == ["80137ned"]
    assert found.loc[0, "modified"] == "2009-07-10" and found.loc[0, "frequency"] == "Perjaar"
    assert len(pages) == -(-served // 10) > 1, "every page of the catalog is read"
    assert found.attrs["requests"] == len(pages)


def test_search_every_word_and_regional_only(server):
    banen = catalog.search_tables(["banen", "werknemers"], catalog_url=server.url)
    titles = banen.title.str.lower()
    assert len(banen) >= 3 and (titles.str.contains("banen") | banen.summary.str.lower()
                                .str.contains("banen")).all()  # fmt: skip
    regional = catalog.search_tables(["banen"], regional=True, catalog_url=server.url)
    assert "83582NED" in set(regional.table_id)
    assert "80137ned" not in set(regional.table_id), "80137ned has no region dimension"
    assert "84669NED" not in set(regional.table_id), "a decoy the server does not serve"


@pytest.mark.reliability("bad input", "search: catalog unreachable", "exit 1, one line")
def test_search_unreachable_catalog_is_one_line(capsys):
    url = closed_port_url()
    assert cli.main(["search", "banen", "--catalog-url", url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"noordstats: error: CBS catalog not readable at {url}/ODataCatalog/Tables (connection"
    )


@pytest.mark.parametrize(
    "garbage",
    [
        lambda body: {"value": "not a list"},
        lambda body: {"value": [{"Title": "no identifier"}]},
    ],
    ids=["value not a list", "entries without Identifier"],
)
@pytest.mark.reliability(
    "bad input", "search: the catalog answers garbage", "exit 1, one line, cache untouched"
)
def test_search_garbage_catalog_is_one_line_and_cache_untouched(garbage, server, capsys, isolated):
    live.fetch_table("85924NED", catalog_url=server.url)
    before = tree_digest(isolated)
    server.add_fault("rewrite", resource="Tables", rewrite=garbage, times=None)
    assert cli.main(["search", "banen", "--catalog-url", server.url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CBS catalog not readable at" in err[0]
    assert tree_digest(isolated) == before, describe_difference(before, tree_digest(isolated))


def test_info_describes_an_undeclared_table(server, capsys):
    info = noordstats.table_info("80137ned", catalog_url=server.url)
    table = info.attrs["table"]
    assert table["title"] == "Arbeidsrekeningen; leeftijd en opleidingsniveau"
    assert table["modified"] == "2009-07-10T02:00:00" and table["declared"] is False
    assert table["periods"] == ["2001JJ00", "2005JJ00", 5]
    dims = info[info.kind != "measure"].set_index("key")
    assert dims.categories.to_dict() == {
        key: len(recorded("80137ned", key))
        for key in ("Perioden", "Persoonskenmerken", "BedrijfstakkenSBI93")
    }
    properties = recorded("80137ned", "DataProperties")
    units = {p["Key"]: p["Unit"] for p in properties if p["Type"] == "Topic"}
    measures = info[info.kind == "measure"].set_index("key")
    assert measures.unit.to_dict() == units
    assert cli.main(["info", "80137ned", "--catalog-url", server.url]) == 0
    out = capsys.readouterr().out
    assert "80137ned: Arbeidsrekeningen" in out and "periods 2001JJ00..2005JJ00 (5)" in out


def test_info_gives_region_levels(server):
    info = catalog.table_info("83582NED", catalog_url=server.url)
    region = info[info.kind == "region"].iloc[0]
    assert region.levels == "NL:1 LD:4 PV:12 CR:40"
    assert info.attrs["table"]["declared"] is True


@pytest.mark.parametrize(
    "argv, expected, status",
    [
        (["info", "99999ZZZ"], "table '99999ZZZ' is not in the catalog at {url}; find a table "
         "with `noordstats search WORDS`", 2),
        (["fetch", "99999ZZZ", "--no-progress"], "table '99999ZZZ' is not in the catalog", 2),
        (["info", "85/x"], "not a CBS table id: '85/x'", 2),
        (["fetch", "80137ned", "--filter", "Nope=1", "--no-progress"],
         "80137ned has no dimension 'Nope' to filter on; dimensions: Persoonskenmerken, "
         "BedrijfstakkenSBI93", 2),
        (["fetch", "80137ned", "--filter", "BedrijfstakkenSBI93=T001081", "--no-progress"],
         "80137ned: 'T001081' not in 'BedrijfstakkenSBI93'; valid: 01, 02, 03", 2),
        (["fetch", "80137ned", "--periods", "1999", "--no-progress"],
         "80137ned: period(s) 1999 not in the table; it has 2001JJ00..2005JJ00", 2),
        (["fetch", "80137ned", "--regions", "PV20", "--no-progress"],
         "80137ned has no region dimension", 2),
        (["fetch", "85925NED", "--filter", "sector=Z", "--no-progress"],
         "85925NED: 'Z' not in 'sector'; valid: ", 2),
        (["search", "banen", "--format", "xml"], "unknown format 'xml'", 2),
    ],
)  # fmt: skip
@pytest.mark.reliability(
    "bad input", "any table: unknown id, dimension, code, period or region",
    "one line naming it and the valid ones (or `noordstats search`); exit 2; nothing cached",
)  # fmt: skip
def test_bad_input_is_one_line(argv, expected, status, server, capsys, isolated):
    assert cli.main([*argv, "--catalog-url", server.url]) == status
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("noordstats: error: " + expected.replace("{url}", server.url))
    assert not isolated.exists() or not any(isolated.rglob("*.parquet")), "nothing half-written"
    assert server.requests_for("TypedDataSet") == [], "refused before the rows travel"


# ------------------------------------------------------------------ fetch any table, tidy


def test_undeclared_table_is_fetched_tidy_and_cached(server, policy):
    frame = load_table("80137ned", source="live", catalog_url=server.url)
    reference, _ = live.download_table("80137ned", catalog_url=server.url, policy=policy)
    assert frame.attrs["source"] == "live" and frame.attrs["meta"]["declared"] is False
    assert frame.attrs["meta"]["modified"] == "2009-07-10T02:00:00"
    assert_same_frame(frame, reference)
    assert {"persoonskenmerken_code", "bedrijfstakken_sbi93_name"} <= set(frame.columns)
    assert set(frame.region_code) == {"NL01"} and len(frame) == 675 * 12
    before = len(server.requests)
    again = load_table("80137ned", source="auto", catalog_url=server.url)
    assert [r.resource for r in server.requests[before:]] == ["TableInfos"]
    assert_same_frame(again, frame)
    with pytest.warns(noordstats.load.StaleDataWarning, match="cached copy of 80137ned"):
        cached = load_table("80137ned", source="auto", catalog_url=closed_port_url())
    assert cached.attrs["source"] == "cache"
    assert_same_frame(cached, frame)


def test_undeclared_table_without_cache_and_catalog_is_an_error():
    with pytest.raises(cbs_http.LiveUnavailableError, match="nothing cached for 80137ned"):
        load_table("80137ned", source="auto", catalog_url=closed_port_url())


@pytest.mark.slow
def test_geodetail_table_fetched_with_a_region_filter(server, policy):
    properties = cbs_recordings.converted_84799ned()["DataProperties"].rows
    assert any(p["Type"] == "GeoDetail" for p in properties)
    everything, _ = live.download_table("84799NED", catalog_url=server.url, policy=policy)
    wanted = sorted(everything.region_code.astype(str).unique())[:3]
    counter = RowCounter()
    frame, meta = live.fetch_table(
        "84799NED", catalog_url=server.url, regions=wanted, policy=policy, progress=counter
    )
    assert sorted(frame.region_code.astype(str).unique()) == wanted
    assert counter.rows["TypedDataSet"] == len(wanted), "only the asked regions travelled"
    expected = everything[everything.region_code.isin(wanted)].reset_index(drop=True)
    assert_same_frame(frame, expected)
    assert meta["completeness"] == "partial" and meta["selection"]["regions"] == wanted


@pytest.mark.reliability(
    "fault", "filters on an undeclared table", "sent to CBS as $filter: only those rows travel"
)
def test_filters_are_pushed_down_to_cbs(server, policy, isolated):
    counter = RowCounter()
    frame, meta = live.fetch_table(
        "80137ned", catalog_url=server.url, policy=policy, progress=counter,
        periods=[2003], filters={"BedrijfstakkenSBI93": ["01", "02"]},
    )  # fmt: skip
    sent = server.requests_for("TypedDataSet")[0].params["$filter"]
    assert sent == (
        "(startswith(Perioden,'2003')) and "
        "(BedrijfstakkenSBI93 eq '01' or BedrijfstakkenSBI93 eq '02')"
    )
    persons = len(recorded("80137ned", "Persoonskenmerken"))
    assert counter.rows["TypedDataSet"] == persons * 2, "1 period x 2 sectors x every person"
    assert set(frame.bedrijfstakken_sbi93_code) == {"01", "02"} and set(frame.year) == {2003}
    entries = sorted(p.name for p in (isolated / "80137ned").iterdir())
    assert entries == ["2009-07-10T020000~periods=2003;BedrijfstakkenSBI93=01+02"]
    whole, _ = live.fetch_table("80137ned", catalog_url=server.url, policy=policy)
    before = len(server.requests)
    subset = load_table("80137ned", source="live", catalog_url=server.url,
                        regions="NL01", filters={"bedrijfstakken_sbi93": "03"})  # fmt: skip
    assert [r.resource for r in server.requests[before:]] == ["TableInfos"], "from the cache"
    expected = whole[whole.bedrijfstakken_sbi93_code == "03"].reset_index(drop=True)
    assert_same_frame(subset, expected)


def test_declared_label_table_filtered_by_its_own_codes(server, policy):
    counter = RowCounter()
    frame, meta = live.fetch_table(
        "85925NED", catalog_url=server.url, policy=policy, progress=counter,
        regions=["PV20", "PV21"], filters={"sector": ["A-U"]},
    )  # fmt: skip
    key = server.table("85925NED").code_lists["BedrijfstakkenBranchesSBI2008"]
    total = next(c["Key"] for c in key if c["Title"].startswith("A-U"))
    sent = server.requests_for("TypedDataSet")[0].params["$filter"]
    assert f"BedrijfstakkenBranchesSBI2008 eq '{total}'" in sent and total.strip() == "T001081"
    snapshot = load_table("85925NED", regions=["PV20", "PV21"], filters={"sector": "A-U"})
    assert counter.rows["TypedDataSet"] == len(snapshot) // 9, "9 measures per row"
    assert set(frame.sector_code) == {"A-U"} and len(frame) == len(snapshot)


# -------------------------------------------------------------- every shipped table, reconciled


def test_every_shipped_cbs_table_is_refreshable():
    refused = {t: live.live_problem(d) for t, d in declarations().items() if live.live_problem(d)}
    assert refused == {"duo-hbo": "a DUO table, not at CBS"}


@pytest.mark.reliability(
    "fault",
    "CBS renames a category and gives another one a colliding title",
    "rows kept; the categories that do not reconcile listed in the metadata and by fetch",
)
def test_categories_that_do_not_reconcile_are_listed(server, policy, capsys):
    table = server.table("85925NED")
    sectors = []
    for entry in table.code_lists["BedrijfstakkenBranchesSBI2008"]:
        if entry["Title"].startswith("B-E"):
            entry = {**entry, "Title": "B-E Nijverheid en energie (zonder bouw)"}
        elif entry["Title"].startswith("B "):
            entry = {**entry, "Title": "A Delfstoffen"}
        sectors.append(entry)
    server.overrides["85925NED"] = dataclasses.replace(
        table, code_lists={**table.code_lists, "BedrijfstakkenBranchesSBI2008": sectors}
    )
    frame, meta = live.fetch_table("85925NED", catalog_url=server.url, policy=policy)
    report = meta["reconciliation"]["BedrijfstakkenBranchesSBI2008"]
    assert [c["code"] for c in report["not_at_cbs"]] == ["B"]
    assert [(c["key"], c["code"]) for c in report["unreconciled"]] == [("305700", "305700")]
    assert report["matched"] == 4, "A-U, A, C and B-E (B-E by its SBI code, renamed)"
    assert meta["not_reconciled"] == [
        "BedrijfstakkenBranchesSBI2008 'B' (B Delfstoffenwinning) not at CBS",
        "BedrijfstakkenBranchesSBI2008 '305700' (A Delfstoffen): its title gives code 'A', "
        "which stands for 'A Landbouw, bosbouw en visserij'",
    ]
    snapshot = load_table("85925NED")
    kept = frame[frame.sector_code == "305700"]
    assert len(kept) == len(snapshot[snapshot.sector_code == "B"]), "rows kept, not dropped"
    assert cli.main(["fetch", "85925NED", "--catalog-url", server.url, "--no-progress"]) == 0
    assert "2 categories do not reconcile with the snapshot" in capsys.readouterr().out


def test_label_built_codes_come_back_from_cbs_keys(server, policy):
    """The server keys 85004NED's sources like CBS ('A047500', ...); noordstats gives the
    snapshot's codes back (the indicators read 'L_zonnestroom__totaal')."""
    served = server.table("85004NED").code_lists["BronEnTechniek"]
    assert all(c["Key"].strip().startswith(("A0", "T00")) for c in served)
    frame, meta = live.fetch_table("85004NED", catalog_url=server.url, policy=policy)
    assert_same_as_snapshot(frame, "85004NED")
    assert meta["reconciliation"]["BronEnTechniek"]["method"] == "CBS titles"
    assert "L_zonnestroom__totaal" in set(frame.energy_source_code)


def test_keys_made_from_titles_are_matched(server, policy):
    """81575ned (a StatWeb export) declares a dimension by its title and a measure made from
    the title; CBS keys them BedrijfstakkenBranchesSBI2008 and Vestigingen_1."""
    frame, meta = live.fetch_table("81575ned", catalog_url=server.url, policy=policy)
    assert meta["cbs_keys"] == {
        "dimensions": {"Bedrijfstakken/branches SBI 2008": "BedrijfstakkenBranchesSBI2008"},
        "measures": {"Vestigingen": "Vestigingen_1"},
    }
    assert_same_as_snapshot(frame, "81575ned")


def test_live_auto_replaces_a_label_built_snapshot_table(server):
    frame = load_table("85004NED", source="auto", catalog_url=server.url)
    assert frame.attrs["source"] == "live"
    assert_same_as_snapshot(frame, "85004NED")


def test_snapshot_filters_and_unknown_codes():
    frame = load_table("85925NED", regions="PV20", filters={"sector": ["A", "A-U"]})
    assert set(frame.sector_code) == {"A", "A-U"} and set(frame.region_code) == {"PV20"}
    with pytest.raises(SelectionError, match=r"'Z' not in 'sector'; valid: A, A-U, B, B-E, C"):
        load_table("85925NED", filters={"sector": ["Z"]})
    with pytest.raises(SelectionError, match="no dimension 'x' to filter on"):
        load_table("85925NED", filters={"x": ["Z"]})
    assert isinstance(frame, pd.DataFrame)
