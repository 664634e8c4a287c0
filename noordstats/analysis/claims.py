"""The paper's claims against the data: one verdict per claim, by the rule written in
``data/claims.yaml`` before the figures were looked at.

For a region other than the North the claims read as "does this region show the same?": the
rules are applied to that region's figures.
"""

from __future__ import annotations

import math

import pandas as pd

from noordstats import i18n
from noordstats import regions as reg
from noordstats.analysis.indicators import IndicatorResult, compute_indicator
from noordstats.declarations.claims import VERDICTS, Claim, Condition, Rule, load_claims
from noordstats.declarations.themes import check_theme

CLAIM_COLUMNS = [
    "claim_id", "section", "theme", "quote_nl", "claim_en", "claim", "region_code", "region_name",
    "indicator_id", "figure", "figure_text", "period", "definition", "comparison",
    "context_figures", "verdict", "rule", "rationale", "sources", "caveats",
]  # fmt: skip


def evaluate_claims(
    region: str = reg.NORTH, theme: str | None = None, source: str = "snapshot", lang: str = "en"
) -> pd.DataFrame:
    """Every claim (or a theme's claims) with its figure, comparison and verdict for ``region``.
    ``verdict`` is one of :data:`VERDICTS` whatever the language; the texts (``claim``, figure,
    comparison, rule, definition, caveats) are in ``lang``. ``quote_nl`` is the paper's words."""
    reg.check_region(region, ("NL", "LD", "PV", "CR"))
    i18n.check_lang(lang)
    claims = load_claims()
    if theme is not None:
        check_theme(theme)
        claims = [c for c in claims if c.theme == theme]
    rows = [evaluate_claim(claim, region, source, lang) for claim in claims]
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


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
        }
    results = {i: compute_indicator(i, region, source=source, lang=lang) for i in claim.indicators}
    main = results[claim.rule.indicator]
    verdict, extra = judge(claim.rule, main)
    context = [
        f"{i18n.declared(r.indicator, 'title', lang)}: {r.value_text} ({r.period_text}; "
        f"{r.comparison_text})"
        for i, r in results.items()
        if i != claim.rule.indicator
    ]
    caveats = [c for r in results.values() for c in r.caveats] + extra
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
    metrics = {
        "value": result.value,
        "minus_nl": result.value - result.nl_value,
        "ratio_to_nl": result.value / result.nl_value if result.nl_value else math.nan,
        "rank": result.rank,
    }
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
