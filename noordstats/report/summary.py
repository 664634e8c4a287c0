"""The one machine-readable result of a report: the notebook emits it, the suite reads it.

The last cell of every report notebook (tagged ``noordstats-summary``) calls
:func:`noordstats.report.blocks.emit_summary` with what the page shows: headline figures, claim
verdicts and the tables with where their rows came from. It is displayed as a JSON output of its own
MIME type beside a one-line text for JupyterLab; the HTML export leaves that cell out. The suite
reads it back with :func:`read_summary`, so the index, the manifest and the command line state
exactly what the page states, for snapshot, cached and live data alike.
"""

from __future__ import annotations

from typing import Any

SUMMARY_MIMETYPE = "application/vnd.noordstats.summary+json"
SUMMARY_TAG = "noordstats-summary"


def read_summary(notebook: Any) -> dict[str, Any] | None:
    """The summary an executed notebook emitted, or None when it emitted none."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            summary = output.get("data", {}).get(SUMMARY_MIMETYPE)
            if summary is not None:
                return dict(summary)
    return None


def data_date(summary: dict[str, Any]) -> str | None:
    """The newest CBS date among the tables a report used."""
    dates = [t["data_date"] for t in summary.get("tables", []) if t.get("data_date")]
    return max(dates) if dates else None


def latest_period(summary: dict[str, Any]) -> str | None:
    """The newest period code among the tables a report used (``2024JJ00``)."""
    periods = [t["latest_period"] for t in summary.get("tables", []) if t.get("latest_period")]
    return max(periods) if periods else None


def stale_text(summary: dict[str, Any]) -> str | None:
    """One line naming each table that did not come live from CBS although it was asked for,
    with its copy, date and why; None when every table is as asked."""
    headline, items = describe_stale(summary.get("tables", []))
    return f"{headline}: {'; '.join(items)}" if items else None


def describe_stale(tables: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """The "data as of ..." headline and one item per table that came from an older copy,
    the words of the report's banner and of the command line's warning alike."""
    stale = [t for t in tables if t.get("stale_reason")]
    dates = [t["data_date"] for t in stale if t.get("data_date")]
    headline = (
        f"Data as of {min(dates)}" if dates else "Data not live"
    ) + f": {len(stale)} of {len(tables)} table(s) come from an older copy, not live from CBS"
    items = [
        f"{t['table_id']}: the {t['source']} copy, CBS data of "
        f"{t.get('data_date') or 'an unstated date'}, latest period {t.get('latest_period')} "
        f"(why: {t['stale_reason']})"
        for t in stale
    ]
    return headline, items
