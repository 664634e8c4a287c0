"""Build hook: copy the read-only resources the library needs into the package being built.

The repository keeps one copy of them where developers and analysts work: ``data/`` (embedded
snapshot, declarations, GeoJSON, provenance files) and ``notebooks/`` (report templates). When a
wheel is built (``python -m build``, ``pip wheel .``, or from the sdist, which carries both
folders), ``build_py`` copies them into ``noordstats/_resources/`` of the build tree, where
``noordstats.paths`` finds them once installed. An editable install copies nothing: it reads them
from the checkout. Everything else stays out of the wheel: raw captures (``data/raw/``), local
imports (``data/imports/``, ``data/tables.local.yaml`` and the tables imported from them).
All other metadata is in pyproject.toml.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
TARGET = "noordstats/_resources"
#: (folder in the repository, glob patterns of what the wheel ships from it)
RESOURCES = [
    ("data", ["*.yaml", "snapshot/*", "geo/*", "provenance/**/*"]),
    ("notebooks", ["*.ipynb"]),
]
EXCLUDED_NAMES = {"tables.local.yaml"}


def _imported_tables(snapshot: Path) -> set[str]:
    """Snapshot tables added with ``noordstats snapshot import`` (in a developer's checkout)."""
    imported = set()
    for meta_path in snapshot.glob("*.meta.json"):
        sources = json.loads(meta_path.read_text(encoding="utf-8")).get("sources") or []
        if any(source.get("root") == "imports" for source in sources):
            imported.add(meta_path.name.removesuffix(".meta.json"))
    return imported


def resource_files(root: Path = ROOT) -> list[Path]:
    """The files the wheel ships, relative to ``root`` (the checkout or the unpacked sdist)."""
    imported = _imported_tables(root / "data" / "snapshot")
    files = []
    for folder, patterns in RESOURCES:
        if not (root / folder).is_dir():
            raise FileNotFoundError(f"{root / folder} is missing: cannot build noordstats")
        for pattern in patterns:
            for path in sorted((root / folder).glob(pattern)):
                table = path.name.removesuffix(".meta.json").removesuffix(".parquet")
                if (
                    path.is_file()
                    and not path.name.startswith(".")
                    and path.name not in EXCLUDED_NAMES
                    and not (path.parent.name == "snapshot" and table in imported)
                ):
                    files.append(path.relative_to(root))
    return files


class build_py_with_resources(build_py):
    """``build_py`` that also copies :func:`resource_files` to ``noordstats/_resources/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads data/ and notebooks/ from the checkout
        target = Path(self.build_lib) / TARGET
        if target.exists():
            shutil.rmtree(target)  # nothing left over from an earlier build
        for rel in resource_files():
            destination = target / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / rel, destination)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [str(Path(self.build_lib) / TARGET / rel) for rel in resource_files()]


setup(cmdclass={"build_py": build_py_with_resources})
