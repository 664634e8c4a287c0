"""The raw captures inside the repository: stored compressed (deterministically), read as the
original bytes, every file recorded once in data/raw_files.yaml with the sha256 of its original,
every record matched by its file, and nothing read from outside the repository."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from noordstats import paths
from noordstats.declarations.files import ConfigError
from noordstats.declarations.raw_files import raw_files, read_raw_files
from noordstats.declarations.tables import declarations
from noordstats.ingest.raw_capture import add_raw_files
from noordstats.ingest.snapshot_build import GEO_FILES, REGION_CODE_LIST, check_raw_files
from noordstats.storage import rawfiles
from tests.raw_helpers import read_raw_bytes

RAW_FILES = raw_files()


# ----------------------------------------------------------------- storage


def test_gzip_is_deterministic_and_names_no_file_or_time() -> None:
    data = b"Groningen (PV);2023;1.0\n" * 1000
    packed = rawfiles.gzip_bytes(data)
    assert packed == rawfiles.gzip_bytes(data)
    assert packed[3] & 0x08 == 0, "no file name in the header (FNAME flag)"
    assert packed[4:8] == b"\0\0\0\0", "mtime 0"
    assert gzip.decompress(packed) == data


def test_plain_and_compressed_files_read_the_same(tmp_path: Path) -> None:
    data = "\ufeffID;RegioS\r\n0;Fryslân (PV)\n".encode()
    (tmp_path / "plain.csv").write_bytes(data)
    (tmp_path / "packed.csv.gz").write_bytes(rawfiles.gzip_bytes(data))
    for name in ("plain.csv", "packed.csv"):
        path = tmp_path / name
        assert rawfiles.read_bytes(path) == data
        assert rawfiles.read_text(path) == "ID;RegioS\r\n0;Fryslân (PV)\n"  # BOM gone, CR kept
        assert rawfiles.content_sha256(path) == hashlib.sha256(data).hexdigest()
    assert rawfiles.stored_path(tmp_path / "packed.csv").name == "packed.csv.gz"
    assert rawfiles.stored_path(tmp_path / "absent.csv").name == "absent.csv"


def test_a_damaged_gzip_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "cut.json.gz").write_bytes(rawfiles.gzip_bytes(b'{"value": []}')[:-6])
    with pytest.raises(rawfiles.RawFileError, match=re.escape(str(tmp_path / "cut.json.gz"))):
        rawfiles.read_bytes(tmp_path / "cut.json")


# ----------------------------------------------------------------- the record


def test_every_raw_file_is_recorded_and_as_recorded() -> None:
    assert check_raw_files(paths.RAW_DIR) == []


def test_captures_are_stored_compressed_and_notes_plain() -> None:
    for rel in RAW_FILES:
        stored = rawfiles.stored_path(paths.RAW_DIR / rel)
        assert stored.name == rawfiles.stored_name(Path(rel).name), rel


def test_compressed_files_are_canonical() -> None:
    """Compressing the original again gives the stored file (checked in full for the small
    files, by the header for all)."""
    for rel in RAW_FILES:
        stored = rawfiles.stored_path(paths.RAW_DIR / rel)
        if not stored.name.endswith(".gz"):
            continue
        packed = stored.read_bytes()
        assert packed[3] == 0 and packed[4:8] == b"\0\0\0\0", rel
        if len(packed) < 50_000:
            assert rawfiles.gzip_bytes(gzip.decompress(packed)) == packed, rel


def test_every_file_a_build_reads_is_recorded_and_documented() -> None:
    for decl in declarations().values():
        for source in decl.sources:
            if source.root == "raw":
                record = RAW_FILES[source.path]
                assert record.documented_in in decl.provenance, source.path
        assert set(decl.provenance) <= set(RAW_FILES), decl.id
    for rel in (REGION_CODE_LIST, *GEO_FILES, "paper/000_38f0a742647de4fa.txt"):
        assert rel in RAW_FILES, rel


def test_recorded_hashes_are_those_of_the_original_bytes() -> None:
    """The recorded sha256 is that of the uncompressed file: every sha256 a PROVENANCE.md
    states for its copy is recorded for a file in its folder."""
    stated = 0
    for rel in RAW_FILES:
        if not rel.endswith("PROVENANCE.md"):
            continue
        text = read_raw_bytes(paths.RAW_DIR / rel).decode("utf-8")
        folder = rel.removesuffix("PROVENANCE.md")
        hashes = {r.sha256 for k, r in RAW_FILES.items() if k.startswith(folder)}
        for found in re.findall(r"\b[0-9a-f]{64}\b", text):
            assert found in hashes, f"{rel} states {found}, recorded for no file beside it"
            stated += 1
    assert stated >= 10


def _text(path: Path) -> bytes:
    """A file's bytes as stored, or decompressed (the recorded CBS answers are gzipped)."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def test_nothing_is_read_from_outside_the_repository() -> None:
    """No code, test, fixture or CI step names the shared folder beside the repository."""
    shared = re.compile(
        "|".join(["\\.\\./" + "shared", "/work/" + "shared", "shared/" + "data"]).encode()
    )
    roots = [paths.PACKAGE_DIR, paths.PROJECT_DIR / "tests", paths.PROJECT_DIR / ".ci"]
    files = [p for root in roots for p in root.rglob("*") if p.is_file() and p.suffix != ".pyc"]
    files += [paths.PROJECT_DIR / "Makefile"]
    offenders = [str(p) for p in files if shared.search(_text(p))]
    assert offenders == []


