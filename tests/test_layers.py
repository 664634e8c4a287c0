"""The package's stages import only earlier stages, and a function-local import says why.

Stages in flow order: the foundation (paths, errors, signal handling, CBS code quirks),
declarations, storage, the region registry, ingest, load, analysis, report, then the command
line. A stage may import itself and any earlier stage; an import of a later stage is a layering
error. An import inside a function is allowed only with a ``# deferred: <reason>`` comment
(start-up time, an optional dependency) on its line or on the comment line(s) directly above its
block of imports.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "noordstats"
STAGES = [
    "paths", "errors", "i18n", "stopping", "cbs_codes", "declarations", "storage", "regions",
    "ingest", "load", "analysis", "report", "commands", "cli",
]  # fmt: skip
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def stage_of(module: str) -> int:
    """Index of a ``noordstats.<stage>...`` module in STAGES; the package root is -1."""
    parts = module.split(".")
    if len(parts) == 1:
        return -1
    if parts[1] not in STAGES:
        raise AssertionError(f"{module}: not in a known stage; add it to STAGES in flow order")
    return STAGES.index(parts[1])


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module == "noordstats":  # from noordstats import paths, regions
            return [f"noordstats.{a.name}" for a in node.names]
        return [node.module]
    return []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_a_stage_imports_only_earlier_stages(path):
    name = module_name(path)
    own = len(STAGES) if name == "noordstats" else stage_of(name)  # the public API: above all
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        for target in imported_modules(node):
            if target.split(".")[0] != "noordstats" or target == "noordstats":
                continue
            if target in ("noordstats.__version__",):
                continue
            assert stage_of(target) <= own, (
                f"{name} (stage {STAGES[own]}) imports {target} "
                f"(later stage {STAGES[stage_of(target)]}), line {node.lineno}"
            )


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_a_function_local_import_says_why(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    typing_only = {
        inner.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
        for inner in ast.walk(node)
        if hasattr(inner, "lineno")
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or node.col_offset == 0:
            continue
        if node.lineno in typing_only:  # for type checkers only, never run
            continue
        above = node.lineno - 1  # 1-based line number -> index of the line itself
        reasons = [lines[above]]
        index = above - 1
        while index >= 0 and (
            lines[index].strip().startswith(("import ", "from ", "#")) or not lines[index].strip()
        ):
            reasons.append(lines[index])
            index -= 1
        assert any("# deferred:" in line for line in reasons), (
            f"{path.name}:{node.lineno}: a function-local import needs a '# deferred: <reason>' "
            "comment (or a top-level import)"
        )


def test_the_public_api_resolves_without_importing_pandas():
    code = (
        "import sys, noordstats\n"
        "assert 'pandas' not in sys.modules, 'import noordstats imported pandas'\n"
        "missing = [n for n in noordstats.__all__ if not hasattr(noordstats, n)]\n"
        "assert not missing, missing\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["report", "--help"]])
def test_help_and_version_do_not_import_pandas(argv):
    """``noordstats --help`` and ``--version`` build every sub-command's parser without pandas."""
    code = (
        "import sys, contextlib, io\n"
        "from noordstats import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        f"        cli.main({argv!r})\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "assert 'noordstats' in out.getvalue(), out.getvalue()\n"
        "heavy = sorted(m for m in ('pandas', 'numpy', 'plotly') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_readme_map_matches_the_tree():
    """Every module (the importers and commands as folders) and subpackage of the package is
    named in the README's stage table, and every path named there exists."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### The package, stage by stage") :].split("\n## ")[0]
    named: set[str] = set()
    for row in table.splitlines():
        if not row.startswith("| `noordstats"):
            continue
        first = row.split("|")[1].split(",")[0].strip("` ")
        folder = first if first.endswith("/") else first.rsplit("/", 1)[0] + "/"
        for name in re.findall(r"`([\w/.]+(?:\.py|/))`", row):
            named.add(name if name.startswith("noordstats") else folder + name)
    for name in named:
        assert (PACKAGE.parent / name).exists(), f"README names {name}, which does not exist"
    top = {
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" and p.parent.name not in ("importers", "commands")
    }
    subpackages = {
        f"noordstats/{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()
    }
    assert top | subpackages <= named | {"noordstats/commands/"}, sorted(top | subpackages - named)
