"""``index.html`` (and ``index-en.html``): every report in an output folder, in one language.

Built from the manifest entries; every text is escaped. For one region the index lists each
report with its headline figures, claim verdicts, data date and status. For several regions it
is a matrix, regions × reports (the themes, the claims scorecard, the region profile), each cell
holding the report's main headline figure, its verdict counts and links to the page and the
PDF; a few lines of inline script filter it by region level and report, sort it by any column
and search region names (no library, no request). The page is a list of sections
(:func:`index_sections`), so a further section can be added without touching the others.
"""

from __future__ import annotations

import html
from collections import Counter
from functools import cache
from typing import Any

from noordstats import i18n, paths, regions
from noordstats.cbs_codes import describe_period
from noordstats.declarations import verdicts
from noordstats.declarations.report_kinds import load_report_kinds
from noordstats.declarations.themes import theme_ids
from noordstats.declarations.verdicts import Verdict
from noordstats.i18n import DEFAULT_LANG, t
from noordstats.report.page.freshness import describe_freshness

LEVEL_ORDER = list(regions.ALL_LEVELS)

#: filter by level and report, search region names, sort by a column (its figures: highest
#: first, then lowest first; missing ones last) or by the region (A-Z, then Z-A)
_SCRIPT = """(function(){var m=document.getElementById('m');if(!m)return;
var rows=Array.prototype.slice.call(m.tBodies[0].rows),lv=document.getElementById('f-level'),
co=document.getElementById('f-report'),q=document.getElementById('f-search'),dir={};
function show(){var l=lv.value,c=co.value,s=q.value.trim().toLowerCase();
rows.forEach(function(r){r.hidden=!((!l||r.dataset.l===l)&&(!s||r.dataset.n.indexOf(s)>=0));});
Array.prototype.forEach.call(m.rows,function(r){Array.prototype.forEach.call(r.cells,
function(x,i){if(i>0)x.hidden=!!c&&x.dataset.k!==c;});});}
function sort(i){dir[i]=dir[i]?-dir[i]:1;var d=dir[i];rows.sort(function(a,b){
if(i){var x=parseFloat(a.cells[i].dataset.v),y=parseFloat(b.cells[i].dataset.v);
if(isNaN(x)!==isNaN(y))return isNaN(x)?1:-1;if(!isNaN(x)&&x!==y)return d*(y-x);}
return (i?1:d)*(a.dataset.n<b.dataset.n?-1:a.dataset.n>b.dataset.n?1:0);});
rows.forEach(function(r){m.tBodies[0].appendChild(r);});
var hs=m.tHead.rows[0].cells,up=i?d<0:d>0;Array.prototype.forEach.call(hs,function(h){
h.removeAttribute('aria-sort');});hs[i].setAttribute('aria-sort',up?'ascending':'descending');
var st=document.getElementById('m-status');st.textContent=st.dataset[i?(up?'low':'high'):
(up?'az':'za')].replace('{column}',hs[i].textContent);}
Array.prototype.forEach.call(m.tHead.rows[0].cells,function(h,i){var b=h.querySelector('button');
if(b)b.addEventListener('click',function(){sort(i);});});
[lv,co].forEach(function(e){e.addEventListener('change',show);});
q.addEventListener('input',show);show();})();"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def index_name(lang: str) -> str:
    """``index.html`` for Dutch (the default), ``index-en.html`` for English."""
    return "index.html" if lang == DEFAULT_LANG else f"index-{lang}.html"


def render_index(
    entries: list[dict[str, Any]],
    generated_at: str,
    lang: str = DEFAULT_LANG,
    languages: dict[str, str] | None = None,
) -> str:
    """The index page for these manifest entries, in ``lang``; ``languages`` maps another
    language to its index file (a link at the top)."""
    sections = index_sections(entries, generated_at, lang, languages or {})
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(t('index.title', lang))}</title><style>{_report_css()}</style></head>"
        '<body class="noordstats-index"><main>' + "".join(sections) + "</main></body></html>\n"
    )


@cache
def _report_css() -> str:
    """report.css, inlined: the index stands alone (also beside self-contained pages)."""
    return paths.REPORT_CSS_FILE.read_text(encoding="utf-8")


def index_sections(
    entries: list[dict[str, Any]], generated_at: str, lang: str, languages: dict[str, str]
) -> list[str]:
    """The page's sections in order: header, the reports (a list, or a matrix for several
    regions), stale data, footer."""
    themes = {theme: position for position, theme in enumerate(theme_ids())}
    ordered = sorted(
        entries,
        key=lambda e: (
            _kind_order(e.get("kind")),
            themes.get((e.get("parameters") or {}).get("theme"), len(themes)),
            e["name"],
        ),
    )
    regions = {_region(e) for e in ordered}
    body = _matrix(ordered, lang) if len(regions) > 1 else _list(ordered, lang)
    return [
        _header(ordered, generated_at, lang, languages),
        _changes_section(ordered, lang),
        body,
        _stale_section(ordered, lang),
        f'<p class="meta">{_e(t("licence.line", lang))}.</p>',
    ]


def _region(entry: dict[str, Any]) -> str:
    return str((entry.get("parameters") or {}).get("region") or "")


def _header(entries: list, generated_at: str, lang: str, languages: dict[str, str]) -> str:
    failed = sum(1 for e in entries if e.get("status") == "failed")
    status = t("index.count", lang, n=len(entries))
    if failed:
        status += t("index.count_failed", lang, n=failed)
    stopped = sum(1 for e in entries if e.get("status") == "interrupted")
    if stopped:
        status += t("index.count_interrupted", lang, n=stopped)
    written = t("index.written", lang, date=_datetime(generated_at, lang))
    switch = "".join(
        f' · <a href="{_e(href)}" hreflang="{_e(other)}" lang="{_e(other)}">'
        f"{_e(t('lang.switch', lang))}</a>"
        for other, href in languages.items()
    )
    dates = sorted(e["data_date"] for e in entries if e.get("data_date"))
    data = ""
    if dates:
        first, last = i18n.date(dates[0], lang), i18n.date(dates[-1], lang)
        span = first if first == last else f"{first} – {last}"
        data = f" · {_e(t('index.data_dates', lang, dates=span))}"
    return (
        f"<h1>{_e(t('index.heading', lang))}</h1><p>{t('index.intro', lang)}</p>"
        f'<p class="meta">{_e(status)} · {_e(written)}{data}{switch}</p>'
    )


def _datetime(stamp: str, lang: str) -> str:
    """``2026-11-30T06:00:02+01:00`` -> ``30 november 2026 06:00``."""
    text = str(stamp or "")
    if len(text) >= 16 and text[10] == "T":
        return f"{i18n.date(text[:10], lang)} {text[11:16]}"
    return text


def _counts(entry: dict[str, Any]) -> Counter:
    return Counter(v.get("verdict") for v in (entry.get("summary") or {}).get("verdicts", []))


def _verdict_name(verdict: str, lang: str) -> str:
    key = f"verdict.{verdict}"
    return t(key, lang) if i18n.has(key) else str(verdict)


# ------------------------------------------------------------------ one region: a list


def _list(entries: list[dict[str, Any]], lang: str) -> str:
    heads = "".join(
        f"<th>{_e(t(f'index.head.{h}', lang))}</th>"
        for h in ("report", "figures", "claims", "data")
    )
    rows = "".join(_list_row(entry, lang) for entry in entries)
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>"


def _links(entry: dict[str, Any], lang: str) -> str:
    links = []
    if entry.get("pdf"):
        links.append(f'<a href="{_e(entry["pdf"])}">PDF</a>')
    if entry.get("notebook"):
        links.append(f'<a href="{_e(entry["notebook"])}">{_e(t("index.notebook", lang))}</a>')
    return " · ".join(links)


def _list_row(entry: dict[str, Any], lang: str) -> str:
    if entry.get("status") == "interrupted":  # a stopped run did not get to it
        report = f'{_e(entry["title"])}<br><span class="failed">{_e(t("index.interrupted", lang))}'
        report += "</span>"
        if entry.get("html"):
            previous = t("index.previous_version", lang)
            report += f' <a href="{_e(entry["html"])}">({_e(previous)})</a>'
    elif entry.get("status") == "failed":
        report = f"{_e(entry['title'])} {_links(entry, lang)}"
        report += (
            f'<br><span class="failed">{_e(t("index.failed", lang))}</span> '
            f'<span class="meta">{_e(entry.get("error"))}</span>'
        )
    else:
        rendered = t("index.rendered", lang, date=_datetime(entry.get("rendered_at"), lang))
        report = (
            f'<a href="{_e(entry["html"])}">{_e(entry["title"])}</a><br>'
            f'<span class="meta">{_links(entry, lang)} · {_e(rendered)}</span>'
        )
    summary = entry.get("summary") or {}
    figures = "".join(
        f"<li>{_e(f.get('title'))}: <b>{_e(f.get('value_text'))}</b> "
        f'<span class="meta">({_e(describe_period(f.get("period"), lang, f.get("status")))})'
        "</span></li>"
        for f in summary.get("figures", [])
    )
    counts = _counts(entry)
    claims = "".join(
        f'<span class="verdict {verdicts.css_class(v)}">{_e(_verdict_name(v, lang))}: '
        f"{counts[v]}</span> "
        for v in sorted(counts, key=_verdict_rank)
    )
    claims += _distinctive_line(summary, lang)
    date = i18n.date(entry.get("data_date"), lang) if entry.get("data_date") else None
    data = (
        f"{_e(t('index.data_of', lang, date=date or t('date.unknown', lang)))}<br>"
        f"<span class='meta'>{_e(t('index.latest', lang, period=_period(entry, lang)))}; "
        f"{_e(_source_name(entry.get('source'), lang))}</span>"
    )
    for change in entry.get("changes") or []:
        data += f'<br><span class="meta">{_e(change_text(change, lang))}</span>'
    if _is_stale(entry):
        data += f'<br><span class="failed">{_e(t("index.not_live", lang))}</span>'
    return f"<tr><td>{report}</td><td><ul>{figures}</ul></td><td>{claims}</td><td>{data}</td></tr>"


def _distinctive_line(summary: dict[str, Any], lang: str = DEFAULT_LANG) -> str:
    """How many of the region's supported claims stand out among the landsdelen, if the report
    said (the claims scorecard does); empty otherwise."""
    counts = summary.get("distinctive")
    if not isinstance(counts, dict) or "distinctive" not in counts:
        return ""
    if "supported_groups" in counts:
        text = t(
            "index.supported_groups", lang, supported=counts.get("supported", "?"),
            groups=counts["supported_groups"], distinctive=counts["distinctive"],
            distinctive_groups=counts.get("distinctive_groups", "?"),
        )  # fmt: skip
        if counts.get("fragile"):
            text += t("index.fragile", lang, n=counts["fragile"])
    else:  # a summary written before evidence groups were counted
        text = t(
            "index.distinctive", lang, distinctive=counts["distinctive"],
            meets=counts.get("meets_rule", "?"),
        )  # fmt: skip
    return f'<br><span class="meta distinctive">{_e(text)}</span>'


def _source_name(source: Any, lang: str) -> str:
    key = f"source.{source}"
    return t(key, lang) if i18n.has(key) else str(source or "")


def _verdict_rank(verdict: str) -> int:
    return verdicts.order(verdict)


# ------------------------------------------------------------------ several regions: a matrix


def _column_of(entry: dict[str, Any]) -> str:
    """The matrix column of a report: its theme, or its kind (claims, region_profile)."""
    params = entry.get("parameters") or {}
    return str(params.get("theme") or entry.get("kind") or entry["name"])


def _column_title(entry: dict[str, Any], lang: str) -> str:
    """The report's label (its theme's title, "Claims scorecard"): in the manifest entry; for
    an entry of an older manifest, its kind's declared title or the whole title."""
    if entry.get("label"):
        return str(entry["label"])
    kind = load_report_kinds().get(str(entry.get("kind")))
    if kind is not None and kind.title is not None:
        return kind.label(lang)
    return str(entry.get("title") or _column_of(entry))


