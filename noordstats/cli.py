"""``noordstats`` command line. Each sub-command lives in ``noordstats/commands/<name>.py`` and
exposes ``register(subparsers)``; bad input exits with status 2 and a one-line message."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import NoReturn

from noordstats import __version__, paths
from noordstats.errors import UnavailableError, UsageError, UserError

#: sub-command modules, in the order ``noordstats --help`` lists them
COMMAND_MODULES = [
    "data",
    "snapshot",
    "catalog",
    "fetch",
    "regions",
    "claims",
    "indicators",
    "report",
    "workdir",
]
#: sub-commands that do not read a working folder (they create one, or point at the package)
NO_WORKDIR_COMMANDS = {"init", "notebooks"}
WORKDIR_HELP = (
    "working folder whose declarations and notebooks are used over the packaged ones, and where "
    "imported tables go (default: $NOORDSTATS_HOME, else the current folder or one above it if "
    "`noordstats init` made it)"
)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is reported in one line (with a pointer to ``--help``)
    instead of the usage block followed by the error; the exit status stays 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="noordstats",
        description="CBS statistics behind the claims of the Noord-Nederland position paper.",
    )
    parser.add_argument("--version", action="version", version=f"noordstats {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--workdir", type=Path, metavar="DIR", help=WORKDIR_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        import_module(f"noordstats.commands.{name}").register(sub)
    _add_workdir_option(sub)
    return parser


def _add_workdir_option(sub: argparse._SubParsersAction) -> None:
    """``--workdir`` after the sub-command too (``noordstats reports --workdir DIR``)."""
    for name, parser in sub.choices.items():
        if name in NO_WORKDIR_COMMANDS:
            continue
        parser.add_argument(
            "--workdir", type=Path, metavar="DIR", default=argparse.SUPPRESS, help=WORKDIR_HELP
        )
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_workdir_option(action)


def use_workdir(args: argparse.Namespace) -> None:
    """Point noordstats at the working folder (``--workdir``, ``$NOORDSTATS_HOME`` or found from
    the current folder), check the declarations it holds, and say so on stderr in one line."""
    if args.command in NO_WORKDIR_COMMANDS:
        return
    if args.workdir is not None:
        if not args.workdir.is_dir():
            raise UsageError(f"--workdir: {args.workdir} is not a folder")
        paths.configure(args.workdir)
        _forget_declarations()
    elif os.environ.get(paths.HOME_ENV) and not Path(os.environ[paths.HOME_ENV]).is_dir():
        raise UsageError(f"{paths.HOME_ENV}: {os.environ[paths.HOME_ENV]} is not a folder")
    if paths.WORKDIR is None:
        return
    own = paths.workdir_overrides()
    if own:
        # deferred: pydantic and yaml only when a working folder brings declarations of its own
        from noordstats.declarations.claims import load_claims
        from noordstats.declarations.tables import declarations
        from noordstats.declarations.themes import load_themes

        declarations()
        load_themes()  # reads indicators.yaml as well
        load_claims()
        used = f"using its {', '.join(own)} over the packaged ones"
    else:
        used = "no declarations of its own: using the packaged ones"
    print(f"noordstats: working folder {paths.WORKDIR}: {used}", file=sys.stderr)


def _forget_declarations() -> None:
    """Forget declarations (and what was computed from them) read before the working folder was
    chosen (only matters when ``main`` runs more than once in a process)."""
    cached = {
        "noordstats.declarations.tables": ["declarations"],
        "noordstats.declarations.indicators": ["load_indicators"],
        "noordstats.declarations.themes": ["load_themes"],
        "noordstats.declarations.claims": ["load_claims"],
        "noordstats.i18n": ["catalogue"],
        "noordstats.declarations.report_kinds": ["load_report_kinds"],
        "noordstats.analysis.frames": ["load_cached", "indicator_frame"],
        "noordstats.report.runner.manifest": ["compute_code_hash"],
    }
    for module_name, names in cached.items():
        module = sys.modules.get(module_name)
        for name in names if module else []:
            getattr(module, name).cache_clear()


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean 'the input was wrong' (exit 2), not 'noordstats is broken'."""
    # deferred: pydantic is imported only when a command has failed; --help stays fast
    from pydantic import ValidationError

    return (UserError, ValidationError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        use_workdir(args)
        return int(args.func(args) or 0)
    except user_errors() as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"noordstats: error: {message}", file=sys.stderr)
        return 2
    except UnavailableError as exc:
        print(f"noordstats: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM inside stopping.stop_on_signals
        print("noordstats: interrupted", file=sys.stderr)
        return getattr(exc, "exit_status", 130)


if __name__ == "__main__":
    sys.exit(main())
