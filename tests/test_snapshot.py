"""The embedded snapshot: every declared table built, its metadata equal to its declaration, a
rebuild from the raw captures equal to what ships (byte for byte, as `noordstats snapshot verify`
checks), a build that leaves the snapshot whole when it is interrupted, and `noordstats snapshot
build|import`."""

from __future__ import annotations

import hashlib
import io
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from noordstats import paths
from noordstats.cli import main
from noordstats.declarations.tables import declarations, read_table_declarations
from noordstats.ingest.snapshot_build import (
    GEO_FILES,
    STAGING_PREFIX,
    build_snapshot,
    import_table,
    source_root,
)
from noordstats.load import load_table
from noordstats.storage import store
from noordstats.storage.rawfiles import RawFileError
from tests.raw_helpers import copy_raw, read_raw_bytes, read_raw_text
from tests.reliability_env import (
    copy_data_dir,
    describe_difference,
    run_cli,
    subprocess_env,
    tree_digest,
    write_sitecustomize,
)

TABLES = list(declarations())
SHIPPED_SNAPSHOT = paths.SNAPSHOT_DIR  # before any test points paths at a temporary folder
STATLINE_2020 = "cbs/03759ned/statline_csv_2020"
UNTYPED_2020 = f"{STATLINE_2020}/03759ned_UntypedDataSet_05022020_161839.csv"
METADATA_2020 = f"{STATLINE_2020}/03759ned_metadata.csv"


@pytest.fixture
def download(raw_dir: Path, tmp_path: Path) -> Path:
    """The 2020 StatLine download of 03759ned (data + metadata export) as an analyst has it:
    plain files in a folder of their own."""
    folder = tmp_path / "download"
    for rel in (UNTYPED_2020, METADATA_2020):
        copy_raw(raw_dir / rel, folder / Path(rel).name)
    return folder


@pytest.mark.parametrize("table_id", TABLES)
def test_every_declared_table_is_built_with_its_declaration(table_id: str) -> None:
    decl = declarations()[table_id]
    data_path, meta_path = store.table_paths(paths.SNAPSHOT_DIR, table_id)
    assert data_path.exists() and meta_path.exists()
    meta = store.read_meta(paths.SNAPSHOT_DIR, table_id)
    assert meta["data_sha256"] == store.sha256_file(data_path)
    expected = {
        "title": decl.title,
        "title_note": decl.title_note,
        "publisher": decl.publisher,
        "licence": decl.licence,
        "captured": decl.captured.isoformat() if decl.captured else None,
        "captured_note": decl.captured_note,
        "completeness": decl.completeness,
        "completeness_note": decl.completeness_note,
        "national": decl.national,
        "provenance": decl.provenance,
        "measures": {k: m.model_dump() for k, m in decl.measures.items()},
    }
    assert {k: meta[k] for k in expected} == expected
    assert [s["path"] for s in meta["sources"]] == [s.path for s in decl.sources]
    assert decl.reduction is None or meta["reduction"].startswith(decl.reduction)
    frame = store.read_table(paths.SNAPSHOT_DIR, table_id)
    assert meta["row_count"] == len(frame)
    assert meta["periods"] == sorted(frame.period_code.astype(str).unique())
    for rel in decl.provenance:
        assert (paths.PROVENANCE_DIR / rel).exists(), rel


def test_nothing_undeclared_in_the_snapshot() -> None:
    shipped = {p.name.removesuffix(".meta.json") for p in paths.SNAPSHOT_DIR.glob("*.meta.json")}
    assert shipped == set(TABLES)


def test_geojson_ships_with_its_provenance() -> None:
    for rel in GEO_FILES:
        assert (paths.GEO_DIR / Path(rel).name).exists(), rel


def test_snapshot_stays_small() -> None:
    size = sum(p.stat().st_size for p in paths.SNAPSHOT_DIR.iterdir())
    assert size < 5_000_000, f"snapshot is {size:,} bytes"


@pytest.mark.slow  # every table imported again (the byte-for-byte rebuild below checks it too)
@pytest.mark.parametrize("table_id", TABLES)
def test_rebuild_from_raw_equals_the_shipped_table(table_id: str, raw_dir: Path) -> None:
    decl = declarations()[table_id]
    meta = store.read_meta(paths.SNAPSHOT_DIR, table_id)
    for source, recorded in zip(decl.sources, meta["sources"], strict=True):
        original = read_raw_bytes(source_root(source, raw_dir) / source.path)
        assert hashlib.sha256(original).hexdigest() == recorded["sha256"]
    buffer = io.BytesIO()  # through parquet, as the snapshot stores it
    import_table(decl, raw_dir).to_parquet(buffer, index=False)
    rebuilt = pd.read_parquet(io.BytesIO(buffer.getvalue()))
    shipped = store.read_table(paths.SNAPSHOT_DIR, table_id)
    if not rebuilt.equals(shipped):  # DataFrame.equals is fast; the assert explains a difference
        pd.testing.assert_frame_equal(rebuilt, shipped)


