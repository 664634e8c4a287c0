"""The kinds of failure the command line tells apart. Every error class of the package derives
from one of them, so the CLI maps an exception to its exit status without knowing the modules."""

from __future__ import annotations


class UserError(ValueError):
    """Bad input (an argument, a declaration file, a data file): one line, exit status 2."""


class UsageError(UserError):
    """A command-line argument that is wrong."""


class UnavailableError(RuntimeError):
    """A service noordstats needs (CBS's API) did not deliver: one line, exit status 1."""
