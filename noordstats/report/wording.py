"""The words of the analysis' values, in a language: the one place that turns figures, periods,
comparisons, caveats, claims and verdict caveats into text for a reader.

The analysis stage (:mod:`noordstats.analysis`) returns values only: numbers (the indicator
carries their unit and decimals), period codes and years, ranks, typed caveats
(:class:`~noordstats.analysis.indicators.Caveat`), verdicts and ids. The page blocks, the index,
``docs/claims.md`` and the command line get their words here. Every function takes ``lang``;
left out, it is the notebook's or run's language (:func:`noordstats.i18n.resolve`).

A "result or row" is an :class:`~noordstats.analysis.indicators.IndicatorResult` or one row of
a frame of :mod:`noordstats.analysis.indicators` (a dict, or a pandas row): the fields are read
by name either way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from noordstats import i18n
from noordstats import regions as reg
from noordstats.analysis import frames
from noordstats.analysis.indicators import Caveat, IndicatorResult
from noordstats.cbs_codes import describe_period
from noordstats.declarations.claims import Claim, load_claims
from noordstats.declarations.indicators import Indicator, load_indicators
from noordstats.declarations.verdict_history import first_registered_rule

#: the figures frame as the page, the summary and ``noordstats indicators`` show it
HEADLINE_COLUMNS = [
    "indicator_id", "title", "title_nl", "value", "value_text", "nl_value", "nl_value_text",
    "comparison_text", "rank", "n_peers", "period", "year", "unit", "status", "table_id", "caveat",
    "is_fallback", "fallback_region_code", "fallback_region_name", "province_code",
    "province_value", "landsdeel_code", "landsdeel_value", "break_years", "outlier_years",
    "confirmed_break_years", "left_out_years",
    "dated",
]  # fmt: skip
#: the claims frame as the page, ``docs/claims.md`` and ``noordstats claims`` show it
CLAIM_COLUMNS = [
    "claim_id", "section", "theme", "quote_nl", "claim_en", "claim", "region_code", "region_name",
    "indicator_id", "figure", "figure_text", "period", "definition", "comparison",
    "context_figures", "verdict", "rule", "rationale", "sources", "caveats",
    "robustness", "meets_rule", "readings", "first_rule_verdict", "first_rule", "evidence_group",
]  # fmt: skip


def _field(item: Any, name: str, default: Any = None) -> Any:
    """Field ``name`` of a result, a dict or a pandas row."""
    if isinstance(item, Mapping | pd.Series):
        return item.get(name, default)
    return getattr(item, name, default)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str | None:
    """A code field (a region code) as a string, None where there is none."""
    return value if isinstance(value, str) and value else None


def indicator_of(item: Any) -> Indicator:
    """The indicator of a result (its ``indicator``) or of a row (its ``indicator_id``)."""
    found = _field(item, "indicator")
    if isinstance(found, Indicator):
        return found
    return load_indicators()[str(_field(item, "indicator_id"))]


def _year(item: Any) -> int | None:
    year = _field(item, "year")
    return None if _missing(year) else int(year)


# --------------------------------------------------------------------------- figures


def format_value(value: float, ind: Indicator, lang: str | None = None) -> str:
    """A figure with its unit: ``14.3%``, ``1.21 LQ``, ``84,799 mln euro`` (``14,3%``,
    ``84.799 mln euro`` in Dutch)."""
    lang = i18n.resolve(lang)
    if i18n.is_missing(value):
        return i18n.t("number.missing", lang)
    number = i18n.number(value, lang, ind.decimals)
    if ind.unit == "%":
        return f"{number}%"
    return f"{number} {i18n.declared(ind, 'unit', lang)}"


def unit_text(ind: Indicator, lang: str | None = None) -> str:
    """The indicator's unit in ``lang``."""
    return i18n.declared(ind, "unit", i18n.resolve(lang))


def with_unit(
    frame: pd.DataFrame, ind: Indicator, after: str, lang: str | None = None
) -> pd.DataFrame:
    """``frame`` (rows of ``ind``: ``indicator_series``, ``map_values``) with a ``unit`` column
    in ``lang`` after column ``after``."""
    shown = frame.copy()
    shown.insert(shown.columns.get_loc(after) + 1, "unit", unit_text(ind, lang))
    return shown


def value_text(item: Any, lang: str | None = None) -> str:
    """The figure of a result or row, with its unit."""
    return format_value(_field(item, "value"), indicator_of(item), lang)