@pytest.mark.slow
def test_build_writes_tables_geo_provenance_into_a_fresh_folder(
    isolated_snapshot: Path, raw_dir: Path
) -> None:
    built = build_snapshot(["72016ned", "03759ned"], raw_dir=raw_dir, progress=False)
    assert built == ["72016ned", "03759ned"]
    for table_id in built:
        assert store.read_meta(isolated_snapshot / "snapshot", table_id)["id"] == table_id
    assert (isolated_snapshot / "provenance/cbs/72016ned/PROVENANCE.md").exists()
    assert (isolated_snapshot / "geo/provincie_2023.geojson").exists()
    assert len(load_table("72016ned")) == 160


def test_build_cli_refuses_unknown_tables_before_writing(isolated_snapshot: Path) -> None:
    before = sorted(p.name for p in (isolated_snapshot / "snapshot").iterdir())
    assert main(["snapshot", "build", "--quiet", "NOPE123"]) == 2
    assert sorted(p.name for p in (isolated_snapshot / "snapshot").iterdir()) == before
    assert before == ["region_boundary_changes.csv", "regions.csv"]


def test_build_cli_names_a_missing_raw_folder(isolated_snapshot: Path, capsys) -> None:
    missing = isolated_snapshot / "no-such-folder"
    assert main(["snapshot", "build", "--quiet", "--raw-dir", str(missing), "72016ned"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and str(missing) in error


def test_build_leaves_no_staging_folder_and_reads_through_the_record(
    isolated_snapshot: Path, raw_dir: Path, monkeypatch
) -> None:
    from noordstats.declarations import raw_files as records

    build_snapshot(["72016ned"], raw_dir=raw_dir, progress=False)
    assert not list(isolated_snapshot.glob(f"{STAGING_PREFIX}*"))
    before = tree_digest(isolated_snapshot)
    trimmed = {k: v for k, v in records.raw_files().items() if k != "cbs/72016ned/72016ned.csv"}
    monkeypatch.setattr("noordstats.ingest.snapshot_build.raw_files", lambda: trimmed)
    with pytest.raises(RawFileError, match=r"72016ned\.csv\.gz: not recorded in raw_files\.yaml"):
        build_snapshot(["72016ned"], raw_dir=raw_dir, progress=False)
    assert tree_digest(isolated_snapshot) == before


# ----------------------------------------------------------------- as a new user would: processes


@pytest.fixture
def copy_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A private copy of data/ (raw captures included) and the environment of a CLI process
    that uses it instead of the checkout's."""
    data = copy_data_dir(tmp_path / "data", raw=True)
    return data, subprocess_env(write_sitecustomize(tmp_path / "site"), data_dir=data)


def _edit_declaration(data: Path) -> None:
    """A change to one table's declaration: a build then rewrites that table's metadata."""
    tables = data / "tables.yaml"
    text = tables.read_text(encoding="utf-8")
    old = "complete table (80 rows, under the 10,000-row harvest limit)"
    assert text.count(old) == 1
    tables.write_text(text.replace(old, old + " [edited]"), encoding="utf-8")


@pytest.mark.slow
def test_a_rebuild_reproduces_the_snapshot_byte_for_byte_and_verify_agrees(
    copy_env: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    data, env = copy_env
    built = run_cli(["snapshot", "build", "--quiet"], env, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    for folder in ("snapshot", "geo", "provenance"):
        fresh, shipped = tree_digest(data / folder), tree_digest(paths.DATA_DIR / folder)
        assert fresh == shipped, describe_difference(shipped, fresh)
    assert not list(data.glob(f"{STAGING_PREFIX}*"))
    verified = run_cli(["snapshot", "verify"], env, cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("current: ") and "note:" not in verified.stdout
    _edit_declaration(data)
    stale = run_cli(["snapshot", "verify"], env, cwd=tmp_path)
    assert stale.returncode == 1
    assert stale.stdout.splitlines() == [
        "stale: 72016ned: stale metadata (differs in completeness_note)",
        "1 stale; run `noordstats snapshot build`",
    ]


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_build_leaves_the_snapshot_as_it_was(
    copy_env: tuple[Path, dict[str, str]], tmp_path: Path, sig: int, status: int
) -> None:
    data, env = copy_env
    _edit_declaration(data)  # so that a build that got through would change the snapshot
    before = tree_digest(data)
    process = subprocess.Popen(
        [sys.executable, "-m", "noordstats.cli", "snapshot", "build", "--quiet"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal
    )
    try:
        deadline = time.monotonic() + 120
        while not list(data.glob(f"{STAGING_PREFIX}*/snapshot/*.meta.json")):  # importing
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the build never started importing"
            time.sleep(0.02)
        process.send_signal(sig)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == status, err
    assert out == ""
    after = tree_digest(data)
    assert after == before, describe_difference(before, after)


# ----------------------------------------------------------------- noordstats snapshot import


@pytest.mark.slow
def test_import_untyped_export_with_metadata(isolated_snapshot: Path, download: Path) -> None:
    data = download / Path(UNTYPED_2020).name
    assert main(["snapshot", "import", str(data), "--id", "bevolking-2020"]) == 0
    local = read_table_declarations(isolated_snapshot / "tables.local.yaml")
    decl = local["bevolking-2020"]
    assert decl.title == "Bevolking op 1 januari en gemiddeld; geslacht, leeftijd en regio"
    assert decl.captured.isoformat() == "2020-02-05"  # from the StatLine download name
    assert decl.measures["BevolkingOp1Januari_1"].unit == "aantal"
    assert (isolated_snapshot / "imports/bevolking-2020/03759ned_metadata.csv").exists()
    frame = load_table("bevolking-2020", regions="PV20", periods=1988)
    rows = read_raw_text(data).splitlines()
    total = next(r for r in rows if '"T001038";"10000";"T001019";"PV20  ";"1988JJ00"' in r).split(
        ";"
    )[-1]
    totals = frame[(frame.age_code == "10000") & (frame.sex_code == "T001038")]
    assert totals.value.item() == float(total.strip('" '))
    assert set(totals.sex_name.astype(str)) == {"Totaal mannen en vrouwen"}
    assert set(frame.status.astype(str)) == {"definitief"}  # from the metadata's Perioden


@pytest.mark.slow
def test_import_wide_export(isolated_snapshot: Path, raw_dir: Path, tmp_path: Path) -> None:
    path = copy_raw(raw_dir / "cbs/85701NED/2023_2024.csv", tmp_path / "download/2023_2024.csv")
    assert main(["snapshot", "import", str(path), "--id", "leerlingen-2023"]) == 0
    ours = load_table("leerlingen-2023", regions="LD01")
    shipped = store.read_table(SHIPPED_SNAPSHOT, "85701NED")
    shipped = shipped[(shipped.region_code == "LD01") & (shipped.period_code == "2023SJ00")]
    assert len(ours) == 24
    assert ours.value.tolist() == shipped.value.tolist()


def test_import_refuses_a_declared_id(isolated_snapshot: Path, download: Path, capsys) -> None:
    data = download / Path(UNTYPED_2020).name
    assert main(["snapshot", "import", str(data)]) == 2  # id 03759ned exists
    assert "already declared" in capsys.readouterr().err
    assert not (isolated_snapshot / "tables.local.yaml").exists()


def test_import_of_a_malformed_file_writes_nothing(
    isolated_snapshot: Path, download: Path, capsys
) -> None:
    data = download / Path(UNTYPED_2020).name
    lines = data.read_text(encoding="utf-8-sig").split("\n")
    lines[6] = lines[6].replace('"  5', '"abc', 1)
    data.write_text("\n".join(lines), encoding="utf-8-sig")
    before = sorted(p.name for p in (isolated_snapshot / "snapshot").iterdir())
    assert main(["snapshot", "import", str(data), "--id", "broken"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert f"{data}:7:" in error and "not a number" in error
    assert sorted(p.name for p in (isolated_snapshot / "snapshot").iterdir()) == before
    assert not (isolated_snapshot / "imports").exists()
    assert not (isolated_snapshot / "tables.local.yaml").exists()


def test_import_refuses_what_is_not_a_statline_export(
    isolated_snapshot: Path, tmp_path: Path, capsys
) -> None:
    other = tmp_path / "notes.csv"
    other.write_text("a;b\n1;2\n", encoding="utf-8")
    assert main(["snapshot", "import", str(other), "--id", "notes"]) == 2
    assert f"{other}:1: not a StatLine CSV export" in capsys.readouterr().err


def test_local_declarations_cannot_shadow_shipped_ones(isolated_snapshot: Path) -> None:
    entry = yaml.safe_load(paths.TABLES_FILE.read_text(encoding="utf-8"))["tables"][0]
    (isolated_snapshot / "tables.local.yaml").write_text(
        yaml.safe_dump({"tables": [entry]}), encoding="utf-8"
    )
    declarations.cache_clear()
    from noordstats.declarations.tables import DeclarationError

    with pytest.raises(DeclarationError, match="already declared"):
        declarations()
