"""Every shipped table, spot-checked against its raw file read by an independent route (the csv
and json modules and a few lines of parsing here, never the importers), and every importer fed
a broken copy of its file."""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import get_args

import pandas as pd
import pytest

from noordstats.declarations.tables import SourceFormat, declarations, get_declaration
from noordstats.ingest.importers import get_importer
from noordstats.ingest.importers.common import SourceFormatError
from noordstats.ingest.snapshot_build import import_table
from noordstats.load import load_table
from tests.raw_helpers import copy_raw, open_raw, read_raw_json, read_raw_text

# Region titles as the harvested files write them -> the codes CBS gives them (README of the
# raw data: NL01, LD01 Noord, PV20 Groningen, PV21 Fryslân, CR01 Oost-Groningen).
REGION_TITLES = {
    "Nederland": "NL01",
    "Noord-Nederland (LD)": "LD01",
    "Groningen (PV)": "PV20",
    "Fryslân (PV)": "PV21",
    "Friesland (PV)": "PV21",
    "Oost-Groningen (CR)": "CR01",
}
HARVESTED = [t for t, d in declarations().items() if d.sources[0].format == "harvested_csv"]
HARVESTED_REGIONAL = [t for t in HARVESTED if not declarations()[t].national]


# ----------------------------------------------------------------- independent readers


def cell_value(cell: str) -> float:
    text = cell.strip()
    if text in {"", ".", "x", "?"}:
        return math.nan
    if text == "-":
        return 0.0
    return float(text)


def period_code_of(label: str, december: bool = False) -> str:
    text = label.strip().rstrip("*").strip()
    if december:
        text = text.removesuffix(" december")
    if m := re.fullmatch(r"(\d{4})", text):
        return f"{m[1]}JJ00"
    if m := re.fullmatch(r"(\d{4}) (\d)e kwartaal", text):
        return f"{m[1]}KW0{m[2]}"
    if m := re.fullmatch(r"(\d{4})/'\d\d", text):
        return f"{m[1]}SJ00"
    if m := re.fullmatch(r"(\d{4}) eerste helft", text):
        return f"{m[1]}HJ01"
    if m := re.fullmatch(r"(\d{4}) (\w+)", text):
        months = "januari februari maart april mei juni juli augustus september oktober november"
        return f"{m[1]}MM{(months + ' december').split().index(m[2]) + 1:02d}"
    raise AssertionError(f"test cannot read period {label!r}")


def read_semicolon(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with open_raw(path, encoding) as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def same(actual: float, expected: float) -> bool:
    """Equal, or both missing (NaN); sums may differ in the last bits by summation order."""
    if math.isnan(expected):
        return math.isnan(actual)
    return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-9)


def values_by(frame: pd.DataFrame, columns: list[str]) -> dict[tuple, float]:
    keys = zip(*(frame[c].astype(str) for c in columns), strict=True)
    return dict(zip(keys, frame.value, strict=True))


# ----------------------------------------------------------------- harvested tables


@pytest.mark.parametrize("table_id", HARVESTED)
def test_harvested_tables_match_raw_cells(table_id: str, raw_dir: Path) -> None:
    """NL, LD01, PV20 (or NL01 for national tables): every measure, every category, first and
    last period, equal to the raw cell (NaN where the raw cell is empty)."""
    decl = get_declaration(table_id)
    source = decl.sources[0]
    rows = read_semicolon(raw_dir / source.path)
    december = source.options.get("year_label_suffix") == "december"
    dims = list(decl.dimensions)
    if decl.national:
        rows = [{**r, "_region": "Nederland"} for r in rows]
    else:
        rows = [{**r, "_region": r[decl.region_dimension]} for r in rows]
    wanted = {"Nederland", "Noord-Nederland (LD)", "Groningen (PV)"}
    picked = [r for r in rows if r["_region"] in wanted]
    assert picked, f"{table_id}: no NL/LD01/PV20 rows in the raw file"
    periods = defaultdict(list)
    for r in picked:
        periods[r["_region"]].append(period_code_of(r[decl.period_dimension], december))
    ends = {k: {min(v), max(v)} for k, v in periods.items()}
    frame = load_table(table_id, regions=sorted({REGION_TITLES[r["_region"]] for r in picked}))
    name_columns = [f"{decl.dimensions[d].column}_name" for d in dims]
    actual = values_by(frame, ["region_code", "period_code", *name_columns, "measure_code"])
    checked = 0
    for r in picked:
        period = period_code_of(r[decl.period_dimension], december)
        if period not in ends[r["_region"]]:
            continue
        for measure in decl.measures:
            key = (
                REGION_TITLES[r["_region"]],
                period,
                *(r[d].strip() for d in dims),
                measure,
            )
            assert key in actual, f"{table_id}: no row for {key}"
            assert same(actual[key], cell_value(r[measure])), (table_id, key, r[measure])
            checked += 1
    assert checked >= 2 * len(decl.measures)


