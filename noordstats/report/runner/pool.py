"""The suite's worker processes: render reports in parallel, and make sure none outlives the run.

Workers are forked from a multiprocessing fork server that has papermill and nbconvert loaded
once. Each worker renders one report at a time into temporary files in the output folder and
sends back its manifest entry; moving the files into place is the run's job (only the process
that holds the folder's lock publishes, see :mod:`noordstats.report.runner.suite`).

How the processes are tied to the run (the ``noordstats`` process):

- every worker reads a *lifeline* pipe whose only writing end the run holds. When the run closes
  it, or dies in any way (``kill -9`` included), a thread in the worker sees end-of-file, kills
  the worker's kernels (their whole process group) and ends the worker at once;
- a worker's kernel gets ``PR_SET_PDEATHSIG`` = SIGKILL: it dies with its worker, and ipykernel
  also polls its parent pid;
- the fork server gets ``PR_SET_PDEATHSIG`` = SIGKILL as it loads (:mod:`.forkserver_tether`);
- Ctrl-C at a terminal reaches the run only (workers ignore SIGINT); the run stops the workers.

A report that runs longer than ``timeout`` seconds is stopped the same way (its worker is
replaced) and marked failed; a worker that dies mid-report only fails that report.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from noordstats import stopping
from noordstats.report.runner.worker import (
    OutputFolderError,
    ReportSpec,
    stage_report,
    stop_kernels,
    warm_up,
)

#: exit status of a worker stopped through its lifeline
STOPPED = 143
#: how long a stopped worker gets to end by itself before it is killed
STOP_GRACE_SECONDS = 1.0
FORKSERVER_PARENT_ENV = "NOORDSTATS_FORKSERVER_PARENT"
#: imported once in the fork server, so every worker starts with them loaded (the tether first)
WORKER_PRELOAD = [
    "noordstats.report.runner.forkserver_tether",
    "papermill",
    "nbconvert",
    "noordstats.analysis.indicators",
    "noordstats.analysis.claims",
    "noordstats.report.runner.export",
    "noordstats.report.runner.worker",
]


# ----------------------------------------------------------------------------- in the worker


def worker_main(tasks: Connection, lifeline: Connection) -> None:
    """A worker process: render the reports the run sends until it sends None or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it stops us
    signal.signal(signal.SIGTERM, _stop_now)
    stopping.die_with_parent(signal.SIGTERM)
    threading.Thread(target=_watch, args=(lifeline,), name="lifeline", daemon=True).start()
    warm_up()
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        spec, folder, self_contained, pdf = task
        try:
            reply: tuple[str, Any] = (
                "done",
                stage_report(spec, folder, self_contained, pdf),
            )
        except OutputFolderError as exc:
            reply = ("folder error", exc)
        except BaseException as exc:  # noqa: BLE001 - reported as this report's failure
            reply = ("crashed", f"{type(exc).__name__}: {exc}".splitlines()[0])
        tasks.send(reply)


def _watch(lifeline: Connection) -> None:
    """End the worker, kernels first, as soon as the run closes the lifeline or is gone."""
    try:
        lifeline.recv_bytes()
    except (EOFError, OSError):
        pass
    _stop_now(signal.SIGTERM, None)


def _stop_now(signum: int, frame: Any) -> None:
    try:
        stop_kernels()
    finally:
        os._exit(STOPPED)


# ------------------------------------------------------------------------------- in the run


class _Worker:
    def __init__(self, context: Any, number: int):
        tasks, tasks_child = context.Pipe()
        lifeline_child, lifeline = context.Pipe(duplex=False)
        self.process = context.Process(
            target=worker_main,
            args=(tasks_child, lifeline_child),
            name=f"noordstats-worker-{number}",
            daemon=True,
        )
        try:
            self.process.start()
        finally:
            tasks_child.close()
            lifeline_child.close()
        self.tasks: Connection = tasks
        self.lifeline: Connection = lifeline
        self.spec: ReportSpec | None = None
        self.started = 0.0

    def assign(self, spec: ReportSpec, folder: Path, self_contained: bool, pdf: bool) -> None:
        self.spec, self.started = spec, time.monotonic()
        self.tasks.send((spec, folder, self_contained, pdf))

    def stop(self) -> None:
        """Close the lifeline: the worker kills its kernels and ends."""
        for connection in (self.lifeline, self.tasks):
            connection.close()


