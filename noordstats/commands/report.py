"""``noordstats report`` (one report) and ``noordstats reports`` (the suite).

Parameters are validated before anything is written: bad input exits with status 2 and a
one-line error naming the valid choices. A report that fails (or runs past ``--timeout``) makes
the exit status 1; the others still finish and the index marks it failed. A run that asked CBS
for live data prints one summary line of its run record (``run.json``) on stderr; with
``--fail-on-stale`` its exit status is 3 when a CBS table could not be refreshed.

SIGINT (Ctrl-C) and SIGTERM stop the run within about a second: what finished stays, the index
marks the rest "not rendered: interrupted", stderr says how many were rendered, and the exit
status is 130 (SIGINT) or 143 (SIGTERM). See :mod:`noordstats.stopping`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from noordstats import i18n, paths, stopping
from noordstats.commands.output import add_api_option
from noordstats.declarations.report_kinds import describe_kinds
from noordstats.errors import UsageError
from noordstats.storage import SOURCES


def register(sub: argparse._SubParsersAction) -> None:
    one = sub.add_parser(
        "report",
        help=f"render one report: {describe_kinds('a theme (cleantech, ...)')}",
        description="Render one report notebook to HTML and update the output folder's index.",
    )
    one.add_argument("kind", metavar="REPORT", help=describe_kinds())
    one.add_argument("--region", default="LD01", help="region code (default LD01)")
    one.add_argument("--compare", nargs="+", metavar="CODE", help="regions to compare with")
    one.add_argument("--start-year", metavar="YEAR", help="first year of the trend charts")
    one.add_argument("--end-year", metavar="YEAR", help="last year of the trend charts")
    one.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any parameter the notebook declares (VALUE is read as YAML: 2015, [NL01], None)",
    )
    _add_output_options(one)
    one.set_defaults(func=run_one)

    many = sub.add_parser(
        "reports",
        help=f"render the report suite ({describe_kinds('every theme')}) and its index",
        description=(
            "Render every report (or --only some) for each --region into --out, in parallel, "
            "then write index.html. Reports whose inputs did not change are skipped (--force "
            "renders them again). A second run on the same folder waits for the first."
        ),
    )
    many.add_argument("--only", nargs="+", metavar="REPORT", help=describe_kinds("theme ids"))
    many.add_argument(
        "--region", nargs="+", default=["LD01"], metavar="CODE", help="region code(s), default LD01"
    )
    many.add_argument("--jobs", metavar="N", help="worker processes (default: number of CPUs)")
    _add_output_options(many)
    many.set_defaults(func=run_many)


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=SOURCES, help="data source (default: snapshot)")
    add_api_option(parser)
    parser.add_argument(
        "--lang",
        default=i18n.DEFAULT_LANG,
        help="language of the reports: nl (Dutch, the default), en (English; files end in "
        "-en and are listed in index-en.html) or any a working folder's catalogue.yaml adds",
    )
    parser.add_argument(
        "--pdf",
        action="store_true",
        help="also print each report to PDF (A4) with headless Chromium; the index links them",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=paths.REPORTS_DIR,
        help="output folder (default: reports/ in the current folder)",
    )
    parser.add_argument("--dated", action="store_true", help="write into OUT/YYYY-MM-DD/")
    parser.add_argument("--force", action="store_true", help="render even unchanged reports")
    parser.add_argument(
        "--self-contained",
        action="store_true",
        help="inline plotly.js and the stylesheet in every page (about 4.8 MB each)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        help=f"stop a report that takes longer and mark it failed (0 < SECONDS <= {MAX_TIMEOUT})",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar, and no log line below ERROR"
    )
    parser.add_argument(
        "--fail-on-stale",
        action="store_true",
        help=f"exit with status {STALE_EXIT} when a CBS table asked for live (--source auto) "
        "could not be refreshed and an older copy was used",
    )


def parse_parameter(text: str) -> tuple[str, Any]:
    """``'start_year=2015'`` -> ``('start_year', 2015)`` (the value is read as YAML)."""
    # deferred: every command module is imported for --help; start-up stays fast
    import yaml

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"parameter {text!r} is not NAME=VALUE")
    try:
        return name.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        raise UsageError(f"parameter {name.strip()}: cannot read value {value!r}") from None


def parse_jobs(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--jobs must be a whole number of at least 1, got {text!r}")
    return int(text)


MAX_TIMEOUT = 86400
#: the exit status of a run with --fail-on-stale that used an older copy of a CBS table (a
#: failed report's 1 comes first)
STALE_EXIT = 3


def parse_timeout(text: str | None) -> float | None:
    """``--timeout``: seconds per report, more than 0 and at most a day."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= MAX_TIMEOUT:  # also refuses nan and inf
        raise UsageError(
            f"--timeout must be a number of seconds greater than 0 and at most {MAX_TIMEOUT}, "
            f"got {text!r}"
        )
    return value


def check_output_folder(folder: Path) -> None:
    """Refuse an output folder that is, or lies under, an existing file (bad input: exit 2)."""
    for path in (folder, *folder.parents):
        if path.exists():
            if not path.is_dir():
                raise UsageError(f"--out: {path} is a file, not a folder")
            return


