"""The package as a new user gets it: ``python -m build`` (sdist, then the wheel from the sdist),
the wheel installed into a fresh virtual environment, and everything run from an empty folder
outside the repository: ``load_table``, ``noordstats reports``, ``papermill`` on a packaged
notebook, ``noordstats init`` and a render from the working folder with an edited claim,
``snapshot import`` into the user data folder. Nothing may be written into site-packages.

To stay fast and work offline, the wheel is built without build isolation (the test extras hold
``build`` and ``setuptools>=77``) and installed with ``--no-deps --no-index``; the fresh
environment reaches the dependencies through a ``.pth`` file naming this interpreter's
site-packages (plain paths: their ``.pth`` files, such as an editable install of this checkout,
are not run), and ``JUPYTER_PATH`` for nbconvert's templates.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from noordstats import __version__, paths
from tests.reliability_env import describe_difference, tree_digest
from tests.test_browser import CHARTS_JS, count_charts, open_page

pytestmark = pytest.mark.slow

WHEEL = f"noordstats-{__version__}-py3-none-any.whl"
SDIST = f"noordstats-{__version__}.tar.gz"
EDITED = "EDITED in the analyst's working folder."


def run(args: list, cwd: Path, env: dict[str, str], timeout: float = 300):
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    return result


def check(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


def clean_env() -> dict[str, str]:
    """This environment without PYTHONPATH (which would put the checkout on the path)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def fresh_venv(folder: Path) -> tuple[Path, Path]:
    """A new virtual environment (no pip, no packages): its python and its site-packages."""
    check(run([sys.executable, "-m", "venv", "--without-pip", folder], folder.parent, clean_env()))
    python = folder / "bin" / "python"
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return python, Path(check(run([python, "-c", code], folder.parent, clean_env())).stdout.strip())


def pip_install(python: Path, *args) -> list:
    """This interpreter's pip installing into ``python``'s environment, dependencies left out;
    ``--ignore-installed``: never uninstall a noordstats reachable through the .pth file."""
    return [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
            "--ignore-installed", *args]  # fmt: skip


def reach_dependencies(site_packages: Path) -> None:
    """Let a fresh environment import this interpreter's packages (plain paths in a .pth file:
    the .pth files there, such as an editable install of this checkout, are not run)."""
    ours = [p for p in sys.path if "site-packages" in p and Path(p).is_dir()]
    (site_packages / "_test_dependencies.pth").write_text("\n".join(ours) + "\n")


def _setuptools_can_build() -> bool:
    try:
        from importlib.metadata import version

        return int(version("setuptools").split(".")[0]) >= 77
    except Exception:
        return False


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> Path:
    """The sdist and the wheel built from it by ``python -m build``."""
    if importlib.util.find_spec("build") is None:
        if os.environ.get("CI"):
            pytest.fail("`build` is not installed; it is in the test extras")
        pytest.skip("needs `build` (pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--outdir", out, paths.PROJECT_DIR]
    if _setuptools_can_build():
        command.insert(3, "--no-isolation")  # offline: this environment's setuptools
    check(run(command, cwd=out, env=clean_env()))
    assert sorted(p.name for p in out.iterdir()) == sorted([SDIST, WHEEL])
    return out


@pytest.fixture(scope="module")
def installed(dists, tmp_path_factory) -> dict:
    """A fresh virtual environment with the wheel installed; an environment for its commands
    (no PYTHONPATH, a private HOME and XDG folders)."""
    root = tmp_path_factory.mktemp("installed")
    python, site_packages = fresh_venv(root / "venv")
    check(run(pip_install(python, "--no-index", dists / WHEEL), root, clean_env()))
    reach_dependencies(site_packages)
    venv = root / "venv"
    from jupyter_core.paths import jupyter_path

    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOORDSTATS_", "XDG_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "share"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        JUPYTER_PATH=os.pathsep.join(jupyter_path()),
        PATH=os.pathsep.join([str(venv / "bin"), env.get("PATH", "")]),
    )
    return {"python": python, "bin": venv / "bin", "site": site_packages, "env": env}


