"""Refresh every shipped CBS table over OData v3 and over OData v4 against the replay servers
(tests/replay_server.py, tests/replay_server_v4.py) and print, per service, the requests made
and the wall time: ``python -m benchmarks.refresh_apis`` from the checkout.

The servers run in this process (threads) on 127.0.0.1; each table is converted to its served
form before the clock starts, so the times are those of the requests, the paging and the
client's work. v3 pages 10,000 rows as CBS does; v4 is measured at 10,000 and at 100,000
observations a page (CBS publishes no v4 page size; about 100,000 cells are reported).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from noordstats import paths  # noqa: E402
from noordstats.declarations.tables import declarations  # noqa: E402
from noordstats.ingest import cbs_http, live  # noqa: E402
from tests.replay_server import ReplayServer, build_served_table  # noqa: E402
from tests.replay_server_v4 import V4ReplayServer, build_v4_table  # noqa: E402


def refresh(api: str, page_size: int) -> dict[str, float]:
    """Every live table once, with an empty cache: requests, rows, seconds."""
    tables = live.live_tables()
    policy = cbs_http.HttpPolicy(attempts=1)
    server_class = V4ReplayServer if api == "v4" else ReplayServer
    with tempfile.TemporaryDirectory() as cache, server_class(page_size=page_size) as server:
        os.environ["NOORDSTATS_CACHE_DIR"] = cache
        for table_id in tables:  # convert before the clock starts
            cbs_id = declarations()[table_id].live_id
            build_served_table(paths.SNAPSHOT_DIR, cbs_id)
            if api == "v4":
                build_v4_table(paths.SNAPSHOT_DIR, cbs_id)
        rows = requests_made = 0
        start = time.perf_counter()
        for table_id in tables:
            if api == "v4":
                frame, meta = live.fetch_table(table_id, api="v4", v4_url=server.v4_url,
                                               policy=policy)  # fmt: skip
            else:
                frame, meta = live.fetch_table(table_id, api="v3", catalog_url=server.url,
                                               policy=policy)  # fmt: skip
            rows += len(frame)
            requests_made += meta["requests"]
        seconds = time.perf_counter() - start
        return {
            "tables": len(tables),
            "requests": requests_made,
            "served": len(server.requests),
            "rows": rows,
            "seconds": seconds,
        }


def main() -> None:
    runs = [("v3", 10_000), ("v4", 10_000), ("v4", 100_000)]
    print("| service | page size | tables | requests | tidy rows | wall time |")
    print("|---|---|---|---|---|---|")
    for api, page_size in runs:
        found = refresh(api, page_size)
        assert found["requests"] == found["served"], found
        print(f"| OData {api} | {page_size:,} | {found['tables']} | {found['requests']} | "
              f"{found['rows']:,} | {found['seconds']:.1f} s |")  # fmt: skip


if __name__ == "__main__":
    main()
