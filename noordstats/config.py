"""The analyst-editable declarations: indicators, specialisations and the paper's claims.

Each file in ``data/`` is validated by a pydantic schema that refuses unknown keys and wrong
types; cross-references are checked (an indicator's table and measure must be declared in
``data/tables.yaml``, a claim's and a specialisation's indicators must exist). Every error names
the file, the entry and the key, and is a :class:`ConfigError` (the CLI prints it on one line and
exits with status 2).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from noordstats import paths
from noordstats.schema import TableDeclaration, format_validation_error
from noordstats.snapshot import declarations

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

#: How an indicator turns table values into a figure (see noordstats.transforms).
TRANSFORMS = {
    "level": "the value itself (sum of the selected cells)",
    "share_of_nl": "region / Nederland x 100, same period",
    "share_of_region": "numerator / denominator x 100 within the region, same period",
    "per_1000_inhabitants": "numerator / denominator (inhabitants) x 1000, same period",
    "location_quotient": "(region part / region total) / (NL part / NL total), same period",
    "ratio_to_nl": "region / Nederland x 100 (index, NL = 100), same period",
    "quotient": "numerator / denominator within the region, same period (e.g. per labour year)",
    "growth": "% change of the level over span_years",
    "cagr": "average annual % change of the level over span_years",
    "chained_cagr": "average annual % change compounded from published yearly % changes",
}
NEEDS_DENOMINATOR = {"share_of_region", "per_1000_inhabitants", "location_quotient", "quotient"}
NEEDS_SPAN = {"growth", "cagr", "chained_cagr"}

VERDICTS = [
    "supported",
    "partly supported",
    "not supported",
    "insufficient data",
    "not testable",
]
METRICS = {
    "value": "the region's figure",
    "minus_nl": "the region's figure minus the Netherlands' figure",
    "ratio_to_nl": "the region's figure / the Netherlands' figure",
    "rank": "the region's rank among regions of its level (1 = best)",
}


class ConfigError(ValueError):
    """A declaration file (indicators, specialisations, claims) or a user choice that is wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Selection(_Strict):
    """Cells of one table: one or more measures, summed, optionally filtered on dimensions."""

    table: str
    measure: str | list[str] = Field(description="CBS measure key(s); several are summed")
    filters: dict[str, list[str]] = Field(
        default={}, description="dimension column stem -> codes to keep (summed)"
    )

    @property
    def measures(self) -> list[str]:
        return [self.measure] if isinstance(self.measure, str) else list(self.measure)


class Indicator(Selection):
    id: str
    title_nl: str
    title_en: str
    definition: str
    unit: str
    transform: str
    denominator: Selection | None = None
    span_years: int | None = Field(default=None, ge=1, le=40)
    frequency: Literal["year", "school-year", "quarter", "month", "half-year"] = "year"
    better: Literal["higher", "lower", "neutral"]
    additive: bool = Field(
        default=False,
        description="counts that may be summed: a missing LD/NL row is then the sum of provinces",
    )
    decimals: int = Field(default=1, ge=0, le=4)
    comparability: str = ""

    @field_validator("transform")
    @classmethod
    def _known_transform(cls, value: str) -> str:
        if value not in TRANSFORMS:
            raise ValueError(f"unknown transform {value!r}; valid: {', '.join(TRANSFORMS)}")
        return value

    @model_validator(mode="after")
    def _transform_arguments(self) -> Indicator:
        if self.transform in NEEDS_DENOMINATOR and self.denominator is None:
            raise ValueError(f"transform {self.transform!r} needs a 'denominator'")
        if self.transform in NEEDS_SPAN and self.span_years is None:
            raise ValueError(f"transform {self.transform!r} needs 'span_years'")
        return self

    @property
    def selections(self) -> list[Selection]:
        return [self, self.denominator] if self.denominator else [self]

    @property
    def tables(self) -> list[str]:
        return list(dict.fromkeys(s.table for s in self.selections))


class IndicatorFile(_Strict):
    indicators: list[dict]
    region_profile: list[str]


class Specialisation(_Strict):
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


class Condition(_Strict):
    metric: Literal["value", "minus_nl", "ratio_to_nl", "rank"] = "value"
    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _has_bound(self) -> Condition:
        if all(b is None for b in (self.at_least, self.above, self.at_most, self.below)):
            raise ValueError("a condition needs at least one of at_least, above, at_most, below")
        return self


