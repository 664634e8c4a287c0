"""The themes (``data/specialisations.yaml``): the paper's specialisations and foundation themes,
their sectors, rationale, limits and indicators.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from noordstats import paths
from noordstats.declarations.files import ConfigError, Strict, fail, read_yaml, validate_entries
from noordstats.declarations.indicators import Indicator, load_indicators, unknown_indicator
from noordstats.declarations.tables import TableDeclaration, declarations

#: The paper's four specialisations, then its foundation themes, in the paper's order.
SPECIALISATION_IDS = [
    "cleantech",
    "life_sciences_health",
    "ai_digital",
    "defence_security",
    "agrofood",
    "talent",
    "economy",
    "vestigingsklimaat",
]


class Specialisation(Strict):
    id: str
    title_nl: str
    title_en: str
    kind: Literal["specialisation", "foundation"]
    sbi: list[str] = Field(default=[], description="sector codes of 83582NED that proxy it")
    sbi_broad: list[str] = Field(
        default=[], description="sector codes shown for context, too broad to count as it"
    )
    rationale: str
    limits: str
    indicators: list[str]


def read_specialisations(
    path: Path, indicators: dict[str, Indicator], tables: dict[str, TableDeclaration] | None = None
) -> dict[str, Specialisation]:
    """``data/specialisations.yaml`` -> {id: Specialisation}, the SPECIALISATION_IDS in order."""
    tables = declarations() if tables is None else tables
    raw = read_yaml(path, "specialisations")
    extra = sorted(set(raw) - {"specialisations", "sector_table"})
    if extra:
        raise ConfigError(f"{path}: unknown top-level key {extra[0]!r}")
    sector_table = raw.get("sector_table", "83582NED")
    entries = validate_entries(path, raw["specialisations"], Specialisation)
    if list(entries) != SPECIALISATION_IDS:
        raise ConfigError(
            f"{path}: specialisations must be exactly, in this order: "
            f"{', '.join(SPECIALISATION_IDS)} (found: {', '.join(entries)})"
        )
    if sector_table not in tables:
        raise ConfigError(f"{path}: sector_table {sector_table!r} is not declared in tables.yaml")
    sector_codes = {
        code for dim in tables[sector_table].dimensions.values() for code in dim.codes.values()
    }
    for spec in entries.values():
        for key in ("sbi", "sbi_broad"):
            unknown = [c for c in getattr(spec, key) if c not in sector_codes]
            if unknown:
                fail(
                    path, spec.id, key, f"sector codes not in {sector_table}: {', '.join(unknown)}"
                )
        for ind_id in spec.indicators:
            if ind_id not in indicators:
                fail(path, spec.id, "indicators", unknown_indicator(ind_id, indicators))
    return entries


@cache
def load_specialisations() -> dict[str, Specialisation]:
    """The shipped specialisations and themes (``data/specialisations.yaml``), validated."""
    return read_specialisations(paths.SPECIALISATIONS_FILE, load_indicators())


def check_specialisation(spec_id: str) -> str:
    """Return ``spec_id`` if declared, else raise ConfigError naming the valid ids."""
    if spec_id not in SPECIALISATION_IDS:
        raise ConfigError(
            f"unknown specialisation {spec_id!r}; valid: {', '.join(SPECIALISATION_IDS)}"
        )
    return spec_id
