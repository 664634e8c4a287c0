"""Importers: each CBS/DUO file shape -> the canonical tidy layout (see ``noordstats.schema``).

One module per ``SourceFormat`` (:func:`get_importer` maps them); ``common`` and
``json_records`` hold what they share. Every importer is
``import_source(decl, source, root) -> pandas.DataFrame``, where ``root`` is the folder
``source.path`` lies below (the raw captures, or ``data/imports/`` for a table added with
``noordstats snapshot import``). It returns the columns ``region_code, period_code, status,
<dim>_code, <dim>_name..., measure_code, value`` (region titles already resolved to codes, period
titles to codes); ``common.assemble`` adds the derived columns, applies the snapshot's region rule
and orders everything.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path

import pandas as pd

from noordstats.declarations.tables import SourceFile, TableDeclaration

Importer = Callable[[TableDeclaration, SourceFile, Path], pd.DataFrame]


def get_importer(fmt: str) -> Importer:
    """The importer function for a source format (see
    ``noordstats.declarations.tables.SourceFormat``)."""
    module = _IMPORTER_MODULES.get(fmt)
    if module is None:
        raise ValueError(
            f"no importer for format {fmt!r}; known: {', '.join(sorted(_IMPORTER_MODULES))}"
        )
    return import_module(f"noordstats.ingest.importers.{module}").import_source


#: source format -> module in this package that defines ``import_source``
_IMPORTER_MODULES: dict[str, str] = {
    "harvested_csv": "harvested",
    "odata_v3_csv": "odata_v3",
    "odata_v4_json": "odata_v4_json",
    "statline_untyped_csv": "statline_untyped_csv",
    "statline_wide_csv": "statline_wide_csv",
    "statweb_transposed_csv": "statweb_transposed_csv",
    "duo_json": "duo_json",
}
