"""The paper's claims against the data: one verdict per claim, by the rules written in
``data/claims.yaml`` before the figures were looked at.

A claim has one or more readings (an indicator and its rule each). The first, the primary
reading, gives the verdict; the others are checks. The verdict is *robust* when every reading
with a figure gives the same verdict before any proxy cap, *sensitive* when they disagree, and
*single reading* when only one reading has a figure.

For a region other than the North the claims read as "does this region show the same?": the
rules are applied to that region's figures (:func:`evaluate_claims_regions` for many regions).

The rows hold values: ids, figures, period codes and years, verdicts (the :class:`Verdict`
vocabulary), typed caveats and the :class:`IndicatorResult` of each reading; their words (the
claim, figure, period, rule, caveats) are :func:`noordstats.report.wording.claim_texts`'.
"""

from __future__ import annotations

import math

import pandas as pd

from noordstats import regions as reg
from noordstats.analysis.evidence import evidence_groups
from noordstats.analysis.indicators import Caveat, IndicatorResult, compute_indicator
from noordstats.declarations.claims import Claim, Condition, Rule, load_claims
from noordstats.declarations.themes import check_theme
from noordstats.declarations.verdict_history import first_registered_rule
from noordstats.declarations.verdicts import VERDICTS, Verdict

#: ``results``: {indicator id: :class:`IndicatorResult`} of every indicator the claim reads;
#: ``verdict_caveats``: the verdict's own caveats (a tuple of :class:`Caveat`); ``sources``: the
#: table ids the figures come from (a tuple)
CLAIM_COLUMNS = [
    "claim_id", "section", "theme", "region_code", "region_name", "indicator_id", "figure",
    "period_code", "year", "verdict", "verdict_caveats", "sources", "robustness", "meets_rule",
    "readings", "first_rule_verdict", "evidence_group", "results",
]  # fmt: skip
#: the verdicts a figure can give (the others say there is none)
JUDGED = tuple(v.value for v in Verdict if v.is_judged)
ROBUSTNESS = ("robust", "sensitive", "single reading", "-")


def evaluate_claims(
    region: str = reg.NORTH, theme: str | None = None, source: str = "snapshot"
) -> pd.DataFrame:
    """Every claim (or a theme's claims) with its figure, comparison and verdict for ``region``
    (:data:`CLAIM_COLUMNS`). ``verdict`` is one of :data:`VERDICTS`."""
    reg.check_region(region, reg.ALL_LEVELS)
    claims = load_claims()
    if theme is not None:
        check_theme(theme)
        claims = [c for c in claims if c.theme == theme]
    rows = [evaluate_claim(claim, region, source) for claim in claims]
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def all_regions() -> list[str]:
    """Every landsdeel and province (16 regions), the North first."""
    codes = reg.list_regions(reg.PEER_LEVELS).region_code.tolist()
    return [reg.NORTH, *(c for c in codes if c != reg.NORTH)]


def evaluate_claims_regions(
    regions: list[str], theme: str | None = None, source: str = "snapshot"
) -> pd.DataFrame:
    """:func:`evaluate_claims` for each region in ``regions``, one frame (claims x regions, the
    claims in the paper's order within each region). Every region is checked before any is
    evaluated; the indicator frames are computed once for all of them."""
    wanted = list(dict.fromkeys(regions))
    for code in wanted:
        reg.check_region(code, reg.ALL_LEVELS)
    if theme is not None:
        check_theme(theme)
    parts = [evaluate_claims(code, theme, source) for code in wanted]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CLAIM_COLUMNS)


def evaluate_claim(claim: Claim, region: str, source: str = "snapshot") -> dict:
    """One claim as a row of :func:`evaluate_claims`."""
    row = {
        "claim_id": claim.id,
        "section": claim.section,
        "theme": claim.theme,
        "region_code": region,
        "region_name": reg.region_name(region),
        "evidence_group": evidence_groups()[claim.id],
    }
    if not claim.readings:
        return row | {
            "indicator_id": None,
            "figure": math.nan,
            "period_code": None,
            "year": None,
            "verdict": "not testable",
            "verdict_caveats": (),
            "sources": (),
            "robustness": "-",
            "meets_rule": None,
            "readings": [],
            "first_rule_verdict": None,
            "results": {},
        }
    results = {i: compute_indicator(i, region, source=source) for i in claim.indicators}
    primary = claim.rule or claim.readings[0]
    main = results[primary.indicator]
    readings = [
        reading_record(rule, results[rule.indicator], primary=rule is claim.rule)
        for rule in claim.readings
    ]
    if claim.rule is None:  # every reading is context: no verdict
        verdict, extra = "insufficient data", [Caveat.of("context_only")]
    else:
        verdict, extra = judge(claim.rule, main)
    sources = [t for r in results.values() for t in r.indicator.tables]
    return row | {
        "indicator_id": main.indicator.id,
        "figure": main.value,
        "period_code": main.period_code,
        "year": main.year,
        "verdict": verdict,
        "verdict_caveats": tuple(extra),
        "sources": tuple(dict.fromkeys(sources)),
        "robustness": robustness(readings),
        "meets_rule": claim.rule is not None
        and readings_primary(readings)["uncapped_verdict"] == "supported",
        "readings": readings,
        "first_rule_verdict": first_rule_verdict(claim, region, source),
        "results": results,
    }


