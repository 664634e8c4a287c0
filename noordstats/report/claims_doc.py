"""``docs/claims.md``: the verdict record, generated from the registry.

Per claim: the paper's words, the readings with their validity and rules, the current verdict and
figures for the North (LD01), the verdict under the first registered rule where a rule changed
with its figure known, the claim's evidence group, how the North compares with the other
landsdelen and provinces, and the dated record of every verdict and rule change with its reason
(``data/verdict_history.yaml``).

``python -m noordstats.report.claims_doc [PATH]`` writes it (``make claims-doc``);
``--check`` exits 1 when the file is not what the registry gives today.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from noordstats import paths
from noordstats import regions as reg
from noordstats.analysis.claims import all_regions, count_verdicts, evaluate_claims_regions
from noordstats.analysis.claims_compare import compare_regions, distinctive_counts, fragile_claims
from noordstats.analysis.evidence import count_verdicts_by_group, group_members
from noordstats.declarations.claims import load_claims
from noordstats.declarations.verdict_history import (
    RuleChange,
    VerdictChange,
    load_verdict_history,
    rule_changes_of,
)
from noordstats.report.wording import claim_texts, comparison_sentence

#: the language of docs/claims.md
DOC_LANG = "en"

HEADER = """# The claims and their verdicts

Generated from `data/claims.yaml`, `data/verdict_history.yaml` and the shipped CBS tables by
`make claims-doc` (`python -m noordstats.report.claims_doc`); do not edit by hand. A test fails when
this file is stale.

Each claim quotes the position paper verbatim. A testable claim has one or more *readings*: an
indicator and the rule that judges it. Every reading has a *validity*: a *direct* measure of what
the sentence says, a *proxy* (at most 'partly supported'), or *context* only (shown, never gives a
verdict; a claim whose readings are all context is 'insufficient data' and says what would
measure it). The first reading that is not context gives the verdict; the others are checks. The
verdict is *robust* when every reading with a figure gives the same verdict (before the proxy
cap), *sensitive* when they disagree, *single reading* when only one reading has a figure. Rules
compare the figures as published (rounded to their decimals).

Rules are meant to be written before the figure is computed. Where a rule changed later with its
figure known, the change is recorded (date, old rule, new rule, reason) and the verdict under the
first registered rule is shown beside today's.

*Evidence counted once*: claims that share a verdict-giving reading, or whose readings read the
same cells, form one evidence group; counts are given per claim and per independent group. The
same rules are applied to every landsdeel and province: a claim whose verdict is 'supported' is
*distinctive* when at most one of the other three landsdelen meets its rule too, and *fragile*
when that hangs on a difference inside a figure's published precision.
"""


def _cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _change_line(change: VerdictChange) -> str:
    return (
        f"- {change.date.isoformat()}: {change.old_verdict} → **{change.new_verdict}**. "
        f"{change.reason}"
    )


def _rule_change_line(change: RuleChange) -> str:
    known = "with the figure known" if change.figure_known else "before the figure was known"
    old = change.old_rule
    return (
        f"- {change.date.isoformat()} ({known}): `{old.indicator}` ({old.validity}): "
        f"{_cell(old.text)} → {change.new_rule} {change.reason}"
    )


def build_claims_doc() -> str:
    """The whole of ``docs/claims.md`` as text (no date of its own: the same registry and data
    give the same text)."""
    frame = evaluate_claims_regions(all_regions())
    north = claim_texts(frame[frame.region_code == reg.NORTH], DOC_LANG).set_index("claim_id")
    comparison = compare_regions(frame, reg.NORTH).set_index("claim_id")
    history = load_verdict_history()
    counts = count_verdicts(north.reset_index())
    by_group = count_verdicts_by_group(north.reset_index())
    distinct = distinctive_counts(comparison.reset_index())
    fragile = fragile_claims(comparison.reset_index())
    lines = [HEADER]
    lines.append(
        f"**Noord-Nederland (LD01)**: {len(north)} claims — "
        + ", ".join(
            f"{v}: {n} (from {by_group[v]['groups']} independent groups)" for v, n in counts.items()
        )
        + f". The North meets the rule of {distinct['meets_rule']} claims; "
        f"{distinct['supported']} are supported, from {distinct['supported_groups']} "
        f"independent groups; {distinct['distinctive']} of those are distinctive, from "
        f"{distinct['distinctive_groups']} independent groups"
        + (f"; fragile: {', '.join(fragile)}" if fragile else "; none is fragile")
        + ".\n"
    )
    members = group_members()
    if members:
        lines.append("Evidence groups (claims that read the same figures count once):\n")
        lines.extend(
            f"- `{group}`: " + ", ".join(f"`{c}`" for c in claims)
            for group, claims in members.items()
        )
        lines.append("")
    for claim in load_claims():
        row = north.loc[claim.id]
        lines.append(f"## {claim.id}\n")
        lines.append(f"*{claim.section}* · theme `{claim.theme}`\n")
        lines.append(f"> {claim.quote_nl}\n")
        lines.append(f"{claim.claim_en}\n")
        verdict = f"**Verdict for LD01: {row.verdict}**"
        if claim.testable:
            verdict += f" ({row.robustness})"
        if isinstance(row.first_rule_verdict, str) and row.first_rule_verdict != row.verdict:
            verdict += f"; under the first registered rule: {row.first_rule_verdict}"
        if row.evidence_group != claim.id:
            verdict += f"; evidence group `{row.evidence_group}`"
        lines.append(verdict + "\n")
        if not claim.testable:
            lines.append(f"Not testable: {claim.reason_not_testable}\n")
        else:
            lines.append(
                "| reading | validity | figure (LD01) | period | source | compared with | "
                "verdict | rule |"
            )
            lines.append("|---|---|---|---|---|---|---|---|")
            for reading in row.readings:
                label = (
                    "primary"
                    if reading["primary"]
                    else ("context" if reading["validity"] == "context" else "check")
                )
                lines.append(
                    f"| {label}: {_cell(reading['title'])} | **{reading['validity']}**: "
                    f"{_cell(reading['validity_reason'])} | {_cell(reading['figure_text'])} | "
                    f"{_cell(reading['period'])} | {_cell(reading['source'])} | "
                    f"{_cell(reading['comparison'])} | {_cell(reading['verdict'])} | "
                    f"{_cell(reading['rule'])} |"
                )
            lines.append("")
            if claim.direct_measure:
                lines.append(f"What would measure it: {claim.direct_measure}\n")
            if claim.id in comparison.index:
                sentence = comparison_sentence(comparison.loc[claim.id], DOC_LANG)
                lines.append(f"Other regions: {sentence}\n")
        lines.append(f"Why: {claim.rationale}\n")
        changes = sorted((c for c in history if c.claim_id == claim.id), key=lambda c: c.date)
        if changes:
            lines.append("Verdict record:\n")
            lines.extend(_change_line(c) for c in changes)
            lines.append("")
        rule_changes = rule_changes_of(claim.id)
        if rule_changes:
            lines.append("Rule record:\n")
            lines.extend(_rule_change_line(c) for c in rule_changes)
            lines.append("")
    known = {c.id for c in load_claims()}
    removed = [c for c in history if c.claim_id not in known]
    if removed:
        lines.append("## Claims taken out of the registry\n")
        for change in sorted(removed, key=lambda c: (c.claim_id, c.date)):
            lines.append(f"- `{change.claim_id}`, {_change_line(change)[2:]}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=paths.CLAIMS_DOC_FILE)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = build_claims_doc()
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.is_file() else ""
        if current != text:
            print(f"{args.path} is stale: run `make claims-doc`", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