def _known_region_name(code: str) -> str:
    """The registry's name of ``code``; empty when it is not a region noordstats knows."""
    try:
        return regions.region_name(code)
    except regions.RegionError:  # an unknown code is shown as itself
        return ""


def _kind_order(kind: object) -> int:
    """Place of a report kind in the index (data/report_kinds.yaml); unknown ones last."""
    kinds = list(load_report_kinds())
    return kinds.index(kind) if kind in kinds else len(kinds)


def _matrix(entries: list[dict[str, Any]], lang: str) -> str:
    columns: dict[str, str] = {}
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    names: dict[str, str] = {}
    for entry in entries:
        column = _column_of(entry)
        columns.setdefault(column, _column_title(entry, lang))
        cells[(_region(entry), column)] = entry
        names.setdefault(_region(entry), str(entry.get("region_name") or ""))
        if not names[_region(entry)]:  # a manifest of an older version: no region_name field
            names[_region(entry)] = _known_region_name(_region(entry))
    region_codes = sorted(
        names, key=lambda c: (LEVEL_ORDER.index(c[:2]) if c[:2] in LEVEL_ORDER else 9, c)
    )
    levels = [level for level in LEVEL_ORDER if any(c[:2] == level for c in region_codes)]
    heads = f"<th><button>{_e(t('index.head.region', lang))}</button></th>" + "".join(
        f'<th data-k="{_e(k)}"><button>{_e(title)}</button></th>' for k, title in columns.items()
    )
    rows = []
    for code in region_codes:
        name = names[code] or code
        label = f"{_e(name)} <span class=meta>{_e(code)}</span>"
        row = "".join(_cell(cells.get((code, k)), k, lang) for k in columns)
        search = _e(f"{name} {code}".lower())
        rows.append(f'<tr data-l="{_e(code[:2])}" data-n="{search}"><th>{label}</th>{row}</tr>')
    return (
        _controls(levels, columns, lang)
        + f'<div class="wrap"><table id="m"><thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        + _sort_status(lang)
        + f"<p class=meta>{_legend(lang)}</p><script>{_SCRIPT}</script>"
    )


