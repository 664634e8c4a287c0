"""``noordstats init DIR``: a working folder for an analyst (the notebooks and the editable
declarations, to change and render from); ``noordstats notebooks``: where the packaged notebook
templates are (for ``papermill`` users)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from noordstats import __version__, paths
from noordstats.declarations.report_kinds import load_report_kinds
from noordstats.errors import UsageError

README = """\
# noordstats working folder

Made by `noordstats init` (noordstats {version}). Run inside this folder (or anywhere with
`--workdir {folder}`, or with `NOORDSTATS_HOME={folder}`), noordstats uses the files below
instead of the ones it ships with, and says so on stderr. Delete a file to go back to the shipped
one; `.noordstats` marks this folder as a working folder.

| file | what |
|---|---|
| `claims.yaml` | the position paper's claims: quote, what is tested, the rule for the verdict |
| `indicators.yaml` | the figures: which CBS table and measure, how each one is computed |
| `themes.yaml` | the themes: their sectors, indicators and headline figures |
| `notebooks/` | the report templates, one per kind of report ({kinds}) |

Change a claim or add an indicator, then:

```bash
noordstats claims                        # every claim with its figure and verdict
noordstats reports                       # every report, into ./reports (open reports/index.html)
noordstats reports --only claims         # just the claims scorecard
jupyter lab notebooks/                   # work interactively
papermill notebooks/claims.ipynb out.ipynb -p region PV20
```

A malformed entry is refused with one line naming the file, the entry and the key. A table you
downloaded from StatLine is added with `noordstats snapshot import PATH`; it is stored here
(`tables.local.yaml`, `imports/`, `snapshot/`) and its id can then be used in `indicators.yaml`.
"""


def _kinds_line() -> str:
    """The kinds of report with their notebooks, from data/report_kinds.yaml."""
    return "; ".join(
        f"`{k.notebook}`: {k.description or k.id}" for k in load_report_kinds().values()
    )


def register(sub: argparse._SubParsersAction) -> None:
    init = sub.add_parser(
        "init",
        help="make a working folder: the notebooks and the editable declarations, to change",
        description=(
            "Copy the notebooks and the editable declarations (claims, indicators, themes) into "
            "DIR, with a short README. Inside DIR, noordstats uses them over the packaged ones."
        ),
    )
    init.add_argument("folder", type=Path, metavar="DIR", help="the folder (made if absent)")
    init.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    init.set_defaults(func=run_init)

    notebooks = sub.add_parser(
        "notebooks", help="print the folder of the packaged notebook templates (for papermill)"
    )
    notebooks.set_defaults(func=run_notebooks)


def planned_files(folder: Path) -> dict[Path, Path | str]:
    """Every file ``init`` writes -> its source file (or its text)."""
    files: dict[Path, Path | str] = {
        folder / name: paths.DATA_DIR / name for name in paths.EDITABLE_DECLARATIONS
    }
    for notebook in sorted(paths.PACKAGED_NOTEBOOKS_DIR.glob("*.ipynb")):
        files[folder / "notebooks" / notebook.name] = notebook
    files[folder / "README.md"] = README.format(
        version=__version__, folder=folder, kinds=_kinds_line()
    )
    files[folder / paths.WORKDIR_MARKER] = (
        f"noordstats working folder (noordstats init, version {__version__})\n"
    )
    return files


def run_init(args: argparse.Namespace) -> int:
    # deferred: the store imports pandas (~0.7 s); `noordstats --help` does not need it
    from noordstats.storage import store

    folder = args.folder.absolute()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"init: {args.folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not args.force:
        raise UsageError(
            f"init: {args.folder} is not empty; give an empty or new folder, or --force to write "
            "the working folder's files into it (files of the same name are replaced)"
        )
    for target, source in planned_files(folder).items():
        with store.atomic_path(target) as tmp:
            if isinstance(source, Path):
                shutil.copyfile(source, tmp)
            else:
                tmp.write_text(source, encoding="utf-8")
    print(
        f"working folder {folder}: {', '.join(paths.EDITABLE_DECLARATIONS)}, notebooks/, "
        f"README.md; edit them, then run `noordstats reports` there"
    )
    return 0


def run_notebooks(args: argparse.Namespace) -> int:
    print(paths.PACKAGED_NOTEBOOKS_DIR)
    return 0