def period_label(
    period_code: str | None, year: int, frequency: str, lang: str | None = None
) -> str:
    """The period a figure is for, in words (a quarter's code ``2024KW04`` as ``4e kwartaal
    2024``)."""
    lang = i18n.resolve(lang)
    if frequency == "school-year":
        return f"{year}/'{(year + 1) % 100:02d}"
    if frequency == "year" or not period_code:
        return str(year)
    return describe_period(period_code, lang)


def period_text(item: Any, lang: str | None = None) -> str:
    """The period of a result or row: ``2023``, ``2013-2023`` for a growth figure, ``-`` when
    it has none."""
    year = _year(item)
    if year is None:
        return "-"
    ind = indicator_of(item)
    code = _field(item, "period_code")
    code = None if _missing(code) else str(code)
    start = frames.span_start_period(ind, year)
    label = period_label(code, year, ind.frequency, lang)
    return f"{start}-{label}" if start is not None else label


def comparison_text(item: Any, lang: str | None = None) -> str:
    """How a result or row compares: the containing region whose figure is shown, the
    Netherlands' figure, series breaks and outliers, the rank among its peers; ``-`` when
    none of these."""
    lang = i18n.resolve(lang)
    ind = indicator_of(item)
    region = str(_field(item, "region_code"))
    parts = []
    fallback = _text(_field(item, "fallback_region_code"))
    if fallback is not None:
        parts.append(
            i18n.t("comparison.fallback", lang, region=reg.region_name(fallback), code=fallback)
        )
    if region != reg.NETHERLANDS and ind.transform != "share_of_nl":
        nl_text = format_value(_field(item, "nl_value"), ind, lang)
        parts.append(i18n.t("comparison.nl", lang, value=nl_text))
    for field, key in (
        ("left_out_years", "comparison.break_left_out"),
        ("confirmed_break_years", "comparison.break_unranked"),
        ("break_years", "comparison.break"),
    ):
        years = _field(item, field) or ()
        if years:
            parts.append(i18n.t(key, lang, years=", ".join(map(str, years))))
            break
    outliers = _field(item, "outlier_years") or ()
    if outliers:
        parts.append(i18n.t("comparison.outlier", lang, years=", ".join(map(str, outliers))))
    rank, n_peers = _field(item, "rank"), _field(item, "n_peers")
    if n_peers and not _missing(rank):
        level = region[:2] if region[:2] in reg.SUBNATIONAL_LEVELS else ""
        order = "lowest" if ind.better == "lower" else "highest"
        parts.append(
            i18n.t(
                f"comparison.rank_{order}",
                lang,
                rank=int(rank),
                n=int(n_peers),
                level=i18n.t(f"level.plural.{level or 'other'}", lang),
            )
        )
    return "; ".join(parts) or "-"


# --------------------------------------------------------------------------- caveats


def caveat_text(caveat: Caveat, ind: Indicator | None, lang: str | None = None) -> str:
    """The words of ``caveat`` (about a figure of ``ind``; None for a verdict's caveat) in
    ``lang``."""
    lang = i18n.resolve(lang)
    params = dict(caveat.params)
    if caveat.kind == "comparability":
        return i18n.declared(ind, "comparability", lang)
    if caveat.kind == "dated":
        why = i18n.declared(ind, "dated_reason", lang) or i18n.t("caveat.dated_no_reason", lang)
        return i18n.t("caveat.dated", lang, year=params["year"], why=why)
    if caveat.kind == "provisional":
        status = i18n.t(f"status.{params['status']}", lang)
        return i18n.t("caveat.provisional", lang, status=status)
    if caveat.kind == "metric_missing":
        names = ", ".join(i18n.t(f"metric.{m}", lang) for m in params["metrics"])
        return i18n.t("caveat.metric_missing", lang, metrics=names)
    if caveat.kind == "proxy":
        verdict = i18n.t(f"verdict.{params['verdict']}", lang)
        return i18n.t("caveat.proxy", lang, verdict=verdict)
    return i18n.t(f"caveat.{caveat.kind}", lang, **params)


def caveat_texts(item: Any, lang: str | None = None) -> list[str]:
    """The words of the caveats of a result or row (its ``caveats``), in order."""
    ind = indicator_of(item)
    return [caveat_text(c, ind, lang) for c in _field(item, "caveats") or ()]


def dated_text(item: Any, lang: str | None = None) -> str:
    """The words of the 'dated' caveat of a result or row (a figure older than 2015), or ""."""
    dated = [c for c in _field(item, "caveats") or () if c.kind == "dated"]
    return caveat_text(dated[0], indicator_of(item), lang) if dated else ""


