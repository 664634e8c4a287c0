"""``noordstats fetch TABLE...``: download CBS tables live into the local cache.

SIGINT (Ctrl-C) and SIGTERM stop it at once: the table being downloaded is not cached (its
temporary folder is removed; tables cached before stay whole), stderr says how many were
fetched, and the exit status is 130 (SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from noordstats import regions, stopping
from noordstats.commands.output import add_api_option
from noordstats.errors import UsageError

if TYPE_CHECKING:  # deferred: pandas only for the annotations
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "fetch",
        help="download CBS tables live (OData v4 or v3) into the local cache",
        description="Download CBS tables live into the local cache: any table of CBS's catalog "
        "(`noordstats search` finds one); a table of data/tables.yaml comes in the codes of its "
        "snapshot. A table whose CBS Modified date is unchanged is not downloaded again. "
        "--regions, --periods and --filter are sent to CBS, so only those rows travel.",
    )
    parser.add_argument(
        "tables", nargs="+", metavar="TABLE", help="CBS table id (e.g. 85924NED, 80137ned)"
    )
    parser.add_argument(
        "--regions", nargs="+", metavar="CODE", help="download these regions only (e.g. PV20 CR01)"
    )
    parser.add_argument(
        "--periods",
        nargs="+",
        metavar="PERIOD",
        help="download these periods only: codes (2023JJ00) or years (2023)",
    )
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="DIM=CODE[,CODE]",
        help="download these categories of a dimension only "
        "(e.g. BedrijfstakkenBranchesSBI2008=T001081); may be repeated",
    )
    parser.add_argument(
        "--catalog-url",
        metavar="URL",
        help="OData v3 catalog (default: $NOORDSTATS_CATALOG_URL or opendata.cbs.nl)",
    )
    add_api_option(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def parse_filters(texts: list[str]) -> dict[str, list[str]]:
    """``['Dim=A,B', 'Other=C']`` -> {'Dim': ['A', 'B'], 'Other': ['C']}."""
    filters: dict[str, list[str]] = {}
    for text in texts:
        key, sep, codes = text.partition("=")
        values = [c.strip() for c in codes.split(",") if c.strip()]
        if not sep or not key.strip() or not values:
            raise UsageError(f"--filter {text!r}: expected DIMENSION=CODE[,CODE...]")
        filters.setdefault(key.strip(), []).extend(values)
    return filters


def run(args: argparse.Namespace) -> int:
    with stopping.stop_on_signals():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from tqdm import tqdm

    from noordstats.ingest import cbs_http, live

    table_ids = [live.check_table_id(t) for t in dict.fromkeys(args.tables)]
    for table_id in table_ids:
        decl = live.find_declaration(table_id)
        if decl is not None and (problem := live.live_problem(decl)):
            raise cbs_http.LiveConfigError(f"{decl.id} cannot be fetched live: {problem}")
    args.filters = parse_filters(args.filter)
    if any(live.find_declaration(t) for t in table_ids):
        for code in args.regions or []:
            regions.check_region(code)
    cbs_http.resolve_catalog(args.catalog_url)
    quiet = True if args.no_progress else None  # None: a progress bar only on a terminal
    failures = fetched = 0
    for table_id in tqdm(table_ids, desc="tables", unit="table", disable=quiet, file=sys.stderr):
        try:
            frame, meta, downloaded = fetch_with_progress(table_id, args, quiet)
        except stopping.Interrupted as stop:
            print(f"noordstats: interrupted: {fetched} of {len(table_ids)} tables fetched",
                  file=sys.stderr)  # fmt: skip
            return stop.exit_status
        except cbs_http.LiveUnavailableError as exc:
            failures += 1
            tqdm.write(f"noordstats: error: {exc}", file=sys.stderr)
            continue
        if meta["cache_path"] is None:
            failures += 1
            tqdm.write(
                f"noordstats: error: {table_id}: not cached: {meta['cache_error']}",
                file=sys.stderr,
            )
            continue
        fetched += 1
        state = "downloaded" if downloaded else "unchanged at CBS, not downloaded again"
        tqdm.write(
            f"{table_id}: CBS Modified {meta['modified']}, {len(frame)} rows ({state}) over "
            f"OData {meta.get('api', 'v3')}; cached in {meta['cache_path']}"
        )
        if meta.get("not_reconciled"):
            items = meta["not_reconciled"]
            tqdm.write(
                f"{table_id}: {len(items)} categor{'y does' if len(items) == 1 else 'ies do'} "
                f"not reconcile with the snapshot: {'; '.join(items)}"
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
        counted = {"TypedDataSet": 0, "Observations": 0}

        def show(table: str, resource: str, count: int) -> None:
            if resource in counted:
                counted[resource] += count
                bar.update(count)

        frame, meta = live.fetch_table(
            table_id,
            catalog_url=args.catalog_url,
            regions=args.regions,
            periods=args.periods,
            filters=args.filters,
            progress=show,
            api=args.api,
        )
    return frame, meta, sum(counted.values())
