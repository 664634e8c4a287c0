"""``noordstats`` command line. Each sub-command lives in ``noordstats/commands/<name>.py`` and
exposes ``register(subparsers)``; bad input exits with status 2 and a one-line message."""

from __future__ import annotations

import argparse
import logging
import sys
from importlib import import_module
from typing import NoReturn

from noordstats import __version__

#: sub-command modules, in the order ``noordstats --help`` lists them
COMMAND_MODULES = [
    "data",
    "snapshot",
    "fetch",
    "regions",
    "claims",
    "indicators",
    "report",
]


class UsageError(ValueError):
    """Bad input from the user: printed as one line, exit status 2."""


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        import_module(f"noordstats.commands.{name}").register(sub)
    return parser


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean 'the input was wrong' (exit 2), not 'noordstats is broken'."""
    from pydantic import ValidationError

    from noordstats.cbs_codes import CodeError
    from noordstats.declarations.files import ConfigError
    from noordstats.declarations.tables import DeclarationError, UnknownTableError
    from noordstats.ingest.importers.common import SourceFormatError
    from noordstats.ingest.live import LiveConfigError
    from noordstats.ingest.snapshot_build import RawDataMissingError
    from noordstats.ingest.statline_import import ImportUsageError
    from noordstats.regions import RegionError
    from noordstats.report.parameters import ParameterError
    from noordstats.storage.rawfiles import RawFileError

    return (
        UsageError, CodeError, SourceFormatError, RegionError, DeclarationError,
        UnknownTableError, ValidationError, ConfigError, ParameterError, LiveConfigError,
        RawDataMissingError, ImportUsageError, RawFileError,
    )  # fmt: skip


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean 'a service noordstats needs failed' (exit 1, one line)."""
    from noordstats.ingest.live import LiveUnavailableError

    return (LiveUnavailableError,)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except user_errors() as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"noordstats: error: {message}", file=sys.stderr)
        return 2
    except unavailable_errors() as exc:
        print(f"noordstats: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("noordstats: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # `python -m noordstats.cli`: run the main of the imported module, whose error classes are
    # the ones the commands raise (this file's own copy, __main__, has classes of its own)
    from noordstats.cli import main as imported_main

    sys.exit(imported_main())