def run_one(args: argparse.Namespace) -> int:
    with stopping.stop_on_signals():
        return _run_one(args)


def _run_one(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.report.runner import suite

    overrides: dict[str, Any] = dict(parse_parameter(p) for p in args.parameter)
    if args.compare:
        overrides["compare"] = args.compare
    for option in ("start_year", "end_year"):
        if getattr(args, option) is not None:
            overrides[option] = parse_parameter(f"{option}={getattr(args, option)}")[1]
    if args.source:
        overrides["source"] = args.source
    overrides["lang"] = args.lang
    spec = suite.plan_report(args.kind, args.region, overrides)
    return _render([spec], args, jobs=1)


def run_many(args: argparse.Namespace) -> int:
    with stopping.stop_on_signals():
        return _run_many(args)


def _run_many(args: argparse.Namespace) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.report.runner import suite

    jobs = parse_jobs(args.jobs)
    if args.only:
        unknown = [k for k in args.only if k not in suite.report_kinds()]
        if unknown:
            raise UsageError(
                f"unknown report {unknown[0]!r}; valid: {', '.join(suite.report_kinds())}"
            )
    overrides = {"source": args.source} if args.source else {}
    overrides["lang"] = args.lang
    specs = suite.plan_suite(args.only, args.region, overrides)
    return _render(specs, args, jobs=jobs)


def _render(specs: list, args: argparse.Namespace, jobs: int | None) -> int:
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.report.page.kernel_logging import LEVEL_ENV
    from noordstats.report.runner import suite
    from noordstats.report.runner.index_page import index_name

    inherited = {}  # what the workers and the notebooks' kernels inherit, for this run only
    if args.api:  # load_table's default service
        inherited["NOORDSTATS_API"] = args.api
    folder = suite.output_folder(args.out, args.dated)
    check_output_folder(folder)
    timeout = parse_timeout(args.timeout)
    if args.pdf:
        # deferred: only a run that prints PDFs needs it
        from noordstats.report.runner import pdf

        pdf.find_chromium()  # none: one line naming the install command, exit 2, nothing written
    if args.quiet and LEVEL_ENV not in os.environ:
        inherited[LEVEL_ENV] = "ERROR"  # the kernels' log level
    started = time.perf_counter()
    try:
        with _environment(inherited):
            results = suite.run_suite(
                specs,
                folder,
                jobs=jobs,
                force=args.force,
                self_contained=args.self_contained,
                progress=False if args.quiet else None,
                timeout=timeout,
                pdf=args.pdf,
            )
    except OSError as exc:
        print(f"noordstats: error: cannot write reports to {folder}: {exc}", file=sys.stderr)
        return 1
    except stopping.Interrupted as stop:
        print(f"noordstats: {describe_stop(getattr(stop, 'results', []), len(specs))}",
              file=sys.stderr)  # fmt: skip
        return stop.exit_status
    statuses = [r["status_this_run"] for r in results]
    counts = {s: statuses.count(s) for s in ("rendered", "skipped", "failed")}
    for result in results:
        if result["status_this_run"] == "failed":
            where = f" (see {folder / result['notebook']})" if result.get("notebook") else ""
            message = f"noordstats: report {result['name']} failed: {result['error']}{where}"
            print(message, file=sys.stderr)
    print(
        f"{counts['rendered']} rendered, {counts['skipped']} unchanged, {counts['failed']} failed "
        f"in {time.perf_counter() - started:.1f} s -> {folder / index_name(args.lang)}"
    )
    stale = _report_run(folder, specs, results, args.lang)
    if counts["failed"]:
        return 1
    return STALE_EXIT if args.fail_on_stale and stale else 0


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` set in ``os.environ`` while the block runs (subprocesses inherit them), then
    restored: a run in the same process (a test, a notebook) leaves nothing behind."""
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _report_run(folder: Path, specs: list, results: list[dict[str, Any]], lang: str) -> list[str]:
    """Print the run record's summary line on stderr when the run asked CBS for live data
    (and how many CBS tables could not be refreshed); return those tables."""
    # deferred: every command module is imported for --help; start-up stays fast
    from noordstats.report.runner.run_record import (
        RUN_RECORD_NAME,
        build_run_record,
        stale_cbs_tables,
        summary_line,
    )

    if all(spec.parameters.get("source", "snapshot") == "snapshot" for spec in specs):
        return []
    record = build_run_record(results, started_at="", ended_at="")  # what run.json holds
    stale = stale_cbs_tables(record)
    line = summary_line(record, lang)
    if stale:
        line += "; " + i18n.t("run.stale", lang, n=len(stale), record=folder / RUN_RECORD_NAME)
    print(f"noordstats: {line}", file=sys.stderr)
    return stale


def describe_stop(results: list[dict[str, Any]], planned: int) -> str:
    """``interrupted: 6 of 10 reports rendered`` (and how many were unchanged or failed)."""
    statuses = [r.get("status_this_run") for r in results]
    unchanged, failed = statuses.count("skipped"), statuses.count("failed")
    text = f"interrupted: {statuses.count('rendered')} of {planned - unchanged} reports rendered"
    text += f", {unchanged} unchanged" if unchanged else ""
    return text + (f", {failed} failed" if failed else "")
