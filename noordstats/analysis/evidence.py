"""Evidence counted once: claims that lean on the same figures form one evidence group.

Two claims are in one group when they share a reading that can give a verdict (direct or proxy),
or when such readings read the same cells (same table, measures and filters of the numerator),
and so on transitively. Context readings give no verdict and link nothing. A group is named after
its first claim in the paper's order. Counting groups instead of claims says how many independent
pieces of evidence stand behind "10 supported".
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from noordstats.declarations.claims import VERDICTS, Claim, load_claims
from noordstats.declarations.indicators import load_indicators


def _evidence_keys(claim: Claim) -> set[tuple]:
    """What a claim's verdict-giving readings read: indicator ids and numerator cells."""
    indicators = load_indicators()
    keys: set[tuple] = set()
    for reading in claim.readings:
        if reading.validity == "context":
            continue
        ind = indicators[reading.indicator]
        keys.add(("indicator", ind.id))
        cells = tuple(sorted((k, tuple(v)) for k, v in ind.filters.items()))
        keys.add(("cells", ind.table, tuple(ind.measures), cells, ind.transform))
    return keys


@cache
def evidence_groups() -> dict[str, str]:
    """{claim id: group id} for every claim; the group id is the group's first claim."""
    claims = load_claims()
    parent = {c.id: c.id for c in claims}

    def root(cid: str) -> str:
        while parent[cid] != cid:
            parent[cid] = parent[parent[cid]]
            cid = parent[cid]
        return cid

    owner: dict[tuple, str] = {}
    for claim in claims:
        for key in _evidence_keys(claim):
            if key in owner:
                a, b = root(owner[key]), root(claim.id)
                if a != b:
                    order = [c.id for c in claims]
                    first, second = sorted((a, b), key=order.index)
                    parent[second] = first
            else:
                owner[key] = claim.id
    return {c.id: root(c.id) for c in claims}


def group_members() -> dict[str, list[str]]:
    """{group id: its claims in the paper's order}, only groups of more than one claim."""
    members: dict[str, list[str]] = {}
    for claim_id, group in evidence_groups().items():
        members.setdefault(group, []).append(claim_id)
    return {g: m for g, m in members.items() if len(m) > 1}


def count_verdicts_by_group(claims: pd.DataFrame) -> dict[str, dict[str, int]]:
    """{verdict: {'claims': n, 'groups': independent evidence groups among them}} for the
    claims of one region, every verdict listed."""
    groups = claims.claim_id.map(evidence_groups())
    out = {}
    for verdict in VERDICTS:
        mask = claims.verdict == verdict
        out[verdict] = {"claims": int(mask.sum()), "groups": int(groups[mask].nunique())}
    return out
