"""The one canonical layout every table is brought into, and the declaration of each table.

A tidy table has one row per (region, period, other dimensions, measure) with the columns
:data:`LEADING_COLUMNS`, then ``<dim>_code`` / ``<dim>_name`` for each other dimension
(``sector_code``, ``sector_name``, ...), then :data:`TRAILING_COLUMNS` (see ``docs/data.md``).
:class:`TableDeclaration` is one entry of ``data/tables.yaml`` (or ``data/tables.local.yaml``);
:func:`read_table_declarations` validates such a file and names file, entry and key on error.

:func:`declarations` merges ``data/tables.yaml`` and ``data/tables.local.yaml``;
:func:`get_declaration` finds one table.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Literal, NoReturn

import yaml
from pydantic import Field, ValidationError, model_validator

from noordstats import paths
from noordstats.cbs_codes import title_from_key
from noordstats.declarations.files import SAFE_LOADER, Strict, format_validation_error
from noordstats.errors import UserError

LICENCE = "CC BY 4.0 — Bron: CBS"


LEADING_COLUMNS = [
    "region_code",
    "region_name",
    "region_level",
    "period_code",
    "year",
    "frequency",
    "period_index",
    "status",
]


TRAILING_COLUMNS = ["measure_code", "measure_title", "unit", "value"]


SourceFormat = Literal[
    "harvested_csv",  # dertje/cbs_datasets: ';' CSV, CBS titles instead of codes
    "odata_v3_csv",  # raw OData v3 rows with padded keys and period codes
    "odata_v4_json",  # datasets.cbs.nl captures: observations + code lists
    "statline_untyped_csv",  # StatLine UntypedDataSet/TypedDataSet export with codes
    "statline_wide_csv",  # StatLine 'CSV met statistische symbolen', pivoted, labels
    "statweb_transposed_csv",  # old StatWeb export: regions as columns, latin-1
    "duo_json",  # DUO open onderwijsdata converted to JSON
]


RegionLevel = Literal["NL", "LD", "PV", "CR", "GM"]


class _RegionSumOptions(Strict):
    derive_regions_from: RegionLevel | None = Field(
        default=None, description="sum the regions above this level where the file lacks them"
    )
    derive_regions_to: list[RegionLevel] | None = Field(
        default=None, description="the levels to sum to (default PV, LD, NL)"
    )


class HarvestedOptions(Strict):
    year_label_suffix: str | None = Field(default=None, description="'2023 december' -> 2023")


class OdataV3Options(_RegionSumOptions):
    separator: str = ","


class OdataV4Options(_RegionSumOptions):
    pass


class StatlineUntypedOptions(_RegionSumOptions):
    metadata: str | None = Field(default=None, description="the metadata export beside the file")


class StatlineWideOptions(_RegionSumOptions):
    encoding: str = "utf-8-sig"
    unassigned_region: str = ""
    decimal_comma: bool = False


class StatwebOptions(Strict):
    encoding: str = "latin-1"
    measure: str = ""


class NoOptions(Strict):
    pass


#: the options each source format takes (anything else is refused)
SOURCE_OPTIONS: dict[str, type[Strict]] = {
    "harvested_csv": HarvestedOptions,
    "odata_v3_csv": OdataV3Options,
    "odata_v4_json": OdataV4Options,
    "statline_untyped_csv": StatlineUntypedOptions,
    "statline_wide_csv": StatlineWideOptions,
    "statweb_transposed_csv": StatwebOptions,
    "duo_json": NoOptions,
}


#: source formats that give CBS titles, not keys: the snapshot's codes of a dimension read from
#: them were rebuilt from the titles (``'A-U'``, ``'L_totaal'``) unless the declaration's
#: ``codes`` give the CBS key; a live download reconciles them through CBS's titles
LABEL_FORMATS = frozenset({"harvested_csv", "statline_wide_csv", "statweb_transposed_csv"})
#: ... and those whose dimension and measure keys were made here too (exports without CBS keys)
LABEL_KEY_FORMATS = frozenset({"statline_wide_csv", "statweb_transposed_csv"})


class SourceFile(Strict):
    path: str = Field(description="path below the folder named by `root`")
    root: Literal["raw", "imports"] = Field(
        default="raw",
        description="'raw': the raw captures (data/raw/ or NOORDSTATS_RAW_DIR); 'imports': "
        "data/imports/, where `noordstats snapshot import` keeps the files an analyst added",
    )
    format: SourceFormat
    repository: str
    commit: str
    options: dict[str, str | int | bool | list[str] | dict[str, str]] = {}

    @model_validator(mode="after")
    def _options_of_the_format(self) -> SourceFile:
        model = SOURCE_OPTIONS[self.format]
        unknown = sorted(set(self.options) - set(model.model_fields))
        if unknown:
            valid = ", ".join(model.model_fields) or "none"
            raise ValueError(
                f"unknown option {unknown[0]!r} for format {self.format}; valid: {valid}"
            )
        model.model_validate(self.options)
        return self


class Dimension(Strict):
    column: str = Field(description="canonical column stem, e.g. 'sector' -> sector_code/_name")
    title: str
    codes: dict[str, str] = Field(
        default={},
        description="label -> code where the source has labels only and CBS codes are known",
    )

    def resolve_codes(self, codes: list[str]) -> tuple[list[str], list[str]]:
        """(CBS keys, unknown): each of ``codes`` is a declared key or the code that starts its
        label (an SBI letter: ``'D'`` for ``'D Energievoorziening'``). Without declared codes
        every code is taken as it is."""
        if not self.codes:
            return list(codes), []
        keys = set(self.codes.values())
        by_label_code = {label.split()[0]: key for label, key in self.codes.items() if label}
        resolved = [c if c in keys else by_label_code.get(c, "") for c in codes]
        unknown = [c for c, key in zip(codes, resolved, strict=True) if not key]
        return [key for key in resolved if key], unknown


class Measure(Strict):
    title: str = Field(description="CBS's title; built from the key when a source gives none")
    unit: str | None = None
    unit_note: str | None = None


class Continuation(Strict):
    """This table continues an older one (a new edition, a successor CBS publishes under
    another id): an indicator reads this table and the older one only for the periods this one
    lacks, and marks the break."""

    table: str = Field(description="id of the older table (declared here too)")
    note: str = Field(description="what changed between the two (edition, classification)")
    measures: dict[str, str] = Field(
        default={}, description="this table's measure key -> the older table's, where they differ"
    )


class Release(Strict):
    """When a table that is not CBS's (DUO's) was published and is next expected: such a table
    is never fetched live, so it is out of date only by this rule, not because CBS was asked."""

    as_of: dt.date = Field(description="the date the shipped copy stands at ('stand van')")
    as_of_note: str = Field(description="where that date comes from")
    next_expected: dt.date = Field(description="when the publisher's next release is expected")
    overdue_after_days: int = Field(
        default=365, ge=0, description="days past next_expected before the copy counts as stale"
    )

    @property
    def overdue_after(self) -> dt.date:
        """The last day on which the shipped copy still counts as current."""
        return self.next_expected + dt.timedelta(days=self.overdue_after_days)


class TableDeclaration(Strict):
    id: str
    title: str
    title_note: str | None = None
    publisher: Literal["CBS", "DUO"] = "CBS"
    licence: str = LICENCE
    captured: dt.date | None = Field(
        default=None, description="date the raw file was captured, where its provenance states it"
    )
    captured_note: str | None = Field(
        default=None, description="what is known about the capture when no date is stated"
    )
    modified: dt.date | None = None
    completeness: Literal["complete", "partial"]
    completeness_note: str
    regional_method: Literal["observed", "allocated"] | None = Field(
        default=None,
        description="how the regional figures are made: 'observed' where the activity takes "
        "place (per establishment), or 'allocated' over regions by a key (e.g. economic size); "
        "an allocated table is never the primary reading for where an activity takes place",
    )
    regional_method_note: str | None = Field(
        default=None, description="the evidence for regional_method (CBS's words or a check)"
    )
    reduction: str | None = None
    national: bool = Field(
        default=False,
        description="the table has no region dimension: every row is Nederland (NL01)",
    )
    keep_declared_measures_only: bool = Field(
        default=False,
        description="drop measure columns that are not declared (a declared subset; `reduction` "
        "states the rule). Without it an undeclared column is an error.",
    )
    measure_title_note: str | None = Field(
        default=None, description="where the measure titles come from"
    )
    cbs_table: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z]+$",
        description="the CBS table a copy declared under its own id is refreshed from "
        "(83582NED-harvest: 83582NED); default: the id itself",
    )
    continues: Continuation | None = Field(
        default=None, description="the older table this one continues (see Continuation)"
    )
    release: Release | None = Field(
        default=None,
        description="a table not published by CBS: its release date and when it counts as stale",
    )
    region_dimension: str = "RegioS"
    period_dimension: str = "Perioden"
    sources: list[SourceFile]
    dimensions: dict[str, Dimension] = {}
    measures: dict[str, Measure]
    provenance: list[str]

    @model_validator(mode="before")
    @classmethod
    def _title_measures_from_keys(cls, data: object) -> object:
        """A measure declared without a title gets one built from its CBS key."""
        if isinstance(data, dict) and isinstance(data.get("measures"), dict):
            measures = {}
            for key, measure in data["measures"].items():
                if measure is None:
                    measure = {}
                if isinstance(measure, dict) and "title" not in measure:
                    measure = {**measure, "title": title_from_key(str(key))}
                measures[key] = measure
            data = {**data, "measures": measures}
        return data

    @property
    def live_id(self) -> str:
        """The id CBS serves the table under."""
        return self.cbs_table or self.id

    @property
    def codes_from_labels(self) -> bool:
        """Were the snapshot's dimension codes rebuilt from CBS titles (a label-only source)?"""
        return any(source.format in LABEL_FORMATS for source in self.sources)

    @property
    def keys_from_labels(self) -> bool:
        """Were the declared dimension and measure keys made from titles (no CBS keys given)?"""
        return any(source.format in LABEL_KEY_FORMATS for source in self.sources)

    @model_validator(mode="after")
    def _check_notes(self) -> TableDeclaration:
        if self.regional_method is not None and not self.regional_method_note:
            raise ValueError("'regional_method' needs 'regional_method_note' (the evidence)")
        if self.captured is None and not self.captured_note:
            raise ValueError("give 'captured' (a date) or, when no date is stated, 'captured_note'")
        if self.publisher == "CBS" and self.release is not None:
            raise ValueError("'release' is for a table not published by CBS (CBS's are asked live)")
        if self.keep_declared_measures_only and not self.reduction:
            raise ValueError("'keep_declared_measures_only' needs a 'reduction' stating the rule")
        return self

    def provenance_fields(self) -> dict[str, str | None]:
        """Title, publisher, licence, dates and completeness, as the snapshot's metadata record
        and the reports' provenance footer state them."""
        return {
            "title": self.title,
            "title_note": self.title_note,
            "publisher": self.publisher,
            "licence": self.licence,
            "captured": self.captured.isoformat() if self.captured else None,
            "captured_note": self.captured_note,
            "modified": self.modified.isoformat() if self.modified else None,
            "completeness": self.completeness,
            "completeness_note": self.completeness_note,
        }