def first_rule_verdict(claim: Claim, region: str, source: str) -> str | None:
    """The verdict under the claim's first registered rule, where a later rule change was made
    with the figure known (:func:`first_registered_rule`); else None."""
    first = first_registered_rule(claim.id)
    if first is None:
        return None
    verdict, _ = judge(first, compute_indicator(first.indicator, region, source=source))
    return verdict


def readings_primary(readings: list[dict]) -> dict:
    """The primary reading's record (the first when every reading is context)."""
    return next((r for r in readings if r["primary"]), readings[0])


def reading_record(rule: Rule, result: IndicatorResult, primary: bool) -> dict:
    """One reading of a claim for one region: figure, period, source, validity, verdict (with
    and without the validity cap; 'context' for a context reading, which gives none), the rule's
    metric (what the rule compares) and the reading's :class:`IndicatorResult` (``result``).
    ``fragile``: whether the 'supported' conditions would hold on one side and not the other
    when the figure moves by one unit of its last published decimal."""
    if rule.validity == "context":
        verdict = uncapped = "context"
        metric = None
    else:
        verdict, _ = judge(rule, result)
        uncapped, _ = judge(rule, result, cap=False)
        metric = rule_metric(rule, result) if uncapped in JUDGED else None
    return {
        "indicator_id": result.indicator.id,
        "primary": primary,
        "validity": rule.validity,
        "figure": None if math.isnan(result.value) else result.value,
        "period_code": result.period_code,
        "year": result.year,
        "source": tuple(result.indicator.tables),
        "metric": metric,
        "verdict": verdict,
        "uncapped_verdict": uncapped,
        "fragile": metric is not None and is_fragile(rule, result),
        "result": result,
    }


def robustness(readings: list[dict]) -> str:
    """'robust' when every reading with a figure that can give a verdict (not context) gives the
    same verdict (before the validity cap), 'sensitive' when they disagree, 'single reading'
    when only one has a figure."""
    with_data = [r for r in readings if r["uncapped_verdict"] in JUDGED]
    judged = {r["uncapped_verdict"] for r in with_data}
    if not with_data:
        return "-"
    if len(with_data) == 1:
        return "single reading"
    return "robust" if len(judged) == 1 else "sensitive"


def rule_metric(rule: Rule, result: IndicatorResult) -> float | None:
    """The value the rule's first 'supported' condition compares (for ranking regions), at the
    figure's published precision."""
    value = _metrics(result)[rule.supported[0].metric]
    return None if value is None or math.isnan(value) else float(value)


def _metrics(result: IndicatorResult, shift: float = 0.0) -> dict[str, float]:
    """The metrics a rule can compare, computed from the figures as published (rounded to the
    indicator's decimals), so a rule judges what the reader sees: 4.1 - 3.6 is 0.5.
    ``shift`` moves the region's figure by that many units of its last decimal."""
    decimals = result.indicator.decimals
    unit = 10.0**-decimals
    value = round(round(result.value, decimals) + shift * unit, decimals)
    nl_value = round(result.nl_value, decimals)
    return {
        "value": value,
        "minus_nl": round(value - nl_value, decimals),
        "ratio_to_nl": round(value / nl_value, 9) if nl_value else math.nan,
        "rank": result.rank,
    }


def is_fragile(rule: Rule, result: IndicatorResult) -> bool:
    """Whether the rule's 'supported' conditions hold for the figure one published unit higher
    and not for one unit lower (or the other way round): a verdict inside the figure's
    precision."""
    outcomes = set()
    for shift in (-1.0, 1.0):
        metrics = _metrics(result, shift)
        if any(math.isnan(metrics[c.metric]) for c in rule.supported):
            return False
        outcomes.add(all(_holds(c, metrics[c.metric]) for c in rule.supported))
    return len(outcomes) == 2


def judge(rule: Rule, result: IndicatorResult, cap: bool = True) -> tuple[str, list[Caveat]]:
    """Apply a claim's rule to its figure: (verdict, the verdict's own caveats). With ``cap``
    (the default), a proxy reading gives at most 'partly supported'. The figures are compared
    as published (:func:`_metrics`)."""
    if result.year is None or math.isnan(result.value):
        return "insufficient data", [Caveat.of("verdict_missing")]
    if rule.min_year is not None and result.year < rule.min_year:
        return "insufficient data", [Caveat.of("too_old", year=result.year, min_year=rule.min_year)]
    metrics = _metrics(result)
    needed = {c.metric for c in [*rule.supported, *rule.partly]}
    missing = [m for m in sorted(needed) if math.isnan(metrics[m])]
    if missing:
        return "insufficient data", [Caveat.of("metric_missing", metrics=tuple(missing))]
    if all(_holds(c, metrics[c.metric]) for c in rule.supported):
        verdict = "supported"
    elif rule.partly and all(_holds(c, metrics[c.metric]) for c in rule.partly):
        verdict = "partly supported"
    else:
        verdict = "not supported"
    if cap and verdict == "supported" and rule.max_verdict == "partly supported":
        return "partly supported", [Caveat.of("proxy", verdict="partly supported")]
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
