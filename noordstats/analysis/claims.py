"""The paper's claims against the data: one verdict per claim, by the rules written in
``data/claims.yaml`` before the figures were looked at.

A claim has one or more readings (an indicator and its rule each). The first, the primary
reading, gives the verdict; the others are checks. The verdict is *robust* when every reading
with a figure gives the same verdict before any proxy cap, *sensitive* when they disagree, and
*single reading* when only one reading has a figure.

For a region other than the North the claims read as "does this region show the same?": the
rules are applied to that region's figures (:func:`evaluate_claims_regions` for many regions).
"""

from __future__ import annotations

import math

import pandas as pd

from noordstats import i18n
from noordstats import regions as reg
from noordstats.analysis.indicators import IndicatorResult, compute_indicator
from noordstats.declarations.claims import Claim, Condition, Rule, load_claims
from noordstats.declarations.themes import check_theme
from noordstats.declarations.verdicts import VERDICTS, Verdict

CLAIM_COLUMNS = [
    "claim_id", "section", "theme", "quote_nl", "claim_en", "claim", "region_code", "region_name",
    "indicator_id", "figure", "figure_text", "period", "definition", "comparison",
    "context_figures", "verdict", "rule", "rationale", "sources", "caveats",
    "robustness", "meets_rule", "readings",
]  # fmt: skip
#: the verdicts a figure can give (the others say there is none)
JUDGED = tuple(v.value for v in Verdict if v.is_judged)
ROBUSTNESS = ("robust", "sensitive", "single reading", "-")


def evaluate_claims(
    region: str = reg.NORTH, theme: str | None = None, source: str = "snapshot", lang: str = "en"
) -> pd.DataFrame:
    """Every claim (or a theme's claims) with its figure, comparison and verdict for ``region``.
    ``verdict`` is one of :data:`VERDICTS` whatever the language; the texts (``claim``, figure,
    comparison, rule, definition, caveats) are in ``lang``. ``quote_nl`` is the paper's words."""
    reg.check_region(region, reg.SNAPSHOT_LEVELS)
    i18n.check_lang(lang)
    claims = load_claims()
    if theme is not None:
        check_theme(theme)
        claims = [c for c in claims if c.theme == theme]
    rows = [evaluate_claim(claim, region, source, lang) for claim in claims]
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def all_regions() -> list[str]:
    """Every landsdeel and province (16 regions), the North first."""
    codes = reg.list_regions(reg.PEER_LEVELS).region_code.tolist()
    return [reg.NORTH, *(c for c in codes if c != reg.NORTH)]


def evaluate_claims_regions(
    regions: list[str], theme: str | None = None, source: str = "snapshot", lang: str = "en"
) -> pd.DataFrame:
    """:func:`evaluate_claims` for each region in ``regions``, one frame (claims x regions, the
    claims in the paper's order within each region). Every region is checked before any is
    evaluated; the indicator frames are computed once for all of them."""
    wanted = list(dict.fromkeys(regions))
    for code in wanted:
        reg.check_region(code, reg.SNAPSHOT_LEVELS)
    if theme is not None:
        check_theme(theme)
    i18n.check_lang(lang)
    parts = [evaluate_claims(code, theme, source, lang) for code in wanted]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CLAIM_COLUMNS)


def evaluate_claim(claim: Claim, region: str, source: str = "snapshot", lang: str = "en") -> dict:
    """One claim as a row of :func:`evaluate_claims`."""
    row = {
        "claim_id": claim.id,
        "section": claim.section,
        "theme": claim.theme,
        "quote_nl": claim.quote_nl,
        "claim_en": claim.claim_en,
        "claim": i18n.declared(claim, "claim", lang),
        "region_code": region,
        "region_name": reg.region_name(region),
        "rationale": claim.rationale,
    }
    if claim.rule is None:
        return row | {
            "indicator_id": None,
            "figure": math.nan,
            "figure_text": "-",
            "period": "-",
            "definition": "-",
            "comparison": "-",
            "context_figures": "",
            "verdict": "not testable",
            "rule": i18n.declared(claim, "reason_not_testable", lang),
            "sources": "",
            "caveats": "",
            "robustness": "-",
            "meets_rule": None,
            "readings": [],
        }
    results = {i: compute_indicator(i, region, source=source, lang=lang) for i in claim.indicators}
    main = results[claim.rule.indicator]
    verdict, extra = judge(claim.rule, main)
    readings = [
        reading_record(rule, results[rule.indicator], primary=i == 0, lang=lang)
        for i, rule in enumerate(claim.readings)
    ]
    checked = {r.indicator for r in claim.readings}
    context = [
        f"{i18n.declared(r.indicator, 'title', lang)}: {r.value_text} ({r.period_text}; "
        f"{r.comparison_text})"
        for i, r in results.items()
        if i not in checked
    ]
    caveats = [c for r in results.values() for c in r.caveat_texts()] + extra
    sources = [t for r in results.values() for t in r.indicator.tables]
    return row | {
        "indicator_id": main.indicator.id,
        "figure": main.value,
        "figure_text": main.value_text,
        "period": main.period_text,
        "definition": i18n.declared(main.indicator, "definition", lang),
        "comparison": main.comparison_text,
        "context_figures": " | ".join(context),
        "verdict": verdict,
        "rule": i18n.declared(claim.rule, "text", lang),
        "sources": ", ".join(dict.fromkeys(sources)),
        "caveats": " | ".join(dict.fromkeys(caveats)),
        "robustness": robustness(readings),
        "meets_rule": readings[0]["uncapped_verdict"] == "supported",
        "readings": readings,
    }