# ----------------------------------------------------------------- noordstats snapshot add-raw


@pytest.fixture
def own_raw_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(paths, "RAW_DIR", tmp_path / "raw")
    monkeypatch.setattr(paths, "RAW_FILES_FILE", tmp_path / "raw_files.yaml")
    raw_files.cache_clear()
    yield tmp_path / "raw"
    raw_files.cache_clear()


def test_add_raw_copies_compresses_and_records(own_raw_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "capture"
    (source / "cbs/X1").mkdir(parents=True)
    (source / "cbs/X1/PROVENANCE.md").write_text("# X1\n", encoding="utf-8")
    data = b"ID;RegioS;Perioden;A_1\n0;Nederland;2020;1.0\n"
    (source / "cbs/X1/X1.csv").write_bytes(data)
    records = add_raw_files(source, ["cbs/X1/PROVENANCE.md", "cbs/X1/X1.csv"])
    assert [r.path for r in records] == ["cbs/X1/PROVENANCE.md", "cbs/X1/X1.csv"]
    assert (own_raw_dir / "cbs/X1/PROVENANCE.md").read_text(encoding="utf-8") == "# X1\n"
    assert gzip.decompress((own_raw_dir / "cbs/X1/X1.csv.gz").read_bytes()) == data
    record = read_raw_files(paths.RAW_FILES_FILE)["cbs/X1/X1.csv"]
    assert (record.sha256, record.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert record.documented_in == "cbs/X1/PROVENANCE.md"
    assert check_raw_files(own_raw_dir) == []
    before = paths.RAW_FILES_FILE.read_bytes()
    add_raw_files(source, ["cbs/X1/X1.csv"])  # the same bytes again: nothing changes
    assert paths.RAW_FILES_FILE.read_bytes() == before
    (source / "cbs/X1/X1.csv").write_bytes(data.replace(b"1.0", b"2.0"))
    with pytest.raises(ConfigError, match="recorded with sha256 .*a changed capture"):
        add_raw_files(source, ["cbs/X1/X1.csv"])
    (source / "other").mkdir()
    (source / "other/Y.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="other/Y.json: no PROVENANCE.md"):
        add_raw_files(source, ["other/Y.json"])
    assert paths.RAW_FILES_FILE.read_bytes() == before
    assert not (own_raw_dir / "other").exists()


def test_verify_names_a_changed_missing_and_unrecorded_file(own_raw_dir: Path, tmp_path) -> None:
    source = tmp_path / "capture"
    (source / "c").mkdir(parents=True)
    (source / "c/PROVENANCE.md").write_text("# c\n", encoding="utf-8")
    (source / "c/a.csv").write_bytes(b"a\n1\n")
    (source / "c/b.json").write_bytes(b"[]")
    add_raw_files(source, ["c/PROVENANCE.md", "c/a.csv", "c/b.json"])
    recorded = read_raw_files(paths.RAW_FILES_FILE)["c/a.csv"].sha256
    (own_raw_dir / "c/a.csv.gz").write_bytes(rawfiles.gzip_bytes(b"a\n2\n"))
    (own_raw_dir / "c/b.json.gz").unlink()
    (own_raw_dir / "c/extra.csv").write_bytes(b"x\n")
    problems = check_raw_files(own_raw_dir, read_raw_files(paths.RAW_FILES_FILE))
    changed = hashlib.sha256(b"a\n2\n").hexdigest()
    assert problems == [
        f"{own_raw_dir}/c/a.csv.gz: sha256 {changed} differs from the recorded {recorded}",
        f"{own_raw_dir}/c/b.json: missing (recorded in raw_files.yaml)",
        f"{own_raw_dir}/c/extra.csv: not recorded in raw_files.yaml",
    ]
