"""Report notebook parameters: what a notebook declares, and checks of the values it is given.

A report notebook declares its parameters in the cell tagged ``parameters``, one per line, as
``name: type = default  # help`` (the form ``papermill --help-notebook`` reads). papermill only
*warns* about a parameter the notebook does not declare, so the suite calls
:func:`validate_request` before any work; every notebook also calls :func:`check_values` in its
first cell after the parameters, so a bad value typed in JupyterLab fails the same way.
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noordstats import i18n, regions
from noordstats.declarations.themes import theme_ids
from noordstats.errors import UserError
from noordstats.load import SOURCES

#: region levels a report can be about, and the levels it can be compared with
REPORT_LEVELS = regions.REPORT_PARAMETER_LEVELS
COMPARE_LEVELS = regions.SNAPSHOT_LEVELS
FIRST_YEAR = 1900


class ParameterError(UserError):
    """A report parameter that is unknown, of the wrong type or out of range."""


@dataclass(frozen=True)
class Parameter:
    """One declared notebook parameter."""

    name: str
    type_name: str
    default: Any
    help: str


def read_declared_parameters(notebook: Path) -> dict[str, Parameter]:
    """The parameters a notebook declares in its cell tagged ``parameters``, in order."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ParameterError(
            f"{notebook}: expected one cell tagged 'parameters', found {len(tagged)}"
        )
    source = "".join(tagged[0]["source"])
    comments = _comments_by_line(source)
    declared: dict[str, Parameter] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            raise ParameterError(
                f"{notebook}: line {node.lineno} of the parameters cell is not 'name: type = value'"
            )
        declared[node.target.id] = Parameter(
            name=node.target.id,
            type_name=_annotation_text(node.annotation),
            default=ast.literal_eval(node.value) if node.value is not None else None,
            help=comments.get(node.lineno, ""),
        )
    return declared


def _annotation_text(annotation: ast.expr) -> str:
    """``str`` -> 'str'; a quoted annotation (``"Optional[int]"``, which papermill can read and
    which needs no import in the notebook) -> its text."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value
    return ast.unparse(annotation)


def _comments_by_line(source: str) -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0]: t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT}


def validate_request(notebook: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """Check ``overrides`` against what ``notebook`` declares; return every parameter's value
    (declared defaults updated with ``overrides``). Raises :class:`ParameterError`."""
    declared = read_declared_parameters(notebook)
    unknown = [name for name in overrides if name not in declared]
    if unknown:
        raise ParameterError(
            f"unknown parameter {unknown[0]!r} for {Path(notebook).name}; "
            f"valid: {', '.join(declared)}"
        )
    values = {name: p.default for name, p in declared.items()} | dict(overrides)
    for name, value in values.items():
        type_name = declared[name].type_name
        if not _accepts(ast.parse(type_name, mode="eval").body, value):
            raise ParameterError(
                f"parameter {name} must be {type_name}, got {type(value).__name__} {value!r}"
            )
    return check_values(**values)


_SIMPLE_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "list": list,
    "dict": dict,
}


def _accepts(annotation: ast.expr, value: Any) -> bool:
    """Does ``value`` match a declared annotation (``str``, ``int | None``, ``list[str]``)?"""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _accepts(annotation.left, value) or _accepts(annotation.right, value)
    if isinstance(annotation, ast.Constant) and annotation.value is None:
        return value is None
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name):
        if annotation.value.id == "Optional":
            return value is None or _accepts(annotation.slice, value)
        return _accepts(annotation.value, value) and all(
            _accepts(annotation.slice, item) for item in value
        )
    if isinstance(annotation, ast.Name) and annotation.id in _SIMPLE_TYPES:
        if isinstance(value, bool) and annotation.id != "bool":
            return False
        return isinstance(value, _SIMPLE_TYPES[annotation.id])
    raise ParameterError(f"unsupported parameter type {ast.unparse(annotation)!r}")


def check_values(**values: Any) -> dict[str, Any]:
    """Check report parameter values by name (theme, region, compare, start_year,
    end_year, source, lang); return them unchanged. Raises :class:`ParameterError`."""
    unknown = [name for name in values if name not in _RULES]
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r}; valid: {', '.join(_RULES)}")
    for name, value in values.items():
        _RULES[name](name, value)
    start, end = values.get("start_year"), values.get("end_year")
    if start is not None and end is not None and start > end:
        raise ParameterError(f"start_year {start} is after end_year {end}")
    return values


def _check_theme(name: str, value: Any) -> None:
    if value not in theme_ids():
        raise ParameterError(f"unknown {name} {value!r}; valid: {', '.join(theme_ids())}")


def _check_region(name: str, value: Any) -> None:
    _require_region(name, value, REPORT_LEVELS)


def _check_compare(name: str, value: Any) -> None:
    if not isinstance(value, list | tuple) or not value:
        raise ParameterError(f"{name} must be a non-empty list of region codes, got {value!r}")
    for code in value:
        _require_region(name, code, COMPARE_LEVELS)


def _require_region(name: str, code: Any, levels: tuple[str, ...]) -> None:
    known = set(regions.list_regions(tuple(lv for lv in levels if lv != "GM")).region_code)
    if "GM" in levels:
        known |= set(regions.northern_municipalities())
    if not isinstance(code, str) or code not in known:
        raise ParameterError(f"unknown region {code!r} in {name}; valid: {describe_codes(levels)}")


def describe_codes(levels: tuple[str, ...]) -> str:
    """The region codes at ``levels`` in a short form: 'NL01, LD01, ..., PV31, CR01..CR40' (and
    'a northern municipality GM....' for GM: the snapshot holds the North's)."""
    parts = []
    for level in levels:
        if level == "GM":
            parts.append("a northern municipality (noordstats regions --level GM)")
            continue
        codes = list(regions.list_regions((level,)).region_code)
        parts.append(f"{codes[0]}..{codes[-1]}" if len(codes) > 12 else ", ".join(codes))
    return ", ".join(parts)


def _check_year(name: str, value: Any) -> None:
    if value is None:
        return
    last = dt.date.today().year + 1
    if isinstance(value, bool) or not isinstance(value, int) or not FIRST_YEAR <= value <= last:
        raise ParameterError(f"{name} must be a year {FIRST_YEAR}..{last} or None, got {value!r}")


def _check_source(name: str, value: Any) -> None:
    if value not in SOURCES:
        raise ParameterError(f"unknown {name} {value!r}; valid: {', '.join(SOURCES)}")


def _check_lang(name: str, value: Any) -> None:
    if value not in i18n.languages():
        raise ParameterError(f"unknown {name} {value!r}; valid: {', '.join(i18n.languages())}")


_RULES = {
    "theme": _check_theme,
    "region": _check_region,
    "compare": _check_compare,
    "start_year": _check_year,
    "end_year": _check_year,
    "source": _check_source,
    "lang": _check_lang,
}
