"""The region registry: its structure, its error messages, and its COROP -> province mapping
checked against CBS's own published totals."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from noordstats import regions as reg
from tests.raw_helpers import open_raw

PROVINCES = [f"PV{n}" for n in range(20, 32)]


def test_twelve_provinces_four_landsdelen_one_nederland() -> None:
    registry = reg.load_regions()
    by_level = registry.groupby("region_level").region_code.apply(sorted).to_dict()
    assert by_level["PV"] == PROVINCES
    assert by_level["LD"] == ["LD01", "LD02", "LD03", "LD04"]
    assert by_level["NL"] == ["NL01"]
    assert reg.region_name("PV21") == "Fryslân"
    assert reg.region_name("LD01") == "Noord-Nederland"


def test_the_north_is_groningen_fryslan_drenthe() -> None:
    assert reg.provinces_of(reg.NORTH) == ["PV20", "PV21", "PV22"]
    assert list(reg.NORTHERN_PROVINCES) == reg.provinces_of("LD01")
    every = sorted(p for ld in ("LD01", "LD02", "LD03", "LD04") for p in reg.provinces_of(ld))
    assert every == PROVINCES  # each province in exactly one landsdeel


def test_forty_corop_areas_each_in_a_province() -> None:
    registry = reg.load_regions()
    corop = registry[registry.region_level == "CR"]
    assert sorted(corop.region_code) == [f"CR{n:02d}" for n in range(1, 41)]
    assert corop.province_code.isin(PROVINCES).all()
    assert reg.corop_areas_of("LD01") == [f"CR0{n}" for n in range(1, 10)]
    assert reg.corop_areas_of("PV20") == ["CR01", "CR02", "CR03"]
    assert reg.corop_areas_of("PV21") == ["CR04", "CR05", "CR06"]
    assert reg.corop_areas_of("PV22") == ["CR07", "CR08", "CR09"]
    assert sum(len(reg.corop_areas_of(p)) for p in PROVINCES) == 40


def test_municipalities_have_a_province_and_landsdeel() -> None:
    registry = reg.load_regions()
    gm = registry[registry.region_level == "GM"]
    # CBS's list holds one code outside every province: GM0997 'Centraal persoonsregister (CPR)'
    outside = gm[~gm.province_code.isin(PROVINCES)]
    assert list(outside.region_code) == ["GM0997"]
    northern = gm[gm.province_code.isin(reg.NORTHERN_PROVINCES)]
    assert (northern.landsdeel_code == "LD01").all()
    assert registry.set_index("region_code").loc["GM0014", "province_code"] == "PV20"


def test_codes_follow_cbs_prefixes() -> None:
    codes = reg.load_regions().region_code
    assert codes.str.match(r"^(NL|LD|PV|CR|GM)\d+$").all()
    assert codes.is_unique


@pytest.mark.parametrize("code", ["XX99", "PV99", "pv20", "Groningen", "CR41"])
def test_unknown_region_lists_the_valid_codes(code: str) -> None:
    with pytest.raises(reg.RegionError) as info:
        reg.check_region(code)
    message = str(info.value)
    assert repr(code) in message
    for valid in ("NL01", "LD01", "PV20", "PV31", "CR01..CR40"):
        assert valid in message


def test_check_region_respects_levels() -> None:
    assert reg.check_region("PV20", ("PV",)) == "PV20"
    with pytest.raises(reg.RegionError):
        reg.check_region("GM0014", ("NL", "LD", "PV", "CR"))


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("Nederland", "NL01"),
        ("Noord-Nederland (LD)", "LD01"),
        ("Groningen (PV)", "PV20"),
        ("Fryslân (PV)", "PV21"),
        ("Friesland (PV)", "PV21"),
        ("Oost-Groningen (CR)", "CR01"),
        ("Groningen", "GM0014"),
        ("Amsterdam", None),  # a municipality outside the North: not in the snapshot
        ("Groningen (SG)", None),
    ],
)
def test_resolve_region_title(title: str, code: str | None) -> None:
    assert reg.resolve_region_title(title) == code


def test_peers_of_a_province_are_the_twelve() -> None:
    assert reg.peers_of("PV22") == PROVINCES


def test_shipped_registry_is_the_cbs_code_list(raw_dir: Path) -> None:
    built = reg.build_region_registry(raw_dir / "cbs/03759ned/odata_v4_2026/codes-RegioS.json")
    shipped = reg.load_regions()
    pd.testing.assert_frame_equal(
        built.fillna("").astype(str).reset_index(drop=True),
        shipped.fillna("").astype(str)[built.columns].reset_index(drop=True),
    )


def test_corop_to_province_mapping_adds_up_in_cbs_data(raw_dir: Path) -> None:
    """In 83582NED (harvested copy, CBS's own totals), every province's jobs equal the sum of
    its COROP areas per the registry, within rounding (each figure rounded to 0.1 thousand)."""
    with open_raw(raw_dir / "cbs/83582NED/83582NED.csv") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    registry = reg.load_regions()
    code_of = dict(zip(registry.cbs_title, registry.region_code, strict=True))
    code_of["Friesland (PV)"] = "PV21"
    province_of = dict(zip(registry.region_code, registry.province_code, strict=True))
    totals: dict[tuple, float] = {}
    parts: dict[tuple, list[float]] = defaultdict(list)
    for r in rows:
        title, value = r["RegioS"].strip(), r["BanenVanWerknemersInDecember_1"]
        if not value or not re.search(r"\((PV|CR)\)$", title) or title not in code_of:
            continue
        code = code_of[title]
        key = (r["BedrijfstakkenBranchesSBI2008"], r["Perioden"])
        if code.startswith("PV"):
            totals[(*key, code)] = float(value)
        else:
            parts[(*key, province_of[code])].append(float(value))
    areas = registry[registry.region_level == "CR"].province_code.value_counts()
    compared = 0
    for key, total in totals.items():
        if len(parts.get(key, [])) == areas[key[-1]]:  # every COROP area of it published
            assert abs(sum(parts[key]) - total) <= 0.05 * len(parts[key]) + 1e-9, key
            compared += 1
    assert compared >= 12 * 14  # every province, every year, for A-U at least