def stop_workers(workers: list[_Worker], grace: float = STOP_GRACE_SECONDS) -> None:
    """End every worker (kernels first) within ``grace`` seconds; kill what is left after."""
    for worker in workers:
        worker.stop()
    deadline = time.monotonic() + grace
    alive = [w for w in workers if w.process.is_alive()]
    while alive and time.monotonic() < deadline:
        wait([w.process.sentinel for w in alive], timeout=deadline - time.monotonic())
        alive = [w for w in alive if w.process.is_alive()]
    for worker in alive:
        worker.process.kill()  # its kernels die with it (parent-death signal)
    for worker in workers:
        worker.process.join()


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    os.environ[FORKSERVER_PARENT_ENV] = str(os.getpid())
    context.set_forkserver_preload(WORKER_PRELOAD)
    return context


def render_in_workers(
    specs: list[ReportSpec],
    folder: Path,
    jobs: int,
    self_contained: bool,
    timeout: float | None = None,
    pdf: bool = False,
) -> Iterator[tuple[ReportSpec, dict[str, Any]]]:
    """Render ``specs`` in ``jobs`` worker processes (each also printed to PDF with ``pdf``),
    yielding each report's entry (files staged, not yet published) as it finishes. Raises
    :class:`OutputFolderError` when a worker cannot write into ``folder``. However the generator
    ends (exhausted, closed, an exception, a stop signal), every worker and kernel has ended when
    it returns."""
    if not specs:
        return
    context = _context()
    pending = deque(specs)
    workers: list[_Worker] = []
    number = 0
    try:
        while pending or any(w.spec for w in workers):
            for worker in workers:
                if worker.spec is None and pending:
                    worker.assign(pending.popleft(), folder, self_contained, pdf)
            while pending and len(workers) < jobs:
                number += 1
                workers.append(_Worker(context, number))
                workers[-1].assign(pending.popleft(), folder, self_contained, pdf)
            busy = [w for w in workers if w.spec is not None]
            now = time.monotonic()
            wait_for = None
            if timeout is not None:
                wait_for = max(0.0, min(w.started + timeout for w in busy) - now)
            wait([c for w in busy for c in (w.tasks, w.process.sentinel)], timeout=wait_for)
            for worker in busy:
                finished = _collect(worker, timeout)
                if finished is None:
                    continue
                spec, entry, replace = finished
                if replace:
                    stop_workers([worker])
                    workers.remove(worker)
                yield spec, entry
    finally:
        stop_workers(workers)


def _collect(
    worker: _Worker, timeout: float | None
) -> tuple[ReportSpec, dict[str, Any], bool] | None:
    """The busy worker's report if it is done: (spec, entry, whether to replace the worker)."""
    spec = worker.spec
    assert spec is not None
    if worker.tasks.poll():
        try:
            kind, payload = worker.tasks.recv()
        except (EOFError, OSError) as exc:
            worker.spec = None
            return spec, failed_entry(spec, f"worker crashed: {exc or type(exc).__name__}"), True
        worker.spec = None
        if kind == "folder error":
            raise payload
        if kind == "crashed":
            return spec, failed_entry(spec, f"worker crashed: {payload}"), True
        return spec, payload, False
    if not worker.process.is_alive():
        worker.spec = None
        code = worker.process.exitcode
        return spec, failed_entry(spec, f"worker crashed: exit status {code}"), True
    if timeout is not None and time.monotonic() - worker.started >= timeout:
        worker.spec = None
        return spec, failed_entry(spec, f"timed out after {timeout:g} s"), True
    return None


def failed_entry(spec: ReportSpec, error: str) -> dict[str, Any]:
    """The manifest entry of a report that produced nothing (its worker died or ran out of
    time): no page, no notebook."""
    return {
        "name": spec.name,
        "kind": spec.kind,
        "title": spec.title,
        "parameters": spec.parameters,
        "notebook": None,
        "html": None,
        "status": "failed",
        "error": error,
        "summary": {},
        "staged": {},
    }
