"""Every path the project uses, in one place. Imports nothing from the project."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent

DATA_DIR = PROJECT_DIR / "data"
SNAPSHOT_DIR = DATA_DIR / "snapshot"
PROVENANCE_DIR = DATA_DIR / "provenance"
GEO_DIR = DATA_DIR / "geo"
COROP_GEOJSON_FILE = GEO_DIR / "coropgebied_2023.geojson"
TABLES_FILE = DATA_DIR / "tables.yaml"
LOCAL_TABLES_FILE = DATA_DIR / "tables.local.yaml"  # tables added by `noordstats snapshot import`
IMPORTS_DIR = DATA_DIR / "imports"  # the files those tables were imported from
REGIONS_FILE = SNAPSHOT_DIR / "regions.csv"
INDICATORS_FILE = DATA_DIR / "indicators.yaml"
SPECIALISATIONS_FILE = DATA_DIR / "specialisations.yaml"
CLAIMS_FILE = DATA_DIR / "claims.yaml"
RAW_DIR = DATA_DIR / "raw"  # the raw captures the snapshot is built from (gzip-compressed)
RAW_FILES_FILE = DATA_DIR / "raw_files.yaml"  # sha256 and size of every original raw file
PAPER_FILE = RAW_DIR / "paper" / "000_38f0a742647de4fa.txt"  # the position paper's text

NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
REPORTS_DIR = PROJECT_DIR / "reports"
REPORT_TEMPLATES_DIR = PACKAGE_DIR / "report" / "templates"
DOCS_DIR = PROJECT_DIR / "docs"


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
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("noordstats"))
