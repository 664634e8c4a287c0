"""``noordstats fetch TABLE...``: download declared CBS tables live into the local cache.

SIGINT (Ctrl-C) and SIGTERM stop it at once: the table being downloaded is not cached (its
temporary folder is removed; tables cached before stay whole), stderr says how many were
fetched, and the exit status is 130 (SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from noordstats import regions, stopping
from noordstats.declarations.tables import get_declaration

if TYPE_CHECKING:  # deferred: pandas only for the annotations
    import pandas as pd


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
    with stopping.stop_on_signals():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from tqdm import tqdm

    from noordstats.ingest import cbs_http, live

    decls = [get_declaration(table_id) for table_id in dict.fromkeys(args.tables)]
    for decl in decls:
        if problem := live.live_problem(decl):
            raise cbs_http.LiveConfigError(f"{decl.id} cannot be fetched live: {problem}")
    for code in args.regions or []:
        regions.check_region(code)
    cbs_http.resolve_catalog(args.catalog_url)
    quiet = True if args.no_progress else None  # None: a progress bar only on a terminal
    failures = fetched = 0
    for decl in tqdm(decls, desc="tables", unit="table", disable=quiet, file=sys.stderr):
        try:
            frame, meta, downloaded = fetch_with_progress(decl.id, args, quiet)
        except stopping.Interrupted as stop:
            print(f"noordstats: interrupted: {fetched} of {len(decls)} tables fetched",
                  file=sys.stderr)  # fmt: skip
            return stop.exit_status
        except cbs_http.LiveUnavailableError as exc:
            failures += 1
            tqdm.write(f"noordstats: error: {exc}", file=sys.stderr)
            continue
        if meta["cache_path"] is None:
            failures += 1
            tqdm.write(
                f"noordstats: error: {decl.id}: not cached: {meta['cache_error']}", file=sys.stderr
            )
            continue
        fetched += 1
        state = "downloaded" if downloaded else "unchanged at CBS, not downloaded again"
        tqdm.write(
            f"{decl.id}: CBS Modified {meta['modified']}, {len(frame)} rows ({state}); "
            f"cached in {meta['cache_path']}"
        )
    return 1 if failures else 0


def fetch_with_progress(
    table_id: str, args: argparse.Namespace, quiet: bool | None
) -> tuple[pd.DataFrame, dict, int]:
    """Fetch one table with a progress bar over the data rows; returns the rows downloaded."""
    # deferred: every command module is imported for --help; start-up stays fast
    from tqdm import tqdm

    from noordstats.ingest import live

    with tqdm(
        desc=f"{table_id} rows", unit="row", leave=False, disable=quiet, file=sys.stderr
    ) as bar:
        counted = {"TypedDataSet": 0}

        def show(table: str, resource: str, count: int) -> None:
            if resource in counted:
                counted[resource] += count
                bar.update(count)

        frame, meta = live.fetch_table(
            table_id, catalog_url=args.catalog_url, regions=args.regions, progress=show
        )
    return frame, meta, counted["TypedDataSet"]