def _sort_status(lang: str) -> str:
    """A polite live region that says, after each sort, by which column and in which order
    (the sorted heading also carries ``aria-sort``); the words are the page's language."""
    words = {
        k: _e(t(f"index.sorted.{k}", lang, column="{column}")) for k in ("high", "low", "az", "za")
    }
    data = " ".join(f'data-{k}="{v}"' for k, v in words.items())
    return f'<p id="m-status" class="sr" role="status" aria-live="polite" {data}></p>'


def _controls(levels: list[str], columns: dict[str, str], lang: str) -> str:
    level_options = "".join(
        f'<option value="{_e(level)}">{_e(t(f"level.plural.{level}", lang))}</option>'
        for level in levels
        if i18n.has(f"level.plural.{level}")
    )
    report_options = "".join(
        f'<option value="{_e(k)}">{_e(title)}</option>' for k, title in columns.items()
    )
    every = _e(t("index.filter.all", lang))
    return (
        '<div class="controls">'
        f'<label>{_e(t("index.filter.level", lang))} <select id="f-level">'
        f'<option value="">{every}</option>{level_options}</select></label>'
        f'<label>{_e(t("index.filter.report", lang))} <select id="f-report">'
        f'<option value="">{every}</option>{report_options}</select></label>'
        f'<label>{_e(t("index.filter.search", lang))} <input id="f-search" type="search">'
        "</label></div>"
    )


