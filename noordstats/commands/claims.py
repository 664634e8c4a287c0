"""``noordstats claims``: the paper's claims, the figures that test them, and the verdicts."""

from __future__ import annotations

import argparse

from noordstats.commands.output import FORMATS, check_format, print_frame
from noordstats.regions import NORTH

TABLE_COLUMNS = ["claim_id", "figure_text", "period", "comparison", "verdict"]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("claims", help="check the position paper's claims against CBS figures")
    parser.add_argument("--region", default=NORTH, help="region code (default LD01, the North)")
    parser.add_argument(
        "--theme",
        "--specialisation",  # the old name, kept as an alias
        dest="theme",
        default=None,
        help="only the claims of one theme",
    )
    parser.add_argument("--format", default="table", help=f"one of {', '.join(FORMATS)}")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_format(args.format)
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.analysis.claims import count_verdicts, evaluate_claims

    frame = evaluate_claims(args.region, args.theme)
    footer = ", ".join(f"{v}: {n}" for v, n in count_verdicts(frame).items())
    print_frame(frame, args.format, TABLE_COLUMNS, footer=f"{len(frame)} claims — {footer}")
    return 0
