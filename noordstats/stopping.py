"""Stopping a run: SIGINT (Ctrl-C) and SIGTERM end a command promptly and cleanly.

Inside :func:`stop_on_signals` either signal raises :class:`Interrupted` in the main thread (a
``KeyboardInterrupt``, so ``finally`` blocks and context managers clean up as they unwind), and
the command exits with ``128 + signal`` (130, 143). A few steps must not be cut in half (moving
a finished report's files into place together with its manifest entry): they run inside
:func:`deferred`, and a signal that arrives there takes effect when the step is done. Once the
exception has been raised, further signals are ignored while the command cleans up (which takes
at most a second or two).

:func:`die_with_parent` ties a child process to its parent (Linux ``PR_SET_PDEATHSIG``), so that
nothing a run started outlives it, however the run ends (``kill -9`` included).

Test hook: ``NOORDSTATS_TEST_PAUSE=PHASE:SECONDS`` makes :func:`pause_for_tests` print
``noordstats: test pause: PHASE`` on stderr and wait that long at the named phase (``planning``:
before the suite decides what to render; ``index``: while it writes the index, a step a signal
does not cut short), so the stop tests can send a signal at that moment; a stop request ends the
pause. The variable is read nowhere else.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
TEST_PAUSE_ENV = "NOORDSTATS_TEST_PAUSE"
PR_SET_PDEATHSIG = 1


class Interrupted(KeyboardInterrupt):
    """The run was asked to stop by a signal (SIGINT or SIGTERM)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class _State:
    active = False  # inside stop_on_signals
    depth = 0  # nesting of deferred()
    pending: int | None = None  # a signal that arrived inside deferred()
    raised = False  # Interrupted was raised: the run is cleaning up


def _handle(signum: int, frame: FrameType | None) -> None:
    if _State.raised or not _State.active:
        return
    if _State.depth:
        _State.pending = _State.pending or signum
        return
    _State.raised = True
    raise Interrupted(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` inside this block (main thread only;
    elsewhere the block changes nothing)."""
    if threading.current_thread() is not threading.main_thread() or _State.active:
        yield
        return
    previous = {s: signal.signal(s, _handle) for s in STOP_SIGNALS}
    _State.active, _State.depth, _State.pending, _State.raised = True, 0, None, False
    try:
        yield
    finally:
        _State.active, _State.pending, _State.raised = False, None, False
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """A step that a stop must not cut in half: a signal arriving inside takes effect (raises
    :class:`Interrupted`) when the step is done."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
    if not _State.depth and _State.pending is not None and not _State.raised:
        signum, _State.pending = _State.pending, None
        _State.raised = True
        raise Interrupted(signum)


@contextmanager
def signals_blocked() -> Iterator[None]:
    """Block SIGINT and SIGTERM in this thread (at the OS level, so also outside
    :func:`stop_on_signals`); a signal that arrives is delivered on exit."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # not on POSIX: nothing to hold back
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def stopping() -> bool:
    """Has a stop been requested (raised, or waiting at the end of a deferred step)?"""
    return _State.raised or _State.pending is not None


def die_with_parent(signum: int = signal.SIGKILL, parent: int | None = None) -> bool:
    """Have the kernel send ``signum`` to this process when its parent exits (Linux only; False
    elsewhere). ``parent``: the pid the caller expects as parent; if it has already gone, the
    process exits at once (the parent died before the request was made)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = _libc()
        if libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if parent is not None and os.getppid() != parent:
        os._exit(1)
    return True


def parent_death_hook(signum: int = signal.SIGKILL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: the child gets ``signum`` when this
    process ends (None where that is not available)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        _libc()  # loaded here: the child must not import anything between fork and exec
    except OSError:
        return None
    return functools.partial(die_with_parent, signum, os.getpid())


_LIBC = None


def _libc():  # loaded once, before any fork that calls die_with_parent in the child
    global _LIBC
    if _LIBC is None:
        # deferred: ctypes only where a process asks to die with its parent (Linux)
        import ctypes
        import ctypes.util

        _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _LIBC


def pause_for_tests(phase: str) -> None:
    """Tests only: pause at ``phase`` when ``NOORDSTATS_TEST_PAUSE`` names it (see above); never
    while the run is stopping."""
    setting = os.environ.get(TEST_PAUSE_ENV)
    if not setting or stopping():
        return
    name, _, seconds = setting.partition(":")
    if name != phase:
        return
    print(f"noordstats: test pause: {phase}", file=sys.stderr, flush=True)
    end = time.monotonic() + float(seconds or 5)
    while time.monotonic() < end and not stopping():  # a deferred stop ends the pause too
        time.sleep(0.05)
