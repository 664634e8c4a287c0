"""Which rows of a CBS table to download: regions, periods and categories of any dimension.

A :class:`Selection` is what the caller asks for, in the table's own codes (the ``<dim>_code``
values the tidy frame has; CBS keys are accepted too). It becomes one OData ``$filter`` once the
table's code lists are known (:func:`odata_filter`), so only the rows needed travel; its
:attr:`~Selection.cache_key` names the cache entry of such a download.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from noordstats.errors import UserError


class SelectionError(UserError):
    """A region, period, dimension or code the table does not have (bad input: exit 2)."""


@dataclass(frozen=True)
class Selection:
    """Rows to download; empty: the whole table."""

    regions: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()  # period codes ('2023JJ00') or years ('2023')
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (dimension, codes)

    @classmethod
    def of(
        cls,
        regions: Iterable[str] | str | None = None,
        periods: Iterable[str | int] | str | int | None = None,
        filters: Mapping[str, Iterable[str] | str] | None = None,
    ) -> Selection:
        """Normalised: sorted, stripped, duplicates removed."""
        dims = []
        for key, codes in sorted((filters or {}).items()):
            values = tuple(sorted({str(c).strip() for c in _as_list(codes)}))
            if not values:
                raise SelectionError(f"filter on {key!r}: no codes given")
            dims.append((str(key).strip(), values))
        return cls(
            regions=tuple(sorted({str(r).strip() for r in _as_list(regions)})),
            periods=tuple(sorted({str(p).strip() for p in _as_list(periods)})),
            filters=tuple(dims),
        )

    def __bool__(self) -> bool:
        return bool(self.regions or self.periods or self.filters)

    @property
    def years(self) -> list[int]:
        return [int(p) for p in self.periods if p.isdigit()]

    @property
    def period_codes(self) -> list[str]:
        return [p for p in self.periods if not p.isdigit()]

    @property
    def cache_key(self) -> str | None:
        """``regions=PV20+CR01;periods=2023`` (hashed when long); None for the whole table."""
        if not self:
            return None
        parts = []
        if self.regions:
            parts.append("regions=" + "+".join(self.regions))
        if self.periods:
            parts.append("periods=" + "+".join(self.periods))
        parts += [f"{key}=" + "+".join(codes) for key, codes in self.filters]
        text = ";".join(parts)
        if len(text) > 60 or not re.fullmatch(r"[0-9A-Za-z_+=;.-]*", text):
            return "h" + hashlib.sha256(text.encode()).hexdigest()[:16]
        return text

    def describe(self) -> str:
        parts = []
        if self.regions:
            parts.append(f"regions {', '.join(self.regions)}")
        if self.periods:
            parts.append(f"periods {', '.join(self.periods)}")
        parts += [f"{key} {', '.join(codes)}" for key, codes in self.filters]
        return "; ".join(parts) or "every row"

    def as_record(self) -> dict[str, list[str] | dict[str, list[str]]] | None:
        if not self:
            return None
        return {
            "regions": list(self.regions),
            "periods": list(self.periods),
            "filters": {key: list(codes) for key, codes in self.filters},
        }

    def covers(self, other: Selection) -> bool:
        """Does a download of these rows hold every row ``other`` asks for?"""
        if not self:
            return True
        if self.regions and not (other.regions and set(other.regions) <= set(self.regions)):
            return False
        if self.periods and not (other.periods and set(other.periods) <= set(self.periods)):
            return False
        theirs = dict(other.filters)
        return all(key in theirs and set(theirs[key]) <= set(codes) for key, codes in self.filters)


def _as_list(value: Iterable | str | int | None) -> list:
    if value is None:
        return []
    if isinstance(value, str | int):
        return [value]
    return list(value)


def from_record(record: dict | None) -> Selection:
    """A cache entry's ``selection`` record -> Selection."""
    if not record:
        return Selection()
    return Selection.of(record.get("regions"), record.get("periods"), record.get("filters"))


