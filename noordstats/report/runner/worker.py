"""Render one report inside a suite worker process: execute the notebook with papermill, export
it to HTML, and summarise it for the index.

A worker only *stages* a report: every file goes to a temporary name (``.tmp-...``) in the
output folder, written in full. :func:`publish` then moves the staged files into place with
``os.replace``; the suite calls it in the run that holds the output folder's lock, never in a
worker, so a worker that outlives its run (or is stopped half-way) can leave at most temporary
files, which the next run removes, never a page under its final name. A report that fails keeps
its executed notebook (with papermill's error cell at the top) and loses any older HTML page, so
the index cannot present a stale page as the current report.

An output folder that cannot take the files (disk full, read-only, no permission) is not a
failure of the report: :func:`stage_report` and :func:`publish` raise
:class:`OutputFolderError` instead, having changed nothing under a final name, and the suite
stops with the older reports as they were.

Kernels are started with a parent-death signal and tracked, so :func:`stop_kernels` can end
them (their whole process group) when the worker must stop at once.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import signal
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

from noordstats import stopping
from noordstats.i18n import DEFAULT_LANG
from noordstats.load import StaleDataWarning
from noordstats.report.page.kernel_logging import KERNEL_STARTUP
from noordstats.report.page.summary import (
    OUTPUT_METADATA_KEY,
    data_date,
    latest_period,
    output_marks,
    read_summary,
    stale_text,
)
from noordstats.report.runner import export, pdf

TMP_PREFIX = ".tmp-"
KERNEL_NAME = "python3"
CELL_TIMEOUT_SECONDS = 900
#: jupyter_client interrupts every kernel before shutting it down, and ipykernel logs that as
#: an ERROR on stderr; errors in cells reach the notebook through the protocol, not this log.
#: What the kernel's process writes to its stderr stays there (no ``capture_fd_output``), and
#: log records and warnings go there too (:mod:`noordstats.report.page.kernel_logging`), not into
#: the outputs a page is made from.
KERNEL_ARGUMENTS = [
    "--IPKernelApp.log_level=CRITICAL",
    "--IPKernelApp.capture_fd_output=False",
    f"--IPKernelApp.exec_lines={KERNEL_STARTUP}",
]
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
    #: the title's parts as fields: what the report is (a theme's title, "Claims") and where
    label: str = ""
    region_name: str = ""

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


#: kernels this process started and has not shut down yet (what :func:`stop_kernels` ends)
_RUNNING_KERNELS: set[Any] = set()


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

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            # the kernel dies with this process, however it ends (kill -9 included)
            kw.setdefault("preexec_fn", stopping.parent_death_hook(signal.SIGKILL))
            await super()._async_launch_kernel(kernel_cmd, **kw)
            _RUNNING_KERNELS.add(self)

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            _RUNNING_KERNELS.discard(self)
            await super()._async_cleanup_resources(restart)

    return IPCKernelManager


def stop_kernels() -> None:
    """Kill every kernel this process started (its whole process group) and remove its
    connection files. For a worker that must end now; safe from any thread."""
    for manager in list(_RUNNING_KERNELS):
        provisioner = getattr(manager, "provisioner", None)
        group = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)
        if group:
            with suppress(OSError):
                os.killpg(group, signal.SIGKILL)
        with suppress(Exception):
            manager.cleanup_connection_file()
            manager.cleanup_ipc_files()
        _RUNNING_KERNELS.discard(manager)


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
    """Stage and publish one report (for a caller that holds the folder's lock itself)."""
    return publish(folder, stage_report(spec, folder, self_contained, pdf_too))


def stage_report(
    spec: ReportSpec, folder: Path, self_contained: bool, pdf_too: bool = False
) -> dict[str, Any]:
    """Execute, export and summarise one report (and print it to PDF with ``pdf_too``) into
    temporary files in ``folder``; return its manifest entry, whose ``staged`` names those files
    for :func:`publish`. Raises :class:`OutputFolderError` (nothing staged) when the folder
    cannot take the files."""
    tmp_notebook = folder / f"{TMP_PREFIX}{spec.name}-{os.getpid()}.ipynb"
    staged: dict[str, str] = {}
    try:
        return _render(spec, folder, self_contained, tmp_notebook, staged, pdf_too)
    except BaseException as exc:
        for name in staged.values():
            with suppress(OSError):
                (folder / name).unlink(missing_ok=True)
        if not is_output_error(exc):
            raise
        raise OutputFolderError(exc.errno, exc.strerror, exc.filename) from None
    finally:
        with suppress(OSError):
            tmp_notebook.unlink(missing_ok=True)


def _render(
    spec: ReportSpec,
    folder: Path,
    self_contained: bool,
    tmp_notebook: Path,
    staged: dict,
    pdf_too: bool,
) -> dict[str, Any]:
    # deferred: an unchanged re-run renders nothing and does not pay for papermill
    import nbformat
    import papermill

    started = time.perf_counter()
    entry: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "title": spec.title,
        "label": spec.label,
        "region_name": spec.region_name,
        "parameters": spec.parameters,
        "notebook": spec.notebook_name,
        "html": None,
        "pdf": None,
        "error": None,
        "summary": {},
        "staged": staged,
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
            _stage_files(spec, executed, folder, self_contained, staged)
            entry["html"] = spec.html_name
            entry.update(summary_fields(read_summary(executed)))
            entry["status"] = "rendered"
            if pdf_too:
                staged["pdf"] = _stage_pdf(folder, spec, staged["html"])
                entry["pdf"] = spec.pdf_name
        except Exception as exc:  # export failed: keep the executed notebook, report the error
            if is_output_error(exc):
                raise
            entry["error"] = f"export failed: {type(exc).__name__}: {exc}".splitlines()[0]
            entry["traceback"] = traceback.format_exc(limit=5)
            nbformat.write(executed, tmp_notebook)
    if entry["error"] is not None:
        for name in staged.values():
            (folder / name).unlink(missing_ok=True)
        staged.clear()
        if tmp_notebook.exists():
            notebook = _notebook_text(nbformat.read(tmp_notebook, as_version=4))
            staged["notebook"] = _stage_text(folder, spec, "ipynb", notebook)
        else:
            entry["notebook"] = None
        entry["status"] = "failed"
    entry["seconds"] = round(time.perf_counter() - started, 2)
    entry["rendered_at"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return entry


def _stage_files(
    spec: ReportSpec, executed: Any, folder: Path, self_contained: bool, staged: dict
) -> None:
    executed.metadata["title"] = spec.title
    page = export.export_html(executed, self_contained=self_contained)
    notebook = _notebook_text(executed)
    # both files are written in full before either replaces its older version: a disk that
    # fills up half-way leaves the older page and notebook together, as they were
    staged["html"] = _stage_text(folder, spec, "html", page)
    staged["notebook"] = _stage_text(folder, spec, "ipynb", notebook)


def _stage_pdf(folder: Path, spec: ReportSpec, staged_html: str) -> str:
    """Print the staged page to a staged PDF (headless Chromium); its name."""
    name = f"{TMP_PREFIX}{spec.name}-{os.getpid()}.staged.pdf"
    pdf.print_pdf(folder / staged_html, folder / name)
    return name


def _stage_text(folder: Path, spec: ReportSpec, suffix: str, text: str) -> str:
    """Write ``text`` in full (synced to disk) to a temporary file in ``folder``; its name."""
    name = f"{TMP_PREFIX}{spec.name}-{os.getpid()}.staged.{suffix}"
    with open(folder / name, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(folder / name, 0o644)
    return name


def publish(folder: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Move a staged report's files into place (its page, notebook and PDF, or a failed report's
    executed notebook, whose older page and PDF are removed; a page rendered without a PDF
    removes an older PDF, which would no longer match it); return the entry without
    ``staged``. Only the run that holds the folder's lock calls this. Raises
    :class:`OutputFolderError`."""
    entry = dict(entry)
    staged = entry.pop("staged", None) or {}
    name = entry["name"]
    try:
        if entry["status"] == "rendered":
            os.replace(folder / staged["html"], folder / f"{name}.html")
            os.replace(folder / staged["notebook"], folder / f"{name}.ipynb")
            if "pdf" in staged:
                os.replace(folder / staged["pdf"], folder / f"{name}.pdf")
            else:
                (folder / f"{name}.pdf").unlink(missing_ok=True)
        else:
            if "notebook" in staged:
                os.replace(folder / staged["notebook"], folder / f"{name}.ipynb")
            else:  # nothing ran to the end: no older notebook stays behind either
                (folder / f"{name}.ipynb").unlink(missing_ok=True)
            (folder / f"{name}.html").unlink(missing_ok=True)
            (folder / f"{name}.pdf").unlink(missing_ok=True)
    except OSError as exc:
        if not is_output_error(exc):
            raise
        raise OutputFolderError(exc.errno, exc.strerror, exc.filename) from None
    return entry


def _notebook_text(notebook: Any) -> str:
    """The executed notebook, compactly. A figure's ``text/html`` twin (the page's copy) is
    dropped: JupyterLab draws the plotly part, and the HTML report holds the other. So are the
    stylesheet a notebook shows for JupyterLab (the page links report.css), the plain-text twin
    of what a notebook-only cell shows as HTML (a frame for analysts) and of Markdown a cell
    displays (the same text), and what a page marked
    page-only: the CSV download link of a chart or a table (a ``data:`` URI holding its rows
    again, which the analyst has as a frame), where the notebook keeps the chart's footnote or
    the table alone. A page exported again from this notebook (``nbconvert --to noordstats``)
    therefore draws every chart and table, with its footnote, but has no CSV links."""
    # deferred: nbformat imports jsonschema (~1 s), needed only once something is rendered
    import nbformat

    for cell in notebook.cells:
        if "outputs" in cell:
            kept = (_notebook_output(o) for o in cell["outputs"])
            cell["outputs"] = [o for o in kept if o is not None]
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY_MIMETYPE in data:
                data.pop("text/html", None)
            if "text/html" in data and export.NOTEBOOK_ONLY_TAG in cell.metadata.get("tags", []):
                data.pop("text/plain", None)  # a frame shown for analysts: Lab draws its HTML
            if "text/markdown" in data and data.get("text/plain") == data["text/markdown"]:
                data.pop("text/plain")  # the same text twice: Lab renders the Markdown
    nbformat.validate(notebook)
    return json.dumps(notebook, ensure_ascii=False, separators=(",", ":")) + "\n"


def _notebook_output(output: Any) -> Any:
    """``output`` as the kept notebook holds it, or None when it keeps none of it: the
    stylesheet is left out, and a page-only output too, or replaced by the HTML its mark gives
    for the notebook (the mark dropped)."""
    marks = output_marks(output)
    if marks.get("stylesheet") or (marks.get("page_only") and not marks.get("notebook_html")):
        return None
    if marks.get("page_only"):
        output["data"] = {"text/html": marks["notebook_html"]}
        output["metadata"] = {
            k: v for k, v in output["metadata"].items() if k != OUTPUT_METADATA_KEY
        }
    return output


def summary_fields(summary: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest fields a report's own summary gives: headline figures, verdicts and the
    distinctiveness count (claims report), the tables it used with their origin and date, and
    what was not live."""
    if summary is None:
        return {"summary": {"error": "the notebook emitted no summary"}}
    return {
        "summary": {
            k: v for k, v in summary.items() if k in ("figures", "verdicts", "distinctive")
        },
        "tables": summary.get("tables", []),
        "data_date": data_date(summary),
        "latest_period": latest_period(summary),
        "stale": stale_text(summary),
    }