class DeclarationError(UserError):
    """A declaration file that does not follow its schema."""


def read_table_declarations(path: Path) -> dict[str, TableDeclaration]:
    """``data/tables.yaml`` -> {table id: declaration}; schema errors name file, entry and key."""
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), list):
        raise DeclarationError(f"{path}: expected a top-level 'tables:' list")
    tables: dict[str, TableDeclaration] = {}
    for i, item in enumerate(raw["tables"]):
        entry = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            decl = TableDeclaration.model_validate(item)
        except ValidationError as exc:
            raise DeclarationError(
                format_validation_error(path, entry, exc, TableDeclaration)
            ) from None
        if decl.id in tables:
            raise DeclarationError(f"{path}: table {decl.id!r} is declared twice")
        tables[decl.id] = decl
    return tables


def check_continuations(path: Path, tables: dict[str, TableDeclaration]) -> None:
    """Every ``continues`` names another declared table, without a cycle, with the same
    dimension columns and period dimension kind, and maps measures that both tables have."""
    for decl in tables.values():
        cont = decl.continues
        if cont is None:
            continue

        def fail(key: str, message: str, entry: str = decl.id) -> NoReturn:
            raise DeclarationError(f"{path}: entry {entry!r}, key 'continues.{key}': {message}")

        if cont.table == decl.id or cont.table not in tables:
            known = ", ".join(t for t in tables if t != decl.id)
            fail("table", f"{cont.table!r} is not another declared table; known: {known}")
        older = tables[cont.table]
        chain, seen = older, {decl.id}
        while chain is not None:
            if chain.id in seen:
                fail("table", f"a cycle: {' -> '.join([*seen, chain.id])}")
            seen.add(chain.id)
            chain = tables.get(chain.continues.table) if chain.continues else None
        columns = sorted(d.column for d in decl.dimensions.values())
        older_columns = sorted(d.column for d in older.dimensions.values())
        if columns != older_columns or decl.national != older.national:
            fail(
                "table",
                f"{older.id} has other dimensions ({', '.join(older_columns) or 'none'}; this "
                f"table: {', '.join(columns) or 'none'})",
            )
        for new, old in cont.measures.items():
            if new not in decl.measures:
                fail("measures", f"{decl.id} has no measure {new!r}")
            if old not in older.measures:
                fail(
                    "measures",
                    f"{older.id} has no measure {old!r}; valid: {', '.join(older.measures)}",
                )
        shared = {cont.measures.get(m, m) for m in decl.measures} & set(older.measures)
        if not shared:
            fail("measures", f"no measure of {decl.id} is in {older.id}: map them here")


