"""One run at a time per output folder: an exclusive ``fcntl.flock`` on
``<folder>/.noordstats-reports.lock``. A second run waits (and says so on stderr) until the
first has finished, so two scheduled runs never interleave their files. The lock file holds the
holder's pid and is never deleted (deleting lock files races); the kernel drops the lock when
its holder exits, however it exits.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK_NAME = ".noordstats-reports.lock"


class ReportLockTimeout(RuntimeError):
    """Another run kept the output folder locked for longer than we were willing to wait."""


@contextmanager
def output_lock(folder: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the output folder's lock; wait (saying so on stderr) while another run holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            print(
                f"noordstats: another run (pid {holder}) is writing to {folder}; waiting for it",
                file=sys.stderr,
            )
            _wait_for_lock(handle, folder, timeout)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_for_lock(handle: Any, folder: Path, timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if deadline is not None and time.monotonic() > deadline:
                raise ReportLockTimeout(
                    f"{folder} is still locked by another run after {timeout:.0f} s"
                ) from None
            time.sleep(0.2)
