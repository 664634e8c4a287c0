"""Structure fingerprints (data/table_structure.yaml): every declared CBS table has one that
matches its snapshot, the schema refuses what it does not know, and a table CBS redesigned
(a measure retitled or in another unit, a dimension retitled) is caught over v3 and v4: not
mapped, the cache or snapshot used with the change named, `info` showing it, and
`snapshot fingerprint --from-cbs` recording it after review."""

from __future__ import annotations

import dataclasses
import re

import pytest

from noordstats import cli, paths
from noordstats.declarations.files import ConfigError
from noordstats.declarations.table_structure import (
    read_table_structures,
    table_structures,
)
from noordstats.declarations.tables import declarations
from noordstats.ingest import catalog, cbs_http, live, structure
from noordstats.load import StaleDataWarning, load_table
from noordstats.storage import store
from tests.replay_server import ReplayServer, isolate_live_settings
from tests.replay_server_v4 import V4ReplayServer, V4Table

TABLE, MEASURE = "85924NED", "BbpMarktprijzen_1"
#: a table whose snapshot has CBS's own measure titles (not titles built from the key)
TITLED, TITLED_MEASURE = "70960ned", "NietGenormaliseerdeProductie_11"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Own cache, and an own copy of the structure record (the commands write it)."""
    record = tmp_path / "table_structure.yaml"
    record.write_bytes(paths.TABLE_STRUCTURE_FILE.read_bytes())
    monkeypatch.setattr(paths, "TABLE_STRUCTURE_FILE", record)
    table_structures.cache_clear()
    yield isolate_live_settings(monkeypatch, tmp_path / "cache")
    table_structures.cache_clear()


def test_every_declared_cbs_table_has_a_current_fingerprint():
    """A CBS table declared without a fingerprint (or whose snapshot changed since) fails here:
    run `noordstats snapshot fingerprint` and review the diff."""
    recorded = read_table_structures(paths.DATA_DIR / "table_structure.yaml")
    wanted = structure.fingerprinted_tables()
    missing = sorted(set(wanted) - set(recorded))
    assert not missing, f"no fingerprint for {missing}: run `noordstats snapshot fingerprint`"
    assert set(recorded) <= set(declarations()), "a fingerprint of a table no longer declared"
    for table_id in wanted:
        if recorded[table_id].source != "snapshot":
            continue  # recorded from CBS after review
        meta = store.read_snapshot_meta(table_id)
        fresh = structure.make_structure(
            table_id, "snapshot", structure.snapshot_prints(declarations()[table_id], meta)
        )
        assert recorded[table_id] == fresh, f"{table_id}: record out of date with the snapshot"


def test_fingerprint_digest_is_of_the_fields():
    entry = table_structures()[TABLE]
    assert (
        entry.digest
        == structure.make_structure(TABLE, "snapshot", (entry.dimensions, entry.measures)).digest
    )
    changed = dict(entry.measures)
    changed[MEASURE] = changed[MEASURE].model_copy(update={"unit": "euro"})
    assert structure.make_structure(TABLE, "snapshot", (entry.dimensions, changed)).digest != (
        entry.digest
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("source: snapshot", "source: snapshot\n    colour: red", 1),
         "key 'colour'"),
        (lambda t: t.replace('unit: "mln euro"', 'unit: "euro"', 1),
         "key 'digest': does not match"),
        (lambda t: t.replace("kind: region", "kind: place", 1), "kind"),
    ],
)  # fmt: skip
@pytest.mark.reliability("bad input", "data/table_structure.yaml edited or malformed",
                         "one line naming file, entry and key")  # fmt: skip
def test_malformed_record_is_refused(edit, message, tmp_path):
    path = tmp_path / "table_structure.yaml"
    text = paths.TABLE_STRUCTURE_FILE.read_text(encoding="utf-8")
    path.write_text(edit(text), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        read_table_structures(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.reliability("bad input", "snapshot fingerprint of an undeclared table",
                         "one line naming the valid tables; exit 2; nothing written")  # fmt: skip
def test_fingerprint_command_refuses_unknown_table(capsys):
    before = paths.TABLE_STRUCTURE_FILE.read_bytes()
    assert cli.main(["snapshot", "fingerprint", "NOPE"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'NOPE'" in err[0] and "85924NED" in err[0]
    assert paths.TABLE_STRUCTURE_FILE.read_bytes() == before


def test_fingerprint_command_rewrites_the_record_unchanged(capsys):
    before = paths.TABLE_STRUCTURE_FILE.read_bytes()
    assert cli.main(["snapshot", "fingerprint"]) == 0
    assert "(changed)" not in capsys.readouterr().out
    assert paths.TABLE_STRUCTURE_FILE.read_bytes() == before


# ------------------------------------------------------------------ drift caught


def _retitle_v3(server: ReplayServer, title: str) -> None:
    table = server.table(TITLED)
    properties = [
        dict(p, Title=title) if p["Key"] == TITLED_MEASURE else p for p in table.properties
    ]
    server.overrides[TITLED] = dataclasses.replace(table, properties=properties)
    server.set_modified(TITLED, "2026-06-01T02:00:00")


@pytest.mark.reliability("fault", "CBS retitles a measure, same key (OData v3)",
                         "not mapped: cache used, the change named; info shows it")  # fmt: skip
def test_retitled_measure_over_v3_is_caught_until_reviewed(capsys, monkeypatch):
    with ReplayServer(page_size=5000) as server:
        cached, _ = live.fetch_table(TITLED, catalog_url=server.url, api="v3")
        _retitle_v3(server, "Productie, genormaliseerd")
        change = (
            f"measure {TITLED_MEASURE} retitled 'Niet-genormaliseerde productie' -> "
            "'Productie, genormaliseerd'"
        )
        expected = re.escape(f"CBS changed the table: {change}")
        with pytest.raises(cbs_http.LiveDataError, match=expected):
            live.fetch_table(TITLED, catalog_url=server.url, api="v3")
        with pytest.warns(StaleDataWarning, match=re.escape(change)):
            loaded = load_table(TITLED, source="auto", catalog_url=server.url, api="v3")
        assert loaded.attrs["source"] == "cache"
        assert "CBS changed the table" in loaded.attrs["stale_reason"]
        info = catalog.table_info(TITLED, catalog_url=server.url, api="v3")
        assert info.attrs["table"]["structure_changes"] == [change]
        monkeypatch.setenv("NOORDSTATS_CATALOG_URL", server.url)
        assert cli.main(["info", TITLED, "--api", "v3"]) == 0
        out = capsys.readouterr().out
        assert "CBS changed the table since its structure was reviewed (1)" in out and change in out
        # reviewed: record CBS's structure; the table is fetched again
        assert cli.main(["snapshot", "fingerprint", TITLED, "--from-cbs", "--api", "v3"]) == 0
        assert f"{TITLED}: cbs-v3" in capsys.readouterr().out
        recorded = table_structures()[TITLED].measures[TITLED_MEASURE]
        assert recorded.title == "Productie, genormaliseerd"
        frame, meta = live.fetch_table(TITLED, catalog_url=server.url, api="v3")
    assert meta["source"] == "live" and len(frame) == len(cached)


def test_titles_built_from_keys_and_cut_titles_are_not_changes():
    """A title the snapshot built from the CBS key is not CBS's and is not compared; a title
    cut short compares with the title it begins."""
    entry = table_structures()[TABLE]
    assert entry.measures[MEASURE].title is None  # 'Bbp marktprijzen', built from the key
    prints = (
        entry.dimensions,
        {**entry.measures, MEASURE: entry.measures[MEASURE].model_copy(update={"title": "X"})},
    )
    assert structure.compare(entry, prints) == []
    assert structure.same_title("Banen A landbouw, bos...", "Banen A landbouw, bosbouw")
    assert not structure.same_title("Banen A landbouw", "Banen A landbouw, bosbouw")


@pytest.mark.reliability("fault", "CBS changes a measure's unit (OData v3)",
                         "not mapped: the unit change named")  # fmt: skip
def test_unit_change_over_v3_is_caught():
    with ReplayServer(page_size=5000) as server:
        table = server.table(TABLE)
        properties = [dict(p, Unit="euro") if p["Key"] == MEASURE else p for p in table.properties]
        server.overrides[TABLE] = dataclasses.replace(table, properties=properties)
        with pytest.raises(cbs_http.LiveDataError, match=re.escape(
            f"measure {MEASURE} unit 'mln euro' -> 'euro'"
        )):  # fmt: skip
            live.fetch_table(TABLE, catalog_url=server.url, api="v3")


@pytest.mark.reliability("fault", "CBS retitles a dimension (OData v4)",
                         "not mapped: the change named")  # fmt: skip
def test_retitled_dimension_over_v4_is_caught():
    table_id = "83582NED"
    with V4ReplayServer() as server:
        table = server.v4_table(table_id)
        dims = [dict(d, Title="Bedrijfstakken (SBI 2025)") if d["Kind"] == "Dimension" else d
                for d in table.dimensions]  # fmt: skip
        server.v4_overrides[table_id] = V4Table(
            table_id, table.properties, dims, table.measures, table.codes, table.observations
        )
        expected = (
            r"CBS changed the table: dimension BedrijfstakkenBranchesSBI2008 retitled .* -> "
            r"'Bedrijfstakken \(SBI 2025\)'"
        )
        with pytest.raises(cbs_http.LiveDataError, match=expected):
            live.fetch_table(table_id, api="v4", v4_url=server.v4_url)
        assert server.requests_for("Observations") == [], "no data asked for a drifted table"


@pytest.mark.slow
def test_v4_matches_by_the_reviewed_title_once_recorded(monkeypatch, capsys):
    """A measure whose declared title was built from its v3 key matches nothing over v4 when
    CBS titles it otherwise: ``auto`` uses v3 (keys match); once CBS's structure is recorded
    (``snapshot fingerprint --from-cbs``), v4 matches it by CBS's title and unit."""
    cbs_title = "Bruto binnenlands product, marktprijzen"
    monkeypatch.setenv("NOORDSTATS_API", "auto")
    with ReplayServer(page_size=5000) as v3_server, V4ReplayServer(page_size=5000) as v4_server:
        table = v3_server.table(TABLE)
        properties = [dict(p, Title=cbs_title) if p["Key"] == MEASURE else p
                      for p in table.properties]  # fmt: skip
        v3_server.overrides[TABLE] = dataclasses.replace(table, properties=properties)
        served = v4_server.v4_table(TABLE)
        title = declarations()[TABLE].measures[MEASURE].title
        measures = [dict(m, Title=cbs_title) if m["Title"] == title else m
                    for m in served.measures]  # fmt: skip
        v4_server.v4_overrides[TABLE] = V4Table(
            TABLE, served.properties, served.dimensions, measures, served.codes,
            served.observations,
        )  # fmt: skip
        monkeypatch.setenv("NOORDSTATS_CATALOG_URL", v3_server.url)
        monkeypatch.setenv("NOORDSTATS_V4_URL", v4_server.v4_url)
        with pytest.raises(cbs_http.LiveDataError, match="not reconciled by title and unit"):
            live.fetch_table(TABLE, api="v4")
        _, meta = live.fetch_table(TABLE)
        assert meta["api"] == "v3"
        assert cli.main(["snapshot", "fingerprint", TABLE, "--from-cbs", "--api", "v3"]) == 0
        assert table_structures()[TABLE].measures[MEASURE].title == cbs_title
        frame, meta = live.fetch_table(TABLE, api="v4")
    assert meta["api"] == "v4" and MEASURE in set(frame.measure_code.astype(str))
