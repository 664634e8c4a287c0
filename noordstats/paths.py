"""Every path the project uses, in one place. Imports nothing from the project.

Read-only resources (the embedded snapshot, the declarations, the GeoJSON, the provenance files
and the notebook templates) come from the installed package, ``noordstats/_resources/data`` and
``noordstats/_resources/notebooks`` (``setup.py`` copies them there from the repository's
``data/`` and ``notebooks/`` when a wheel is built), or, in a checkout (an editable install, or
``PYTHONPATH`` pointing at it), from the repository's own ``data/`` and ``notebooks/``.

Writable things never go into the package:

* a **working folder** (``noordstats init DIR``; used when ``--workdir DIR`` or
  ``NOORDSTATS_HOME`` names it, or when the current folder or one above it holds the marker file
  :data:`WORKDIR_MARKER`): its ``claims.yaml``, ``indicators.yaml``, ``themes.yaml``
  and ``notebooks/`` are used over the packaged ones, and tables imported with ``noordstats
  snapshot import`` go into it (``tables.local.yaml``, ``imports/``, ``snapshot/``);
* without one, imported tables go into the user data folder (``~/.local/share/noordstats``);
  in a checkout they go into the repository's ``data/`` as before (a developer's import sits
  beside the embedded snapshot, ready to be declared in ``tables.yaml``);
* the cache of live downloads is the user cache folder (:func:`cache_dir`);
* ``noordstats reports`` writes into ``./reports`` of the current folder by default.

The constants below are module attributes so that tests can point them elsewhere;
:func:`configure` computes the ones that depend on the working folder.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

PACKAGE_DIR = Path(str(files(__package__))).resolve()
PROJECT_DIR = PACKAGE_DIR.parent  # the repository in a checkout; site-packages when installed

#: where the resources are in an installed package (absent from a checkout)
PACKAGED_RESOURCES_DIR = PACKAGE_DIR / "_resources"
FROM_CHECKOUT = not PACKAGED_RESOURCES_DIR.is_dir()
RESOURCES_DIR = PROJECT_DIR if FROM_CHECKOUT else PACKAGED_RESOURCES_DIR

DATA_DIR = RESOURCES_DIR / "data"
SNAPSHOT_DIR = DATA_DIR / "snapshot"
PROVENANCE_DIR = DATA_DIR / "provenance"
GEO_DIR = DATA_DIR / "geo"
COROP_GEOJSON_FILE = GEO_DIR / "coropgebied_2023.geojson"
TABLES_FILE = DATA_DIR / "tables.yaml"
REGIONS_FILE = SNAPSHOT_DIR / "regions.csv"
#: boundary changes of LD/PV/CR regions as CBS's code list describes them (next to REGIONS_FILE)
BOUNDARY_CHANGES_NAME = "region_boundary_changes.csv"
RAW_DIR = DATA_DIR / "raw"  # the raw captures the snapshot is built from (gzip-compressed)
RAW_FILES_FILE = DATA_DIR / "raw_files.yaml"  # sha256 and size of every original raw file
TABLE_STRUCTURE_FILE = DATA_DIR / "table_structure.yaml"  # each CBS table's reviewed structure
PAPER_FILE = RAW_DIR / "paper" / "000_38f0a742647de4fa.txt"  # the position paper's text
#: every change of a claim verdict for the North, dated, with its reason (docs/claims.md)
VERDICT_HISTORY_FILE = DATA_DIR / "verdict_history.yaml"
#: the kinds of report: notebook, tables, title, order in the index
REPORT_KINDS_FILE = DATA_DIR / "report_kinds.yaml"
CLAIMS_DOC_FILE = PROJECT_DIR / "docs" / "claims.md"

PACKAGED_NOTEBOOKS_DIR = RESOURCES_DIR / "notebooks"
REPORT_TEMPLATES_DIR = PACKAGE_DIR / "report" / "templates"
#: every CSS rule of the pages and the index
REPORT_CSS_FILE = REPORT_TEMPLATES_DIR / "noordstats_report" / "report.css"
DOCS_DIR = PROJECT_DIR / "docs"

HOME_ENV = "NOORDSTATS_HOME"
WORKDIR_MARKER = ".noordstats"
#: the declarations a working folder may hold instead of the packaged ones
EDITABLE_DECLARATIONS = ("claims.yaml", "indicators.yaml", "themes.yaml")

#: a working folder's strings over (or beside: another language) the packaged catalogue's
CATALOGUE_NAME = "catalogue.yaml"

# set by configure()
CATALOGUE_OVERLAY_FILE: Path | None = None
WORKDIR: Path | None = None  # the working folder in use, if any
HOME_DIR: Path = DATA_DIR  # where imported tables go
LOCAL_TABLES_FILE: Path = DATA_DIR / "tables.local.yaml"  # tables added by `snapshot import`
IMPORTS_DIR: Path = DATA_DIR / "imports"  # the files those tables were imported from
LOCAL_SNAPSHOT_DIR: Path | None = None  # their parquet + meta (None: SNAPSHOT_DIR itself)
INDICATORS_FILE: Path = DATA_DIR / "indicators.yaml"
THEMES_FILE: Path = DATA_DIR / "themes.yaml"
CLAIMS_FILE: Path = DATA_DIR / "claims.yaml"
NOTEBOOKS_DIR: Path = PACKAGED_NOTEBOOKS_DIR
REPORTS_DIR: Path = Path("reports")


def find_workdir(start: Path | None = None) -> Path | None:
    """The working folder: ``$NOORDSTATS_HOME`` if set, else the nearest folder from ``start``
    (the current folder) upwards that holds :data:`WORKDIR_MARKER`."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser().absolute()
    try:
        here = (start or Path.cwd()).absolute()
    except OSError:  # the current folder was removed
        return None
    for folder in (here, *here.parents):
        if (folder / WORKDIR_MARKER).is_file():
            return folder
    return None


