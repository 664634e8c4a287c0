"""A rendered report page -> PDF, printed by headless Chromium (``chromium --print-to-pdf``).

The page carries its own print layout (``report.css`` and the header's ``@page`` rules): A4,
charts drawn by plotly.js as SVG (so they stay vectors in the PDF), no chart, card or table row
cut across a page break, the report's title and "page x of y" in every page's margin, and the
provenance footer at the end as on screen. Chromium lays the page out at the printed width
(:data:`PRINT_WIDTH_PX`), so the charts are drawn at the size they are printed.

Without a Chromium :func:`find_chromium` raises :class:`PdfUnavailableError` (bad setup: exit
status 2) naming the command that installs it, before anything is written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from noordstats import stopping
from noordstats.errors import UserError

CHROMIUM_ENV = "NOORDSTATS_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "apt-get install chromium"
#: A4 (210 mm) less the 14 mm side margins of the print layout, in CSS pixels (96 per inch)
PRINT_WIDTH_PX = 688
PRINT_TIMEOUT_SECONDS = 180
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
    "--virtual-time-budget=15000",
    f"--window-size={PRINT_WIDTH_PX},1100",
]


class PdfUnavailableError(UserError):
    """No Chromium to print PDFs with."""


class PdfError(RuntimeError):
    """Chromium ran but wrote no PDF."""


def find_chromium() -> str:
    """The Chromium to print with: ``$NOORDSTATS_CHROMIUM``, else the first of
    :data:`CHROMIUM_NAMES` on the PATH. Raises :class:`PdfUnavailableError`."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        if Path(named).is_file() or shutil.which(named):
            return shutil.which(named) or named
        raise PdfUnavailableError(
            f"--pdf needs Chromium, and {CHROMIUM_ENV}={named} is not a program; "
            f"install it with: {INSTALL_HINT}"
        )
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfUnavailableError(
        f"--pdf needs Chromium to print the reports, and none was found; "
        f"install it with: {INSTALL_HINT}"
    )


def print_pdf(page: Path, target: Path, chromium: str | None = None) -> Path:
    """Print the HTML ``page`` (with its ``plotly.min.js`` and ``report.css`` beside it) to
    ``target`` (written completely, then moved into place). Raises :class:`PdfError`."""
    program = chromium or find_chromium()
    target = Path(target)
    with tempfile.TemporaryDirectory(prefix="noordstats-chromium-") as profile:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        command = [
            program,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={tmp}",
            Path(page).resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=PRINT_TIMEOUT_SECONDS,
                env={**os.environ, "HOME": profile},
                preexec_fn=stopping.parent_death_hook(),  # a stopped run leaves no browser
            )
        except subprocess.TimeoutExpired:
            tmp.unlink(missing_ok=True)
            message = f"chromium did not print {page.name} in {PRINT_TIMEOUT_SECONDS} s"
            raise PdfError(message) from None
        if done.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            tmp.unlink(missing_ok=True)
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise PdfError(f"chromium printed no PDF of {page.name} ({last})")
        os.replace(tmp, target)
    return target