@pytest.fixture
def empty(tmp_path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def site_packages_unchanged(request):
    """Hash the fresh environment's site-packages before and after each test that uses it."""
    if "installed" not in request.fixturenames:
        yield
        return
    site = request.getfixturevalue("installed")["site"]
    before = tree_digest(site)
    yield
    after = tree_digest(site)
    assert after == before, "site-packages changed: " + describe_difference(before, after)


# ------------------------------------------------------------------------------ contents


def test_the_wheel_ships_the_resources_and_nothing_local_or_raw(dists) -> None:
    names = set(zipfile.ZipFile(dists / WHEEL).namelist())
    resources = "noordstats/_resources/"
    expected = [
        "data/tables.yaml", "data/indicators.yaml", "data/themes.yaml", "data/claims.yaml",
        "data/report_kinds.yaml", "data/table_structure.yaml", "data/snapshot/regions.csv",
        "data/snapshot/83582NED.parquet",
        "data/snapshot/83582NED.meta.json", "data/geo/coropgebied_2023.geojson",
        "notebooks/claims.ipynb", "notebooks/region_profile.ipynb",
        "notebooks/theme.ipynb",
    ]  # fmt: skip
    for name in expected:
        assert resources + name in names, name
    assert any(n.startswith(resources + "data/provenance/cbs/") for n in names)
    assert "noordstats/report/templates/noordstats_report/report.css" in names
    assert not [n for n in names if n.startswith(resources + "data/raw/")]
    assert not [n for n in names if "/imports/" in n or n.endswith("tables.local.yaml")]
    assert not [n for n in names if n.startswith(("data/", "notebooks/", "tests/"))]
    sdist = {n.split("/", 1)[1] for n in tarfile.open(dists / SDIST).getnames() if "/" in n}
    assert {"setup.py", "MANIFEST.in", "data/tables.yaml", "notebooks/claims.ipynb"} <= sdist
    if (paths.PROJECT_DIR / "data" / "raw").is_dir():  # raw captures: sdist and repository
        assert any(n.startswith("data/raw/") for n in sdist)
    assert not [n for n in sdist if n.startswith("noordstats/_resources")]


# ----------------------------------------------------------------- installed, from elsewhere


def test_load_table_and_version_outside_the_repository(installed, empty) -> None:
    code = (
        "import noordstats; frame = noordstats.load_table('83582NED', regions='LD01'); "
        "print(noordstats.__file__); print(len(frame), frame.attrs['source'])"
    )
    lines = check(run([installed["python"], "-c", code], empty, installed["env"])).stdout.split()
    assert Path(lines[0]).is_relative_to(installed["site"])
    assert int(lines[1]) > 0 and lines[2] == "snapshot"
    version = check(run([installed["bin"] / "noordstats", "--version"], empty, installed["env"]))
    assert version.stdout.strip() == f"noordstats {__version__}"


@pytest.fixture(scope="module")
def installed_reports(installed, tmp_path_factory) -> Path:
    """``noordstats reports --only claims cleantech`` run by the installed command in an
    empty folder: its ./reports."""
    folder = tmp_path_factory.mktemp("first-run")
    before = tree_digest(installed["site"])
    command = [installed["bin"] / "noordstats", "reports", "--only", "claims", "cleantech"]
    result = check(run([*command, "--jobs", "2", "--quiet"], folder, installed["env"]))
    assert "2 rendered, 0 unchanged, 0 failed" in result.stdout
    assert tree_digest(installed["site"]) == before
    return folder / "reports"


def test_reports_render_into_the_current_folder(installed_reports) -> None:
    names = {p.name for p in installed_reports.iterdir()}
    assert {"index.html", "claims-LD01.html", "theme-cleantech-LD01.html"} <= names
    assert {"plotly.min.js", "report.css", "manifest.json"} <= names
    index = (installed_reports / "index.html").read_text(encoding="utf-8")
    assert "claims-LD01.html" in index and "theme-cleantech-LD01.html" in index


@pytest.mark.browser
def test_installed_reports_draw_their_charts(browser, installed_reports) -> None:
    for name in ("claims-LD01", "theme-cleantech-LD01"):
        page_file = installed_reports / f"{name}.html"
        page, requests, errors, inside = open_page(browser, page_file, installed_reports)
        charts = page.evaluate(CHARTS_JS)
        page.context.close()
        assert len(charts) == count_charts(installed_reports / f"{name}.ipynb") > 0
        assert all(c["svg"] > 0 for c in charts), name
        assert errors == [] and all(url.startswith(inside) for url in requests)


def test_papermill_runs_a_packaged_notebook(installed, empty) -> None:
    env = installed["env"]
    folder = Path(
        check(run([installed["bin"] / "noordstats", "notebooks"], empty, env)).stdout.strip()
    )
    assert folder.is_relative_to(installed["site"])
    command = [installed["python"], "-m", "papermill", folder / "claims.ipynb", "out.ipynb",
               "-p", "region", "PV21", "--no-progress-bar"]  # fmt: skip
    check(run(command, empty, env))
    text = (empty / "out.ipynb").read_text(encoding="utf-8")
    assert "PV21" in text and '"output_type": "error"' not in text


def test_init_then_render_an_edited_claim(installed, empty) -> None:
    env, noordstats = installed["env"], installed["bin"] / "noordstats"
    check(run([noordstats, "init", "noord"], empty, env))
    folder = empty / "noord"
    claims = folder / "claims.yaml"
    old = "its output per inhabitant is at least the national level."
    claims.write_text(claims.read_text(encoding="utf-8").replace(old, EDITED), encoding="utf-8")
    # the edited English text shows in the English report (the Dutch one shows claim_nl)
    command = [noordstats, "reports", "--only", "claims", "--lang", "en", "--quiet"]
    result = check(run(command, folder, env))
    assert result.stderr.splitlines() == [
        f"noordstats: working folder {folder}: using its claims.yaml, indicators.yaml, "
        "themes.yaml, notebooks/ over the packaged ones"
    ]
    page = (folder / "reports" / "claims-LD01-en.html").read_text(encoding="utf-8")
    assert EDITED in page and old not in page


def test_snapshot_import_goes_to_the_user_data_folder(installed, empty) -> None:
    from tests.test_reliability_cli import write_untyped_export

    env, noordstats = installed["env"], installed["bin"] / "noordstats"
    download = write_untyped_export(empty / "download")
    command = [noordstats, "snapshot", "import", download, "--id", "bbp-local", "--title", "Bbp"]
    check(run(command, empty, env))
    user_data = Path(env["XDG_DATA_HOME"]) / "noordstats"
    assert (user_data / "snapshot" / "bbp-local.parquet").is_file()
    assert (user_data / "tables.local.yaml").is_file()
    code = "import noordstats; print(len(noordstats.load_table('bbp-local', regions='PV20')))"
    assert int(check(run([installed["python"], "-c", code], empty, env)).stdout) > 0


@pytest.mark.reliability(
    "bad input",
    "noordstats snapshot build in an installed package",
    "exit 2, one line pointing at snapshot import, nothing written (site-packages hashed)",
)
def test_snapshot_build_is_refused_when_installed(installed, empty) -> None:
    result = run([installed["bin"] / "noordstats", "snapshot", "build"], empty, installed["env"])
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "works in a checkout only" in result.stderr and "snapshot import" in result.stderr
    assert list(empty.iterdir()) == []


# ------------------------------------------------------------------------ editable install


def test_an_editable_install_reads_the_checkout(tmp_path) -> None:
    python, site_packages = fresh_venv(tmp_path / "venv")
    options = ["--editable", paths.PROJECT_DIR]
    if _setuptools_can_build():
        reach_dependencies(site_packages)  # the build backend: this environment's setuptools
        options[:0] = ["--no-build-isolation", "--no-index"]
    check(run(pip_install(python, *options), tmp_path, clean_env()))
    reach_dependencies(site_packages)
    code = "from noordstats import paths; print(paths.FROM_CHECKOUT, paths.DATA_DIR)"
    out = check(run([python, "-c", code], tmp_path, clean_env())).stdout.split()
    assert out == ["True", str(paths.PROJECT_DIR / "data")]
    assert not paths.PACKAGED_RESOURCES_DIR.exists()
