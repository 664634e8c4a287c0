"""The run record: ``run.json`` beside the index, for whoever watches a scheduled run.

Each ``noordstats reports`` run writes it (atomically) when it ends: when the run started and
ended, each report's status and duration, each table the reports rendered in this run read,
as its full origin record (every field the notebook summary carries, so a field added there is
recorded without a change here: origin live/cache/snapshot, CBS date, latest period, why it was
not live), and the tables whose data moved since the previous run. :func:`summary_line` is the
one line the command prints on stderr; :func:`stale_cbs_tables` what ``--fail-on-stale`` looks
at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from noordstats import i18n
from noordstats.report.page.freshness import group_of, is_stale
from noordstats.storage import store

RUN_RECORD_NAME = "run.json"
FORMAT_VERSION = 1


def build_run_record(
    results: list[dict[str, Any]], started_at: str, ended_at: str
) -> dict[str, Any]:
    """The record of one run from its reports' manifest entries (``status_this_run``
    ``rendered``, ``skipped``, ``failed`` or ``interrupted``)."""
    reports = [
        {
            "name": entry["name"],
            "title": entry.get("title"),
            "kind": entry.get("kind"),
            "status": entry.get("status_this_run", entry.get("status")),
            "seconds": entry.get("seconds") if _ran(entry) else None,
            "error": entry.get("error") if _ran(entry) else None,
            "source": entry.get("source"),
            "tables": [t["table_id"] for t in entry.get("tables") or []] if _ran(entry) else [],
            "stale": entry.get("stale") if _ran(entry) else None,
        }
        for entry in results
    ]
    tables: dict[str, dict[str, Any]] = {}
    changed: dict[str, dict[str, Any]] = {}
    for entry in results:
        if not _ran(entry):
            continue
        for origin in entry.get("tables") or []:
            record = tables.setdefault(origin["table_id"], {**origin, "reports": []})
            record["reports"].append(entry["name"])
        for change in entry.get("changes") or []:
            changed.setdefault(change["table_id"], change)
    for table_id, record in tables.items():
        record["stale"] = is_stale(record)
        record["changed_since_previous_run"] = changed.get(table_id)
    return {
        "format": FORMAT_VERSION,
        "started_at": started_at,
        "ended_at": ended_at,
        "reports": reports,
        "tables": sorted(tables.values(), key=lambda r: r["table_id"]),
        "changed": sorted(changed.values(), key=lambda c: c["table_id"]),
    }


def _ran(entry: dict[str, Any]) -> bool:
    return entry.get("status_this_run", entry.get("status")) in ("rendered", "failed")


def write_run_record(folder: Path, record: dict[str, Any]) -> Path:
    """Write ``run.json`` into ``folder`` (atomically); its path."""
    target = folder / RUN_RECORD_NAME
    store.write_text_atomic(target, json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    return target


def origin_counts(record: dict[str, Any]) -> dict[str, int]:
    """How many CBS tables came live, from the cache and from the shipped copy; how many are
    another publisher's."""
    counts = {"live": 0, "cache": 0, "snapshot": 0, "other": 0}
    for table in record["tables"]:
        counts[group_of(table)] += 1
    return counts


def stale_cbs_tables(record: dict[str, Any]) -> list[str]:
    """The CBS tables that were asked for live and could not be refreshed."""
    return [
        t["table_id"] for t in record["tables"] if group_of(t) != "other" and t.get("stale_reason")
    ]


def summary_line(record: dict[str, Any], lang: str) -> str:
    """``10 rapporten (10 gemaakt, 0 ongewijzigd, 0 mislukt); CBS-tabellen: 30 live, 0 uit
    cache, 0 uit kopie; 2 gewijzigd sinds vorige run`` (in the run's language)."""
    statuses = [r["status"] for r in record["reports"]]
    counts = origin_counts(record)
    return i18n.t(
        "run.summary",
        lang,
        reports=len(statuses),
        rendered=statuses.count("rendered"),
        skipped=statuses.count("skipped"),
        failed=statuses.count("failed"),
        live=counts["live"],
        cache=counts["cache"],
        snapshot=counts["snapshot"],
        changed=len(record["changed"]),
    )
