"""``noordstats fetch TABLE...``: download declared CBS tables live into the local cache."""

from __future__ import annotations

import argparse
import sys

from noordstats import regions
from noordstats.snapshot import get_declaration


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "fetch",
        help="download CBS tables live (cbsodata) into the local cache",
        description="Download declared CBS tables live into the local cache; a table whose CBS "
        "Modified date is unchanged is not downloaded again.",
    )
    parser.add_argument("tables", nargs="+", metavar="TABLE", help="table id from data/tables.yaml")
    parser.add_argument(
        "--regions", nargs="+", metavar="CODE", help="download these regions only (e.g. PV20 CR01)"
    )
    parser.add_argument(
        "--catalog-url",
        metavar="URL",
        help="OData v3 catalog (default: $NOORDSTATS_CATALOG_URL or opendata.cbs.nl)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from noordstats import live

    decls = [get_declaration(table_id) for table_id in dict.fromkeys(args.tables)]
    for code in args.regions or []:
        regions.check_region(code)
    live.resolve_catalog(args.catalog_url)
    failures = 0
    quiet = True if args.no_progress else None  # None: a bar only on a terminal
    bar = tqdm(decls, desc="tables", unit="table", disable=quiet, file=sys.stderr)
    for decl in bar:
        bar.set_postfix_str(decl.id)
        rows = tqdm(
            desc=f"{decl.id} rows", unit="row", leave=False, disable=quiet,
            file=sys.stderr,
        )  # fmt: skip

        def show(table_id: str, resource: str, count: int, rows: tqdm = rows) -> None:
            if resource in {"TypedDataSet", "UntypedDataSet"}:
                rows.update(count)

        try:
            frame, meta = live.fetch_table(
                decl.id, catalog_url=args.catalog_url, regions=args.regions, progress=show
            )
        except live.LiveUnavailableError as exc:
            failures += 1
            tqdm.write(f"noordstats: error: {exc}", file=sys.stderr)
            continue
        finally:
            rows.close()
        state = "downloaded" if rows.n else "unchanged at CBS, not downloaded again"
        tqdm.write(
            f"{decl.id}: CBS Modified {meta['modified']}, {len(frame)} rows ({state}); "
            f"cached in {meta['cache_path']}"
        )
    return 1 if failures else 0
