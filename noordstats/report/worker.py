"""Render one report inside a suite worker process: execute the notebook with papermill, export
it to HTML, and summarise it for the index.

Every file goes to a temporary name (``.tmp-...``) in the output folder and is moved into place
with ``os.replace`` once complete, so a crash leaves at most a temporary file, never a
half-written report under its final name. A report that fails keeps its executed notebook (with
papermill's error cell at the top) and loses any older HTML page, so the index cannot present a
stale page as the current report.

An output folder that cannot take the files (disk full, read-only, no permission) is not a
failure of the report: :func:`render_report` raises :class:`OutputFolderError` instead, having
changed nothing under a final name, and the suite stops with the older reports as they were.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import tempfile
import time
import traceback
import uuid
import warnings
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from noordstats.i18n import DEFAULT_LANG
from noordstats.load import StaleDataWarning
from noordstats.report import export, pdf
from noordstats.report.summary import data_date, latest_period, read_summary, stale_text
from noordstats.storage import store

TMP_PREFIX = ".tmp-"
KERNEL_NAME = "python3"
CELL_TIMEOUT_SECONDS = 900
#: jupyter_client interrupts every kernel before shutting it down, and ipykernel logs that as
#: an ERROR on stderr; errors in cells reach the notebook through the protocol, not this log.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
#: what an OSError says when the output folder, not the report, is the problem
OUTPUT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
)


class OutputFolderError(OSError):
    """The output folder cannot be written (disk full, read-only, no permission)."""


def is_output_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS


@dataclass(frozen=True)
class ReportSpec:
    """One report to render: which notebook, with which parameters, under which file name."""

    name: str
    kind: str
    notebook: Path
    parameters: dict[str, Any]
    title: str
    table_ids: list[str] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.parameters.get("lang", DEFAULT_LANG)

    @property
    def html_name(self) -> str:
        return f"{self.name}.html"

    @property
    def pdf_name(self) -> str:
        return f"{self.name}.pdf"

    @property
    def notebook_name(self) -> str:
        return f"{self.name}.ipynb"


@cache
def ipc_kernel_manager() -> type:
    """A kernel manager that talks to its kernel over local IPC sockets instead of TCP ports
    (no open ports, and no 'running over TCP without encryption' warning in cron mail)."""
    # deferred: jupyter_client is needed only by a worker that renders
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _unique_socket_prefix(self) -> str:
            # jupyter_client's default ('kernel-ipc' in the working folder) is shared by every
            # kernel started there at once; concurrent reports need their own sockets.
            return str(Path(tempfile.gettempdir()) / f"noordstats-kernel-{uuid.uuid4().hex}")

    return IPCKernelManager


def warm_up() -> None:
    """Import what every report needs once per worker process. Older data used for a summary is
    logged once (``noordstats.load``), not also shown as a Python warning with a source line."""
    # deferred: imported once per worker process here, not by a run that renders nothing
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    warnings.filterwarnings("ignore", category=StaleDataWarning)


def render_report(
    spec: ReportSpec, folder: Path, self_contained: bool, pdf_too: bool = False
) -> dict[str, Any]:
    """Execute, export and summarise one report (and print it to PDF with ``pdf_too``); return
    its manifest entry. Raises :class:`OutputFolderError` (nothing changed under a final name)
    when the folder cannot take the files."""
    tmp_notebook = folder / f"{TMP_PREFIX}{spec.name}-{os.getpid()}.ipynb"
    try:
        return _render(spec, folder, self_contained, tmp_notebook, pdf_too)
    except OSError as exc:
        if not is_output_error(exc):
            raise
        raise OutputFolderError(exc.errno, exc.strerror, exc.filename) from None
    finally:
        with suppress(OSError):
            tmp_notebook.unlink(missing_ok=True)


def _render(
    spec: ReportSpec, folder: Path, self_contained: bool, tmp_notebook: Path, pdf_too: bool
) -> dict[str, Any]:
    # deferred: an unchanged re-run renders nothing and does not pay for papermill
    import nbformat
    import papermill

    started = time.perf_counter()
    entry: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "title": spec.title,
        "parameters": spec.parameters,
        "notebook": spec.notebook_name,
        "html": None,
        "pdf": None,
        "error": None,
        "summary": {},
    }
    try:
        executed = papermill.execute_notebook(
            str(spec.notebook),
            str(tmp_notebook),
            parameters=spec.parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            request_save_on_cell_execute=False,
            cwd=str(spec.notebook.parent),
            execution_timeout=CELL_TIMEOUT_SECONDS,
            kernel_manager_class=ipc_kernel_manager(),
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except papermill.PapermillExecutionError as exc:
        entry["error"] = f"{exc.ename}: {exc.evalue}".splitlines()[0]
    except Exception as exc:  # a kernel that died or never started: report it, keep going
        if is_output_error(exc):
            raise
        entry["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        entry["traceback"] = traceback.format_exc(limit=5)
    if entry["error"] is None:
        try:
            _publish(spec, executed, folder, self_contained)
            entry["html"] = spec.html_name
            entry.update(summary_fields(read_summary(executed)))
            entry["status"] = "rendered"
            entry["pdf"] = _publish_pdf(spec, folder, pdf_too)
        except Exception as exc:  # export failed: keep the executed notebook, report the error
            if is_output_error(exc):
                raise
            entry["error"] = f"export failed: {type(exc).__name__}: {exc}".splitlines()[0]
            entry["traceback"] = traceback.format_exc(limit=5)
            nbformat.write(executed, tmp_notebook)
    if entry["error"] is not None:
        if tmp_notebook.exists():
            _publish_notebook(
                nbformat.read(tmp_notebook, as_version=4), folder / spec.notebook_name
            )
        else:
            entry["notebook"] = None
        (folder / spec.html_name).unlink(missing_ok=True)
        (folder / spec.pdf_name).unlink(missing_ok=True)
        entry["status"] = "failed"
    entry["seconds"] = round(time.perf_counter() - started, 2)
    entry["rendered_at"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return entry


def _publish(spec: ReportSpec, executed: Any, folder: Path, self_contained: bool) -> None:
    executed.metadata["title"] = spec.title
    page = export.export_html(executed, self_contained=self_contained)
    notebook = _notebook_text(executed)
    # both files are written in full before either replaces its older version: a disk that
    # fills up half-way leaves the older page and notebook together, as they were
    with (
        store.atomic_path(folder / spec.html_name) as html_tmp,
        store.atomic_path(folder / spec.notebook_name) as notebook_tmp,
    ):
        html_tmp.write_text(page, encoding="utf-8")
        notebook_tmp.write_text(notebook, encoding="utf-8")


def _publish_pdf(spec: ReportSpec, folder: Path, pdf_too: bool) -> str | None:
    """Print the page to PDF; without ``pdf_too`` remove an older PDF (it would not match the
    page any more). Returns the PDF's file name, or None."""
    target = folder / spec.pdf_name
    if not pdf_too:
        target.unlink(missing_ok=True)
        return None
    pdf.print_pdf(folder / spec.html_name, target)
    return spec.pdf_name


def _publish_notebook(notebook: Any, target: Path) -> None:
    store.write_text_atomic(target, _notebook_text(notebook))


def _notebook_text(notebook: Any) -> str:
    """The executed notebook, compactly. A figure's ``text/html`` twin (the page's copy) is
    dropped: JupyterLab draws the plotly part, and the HTML report holds the other."""
    # deferred: nbformat imports jsonschema (~1 s), needed only once something is rendered
    import nbformat

    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY_MIMETYPE in data:
                data.pop("text/html", None)
    nbformat.validate(notebook)
    return json.dumps(notebook, ensure_ascii=False, separators=(",", ":")) + "\n"


def summary_fields(summary: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest fields a report's own summary gives: headline figures and verdicts, the
    tables it used with their origin and date, and what was not live."""
    if summary is None:
        return {"summary": {"error": "the notebook emitted no summary"}}
    return {
        "summary": {k: v for k, v in summary.items() if k in ("figures", "verdicts")},
        "tables": summary.get("tables", []),
        "data_date": data_date(summary),
        "latest_period": latest_period(summary),
        "stale": stale_text(summary),
    }
