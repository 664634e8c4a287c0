"""The one machine-readable result of a report: the notebook emits it, the suite reads it.

The last cell of every report notebook (tagged ``noordstats-summary``) calls
:func:`noordstats.report.page.provenance.emit_summary` with what the page shows: headline
figures, claim verdicts and the tables with where their rows came from. It is displayed as a JSON
output of its own MIME type beside a one-line text for JupyterLab; the HTML export leaves that
cell out. The suite reads it back with :func:`read_summary`, so the index, the manifest and the
command line state exactly what the page states, for snapshot, cached and live data alike.
"""

from __future__ import annotations

from typing import Any

from noordstats.report.page.freshness import describe_freshness

SUMMARY_MIMETYPE = "application/vnd.noordstats.summary+json"
SUMMARY_TAG = "noordstats-summary"
#: metadata key of the outputs a page marks for the exporter: ``{"title": ...}`` on the header,
#: ``{"stylesheet": true}`` on the stylesheet shown for JupyterLab (the page links report.css),
#: ``{"page_only": true}`` on what only the HTML page needs (a chart's CSV download link: the
#: analyst has the frame), with ``"notebook_html"``: what the kept notebook shows instead (the
#: chart's footnote without the link), if anything
OUTPUT_METADATA_KEY = "noordstats"


def output_marks(output: dict[str, Any]) -> dict[str, Any]:
    """What a page marked on one notebook output (empty when nothing)."""
    return dict(output.get("metadata", {}).get(OUTPUT_METADATA_KEY) or {})


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
    """The freshness sentence (in English, for the manifest and the run record) when any table
    is stale: a CBS table asked for live and not delivered, or another publisher's table past
    its own rule; None otherwise."""
    freshness = describe_freshness(summary.get("tables", []), "en")
    return freshness.sentence if freshness.is_alarm else None