def apply(
    frame: pd.DataFrame, selection: Selection, columns: dict[str, str]
) -> pd.DataFrame | None:
    """The rows of a downloaded frame that ``selection`` asks for, or None when it names a
    code the frame does not have (then the rows must come from CBS). ``columns``: {dimension
    key or column stem: column stem}."""
    mask = pd.Series(True, index=frame.index)
    if selection.regions:
        mask &= frame.region_code.isin(selection.regions)
    if selection.periods:
        mask &= frame.period_code.isin(selection.period_codes) | frame.year.isin(selection.years)
    for key, codes in selection.filters:
        stem = columns.get(key)
        if stem is None or f"{stem}_code" not in frame.columns:
            return None
        present = set(frame[f"{stem}_code"].astype(str))
        if not set(codes) <= present:
            return None
        mask &= frame[f"{stem}_code"].isin(codes)
    return frame[mask.to_numpy()].reset_index(drop=True)


def odata_filter(
    region_key: str | None,
    period_key: str | None,
    selection: Selection,
    dimension_keys: dict[str, list[str]],
) -> str | None:
    """The ``$filter`` for a selection whose dimension filters are resolved to CBS keys as CBS
    pads them (``dimension_keys``: {CBS dimension key: raw keys}). Regions and periods by
    ``startswith`` (CBS pads region keys: ``'PV20  '``), other dimensions by ``eq``."""
    groups = []
    if selection.regions:
        groups.append([f"startswith({region_key},'{code}')" for code in selection.regions])
    if selection.periods:
        groups.append([f"startswith({period_key},'{p}')" for p in selection.periods])
    for key, raw in dimension_keys.items():
        groups.append([f"{key} eq '{_quote(k)}'" for k in raw])
    if not groups:
        return None
    if len(groups) == 1:
        return " or ".join(groups[0])
    return " and ".join("(" + " or ".join(g) + ")" for g in groups)


def _quote(text: str) -> str:
    return text.replace("'", "''")


def resolve_filters(
    table_id: str,
    selection: Selection,
    dimensions: dict[str, dict[str, str]],
    code_lists: dict[str, list[dict]],
) -> dict[str, list[str]]:
    """The selection's dimension filters as {CBS dimension key: raw CBS keys}.

    ``dimensions``: {CBS dimension key: {"names": names a caller may use for it (key, column
    stem, declared key), "codes": {table code or CBS key: stripped CBS key}}}. An unknown
    dimension or code raises :class:`SelectionError` naming the valid ones."""
    resolved: dict[str, list[str]] = {}
    for name, codes in selection.filters:
        found = [key for key, dim in dimensions.items() if name in dim["names"]]
        if not found:
            valid = ", ".join(dimensions) or "(none)"
            raise SelectionError(
                f"{table_id} has no dimension {name!r} to filter on; dimensions: {valid}"
            )
        key = found[0]
        lookup = dimensions[key]["codes"]
        raw = {str(c["Key"]).strip(): str(c["Key"]) for c in code_lists.get(key, [])}
        unknown = [c for c in codes if c not in lookup]
        if unknown:
            valid = sorted(dict.fromkeys(lookup))
            more = f", ... ({len(valid)} in all)" if len(valid) > 40 else ""
            shown = ", ".join(valid[:40]) + more
            raise SelectionError(
                f"{table_id}: {', '.join(repr(c) for c in unknown)} not in {name!r}; valid: {shown}"
            )
        resolved.setdefault(key, [])
        for code in codes:
            resolved[key].append(raw.get(lookup[code], lookup[code]))
    return {k: sorted(set(v)) for k, v in resolved.items()}


def check_periods(table_id: str, selection: Selection, period_keys: Iterable[str]) -> None:
    """Every asked period code is in the table, and every asked year has a period."""
    keys = {str(k).strip() for k in period_keys}
    unknown = [p for p in selection.period_codes if p not in keys]
    unknown += [str(y) for y in selection.years if not any(k.startswith(str(y)) for k in keys)]
    if unknown:
        shown = sorted(keys)
        raise SelectionError(
            f"{table_id}: period(s) {', '.join(unknown)} not in the table; it has "
            f"{shown[0]}..{shown[-1]}"
            if shown
            else f"{table_id} has no periods"
        )
