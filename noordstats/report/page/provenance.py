"""The end of every report: where its figures come from (the provenance footer) and the
machine-readable summary the suite reads (:mod:`noordstats.report.page.summary`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from noordstats import i18n
from noordstats.cbs_codes import describe_period
from noordstats.declarations.tables import get_declaration
from noordstats.i18n import t
from noordstats.report.page.blocks import _display_bundle, _e, _show, licence_line, table_origins
from noordstats.report.page.summary import SUMMARY_MIMETYPE
from noordstats.storage import store


def show_provenance(table_ids: Iterable[str], lang: str | None = None) -> None:
    """The footer: every CBS table used, its title, dates, completeness and licence. The
    provenance notes of a partial copy are quoted as ``data/tables.yaml`` records them."""
    lang = i18n.resolve(lang)
    items = "".join(source_item(r, lang) for r in describe_sources(table_ids).itertuples())
    _show(
        f'<div class="noordstats-footer"><p><b>{_e(t("provenance.head", lang))}</b></p>'
        f"<ul>{items}</ul><p>{_e(licence_line(lang))}. {_e(t('provenance.computed', lang))}</p>"
        "</div>"
    )


def source_item(r: Any, lang: str = "en") -> str:
    """One table of the footer, in ``lang``."""
    if r.captured:
        captured = i18n.date(r.captured, lang)
    elif r.captured_note and lang == i18n.RECORDED_NOTES_LANG:  # tables.yaml's notes
        captured = r.captured_note
    else:
        captured = t("date.unknown", lang)
    parts = [
        t("provenance.periods", lang, periods=period_span(r.first_period, r.last_period, lang)),
        t("provenance.captured", lang, date=captured),
        t("provenance.modified", lang, date=i18n.date(r.modified, lang)),
        t(f"provenance.{r.completeness}", lang),
    ]
    note = ""
    if r.completeness != "complete":
        note = f' (<span lang="en">{_e(r.completeness_note)}</span>)'
    text = "; ".join(_e(p) for p in parts)
    breaks = "".join(
        f"<br><i>{_e(t(f'provenance.{kind}', lang, table=table))}</i>"
        + (f' <span lang="en">({_e(why)})</span>' if why else "")
        for kind, table, why in r.continuation
    )
    return (
        f"<li><b>{_e(r.table_id)}</b> {_e(r.title)} — {_e(r.publisher)}; {text}{note}; "
        f"{_e(t('provenance.licence', lang, licence=r.licence))}{breaks}</li>"
    )


def period_span(first: object, last: object, lang: str) -> str:
    """A table's first and last period codes (as :func:`describe_sources` carries them) in
    words: ``1995 t/m 2023`` / ``1995 to 2023``."""
    if not isinstance(first, str) or not first:
        return "–"
    if not isinstance(last, str) or not last or last == first:
        return describe_period(first, lang)
    first, last = describe_period(first, lang), describe_period(last, lang)
    return t("period.span", lang, first=first, last=last)


def describe_sources(table_ids: Iterable[str]) -> pd.DataFrame:
    """One row per table for a provenance footer: id, title, captured/modified dates, licence,
    completeness, source files. Reads the snapshot's metadata records."""
    rows = []
    table_ids = list(dict.fromkeys(table_ids))
    continued_by = {
        d.continues.table: d.id
        for d in (get_declaration(t) for t in table_ids)
        if d.continues is not None
    }
    for table_id in table_ids:
        decl = get_declaration(table_id)
        meta = store.read_snapshot_meta(decl.id) or {}
        continuation = []
        if decl.continues is not None:
            continuation.append(("continues", decl.continues.table, decl.continues.note))
        if decl.id in continued_by:
            continuation.append(("continued_by", continued_by[decl.id], ""))
        rows.append(
            {
                "table_id": decl.id,
                **decl.provenance_fields(),
                "periods": (
                    f"{meta['periods'][0]}..{meta['periods'][-1]}" if meta.get("periods") else None
                ),
                "first_period": meta["periods"][0] if meta.get("periods") else None,
                "last_period": meta["periods"][-1] if meta.get("periods") else None,
                "sources": "; ".join(
                    f"{s.repository}@{s.commit[:8]}:{s.path}" for s in decl.sources
                ),
                "continuation": continuation,
            }
        )
    return pd.DataFrame(rows)


def build_summary(
    table_ids: Iterable[str],
    source: str,
    figures: pd.DataFrame | None = None,
    verdicts: pd.DataFrame | None = None,
    lang: str | None = None,
    distinctive: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The summary record: ``lang``, ``figures`` (indicator_id, title, value, value_text,
    period), ``verdicts`` (claim_id, verdict), ``tables`` (table_id, source, data_date,
    latest_period, stale_reason) and, for the claims report, ``distinctive`` (the counts of
    :func:`noordstats.analysis.claims_compare.distinctive_counts`: meets_rule, supported and
    supported_groups, distinctive and distinctive_groups, fragile)."""
    lang = i18n.resolve(lang)
    summary: dict[str, Any] = {
        "lang": lang,
        "tables": [vars(origin) for origin in table_origins(table_ids, source)],
    }
    if figures is not None:
        summary["figures"] = [
            {
                "indicator_id": r.indicator_id,
                "title": r.title,
                "value": None if i18n.is_missing(r.value) else float(r.value),
                "value_text": r.value_text,
                "period": str(r.period),
                "status": getattr(r, "status", None),
                "fallback_region_code": _code_or_none(getattr(r, "fallback_region_code", None)),
            }
            for r in figures.itertuples()
        ]
    if verdicts is not None:
        summary["verdicts"] = [
            {"claim_id": r.claim_id, "verdict": r.verdict}
            | ({"evidence_group": r.evidence_group} if hasattr(r, "evidence_group") else {})
            for r in verdicts.itertuples()
        ]
    if distinctive is not None:
        summary["distinctive"] = {k: int(v) for k, v in distinctive.items()}
    return summary


def emit_summary(
    table_ids: Iterable[str],
    source: str,
    figures: pd.DataFrame | None = None,
    verdicts: pd.DataFrame | None = None,
    lang: str | None = None,
    distinctive: dict[str, int] | None = None,
) -> None:
    """Display the report's machine-readable summary (see :mod:`noordstats.report.page.summary`);
    the last cell of a report notebook, tagged ``noordstats-summary``."""
    lang = i18n.resolve(lang)
    summary = build_summary(table_ids, source, figures, verdicts, lang, distinctive)
    text = (
        f"noordstats report summary: {len(summary.get('figures', []))} headline figure(s), "
        f"{len(summary.get('verdicts', []))} verdict(s), {len(summary['tables'])} table(s)"
    )
    _display_bundle({SUMMARY_MIMETYPE: summary, "text/plain": text})


def _code_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