class Rule(_Strict):
    indicator: str
    text: str = Field(description="the rule in words and numbers, written before the figures")
    supported: list[Condition]
    partly: list[Condition] = []
    max_verdict: Literal["supported", "partly supported"] = "supported"
    min_year: int | None = None


class Claim(_Strict):
    id: str
    section: str
    theme: str
    quote_nl: str
    claim_en: str
    testable: bool
    indicators: list[str] = []
    rationale: str
    rule: Rule | None = None
    reason_not_testable: str | None = None

    @model_validator(mode="after")
    def _rule_or_reason(self) -> Claim:
        if self.testable and self.rule is None:
            raise ValueError("a testable claim needs a 'rule'")
        if not self.testable and not self.reason_not_testable:
            raise ValueError("a claim that is not testable needs 'reason_not_testable'")
        if not self.testable and self.rule is not None:
            raise ValueError("a claim that is not testable cannot have a 'rule'")
        return self


class ClaimFile(_Strict):
    default_min_year: int = Field(
        description="figures older than this cannot test a claim about today"
    )
    claims: list[dict]


_Model = TypeVar("_Model", bound=BaseModel)


class IndicatorRegistry(dict[str, Indicator]):
    """{id: Indicator}, plus the ids shown in a region profile (``region_profile``)."""

    region_profile: list[str]


def _declared_tables() -> dict[str, TableDeclaration]:
    """tables.yaml plus tables.local.yaml (analyst imports), as the snapshot knows them."""
    return declarations()


def _read_yaml(path: Path, top_key: str) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get(top_key), list):
        raise ConfigError(f"{path}: expected a top-level '{top_key}:' list")
    return raw


def _read_file_model(path: Path, top_key: str, model: type[_Model]) -> _Model:
    """Read a declaration file and validate its top level against ``model``."""
    raw = _read_yaml(path, top_key)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, "(file)", exc, model)) from None


def _validate_entries(
    path: Path, items: list, model: type[_Model], id_key: str = "id"
) -> dict[str, _Model]:
    entries: dict[str, _Model] = {}
    for i, item in enumerate(items):
        entry = item.get(id_key, f"#{i}") if isinstance(item, dict) else f"#{i}"
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: entry {entry!r}: expected a mapping of keys")
        try:
            obj = model.model_validate(item)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(path, str(entry), exc, model)) from None
        key = getattr(obj, id_key)
        if key in entries:
            raise ConfigError(f"{path}: entry {key!r}, key 'id': duplicate id")
        entries[key] = obj
    return entries


def _fail(path: Path, entry: str, key: str, message: str) -> None:
    raise ConfigError(f"{path}: entry {entry!r}, key {key!r}: {message}")


def _unknown_indicator(indicator_id: str, indicators: dict[str, Indicator]) -> str:
    return f"unknown indicator {indicator_id!r}; valid: {', '.join(indicators)}"


def _check_selection(
    path: Path, entry: str, key: str, sel: Selection, tables: dict[str, TableDeclaration]
) -> None:
    prefix = f"{key}." if key else ""
    if sel.table not in tables:
        _fail(
            path,
            entry,
            f"{prefix}table",
            f"unknown table {sel.table!r}; known: {', '.join(tables)}",
        )
    decl = tables[sel.table]
    for measure in sel.measures:
        if measure not in decl.measures:
            valid = ", ".join(decl.measures)
            _fail(
                path,
                entry,
                f"{prefix}measure",
                f"{sel.table} has no measure {measure!r}; valid: {valid}",
            )
    columns = {dim.column: dim for dim in decl.dimensions.values()}
    for column, codes in sel.filters.items():
        if column not in columns:
            valid = ", ".join(columns) or "(none)"
            _fail(
                path,
                entry,
                f"{prefix}filters.{column}",
                f"table {sel.table} has no dimension {column!r}; dimensions: {valid}",
            )
        known = set(columns[column].codes.values())
        unknown = [c for c in codes if known and c not in known]
        if unknown:
            _fail(
                path,
                entry,
                f"{prefix}filters.{column}",
                f"codes not declared for table {sel.table}: {', '.join(unknown)}",
            )


