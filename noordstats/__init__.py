"""noordstats: CBS statistics behind the claims of the Noord-Nederland position paper."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["load_table", "search_tables", "table_info", "__version__"]


def __getattr__(name: str) -> Any:
    """``noordstats.load_table``, ``search_tables`` and ``table_info`` without importing pandas
    for every ``import noordstats`` (the CLI's ``--help`` and argument errors stay fast)."""
    if name == "load_table":
        # deferred: `import noordstats` (and the CLI's --help) does not import pandas
        from noordstats.load import load_table

        return load_table
    if name in ("search_tables", "table_info"):
        # deferred: requests, cbsodata and pandas only when the catalog is asked
        from noordstats.ingest import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module 'noordstats' has no attribute {name!r}")
