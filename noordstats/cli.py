"""``noordstats`` command line. Each sub-command lives in ``noordstats/commands/<name>.py`` and
exposes ``register(subparsers)``; bad input exits with status 2 and a one-line message."""

from __future__ import annotations

import argparse
import logging
import sys
from importlib import import_module
from typing import NoReturn

from noordstats import __version__
from noordstats.errors import UnavailableError, UserError

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
        return int(args.func(args) or 0)
    except user_errors() as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"noordstats: error: {message}", file=sys.stderr)
        return 2
    except UnavailableError as exc:
        print(f"noordstats: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("noordstats: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