def configure(workdir: Path | None = None) -> None:
    """(Re)compute the paths that depend on the working folder (``workdir``, else
    :func:`find_workdir`). A working folder in use is exported as ``$NOORDSTATS_HOME``, so every
    process started from here (suite workers, notebook kernels) uses the same one."""
    global WORKDIR, HOME_DIR, LOCAL_TABLES_FILE, IMPORTS_DIR, LOCAL_SNAPSHOT_DIR
    global INDICATORS_FILE, THEMES_FILE, CLAIMS_FILE, NOTEBOOKS_DIR, REPORTS_DIR

    WORKDIR = Path(workdir).absolute() if workdir is not None else find_workdir()
    if WORKDIR is not None:
        os.environ[HOME_ENV] = str(WORKDIR)
        HOME_DIR = WORKDIR
    elif FROM_CHECKOUT:
        HOME_DIR = DATA_DIR
    else:
        HOME_DIR = Path(user_data_dir("noordstats"))
    LOCAL_TABLES_FILE = HOME_DIR / "tables.local.yaml"
    IMPORTS_DIR = HOME_DIR / "imports"
    LOCAL_SNAPSHOT_DIR = None if HOME_DIR == DATA_DIR else HOME_DIR / "snapshot"
    INDICATORS_FILE, THEMES_FILE, CLAIMS_FILE = (
        _declaration(name) for name in ("indicators.yaml", "themes.yaml", "claims.yaml")
    )
    global CATALOGUE_OVERLAY_FILE
    own_catalogue = WORKDIR / CATALOGUE_NAME if WORKDIR is not None else None
    CATALOGUE_OVERLAY_FILE = own_catalogue if own_catalogue and own_catalogue.is_file() else None
    own_notebooks = WORKDIR / "notebooks" if WORKDIR is not None else None
    NOTEBOOKS_DIR = (
        own_notebooks if own_notebooks and own_notebooks.is_dir() else (PACKAGED_NOTEBOOKS_DIR)
    )
    try:
        REPORTS_DIR = Path.cwd() / "reports"
    except OSError:
        REPORTS_DIR = Path("reports")


def _declaration(name: str) -> Path:
    own = WORKDIR / name if WORKDIR is not None else None
    return own if own is not None and own.is_file() else DATA_DIR / name


def workdir_overrides() -> list[str]:
    """What the working folder in use supplies instead of the packaged resources."""
    if WORKDIR is None:
        return []
    own = [name for name in EDITABLE_DECLARATIONS if (WORKDIR / name).is_file()]
    if LOCAL_TABLES_FILE.is_file():
        own.append(LOCAL_TABLES_FILE.name)
    if CATALOGUE_OVERLAY_FILE is not None:
        own.append(CATALOGUE_NAME)
    if NOTEBOOKS_DIR == WORKDIR / "notebooks":
        own.append("notebooks/")
    return own


def local_snapshot_dir() -> Path:
    """Where ``noordstats snapshot import`` writes a table's parquet and metadata."""
    return LOCAL_SNAPSHOT_DIR or SNAPSHOT_DIR


def raw_data_dir() -> Path:
    """Folder holding the raw captures the importers read (`data/raw` by default;
    `NOORDSTATS_RAW_DIR` overrides)."""
    override = os.environ.get("NOORDSTATS_RAW_DIR")
    return Path(override) if override else RAW_DIR


def cache_dir() -> Path:
    """User cache for live CBS downloads (`NOORDSTATS_CACHE_DIR` overrides)."""
    override = os.environ.get("NOORDSTATS_CACHE_DIR")
    if override:
        return Path(override)
    return Path(user_cache_dir("noordstats"))


configure()
