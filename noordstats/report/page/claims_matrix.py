"""The claims beside every region, for the claims report: each claim's readings side by side, and
the claims x regions matrix (verdict colour, primary figure in the cell) with one sentence per
claim saying whether the region stands out.

Every reader-visible string of this module is in the catalogue (``noordstats/i18n/catalogue.yaml``,
keys ``matrix.*``, ``robustness.*``, ``verdict.*``); every value from the data is escaped.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from noordstats import i18n
from noordstats import regions as reg
from noordstats.analysis.claims import all_regions
from noordstats.declarations.indicators import load_indicators
from noordstats.declarations.verdicts import Verdict, css_class
from noordstats.report import wording
from noordstats.report.page.blocks import verdict_name


def _e(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return html.escape(str(value))


def _show(markup: str) -> None:
    # deferred: IPython is needed only inside a kernel, not by the suite that imports this module
    from IPython.display import display

    display({"text/html": markup}, raw=True)


def _t(key: str, lang: str, **params: object) -> str:
    return i18n.t(f"matrix.{key}", lang, **params)


def _validity(value: object, lang: str) -> str:
    key = f"validity.{value}"
    return i18n.t(key, lang) if i18n.has(key) else str(value)


def _robustness(value: str, lang: str) -> str:
    key = f"robustness.{value}"
    return i18n.t(key, lang) if i18n.has(key) else str(value)


def regions_for(region: str) -> list[str]:
    """Every landsdeel and province, and ``region`` if it is neither (a COROP area)."""
    return list(dict.fromkeys([*all_regions(), region]))


def readings_html(scorecard: pd.DataFrame, lang: str | None = None) -> str:
    """One block of rows per testable claim: each reading's figure, period, source, comparison
    and verdict, the primary first, and whether the verdict holds across them. ``scorecard``:
    ``claims.evaluate_claims`` as ``wording.claim_texts`` words it."""
    lang = i18n.resolve(lang)
    testable = scorecard[scorecard.readings.map(lambda r: isinstance(r, list) and len(r) > 0)]
    if testable.empty:
        return f'<p class="noordstats-note">{_e(_t("none", lang))}</p>'
    body = []
    for row in testable.itertuples():
        readings = row.readings
        robust = _robustness(row.robustness, lang)
        for i, reading in enumerate(readings):
            css = css_class(reading["verdict"])
            verdict = verdict_name(reading["verdict"], lang)
            claim = (
                f'<td rowspan="{len(readings)}">{_e(row.claim_id)}<br>'
                f'<span class="noordstats-robust">{_e(robust)}</span></td>'
                if i == 0
                else ""
            )
            kind = _t("primary", lang) if reading["primary"] else _t("check", lang)
            body.append(
                f"<tr>{claim}"
                f'<td class="{"primary" if reading["primary"] else ""}">{_e(kind)}: '
                f"{_e(reading['title'])}</td><td>{_e(reading['figure_text'])}</td>"
                f"<td>{_e(reading['period'])}</td><td>{_e(reading['source'])}</td>"
                f"<td><small>{_e(reading['comparison'])}</small></td>"
                f'<td class="validity" data-validity="{_e(reading.get("validity"))}">'
                f"{_e(_validity(reading.get('validity'), lang))}<br>"
                f"<small>{_e(reading.get('validity_reason'))}</small></td>"
                f'<td><span class="noordstats-verdict {css}">{_e(verdict)}</span>'
                "</td></tr>"
            )
    head = "".join(
        f"<th>{_e(_t(k, lang))}</th>"
        for k in (
            "col_claim",
            "col_reading",
            "col_figure",
            "col_period",
            "col_source",
            "col_compared",
            "col_validity",
            "col_verdict",
        )  # fmt: skip
    )
    return (
        f"<p>{_e(_t('readings_intro', lang))}</p>"
        '<div class="noordstats-table noordstats-readings"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def matrix_html(
    everywhere: pd.DataFrame, comparison: pd.DataFrame, region: str, lang: str | None = None
) -> str:
    """Claims (rows, testable only) x regions (columns): cell colour = verdict, text = the
    primary figure; the last column is the comparison sentence for ``region``. ``data-verdict``
    holds the verdict's code with hyphens (``partly-supported``), the same in both languages."""
    lang = i18n.resolve(lang)
    testable = everywhere[everywhere.verdict != "not testable"]
    if testable.empty:
        return f'<p class="noordstats-note">{_e(_t("none", lang))}</p>'
    columns = list(dict.fromkeys(testable.region_code))
    claim_ids = list(dict.fromkeys(testable.claim_id))
    cells = testable.set_index(["claim_id", "region_code"])
    sentences = wording.comparison_sentences(comparison, lang)
    name = reg.region_name(region)
    head = f'<th class="claim">{_e(_t("col_claim", lang))}</th>' + "".join(
        f'<th class="{"own" if code == region else ""}" title="{_e(reg.region_name(code))}">'
        f"{_e(code)}</th>"
        for code in columns
    )
    head += f'<th class="claim">{_e(_t("col_sentence", lang, name=name))}</th>'
    rows = []
    for claim_id in claim_ids:
        tds = [f'<td class="claim">{_e(claim_id)}</td>']
        for code in columns:
            if (claim_id, code) not in cells.index:
                tds.append('<td class="nodata">–</td>')
                continue
            cell = cells.loc[(claim_id, code)]
            css = css_class(cell.verdict)
            own = " own" if code == region else ""
            figure = _short(cell, lang)
            tds.append(
                f'<td class="{css}{own}" data-verdict="{_e(str(cell.verdict).replace(" ", "-"))}" '
                f'title="{_e(reg.region_name(code))}: {_e(verdict_name(cell.verdict, lang))}">'
                f"{_e(figure)}</td>"
            )
        sentence = sentences.get(claim_id, "")
        tds.append(f'<td class="sentence">{_e(sentence)}</td>')
        rows.append(f"<tr>{''.join(tds)}</tr>")
    legend = " ".join(
        f'<span class="noordstats-verdict {v.css_class}">{_e(verdict_name(v, lang))}</span>'
        for v in Verdict
        if v != Verdict.NOT_TESTABLE
    )
    return (
        f"<p>{_e(_t('matrix_caption', lang))}</p>"
        f"<p>{_e(_t('legend', lang))} {legend}</p>"
        '<div class="noordstats-matrix" id="noordstats-claims-matrix"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


#: units this short are shown beside the figure in a matrix cell ('%', 'LQ'); longer ones not
SHORT_UNIT_CHARS = 4


def _short(cell: Any, lang: str) -> str:
    """A matrix cell's figure from its value and indicator: the number, with its unit when the
    unit is short ('LQ', '%')."""
    value, indicator_id = getattr(cell, "figure", None), getattr(cell, "indicator_id", None)
    if i18n.is_missing(value) or not isinstance(value, int | float) or not indicator_id:
        return _t("no_figure", lang)
    ind = load_indicators()[indicator_id]
    unit = i18n.declared(ind, "unit", lang)
    number = i18n.number(value, lang, ind.decimals)
    if unit == "%":
        return f"{number}%"
    return f"{number} {unit}" if len(unit) <= SHORT_UNIT_CHARS else number


def summary_html(counts: dict[str, int], region: str, lang: str | None = None) -> str:
    lang = i18n.resolve(lang)
    text = _t(
        "summary_groups", lang, name=reg.region_name(region), supported=counts["supported"],
        groups=counts["supported_groups"], distinctive=counts["distinctive"],
        distinctive_groups=counts["distinctive_groups"],
    )  # fmt: skip
    if counts.get("fragile"):
        text += i18n.t("index.fragile", lang, n=counts["fragile"])
    return f"<p><b>{_e(text)}</b></p>"


def show_readings(scorecard: pd.DataFrame, lang: str | None = None) -> None:
    """:func:`readings_html`, displayed."""
    lang = i18n.resolve(lang)
    _show(readings_html(scorecard, lang))


def show_claims_matrix(
    everywhere: pd.DataFrame, comparison: pd.DataFrame, region: str, lang: str | None = None
) -> None:
    """:func:`matrix_html`, displayed."""
    lang = i18n.resolve(lang)
    _show(matrix_html(everywhere, comparison, region, lang))


def show_distinctive(counts: dict[str, int], region: str, lang: str | None = None) -> None:
    """One line: how many of the region's claims meet their rule and how many are distinctive."""
    lang = i18n.resolve(lang)
    _show(summary_html(counts, region, lang))
