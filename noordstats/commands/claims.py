"""``noordstats claims``: the paper's claims, the figures that test them, and the verdicts, for
one region, a list of regions, or every landsdeel and province (``--all-regions``)."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from noordstats import i18n
from noordstats.commands.output import (
    FORMATS,
    add_lang_option,
    add_theme_option,
    check_format,
    print_frame,
)
from noordstats.errors import UsageError
from noordstats.regions import NORTH

if TYPE_CHECKING:
    import pandas as pd

TABLE_COLUMNS = ["claim_id", "figure_text", "period", "comparison", "verdict", "robustness"]
REGIONS_TABLE_COLUMNS = ["region_code", *TABLE_COLUMNS]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("claims", help="check the position paper's claims against CBS figures")
    parser.add_argument(
        "--region",
        nargs="+",
        default=None,
        metavar="CODE",
        help="one or more region codes (default LD01, the North)",
    )
    parser.add_argument(
        "--all-regions",
        action="store_true",
        help="every landsdeel and province (16 regions), the North first",
    )
    add_theme_option(parser, help="only the claims of one theme")
    parser.add_argument("--format", default="table", help=f"one of {', '.join(FORMATS)}")
    add_lang_option(parser, "claim, rule, figures; the verdict column keeps its codes")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_format(args.format)
    if args.all_regions and args.region:
        raise UsageError("--all-regions and --region exclude each other: give one of them")
    i18n.check_lang(args.lang)
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.analysis.claims import all_regions, count_verdicts, evaluate_claims_regions
    from noordstats.analysis.evidence import count_verdicts_by_group
    from noordstats.report.wording import claim_texts

    regions = all_regions() if args.all_regions else (args.region or [NORTH])
    frame = claim_texts(evaluate_claims_regions(regions, args.theme), args.lang)
    frame = add_verdict_counts(frame)
    if len(regions) == 1:
        counts = count_verdicts_by_group(frame)
        footer = ", ".join(
            f"{v}: {c['claims']} (from {c['groups']} independent groups)" for v, c in counts.items()
        )
    else:
        footer = ", ".join(f"{v}: {n}" for v, n in count_verdicts(frame).items())
    if args.format != "json":  # readings as one text column; json keeps the list
        frame = frame.assign(readings=frame.readings.map(readings_text))
    columns = TABLE_COLUMNS if len(regions) == 1 else REGIONS_TABLE_COLUMNS
    count = f"{len(frame)} claims" if len(regions) == 1 else f"{len(frame)} claim x region rows"
    print_frame(frame, args.format, columns, footer=f"{count} — {footer}")
    return 0


def add_verdict_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row with ``verdict_claims`` (claims of its region with its verdict) and
    ``verdict_groups`` (independent evidence groups among them)."""
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.analysis.evidence import count_verdicts_by_group

    claims, groups = [], []
    counts = {code: count_verdicts_by_group(part) for code, part in frame.groupby("region_code")}
    for row in frame.itertuples():
        count = counts[row.region_code][row.verdict]
        claims.append(count["claims"])
        groups.append(count["groups"])
    return frame.assign(verdict_claims=claims, verdict_groups=groups)


def readings_text(readings: list[dict]) -> str:
    """'title: figure (period; source) -> verdict' per reading, ' || ' between readings."""
    if not isinstance(readings, list):
        missing = readings is None or (isinstance(readings, float) and math.isnan(readings))
        return "" if missing else str(readings)
    return " || ".join(
        f"{r['title']}: {r['figure_text']} ({r['period']}; {r['source']}) -> {r['verdict']}"
        for r in readings
    )
