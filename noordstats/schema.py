"""The one canonical layout every table is brought into, and the declaration of each table.

A tidy table has one row per (region, period, other dimensions, measure) with the columns
:data:`LEADING_COLUMNS`, then ``<dim>_code`` / ``<dim>_name`` for each other dimension
(``sector_code``, ``sector_name``, ...), then :data:`TRAILING_COLUMNS` (see ``docs/data.md``).
:class:`TableDeclaration` is one entry of ``data/tables.yaml`` (or ``data/tables.local.yaml``);
:func:`read_table_declarations` validates such a file and names file, entry and key on error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import UnionType
from typing import Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from noordstats.cbs_codes import title_from_key

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceFile(_Strict):
    path: str = Field(description="path below the folder named by `root`")
    root: Literal["raw", "imports"] = Field(
        default="raw",
        description="'raw': the raw captures (../shared/data); 'imports': data/imports/, where "
        "`noordstats snapshot import` keeps the files an analyst added",
    )
    format: SourceFormat
    repository: str
    commit: str
    options: dict[str, str | int | bool | list[str] | dict[str, str]] = {}


class Dimension(_Strict):
    column: str = Field(description="canonical column stem, e.g. 'sector' -> sector_code/_name")
    title: str
    codes: dict[str, str] = Field(
        default={},
        description="label -> code where the source has labels only and CBS codes are known",
    )


class Measure(_Strict):
    title: str = Field(description="CBS's title; built from the key when a source gives none")
    unit: str | None = None
    unit_note: str | None = None


class TableDeclaration(_Strict):
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

    @model_validator(mode="after")
    def _check_notes(self) -> TableDeclaration:
        if self.captured is None and not self.captured_note:
            raise ValueError("give 'captured' (a date) or, when no date is stated, 'captured_note'")
        if self.keep_declared_measures_only and not self.reduction:
            raise ValueError("'keep_declared_measures_only' needs a 'reduction' stating the rule")
        return self


class DeclarationError(ValueError):
    """A declaration file that does not follow its schema."""


def format_validation_error(
    path: Path, entry: str, error: ValidationError, model: type[BaseModel] | None = None
) -> str:
    """One line: file, entry, key and what is wrong; an unknown key also gets the valid keys
    of ``model`` (the model that was validated) at that place."""
    first = error.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    message = f"{path}: entry {entry!r}, key {key!r}: {first['msg']}"
    if first["type"] == "extra_forbidden" and model is not None:
        valid = _keys_at(model, first["loc"][:-1])
        if valid:
            message += f"; valid keys: {', '.join(valid)}"
    return message


def _keys_at(annotation: object, loc: tuple) -> list[str] | None:
    """The field names of the model found by following ``loc`` from ``annotation`` through
    model fields, lists, dicts and optionals; None if the path leads elsewhere."""
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    model = _step(annotation, None)
    if not isinstance(model, type):
        return None
    return [field.alias or name for name, field in model.model_fields.items()]


def _step(annotation: object, part: object) -> object:
    """One step of :func:`_keys_at`; ``part=None`` only unwraps optionals."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        found = [s for s in (_step(a, part) for a in args) if s is not None]
        return found[0] if found else None
    if part is None:
        return (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return None if field is None else field.annotation
    if origin in (list, tuple, set) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def read_table_declarations(path: Path) -> dict[str, TableDeclaration]:
    """``data/tables.yaml`` -> {table id: declaration}; schema errors name file, entry and key."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
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