@pytest.mark.parametrize("table_id", HARVESTED_REGIONAL)
def test_harvested_region_and_period_sets_match_raw(table_id: str, raw_dir: Path) -> None:
    """The PV and LD regions of the raw file all arrive (none silently dropped), with every
    period the raw file has for them."""
    decl = get_declaration(table_id)
    source = decl.sources[0]
    december = source.options.get("year_label_suffix") == "december"
    rows = read_semicolon(raw_dir / source.path)
    expected = {
        (r[decl.region_dimension].strip(), period_code_of(r[decl.period_dimension], december))
        for r in rows
        if re.search(r"\((PV|LD)\)$", r[decl.region_dimension].strip())
        and not re.search(
            r"niet in te delen|extra-regio|buitenland|exclusief", r[decl.region_dimension], re.I
        )
    }
    frame = load_table(table_id)
    frame = frame[frame.region_level.isin(["PV", "LD"])]
    got = set(zip(frame.region_name.astype(str), frame.period_code.astype(str), strict=True))
    expected_names = {
        (re.sub(r"\s*\((PV|LD)\)$", "", n).replace("Friesland", "Fryslân"), p) for n, p in expected
    }
    assert got == expected_names


def test_sbi_codes_are_the_label_tokens(raw_dir: Path) -> None:
    frame = load_table("81644NED")
    pairs = dict(zip(frame.sector_name.astype(str), frame.sector_code.astype(str), strict=True))
    assert pairs["A-U Alle economische activiteiten"] == "A-U"
    assert pairs["A Landbouw, bosbouw en visserij"] == "A"
    assert pairs["G Handel"] == "G"
    frame = load_table("81578NED")
    pairs = dict(zip(frame.sector_name.astype(str), frame.sector_code.astype(str), strict=True))
    assert pairs["01 Landbouw"] == "01"
    assert pairs["011 Teelt van eenjarige gewassen"] == "011"


def _fold_typography(name: str) -> str:
    return re.sub(r"[\s.\-]+", " ", name.replace("\u2019", "'")).strip()


@pytest.mark.slow
def test_sbi_sections_have_one_name_across_tables() -> None:
    names = defaultdict(set)
    for table_id, decl in declarations().items():
        if not any(d.column == "sector" for d in decl.dimensions.values()):
            continue
        frame = load_table(table_id)
        for code, name in zip(
            frame.sector_code.astype(str), frame.sector_name.astype(str), strict=True
        ):
            names[code].add(name)
    # CBS's own labels are kept as published; tables differ only in typography (83796NED
    # writes "auto’s" and "metaalprod. industrie", older tables "auto's", "metaalprod.-industrie")
    folded = {c: {_fold_typography(x) for x in n} for c, n in names.items()}
    assert {c: n for c, n in folded.items() if len(n) > 1} == {}
    # the same SBI section under the COROP copy's CBS key and the harvested token
    assert names["T001081"] == names["A-U"]
    assert names["301000"] == names["A"]


def test_harvested_provisional_marks_become_status(raw_dir: Path) -> None:
    rows = read_semicolon(raw_dir / "cbs/82610NED/82610NED.csv")
    marked = {
        period_code_of(r["Perioden"]) for r in rows if r["Perioden"] != r["Perioden"].rstrip()
    }
    assert marked, "82610NED has trailing-space (provisional) periods"
    frame = load_table("82610NED")
    status = dict(zip(frame.period_code.astype(str), frame.status.astype(str), strict=False))
    assert {p for p, s in status.items() if s == "voorlopig"} == marked
    assert {s for p, s in status.items() if p not in marked} == {"onbekend"}


# ----------------------------------------------------------------- 83582NED (COROP copy, v3 codes)


def read_corop(raw_dir: Path) -> dict[tuple[str, str, str], float]:
    with open_raw(raw_dir / "cbs/83582NED/corop/83582NED_corop.csv") as fh:
        return {
            (r["BedrijfstakkenBranchesSBI2008"].strip(), r["RegioS"].strip(), r["Perioden"]): (
                cell_value(r["BanenVanWerknemersInDecember_1"])
            )
            for r in csv.DictReader(fh)
        }


def test_83582ned_corop_cells_and_sums(raw_dir: Path) -> None:
    raw = read_corop(raw_dir)
    frame = load_table("83582NED")
    actual = values_by(frame, ["sector_code", "region_code", "period_code"])
    for sector in ("T001081", "301000", "307500", "435500"):
        for period in ("2010JJ00", "2024JJ00"):
            for region in ("CR01", "CR09", "CR40"):
                assert same(actual[(sector, region, period)], raw[(sector, region, period)])
            groningen = [raw[(sector, f"CR0{i}", period)] for i in (1, 2, 3)]
            assert same(actual[(sector, "PV20", period)], sum(groningen))
            north = [raw[(sector, f"CR0{i}", period)] for i in range(1, 10)]
            assert same(actual[(sector, "LD01", period)], sum(north))  # NaN if a part is
            nl = [raw[(sector, f"CR{i:02d}", period)] for i in range(1, 41)]
            assert same(actual[(sector, "NL01", period)], sum(nl))
    derived = frame[frame.region_level.isin(["PV", "LD", "NL"])]
    assert set(derived.status.astype(str)) == {"berekend"}


