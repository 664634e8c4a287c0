"""``index.html``: every report in an output folder with its headline figures, claim verdicts,
data date and status. Built from the manifest entries; every text is escaped; no scripts."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

from noordstats.report.blocks import LICENCE_LINE, VERDICT_CLASSES

INDEX_NAME = "index.html"
KIND_ORDER = {"theme": 0, "claims": 1, "region_profile": 2}

_STYLE = """
body {font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
  max-width: 1120px; margin: 0 auto; padding: 1em 1.5em 3em}
table {border-collapse: collapse; width: 100%} th, td {border-bottom: 1px solid #ddd;
  padding: 0.45em 0.5em; text-align: left; vertical-align: top}
th {background: #f3f5f8} a {color: #1f5fa8} .meta {color: #555; font-size: 0.85em}
.failed {color: #a00; font-weight: bold} ul {margin: 0; padding-left: 1.1em}
.verdict {display: inline-block; padding: 0 0.4em; border-radius: 4px; margin: 0.1em 0;
  font-size: 0.9em} .ok {background: #d4edda} .partly {background: #fff3cd}
.no {background: #f8d7da} .nodata {background: #e2e3e5}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def render_index(entries: list[dict[str, Any]], generated_at: str) -> str:
    """The index page for these manifest entries."""
    ordered = sorted(entries, key=lambda e: (KIND_ORDER.get(e.get("kind"), 9), e["name"]))
    rows = "".join(_render_row(entry) for entry in ordered)
    failed = sum(1 for e in ordered if e.get("status") == "failed")
    stopped = sum(1 for e in ordered if e.get("status") == "interrupted")
    status = f"{len(ordered)} reports" + (f", {failed} failed" if failed else "")
    status += f", {stopped} not rendered (interrupted)" if stopped else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>noordstats reports</title><style>{_STYLE}</style></head><body>"
        "<h1>Noord-Nederland in CBS figures: reports</h1>"
        "<p>The claims of the position paper <i>Noord-Nederland als motor van het toekomstig "
        "verdienvermogen</i>, checked against CBS statistics, one report per theme.</p>"
        f'<p class="meta">{_e(status)} · index written {_e(generated_at)}</p>'
        "<table><thead><tr><th>Report</th><th>Headline figures</th><th>Claims</th>"
        f"<th>Data</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<p class="meta">{_e(LICENCE_LINE)}.</p></body></html>\n'
    )


def _render_row(entry: dict[str, Any]) -> str:
    if entry.get("status") == "interrupted":  # a stopped run did not get to it
        report = f'{_e(entry["title"])}<br><span class="failed">{_e(entry.get("error"))}</span>'
        if entry.get("html"):
            report += f' <a href="{_e(entry["html"])}">(previous version)</a>'
    elif entry.get("status") == "failed":
        link = _e(entry["title"])
        if entry.get("notebook"):
            link += f' <a href="{_e(entry["notebook"])}">(executed notebook)</a>'
        report = (
            f'{link}<br><span class="failed">failed</span> '
            f'<span class="meta">{_e(entry.get("error"))}</span>'
        )
    else:
        report = (
            f'<a href="{_e(entry["html"])}">{_e(entry["title"])}</a><br>'
            f'<span class="meta"><a href="{_e(entry["notebook"])}">notebook</a> · rendered '
            f"{_e(entry.get('rendered_at'))}</span>"
        )
    summary = entry.get("summary") or {}
    figures = "".join(
        f"<li>{_e(f['title'])}: <b>{_e(f['value_text'])}</b> "
        f'<span class="meta">({_e(f["period"])})</span></li>'
        for f in summary.get("figures", [])
    )
    verdicts = summary.get("verdicts", [])
    counts = Counter(v["verdict"] for v in verdicts)
    order = list(VERDICT_CLASSES)
    claims = "".join(
        f'<span class="verdict {VERDICT_CLASSES.get(v, "nodata")}">{_e(v)}: {counts[v]}</span> '
        for v in sorted(counts, key=lambda v: order.index(v) if v in order else len(order))
    )
    claims += _distinctive_line(summary)
    data = (
        f"CBS data of {_e(entry.get('data_date') or 'unknown date')}<br>"
        f"<span class='meta'>latest period {_e(entry.get('latest_period'))}; "
        f"{_e(entry.get('source'))}</span>"
    )
    if entry.get("stale"):
        data += f'<br><span class="failed">not live:</span> <span class="meta">{_e(entry["stale"])}'
        data += "</span>"
    return f"<tr><td>{report}</td><td><ul>{figures}</ul></td><td>{claims}</td><td>{data}</td></tr>"


#: the index's words for the claims report's distinctiveness count (one place, for the catalogue)
DISTINCTIVE_TEXT = "{distinctive} of {meets} claims the region meets are distinctive"


def _distinctive_line(summary: dict[str, Any]) -> str:
    """How many of the region's supported claims stand out among the landsdelen, if the report
    said (the claims scorecard does); empty otherwise."""
    counts = summary.get("distinctive")
    if not isinstance(counts, dict) or "distinctive" not in counts:
        return ""
    text = DISTINCTIVE_TEXT.format(
        distinctive=counts["distinctive"], meets=counts.get("meets_rule", "?")
    )
    return f'<br><span class="meta distinctive">{_e(text)}</span>'
