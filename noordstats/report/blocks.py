"""HTML blocks for the report notebooks: header, data-status banner, headline figures, claims,
tables with a CSV download, definitions and the provenance footer.

Every string that comes from CBS or from the config is escaped here (``html.escape``, pandas
``to_html(escape=True)``), so a title holding ``<script>`` shows as text and never runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import warnings
from collections.abc import Iterable
from typing import Any

import pandas as pd

from noordstats import regions
from noordstats.analysis import frames
from noordstats.declarations.tables import get_declaration
from noordstats.declarations.themes import Theme
from noordstats.load import StaleDataWarning, TableOrigin
from noordstats.report.summary import SUMMARY_MIMETYPE, describe_stale
from noordstats.storage import store

LICENCE_LINE = "Bron: CBS, CC BY 4.0 (Statistics Netherlands, Creative Commons Attribution 4.0)"

#: verdict -> CSS class of its badge
#: the columns of the figures tables (headline figures, region profile)
FIGURE_TABLE_COLUMNS = [
    "indicator_id", "title", "value", "unit", "period", "status", "nl_value", "rank", "n_peers",
    "table_id",
]  # fmt: skip
SECTOR_TABLE_COLUMNS = [
    "region_code", "region_name", "sector_code", "sector_name", "year", "status",
    "jobs_thousands", "share_of_region_pct", "share_of_nl_jobs_pct", "location_quotient",
]  # fmt: skip
CLAIM_TABLE_COLUMNS = [
    "claim_id", "section", "theme", "figure", "figure_text", "period", "comparison", "verdict",
    "sources",
]  # fmt: skip

VERDICT_CLASSES = {
    "supported": "ok",
    "partly supported": "partly",
    "not supported": "no",
    "insufficient data": "nodata",
    "not testable": "nodata",
}

STYLE = """<style>
.noordstats-header h1 {margin-bottom: 0.2em}
.noordstats-sub {color: #555; margin-top: 0}
.noordstats-stale {background: #fff3cd; border: 2px solid #c88a00; padding: 0.6em 1em;
  margin: 0.6em 0; font-weight: bold}
.noordstats-status {color: #555; font-size: 0.9em}
.noordstats-cards {display: flex; flex-wrap: wrap; gap: 0.8em; margin: 0.6em 0}
.noordstats-card {border: 1px solid #ccc; border-radius: 6px; padding: 0.6em 0.9em;
  min-width: 14em; max-width: 22em; flex: 1}
.noordstats-card .value {font-size: 1.6em; font-weight: bold; color: #1f5fa8}
.noordstats-card .label {font-weight: bold}
.noordstats-card .meta {color: #555; font-size: 0.85em}
.noordstats-verdict {display: inline-block; padding: 0.1em 0.5em; border-radius: 4px;
  font-weight: bold; white-space: nowrap}
.noordstats-verdict.ok {background: #d4edda} .noordstats-verdict.partly {background: #fff3cd}
.noordstats-verdict.no {background: #f8d7da} .noordstats-verdict.nodata {background: #e2e3e5}
.noordstats-table table {border-collapse: collapse; font-size: 0.9em}
.noordstats-table th, .noordstats-table td {border: 1px solid #ddd; padding: 0.2em 0.5em;
  text-align: left; vertical-align: top}
.noordstats-quote {font-style: italic; color: #333}
.noordstats-footer {border-top: 1px solid #ccc; margin-top: 1em; padding-top: 0.5em;
  font-size: 0.9em}
.noordstats-note {color: #555; font-style: italic}
</style>"""


def _show(markup: str) -> None:
    _display_bundle({"text/html": markup})


def _display_bundle(bundle: dict[str, object]) -> None:
    # deferred: IPython is needed only inside a kernel, not by the suite that imports this module
    from IPython.display import display

    display(bundle, raw=True)


def _e(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return html.escape(str(value))


def show_report_header(title: str, region: str, subtitle: str = "") -> None:
    """The report's title line: ``title — region name (code)``, plus the date it was rendered."""
    name = regions.region_name(region)
    today = dt.date.today().isoformat()
    sub = f"{_e(subtitle)} · " if subtitle else ""
    _show(
        f'{STYLE}<div class="noordstats-header"><h1>{_e(title)} — {_e(name)} ({_e(region)})</h1>'
        f'<p class="noordstats-sub">{sub}rendered {today}</p></div>'
    )


def show_theme_header(theme: Theme, region: str) -> None:
    kind = "specialisation" if theme.kind == "specialisation" else "foundation theme"
    show_report_header(theme.title_nl, region, f"{theme.title_en} ({kind} of the position paper)")


def show_data_status(table_ids: Iterable[str], source: str) -> None:
    """Say where the data comes from; with ``auto``/``live``, load every table now and show a
    "data as of ..." banner at the top when any of them came from an older copy (cache or
    snapshot) because CBS did not deliver it; each table says why."""
    tables = list(dict.fromkeys(table_ids))
    if source == "snapshot":
        _show(
            f'<p class="noordstats-status">Data: the embedded snapshot of {len(tables)} CBS '
            f"table(s): {_e(', '.join(tables))}. Dates and sources are listed at the end.</p>"
        )
        return
    headline, items = describe_stale([vars(o) for o in table_origins(tables, source)])
    if not items:
        _show(f'<p class="noordstats-status">Data: live from CBS ({_e(", ".join(tables))}).</p>')
        return
    listed = "".join(f"<li>{_e(item)}</li>" for item in items)
    _show(f'<div class="noordstats-stale" role="alert">{_e(headline)}.<ul>{listed}</ul></div>')


def table_origins(table_ids: Iterable[str], source: str) -> list[TableOrigin]:
    """Where each table's rows come from: the frames the figures use (loaded once per process),
    so a report states exactly the data it shows."""
    with warnings.catch_warnings():  # the banner says it; the worker's log has said it once
        warnings.simplefilter("ignore", StaleDataWarning)
        return [TableOrigin.of(frames.load_cached(t, source)) for t in dict.fromkeys(table_ids)]


def show_headlines(headlines: pd.DataFrame) -> None:
    """One card per headline figure: value, period, comparison with NL, table."""
    if headlines.empty:
        _show('<p class="noordstats-note">No headline figures are declared for this theme.</p>')
        return
    cards = "".join(
        '<div class="noordstats-card">'
        f'<div class="label">{_e(r.title)}</div><div class="value">{_e(r.value_text)}</div>'
        f'<div class="meta">{_e(r.period)} · {_e(r.comparison_text)}</div>'
        f'<div class="meta">CBS table {_e(r.table_id)}</div>'
        + (f'<div class="meta dated">{_e(_dated(r.caveat))}</div>' if _dated(r.caveat) else "")
        + "</div>"
        for r in headlines.itertuples()
    )
    _show(f'<div class="noordstats-cards">{cards}</div>')


def _dated(caveat: object) -> str:
    """The 'Dated: ...' part of a headline's caveats (a figure older than 2015), if any."""
    if not isinstance(caveat, str):
        return ""
    return next((c for c in caveat.split(" | ") if c.startswith("Dated:")), "")


def verdict_badge(verdict: str) -> str:
    css = VERDICT_CLASSES.get(verdict, "nodata")
    return f'<span class="noordstats-verdict {css}">{_e(verdict)}</span>'


def show_claims(claims: pd.DataFrame) -> None:
    """Each claim: the paper's words, the figure that tests it, the rule and the verdict."""
    if claims.empty:
        _show('<p class="noordstats-note">The paper makes no claim about this theme.</p>')
        return
    rows = "".join(
        "<tr>"
        f'<td><span class="noordstats-quote">“{_e(r.quote_nl)}”</span><br>'
        f"<small>{_e(r.claim_en)}<br>{_e(r.claim_id)} · {_e(r.section)}</small></td>"
        f"<td>{_e(r.figure_text)}<br><small>{_e(r.period)}</small></td>"
        f"<td>{_e(r.comparison)}</td><td>{verdict_badge(r.verdict)}</td>"
        f"<td><small>{_e(r.rule)}</small></td></tr>"
        for r in claims.itertuples()
    )
    _show(
        '<div class="noordstats-table"><table><thead><tr><th>Claim (position paper)</th>'
        "<th>Figure</th><th>Compared with</th><th>Verdict</th><th>Rule</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def show_verdict_counts(claims: pd.DataFrame) -> None:
    """How many claims got each verdict."""
    counts = claims.verdict.value_counts()
    items = " ".join(
        f"{verdict_badge(v)} {int(counts.get(v, 0))}" for v in VERDICT_CLASSES if counts.get(v, 0)
    )
    _show(f"<p>{len(claims)} claims: {items}</p>")


def show_table(
    frame: pd.DataFrame, name: str, caption: str = "", columns: list[str] | None = None
) -> None:
    """A table (escaped) of ``columns`` (default: all), with a link to download exactly what it
    shows as CSV."""
    shown = frame if columns is None else frame.reindex(columns=columns)
    if shown.empty:
        _show(f'<p class="noordstats-note">{_e(caption or name)}: no rows.</p>')
        return
    table = shown.to_html(
        index=False, escape=True, na_rep="–", border=0, float_format=lambda v: f"{v:,.4g}"
    )
    payload = base64.b64encode(shown.to_csv(index=False).encode("utf-8")).decode("ascii")
    heading = f"<p><b>{_e(caption)}</b></p>" if caption else ""
    _show(
        f'{heading}<div class="noordstats-table">{table}</div>'
        f'<p class="noordstats-download"><a download="{_e(name)}.csv" '
        f'href="data:text/csv;charset=utf-8;base64,{payload}">Download this table (CSV, '
        f"{len(shown)} rows)</a> · – : no figure published by CBS</p>"
    )


def show_definitions(
    theme: Theme | None = None,
    headlines: pd.DataFrame | None = None,
    claims: pd.DataFrame | None = None,
) -> None:
    """Why the theme is measured this way, what the data cannot say, and each figure's caveats."""
    parts = []
    if theme is not None:
        parts.append(f"<p><b>How this theme is measured.</b> {_e(theme.rationale)}</p>")
        parts.append(f"<p><b>Limits.</b> {_e(theme.limits)}</p>")
    if headlines is not None:
        caveats = [
            f"<li><b>{_e(r.title)}</b>: {_e(r.caveat)}</li>"
            for r in headlines.itertuples()
            if r.caveat
        ]
        if caveats:
            parts.append(f"<p><b>Caveats per figure.</b></p><ul>{''.join(caveats)}</ul>")
    if claims is not None:
        notes = [
            f"<li><b>{_e(r.claim_id)}</b>: {_e(r.definition)}"
            + (f" <i>Caveats: {_e(r.caveats)}</i>" if _has_text(r.caveats) else "")
            + "</li>"
            for r in claims.itertuples()
            if _has_text(r.definition) or _has_text(r.caveats)
        ]
        if notes:
            parts.append(f"<p><b>Definitions behind the verdicts.</b></p><ul>{''.join(notes)}</ul>")
    _show("".join(parts) or '<p class="noordstats-note">No definitions declared.</p>')


def _has_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() not in {"", "-"}


def show_provenance(table_ids: Iterable[str]) -> None:
    """The footer: every CBS table used, its title, dates, completeness and licence."""
    sources = describe_sources(table_ids)
    items = "".join(
        f"<li><b>{_e(r.table_id)}</b> {_e(r.title)} — {_e(r.publisher)}; periods {_e(r.periods)};"
        f" captured {_e(r.captured)}; CBS modified {_e(r.modified)}; {_e(r.completeness)}"
        + (f" ({_e(r.completeness_note)})" if r.completeness != "complete" else "")
        + f"; licence {_e(r.licence)}</li>"
        for r in sources.itertuples()
    )
    _show(
        f'<div class="noordstats-footer"><p><b>Sources.</b></p><ul>{items}</ul>'
        f"<p>{_e(LICENCE_LINE)}. Figures computed by noordstats from these tables; missing "
        "cells are shown as missing, never as zero.</p></div>"
    )


def describe_sources(table_ids: Iterable[str]) -> pd.DataFrame:
    """One row per table for a provenance footer: id, title, captured/modified dates, licence,
    completeness, source files. Reads the snapshot's metadata records."""
    rows = []
    for table_id in dict.fromkeys(table_ids):
        decl = get_declaration(table_id)
        meta = store.read_snapshot_meta(decl.id) or {}
        rows.append(
            {
                "table_id": decl.id,
                "title": decl.title,
                "publisher": decl.publisher,
                "captured": decl.captured.isoformat() if decl.captured else decl.captured_note,
                "modified": decl.modified.isoformat() if decl.modified else None,
                "licence": decl.licence,
                "completeness": decl.completeness,
                "completeness_note": decl.completeness_note,
                "periods": (
                    f"{meta['periods'][0]}..{meta['periods'][-1]}" if meta.get("periods") else None
                ),
                "sources": "; ".join(
                    f"{s.repository}@{s.commit[:8]}:{s.path}" for s in decl.sources
                ),
            }
        )
    return pd.DataFrame(rows)


def build_summary(
    table_ids: Iterable[str],
    source: str,
    figures: pd.DataFrame | None = None,
    verdicts: pd.DataFrame | None = None,
    distinctive: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The summary record: ``figures`` (title, value_text, period), ``verdicts`` (claim_id,
    verdict), ``tables`` (table_id, source, data_date, latest_period, stale_reason) and, for the
    claims report, ``distinctive`` (meets_rule: claims whose rule the region meets;
    distinctive: how many of them only it and at most one other region of its level meet)."""
    summary: dict[str, Any] = {
        "tables": [vars(origin) for origin in table_origins(table_ids, source)],
    }
    if figures is not None:
        summary["figures"] = [
            {"title": r.title, "value_text": r.value_text, "period": str(r.period)}
            for r in figures.itertuples()
        ]
    if verdicts is not None:
        summary["verdicts"] = [
            {"claim_id": r.claim_id, "verdict": r.verdict} for r in verdicts.itertuples()
        ]
    if distinctive is not None:
        summary["distinctive"] = {k: int(distinctive[k]) for k in ("meets_rule", "distinctive")}
    return summary


def emit_summary(
    table_ids: Iterable[str],
    source: str,
    figures: pd.DataFrame | None = None,
    verdicts: pd.DataFrame | None = None,
    distinctive: dict[str, int] | None = None,
) -> None:
    """Display the report's machine-readable summary (see :mod:`noordstats.report.summary`);
    the last cell of a report notebook, tagged ``noordstats-summary``."""
    summary = build_summary(table_ids, source, figures, verdicts, distinctive)
    text = (
        f"noordstats report summary: {len(summary.get('figures', []))} headline figure(s), "
        f"{len(summary.get('verdicts', []))} verdict(s), {len(summary['tables'])} table(s)"
    )
    _display_bundle({SUMMARY_MIMETYPE: summary, "text/plain": text})
