"""``noordstats search WORDS...`` and ``noordstats info TABLE``: find a CBS table in CBS's
catalog and see what it holds before fetching it."""

from __future__ import annotations

import argparse
import textwrap

from noordstats.commands.output import FORMATS, add_api_option, check_format

CATALOG_HELP = "OData v3 catalog (default: $NOORDSTATS_CATALOG_URL or opendata.cbs.nl)"


def register(sub: argparse._SubParsersAction) -> None:
    search = sub.add_parser(
        "search",
        help="find CBS tables by words in their id, title or summary",
        description="List the tables of CBS's catalog whose id, title or summary hold every "
        "word (case aside): id, title, periods covered, frequency and CBS Modified.",
    )
    search.add_argument("words", nargs="+", metavar="WORD")
    search.add_argument(
        "--regional", action="store_true", help="only tables with a region dimension"
    )
    search.add_argument("--catalog-url", metavar="URL", help=CATALOG_HELP)
    search.add_argument("--format", default="table", help=f"one of {', '.join(FORMATS)}")
    add_api_option(search)
    search.set_defaults(func=run_search)

    info = sub.add_parser(
        "info",
        help="describe one CBS table: dimensions, measures, periods",
        description="What one CBS table holds, from its own metadata: title, summary, "
        "dimensions (categories, region levels present), measures with units, periods and CBS "
        "Modified.",
    )
    info.add_argument("table", metavar="TABLE", help="CBS table id (e.g. 80137ned)")
    info.add_argument("--catalog-url", metavar="URL", help=CATALOG_HELP)
    info.add_argument("--format", default="table", help=f"one of {', '.join(FORMATS)}")
    add_api_option(info)
    info.set_defaults(func=run_info)


def run_search(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.commands.output import print_frame
    from noordstats.ingest import catalog

    check_format(args.format)
    found = catalog.search_tables(
        args.words, regional=args.regional, catalog_url=args.catalog_url, api=args.api
    )
    what = " ".join(args.words) + (" (with a region dimension)" if args.regional else "")
    footer = (
        f"{len(found)} table(s) for {what!r} in {found.attrs['catalog_url']} "
        f"(OData {found.attrs['api']}); "
        "`noordstats info TABLE` describes one, `noordstats fetch TABLE` downloads it"
    )
    if found.empty and args.format == "table":
        print(footer)
        return 0
    print_frame(
        found,
        args.format,
        ["table_id", "title", "period", "frequency", "modified", "api", "status"],
        footer,
    )
    return 0


def run_info(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.commands.output import print_frame
    from noordstats.ingest import catalog

    check_format(args.format)
    frame = catalog.table_info(args.table, catalog_url=args.catalog_url, api=args.api)
    table = frame.attrs["table"]
    if args.format != "table":
        print_frame(frame, args.format, list(frame.columns))
        return 0
    periods = table["periods"]
    span = f"{periods[0]}..{periods[1]} ({periods[2]})" if periods else "none (no time dimension)"
    print(f"{table['table_id']}: {table['title']}")
    if table["cbs_table"] != table["table_id"]:
        print(f"  refreshed from CBS table {table['cbs_table']}")
    if table["summary"]:
        print(textwrap.fill(table["summary"], 100, initial_indent="  ", subsequent_indent="  "))
    print(f"  CBS Modified {table['modified']}; periods {span}; frequency {table['frequency']}")
    declared = "declared in data/tables.yaml" if table["declared"] else "not declared"
    print(f"  {declared}; catalog {table['catalog_url']} (OData {table['api']})")
    changes = table.get("structure_changes")
    if changes:
        print(f"  CBS changed the table since its structure was reviewed ({len(changes)}):")
        for change in changes:
            print(f"    - {change}")
        print(f"  review data/tables.yaml, then `noordstats snapshot fingerprint {args.table} "
              "--from-cbs`")  # fmt: skip
    elif changes is not None:
        print("  structure as reviewed (data/table_structure.yaml)")
    print()
    dims = frame[~frame.kind.str.contains("measure")]
    print_frame(dims, "table", ["kind", "key", "column", "title", "categories", "levels"])
    print()
    measures = frame[frame.kind.str.contains("measure")]
    print_frame(measures, "table", ["kind", "key", "title", "unit", "group"])
    return 0
