"""``noordstats snapshot``: rebuild the embedded snapshot from the raw captures, check that it is
current, record new raw captures, or add a StatLine CSV export an analyst downloaded."""

from __future__ import annotations

import argparse
from pathlib import Path

from noordstats import paths, stopping
from noordstats.commands.output import add_api_option
from noordstats.errors import UsageError


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

    verify = actions.add_parser(
        "verify",
        help="check every raw file against its record and that the snapshot is current "
        "(exit 1 naming what is not)",
    )
    verify.add_argument("--raw-dir", type=Path, help="raw data folder (default: data/raw)")
    verify.set_defaults(func=run_verify)

    add_raw = actions.add_parser(
        "add-raw", help="copy original raw files into data/raw/ and record their sha256"
    )
    add_raw.add_argument("source", type=Path, metavar="FOLDER", help="folder the files are in")
    add_raw.add_argument(
        "files", nargs="+", metavar="PATH", help="paths below FOLDER (kept below data/raw/)"
    )
    add_raw.set_defaults(func=run_add_raw)

    fingerprint = actions.add_parser(
        "fingerprint",
        help="record the reviewed structure of declared CBS tables (data/table_structure.yaml)",
        description="Record each table's structure (dimensions; measures with titles and "
        "units) in data/table_structure.yaml: from the snapshot's metadata, or with --from-cbs "
        "as CBS serves it now (after reviewing the change `noordstats info TABLE` shows). A live "
        "answer whose structure differs from the record is not used.",
    )
    fingerprint.add_argument(
        "tables", nargs="*", metavar="TABLE", help="declared table ids (default: every CBS table)"
    )
    fingerprint.add_argument(
        "--from-cbs",
        action="store_true",
        help="read the structure from CBS (live), not the snapshot",
    )
    add_api_option(fingerprint)
    fingerprint.set_defaults(func=run_fingerprint)

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
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.ingest.snapshot_build import build_snapshot

    if not paths.FROM_CHECKOUT:  # the embedded snapshot of an installed package is read-only
        raise UsageError(
            "snapshot build rebuilds the repository's data/snapshot/ and works in a checkout "
            "only; to add a table here, use `noordstats snapshot import PATH`"
        )

    with stopping.stop_on_signals():  # stopped: the snapshot stays as it was, exit 130/143
        built = build_snapshot(args.tables or None, raw_dir=args.raw_dir, progress=not args.quiet)
    print(f"built {len(built)} table(s) in {paths.SNAPSHOT_DIR}: {', '.join(built)}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.ingest.snapshot_verify import verify_snapshot

    with stopping.stop_on_signals():
        result = verify_snapshot(raw_dir=args.raw_dir)
    for line in result.raw_problems:
        print(f"raw file: {line}")
    if result.raw_problems:
        print(f"{len(result.raw_problems)} raw file(s) not as recorded; snapshot not checked")
        return 1
    for line in result.stale:
        print(f"stale: {line}")
    for line in result.notes:
        print(f"note: {line}")
    if result.stale:
        print(f"{len(result.stale)} stale; run `noordstats snapshot build`")
        return 1
    print(
        f"current: {result.checked_files} raw files as recorded; {result.checked_tables} "
        f"tables in {paths.SNAPSHOT_DIR} equal to a rebuild"
    )
    return 0


def run_add_raw(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.ingest.raw_capture import add_raw_files

    records = add_raw_files(args.source, args.files)
    for record in records:
        print(f"{record.path}: sha256 {record.sha256}, {record.size} bytes")
    print(f"recorded {len(records)} file(s) in {paths.RAW_FILES_FILE}")
    return 0


def run_fingerprint(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.ingest import live, structure

    if not paths.FROM_CHECKOUT:  # the declarations of an installed package are read-only
        raise UsageError(
            "snapshot fingerprint records data/table_structure.yaml of the repository and works "
            "in a checkout only"
        )
    wanted = structure.fingerprinted_tables()
    tables = []
    for table_id in args.tables or wanted:
        found = [t for t in wanted if t.lower() == table_id.lower()]
        if not found:
            valid = ", ".join(sorted(wanted, key=str.lower))
            raise UsageError(f"not a declared CBS table: {table_id!r}; valid: {valid}")
        tables.append(found[0])
    if args.from_cbs:
        new = [live.structure_from_cbs(t, api=args.api) for t in tables]
    else:
        new = [structure.structure_from_snapshot(t) for t in tables]
    changed = structure.write_structures(new)
    for entry in new:
        state = "changed" if entry.id in changed else "unchanged"
        print(f"{entry.id}: {entry.source}, digest {entry.digest} ({state})")
    print(f"recorded {len(new)} table(s) in {paths.TABLE_STRUCTURE_FILE}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.ingest.statline_import import import_export
    from noordstats.storage import store

    decl = import_export(
        args.path, table_id=args.table_id, title=args.title, metadata=args.metadata
    )
    meta = store.read_snapshot_meta(decl.id) or {}
    periods = meta.get("periods") or ["-"]
    print(
        f"imported {decl.id} ({meta.get('row_count', 0)} rows, {periods[0]}..{periods[-1]}) into "
        f"{paths.local_snapshot_dir()}; declared in {paths.LOCAL_TABLES_FILE}"
    )
    return 0
