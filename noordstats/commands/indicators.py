"""``noordstats indicators``: a theme's figures for a region, compared with NL."""

from __future__ import annotations

import argparse

from noordstats import i18n
from noordstats.commands.output import (
    FORMATS,
    add_lang_option,
    add_theme_option,
    check_format,
    print_frame,
)
from noordstats.regions import NORTH

TABLE_COLUMNS = ["indicator_id", "value_text", "period", "comparison_text"]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("indicators", help="a theme's indicators for a region vs NL")
    add_theme_option(parser, help="e.g. cleantech, agrofood", required=True)
    parser.add_argument("--region", default=NORTH, help="region code (default LD01, the North)")
    parser.add_argument("--format", default="table", help=f"one of {', '.join(FORMATS)}")
    add_lang_option(parser, "figures, periods, comparisons")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_format(args.format)
    i18n.check_lang(args.lang)
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.analysis.indicators import headline_figures
    from noordstats.report.wording import headline_texts

    frame = headline_texts(headline_figures(args.theme, args.region), args.lang)
    print_frame(frame, args.format, TABLE_COLUMNS, footer="Bron: CBS (see `noordstats data`)")
    return 0
