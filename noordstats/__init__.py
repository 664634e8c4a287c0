"""noordstats: CBS statistics behind the claims of the Noord-Nederland position paper.

The public API is the names in ``__all__``; everything else is internal. The package's stages, in
flow order: ``declarations`` (the YAML files) -> ``storage`` (snapshot and cache on disk) ->
``ingest`` (importers, live CBS, snapshot build) -> ``load`` -> ``analysis`` (indicators, claims)
-> ``report`` (notebook blocks, charts, the suite) -> ``cli`` / ``commands``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

#: public name -> the module that defines it (imported on first use)
_PUBLIC = {
    "load_table": "noordstats.load",
    "evaluate_claims": "noordstats.analysis.claims",
    "headline_figures": "noordstats.analysis.indicators",
    "indicator_series": "noordstats.analysis.indicators",
    "region_profile": "noordstats.analysis.indicators",
    "sector_profile": "noordstats.analysis.indicators",
    "headline_texts": "noordstats.report.wording",
    "claim_texts": "noordstats.report.wording",
    "list_regions": "noordstats.regions",
    "region_name": "noordstats.regions",
    "theme_ids": "noordstats.declarations.themes",
    "search_tables": "noordstats.ingest.catalog",
    "table_info": "noordstats.ingest.catalog",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    """The public functions, imported when first used, so ``import noordstats`` (and the CLI's
    ``--help``) does not import pandas."""
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'noordstats' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
