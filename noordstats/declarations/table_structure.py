"""The reviewed structure of every declared CBS table (``data/table_structure.yaml``): its
dimensions, its measures with their titles and units, and a digest of them.

A live answer whose structure differs (a dimension added or gone, a measure renamed or in
another unit) is not mapped onto the snapshot's codes: the table falls back to the cache or the
snapshot, saying what changed, until the declaration is reviewed and the structure recorded
again with ``noordstats snapshot fingerprint TABLE`` (:mod:`noordstats.ingest.structure`
computes and compares structures). Kept apart from ``data/tables.yaml`` so that it can be
regenerated without touching the declarations.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from noordstats import paths
from noordstats.declarations.files import ConfigError, Strict, read_yaml, validate_entries

HEADER = """\
# The reviewed structure of every declared CBS table: dimensions (kind, title) and measures
# (title, unit), as the snapshot holds them or as CBS last served them after review (null: not
# known from the snapshot — a title built from the CBS key, an unstated unit — not compared). By
# `noordstats snapshot fingerprint [TABLE...]` (`--from-cbs` records CBS's current structure);
# a live answer that differs is not mapped (the table falls back to the cache or snapshot and
# the page names the change) until this record is reviewed and written again. Do not edit by
# hand: `digest` must match the fields.
"""


class DimensionPrint(Strict):
    kind: Literal["region", "period", "dimension"]
    title: str | None = None


class MeasurePrint(Strict):
    """A measure's title and unit as reviewed; None where the snapshot does not know it (a
    title built from the CBS key, a unit no source states): not compared."""

    title: str | None = None
    unit: str | None = None


class TableStructure(Strict):
    id: str = Field(pattern=r"^[0-9A-Za-z-]+$")
    source: Literal["snapshot", "cbs-v3", "cbs-v4"] = Field(
        description="where the structure was read: the snapshot's metadata or a live answer"
    )
    digest: str = Field(pattern=r"^[0-9a-f]{16}$", description="of dimensions and measures")
    dimensions: dict[str, DimensionPrint]
    measures: dict[str, MeasurePrint]

    def content(self) -> dict:
        return {
            "dimensions": {k: v.model_dump() for k, v in sorted(self.dimensions.items())},
            "measures": {k: v.model_dump() for k, v in sorted(self.measures.items())},
        }


def structure_digest(dimensions: dict, measures: dict) -> str:
    """The first 16 hex digits of the sha256 of the structure (sorted keys, JSON)."""
    content = {
        "dimensions": {k: dict(v) for k, v in sorted(dimensions.items())},
        "measures": {k: dict(v) for k, v in sorted(measures.items())},
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_table_structures(path: Path) -> dict[str, TableStructure]:
    """``data/table_structure.yaml`` -> {table id: structure}; an entry whose digest does not
    match its fields (edited by hand) is refused, naming it."""
    if not path.exists():
        return {}
    raw = read_yaml(path, "tables")
    entries = validate_entries(path, raw["tables"], TableStructure)
    for entry in entries.values():
        content = entry.content()
        if structure_digest(content["dimensions"], content["measures"]) != entry.digest:
            raise ConfigError(
                f"{path}: entry {entry.id!r}, key 'digest': does not match its dimensions and "
                "measures; record it again with `noordstats snapshot fingerprint "
                f"{entry.id}`"
            )
    return entries


@cache
def table_structures() -> dict[str, TableStructure]:
    """The project's record (``data/table_structure.yaml``)."""
    return read_table_structures(paths.TABLE_STRUCTURE_FILE)


def render_table_structures(entries: dict[str, TableStructure]) -> str:
    """The text of ``data/table_structure.yaml``: the header, then every table by id."""
    lines = [HEADER, "tables:"]
    for key in sorted(entries, key=str.lower):
        entry = entries[key]
        lines += [
            f"  - id: {json.dumps(entry.id)}",
            f"    source: {entry.source}",
            f'    digest: "{entry.digest}"',
            "    dimensions:",
        ]
        for name, dim in sorted(entry.dimensions.items()):
            title = f", title: {json.dumps(dim.title, ensure_ascii=False)}" if dim.title else ""
            lines.append(f"      {json.dumps(name)}: {{kind: {dim.kind}{title}}}")
        lines.append("    measures:")
        for name, measure in sorted(entry.measures.items()):
            unit = json.dumps(measure.unit, ensure_ascii=False) if measure.unit else "null"
            title = json.dumps(measure.title, ensure_ascii=False) if measure.title else "null"
            lines.append(f"      {json.dumps(name)}: {{title: {title}, unit: {unit}}}")
    return "\n".join(lines) + "\n"
