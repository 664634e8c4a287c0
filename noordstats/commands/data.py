"""``noordstats data``: what the embedded snapshot holds, table by table."""

from __future__ import annotations

import argparse

from noordstats import paths
from noordstats.declarations.tables import declarations


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("data", help="list every shipped table: periods, regions, completeness")
    parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
    parser.set_defaults(func=run)


def summarise() -> list[dict]:
    # deferred: the store imports pandas (~0.7 s); `noordstats --help` does not need it
    from noordstats.storage import store

    rows = []
    for table_id in declarations():
        meta = store.read_snapshot_meta(table_id)
        if meta is None:
            rows.append(
                {"table": table_id, "title": "(not built: run `noordstats snapshot build`)"}
            )
            continue
        periods = meta["periods"]
        rows.append(
            {
                "table": table_id,
                "title": meta["title"],
                "periods": f"{periods[0]}..{periods[-1]} ({len(periods)})" if periods else "-",
                "regions": " ".join(
                    f"{k}:{v}" for k, v in sorted(meta["regions_by_level"].items())
                ),
                "rows": meta["row_count"],
                "completeness": meta["completeness"],
                "licence": meta["licence"],
                "note": meta["completeness_note"],
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    import pandas as pd

    frame = pd.DataFrame(summarise())
    if args.format == "csv":
        print(frame.to_csv(index=False), end="")
    elif args.format == "json":
        print(frame.to_json(orient="records", force_ascii=False, indent=1))
    else:
        with pd.option_context("display.max_colwidth", 60, "display.width", 250):
            print(frame.drop(columns=["note", "licence"]).to_string(index=False))
        licences = "; ".join(sorted(frame["licence"].dropna().unique()))
        print(f"\n{len(frame)} tables in {paths.SNAPSHOT_DIR} — licences: {licences}")
    return 0