def continuation_chain(table_id: str) -> list[str]:
    """The table and every older one it continues, newest first."""
    chain, decl = [], get_declaration(table_id)
    while True:
        chain.append(decl.id)
        if decl.continues is None:
            return chain
        decl = get_declaration(decl.continues.table)


class UnknownTableError(UserError, KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


@cache
def declarations() -> dict[str, TableDeclaration]:
    """Every declared table: ``data/tables.yaml``, then ``data/tables.local.yaml`` (tables added
    with ``noordstats snapshot import``). An id declared in both files is an error."""
    tables = read_table_declarations(paths.TABLES_FILE)
    if paths.LOCAL_TABLES_FILE.exists():
        local = read_table_declarations(paths.LOCAL_TABLES_FILE)
        twice = sorted(set(tables) & set(local))
        if twice:
            raise DeclarationError(
                f"{paths.LOCAL_TABLES_FILE}: {', '.join(twice)} already declared in "
                f"{paths.TABLES_FILE.name}"
            )
        tables.update(local)
    check_continuations(paths.LOCAL_TABLES_FILE if paths.LOCAL_TABLES_FILE.exists() else
                        paths.TABLES_FILE, tables)  # fmt: skip
    return tables


def get_declaration(table_id: str) -> TableDeclaration:
    decls = declarations()
    if table_id not in decls:
        matches = [k for k in decls if k.lower() == table_id.lower()]
        if matches:
            return decls[matches[0]]
        raise UnknownTableError(
            f"unknown table {table_id!r}; known tables: {', '.join(sorted(decls, key=str.lower))}"
        )
    return decls[table_id]
