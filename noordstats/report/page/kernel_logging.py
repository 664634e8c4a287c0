"""Inside a report's kernel: log records and Python warnings go to the process's stderr (the
run's, which the operator reads), never into a cell's output, which the page is made from.

The suite starts every kernel with :data:`KERNEL_STARTUP` (an IPython ``exec_lines`` line), so
this runs before the first cell. A table that came from an older copy is said by the page's own
banner from the structured origin records the notebook carries (see
:mod:`noordstats.report.page.freshness`); its :class:`~noordstats.load.StaleDataWarning` is
not shown again as a Python warning. ``NOORDSTATS_KERNEL_LOG_LEVEL`` (default ``WARNING``;
``noordstats reports --quiet`` sets ``ERROR``) is the lowest level that reaches stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

from noordstats.load import StaleDataWarning

LEVEL_ENV = "NOORDSTATS_KERNEL_LOG_LEVEL"
#: what the kernel runs before the first cell (``--IPKernelApp.exec_lines``)
KERNEL_STARTUP = (
    "import noordstats.report.page.kernel_logging as _noordstats_logging; "
    "_noordstats_logging.keep_logs_off_the_page(); del _noordstats_logging"
)


def keep_logs_off_the_page() -> None:
    """Route the ``noordstats`` logger, captured Python warnings and any other library's log
    records (Python's last-resort handler) to the process's own stderr."""
    level = os.environ.get(LEVEL_ENV, "WARNING").upper()
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(
        logging.Formatter("noordstats kernel: %(levelname)s: %(name)s: %(message)s")
    )
    for name in ("noordstats", "py.warnings"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level if level in logging.getLevelNamesMapping() else "WARNING")
    fallback = logging.StreamHandler(sys.__stderr__)
    fallback.setLevel(logging.WARNING)
    logging.lastResort = fallback
    logging.captureWarnings(True)
    warnings.filterwarnings("ignore", category=StaleDataWarning)
