"""DUO open onderwijsdata "Ingeschrevenen hbo" as a JSON array (one object per row of DUO's CSV:
``PROVINCIE``, ``GEMEENTENUMMER``, ``ONDERDEEL``, ``TYPE HOGER ONDERWIJS``, ..., and one key per
year, ``"2020"`` .. ``"2024"``, holding a count or the string ``"<5"``).

DUO counts enrolments by the location of the teaching site, per programme. This importer sums
them per municipality (``GM`` + ``GEMEENTENUMMER``), province (DUO's province names, e.g.
``Friesland``), landsdeel and Nederland, for every CROHO sector (``ONDERDEEL``) and programme type
(``TYPE HOGER ONDERWIJS``) and their totals (code ``T``). A ``"<5"`` cell is **not counted**: the
sums are sums of the published cells, and a second measure counts the ``"<5"`` cells left out of
each sum. Every row is a computed sum: status ``berekend``. Year keys become year codes
(``"2024"`` -> ``2024JJ00``) as DUO labels them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from noordstats import regions as reg
from noordstats.declarations.tables import SourceFile, TableDeclaration
from noordstats.ingest.importers.common import SourceFormatError, label_codes
from noordstats.ingest.importers.json_records import read_json_items
from noordstats.storage import rawfiles

SUPPRESSED = "<5"
TOTAL_CODE = "T"
TOTAL_NAME = "Totaal"
ENROLMENTS = "Ingeschrevenen"
SUPPRESSED_CELLS = "CellenKleinerDan5"
REGION_FIELDS = ("PROVINCIE", "GEMEENTENUMMER")
_YEAR_KEY = re.compile(r"^\d{4}$")


def province_codes() -> dict[str, str]:
    """DUO province names -> PV codes (CBS names, plus DUO's 'Friesland')."""
    registry = reg.load_regions()
    provinces = registry[registry.region_level == "PV"]
    names = dict(zip(provinces.region_name, provinces.region_code, strict=True))
    names.update({k: v for k, v in reg.TITLE_ALIASES.items() if "(" not in k})
    return names


def read_records(path: Path, dimension_keys: list[str]) -> pd.DataFrame:
    """One row per (record, year): region fields, dimension labels, count, is_suppressed."""
    provinces = province_codes()
    municipalities = set(reg.load_regions().query("region_level == 'GM'").region_code)
    rows = []
    for line, item in read_json_items(path):
        if not isinstance(item, dict):
            raise SourceFormatError(f"{path}:{line}: a record must be a JSON object")
        missing = [k for k in (*REGION_FIELDS, *dimension_keys) if k not in item]
        years = [k for k in item if _YEAR_KEY.match(k)]
        if missing or not years:
            lacking = ", ".join(missing) or "year keys ('2024', ...)"
            raise SourceFormatError(f"{path}:{line}: record lacks {lacking}")
        province = provinces.get(str(item["PROVINCIE"]).strip())
        if province is None:
            raise SourceFormatError(f"{path}:{line}: unknown province {item['PROVINCIE']!r}")
        municipality = "GM" + str(item["GEMEENTENUMMER"]).strip().zfill(4)
        if municipality not in municipalities:
            number = item["GEMEENTENUMMER"]
            raise SourceFormatError(
                f"{path}:{line}: GEMEENTENUMMER {number!r} is not a CBS municipality"
            )
        labels = {k: str(item[k]).strip() for k in dimension_keys}
        for year in years:
            cell = item[year]
            suppressed = cell == SUPPRESSED
            if not suppressed and (isinstance(cell, bool) or not isinstance(cell, int)):
                raise SourceFormatError(
                    f"{path}:{line}: year {year}: {cell!r} is neither a count nor {SUPPRESSED!r}"
                )
            rows.append(
                {
                    "PV": province,
                    "GM": municipality,
                    "year": year,
                    **labels,
                    "count": 0 if suppressed else cell,
                    "suppressed": int(suppressed),
                }
            )
    return pd.DataFrame(rows)


def import_source(decl: TableDeclaration, source: SourceFile, raw_dir: Path) -> pd.DataFrame:
    path = rawfiles.stored_path(raw_dir / source.path)
    keys = list(decl.dimensions)
    records = read_records(path, keys)
    registry = reg.load_regions().set_index("region_code")
    records["LD"] = records.PV.map(registry.landsdeel_code)
    records["NL"] = reg.NETHERLANDS
    parts = []
    for level in ("NL", "LD", "PV", "GM"):
        for totals in _total_combinations(keys):
            group = records.assign(**{k: TOTAL_NAME for k in totals})
            summed = group.groupby([level, "year", *keys], as_index=False)[
                ["count", "suppressed"]
            ].sum()
            parts.append(summed.rename(columns={level: "region_code"}))
    sums = pd.concat(parts, ignore_index=True)
    frame = pd.DataFrame(
        {
            "region_code": sums.region_code,
            "period_code": sums.year + "JJ00",
            "status": "berekend",
        }
    )
    for key, dim in decl.dimensions.items():
        frame[f"{dim.column}_name"] = sums[key]
        frame[f"{dim.column}_code"] = label_codes(sums[key], {TOTAL_NAME: TOTAL_CODE, **dim.codes})
    enrolments = frame.assign(measure_code=ENROLMENTS, value=sums["count"].astype("float64"))
    suppressed = frame.assign(
        measure_code=SUPPRESSED_CELLS, value=sums.suppressed.astype("float64")
    )
    return pd.concat([enrolments, suppressed], ignore_index=True)


def _total_combinations(keys: list[str]) -> list[tuple[str, ...]]:
    """Every subset of the dimensions to replace by their total (none, each, ..., all)."""
    combos: list[tuple[str, ...]] = [()]
    for key in keys:
        combos += [(*c, key) for c in combos]
    return combos