def test_83582ned_unpublished_cells_stay_missing(raw_dir: Path) -> None:
    raw = read_corop(raw_dir)
    empty = [k for k, v in raw.items() if math.isnan(v) and k[1] != "CR99"]
    assert empty, "the COROP copy has suppressed cells"
    frame = load_table("83582NED")
    actual = values_by(frame, ["sector_code", "region_code", "period_code"])
    for key in empty[:50]:
        assert math.isnan(actual[key])


def test_83582ned_north_equals_cbs_published_total(raw_dir: Path) -> None:
    """LD01 summed from the COROP copy = CBS's own 'Noord-Nederland (LD)' A-U in the harvested
    copy, within rounding, 2010-2022 (2023 was provisional in the harvest)."""
    raw = read_corop(raw_dir)
    harvest = read_semicolon(raw_dir / "cbs/83582NED/83582NED.csv")
    published = {
        period_code_of(r["Perioden"], december=True): float(r["BanenVanWerknemersInDecember_1"])
        for r in harvest
        if r["RegioS"] == "Noord-Nederland (LD)"
        and r["BedrijfstakkenBranchesSBI2008"].startswith("A-U ")
    }
    frame = load_table("83582NED", regions="LD01")
    north = values_by(frame[frame.sector_code == "T001081"], ["period_code"])
    for year in range(2010, 2023):
        period = f"{year}JJ00"
        own_sum = sum(raw[("T001081", f"CR0{i}", period)] for i in range(1, 10))
        assert north[(period,)] == pytest.approx(own_sum)
        assert abs(north[(period,)] - published[period]) <= 0.3, period


# ----------------------------------------------------------------- 85701NED (wide StatLine CSV)


def read_wide(path: Path) -> tuple[str, list[str], dict[str, list[str]]]:
    with open_raw(path) as fh:
        lines = list(csv.reader(fh, delimiter=";"))
    period = lines[2][0].removeprefix("Perioden: ")
    regions = lines[5][1:]
    data = {
        row[0].strip(): row[1:] for row in lines[7:] if row[0] and not row[0].startswith("Bron")
    }
    return period, regions, data


def municipality_provinces(raw_dir: Path) -> dict[str, tuple[str, str]]:
    """Municipality title -> (GM code, province code), straight from CBS's code list."""
    items = read_raw_json(raw_dir / "cbs/03759ned/odata_v4_2026/codes-RegioS.json")["value"]
    return {
        i["Title"]: (i["Identifier"], i["DimensionGroupId"][2:])
        for i in items
        if i["Identifier"].startswith("GM")
    }


@pytest.mark.parametrize(
    ("file", "period"), [("2013_2014.csv", "2013SJ00"), ("2023_2024.csv", "2023SJ00")]
)
def test_85701ned_municipalities_and_sums(file: str, period: str, raw_dir: Path) -> None:
    label, regions, data = read_wide(raw_dir / "cbs/85701NED" / file)
    assert period_code_of(label) == period
    gm = municipality_provinces(raw_dir)
    frame = load_table("85701NED", periods=period)
    actual = values_by(frame, ["region_code", "education_type_name"])
    for education in (
        "Hoger beroepsonderwijs",
        "Wetenschappelijk onderwijs",
        "Totaal mbo (excl. extranei)",
    ):
        cells = data[education]
        for title, cell in zip(regions, cells, strict=True):
            if title in ("Groningen", "Aa en Hunze", "Leeuwarden") and cell:
                assert actual[(gm[title][0], education)] == float(cell)
        filled = [float(c) for c in cells if c]
        assert actual[("NL01", education)] == sum(filled)  # incl. 'Gemeenten; niet in te delen'
        for province in ("PV20", "PV21", "PV22"):
            own = [
                float(c)
                for t, c in zip(regions, cells, strict=True)
                if c and t in gm and gm[t][1] == province
            ]
            assert actual[(province, education)] == sum(own)
        north = sum(actual[(p, education)] for p in ("PV20", "PV21", "PV22"))
        assert actual[("LD01", education)] == north
    status = set(frame[frame.region_level == "GM"].status.astype(str))
    assert status == ({"voorlopig"} if label.endswith("*") else {"definitief"})


def test_85701ned_hbo_nl_total_as_provenance_states(raw_dir: Path) -> None:
    # PROVENANCE.md: NL = all columns incl. 'niet in te delen' reproduces 460 710 hbo for 2023/'24
    frame = load_table("85701NED", regions="NL01", periods="2023SJ00")
    hbo = frame[frame.education_type_name == "Hoger beroepsonderwijs"].value.item()
    _, _, data = read_wide(raw_dir / "cbs/85701NED/2023_2024.csv")
    assert hbo == sum(float(c) for c in data["Hoger beroepsonderwijs"] if c)


