"""The indicators (``data/indicators.yaml``): which cells of which table, and how they become
a figure. Tables, measures and dimension codes are checked against the table declarations.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from noordstats import paths
from noordstats.declarations.files import (
    ConfigError,
    Strict,
    fail,
    read_file_model,
    validate_entries,
)
from noordstats.declarations.tables import TableDeclaration, continuation_chain, declarations
from noordstats.declarations.texts import (
    Text,
    deprecated_text_property,
    old_text_keys_folder,
    warn_old_form,
)

#: How an indicator turns table values into a figure (see noordstats.analysis.arithmetic).
TRANSFORMS = {
    "level": "the value itself (sum of the selected cells)",
    "share_of_nl": "region / Nederland x 100, same period",
    "share_of_region": "numerator / denominator x 100 within the region, same period",
    "per_1000_inhabitants": "numerator / denominator (inhabitants) x 1000, same period",
    "location_quotient": "(region part / region total) / (NL part / NL total), same period",
    "index_nl_100": "region / Nederland x 100 (an index: NL = 100), same period",
    "quotient": "numerator / denominator within the region, same period (e.g. per labour year)",
    "growth": "% change of the level over span_years",
    "cagr": "average annual % change of the level over span_years",
    "chained_cagr": "average annual % change compounded from published yearly % changes; with "
    "'minus', the yearly volume changes of the total minus a part, weighted by the previous "
    "year's current-price values ('weights')",
}


NEEDS_DENOMINATOR = {"share_of_region", "per_1000_inhabitants", "location_quotient", "quotient"}


NEEDS_SPAN = {"growth", "cagr", "chained_cagr"}


class Selection(Strict):
    """Cells of one table: one or more measures, summed, optionally filtered on dimensions."""

    table: str
    measure: str | list[str] = Field(description="CBS measure key(s); several are summed")
    filters: dict[str, list[str]] = Field(
        default={}, description="dimension column stem -> codes to keep (summed)"
    )
    minus: dict[str, list[str]] = Field(
        default={},
        description="dimension column stem -> codes whose cells are subtracted: the selection "
        "minus the same cells with these codes (value added of A-U minus B: filters {sector: "
        "[A-U]}, minus {sector: [B]}); a missing cell on either side makes the figure missing",
    )

    def without_minus(self) -> Selection:
        """The selection before the subtraction."""
        return Selection(table=self.table, measure=self.measure, filters=self.filters)

    def subtracted(self) -> Selection:
        """The cells that are subtracted: the filters with ``minus`` in place."""
        return Selection(
            table=self.table, measure=self.measure, filters={**self.filters, **self.minus}
        )

    @property
    def measures(self) -> list[str]:
        return [self.measure] if isinstance(self.measure, str) else list(self.measure)


class Indicator(Selection):
    id: str
    title: Text = Field(description="{language: title}")
    definition: Text = Field(description="{language: definition}")
    unit: Text = Field(description="{language: unit} (one string when it has no words: '%')")
    transform: str
    denominator: Selection | None = None
    weights: Selection | None = Field(
        default=None,
        description="current-price values (same dimension codes as filters and minus) that "
        "weight yearly volume changes when a chained_cagr subtracts a part ('minus')",
    )
    span_years: int | None = Field(default=None, ge=1, le=40)
    frequency: Literal["year", "school-year", "quarter", "month", "half-year"] = "year"
    better: Literal["higher", "lower", "neutral"]
    additive: bool = Field(
        default=False,
        description="counts that may be summed: a missing LD/NL row is then the sum of provinces",
    )
    decimals: int = Field(default=1, ge=0, le=4)
    comparability: Text = Field(default_factory=Text, description="{language: comparability}")
    dated_reason: Text = Field(
        default_factory=Text,
        description="{language: why no fresher table is shipped} (said for figures before 2015)",
    )

    _fold_old_text_keys = model_validator(mode="before")(old_text_keys_folder("indicator"))
    title_nl = deprecated_text_property("title", "nl")
    title_en = deprecated_text_property("title", "en")
    definition_nl = deprecated_text_property("definition", "nl")
    unit_nl = deprecated_text_property("unit", "nl")
    comparability_nl = deprecated_text_property("comparability", "nl")
    dated_reason_nl = deprecated_text_property("dated_reason", "nl")

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
        if self.transform == "chained_cagr" and bool(self.minus) != (self.weights is not None):
            raise ValueError("a chained_cagr with 'minus' needs 'weights', and 'weights' a 'minus'")
        if self.weights is not None and set(self.weights.minus) != set(self.minus):
            raise ValueError("'weights' must subtract the same dimension as 'minus'")
        return self

    @property
    def selections(self) -> list[Selection]:
        return [s for s in (self, self.denominator, self.weights) if s is not None]

    @property
    def tables(self) -> list[str]:
        """The tables it reads, newest first, each followed by the older tables it continues."""
        ids = dict.fromkeys(s.table for s in self.selections)
        return list(dict.fromkeys(t for i in ids for t in continuation_chain(i)))


class IndicatorFile(Strict):
    indicators: list[dict]
    region_profile: list[str]


class IndicatorRegistry(dict[str, Indicator]):
    """{id: Indicator}, plus the ids shown in a region profile (``region_profile``)."""

    region_profile: list[str]


def unknown_indicator(indicator_id: str, indicators: dict[str, Indicator]) -> str:
    return f"unknown indicator {indicator_id!r}; valid: {', '.join(indicators)}"


def _check_selection(
    path: Path, entry: str, key: str, sel: Selection, tables: dict[str, TableDeclaration]
) -> Selection:
    """``sel`` checked against its table's declaration, with its filter codes as CBS keys."""
    prefix = f"{key}." if key else ""
    if sel.table not in tables:
        fail(
            path,
            entry,
            f"{prefix}table",
            f"unknown table {sel.table!r}; known: {', '.join(tables)}",
        )
    decl = tables[sel.table]
    for measure in sel.measures:
        if measure not in decl.measures:
            valid = ", ".join(decl.measures)
            fail(
                path,
                entry,
                f"{prefix}measure",
                f"{sel.table} has no measure {measure!r}; valid: {valid}",
            )
    columns = {dim.column: dim for dim in decl.dimensions.values()}
    filters = {}
    for column, codes in sel.filters.items():
        if column not in columns:
            valid = ", ".join(columns) or "(none)"
            fail(
                path,
                entry,
                f"{prefix}filters.{column}",
                f"table {sel.table} has no dimension {column!r}; dimensions: {valid}",
            )
        filters[column], unknown = columns[column].resolve_codes(codes)
        if unknown:
            fail(
                path,
                entry,
                f"{prefix}filters.{column}",
                f"codes not declared for table {sel.table}: {', '.join(unknown)}",
            )
    minus = {}
    for column, codes in sel.minus.items():
        if column not in sel.filters:
            fail(
                path, entry, f"{prefix}minus.{column}",
                f"'minus' subtracts codes of a dimension the filters select; filters: "
                f"{', '.join(sel.filters) or '(none)'}",
            )  # fmt: skip
        minus[column], unknown = columns[column].resolve_codes(codes)
        if unknown:
            fail(
                path, entry, f"{prefix}minus.{column}",
                f"codes not declared for table {sel.table}: {', '.join(unknown)}",
            )  # fmt: skip
    return sel.model_copy(update={"filters": filters, "minus": minus})


