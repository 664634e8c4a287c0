"""Does the North stand out? The same claim rules applied to every landsdeel and province.

:func:`compare_regions` takes the claims of many regions (:func:`evaluate_claims_regions`) and says,
per claim, where the region ranks among its peers on the primary reading's rule metric, how many
landsdelen and provinces meet the rule for 'supported', and whether the region's claim is
*distinctive*: its verdict is 'supported' (a proxy's capped verdict is not) and at most one other
region of its level meets the rule. A distinctive claim is *fragile* when the region's or a peer's
meeting the rule hangs on a difference inside the figure's published precision (one unit of its
last decimal). :func:`distinctive_counts` counts claims and independent evidence groups
(:mod:`noordstats.analysis.evidence`).
"""

from __future__ import annotations

import math

import pandas as pd

from noordstats import regions as reg
from noordstats.analysis import arithmetic
from noordstats.analysis.evidence import evidence_groups
from noordstats.declarations.claims import Rule, load_claims
from noordstats.declarations.indicators import load_indicators

COMPARE_COLUMNS = [
    "claim_id", "region_code", "verdict", "meets_rule", "rank", "n_ranked", "level",
    "peers_meeting", "n_peers", "provinces_meeting", "n_provinces", "distinctive", "fragile",
    "evidence_group",
]  # fmt: skip
#: a claim the region meets is distinctive when at most this many other peers meet it too
MAX_OTHERS_MEETING = 1


def rule_direction(rule: Rule) -> str | None:
    """'higher' or 'lower' is better for the primary rule's first 'supported' condition; None
    for a range (bounds on both sides), where no region is better than another."""
    cond = rule.supported[0]
    up = cond.at_least is not None or cond.above is not None
    down = cond.at_most is not None or cond.below is not None
    if up == down:
        return None
    if cond.metric == "rank":  # rank 1 is the best: a lower rank is better
        return "lower" if up else "higher"
    return "higher" if up else "lower"


def ranking_direction(rule: Rule) -> str | None:
    """The direction regions are ranked in for a claim: the rule's (:func:`rule_direction`), or
    for a range rule the indicator's own ('better' in indicators.yaml), so the comparison
    sentence (:func:`noordstats.report.wording.comparison_sentence`) states the same rank as the
    figure's comparison ('rank 4 of 4 landsdelen')."""
    direction = rule_direction(rule)
    if direction is not None:
        return direction
    if rule.supported[0].metric == "rank":
        return None
    better = load_indicators()[rule.indicator].better
    return better if better in ("higher", "lower") else None


def compare_regions(frame: pd.DataFrame, region: str = reg.NORTH) -> pd.DataFrame:
    """One row per testable claim of ``region``: rank among its peers, how many peers and
    provinces meet the rule, distinctive or not (the sentence saying so:
    :func:`noordstats.report.wording.comparison_sentence`). ``frame`` must hold the region's
    peers (and the provinces, for their count); ``level`` is the peers' level code (LD, PV,
    ...)."""
    rules = {c.id: c.rule for c in load_claims() if c.rule is not None}
    level = region[:2]
    peers = reg.peers_of(region)
    provinces = reg.list_regions(("PV",)).region_code.tolist()
    rows = []
    for claim_id, group in frame.groupby("claim_id", sort=False):
        if claim_id not in rules:
            continue
        by_region = group.set_index("region_code")
        if region not in by_region.index:
            continue
        own = by_region.loc[region]
        peer_rows = by_region[by_region.index.isin(peers)]
        pv_rows = by_region[by_region.index.isin(provinces)]
        rank, n_ranked = _rank(peer_rows, region, ranking_direction(rules[claim_id]))
        meets = bool(own.meets_rule)
        peers_meeting = int(peer_rows.meets_rule.fillna(False).astype(bool).sum())
        others = peers_meeting - (1 if meets else 0)
        row = {
            "claim_id": claim_id,
            "region_code": region,
            "verdict": own.verdict,
            "meets_rule": meets,
            "rank": rank,
            "n_ranked": n_ranked,
            "level": level,
            "peers_meeting": peers_meeting,
            "n_peers": int(len(peer_rows)),
            "provinces_meeting": int(pv_rows.meets_rule.fillna(False).astype(bool).sum()),
            "n_provinces": int(len(pv_rows)),
            "distinctive": meets and own.verdict == "supported" and others <= MAX_OTHERS_MEETING,
            "fragile": any(_fragile(r) for _, r in peer_rows.iterrows()) or _fragile(own),
            "evidence_group": evidence_groups().get(claim_id, claim_id),
        }
        row["fragile"] = bool(row["distinctive"] and row["fragile"])
        rows.append(row)
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def _rank(peer_rows: pd.DataFrame, region: str, direction: str | None) -> tuple[float, int]:
    metrics = pd.Series(
        {code: _metric(r) for code, r in peer_rows.iterrows()}, dtype=float
    ).dropna()
    if direction is None or region not in metrics.index:
        return math.nan, int(len(metrics))
    ranks = arithmetic.rank_values(metrics, direction)
    return float(ranks[region]), int(len(metrics))


def _primary(row: pd.Series) -> dict | None:
    readings = row.readings if isinstance(row.readings, list) else []
    return next((r for r in readings if r.get("primary")), None)


def _fragile(row: pd.Series) -> bool:
    primary = _primary(row)
    return bool(primary and primary.get("fragile"))


def _metric(row: pd.Series) -> float:
    primary = _primary(row)
    value = primary["metric"] if primary else None
    return math.nan if value is None else float(value)


def distinctive_counts(comparison: pd.DataFrame) -> dict[str, int]:
    """{'meets_rule': claims whose rule the region meets, 'supported': claims judged
    'supported', 'supported_groups': independent evidence groups among them, 'distinctive':
    supported claims that are distinctive, 'distinctive_groups': independent groups among them,
    'fragile': distinctive claims that hang on a difference inside the figure's precision}."""
    meets = comparison[comparison.meets_rule.astype(bool)]
    supported = comparison[comparison.verdict == "supported"]
    distinct = comparison[comparison.distinctive.astype(bool)]
    return {
        "meets_rule": int(len(meets)),
        "supported": int(len(supported)),
        "supported_groups": int(supported.evidence_group.nunique()),
        "distinctive": int(len(distinct)),
        "distinctive_groups": int(distinct.evidence_group.nunique()),
        "fragile": int(distinct.fragile.astype(bool).sum()),
    }


def fragile_claims(comparison: pd.DataFrame) -> list[str]:
    """The distinctive claims whose distinctiveness is fragile, in the paper's order."""
    return comparison.loc[comparison.fragile.astype(bool), "claim_id"].tolist()