# ----------------------------------------------------------------- 81575ned (StatWeb, transposed)


def test_81575ned_transposed_cells(raw_dir: Path) -> None:
    with open_raw(raw_dir / "cbs/81575ned/Vestigingen_bedrijven.csv", "latin-1") as fh:
        lines = list(csv.reader(fh, delimiter=";"))
    regions, periods = lines[0][1:], lines[1][1:]
    codes = {"Nederland": "NL01", "Noord-Nederland (LD)": "LD01", "Friesland (PV)": "PV21",
             "Leeuwarden": "GM0080", "Súdwest Fryslân": "GM1900"}  # fmt: skip
    frame = load_table("81575ned")
    actual = values_by(frame, ["region_code", "period_code", "sector_name"])
    checked = 0
    for row in lines[3:]:
        for region, period, cell in zip(regions, periods, row[1:], strict=True):
            if region in codes and period in ("2007*", "2012*"):
                key = (codes[region], period_code_of(period), row[0])
                assert same(actual[key], cell_value(cell)), key
                checked += 1
    assert checked == 26 * 5 * 2
    assert set(frame.status.astype(str)) == {"voorlopig"}  # every period is marked '*'
    nan_cells = sum(1 for row in lines[3:] for c in row[1:] if c == ".")
    assert nan_cells and frame.value.isna().any()


# ----------------------------------------------------------------- 03759ned (OData v4 JSON)


def test_03759ned_observations_status_and_landsdeel(raw_dir: Path) -> None:
    folder = raw_dir / "cbs/03759ned/odata_v4_2026"
    observations = read_raw_json(folder / "observations-page-1.json")["value"]
    status = {
        p["Identifier"]: p["Status"].lower()
        for p in read_raw_json(folder / "codes-Perioden.json")["value"]
    }
    frame = load_table("03759ned")
    actual = values_by(frame, ["region_code", "period_code", "measure_code"])
    impossible = 0
    for obs in observations:
        key = (obs["RegioS"], obs["Perioden"], obs["Measure"])
        if obs["ValueAttribute"] == "Impossible":
            assert key not in actual
            impossible += 1
        elif obs["RegioS"] in ("NL01", "PV20", "PV22", "GM0014"):
            assert actual[key] == obs["Value"]
    assert impossible > 0
    raw = {(o["RegioS"], o["Perioden"], o["Measure"]): o["Value"] for o in observations}
    for period in ("2019JJ00", "2026JJ00"):
        north = sum(raw[(p, period, "M000352")] for p in ("PV20", "PV21", "PV22"))
        assert actual[("LD01", period, "M000352")] == north
    by_period = frame[frame.region_level != "LD"].drop_duplicates("period_code")
    for p, s in zip(by_period.period_code.astype(str), by_period.status.astype(str), strict=True):
        assert s == status[p]


@pytest.mark.parametrize("table_id", ["03759ned", "83625NED"])
def test_v4_observations_arrive_with_cbs_status(table_id: str, raw_dir: Path) -> None:
    folder = (raw_dir / get_declaration(table_id).sources[0].path).parent
    observations = read_raw_json(folder / "observations-page-1.json")["value"]
    periods = read_raw_json(folder / "codes-Perioden.json")["value"]
    status = {p["Identifier"]: p["Status"].lower() for p in periods}
    frame = load_table(table_id)
    actual = values_by(frame, ["region_code", "period_code", "measure_code"])
    published = frame[frame.status.astype(str) != "berekend"]
    kept = 0
    for obs in observations:
        key = (obs["RegioS"], obs["Perioden"], obs["Measure"])
        if obs["ValueAttribute"] == "Impossible":
            assert key not in actual
        elif re.match(r"^(NL|LD|PV)", obs["RegioS"]) or obs["RegioS"] == "GM0014":
            expected = math.nan if obs["Value"] is None else float(obs["Value"])
            assert same(actual[key], expected), key
            kept += 1
    assert kept > 0
    pairs = set(zip(published.period_code.astype(str), published.status.astype(str), strict=True))
    assert pairs == {(p, status[p]) for p, _ in pairs}


def test_03759ned_measure_titles_and_units_are_cbs(raw_dir: Path) -> None:
    measures = read_raw_json(raw_dir / "cbs/03759ned/odata_v4_2026/measure-codes.json")["value"]
    decl = get_declaration("03759ned")
    for m in measures:
        assert decl.measures[m["Identifier"]].title == m["Title"].strip()
        assert decl.measures[m["Identifier"]].unit == m["Unit"]


# ----------------------------------------------------------------- 70072ned (untyped CSV, padded)