def reading_record(rule: Rule, result: IndicatorResult, primary: bool, lang: str = "en") -> dict:
    """One reading of a claim for one region: figure, period, source, comparison, verdict (with
    and without the proxy cap) and the rule's metric (what the rule compares); title and rule in
    ``lang``."""
    verdict, _ = judge(rule, result)
    uncapped, _ = judge(rule.model_copy(update={"max_verdict": "supported"}), result)
    return {
        "indicator_id": result.indicator.id,
        "title": i18n.declared(result.indicator, "title", lang),
        "primary": primary,
        "figure": None if math.isnan(result.value) else result.value,
        "figure_text": result.value_text,
        "period": result.period_text,
        "year": result.year,
        "source": ", ".join(result.indicator.tables),
        "comparison": result.comparison_text,
        "metric": rule_metric(rule, result) if uncapped in JUDGED else None,
        "verdict": verdict,
        "uncapped_verdict": uncapped,
        "rule": i18n.declared(rule, "text", lang),
    }


def robustness(readings: list[dict]) -> str:
    """'robust' when every reading with a figure gives the same verdict (before a proxy cap),
    'sensitive' when they disagree, 'single reading' when only one has a figure."""
    judged = {r["uncapped_verdict"] for r in readings if r["uncapped_verdict"] in JUDGED}
    with_data = [r for r in readings if r["uncapped_verdict"] in JUDGED]
    if not with_data:
        return "-"
    if len(with_data) == 1:
        return "single reading"
    return "robust" if len(judged) == 1 else "sensitive"


def rule_metric(rule: Rule, result: IndicatorResult) -> float | None:
    """The value the rule's first 'supported' condition compares (for ranking regions)."""
    value = _metrics(result)[rule.supported[0].metric]
    return None if value is None or math.isnan(value) else float(value)


def _metrics(result: IndicatorResult) -> dict[str, float]:
    return {
        "value": result.value,
        "minus_nl": result.value - result.nl_value,
        "ratio_to_nl": result.value / result.nl_value if result.nl_value else math.nan,
        "rank": result.rank,
    }


def judge(rule: Rule, result: IndicatorResult) -> tuple[str, list[str]]:
    """Apply a claim's rule to its figure: (verdict, extra caveats in the result's language)."""
    lang = result.lang
    if result.year is None or math.isnan(result.value):
        return "insufficient data", [i18n.t("caveat.verdict_missing", lang)]
    if rule.min_year is not None and result.year < rule.min_year:
        return "insufficient data", [
            i18n.t("caveat.too_old", lang, year=result.year, min_year=rule.min_year)
        ]
    metrics = _metrics(result)
    needed = {c.metric for c in [*rule.supported, *rule.partly]}
    missing = [m for m in sorted(needed) if math.isnan(metrics[m])]
    if missing:
        names = ", ".join(i18n.t(f"metric.{m}", lang) for m in missing)
        return "insufficient data", [i18n.t("caveat.metric_missing", lang, metrics=names)]
    if all(_holds(c, metrics[c.metric]) for c in rule.supported):
        verdict = "supported"
    elif rule.partly and all(_holds(c, metrics[c.metric]) for c in rule.partly):
        verdict = "partly supported"
    else:
        verdict = "not supported"
    if verdict == "supported" and rule.max_verdict == "partly supported":
        capped = i18n.t("verdict.partly supported", lang)
        return "partly supported", [i18n.t("caveat.proxy", lang, verdict=capped)]
    return verdict, []


def _holds(condition: Condition, value: float) -> bool:
    return (
        (condition.at_least is None or value >= condition.at_least)
        and (condition.above is None or value > condition.above)
        and (condition.at_most is None or value <= condition.at_most)
        and (condition.below is None or value < condition.below)
    )


def count_verdicts(claims: pd.DataFrame) -> dict[str, int]:
    """{verdict: number of claims}, every verdict listed (0 where none)."""
    counts = claims.verdict.value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICTS}