def _legend(lang: str) -> str:
    badges = " ".join(
        f'<i class=c><b class="{v.css_class}">n</b></i> {_e(_verdict_name(v, lang))}'
        for v in list(Verdict)[:4]
    )
    return f"{_e(t('index.legend', lang))} {badges}"


def _cell(entry: dict[str, Any] | None, column: str, lang: str) -> str:
    if entry is None:
        return f'<td data-k="{_e(column)}"></td>'
    if entry.get("status") == "interrupted":
        stopped = _e(t("index.interrupted", lang))
        return f'<td data-k="{_e(column)}"><span class="failed">{stopped}</span></td>'
    if entry.get("status") == "failed":
        link = f' <a href="{_e(entry["notebook"])}">ipynb</a>' if entry.get("notebook") else ""
        return (
            f'<td data-k="{_e(column)}" title="{_e(entry.get("error"))}">'
            f'<span class="failed">{_e(t("index.failed", lang))}</span>{link}</td>'
        )
    figures = (entry.get("summary") or {}).get("figures") or []
    main = figures[0] if figures else {}
    value = main.get("value")
    fallback = main.get("fallback_region_code")
    # a containing region's figure is shown, but never sorted among the row's own level
    sortable = isinstance(value, int | float) and not fallback
    sort_key = f' data-v="{value!r}"' if sortable else ""
    text = main.get("value_text") or t("index.open", lang)
    if fallback:
        text = t("index.fallback", lang, value=text, region=fallback)
    stale = ' class="s"' if _is_stale(entry) else ""
    pdf = f' <a class=p href="{_e(entry["pdf"])}">pdf</a>' if entry.get("pdf") else ""
    counts = _counts(entry)
    badges = "".join(
        f'<b class="{verdicts.css_class(v)}">{counts[v]}</b>'
        for v in sorted(counts, key=_verdict_rank)
    )
    badges = f"<br><i class=c>{badges}</i>" if badges else ""
    badges += _distinctive_line(entry.get("summary") or {}, lang)
    return (
        f'<td data-k="{_e(column)}"{sort_key}{stale}><a href="{_e(entry["html"])}">{_e(text)}</a>'
        f"{pdf}{badges}</td>"
    )