def read_indicators(
    path: Path, tables: dict[str, TableDeclaration] | None = None
) -> IndicatorRegistry:
    """``data/indicators.yaml`` -> {id: Indicator}; tables and measures are checked."""
    tables = declarations() if tables is None else tables
    top = read_file_model(path, "indicators", IndicatorFile)
    entries = validate_entries(path, top.indicators, Indicator)
    warn_old_form(path, [("indicator", raw) for raw in top.indicators])
    for ind_id, ind in entries.items():
        checked = _check_selection(path, ind.id, "", ind, tables)
        if ind.denominator is not None:
            denominator = _check_selection(path, ind.id, "denominator", ind.denominator, tables)
            checked = checked.model_copy(update={"denominator": denominator})
        if ind.weights is not None:
            weights = _check_selection(path, ind.id, "weights", ind.weights, tables)
            checked = checked.model_copy(update={"weights": weights})
        entries[ind_id] = checked
    registry = IndicatorRegistry(entries)
    for ind_id in top.region_profile:
        if ind_id not in registry:
            fail(path, "region_profile", "region_profile", unknown_indicator(ind_id, registry))
    registry.region_profile = list(top.region_profile)
    return registry


@cache
def load_indicators() -> IndicatorRegistry:
    """The shipped indicators (``data/indicators.yaml``), validated."""
    return read_indicators(paths.INDICATORS_FILE)


def check_indicator(indicator_id: str) -> Indicator:
    """The declared indicator, else ConfigError naming the valid ids."""
    indicators = load_indicators()
    if indicator_id not in indicators:
        raise ConfigError(f"unknown indicator {indicator_id!r}; valid: {', '.join(indicators)}")
    return indicators[indicator_id]


def region_profile_tables() -> list[str]:
    """Table ids behind the region profile's key figures (``region_profile`` of the file)."""
    catalogue = load_indicators()
    return list(dict.fromkeys(t for i in catalogue.region_profile for t in catalogue[i].tables))
