"""HTML blocks for the report notebooks: header, narrative, data-status banner, headline
figures, claims, tables with a CSV download, definitions and the provenance footer.

Every block takes the report's language (``lang``: ``nl``, the default, or ``en``); its words come
from the catalogue (:mod:`noordstats.i18n`), declared texts from the declarations in that language,
and numbers and dates are written as that language writes them. Quotes from the paper are shown
as the paper has them. Every string that comes from CBS or from the config is escaped here
(``html.escape``, pandas ``to_html(escape=True)``), so a title holding ``<script>`` shows as text
and never runs.
"""

from __future__ import annotations

import datetime as dt
import html
import urllib.parse
import warnings
from collections.abc import Iterable
from typing import Any

import pandas as pd

from noordstats import i18n, paths, regions
from noordstats.analysis import frames
from noordstats.cbs_codes import describe_period
from noordstats.declarations import verdicts
from noordstats.declarations.indicators import load_indicators
from noordstats.declarations.report_kinds import load_report_kinds
from noordstats.declarations.themes import Theme
from noordstats.i18n import t
from noordstats.load import StaleDataWarning, TableOrigin
from noordstats.report.page.freshness import describe_freshness
from noordstats.report.page.summary import OUTPUT_METADATA_KEY

#: the columns of the figures tables (headline figures, region profile)
FIGURE_TABLE_COLUMNS = [
    "indicator_id", "title", "value", "unit", "period", "status", "nl_value", "rank", "n_peers",
    "table_id", "fallback_region_code", "province_code", "province_value", "landsdeel_code",
    "landsdeel_value", "break_years", "confirmed_break_years", "left_out_years",
]  # fmt: skip
SECTOR_TABLE_COLUMNS = [
    "region_code", "region_name", "sector_code", "sector_name", "year", "status",
    "jobs_thousands", "share_of_region_pct", "share_of_nl_jobs_pct", "location_quotient",
]  # fmt: skip
CLAIM_TABLE_COLUMNS = [
    "claim_id", "section", "theme", "figure", "figure_text", "period", "comparison", "verdict",
    "sources",
]  # fmt: skip


def _show(markup: str, marks: dict[str, object] | None = None) -> None:
    _display_bundle({"text/html": markup}, {OUTPUT_METADATA_KEY: marks} if marks else None)


def page_only(notebook_html: str = "") -> dict[str, object]:
    """The mark of an output only the HTML page needs (a CSV download link: the analyst has the
    frame); the kept notebook shows ``notebook_html`` instead, or nothing."""
    mark: dict[str, object] = {"page_only": True}
    if notebook_html:
        mark["notebook_html"] = notebook_html
    return mark


def _display_bundle(bundle: dict[str, object], metadata: dict[str, object] | None = None) -> None:
    # deferred: IPython is needed only inside a kernel, not by the suite that imports this module
    from IPython.display import display

    display(bundle, raw=True, metadata=metadata)


def show_stylesheet() -> None:
    """The report's stylesheet (``report.css``) for the notebook in JupyterLab; an exported
    page leaves this output out and links the file."""
    css = paths.REPORT_CSS_FILE.read_text(encoding="utf-8")
    _display_bundle(
        {"text/html": f"<style>{css}</style>"}, {OUTPUT_METADATA_KEY: {"stylesheet": True}}
    )


