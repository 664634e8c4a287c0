"""Imported first by the suite's fork server (see
:data:`noordstats.report.runner.pool.WORKER_PRELOAD`): ties the fork server to the ``noordstats``
run that started it, so it dies with the run even while it is still loading papermill (it would
otherwise only notice at its next request).

The run names itself in ``NOORDSTATS_FORKSERVER_PARENT`` before it starts the fork server;
imported in any other process (whose parent is not that run), this module does nothing.
"""

from __future__ import annotations

import os
import signal

from noordstats import stopping

if os.environ.get("NOORDSTATS_FORKSERVER_PARENT") == str(os.getppid()):
    stopping.die_with_parent(signal.SIGKILL, parent=os.getppid())
