"""The live path against CBS's real wire format: recorded answers of opendata.cbs.nl
(``tests/fixtures/cbs-api``), served by the replay server as CBS sent them, fetched with cbsodata
making the requests, and compared with the recordings read independently (``json`` and
``pyarrow``, not noordstats).

Also: the replay server's own answers for the snapshot tables have the recorded format, so every
test in test_live.py and test_reliability_live.py meets it; and the fixtures are what their
PROVENANCE.md records (sha256).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
import re
import warnings
from contextlib import contextmanager
from pathlib import Path

import cbsodata
import pandas as pd
import pytest
import requests
import yaml

from noordstats.cbs_codes import UnknownStatusWarning
from noordstats.declarations.tables import declarations
from noordstats.ingest import cbs_http, live
from noordstats.ingest.importers.common import parse_values
from noordstats.load import load_table
from tests import cbs_recordings
from tests.cbs_recordings import CBS_URL, FIXTURES, provenance_sha256, sha256, stored_files
from tests.replay_server import ReplayServer, isolate_live_settings
from tests.test_live import _typed_row_count, assert_same_as_snapshot

SMALL_PAGE = 100
NEXT_LINK = re.compile(
    r"^(?P<root>https?://[^/]+)/ODataFeed/OData/(?P<table>\w+)/(?P<resource>\w+)/"
    r"\?\$format=json(?:&\$(?:filter|select)=[^&]*)*&\$skip=(?P<skip>\d+)$"
)


def real_format(case: str, expected: str):
    return pytest.mark.reliability("real format", case, expected)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    return isolate_live_settings(monkeypatch, tmp_path / "cache", "5,30")


@pytest.fixture
def policy():
    return cbs_http.HttpPolicy(connect_timeout=5, read_timeout=30, attempts=3, backoff=0.01,
                           sleep=lambda seconds: None)  # fmt: skip


@pytest.fixture
def server():
    with ReplayServer() as replay:
        yield replay


@contextmanager
def plain_http():
    """cbsodata called directly against the (http) replay server."""
    old = cbsodata.options.use_https
    cbsodata.options.use_https = False
    try:
        yield
    finally:
        cbsodata.options.use_https = old


# ----------------------------------------------------- the recordings, read without noordstats


def recorded_json(folder: str, name: str) -> dict:
    """A recorded body, parsed with json (gzip on disk)."""
    return json.loads(gzip.decompress((FIXTURES / folder / f"{name}.json.gz").read_bytes()))


def groups_of(properties: list[dict]) -> dict[str, list[str]]:
    """{topic key: TopicGroup titles, outermost first}, walking ParentID."""
    by_id = {p["ID"]: p for p in properties}
    result = {}
    for topic in (p for p in properties if p["Type"] == "Topic"):
        path, parent = [], topic["ParentID"]
        while parent is not None:
            path.insert(0, by_id[parent]["Title"].strip())
            parent = by_id[parent]["ParentID"]
        result[topic["Key"]] = path
    return result


def recorded_80137ned_values() -> dict[tuple[str, str, str, str], float | None]:
    """{(period, Persoonskenmerken, BedrijfstakkenSBI93, measure): value} from TypedDataSet."""
    properties = recorded_json("80137ned", "DataProperties")["value"]
    topics = [p["Key"] for p in properties if p["Type"] == "Topic"]
    values = {}
    for row in recorded_json("80137ned", "TypedDataSet")["value"]:
        keys = (
            row["Perioden"],
            row["Persoonskenmerken"].strip(),
            row["BedrijfstakkenSBI93"].strip(),
        )
        for topic in topics:
            values[(*keys, topic)] = row[topic]
    return values


# ------------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize(
    "folder", ["80137ned", "83599NED-pages", "84799NED", "ODataCatalog-sample"]
)
def test_fixtures_are_what_provenance_records(folder):
    """Every stored file (gzip-decompressed) has a sha256 its PROVENANCE.md names, and every
    sha256 there is a stored file: nothing missing, nothing changed."""
    files = stored_files(FIXTURES / folder)
    assert {sha256(data) for data in files.values()} == provenance_sha256(FIXTURES / folder)
    assert len(files) == len(provenance_sha256(FIXTURES / folder))


# ------------------------------------------------------ the server answers as CBS answered


@real_format(
    "80137ned: every recorded resource asked as CBS was asked", "the recorded bytes, byte for byte"
)
def test_80137ned_is_served_byte_for_byte(server):
    bodies = stored_files(FIXTURES / "80137ned")
    # URL forms as PROVENANCE records them (.../80137ned?$format=json, .../TypedDataSet/?...)
    asked = {"_service_root.json": f"{server.url}/ODataFeed/odata/80137ned?$format=json",
             "TypedDataSet.json": f"{server.url}/ODataFeed/odata/80137ned/TypedDataSet/"
                                  "?$format=json"}  # fmt: skip
    for name, body in bodies.items():
        url = asked.get(name, f"{server.url}/ODataFeed/odata/80137ned/{name[:-5]}?$format=json")
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200 and answer.content == body, name
    assert requests.get(f"{server.url}/ODataFeed/odata/80137ned/UntypedDataSet").status_code == 404


@real_format(
    "83599NED: two real UntypedDataSet pages and their odata.nextLink",
    "recorded bytes; only the nextLink's scheme and host point at the local server",
)
def test_83599ned_pages_keep_their_real_next_link(server):
    first, second = (p.body for p in cbs_recordings.recorded_83599ned()["UntypedDataSet"].pages)
    url = f"{server.url}/ODataFeed/OData/83599NED/UntypedDataSet/?$format=json"
    page = requests.get(url, timeout=30).content
    assert page != first and page.replace(server.url.encode(), CBS_URL.encode()) == first
    link = json.loads(page)["odata.nextLink"]
    recorded_link = json.loads(first)["odata.nextLink"]
    assert (
        recorded_link
        == f"{CBS_URL}/ODataFeed/OData/83599NED/UntypedDataSet/?$format=json&$skip=10000"
    )
    assert link == recorded_link.replace(CBS_URL, server.url)
    assert requests.get(link, timeout=30).content == second


@real_format(
    "/ODataCatalog/Tables: the recorded catalog entries",
    "served with their fields; a $filter on a field they lack is HTTP 400",
)
def test_catalog_sample_is_served(server):
    recorded = recorded_json("ODataCatalog-sample", "Tables")["value"]
    with plain_http():
        entries = cbsodata.get_table_list(catalog_url=server.host)
        one = cbsodata.get_table_list(catalog_url=server.host, filters="Identifier eq '84669NED'")
        with pytest.raises(requests.HTTPError, match="400"):
            cbsodata.get_table_list(catalog_url=server.host, filters="Nope eq 'x'")
    by_id = {e["Identifier"]: e for e in entries}
    assert [by_id[e["Identifier"]] for e in recorded] == recorded
    kerncijfers = json.loads(gzip.decompress(
        (FIXTURES / "84799NED" / "cbs.v3.84799NED_Metadata.json.gz").read_bytes()))  # fmt: skip
    assert by_id["84799NED"] == kerncijfers
    assert one == [e for e in recorded if e["Identifier"] == "84669NED"]
    fields = set(recorded[0])
    assert {
        "Updated",
        "ApiUrl",
        "FeedUrl",
        "SummaryAndLinks",
        "RecordCount",
        "ColumnCount",
    } <= fields
    assert by_id["83582NED"] == next(e for e in recorded if e["Identifier"] == "83582NED")
    for table_id in ("85924NED", "85268NED"):
        assert set(by_id[table_id]) == fields
        assert by_id[table_id]["FeedUrl"] == f"{server.url}/ODataFeed/OData/{table_id}"
    assert "duo-hbo" not in by_id, "CBS's catalog lists CBS tables only"


# ------------------------------------------- the snapshot tables are served in the same format


def _get(server: ReplayServer, table_id: str, resource: str, query: str = "") -> dict:
    url = f"{server.url}/ODataFeed/odata/{table_id}/{resource}?$format=json{query}"
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.slow
@pytest.mark.parametrize("table_id", ["85924NED", "83582NED"])
@real_format(
    "snapshot tables served like the recordings",
    "DataProperties, code lists, statuses, padding, paging as CBS sends them",
)
def test_snapshot_tables_are_served_in_the_recorded_format(table_id, server):
    recorded = recorded_json("80137ned", "DataProperties")["value"]
    recorded_fields = {}
    for p in recorded + cbs_recordings.converted_84799ned()["DataProperties"].rows:
        recorded_fields.setdefault(p["Type"], set()).update(p)
    properties = _get(server, table_id, "DataProperties")["value"]
    recorded_fields["GeoDimension"] = recorded_fields["GeoDetail"]  # none recorded: MapYear too
    for p in properties:
        assert set(p) <= recorded_fields[p["Type"]], p
    by_id = {p["ID"]: p for p in properties}
    groups = [p for p in properties if p["Type"] == "TopicGroup"]
    topics = [p for p in properties if p["Type"] == "Topic"]
    assert groups and all(g["Key"] == "" and g["Position"] is None for g in groups)
    assert all(by_id[t["ParentID"]]["Type"] == "TopicGroup" for t in topics)
    assert any(g["ParentID"] is not None for g in groups), "groups nest"
    assert any(t["ID"] != t["Position"] for t in topics)
    assert {t["Datatype"] for t in topics} <= {"Long", "Double"}
    assert [p["Key"] for p in properties if p["Type"] == "TimeDimension"] == ["Perioden"]
    assert all(("ReleasePolicy" in p) == (p["Type"] == "TimeDimension") for p in properties)

    root = _get(server, table_id, "")
    assert root["odata.metadata"] == f"{server.url}/ODataFeed/OData/{table_id}/$metadata"
    assert {"TypedDataSet", "UntypedDataSet"} <= {r["name"] for r in root["value"]}

    dimensions = [p["Key"] for p in properties if p["Type"].endswith("Dimension")]
    rows = _get(server, table_id, "TypedDataSet", "&$top=500")["value"]
    for key in dimensions:
        listed = _get(server, table_id, key)["value"]
        widths = {len(c["Key"]) for c in listed} | {len(r[key]) for r in rows}
        assert len(widths) == 1, f"{key}: one key width per dimension, got {widths}"
        assert any(c["Title"] != c["Title"].rstrip() for c in listed), "titles ending in a space"
        if key == "Perioden":
            assert {c["Status"] for c in listed} <= {
                "Definitief",
                "Voorlopig",
                "NaderVoorlopig",
                "",
            }
    assert len(_get(server, table_id, "TypedDataSet", "&$top=20000")["value"]) == min(
        _typed_row_count(table_id), 10_000
    ), "10,000 rows per page"


@pytest.mark.slow
@real_format(
    "paging: 10,000 rows a page, nextLink .../OData/<id>/<Resource>/?$format=json&$skip=N",
    "every page followed; same rows as one request",
)
def test_default_paging_is_cbs_paging(policy):
    rows = _typed_row_count("83582NED")
    with ReplayServer() as server:
        assert server.page_size == 10_000
        frame, _ = live.fetch_table("83582NED", catalog_url=server.url, policy=policy)
        pages = server.requests_for("TypedDataSet", "83582NED")
        first = _get(server, "83582NED", "TypedDataSet", "&$select=ID,RegioS")
    assert_same_as_snapshot(frame, "83582NED")
    assert len(pages) == math.ceil(rows / 10_000) > 1
    assert [int(p.params.get("$skip", 0)) for p in pages] == list(range(0, rows, 10_000))
    assert all(p.path.endswith("/TypedDataSet/") for p in pages[1:]), "CBS's slash"
    match = NEXT_LINK.match(first["odata.nextLink"])
    assert match and match["skip"] == "10000" and match["resource"] == "TypedDataSet"
    recorded = json.loads(cbs_recordings.recorded_83599ned()["UntypedDataSet"].pages[0].body)
    assert NEXT_LINK.match(recorded["odata.nextLink"]), "the same form as CBS's own"


# --------------------------------------------------------- the live path on the recordings


def _declare_80137ned(tables_file) -> None:
    """A test-only declaration of the recorded table (sandboxed tables.local.yaml), written
    from its recorded DataProperties."""
    properties = recorded_json("80137ned", "DataProperties")["value"]
    measures = {
        p["Key"]: {"title": p["Title"], "unit": p["Unit"]}
        for p in properties if p["Type"] == "Topic"
    }  # fmt: skip
    entry = {
        "id": "80137ned",
        "title": recorded_json("80137ned", "TableInfos")["value"][0]["Title"],
        "captured_note": "test-only: the recording in tests/fixtures/cbs-api/80137ned",
        "completeness": "complete",
        "completeness_note": "every row of the recorded TypedDataSet",
        "national": True,
        "sources": [],
        "dimensions": {
            "Persoonskenmerken": {"column": "persoonskenmerken", "title": "Persoonskenmerken"},
            "BedrijfstakkenSBI93": {"column": "sector", "title": "Bedrijfstakken SBI '93"},
        },
        "measures": measures,
        "provenance": ["tests/fixtures/cbs-api/80137ned/PROVENANCE.md"],
    }
    tables_file.write_text(
        yaml.safe_dump({"tables": [entry]}, allow_unicode=True, sort_keys=False), "utf-8"
    )
    declarations.cache_clear()


@pytest.mark.slow
@pytest.mark.parametrize("page_size", [10_000, SMALL_PAGE], ids=["cbs-pages", "small-pages"])
@real_format(
    "80137ned recorded answers through load_table(source='live')",
    "values, statuses, units and measure groups equal the recording",
)
def test_load_table_live_on_the_80137ned_recording(page_size, isolated_snapshot, policy):
    _declare_80137ned(isolated_snapshot / "tables.local.yaml")
    with ReplayServer(page_size=page_size) as server:
        frame = load_table("80137ned", source="live", catalog_url=server.url)
        asked = [r.resource for r in server.requests]
        again = load_table("80137ned", source="live", catalog_url=server.url)
        asked_again = [r.resource for r in server.requests][len(asked) :]
    expected = recorded_80137ned_values()
    got = {
        (r.period_code, r.persoonskenmerken_code, r.sector_code, r.measure_code): r.value
        for r in frame.astype({c: str for c in frame.columns if c.endswith("_code")}).itertuples()
    }
    assert got == expected and len(frame) == 675 * 12
    assert frame.value.notna().all()
    assert set(frame.region_code) == {"NL01"} and set(frame.status) == {"definitief"}
    properties = recorded_json("80137ned", "DataProperties")["value"]
    units = {p["Key"]: p["Unit"] for p in properties if p["Type"] == "Topic"}
    assert dict(zip(frame.measure_code, frame.unit, strict=True)) == units
    meta = frame.attrs["meta"]
    assert meta["cbs_units"] == units
    assert meta["measure_groups"] == groups_of(properties)
    assert meta["measure_groups"]["PerGewerktUur_12"] == ["Beloning van werknemers (loonkosten)"]
    assert meta["cbs_decimals"]["Totaal_4"] == 1 and meta["modified"] == "2009-07-10T02:00:00"
    names = {
        c["Key"].strip(): c["Title"]
        for c in recorded_json("80137ned", "Persoonskenmerken")["value"]
    }
    assert (
        dict(zip(frame.persoonskenmerken_code, frame.persoonskenmerken_name, strict=True)) == names
    )
    assert asked.count("TypedDataSet") == math.ceil(675 / page_size)
    assert asked_again == ["TableInfos"], "unchanged Modified: the cache"
    pd.testing.assert_frame_equal(again, frame, check_categorical=False)


@pytest.mark.slow
@real_format(
    "84799NED: GeoDetail regions (wijken, buurten), 40 nested TopicGroups, String topics",
    "every region with its level, text topics left out with a note, values equal",
)
def test_download_table_on_the_84799ned_recording(server, policy):
    frame, meta = live.download_table("84799NED", catalog_url=server.url, policy=policy)
    recorded = cbs_recordings.converted_84799ned()  # pyarrow + round(Decimals), no noordstats
    properties = recorded["DataProperties"].rows
    rows = recorded["TypedDataSet"].rows
    topics = {p["Key"]: p for p in properties if p["Type"] == "Topic"}
    text = sorted(k for k, p in topics.items() if p["Datatype"] == "String")
    numbers = [k for k, p in topics.items() if p["Datatype"] != "String"]
    assert sorted(meta["text_measures"]) == text and len(text) == 5
    assert set(frame.measure_code) == set(numbers) and len(frame) == len(rows) * len(numbers)
    assert [r.resource for r in server.requests] == [
        "DataProperties", "WijkenEnBuurten", "WijkenEnBuurten", "TypedDataSet", "TypedDataSet",
    ]  # fmt: skip
    assert meta["requests"] == 5 and meta["national"] is False
    # values: every cell, keyed by region code
    got = frame.pivot(index="region_code", columns="measure_code", values="value")
    expected = pd.DataFrame.from_records(rows, columns=["WijkenEnBuurten", *numbers])
    expected = expected.set_index(expected.pop("WijkenEnBuurten").str.strip()).astype("float64")
    got = got.loc[expected.index, numbers]
    assert got.index.is_unique and len(got) == len(rows)
    assert ((got.to_numpy() == expected.to_numpy()) | (got.isna() & expected.isna())).all().all()
    assert int(frame.value.notna().sum()) == int(expected.notna().sum().sum())
    # regions: the level the code says, the name from the code list (stripped)
    kind = {"Land": "NL", "Gemeente": "GM", "Wijk": "WK", "Buurt": "BU"}
    levels = frame.drop_duplicates("region_code").set_index("region_code").region_level
    said = {r["WijkenEnBuurten"].strip(): kind[r["SoortRegio_2"].strip()] for r in rows}
    assert levels.astype(str).to_dict() == said
    names = {r["Key"].strip(): r["Title"] for r in recorded["WijkenEnBuurten"].rows}
    assert sum(t != t.strip() for t in names.values()) == 2, "CBS titles ending in a space"
    served_names = frame.drop_duplicates("region_code").set_index("region_code").region_name
    assert {c: served_names[c] for c in names} == {c: t.strip() for c, t in names.items()}
    # metadata: groups, units; no time dimension
    assert meta["measure_groups"] == {k: groups_of(properties)[k] for k in numbers}
    assert max(len(g) for g in meta["measure_groups"].values()) == 3
    assert meta["measure_groups"]["Mannen_6"] == ["Bevolking", "Geslacht"]
    units = dict(zip(frame.measure_code, frame.unit, strict=True))
    assert units == {k: (topics[k]["Unit"].strip() or None) for k in numbers}
    assert meta["period_dimension"] is None and frame.period_code.isna().all()
    assert set(frame.status) == {"onbekend"}


def test_download_table_agrees_with_the_declared_path(isolated_snapshot, server, policy):
    """80137ned read from its own metadata equals 80137ned read through its declaration."""
    _declare_80137ned(isolated_snapshot / "tables.local.yaml")
    declared = load_table("80137ned", source="live", catalog_url=server.url)
    generic, meta = live.download_table("80137ned", catalog_url=server.url, policy=policy)
    keys = ["period_code", "persoonskenmerken_code", "sector_code", "measure_code"]
    generic = generic.rename(columns={"bedrijfstakken_sbi93_code": "sector_code",
                                      "bedrijfstakken_sbi93_name": "sector_name"})  # fmt: skip
    left = declared.astype({k: str for k in keys}).sort_values(keys, ignore_index=True)
    right = generic.astype({k: str for k in keys}).sort_values(keys, ignore_index=True)
    assert list(left.columns) == list(right.columns)
    for column in [*keys, "value", "status", "region_code", "unit", "sector_name"]:
        assert left[column].astype(str).tolist() == right[column].astype(str).tolist(), column
    assert meta["national"] is True and meta["text_measures"] == {}


@pytest.mark.parametrize("page_size", [10_000, 1_000], ids=["cbs-pages", "small-pages"])
@real_format(
    "83599NED UntypedDataSet through the live client",
    "every page followed; right-aligned strings and '' parse as the recording says",
)
def test_untyped_pages_of_83599ned(page_size, policy):
    pages = [recorded_json("83599NED-pages", n)["value"]
             for n in ("UntypedDataSet.page1", "UntypedDataSet.page2_skip10000")]  # fmt: skip
    recorded = pages[0] + pages[1]
    seen = []
    with ReplayServer(page_size=page_size) as server:
        client = cbs_http._Client(
            cbs_http.resolve_catalog(server.url), policy, "83599NED",
            lambda table, resource, n: seen.append(n),
        )  # fmt: skip
        rows = client.get("UntypedDataSet")
        asked = server.requests_for("UntypedDataSet")
    assert rows == recorded and len(rows) == 15_504
    assert seen == [min(page_size, len(rows) - s) for s in range(0, len(rows), page_size)]
    assert [int(r.params.get("$skip", 0)) for r in asked] == list(range(0, len(rows), page_size))
    cells = pd.Series([r["OpenstaandeVacatures_1"] for r in rows])
    parsed = parse_values(cells, Path("83599NED"), pd.Series(range(len(cells))))
    expected = [float(c) if c.strip() not in {"", "."} else math.nan for c in cells]
    assert parsed.tolist() == pytest.approx(expected, nan_ok=True)
    assert cells.str.len().isin([0, 8]).all() and cells[0] == "   135.5"


# ------------------------------------------------------------------------ bugs the format showed


def _with_statuses(server: ReplayServer, table_id: str, statuses: dict[str, str]) -> None:
    table = server.table(table_id)
    periods = [
        {**c, "Status": statuses.get(c["Key"].strip(), c["Status"])}
        for c in table.code_lists["Perioden"]
    ]
    server.overrides[table_id] = dataclasses.replace(
        table, code_lists={**table.code_lists, "Perioden": periods}
    )


@real_format(
    "period Status 'NaderVoorlopig' (one word, as CBS's feed writes it)",
    "read as 'nader voorlopig' (was: CodeError, the whole fetch failed)",
)
def test_nader_voorlopig_periods_are_fetched(server, policy):
    periods = sorted(load_table("85924NED").period_code.astype(str).unique())
    spelled = {periods[-1]: "NaderVoorlopig", periods[-2]: "Voorlopig", periods[0]: "Definitief"}
    _with_statuses(server, "85924NED", spelled)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownStatusWarning)
        frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    status = dict(zip(frame.period_code.astype(str), frame.status.astype(str), strict=False))
    assert status[periods[-1]] == "nader voorlopig"
    assert status[periods[-2]] == "voorlopig" and status[periods[0]] == "definitief"
    assert {status[p] for p in periods[1:-2]} == {"onbekend"}


@real_format(
    "a period Status the project does not know, in a live fetch",
    "kept as CBS wrote it, with an UnknownStatusWarning; the fetch succeeds",
)
def test_unknown_status_is_kept_with_a_warning(server, policy):
    period = max(load_table("85924NED").period_code.astype(str))
    _with_statuses(server, "85924NED", {period: "Herzien"})
    with pytest.warns(UnknownStatusWarning, match="'Herzien'"):
        frame, _ = live.fetch_table("85924NED", catalog_url=server.url, policy=policy)
    assert set(frame[frame.period_code == period].status.astype(str)) == {"Herzien"}


@real_format(
    "$filter naming a property the resource lacks",
    "CBS answers HTTP 400; not retried, the status named",
)
def test_filter_on_a_missing_property_is_http_400(server, policy):
    url = f"{server.url}/ODataFeed/odata/80137ned/TypedDataSet?$format=json&$filter="
    answer = requests.get(url + "startswith(RegioS,'PV20')", timeout=10)
    assert (
        answer.status_code == 400 and "RegioS" in answer.json()["odata.error"]["message"]["value"]
    )
    client = cbs_http._Client(
        cbs_http.resolve_catalog(server.url), policy, "80137ned", live._no_progress
    )
    with pytest.raises(requests.HTTPError, match="400"):
        client.get("TypedDataSet", filters="startswith(RegioS,'PV20')")
    assert len(server.requests_for("TypedDataSet")) == 2, "the raw request and one by the client"


@real_format(
    "a declared measure that CBS types as text (Datatype String)",
    "schema drift error naming it; nothing cached",
)
def test_declared_measure_typed_string_is_refused(isolated_snapshot, server, policy):
    _declare_80137ned(isolated_snapshot / "tables.local.yaml")
    table = server.table("80137ned")
    properties = [
        {**p, "Datatype": "String"} if p["Key"] == "Totaal_1" else p for p in table.properties
    ]
    server.overrides["80137ned"] = dataclasses.replace(table, properties=properties)
    with pytest.raises(
        cbs_http.LiveDataError, match=r"Totaal_1 are text at CBS \(Datatype String\)"
    ):
        live.fetch_table("80137ned", catalog_url=server.url, policy=policy)
    assert live.read_cached("80137ned") is None
