"""The report suite's memory of what it rendered: ``manifest.json`` in the output folder.

One entry per report: its status, files, headline summary, data date, and a hash of everything
the report depends on (notebook file, parameters, noordstats code and config, data versions of
the tables it reads, versions of the rendering packages, output mode). A report whose hash and
files are unchanged is not rendered again unless ``--force``. Reports on ``auto``/``live`` data
are rendered again when CBS's ``Modified`` date of a table they read has changed (or cannot be
told): their data can change without a local file changing.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from noordstats import __version__, paths
from noordstats.storage import store

MANIFEST_NAME = "manifest.json"
FORMAT = 1
RENDER_PACKAGES = ("plotly", "nbconvert", "papermill", "pandas")


def read_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """The entries of ``folder/manifest.json`` by report name (empty when absent or unreadable:
    an unreadable manifest only costs a full re-render)."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    return dict(data.get("reports", {}))


def write_manifest(folder: Path, entries: dict[str, dict[str, Any]]) -> None:
    payload = {"format": FORMAT, "noordstats_version": __version__, "reports": entries}
    store.write_text_atomic(
        folder / MANIFEST_NAME, json.dumps(payload, indent=1, ensure_ascii=False, sort_keys=True)
    )


def compute_inputs_hash(
    notebook: Path,
    parameters: dict[str, Any],
    table_ids: list[str],
    self_contained: bool,
    cbs_modified: dict[str, str | None] | None = None,
) -> str:
    """A hash of every input of one report. A report on ``auto``/``live`` data hashes CBS's
    ``Modified`` date of each table it reads (``cbs_modified``); without every date it is
    always rendered again."""
    digest = hashlib.sha256()
    parts = {
        "notebook": store.sha256_file(notebook),
        "parameters": parameters,
        "code": compute_code_hash(),
        "data": {t: _data_version(t) for t in sorted(set(table_ids))},
        "geo": _file_hash(paths.COROP_GEOJSON_FILE),
        "regions": _file_hash(paths.REGIONS_FILE),
        "packages": {name: version(name) for name in RENDER_PACKAGES},
        "self_contained": self_contained,
    }
    if parameters.get("source", "snapshot") != "snapshot":
        dates = {t: (cbs_modified or {}).get(t) for t in sorted(set(table_ids))}
        if dates and all(dates.values()):
            parts["cbs_modified"] = dates
        else:
            parts["always_render"] = time.time_ns()
    digest.update(json.dumps(parts, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()


@cache
def compute_code_hash() -> str:
    """noordstats' version, its Python code, report templates and analyst config files."""
    digest = hashlib.sha256(__version__.encode())
    files = sorted(paths.PACKAGE_DIR.rglob("*.py")) + sorted(
        p for p in paths.REPORT_TEMPLATES_DIR.rglob("*") if p.is_file()
    )
    files += sorted((paths.PACKAGE_DIR / "i18n").glob("*.yaml"))
    files += [paths.TABLES_FILE, paths.INDICATORS_FILE, paths.THEMES_FILE]
    files.append(paths.CLAIMS_FILE)
    for path in files:
        digest.update(os.path.relpath(path, paths.PROJECT_DIR).encode())
        digest.update(_file_hash(path).encode())
    return digest.hexdigest()


def _data_version(table_id: str) -> str:
    meta = store.read_snapshot_meta(table_id) or {}
    return meta.get("data_sha256", "missing")


def _file_hash(path: Path) -> str:
    return store.sha256_file(path) if path.exists() else "missing"


def is_current(
    entry: dict[str, Any] | None, inputs_hash: str, folder: Path, pdf: bool = False
) -> bool:
    """Was this report rendered from exactly these inputs, and are its files (its PDF too, when
    ``pdf``) still there?"""
    if not entry or entry.get("status") != "rendered" or entry.get("inputs_hash") != inputs_hash:
        return False
    keys = ("html", "notebook", "pdf") if pdf else ("html", "notebook")
    return all(entry.get(key) and (folder / entry[key]).is_file() for key in keys)


def table_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed in the tables of a report since its previous rendering: one item per table
    whose latest period or CBS date moved (from the ``tables`` of the two manifest entries)."""
    before = {t["table_id"]: t for t in (old or {}).get("tables") or []}
    changes = []
    for table in new.get("tables") or []:
        was = before.get(table["table_id"])
        if was is None:
            continue
        moved = [k for k in ("latest_period", "data_date") if was.get(k) != table.get(k)]
        if moved:
            changes.append(
                {
                    "table_id": table["table_id"],
                    "old_period": was.get("latest_period"),
                    "new_period": table.get("latest_period"),
                    "old_date": was.get("data_date"),
                    "new_date": table.get("data_date"),
                }
            )
    return changes
