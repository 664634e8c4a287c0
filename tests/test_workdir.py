"""Where noordstats reads and writes: packaged resources, an analyst's working folder
(``noordstats init``, ``--workdir``, ``NOORDSTATS_HOME``), the user data folder, ``./reports``.

The CLI cases run ``python -m noordstats.cli`` as a real process in the working folder (the
folder is found from the current one, as for an analyst), against this checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from noordstats import paths
from tests.reliability_env import clear_caches, describe_difference, tree_digest

EXPECTED = "exit 2, one line naming the file or folder, nothing written (folders hashed)"


def cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """``python -m noordstats.cli ARGS`` from this checkout, in ``cwd``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NOORDSTATS_")}
    environ["PYTHONPATH"] = str(paths.PROJECT_DIR)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "noordstats.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("noordstats: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


@pytest.fixture
def restore_paths(monkeypatch):
    """Put ``noordstats.paths`` (and what was read through it) back as it was after the test."""
    saved = dict(vars(paths))
    monkeypatch.setenv(paths.HOME_ENV, "")  # recorded, so configure()'s export is undone
    monkeypatch.delenv(paths.HOME_ENV)
    yield
    for name, value in saved.items():
        if name.isupper():
            setattr(paths, name, value)
    clear_caches()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A working folder made by ``noordstats init`` (shared: tests that change it copy it)."""
    folder = tmp_path_factory.mktemp("analyst") / "noord"
    result = cli(["init", str(folder)], cwd=folder.parent)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert str(folder) in result.stdout
    return folder


def copy_of(workdir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "noord"
    shutil.copytree(workdir, target)
    return target


# ------------------------------------------------------------------------------- resolution


def test_a_checkout_reads_its_own_data_and_notebooks() -> None:
    assert paths.FROM_CHECKOUT
    assert paths.DATA_DIR == paths.PROJECT_DIR / "data"
    assert paths.PACKAGED_NOTEBOOKS_DIR == paths.PROJECT_DIR / "notebooks"
    assert paths.TABLES_FILE.is_file() and paths.COROP_GEOJSON_FILE.is_file()
    assert not paths.PACKAGED_RESOURCES_DIR.exists()  # the build hook never writes into the tree


def test_a_working_folder_supplies_what_it_holds(tmp_path, restore_paths) -> None:
    (tmp_path / "claims.yaml").write_text("claims: []\n", encoding="utf-8")
    (tmp_path / "deeper" / "still").mkdir(parents=True)
    (tmp_path / paths.WORKDIR_MARKER).write_text("", encoding="utf-8")
    assert paths.find_workdir(tmp_path / "deeper" / "still") == tmp_path
    paths.configure(tmp_path)
    assert os.environ[paths.HOME_ENV] == str(tmp_path)  # for workers and notebook kernels
    assert paths.CLAIMS_FILE == tmp_path / "claims.yaml"
    assert paths.INDICATORS_FILE == paths.DATA_DIR / "indicators.yaml"  # not in the folder
    assert paths.NOTEBOOKS_DIR == paths.PACKAGED_NOTEBOOKS_DIR
    assert paths.LOCAL_TABLES_FILE == tmp_path / "tables.local.yaml"
    assert paths.IMPORTS_DIR == tmp_path / "imports"
    assert paths.local_snapshot_dir() == tmp_path / "snapshot"
    assert paths.workdir_overrides() == ["claims.yaml"]


def test_installed_without_a_working_folder_imports_go_to_the_user_data_folder(
    tmp_path, monkeypatch, restore_paths
) -> None:
    monkeypatch.setattr(paths, "FROM_CHECKOUT", False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.chdir(tmp_path)
    paths.configure()
    assert paths.WORKDIR is None
    assert paths.HOME_DIR == tmp_path / "share" / "noordstats"
    assert paths.local_snapshot_dir() == tmp_path / "share" / "noordstats" / "snapshot"
    assert paths.CLAIMS_FILE == paths.DATA_DIR / "claims.yaml"
    assert paths.REPORTS_DIR == tmp_path / "reports"


@pytest.mark.slow
def test_imported_tables_are_read_from_their_own_snapshot_folder(tmp_path, restore_paths) -> None:
    from noordstats.storage import store
    from tests.test_reliability_cli import write_untyped_export

    download = write_untyped_export(tmp_path / "download")
    folder = tmp_path / "noord"
    folder.mkdir()
    before = tree_digest(paths.DATA_DIR)
    result = cli(["--workdir", str(folder), "snapshot", "import", str(download), "--id",
                  "bbp-local", "--title", "Bbp"], cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"into {folder / 'snapshot'}" in result.stdout
    assert {p.name for p in folder.iterdir()} == {"snapshot", "imports", "tables.local.yaml"}
    after = tree_digest(paths.DATA_DIR)
    assert after == before, describe_difference(before, after)
    paths.configure(folder)
    clear_caches()
    assert store.snapshot_folder("bbp-local") == folder / "snapshot"
    assert store.snapshot_folder("85924NED") == paths.SNAPSHOT_DIR
    from noordstats.load import load_table

    frame = load_table("bbp-local", regions="PV21")
    assert len(frame) > 0 and frame.attrs["meta"]["title"] == "Bbp"


# ------------------------------------------------------------------------------------ init


@pytest.mark.slow
def test_init_copies_the_notebooks_and_the_editable_declarations(workdir) -> None:
    names = sorted(p.relative_to(workdir).as_posix() for p in workdir.rglob("*"))
    assert names == [
        ".noordstats", "README.md", "claims.yaml", "indicators.yaml", "notebooks",
        "notebooks/claims.ipynb", "notebooks/region_profile.ipynb",
        "notebooks/theme.ipynb", "themes.yaml",
    ]  # fmt: skip
    for name in paths.EDITABLE_DECLARATIONS:
        assert (workdir / name).read_bytes() == (paths.DATA_DIR / name).read_bytes()
    readme = (workdir / "README.md").read_text(encoding="utf-8")
    assert "noordstats reports" in readme and "--workdir" in readme


def test_notebooks_prints_the_packaged_folder(tmp_path) -> None:
    result = cli(["notebooks"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == paths.PACKAGED_NOTEBOOKS_DIR


@pytest.mark.slow
@pytest.mark.reliability("bad input", "noordstats init into a folder that is not empty", EXPECTED)
def test_init_refuses_a_folder_that_is_not_empty(tmp_path) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = tree_digest(tmp_path)
    result = cli(["init", str(folder)], cwd=tmp_path)
    assert_one_line_refusal(result, f"{folder} is not empty", "--force")
    after = tree_digest(tmp_path)
    assert after == before, describe_difference(before, after)
    assert cli(["init", "--force", str(folder)], cwd=tmp_path).returncode == 0
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert (folder / "claims.yaml").is_file()


@pytest.mark.reliability("bad input", "noordstats init onto a file", EXPECTED)
def test_init_refuses_a_file(tmp_path) -> None:
    target = tmp_path / "noord"
    target.write_text("a file\n", encoding="utf-8")
    before = tree_digest(tmp_path)
    assert_one_line_refusal(cli(["init", str(target)], cwd=tmp_path), "is a file, not a folder")
    assert tree_digest(tmp_path) == before


# ---------------------------------------------------------------------- using the folder


@pytest.mark.slow
def test_the_working_folders_claims_are_used_and_said_so(workdir, tmp_path) -> None:
    folder = copy_of(workdir, tmp_path)
    claims = folder / "claims.yaml"
    text = claims.read_text(encoding="utf-8")
    old = "its output per inhabitant is at least the national level."
    assert old in text
    claims.write_text(text.replace(old, "EDITED in the working folder."), encoding="utf-8")
    (folder / "notebooks" / "deeper").mkdir()
    runs = {
        "inside": cli(["claims", "--format", "json"], cwd=folder / "notebooks" / "deeper"),
        "--workdir": cli(["claims", "--workdir", str(folder), "--format", "json"], cwd=tmp_path),
        "NOORDSTATS_HOME": cli(
            ["claims", "--format", "json"], cwd=tmp_path, NOORDSTATS_HOME=str(folder)
        ),
    }
    for how, result in runs.items():
        assert result.returncode == 0, (how, result.stderr)
        first = json.loads(result.stdout)[0]
        assert first["claim_en"].endswith("EDITED in the working folder."), how
        assert result.stderr.splitlines() == [
            f"noordstats: working folder {folder}: using its claims.yaml, indicators.yaml, "
            "themes.yaml, notebooks/ over the packaged ones"
        ], how
    plain = cli(["claims", "--format", "json"], cwd=tmp_path)
    assert plain.stderr == "" and json.loads(plain.stdout)[0]["claim_en"].endswith(old)


def _not_yaml(folder: Path) -> str:
    with open(folder / "claims.yaml", "a", encoding="utf-8") as handle:
        handle.write("  - id: [unclosed\n")
    return "claims.yaml: not valid YAML"


def _unknown_key(folder: Path) -> str:
    path = folder / "indicators.yaml"
    text = path.read_text(encoding="utf-8")
    line = "    measure: BbpMarktprijzen_1\n"
    path.write_text(text.replace(line, line + "    measur: x\n", 1), encoding="utf-8")
    return "indicators.yaml: entry 'gdp_share_nl', key 'measur'"


def _unknown_indicator(folder: Path) -> str:
    path = folder / "claims.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    claim = next(c for c in data["claims"] if "rule" in c or "readings" in c)
    (claim["rule"] if "rule" in claim else claim["readings"][0])["indicator"] = "gdp_per_unicorn"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return "gdp_per_unicorn"


MALFORMED = [
    ("claims.yaml that is not YAML", _not_yaml),
    ("indicators.yaml with an unknown key", _unknown_key),
    ("claims.yaml naming an unknown indicator", _unknown_indicator),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("break_it",),
    [
        pytest.param(
            f,
            id=case,
            marks=pytest.mark.reliability("bad input", f"working folder: {case}", EXPECTED),
        )
        for case, f in MALFORMED
    ],
)
def test_a_malformed_declaration_in_the_working_folder_is_refused(
    workdir, tmp_path, break_it
) -> None:
    folder = copy_of(workdir, tmp_path)
    fragment = break_it(folder)
    before = tree_digest(tmp_path)
    result = cli(["reports", "--only", "claims", "--quiet"], cwd=folder)
    assert_one_line_refusal(result, str(folder), fragment)
    after = tree_digest(tmp_path)
    assert after == before, describe_difference(before, after)


@pytest.mark.reliability("bad input", "--workdir or NOORDSTATS_HOME that is not a folder", EXPECTED)
def test_a_working_folder_that_does_not_exist_is_refused(tmp_path) -> None:
    missing = tmp_path / "nowhere"
    before = tree_digest(tmp_path)
    result = cli(["--workdir", str(missing), "claims"], cwd=tmp_path)
    assert_one_line_refusal(result, f"--workdir: {missing} is not a folder")
    result = cli(["claims"], cwd=tmp_path, NOORDSTATS_HOME=str(missing))
    assert_one_line_refusal(result, f"NOORDSTATS_HOME: {missing} is not a folder")
    assert tree_digest(tmp_path) == before