def test_70072ned_padded_cells_and_derived_regions(raw_dir: Path) -> None:
    rows = read_semicolon(raw_dir / "cbs/70072ned/70072ned_UntypedDataSet_29122019_191739.csv")
    measures = get_declaration("70072ned").measures
    raw = {
        (r["RegioS"].strip(), r["Perioden"], m): cell_value(r[m]) for r in rows for m in measures
    }
    frame = load_table("70072ned")
    actual = values_by(frame, ["region_code", "period_code", "measure_code"])
    spots = [
        ("TotaleBevolking_1", "1995JJ00"),
        ("TotaleBevolking_1", "2019JJ00"),
        ("TotaalAantalBanen_112", "2018JJ00"),
        ("BFNijverheidEnEnergie_114", "2018JJ00"),
        ("BedrijfsvestigingenTotaal_164", "2013JJ00"),
        ("HogerBeroepsonderwijs_106", "2019JJ00"),
    ]
    for measure, period in spots:
        for region in ("PV20", "PV21", "PV31"):
            assert same(actual[(region, period, measure)], raw[(region, period, measure)])
        north = [raw[(f"PV{i}", period, measure)] for i in (20, 21, 22)]
        assert same(actual[("LD01", period, measure)], sum(north))  # NaN if a part is
        every = [raw[(f"PV{i}", period, measure)] for i in range(20, 32)]
        assert same(actual[("NL01", period, measure)], sum(every))
    # '.' (secret) for Groningen's B-F jobs in 2018 -> NaN, and the North's sum is missing too
    assert rows and math.isnan(actual[("PV20", "2018JJ00", "BFNijverheidEnEnergie_114")])
    assert math.isnan(actual[("LD01", "2018JJ00", "BFNijverheidEnEnergie_114")])
    assert not {m for m in frame.measure_code.astype(str)} & {
        "Code_285",
        "Naam_286",
        "Akkerbouw_184",
    }


# ----------------------------------------------------------------- DUO hbo (JSON)


def test_duo_sums_of_published_cells(raw_dir: Path) -> None:
    records = read_raw_json(
        raw_dir / "duo/ingeschrevenen_hbo_2020_2024/duo_ingeschrevenhbo_2024.json"
    )
    frame = load_table("duo-hbo")
    actual = values_by(
        frame,
        ["region_code", "period_code", "croho_sector_name", "programme_type_name", "measure_code"],
    )

    def own_sum(year: str, keep) -> tuple[int, int]:
        cells = [r[year] for r in records if keep(r)]
        return sum(c for c in cells if isinstance(c, int)), sum(1 for c in cells if c == "<5")

    provinces = {"NL01": None, "PV20": "Groningen", "PV21": "Friesland", "PV22": "Drenthe"}
    for year in ("2020", "2024"):
        for code, name in provinces.items():
            total, hidden = own_sum(year, lambda r, n=name: n is None or r["PROVINCIE"] == n)
            key = (code, f"{year}JJ00", "Totaal", "Totaal")
            assert actual[(*key, "Ingeschrevenen")] == total
            assert actual[(*key, "CellenKleinerDan5")] == hidden
        north, _ = own_sum(year, lambda r: r["PROVINCIE"] in ("Groningen", "Friesland", "Drenthe"))
        assert actual[("LD01", f"{year}JJ00", "Totaal", "Totaal", "Ingeschrevenen")] == north
        tech, _ = own_sum(
            year,
            lambda r: (
                (r["GEMEENTENUMMER"], r["ONDERDEEL"], r["TYPE HOGER ONDERWIJS"])
                == ("0014", "techniek", "bachelor")
            ),
        )
        assert actual[("GM0014", f"{year}JJ00", "techniek", "bachelor", "Ingeschrevenen")] == tech
    assert set(frame.status.astype(str)) == {"berekend"}


# ----------------------------------------------------------------- national tables