def _is_stale(entry: dict[str, Any]) -> bool:
    """Did the report's data not come as fresh as asked (see :mod:`freshness`)?"""
    return bool(entry.get("tables")) and describe_freshness(entry["tables"], DEFAULT_LANG).is_alarm


def _period(entry: dict[str, Any], lang: str) -> str:
    return describe_period(entry.get("latest_period"), lang)


def _stale_section(entries: list[dict[str, Any]], lang: str) -> str:
    """Reports whose data did not come live from CBS although it was asked for, and why."""
    items = [
        f"<li>{_e(entry['title'])}: {_e(describe_freshness(entry['tables'], lang).sentence)}</li>"
        for entry in entries
        if _is_stale(entry)
    ]
    if not items:
        return ""
    return f"<h2>{_e(t('index.stale', lang))}</h2><ul>{''.join(items)}</ul>"


# ------------------------------------------------------------------ what changed since last run


def change_text(change: dict[str, Any], lang: str = DEFAULT_LANG) -> str:
    """``83582NED: latest period 2023 -> 2024 (CBS data of 22 April 2025 -> ...)``"""
    old, new = (describe_period(change[k], lang) for k in ("old_period", "new_period"))
    text = t("index.change", lang, table=change["table_id"], old=old, new=new)
    if change.get("old_date") != change.get("new_date"):
        old = i18n.date(change["old_date"], lang) if change.get("old_date") else "–"
        new = i18n.date(change["new_date"], lang) if change.get("new_date") else "–"
        text += " " + t("index.change_dates", lang, old=old, new=new)
    return text


def _changes_section(entries: list[dict[str, Any]], lang: str) -> str:
    """'Changed since the previous run': each table whose data moved, once, with the reports
    rendered again for it; nothing when no table changed."""
    found: dict[str, list[str]] = {}
    for entry in entries:
        for change in entry.get("changes") or []:
            found.setdefault(change_text(change, lang), []).append(str(entry["title"]))
    if not found:
        return ""
    again = t("index.rendered_again", lang)
    items = "".join(
        f"<li>{_e(text)} <span class='meta'>— {_e(again)}: {_e(', '.join(titles))}</span></li>"
        for text, titles in sorted(found.items())
    )
    return f'<h2>{_e(t("index.changes", lang))}</h2><ul class="changes">{items}</ul>'
