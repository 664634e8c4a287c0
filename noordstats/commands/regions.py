"""``noordstats regions``: the region codes noordstats knows, with names and parents."""

from __future__ import annotations

import argparse

from noordstats.commands.output import FORMATS, print_frame
from noordstats.declarations.files import ConfigError
from noordstats.regions import ALL_LEVELS, NAMED_LEVELS, list_regions

LEVELS = ALL_LEVELS


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "regions", help="list region codes (NL, landsdelen, provinces; COROP, GM with --level)"
    )
    parser.add_argument(
        "--level",
        action="append",
        default=None,
        help=f"one of {', '.join(LEVELS)} (repeatable; default NL, LD, PV)",
    )
    parser.add_argument("--format", default="table", help=f"one of {', '.join(FORMATS)}")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    levels = tuple(args.level or NAMED_LEVELS)
    unknown = [level for level in levels if level not in LEVELS]
    if unknown:
        raise ConfigError(f"unknown level {unknown[0]!r}; valid: {', '.join(LEVELS)}")
    frame = list_regions(levels)[
        ["region_code", "region_name", "region_level", "province_code", "landsdeel_code"]
    ]
    print_frame(frame, args.format, list(frame.columns), footer=f"{len(frame)} regions")
    return 0