def read_indicators(
    path: Path, tables: dict[str, TableDeclaration] | None = None
) -> IndicatorRegistry:
    """``data/indicators.yaml`` -> {id: Indicator}; tables and measures are checked."""
    tables = _declared_tables() if tables is None else tables
    top = _read_file_model(path, "indicators", IndicatorFile)
    entries = _validate_entries(path, top.indicators, Indicator)
    for ind in entries.values():
        _check_selection(path, ind.id, "", ind, tables)
        if ind.denominator is not None:
            _check_selection(path, ind.id, "denominator", ind.denominator, tables)
    registry = IndicatorRegistry(entries)
    for ind_id in top.region_profile:
        if ind_id not in registry:
            _fail(path, "region_profile", "region_profile", _unknown_indicator(ind_id, registry))
    registry.region_profile = list(top.region_profile)
    return registry


def read_specialisations(
    path: Path, indicators: dict[str, Indicator], tables: dict[str, TableDeclaration] | None = None
) -> dict[str, Specialisation]:
    """``data/specialisations.yaml`` -> {id: Specialisation}, the SPECIALISATION_IDS in order."""
    tables = _declared_tables() if tables is None else tables
    raw = _read_yaml(path, "specialisations")
    extra = sorted(set(raw) - {"specialisations", "sector_table"})
    if extra:
        raise ConfigError(f"{path}: unknown top-level key {extra[0]!r}")
    sector_table = raw.get("sector_table", "83582NED")
    entries = _validate_entries(path, raw["specialisations"], Specialisation)
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
                _fail(
                    path, spec.id, key, f"sector codes not in {sector_table}: {', '.join(unknown)}"
                )
        for ind_id in spec.indicators:
            if ind_id not in indicators:
                _fail(path, spec.id, "indicators", _unknown_indicator(ind_id, indicators))
    return entries


def read_claims(path: Path, indicators: dict[str, Indicator]) -> list[Claim]:
    """``data/claims.yaml`` -> claims in file order; indicators and themes are checked."""
    top = _read_file_model(path, "claims", ClaimFile)
    entries = _validate_entries(path, top.claims, Claim)
    claims = []
    for claim in entries.values():
        if claim.theme not in SPECIALISATION_IDS:
            valid = ", ".join(SPECIALISATION_IDS)
            _fail(path, claim.id, "theme", f"unknown theme {claim.theme!r}; valid: {valid}")
        for ind_id in claim.indicators:
            if ind_id not in indicators:
                _fail(path, claim.id, "indicators", _unknown_indicator(ind_id, indicators))
        if claim.rule is not None:
            if claim.rule.indicator not in claim.indicators:
                _fail(
                    path,
                    claim.id,
                    "rule.indicator",
                    f"{claim.rule.indicator!r} is not one of the claim's indicators",
                )
            if claim.rule.min_year is None:
                claim = claim.model_copy(
                    update={
                        "rule": claim.rule.model_copy(update={"min_year": top.default_min_year})
                    }
                )
        claims.append(claim)
    return claims


@cache
def load_indicators() -> IndicatorRegistry:
    """The shipped indicators (``data/indicators.yaml``), validated."""
    return read_indicators(paths.INDICATORS_FILE)


@cache
def load_specialisations() -> dict[str, Specialisation]:
    """The shipped specialisations and themes (``data/specialisations.yaml``), validated."""
    return read_specialisations(paths.SPECIALISATIONS_FILE, load_indicators())


@cache
def load_claims() -> list[Claim]:
    """The paper's claims (``data/claims.yaml``), validated, in the paper's order."""
    return read_claims(paths.CLAIMS_FILE, load_indicators())


def check_specialisation(spec_id: str) -> str:
    """Return ``spec_id`` if declared, else raise ConfigError naming the valid ids."""
    if spec_id not in SPECIALISATION_IDS:
        raise ConfigError(
            f"unknown specialisation {spec_id!r}; valid: {', '.join(SPECIALISATION_IDS)}"
        )
    return spec_id


def check_indicator(indicator_id: str) -> Indicator:
    """The declared indicator, else ConfigError naming the valid ids."""
    indicators = load_indicators()
    if indicator_id not in indicators:
        raise ConfigError(f"unknown indicator {indicator_id!r}; valid: {', '.join(indicators)}")
    return indicators[indicator_id]