def _e(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return html.escape(str(value))


def licence_line(lang: str | None = None) -> str:
    lang = i18n.resolve(lang)
    return t("licence.line", lang)


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (for ``content:`` in the print footer)."""
    escaped = "".join(c if c.isalnum() or c in " .,-—:()'" else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


def print_style(title: str, lang: str | None = None) -> str:
    """The printed page (PDF): A4, the report's title and page numbers in the margin."""
    lang = i18n.resolve(lang)
    page = t("print.page", lang).split("{page}")
    before, after = page[0], page[1].split("{pages}")
    numbers = (
        f"{_css_string(before)} counter(page) {_css_string(after[0])} counter(pages)"
        f" {_css_string(after[1])}"
    )
    return (
        "<style>@page {size: A4; margin: 16mm 14mm 18mm;"
        f" @bottom-left {{content: {_css_string(title)}; font: 8pt sans-serif; color: #555}}"
        f" @bottom-right {{content: {numbers}; font: 8pt sans-serif; color: #555}}}}</style>"
    )


def show_report_header(
    title: str, region: str, subtitle: str = "", lang: str | None = None
) -> None:
    """The report's title line: ``title — region name (code)``, plus the date it was rendered."""
    lang = i18n.resolve(lang)
    name = regions.region_name(region)
    today = i18n.date(dt.date.today(), lang)
    sub = f"{_e(subtitle)} · " if subtitle else ""
    heading = f"{title} — {name} ({region})"
    show_stylesheet()
    markup = (
        f'{print_style(heading, lang)}<div class="noordstats-header" lang="{lang}">'
        f'<h1>{_e(heading)}</h1><p class="noordstats-sub">{sub}'
        f"{_e(t('header.rendered', lang, date=today))}</p></div>"
    )
    _display_bundle({"text/html": markup}, {OUTPUT_METADATA_KEY: {"title": heading}})


def show_theme_header(theme: Theme, region: str, lang: str | None = None) -> None:
    lang = i18n.resolve(lang)
    title = i18n.declared(theme, "title", lang)
    show_report_header(title, region, t(f"theme.kind.{theme.kind}", lang), lang)


def report_title(kind: str, lang: str | None = None) -> str:
    """The title of a report that is not a theme's (``claims``, ``region_profile``, ...), as its
    kind declares it (data/report_kinds.yaml)."""
    lang = i18n.resolve(lang)
    return load_report_kinds()[kind].label(lang)


def show_header(kind: str, region: str, lang: str | None = None) -> None:
    """The header of a report that is not a theme's: its kind's title, its subtitle (catalogue
    ``report.<kind>.subtitle``, if any) and the region."""
    lang = i18n.resolve(lang)
    key = f"report.{kind}.subtitle"
    subtitle = t(key, lang) if i18n.has(key) else ""
    show_report_header(report_title(kind, lang), region, subtitle, lang)


def show_narrative(key: str, lang: str | None = None, **params: Any) -> None:
    """A heading and paragraphs of the report's narrative (``narrative.<key>`` in the
    catalogue, Markdown), in ``lang``; ``params`` (escaped) fill its placeholders."""
    lang = i18n.resolve(lang)
    escaped = {k: html.escape(str(v)) for k, v in params.items()}
    markdown = t(f"narrative.{key}", lang, **escaped)
    _display_bundle({"text/markdown": markdown, "text/plain": markdown})


def show_data_status(table_ids: Iterable[str], source: str, lang: str | None = None) -> None:
    """Say where the data comes from; with ``auto``/``live``, load every table now and say in
    one sentence how fresh the data are, with the tables grouped by what happened to them
    folded away below it. The box is an alarm only when a CBS table asked for live came from an
    older copy, or another publisher's table is past its own rule."""
    lang = i18n.resolve(lang)
    tables = list(dict.fromkeys(table_ids))
    if source == "snapshot":
        text = t("status.snapshot", lang, n=len(tables), tables=", ".join(tables))
        _show(f'<p class="noordstats-status">{_e(text)}</p>')
        return
    _show(
        freshness_html(
            describe_freshness([vars(o) for o in table_origins(tables, source)], lang), lang
        )
    )


def freshness_html(freshness: Any, lang: str | None = None) -> str:
    """The freshness statement as the page shows it: the sentence, then ``<details>``."""
    lang = i18n.resolve(lang)
    groups = "".join(
        f"<p><b>{_e(heading)}</b></p><ul>{''.join(f'<li>{_e(i)}</li>' for i in items)}</ul>"
        for _, heading, items in freshness.groups
    )
    details = f"<details><summary>{_e(t('fresh.details', lang))}</summary>{groups}</details>"
    if freshness.is_alarm:
        return (
            f'<div class="noordstats-stale" role="alert"><p>{_e(freshness.sentence)}</p>'
            f"{details}</div>"
        )
    return f'<div class="noordstats-status"><p>{_e(freshness.sentence)}</p>{details}</div>'


def table_origins(table_ids: Iterable[str], source: str) -> list[TableOrigin]:
    """Where each table's rows come from: the frames the figures use (loaded once per process),
    so a report states exactly the data it shows."""
    with warnings.catch_warnings():  # the banner says it; the worker's log has said it once
        warnings.simplefilter("ignore", StaleDataWarning)
        return [frames.table_origin(t, source) for t in dict.fromkeys(table_ids)]


def show_headlines(headlines: pd.DataFrame, lang: str | None = None) -> None:
    """One card per headline figure: value, period, comparison with NL, table. ``headlines``:
    ``indicators.headline_figures`` (or ``region_profile``) as ``wording.headline_texts`` words
    it."""
    lang = i18n.resolve(lang)
    if headlines.empty:
        _show(f'<p class="noordstats-note">{_e(t("headlines.none", lang))}</p>')
        return
    cards = "".join(
        f'<div class="noordstats-card{" fallback" if _is_true(r, "is_fallback") else ""}">'
        f'<div class="label">{_e(r.title)}</div><div class="value">{_e(r.value_text)}</div>'
        + _fallback_line(r, lang)
        + f'<div class="meta">{_e(describe_period(r.period, lang, getattr(r, "status", None)))} · '
        f"{_e(r.comparison_text)}</div>"
        + _context_line(r, lang)
        + f'<div class="meta">{_e(t("headlines.table", lang, table=r.table_id))}</div>'
        + (
            f'<div class="meta dated">{_e(r.dated)}</div>'
            if _has_text(getattr(r, "dated", ""))
            else ""
        )
        + "</div>"
        for r in headlines.itertuples()
    )
    _show(f'<div class="noordstats-cards">{cards}</div>')


def _is_true(row: Any, column: str) -> bool:
    """A boolean column of a row (Python's or numpy's bool; missing is False)."""
    return getattr(row, column, False) in (True,)


def _fallback_line(row: Any, lang: str) -> str:
    """ "only by province: Fryslân 1,00 kW per inhabitant" on a card whose figure is the
    containing region's."""
    if not _is_true(row, "is_fallback"):
        return ""
    code = str(row.fallback_region_code)
    text = t(
        "card.fallback",
        lang,
        level=t(f"level.singular.{code[:2]}", lang),
        region=regions.region_name(code),
        value=row.value_text,
    )
    return f'<div class="fallback-note">{_e(text)}</div>'


def _context_line(row: Any, lang: str) -> str:
    """The figures of the regions the report's region lies in, beside its own: "Fryslân 1,02 ·
    Noord-Nederland 1,98" (the fallback region is already the card's figure)."""
    parts = []
    for level in ("province", "landsdeel"):
        code = getattr(row, f"{level}_code", None)
        value = getattr(row, f"{level}_value", None)
        if not isinstance(code, str) or i18n.is_missing(value):
            continue
        if code == getattr(row, "fallback_region_code", None):
            continue
        number = i18n.number(float(value), lang, _decimals(row))
        parts.append(t("card.context", lang, region=regions.region_name(code), value=number))
    return f'<div class="meta context">{_e(" · ".join(parts))}</div>' if parts else ""


def _decimals(row: Any) -> int | None:
    ind = load_indicators().get(str(row.indicator_id))
    return ind.decimals if ind is not None else None


def verdict_name(verdict: str, lang: str | None = None) -> str:
    """A verdict (one of ``VERDICTS``) as readers of ``lang`` call it."""
    lang = i18n.resolve(lang)
    key = f"verdict.{verdict}"
    return t(key, lang) if i18n.has(key) else str(verdict)


def verdict_badge(verdict: str, lang: str | None = None) -> str:
    lang = i18n.resolve(lang)
    css = verdicts.css_class(verdict)
    return f'<span class="noordstats-verdict {css}">{_e(verdict_name(verdict, lang))}</span>'


def show_claims(claims: pd.DataFrame, lang: str | None = None) -> None:
    """Each claim: the paper's words, the figure that tests it, the rule and the verdict.
    ``claims``: ``claims.evaluate_claims`` as ``wording.claim_texts`` words it."""
    lang = i18n.resolve(lang)
    if claims.empty:
        _show(f'<p class="noordstats-note">{_e(t("claims.none", lang))}</p>')
        return
    rows = "".join(
        "<tr>"
        f'<td><span class="noordstats-quote" lang="nl">“{_e(r.quote_nl)}”</span><br>'
        f"<small>{_e(r.claim)}<br>{_e(r.claim_id)} · {_e(r.section)}</small></td>"
        f"<td>{_e(r.figure_text)}<br><small>{_e(r.period)}</small></td>"
        f"<td>{_e(r.comparison)}</td><td>{verdict_badge(r.verdict, lang)}"
        f"{first_rule_note(r.first_rule_verdict, r.verdict, r.first_rule, lang)}</td>"
        f"<td><small>{_e(r.rule)}</small></td></tr>"
        for r in claims.itertuples()
    )
    heads = "".join(
        f"<th>{_e(t(f'claims.head.{h}', lang))}</th>"
        for h in ("claim", "figure", "comparison", "verdict", "rule")
    )
    _show(
        f'<div class="noordstats-table"><table><thead><tr>{heads}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def first_rule_note(
    first_verdict: object, verdict: str, first_rule: object, lang: str | None = None
) -> str:
    """Under a verdict: the verdict under the claim's first registered rule, where the rule was
    changed with the figure known and the two verdicts differ (the old rule in the tooltip)."""
    if not isinstance(first_verdict, str) or first_verdict == verdict:
        return ""
    lang = i18n.resolve(lang)
    label = t("claims.first_rule", lang)
    return (
        f'<br><small class="noordstats-first-rule" title="{_e(first_rule)}">{_e(label)} '
        f"{verdict_badge(first_verdict, lang)}</small>"
    )


def show_verdict_counts(claims: pd.DataFrame, lang: str | None = None) -> None:
    """How many claims got each verdict, and from how many independent evidence groups
    (:mod:`noordstats.analysis.evidence`)."""
    lang = i18n.resolve(lang)
    counts = claims.verdict.value_counts()
    groups = (
        claims.groupby("verdict").evidence_group.nunique()
        if "evidence_group" in claims
        else pd.Series(dtype=int)
    )
    items = " ".join(
        f"{verdict_badge(v, lang)} {int(counts.get(v, 0))}"
        + (
            f' <small class="noordstats-groups">'
            f"{_e(t('claims.from_groups', lang, groups=int(groups[v])))}</small>"
            if v in groups.index and v != "not testable"
            else ""
        )
        for v in verdicts.VERDICTS
        if counts.get(v, 0)
    )
    _show(f"<p>{_e(t('claims.count', lang, n=len(claims)))} {items}</p>")


def column_name(column: str, lang: str | None = None) -> str:
    """A data column's header in ``lang`` (the column's own name when the catalogue has none)."""
    lang = i18n.resolve(lang)
    key = f"column.{column}"
    return t(key, lang) if i18n.has(key) else column


def localise_frame(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A frame as a reader of ``lang`` sees it in a table or a CSV: column headers, verdicts
    and CBS statuses in ``lang`` (the numbers stay numbers), and beside a period code the
    period in words (``2024KW04`` beside ``4e kwartaal 2024``; ``2024 (voorlopig)``)."""
    lang = i18n.resolve(lang)
    shown = frame.copy()
    if "period_code" in shown and "period" not in shown:
        statuses = shown["status"] if "status" in shown else [None] * len(shown)
        words = [
            describe_period(c, lang, s) for c, s in zip(shown["period_code"], statuses, strict=True)
        ]
        shown.insert(shown.columns.get_loc("period_code") + 1, "period", words)
    for column in shown.columns:
        if shown[column].map(lambda v: isinstance(v, tuple)).any():  # years: "2014, 2018"
            shown[column] = shown[column].map(
                lambda v: ", ".join(map(str, v)) if isinstance(v, tuple) else v
            )
    for column, prefix in (("verdict", "verdict"), ("status", "status")):
        if column in shown:
            shown[column] = [
                t(f"{prefix}.{v}", lang) if isinstance(v, str) and i18n.has(f"{prefix}.{v}") else v
                for v in shown[column]
            ]
    return shown.rename(columns={c: column_name(c, lang) for c in shown.columns})


#: the start of a CSV download's ``data:`` URI; the CSV follows, percent-encoded (RFC 2397)
CSV_DATA_URI = "data:text/csv;charset=utf-8,"
#: what stays as it is in a CSV's ``data:`` URI besides letters, digits and ``_.-~``: none of it
#: needs escaping in a URL or in a double-quoted HTML attribute (base64 made every byte 4/3)
_CSV_URI_SAFE = ",;:()/*!@$+="


def csv_payload(frame: pd.DataFrame, lang: str | None = None) -> str:
    """``frame`` (localised) as a percent-encoded CSV (UTF-8) for a ``data:`` link."""
    lang = i18n.resolve(lang)
    text = localise_frame(frame, lang).to_csv(index=False, **i18n.csv_options(lang))
    return urllib.parse.quote(text, safe=_CSV_URI_SAFE, encoding="utf-8")


def csv_href(frame: pd.DataFrame, lang: str | None = None) -> str:
    """The ``data:`` URI that downloads ``frame`` (localised) as CSV, without a request."""
    return CSV_DATA_URI + csv_payload(frame, lang)


def caption(name: str, lang: str | None = None) -> str:
    """A table's caption in ``lang`` (``caption.<name>`` in the catalogue)."""
    lang = i18n.resolve(lang)
    return t(f"caption.{name}", lang)


def show_table(
    frame: pd.DataFrame,
    name: str,
    caption: str = "",
    columns: list[str] | None = None,
    lang: str | None = None,
) -> None:
    """A table (escaped) of ``columns`` (default: all), with a link to download exactly what it
    shows as CSV."""
    lang = i18n.resolve(lang)
    shown = frame if columns is None else frame.reindex(columns=columns)
    if shown.empty:
        _show(f'<p class="noordstats-note">{_e(t("table.empty", lang, name=caption or name))}</p>')
        return
    table = localise_frame(shown, lang).to_html(
        index=False, escape=True, na_rep="–", border=0, float_format=lambda v: i18n.number(v, lang)
    )
    heading = f"<p><b>{_e(caption)}</b></p>" if caption else ""
    body = f'{heading}<div class="noordstats-table">{table}</div>'
    link = t("table.download", lang, n=len(shown))
    missing = _e(t("table.missing", lang))
    _show(
        f'{body}<p class="noordstats-download"><a download="{_e(name)}.csv" '
        f'href="{csv_href(shown, lang)}">{_e(link)}</a> · {missing}</p>',
        page_only(f'{body}<p class="noordstats-note">{missing}</p>'),
    )


def show_definitions(
    theme: Theme | None = None,
    headlines: pd.DataFrame | None = None,
    claims: pd.DataFrame | None = None,
    lang: str | None = None,
) -> None:
    """Why the theme is measured this way, what the data cannot say, and each figure's caveats."""
    lang = i18n.resolve(lang)
    parts = []
    if theme is not None:
        for field in ("rationale", "limits"):
            text = i18n.declared(theme, field, lang)
            parts.append(f"<p><b>{_e(t(f'definitions.{field}', lang))}</b> {_e(text)}</p>")
    if headlines is not None:
        caveats = [
            f"<li><b>{_e(r.title)}</b>: {_e(r.caveat)}</li>"
            for r in headlines.itertuples()
            if r.caveat
        ]
        if caveats:
            head = _e(t("definitions.caveats", lang))
            parts.append(f"<p><b>{head}</b></p><ul>{''.join(caveats)}</ul>")
    if claims is not None:
        label = _e(t("definitions.claim_caveats", lang))
        notes = [
            f"<li><b>{_e(r.claim_id)}</b>: {_e(r.definition)}"
            + (f" <i>{label} {_e(r.caveats)}</i>" if _has_text(r.caveats) else "")
            + "</li>"
            for r in claims.itertuples()
            if _has_text(r.definition) or _has_text(r.caveats)
        ]
        if notes:
            head = _e(t("definitions.verdicts", lang))
            parts.append(f"<p><b>{head}</b></p><ul>{''.join(notes)}</ul>")
    none = f'<p class="noordstats-note">{_e(t("definitions.none", lang))}</p>'
    _show("".join(parts) or none)


def _has_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() not in {"", "-"}
