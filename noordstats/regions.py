"""Region codes <-> names, levels and hierarchy (NL > LD > PV > CR / GM).

The registry is built from CBS's own region code list (``RegioS`` of 03759ned, OData v4,
2026 edition) by :func:`build_region_registry` and shipped as ``data/snapshot/regions.csv``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from noordstats import paths
from noordstats.cbs_codes import CodeError, region_level, strip_key
from noordstats.errors import UserError
from noordstats.storage import rawfiles

if TYPE_CHECKING:
    import pandas as pd

NORTH = "LD01"
NETHERLANDS = "NL01"
NORTHERN_PROVINCES = ("PV20", "PV21", "PV22")

#: Every region level the registry holds.
ALL_LEVELS = ("NL", "LD", "PV", "CR", "GM")

#: Levels kept in the embedded snapshot (municipalities only for the North).
SNAPSHOT_LEVELS = ("NL", "LD", "PV", "CR")

#: Levels below the country (a region is ranked among its level's regions).
SUBNATIONAL_LEVELS = ALL_LEVELS[1:]

#: Levels a report can be about (the country is what a report compares with).
REPORT_LEVELS = ("LD", "PV", "CR")

#: Levels a report's ``region`` parameter takes: those, and the North's municipalities (where the
#: snapshot holds figures of the municipality for the report).
REPORT_PARAMETER_LEVELS = (*REPORT_LEVELS, "GM")

#: Levels whose every region the claims are evaluated for (landsdelen and provinces).
PEER_LEVELS = ("LD", "PV")

#: Levels named one by one in a message (COROP areas and municipalities are summarised).
NAMED_LEVELS = ("NL", "LD", "PV")

#: Older CBS titles that current code lists no longer carry.
TITLE_ALIASES = {"Friesland (PV)": "PV21", "Friesland": "PV21"}

_SUFFIX = re.compile(r"\s*\((LD|PV|CR|GM|gemeente)\)$")


class RegionError(UserError):
    """An unknown region code or label."""


def build_region_registry(codes_json: Path) -> pd.DataFrame:
    """CBS ``codes-RegioS.json`` (OData v4, plain or ``.gz``) -> one row per NL/LD/PV/CR/GM code
    with its parents."""
    # deferred: pandas takes ~0.7 s to import; `noordstats --help` and `--version` do not need it
    import pandas as pd

    items = json.loads(rawfiles.read_text(codes_json, encoding="utf-8"))["value"]
    rows = []
    for item in items:
        code = strip_key(item["Identifier"])
        try:
            level = region_level(code)
        except CodeError:
            continue
        group = item.get("DimensionGroupId") or ""
        rows.append(
            {
                "region_code": code,
                "region_name": _SUFFIX.sub("", item["Title"]).strip(),
                "region_level": level,
                "cbs_title": item["Title"],
                "province_code": group[2:] if group[:2] in {"GM", "CR"} else None,
                "description": item.get("Description") or "",
            }
        )
    regions = pd.DataFrame(rows)
    # Landsdelen name their provinces in CBS's description ("Noord-Nederland: Groningen, ...").
    province_by_name = {
        r.region_name: r.region_code for r in regions.itertuples() if r.region_level == "PV"
    }
    province_by_name.update({"Friesland": "PV21"})
    landsdeel_of: dict[str, str] = {}
    for r in regions[regions.region_level == "LD"].itertuples():
        match = re.search(re.escape(r.region_name) + r":\s*([^\r\n]+)", r.description)
        if not match:
            raise RegionError(f"{codes_json}: landsdeel {r.region_code} lists no provinces")
        for name in match.group(1).split(","):
            landsdeel_of[province_by_name[name.strip()]] = r.region_code
    regions.loc[regions.region_level == "PV", "province_code"] = regions["region_code"]
    regions["landsdeel_code"] = regions["province_code"].map(landsdeel_of)
    regions.loc[regions.region_level == "LD", "landsdeel_code"] = regions["region_code"]
    return regions.drop(columns="description").sort_values("region_code", ignore_index=True)


_BOUNDARY_CHANGE = re.compile(r"^Grenswijziging per (\d\d)-(\d\d)-(\d{4}):?\s*$")
_MOVED = re.compile(
    r"^- (?:Ontvangen van|Over naar) .*?\((?P<other>[A-Z]{2}\d+)\),? (?P<ha>\d+) hectare met "
    r"(?P<dwellings>\d+) woning(?:en)? en (?P<inhabitants>\d+) inwoners?"
)
BOUNDARY_CHANGE_COLUMNS = [
    "region_code", "effective_date", "year", "other_region_code", "hectares", "inhabitants",
]  # fmt: skip


def build_boundary_changes(codes_json: Path) -> pd.DataFrame:
    """CBS ``codes-RegioS.json`` -> one row per boundary change of a landsdeel, province or COROP
    area that CBS describes ("Grenswijziging per 01-01-2014: - Ontvangen van Noord-Friesland
    (CR04), 2998 hectare met 981 woningen en 2436 inwoners"): the region, the date, the other
    region and what moved (hectares, inhabitants), as CBS states them."""
    # deferred: pandas takes ~0.7 s to import; `noordstats --help` and `--version` do not need it
    import pandas as pd

    items = json.loads(rawfiles.read_text(codes_json, encoding="utf-8"))["value"]
    rows = []
    for item in items:
        code = strip_key(item["Identifier"])
        if code[:2] not in {"LD", "PV", "CR"}:
            continue
        date = None
        for line in (item.get("Description") or "").splitlines():
            line = line.strip()
            if header := _BOUNDARY_CHANGE.match(line):
                day, month, year = header.groups()
                date = f"{year}-{month}-{day}"
            elif date and (moved := _MOVED.match(line)):
                rows.append(
                    {
                        "region_code": code,
                        "effective_date": date,
                        "year": int(date[:4]),
                        "other_region_code": moved["other"],
                        "hectares": int(moved["ha"]),
                        "inhabitants": int(moved["inhabitants"]),
                    }
                )
            elif not line.startswith("..."):
                date = None if not line.startswith("-") else date
    frame = pd.DataFrame(rows, columns=BOUNDARY_CHANGE_COLUMNS)
    return frame.sort_values(
        ["region_code", "effective_date", "other_region_code"], ignore_index=True, kind="stable"
    )


@cache
def load_boundary_changes() -> pd.DataFrame:
    """The shipped boundary changes (``region_boundary_changes.csv`` beside ``regions.csv``)."""
    # deferred: pandas takes ~0.7 s to import; `noordstats --help` and `--version` do not need it
    import pandas as pd

    return pd.read_csv(
        paths.REGIONS_FILE.parent / paths.BOUNDARY_CHANGES_NAME,
        dtype={"region_code": str, "effective_date": str, "other_region_code": str},
    )


@cache
def load_regions() -> pd.DataFrame:
    """The shipped region registry (``data/snapshot/regions.csv``)."""
    # deferred: pandas takes ~0.7 s to import; `noordstats --help` and `--version` do not need it
    import pandas as pd

    return pd.read_csv(paths.REGIONS_FILE, dtype=str, keep_default_na=False).replace("", None)


def clear_caches() -> None:
    """Forget the registry and everything derived from it (after the file was rebuilt)."""
    for function in (
        load_regions,
        load_boundary_changes,
        _by_title,
        _northern_municipalities_by_title,
        _names,
        _registry,
        _codes_at,
    ):
        function.cache_clear()


@cache
def _registry() -> dict[str, tuple[str, str | None, str | None]]:
    """{code: (level, province, landsdeel)}: the registry as a lookup, for the functions that
    the claims matrix calls thousands of times."""
    found: dict[str, tuple[str, str | None, str | None]] = {}
    for r in load_regions().itertuples():
        province = r.province_code if isinstance(r.province_code, str) else None
        landsdeel = r.landsdeel_code if isinstance(r.landsdeel_code, str) else None
        found.setdefault(r.region_code, (r.region_level, province, landsdeel))
    return found


@cache
def _codes_at(level: str) -> tuple[str, ...]:
    return tuple(sorted(code for code, row in _registry().items() if row[0] == level))


@cache
def _by_title() -> dict[str, str]:
    regions = load_regions()
    mapping = {"Nederland": NETHERLANDS}
    for r in regions.itertuples():
        if r.region_level in REPORT_LEVELS:
            mapping[r.cbs_title] = r.region_code
    mapping.update({k: v for k, v in TITLE_ALIASES.items() if "(" in k})
    return mapping


@cache
def _northern_municipalities_by_title() -> dict[str, str]:
    regions = load_regions()
    gm = regions[(regions.region_level == "GM") & regions.province_code.isin(NORTHERN_PROVINCES)]
    mapping: dict[str, str] = {}
    for r in gm.itertuples():
        mapping[r.cbs_title] = r.region_code
        mapping.setdefault(r.region_name, r.region_code)
    return mapping


def resolve_region_title(title: str, municipalities: bool = True) -> str | None:
    """A CBS region title as harvested (``'Groningen (PV)'``) -> its code, or None when the title
    names a region outside the snapshot (SG, GA, AM, ES, other municipalities, ...)."""
    bare = title.strip()
    code = _by_title().get(bare)
    if code is None and municipalities:
        code = _northern_municipalities_by_title().get(bare)
    return code


@cache
def _names() -> dict[str, str]:
    regions = load_regions()
    names = dict(zip(regions.region_code, regions.region_name, strict=True))
    names.setdefault(NETHERLANDS, "Nederland")
    return names


def region_name(code: str) -> str:
    """``'PV21'`` -> ``'Fryslân'``; RegionError naming the valid codes for an unknown one."""
    try:
        return _names()[code]
    except KeyError:
        raise RegionError(_unknown_region_message(code, ALL_LEVELS)) from None


def _unknown_region_message(code: str, levels: tuple[str, ...]) -> str:
    """One line naming the codes valid at ``levels`` (COROP and GM summarised)."""
    valid = list(list_regions(tuple(lv for lv in levels if lv in NAMED_LEVELS)).region_code)
    if "CR" in levels:
        valid.append("CR01..CR40")
    if "GM" in levels:
        valid.append("or a northern GM code")
    return f"unknown region {code!r}; valid: {', '.join(valid)}"


def check_region(code: str, levels: tuple[str, ...] = ALL_LEVELS) -> str:
    """Return ``code`` if the registry knows it at one of ``levels``, else raise RegionError."""
    row = _registry().get(code)
    if row is None or row[0] not in levels:
        raise RegionError(_unknown_region_message(code, levels))
    return code


def list_regions(levels: tuple[str, ...] = SNAPSHOT_LEVELS) -> pd.DataFrame:
    regions = load_regions()
    return regions[regions.region_level.isin(levels)].reset_index(drop=True)


def provinces_of(landsdeel: str) -> list[str]:
    """``'LD01'`` -> ``['PV20', 'PV21', 'PV22']``."""
    regions = load_regions()
    check_region(landsdeel, ("LD",))
    mask = (regions.region_level == "PV") & (regions.landsdeel_code == landsdeel)
    return sorted(regions.loc[mask, "region_code"])


def corop_areas_of(region: str) -> list[str]:
    """COROP areas within a province or landsdeel."""
    regions = load_regions()
    level = region_level(region)
    column = {"PV": "province_code", "LD": "landsdeel_code"}.get(level)
    if column is None:
        raise RegionError(f"COROP areas exist within a PV or LD region, not {region!r}")
    cr = regions[regions.region_level == "CR"].copy()
    cr["landsdeel_code"] = cr.province_code.map(
        dict(zip(regions.region_code, regions.landsdeel_code, strict=True))
    )
    return sorted(cr.loc[cr[column] == region, "region_code"])


def peers_of(code: str) -> list[str]:
    """All regions at the same level as ``code`` (the 12 provinces for a PV, ...)."""
    return list(_codes_at(region_level(code)))


def containing_regions(code: str) -> list[str]:
    """The regions ``code`` lies in, nearest first, up to (not including) Nederland:
    ``'CR05'`` -> ``['PV21', 'LD01']``, ``'GM0014'`` -> ``['PV20', 'LD01']``, ``'PV20'`` ->
    ``['LD01']``. From CBS's own code list (a COROP area and a municipality name their province,
    a landsdeel its provinces); the registry has no municipality -> COROP key, so a municipality
    goes straight to its province."""
    row = _registry().get(code)
    if row is None:
        raise RegionError(_unknown_region_message(code, ALL_LEVELS))
    level, province, landsdeel = row
    chain = [province] if level in {"CR", "GM"} else []
    if level in {"PV", "CR", "GM"}:
        chain.append(landsdeel)
    return [c for c in chain if c and c != code]


def northern_municipalities() -> list[str]:
    """Municipality codes of the three northern provinces (every edition CBS's list holds)."""
    regions = load_regions()
    gm = regions[(regions.region_level == "GM") & regions.province_code.isin(NORTHERN_PROVINCES)]
    return sorted(gm.region_code)