# --------------------------------------------------------------------------- frames


def headline_texts(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A frame of :func:`~noordstats.analysis.indicators.headline_figures` (or
    ``region_profile``) with the words the page, the summary and the command line show:
    :data:`HEADLINE_COLUMNS`, texts in ``lang``."""
    lang = i18n.resolve(lang)
    rows = []
    for item in frame.to_dict("records"):
        ind = indicator_of(item)
        rows.append(
            {
                "indicator_id": ind.id,
                "title": i18n.declared(ind, "title", lang),
                "title_nl": ind.title.get("nl"),
                "value": item["value"],
                "value_text": value_text(item, lang),
                "nl_value": item["nl_value"],
                "nl_value_text": format_value(item["nl_value"], ind, lang),
                "comparison_text": comparison_text(item, lang),
                "rank": item["rank"],
                "n_peers": item["n_peers"],
                "period": period_text(item, lang),
                "year": item["year"],
                "unit": unit_text(ind, lang),
                "status": item["status"],
                "table_id": item["table_id"],
                "caveat": " | ".join(dict.fromkeys(caveat_texts(item, lang))),
                "dated": dated_text(item, lang),
                **{c: item[c] for c in _HEADLINE_VALUES},
            }
        )
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


#: the columns of the headline frame that the analysis' frame carries as they are
_HEADLINE_VALUES = (
    "is_fallback", "fallback_region_code", "fallback_region_name", "province_code",
    "province_value", "landsdeel_code", "landsdeel_value", "break_years", "outlier_years",
    "confirmed_break_years", "left_out_years",
)  # fmt: skip


def _claims_by_id() -> dict[str, Claim]:
    return {c.id: c for c in load_claims()}


def reading_texts(reading: Mapping[str, Any], rule: Any, lang: str | None = None) -> dict:
    """One reading of a claim (a record of
    :func:`~noordstats.analysis.claims.reading_record`) with its words: title, reason, figure,
    period, comparison and rule in ``lang``."""
    lang = i18n.resolve(lang)
    result: IndicatorResult = reading["result"]
    return {
        "indicator_id": reading["indicator_id"],
        "title": i18n.declared(result.indicator, "title", lang),
        "primary": reading["primary"],
        "validity": reading["validity"],
        "validity_reason": i18n.declared(rule, "validity_reason", lang),
        "figure": reading["figure"],
        "figure_text": value_text(result, lang),
        "period": period_text(result, lang),
        "year": reading["year"],
        "source": ", ".join(reading["source"]),
        "comparison": comparison_text(result, lang),
        "metric": reading["metric"],
        "verdict": reading["verdict"],
        "uncapped_verdict": reading["uncapped_verdict"],
        "fragile": reading["fragile"],
        "rule": i18n.declared(rule, "text", lang),
    }


def claim_row_texts(
    item: Mapping[str, Any], lang: str | None = None, claims: Mapping[str, Claim] | None = None
) -> dict:
    """One row of :func:`~noordstats.analysis.claims.evaluate_claims` as the page shows it
    (:data:`CLAIM_COLUMNS`). ``claims``: {id: claim} of the registry, when the caller has it."""
    lang = i18n.resolve(lang)
    claim = (claims or _claims_by_id())[item["claim_id"]]
    row = {
        "claim_id": claim.id,
        "section": item["section"],
        "theme": item["theme"],
        "quote_nl": claim.quote_nl,
        "claim_en": claim.claim_en,
        "claim": i18n.declared(claim, "claim", lang),
        "region_code": item["region_code"],
        "region_name": item["region_name"],
        "rationale": claim.rationale,
        "evidence_group": item["evidence_group"],
    }
    if not claim.readings:
        return row | {
            "indicator_id": None,
            "figure": math.nan,
            "figure_text": "-",
            "period": "-",
            "definition": "-",
            "comparison": "-",
            "context_figures": "",
            "verdict": item["verdict"],
            "rule": i18n.declared(claim, "reason_not_testable", lang),
            "sources": "",
            "caveats": "",
            "robustness": item["robustness"],
            "meets_rule": None,
            "readings": [],
            "first_rule_verdict": None,
            "first_rule": None,
        }
    results: dict[str, IndicatorResult] = item["results"]
    main = results[item["indicator_id"]]
    if len(item["readings"]) != len(claim.readings):
        raise ValueError(f"claim {claim.id}: the readings do not match the registry's")
    readings = [
        reading_texts(reading, rule, lang)
        for reading, rule in zip(item["readings"], claim.readings, strict=True)
    ]
    if claim.rule is None:
        rule_text = i18n.declared(claim, "direct_measure", lang)
    else:
        rule_text = i18n.declared(claim.rule, "text", lang)
    checked = {r.indicator for r in claim.readings}
    context = [
        f"{i18n.declared(r.indicator, 'title', lang)}: {value_text(r, lang)} "
        f"({period_text(r, lang)}; {comparison_text(r, lang)})"
        for i, r in results.items()
        if i not in checked
    ]
    caveats = [t for r in results.values() for t in caveat_texts(r, lang)]
    caveats += [caveat_text(c, None, lang) for c in item["verdict_caveats"]]
    first = first_registered_rule(claim.id) if item["first_rule_verdict"] is not None else None
    return row | {
        "indicator_id": item["indicator_id"],
        "figure": item["figure"],
        "figure_text": value_text(main, lang),
        "period": period_text(main, lang),
        "definition": i18n.declared(main.indicator, "definition", lang),
        "comparison": comparison_text(main, lang),
        "context_figures": " | ".join(context),
        "verdict": item["verdict"],
        "rule": rule_text,
        "sources": ", ".join(item["sources"]),
        "caveats": " | ".join(dict.fromkeys(caveats)),
        "robustness": item["robustness"],
        "meets_rule": item["meets_rule"],
        "readings": readings,
        "first_rule_verdict": item["first_rule_verdict"],
        "first_rule": i18n.declared(first, "text", lang) if first is not None else None,
    }


def claim_texts(frame: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """A frame of :func:`~noordstats.analysis.claims.evaluate_claims` (or
    ``evaluate_claims_regions``) with the words the page, ``docs/claims.md`` and ``noordstats
    claims`` show (:data:`CLAIM_COLUMNS`): the claim, figure, period, definition, comparison,
    context figures, rule, caveats and each reading's texts in ``lang``; ``verdict`` keeps its
    code."""
    lang = i18n.resolve(lang)
    claims = _claims_by_id()
    rows = [claim_row_texts(item, lang, claims) for item in frame.to_dict("records")]
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def _ordinal(n: int, lang: str) -> str:
    """``2nd`` / ``2e``: the catalogue's ``ordinal.<category>`` in ``lang``."""
    category = "other" if 10 <= n % 100 <= 20 else {1: "one", 2: "two", 3: "few"}.get(n % 10)
    return i18n.t(f"ordinal.{category or 'other'}", lang, n=n)


def comparison_sentence(row: Mapping[str, Any], lang: str | None = None) -> str:
    """E.g. 'Noord-Nederland ranks 2nd of 4 landsdelen; 1 of 4 landsdelen and 3 of 12 provinces
    meet the rule for 'supported'.' for a row of
    :func:`~noordstats.analysis.claims_compare.compare_regions` (``row['level']`` is a level
    code: LD, PV, ...)."""
    lang = i18n.resolve(lang)
    name = reg.region_name(row["region_code"])
    key = f"level.plural.{row['level']}"
    level = i18n.t(key if i18n.has(key) else "level.plural.other", lang)
    if math.isnan(row["rank"]):
        if row["n_ranked"] and row["verdict"] not in ("insufficient data", "not testable"):
            first = i18n.t("compare.no_ranking", lang, name=name)
        else:
            first = i18n.t("compare.no_figure", lang, name=name)
    else:
        rank = _ordinal(int(row["rank"]), lang)
        first = i18n.t("compare.rank", lang, name=name, rank=rank, n=row["n_ranked"], level=level)
    if row["n_provinces"] and row["level"] != "PV":
        second = i18n.t(
            "compare.meeting_and_provinces", lang, m=row["peers_meeting"], n=row["n_peers"],
            level=level, m_pv=row["provinces_meeting"], n_pv=row["n_provinces"],
        )  # fmt: skip
    else:
        second = i18n.t("compare.meeting", lang, m=row["peers_meeting"], n=row["n_peers"],
                        level=level)  # fmt: skip
    tail = i18n.t("compare.distinctive", lang) if row["distinctive"] else ""
    if row.get("fragile"):
        tail += i18n.t("matrix.fragile", lang)
    return f"{first}; {second}{tail}."


def comparison_sentences(comparison: pd.DataFrame, lang: str | None = None) -> dict[str, str]:
    """{claim_id: :func:`comparison_sentence`} for a frame of ``compare_regions``."""
    lang = i18n.resolve(lang)
    rows = comparison.to_dict("records")
    return {row["claim_id"]: comparison_sentence(row, lang) for row in rows}