def test_85423ned_is_national_with_every_category(raw_dir: Path) -> None:
    rows = read_semicolon(raw_dir / "cbs/85423NED/85423NED.csv")
    frame = load_table("85423NED")
    assert set(frame.region_code.astype(str)) == {"NL01"}
    assert len(frame) == len(rows)
    actual = values_by(
        frame,
        ["period_code", "sex_name", "education_type_name", "study_phase_name", "study_mode_name"],
    )
    for r in rows[:: max(1, len(rows) // 40)]:
        key = (
            period_code_of(r["Perioden"]),
            r["Geslacht"],
            r["Onderwijssoort"],
            r["Opleidingsfase"],
            r["Opleidingsvorm"],
        )
        assert same(actual[key], cell_value(r["TotaalIngeschrevenen_1"]))
    codes = dict(zip(frame.sex_name.astype(str), frame.sex_code.astype(str), strict=False))
    assert codes["Totaal mannen en vrouwen"] == "T001038"


def test_70960ned_titles_and_units_from_the_labelled_export(raw_dir: Path) -> None:
    with open_raw(
        raw_dir / "cbs/70960ned/Windenergie_op_land__per_provincie_24052022_142754.csv"
    ) as fh:
        header = next(csv.reader(fh, delimiter=";"))[2:]
    decl = get_declaration("70960ned")
    assert len(header) == len(decl.measures)
    for cell, (key, measure) in zip(header, decl.measures.items(), strict=True):
        m = re.fullmatch(r"[^/]+/(.+) \((.+)\)", cell)
        assert m, cell
        assert (measure.title, measure.unit) == (m[1], m[2]), key


# ----------------------------------------------------------------- malformed files


def broken_copy(
    raw_dir: Path, tmp_path: Path, rel: str, line: int, old: str, new: str, encoding: str = "utf-8"
) -> Path:
    """Copy a raw file to the same relative place under tmp_path with ``old`` -> ``new`` on one
    line (1-based); return the copy's path."""
    source = raw_dir / rel
    target = tmp_path / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = read_raw_text(source, encoding).split("\n")
    assert old in lines[line - 1], (rel, line, lines[line - 1][:200])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    target.write_text("\n".join(lines), encoding=encoding)
    return target


@pytest.mark.parametrize(
    ("table_id", "line", "old", "new", "message"),
    [
        ("85924NED", 5, ";25137.0;", ";25137.0x;", "not a number or CBS marker"),  # harvested
        (
            "83582NED-harvest",
            3,
            "Noord-Nederland (LD)",
            "Noordelijk-Nederland (LD)",
            "unknown region title",
        ),
        ("85268NED", 4, "2013 3e kwartaal", "2013 derde kwartaal", "unknown CBS period label"),
        ("83582NED", 3, "47.8", "47.8x", "not a number or CBS marker"),  # v3 codes: bad cell
        ("83582NED", 3, "47.8", "47,8", "fields"),  # v3 codes: ragged line
        ("85924NED", 7, ";4.2;", ";4;2;", "fields"),  # harvested: ragged line
        (
            "85924NED",
            8,
            ";12260.2;9959.6;2300.6",
            "",
            "fields, the header has",
        ),  # harvested: short line
        ("83582NED", 4, ",46.1", "", "fields, the header has"),  # v3 codes: short line
        ("83582NED", 6, "2014JJ00", "2014XX00", "not a CBS period code"),
        (
            "70072ned",
            3,
            '"1996JJ00"',
            '"1996JJ00";"extra"',
            "fields, the header has",
        ),  # untyped: ragged
        ("85701NED", 30, ";510;", ";5l0;", "not a number or CBS marker"),  # wide: bad cell
        ("81575ned", 10, '"670"', '"6 7 0"', "not a number or CBS marker"),  # StatWeb: bad cell
    ],
)
@pytest.mark.slow
def test_malformed_csv_names_file_and_line(
    table_id: str, line: int, old: str, new: str, message: str, raw_dir: Path, tmp_path: Path
) -> None:
    decl = get_declaration(table_id)
    rel = decl.sources[-1 if table_id == "85701NED" else 0].path
    encoding = "latin-1" if table_id == "81575ned" else "utf-8"
    if table_id == "83582NED-harvest":
        line = next(
            i for i, text in enumerate(read_raw_text(raw_dir / rel).split("\n"), 1) if old in text
        )
    copy = broken_copy(raw_dir, tmp_path, rel, line, old, new, encoding)
    for other in decl.sources:
        if other.path != rel:
            copy_raw(raw_dir / other.path, tmp_path / other.path)
    with pytest.raises(SourceFormatError, match=re.escape(f"{copy}:{line}:") + ".*" + message):
        import_table(decl, tmp_path)


def test_malformed_v4_observation_names_file_and_line(raw_dir: Path, tmp_path: Path) -> None:
    folder = "cbs/03759ned/odata_v4_2026"
    for file in (raw_dir / folder).iterdir():  # plain copies
        copy_raw(
            file.with_name(file.name.removesuffix(".gz")),
            tmp_path / folder / file.name.removesuffix(".gz"),
        )
    copy = broken_copy(
        raw_dir,
        tmp_path,
        f"{folder}/observations-page-1.json",
        20,
        '"Value": 17344874',
        '"Value": "17344874"',
    )
    with pytest.raises(SourceFormatError, match=re.escape(f"{copy}:16:") + ".*must be a number"):
        import_table(get_declaration("03759ned"), tmp_path)


def test_invalid_json_names_file_and_line(raw_dir: Path, tmp_path: Path) -> None:
    rel = "duo/ingeschrevenen_hbo_2020_2024/duo_ingeschrevenhbo_2024.json"
    copy = broken_copy(raw_dir, tmp_path, rel, 45, '"2022": ', '"2022" ')
    with pytest.raises(SourceFormatError, match=re.escape(f"{copy}:45:") + " not valid JSON"):
        import_table(get_declaration("duo-hbo"), tmp_path)


def test_duo_bad_cell_names_file_and_line(raw_dir: Path, tmp_path: Path) -> None:
    rel = "duo/ingeschrevenen_hbo_2020_2024/duo_ingeschrevenhbo_2024.json"
    copy = broken_copy(raw_dir, tmp_path, rel, 24, '"2021": 5,', '"2021": "<3",')
    with pytest.raises(SourceFormatError, match=re.escape(f"{copy}:22:") + ".*neither a count"):
        import_table(get_declaration("duo-hbo"), tmp_path)


def test_undeclared_column_is_an_error_unless_the_table_keeps_a_declared_subset(
    raw_dir: Path, tmp_path: Path
) -> None:
    decl = get_declaration("85924NED")
    trimmed = decl.model_copy(update={"measures": dict(list(decl.measures.items())[:-1])})
    with pytest.raises(
        SourceFormatError, match="neither declared dimensions nor declared measures"
    ):
        import_table(trimmed, raw_dir)
    subset = trimmed.model_copy(update={"keep_declared_measures_only": True, "reduction": "test"})
    frame = import_table(subset, raw_dir)
    assert "GewerkteUrenZelfstandigen_15" not in set(frame.measure_code.astype(str))


def test_every_source_format_a_declaration_may_name_has_an_importer() -> None:
    for fmt in get_args(SourceFormat):
        assert callable(get_importer(fmt)), fmt


# ----------------------------------------------------------------- 82352NED, 85922NED, 82797NED,
# 82538NED, 83583NED: each against its raw file, and its completeness as PROVENANCE.md states it

NORTH_TITLES = {"Groningen (PV)": "PV20", "Drenthe (PV)": "PV22", "Noord-Nederland (LD)": "LD01"}
NORTH_PV = ("PV20", "PV21", "PV22")


def raw_table(raw_dir: Path, table_id: str) -> list[dict[str, str]]:
    return read_semicolon(raw_dir / f"cbs/{table_id}/{table_id}.csv")


def region_code_of(title: str) -> str | None:
    title = title.strip()
    return REGION_TITLES.get(title) or NORTH_TITLES.get(title)


def test_82352ned_every_northern_and_national_cell(raw_dir: Path) -> None:
    rows = raw_table(raw_dir, "82352NED")
    assert len(rows) == 102  # 17 regions x 6 years, as PROVENANCE.md states
    actual = values_by(load_table("82352NED"), ["region_code", "period_code", "measure_code"])
    checked = 0
    for r in rows:
        code = region_code_of(r["RegioS"])
        if code is None:
            continue
        for measure in ("VerrichteRDUitgavenEigenPersoneel_1", "ArbeidsjarenEigenRDPersoneel_2"):
            key = (code, period_code_of(r["Perioden"]), measure)
            assert same(actual[key], cell_value(r[measure])), key
            checked += 1
    assert checked == 5 * 6 * 2  # NL, LD01, PV20, PV21 ('Friesland (PV)' here), PV22, 6 years
    # Groningen and Drenthe 2011 are suppressed: missing, never 0
    for code in ("PV20", "PV22"):
        assert math.isnan(actual[(code, "2011JJ00", "VerrichteRDUitgavenEigenPersoneel_1")])
    # the North's published total equals its provinces in 2015 (PROVENANCE.md's check)
    by = {(r["RegioS"], r["Perioden"]): r for r in rows}
    parts = ["Groningen (PV)", "Friesland (PV)", "Drenthe (PV)"]
    north = float(by[("Noord-Nederland (LD)", "2015")]["VerrichteRDUitgavenEigenPersoneel_1"])
    summed = sum(float(by[(p, "2015")]["VerrichteRDUitgavenEigenPersoneel_1"]) for p in parts)
    assert north == summed == actual[("LD01", "2015JJ00", "VerrichteRDUitgavenEigenPersoneel_1")]


def test_85922ned_is_complete_and_equal_to_the_raw_cells(raw_dir: Path) -> None:
    rows = raw_table(raw_dir, "85922NED")
    assert len(rows) == 2156 == 77 * 28
    frame = load_table("85922NED")
    assert frame.value.notna().all()
    levels = frame.drop_duplicates("region_code").region_level.astype(str).value_counts()
    assert levels.to_dict() == {"CR": 40, "PV": 12, "LD": 4, "NL": 1}
    assert frame.groupby("region_code", observed=True).period_code.nunique().eq(28).all()
    actual = values_by(frame, ["region_code", "period_code", "measure_code"])
    measures = [m for m in rows[0] if m not in ("ID", "RegioS", "Perioden")]
    for r in rows:
        code = {"Fryslân (PV)": "PV21"}.get(r["RegioS"]) or region_code_of(r["RegioS"])
        if code in ("NL01", "LD01", "PV21", "CR01"):
            for measure in measures:
                key = (code, period_code_of(r["Perioden"]), measure)
                assert actual[key] == cell_value(r[measure]), key
    # the North's R&D investment is its provinces' sum within CBS's rounding (PROVENANCE.md)
    north = actual[("LD01", "2022JJ00", "OnderzoekEnOntwikkeling_10")]
    provinces = [actual[(p, "2022JJ00", "OnderzoekEnOntwikkeling_10")] for p in NORTH_PV]
    assert abs(north - sum(provinces)) <= 1


@pytest.mark.slow
def test_82797ned_holds_what_its_provenance_says_is_complete(raw_dir: Path) -> None:
    rows = raw_table(raw_dir, "82797NED")
    frame = load_table("82797NED")
    years = set(range(1995, 2016))
    present = frame.groupby(["sector_code", "region_code"], observed=True).year.agg(set)
    regions = set(frame.region_code.astype(str))
    assert len(regions) == 57
    for sector in ("A-U", "A", "B", "B-E", "C", "D"):  # complete for every region, 1995-2015
        assert all(present[(sector, region)] == years for region in regions), sector
    with_e = {r for (s, r), y in present.items() if s == "E" and y == years}
    assert {"NL01", "LD01", "LD02", "LD03", "LD04", *NORTH_PV, "PV23", "PV27"} <= with_e
    assert not {"PV29", "PV30", "PV31", "CR01"} & set(present.loc["E"].index)
    assert present[("E", "PV28")] == set(range(1995, 1999))  # Zuid-Holland to 1998
    actual = values_by(frame, ["region_code", "period_code", "sector_name", "measure_code"])
    for r in rows:
        code = region_code_of(r["RegioS"])
        if code is None or r["Perioden"].strip() not in ("1995", "2015"):
            continue
        for measure in ("BrutoToegevoegdeWaardeBasisprijzen_3", "ArbeidsvolumeWerkzamePersonen_8"):
            key = (code, period_code_of(r["Perioden"]), r["BedrijfstakkenBranchesSBI2008"], measure)
            assert same(actual[key], cell_value(r[measure])), key


def test_82538ned_all_activities_complete_where_cbs_publishes_provinces(raw_dir: Path) -> None:
    rows = [
        r
        for r in raw_table(raw_dir, "82538NED")
        if r["BedrijfstakkenBranchesSBI2008"] == "A-U Alle economische activiteiten"
    ]
    frame = load_table("82538NED")
    all_activities = frame[frame.sector_code == "A-U"]
    upper = all_activities[all_activities.region_level.isin(["NL", "LD", "PV"])]
    assert len(upper) == 17 * 14 * 2 and upper.value.notna().all()
    actual = values_by(all_activities, ["region_code", "period_code", "measure_code"])
    wanted = {**NORTH_TITLES, "Nederland": "NL01", "Fryslân (PV)": "PV21",
              "Groningen (gemeente)": "GM0014", "Leeuwarden": "GM0080"}  # fmt: skip
    checked = 0
    for r in rows:
        if r["RegioS"] in wanted:
            for measure in ("GeleverdAardgas_1", "GeleverdeElektriciteit_2"):
                key = (wanted[r["RegioS"]], period_code_of(r["Perioden"]), measure)
                assert same(actual[key], cell_value(r[measure])), key
                checked += 1
    assert checked == len(wanted) * 14 * 2
    # Nederland = the 12 provinces + 'Niet in te delen (PV)' (dropped by the snapshot rule),
    # to CBS's rounding
    unassigned = {
        (period_code_of(r["Perioden"]), m): cell_value(r[m])
        for r in rows
        if r["RegioS"] == "Niet in te delen (PV)"
        for m in ("GeleverdAardgas_1", "GeleverdeElektriciteit_2")
    }
    for (period, measure), group in upper[upper.region_level == "PV"].groupby(
        [upper.period_code.astype(str), upper.measure_code.astype(str)], observed=True
    ):
        total = group.value.sum() + unassigned[(period, measure)]
        assert abs(total - actual[("NL01", period, measure)]) <= 2, (period, measure)


def test_83583ned_national_sections_c_d_e_and_total_complete(raw_dir: Path) -> None:
    rows = raw_table(raw_dir, "83583NED")
    frame = load_table("83583NED")
    assert set(frame.region_code.astype(str)) == {"NL01"} and len(frame) == len(rows) == 10000
    actual = values_by(frame, ["period_code", "sector_name", "firm_size_name"])
    sections = {"A-U", "C", "D", "E"}
    checked = 0
    for r in rows:
        sector = r["BedrijfstakkenBranchesSBI2008"]
        if sector.split(" ", 1)[0] in sections:
            key = (
                period_code_of(r["Perioden"], december=True),
                sector,
                r["Bedrijfsgrootte"].strip(),
            )
            assert same(actual[key], cell_value(r["BanenVanWerknemersInDecember_1"])), key
            checked += 1
    assert checked == len(sections) * 6 * 14  # 6 size classes x 14 years each
    totals = frame[(frame.firm_size_code == "L_totaal") & frame.sector_code.isin(sections)]
    assert totals.value.notna().all()
