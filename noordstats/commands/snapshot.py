"""``noordstats snapshot``: rebuild the embedded snapshot from the raw captures, record new raw
captures, or add a StatLine CSV export an analyst downloaded."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("snapshot", help="rebuild the embedded snapshot or import a CSV")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    build = actions.add_parser(
        "build",
        help="rebuild data/snapshot/ from the raw captures (data/raw or NOORDSTATS_RAW_DIR)",
    )
    build.add_argument("tables", nargs="*", metavar="TABLE", help="table ids (default: all)")
    build.add_argument("--raw-dir", type=Path, help="raw data folder (default: data/raw)")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=run_build)

    add_raw = actions.add_parser(
        "add-raw", help="copy original raw files into data/raw/ and record their sha256"
    )
    add_raw.add_argument("source", type=Path, metavar="FOLDER", help="folder the files are in")
    add_raw.add_argument(
        "files", nargs="+", metavar="PATH", help="paths below FOLDER (kept below data/raw/)"
    )
    add_raw.set_defaults(func=run_add_raw)

    add = actions.add_parser(
        "import",
        help="add a downloaded StatLine CSV export (UntypedDataSet/TypedDataSet, or wide)",
    )
    add.add_argument("path", type=Path, metavar="PATH", help="the CSV file")
    add.add_argument("--id", dest="table_id", help="table id (default: from the file name)")
    add.add_argument("--title", help="table title (default: from the metadata export / line 1)")
    add.add_argument(
        "--metadata", type=Path, help="StatLine metadata export (default: <id>_metadata.csv beside)"
    )
    add.set_defaults(func=run_import)


def run_build(args: argparse.Namespace) -> int:
    from noordstats import paths
    from noordstats.ingest.snapshot_build import build_snapshot

    built = build_snapshot(args.tables or None, raw_dir=args.raw_dir, progress=not args.quiet)
    print(f"built {len(built)} table(s) in {paths.SNAPSHOT_DIR}: {', '.join(built)}")
    return 0


def run_add_raw(args: argparse.Namespace) -> int:
    from noordstats import paths
    from noordstats.ingest.raw_capture import add_raw_files

    records = add_raw_files(args.source, args.files)
    for record in records:
        print(f"{record.path}: sha256 {record.sha256}, {record.size} bytes")
    print(f"recorded {len(records)} file(s) in {paths.RAW_FILES_FILE}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from noordstats import paths
    from noordstats.ingest.statline_import import import_export
    from noordstats.storage import store

    decl = import_export(
        args.path, table_id=args.table_id, title=args.title, metadata=args.metadata
    )
    meta = store.read_meta(paths.SNAPSHOT_DIR, decl.id) or {}
    periods = meta.get("periods") or ["-"]
    print(
        f"imported {decl.id} ({meta.get('row_count', 0)} rows, {periods[0]}..{periods[-1]}) into "
        f"{paths.SNAPSHOT_DIR}; declared in {paths.LOCAL_TABLES_FILE.name}"
    )
    return 0
