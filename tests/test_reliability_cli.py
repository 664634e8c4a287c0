"""Bad input, through the command line: unknown names, reversed years, bad ``--jobs``, bad
notebook parameters, malformed entries in the declaration files and a malformed CSV for the
snapshot importer.

Every case runs in a sandbox (a private copy of ``data/``, an output folder holding a previous
index, a cache holding a previous entry, the working folder) and must end with exit status 2,
exactly one line on stderr that names what was wrong and the valid choices, nothing on stdout,
and the whole sandbox byte-for-byte as it was (every file hashed before and after). Most cases
call ``noordstats.cli.main`` in this process; a few run ``python -m noordstats.cli`` as a real
process, pointed at the sandbox by ``tests/reliability_env.py``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from noordstats import cli, paths
from noordstats.declarations.themes import theme_ids
from noordstats.storage import rawfiles, store
from tests.reliability_env import (
    clear_caches,
    copy_data_dir,
    describe_difference,
    redirect_data_paths,
    run_cli,
    subprocess_env,
    tree_digest,
    write_sitecustomize,
)
from tests.replay_server import closed_port_url

EXPECTED = "exit 2, one line naming the valid choices, nothing written (sandbox hashed)"
ERROR_LINE = re.compile(r"^noordstats(?: [a-z]+)?: error: \S")
THEMES = ", ".join(theme_ids())


@dataclass
class Sandbox:
    root: Path
    data: Path
    out: Path
    cache: Path


@pytest.fixture
def sandbox(tmp_path, monkeypatch) -> Sandbox:
    """A copy of data/ that noordstats uses, an output folder and a cache that already hold
    something, no reachable CBS, and the sandbox as the working folder."""
    data = copy_data_dir(tmp_path / "data")
    redirect_data_paths(monkeypatch, data)
    out = tmp_path / "reports"
    out.mkdir()
    (out / "index.html").write_text("<p>the previous index</p>\n", encoding="utf-8")
    cache = tmp_path / "cache"
    (cache / "85924NED").mkdir(parents=True)
    (cache / "85924NED" / "entry.txt").write_text("a previous cache entry\n", encoding="utf-8")
    monkeypatch.setattr(paths, "REPORTS_DIR", out)
    monkeypatch.setenv("NOORDSTATS_CACHE_DIR", str(cache))
    monkeypatch.setenv("NOORDSTATS_CATALOG_URL", closed_port_url())
    monkeypatch.chdir(tmp_path)
    yield Sandbox(tmp_path, data, out, cache)
    clear_caches()  # forget what was read from the sandbox's files


def assert_refused(sandbox: Sandbox, status: int, out: str, err: str, *fragments: str) -> str:
    assert status == 2, f"exit status {status}; stderr: {err}"
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert ERROR_LINE.match(lines[0]), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def run_in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ------------------------------------------------------------------------- command arguments

ARGUMENT_CASES = [
    ("unknown report theme", ["report", "spaceships"],
     ["unknown report 'spaceships'", THEMES, "claims", "region_profile"]),
    ("unknown region", ["report", "claims", "--region", "PV99"],
     ["unknown region 'PV99'", "LD01", "PV20", "CR01..CR40"]),
    ("municipality without figures for the report", ["report", "cleantech", "--region", "GM0014"],
     ["no CBS figures for municipality GM0014 in report 'cleantech'", "talent"]),
    ("municipality outside the North", ["report", "talent", "--region", "GM0363"],
     ["unknown region 'GM0363'", "CR01..CR40", "a northern municipality"]),
    ("unknown region to compare with", ["report", "cleantech", "--compare", "NL01", "XX01"],
     ["unknown region 'XX01' in compare", "NL01"]),
    ("unknown region among several", ["reports", "--region", "LD01", "LD05"],
     ["unknown region 'LD05'", "LD04"]),
    ("reversed years", ["report", "agrofood", "--start-year", "2022", "--end-year", "2012"],
     ["start_year 2022 is after end_year 2012"]),
    ("year that is no number", ["report", "talent", "--start-year", "twenty"],
     ["start_year must be int", "'twenty'"]),
    ("--jobs 0", ["reports", "--jobs", "0"],
     ["--jobs must be a whole number of at least 1", "'0'"]),
    ("--jobs -1", ["reports", "--jobs", "-1"], ["--jobs must be a whole number", "'-1'"]),
    ("--jobs abc", ["reports", "--jobs", "abc"], ["--jobs must be a whole number", "'abc'"]),
    ("--jobs without a value", ["reports", "--jobs"], ["argument --jobs: expected one argument"]),
    ("--timeout 0", ["reports", "--timeout", "0"],
     ["--timeout must be a number of seconds greater than 0 and at most 86400", "'0'"]),
    ("--timeout -5", ["report", "claims", "--timeout=-5"],
     ["--timeout must be a number of seconds greater than 0 and at most 86400", "'-5'"]),
    ("--timeout abc", ["reports", "--only", "claims", "--timeout", "abc"],
     ["--timeout must be a number of seconds greater than 0", "'abc'"]),
    ("--timeout of more than a day", ["report", "claims", "--timeout", "90000"],
     ["--timeout must be a number of seconds greater than 0 and at most 86400", "'90000'"]),
    ("unknown --only entry", ["reports", "--only", "claims", "spaceships"],
     ["unknown report 'spaceships'", THEMES, "region_profile"]),
    ("unknown data source", ["report", "cleantech", "--source", "online"],
     ["invalid choice: 'online'", "'auto', 'snapshot', 'live'"]),
    ("unknown region level", ["regions", "--level", "XX"], ["unknown level 'XX'", "NL, LD, PV"]),
    ("unknown output format", ["regions", "--format", "xml"],
     ["unknown format 'xml'", "table, csv, json, md"]),
    ("unknown output format (data)", ["data", "--format", "xlsx"],
     ["invalid choice: 'xlsx'", "'table', 'csv', 'json'"]),
    ("unknown theme", ["indicators", "--theme", "biotech"],
     ["unknown theme 'biotech'", THEMES]),
    ("unknown region for claims", ["claims", "--region", "XX99"],
     ["unknown region 'XX99'", "PV31"]),
    ("unknown table to fetch", ["fetch", "99999/NED"],
     ["not a CBS table id: '99999/NED'", "noordstats search"]),
    ("unknown region to fetch", ["fetch", "83582NED", "--regions", "XX01"],
     ["unknown region 'XX01'", "LD01"]),
    ("unknown table to rebuild", ["snapshot", "build", "99999NED"],
     ["unknown table '99999NED'", "83582NED"]),
    ("unknown table to rebuild, raw folder absent",
     ["snapshot", "build", "--raw-dir", "no-such-folder", "99999NED"],
     ["unknown table '99999NED'; known tables:", "83582NED", "duo-hbo"]),
    ("unknown command", ["publish"], ["invalid choice: 'publish'", "'reports'", "'fetch'"]),
    ("output folder that is a file", ["reports", "--only", "claims", "--out", "reports/index.html"],
     ["--out: ", "index.html is a file, not a folder"]),
    ("output folder under a file", ["report", "claims", "--dated", "--out", "reports/index.html"],
     ["--out: ", "index.html is a file, not a folder"]),
]  # fmt: skip

PARAMETER_CASES = [
    ("unknown parameter name", ["report", "cleantech", "-p", "colour=red"],
     ["unknown parameter 'colour'", "theme, region, compare, start_year, end_year"]),
    ("parameter of another notebook", ["report", "region_profile", "-p", "start_year=2015"],
     ["unknown parameter 'start_year'", "region, source"]),
    ("wrong type: text for a year", ["report", "cleantech", "-p", "start_year=abc"],
     ["start_year must be int", "'abc'"]),
    ("wrong type: one code for a list", ["report", "economy", "-p", "compare=NL01"],
     ["compare must be list", "'NL01'"]),
    ("wrong type: list for a code", ["report", "claims", "-p", "region=[LD01]"],
     ["region must be str"]),
    ("bad value: year 1800", ["report", "cleantech", "-p", "start_year=1800"],
     ["start_year must be a year 1900.."]),
    ("bad value: unknown source", ["report", "claims", "-p", "source=online"],
     ["unknown source 'online'", "auto, snapshot, live"]),
    ("bad value: unreadable YAML", ["report", "cleantech", "-p", "compare=[NL01"],
     ["parameter compare: cannot read value"]),
]  # fmt: skip


def _cases(rows: list[tuple], where: str) -> list:
    return [
        pytest.param(*row, id=row[0],
                     marks=pytest.mark.reliability("bad input", f"{where}: {row[0]}", EXPECTED))
        for row in rows
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("case", "argv", "fragments"), _cases(ARGUMENT_CASES, "CLI argument"))
def test_bad_argument_is_refused(sandbox, capsys, case, argv, fragments):
    before = tree_digest(sandbox.root)
    assert_refused(sandbox, *run_in_process(argv, capsys), *fragments)
    after = tree_digest(sandbox.root)
    assert after == before, describe_difference(before, after)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "argv", "fragments"), _cases(PARAMETER_CASES, "notebook parameter via report")
)
def test_bad_notebook_parameter_is_refused(sandbox, capsys, case, argv, fragments):
    before = tree_digest(sandbox.root)
    assert_refused(sandbox, *run_in_process(argv, capsys), *fragments)
    after = tree_digest(sandbox.root)
    assert after == before, describe_difference(before, after)


# ------------------------------------------------------------------ malformed declaration files


def _edit_yaml(path: Path, change: Callable[[dict], None]) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _entry(raw: dict, top: str, entry_id: str) -> dict:
    return next(e for e in raw[top] if e["id"] == entry_id)


CONFIG_CASES = [
    ("indicator: unknown key", "indicators.yaml",
     lambda r: _entry(r, "indicators", "gdp_share_nl").update(colour="red"),
     ["indicators", "--theme", "economy"],
     ["entry 'gdp_share_nl', key 'colour'", "valid keys: table, measure, filters, minus, id"]),
    ("indicator: wrong type", "indicators.yaml",
     lambda r: _entry(r, "indicators", "jobs_growth_10y").update(span_years="ten"),
     ["indicators", "--theme", "economy"],
     ["entry 'jobs_growth_10y', key 'span_years'", "integer"]),
    ("indicator: dangling table reference", "indicators.yaml",
     lambda r: _entry(r, "indicators", "gdp_share_nl").update(table="99999NED"),
     ["claims"], ["key 'table': unknown table '99999NED'; known:", "85924NED"]),
    ("indicator: unknown transform", "indicators.yaml",
     lambda r: _entry(r, "indicators", "gdp_share_nl").update(transform="median"),
     ["claims"], ["key 'transform'", "unknown transform 'median'; valid: level, share_of_nl"]),
    ("claim: unknown key", "claims.yaml",
     lambda r: _entry(r, "claims", "earning_capacity_level").update(source="paper"),
     ["claims"], ["entry 'earning_capacity_level', key 'source'", "valid keys: id, section"]),
    ("claim: dangling indicator reference", "claims.yaml",
     lambda r: _entry(r, "claims", "earning_capacity_level")["indicators"].append("gdp_nope"),
     ["claims"], ["unknown indicator 'gdp_nope'; valid: gdp_share_nl"]),
    ("claim: unknown theme", "claims.yaml",
     lambda r: _entry(r, "claims", "earning_capacity_level").update(theme="tourism"),
     ["claims"], ["unknown theme 'tourism'", THEMES]),
    ("claim: wrong type", "claims.yaml",
     lambda r: _entry(r, "claims", "earning_capacity_level").update(testable="maybe"),
     ["claims"], ["entry 'earning_capacity_level', key 'testable'", "boolean"]),
    ("theme: unknown key", "themes.yaml",
     lambda r: _entry(r, "themes", "cleantech").update(budget=10),
     ["report", "cleantech"], ["entry 'cleantech', key 'budget'", "valid keys: id, title, kind"]),
    ("theme: wrong type", "themes.yaml",
     lambda r: _entry(r, "themes", "agrofood").update(sbi="A"),
     ["reports", "--only", "agrofood"], ["entry 'agrofood', key 'sbi'", "list"]),
    ("theme: dangling sector code", "themes.yaml",
     lambda r: _entry(r, "themes", "cleantech").update(sbi=["999999"]),
     ["indicators", "--theme", "cleantech"],
     ["entry 'cleantech', key 'sbi': sector codes not in 83582NED: 999999"]),
    ("theme: dangling indicator reference", "themes.yaml",
     lambda r: _entry(r, "themes", "ai_digital")["indicators"].append("lq_robots"),
     ["indicators", "--theme", "ai_digital"],
     ["entry 'ai_digital', key 'indicators': unknown indicator 'lq_robots'; valid:"]),
    ("table: unknown key", "tables.yaml",
     lambda r: _entry(r, "tables", "85924NED").update(owner="me"),
     ["data"], ["entry '85924NED', key 'owner'", "valid keys: id, title"]),
    ("table: wrong type", "tables.yaml",
     lambda r: _entry(r, "tables", "85924NED").update(national="sometimes"),
     ["fetch", "85924NED"], ["entry '85924NED', key 'national'", "boolean"]),
    ("table: misspelt source option", "tables.yaml",
     lambda r: _entry(r, "tables", "83582NED")["sources"][0]["options"].update(derive_region="CR"),
     ["data"], ["entry '83582NED'", "unknown option 'derive_region' for format odata_v3_csv; "
                "valid: derive_regions_from, derive_regions_to, separator"]),
    ("table: source option of the wrong type", "tables.yaml",
     lambda r: _entry(r, "tables", "83582NED")["sources"][0]["options"].update(
         derive_regions_from="COROP"),
     ["data"], ["entry '83582NED'", "derive_regions_from"]),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "file_name", "change", "argv", "fragments"),
    _cases(CONFIG_CASES, "declaration file"),
)
def test_malformed_declaration_is_refused(
    sandbox, capsys, case, file_name, change, argv, fragments
):
    path = sandbox.data / file_name
    _edit_yaml(path, change)
    before = tree_digest(sandbox.root)
    line = assert_refused(sandbox, *run_in_process(argv, capsys), *fragments)
    assert str(path) in line, "the error names the file"
    after = tree_digest(sandbox.root)
    assert after == before, describe_difference(before, after)


# ------------------------------------------------------------------ malformed CSV to import


def write_untyped_export(folder: Path) -> Path:
    """A StatLine UntypedDataSet CSV export (``ID;RegioS;Perioden;<measures>``, padded keys,
    '.' for a missing cell) of the snapshot's regional accounts for three provinces, as an
    analyst would download it from StatLine."""
    frame = store.read_table(paths.SNAPSHOT_DIR, "85924NED")
    frame = frame[frame.region_code.isin(["PV20", "PV21", "PV22"]) & (frame.year >= 2018)]
    wide = (
        frame.astype({"region_code": str, "period_code": str, "measure_code": str})
        .pivot(index=["region_code", "period_code"], columns="measure_code", values="value")
        .reset_index()
    )
    measures = [c for c in wide.columns if c not in ("region_code", "period_code")]
    lines = [";".join(f'"{c}"' for c in ["ID", "RegioS", "Perioden", *measures])]
    for i, row in enumerate(wide.itertuples(index=False)):
        cells = [str(i), row[0].ljust(6), row[1]]
        cells += ["." if pd.isna(v) else f"{v:g}" for v in row[2:]]
        lines.append(";".join(f'"{c}"' for c in cells))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "85924NED_UntypedDataSet_01042025_120000.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def _replace_line(number: int, old: str, new: str) -> Callable[[list[str]], None]:
    def change(lines: list[str]) -> None:
        assert old in lines[number - 1]
        lines[number - 1] = lines[number - 1].replace(old, new, 1)

    return change


def _set_field(number: int, index: int, text: str | None) -> Callable[[list[str]], None]:
    """Line ``number``: field ``index`` becomes ``text`` (raw, quotes included); None drops it."""

    def change(lines: list[str]) -> None:
        fields = lines[number - 1].split(";")
        if text is None:
            del fields[index]
        else:
            fields[index] = text
        lines[number - 1] = ";".join(fields)

    return change


CSV_CASES = [
    ("value that is not a number", _set_field(5, 4, '"12,5 mln"'), ":5:", ["not a number"]),
    ("unknown period code", _replace_line(4, "JJ00", "XX00"), ":4:",
     ["not a CBS period code", "2023JJ00"]),
    ("row with a field missing", _set_field(7, -1, None), ":7:",
     ["17 fields, the header has 18"]),
    ("broken quoting", _set_field(6, 5, '"1"2"'), ":6:", ["not a StatLine CSV export"]),
    ("no period column", _replace_line(1, "Perioden", "Jaar"), ":1:", ["no 'Perioden' column"]),
]  # fmt: skip


def test_the_untyped_export_imports_when_intact(sandbox, capsys):
    """The control: the unbroken export is imported (so each broken one fails for its defect)."""
    path = write_untyped_export(sandbox.root / "download")
    status, out, err = run_in_process(
        ["snapshot", "import", str(path), "--id", "bbp-check", "--title", "Bbp"], capsys
    )
    assert (status, err) == (0, "")
    assert "imported bbp-check (" in out
    assert (sandbox.data / "snapshot" / "bbp-check.parquet").is_file()


@pytest.mark.parametrize(
    ("case", "change", "where", "fragments"), _cases(CSV_CASES, "CSV to snapshot import")
)
def test_malformed_csv_import_is_refused(sandbox, capsys, case, change, where, fragments):
    path = write_untyped_export(sandbox.root / "download")
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    change(lines)
    path.write_text("\n".join(lines), encoding="utf-8-sig")
    before = tree_digest(sandbox.root)
    argv = ["snapshot", "import", str(path), "--id", "bbp-broken", "--title", "Bbp"]
    assert_refused(sandbox, *run_in_process(argv, capsys), f"{path}{where}", *fragments)
    after = tree_digest(sandbox.root)
    assert after == before, describe_difference(before, after)


# ------------------------------------------------------------------ raw files not as recorded


SHIPPED_RAW = paths.RAW_DIR  # before a sandbox points paths at its copy


def _tamper(raw: Path, rel: str, old: bytes, new: bytes) -> tuple[str, str]:
    """Change ``old`` -> ``new`` in a stored raw capture (the sandbox gets a copy of the
    shipped ones first); return (recorded, new) sha256."""
    if not raw.exists():
        shutil.copytree(SHIPPED_RAW, raw)
    stored = raw / (rel + ".gz")
    data = rawfiles.read_unchecked(stored)
    assert data.count(old) >= 1, rel
    changed = data.replace(old, new, 1)
    stored.write_bytes(rawfiles.gzip_bytes(changed))
    return rawfiles.sha256_bytes(data), rawfiles.sha256_bytes(changed)


@pytest.mark.slow
@pytest.mark.reliability(
    "bad input",
    "snapshot build with a raw file that differs from its record",
    "exit 2, one line naming the file and both sha256, nothing rebuilt (sandbox hashed)",
)
def test_build_refuses_a_raw_file_that_is_not_as_recorded(sandbox, capsys):
    rel = "cbs/72016ned/72016ned.csv"
    recorded, found = _tamper(sandbox.data / "raw", rel, b";2003;", b";2004;")
    before = tree_digest(sandbox.root)
    line = assert_refused(
        sandbox,
        *run_in_process(["snapshot", "build", "--quiet", "85268NED", "72016ned"], capsys),
        f"{sandbox.data / 'raw' / rel}.gz: sha256 {found} differs from the recorded {recorded}",
    )
    assert "raw_files.yaml" in line
    after = tree_digest(sandbox.root)
    assert after == before, describe_difference(before, after)


@pytest.mark.reliability(
    "bad input",
    "snapshot verify with two raw files that differ from their records",
    "exit 1, one line per file naming it and both sha256; nothing rebuilt or written",
)
def test_verify_names_every_raw_file_that_is_not_as_recorded(sandbox, capsys):
    raw = sandbox.data / "raw"
    first = _tamper(raw, "cbs/72016ned/72016ned.csv", b";2003;", b";2004;")
    second = _tamper(raw, "geo/provincie_2023.geojson", b"PV20", b"PV99")
    before = tree_digest(sandbox.root)
    status, out, err = run_in_process(["snapshot", "verify"], capsys)
    assert (status, err) == (1, "")
    assert out.splitlines() == [
        f"raw file: {raw}/cbs/72016ned/72016ned.csv.gz: sha256 {first[1]} differs from the "
        f"recorded {first[0]}",
        f"raw file: {raw}/geo/provincie_2023.geojson.gz: sha256 {second[1]} differs from the "
        f"recorded {second[0]}",
        "2 raw file(s) not as recorded; snapshot not checked",
    ]
    after = tree_digest(sandbox.root)
    assert after == before, describe_difference(before, after)


# ------------------------------------------------------------------ as real processes

PROCESS_CASES = [
    ("reports --jobs 0", ["reports", "--jobs", "0", "--quiet"], None,
     ["--jobs must be a whole number of at least 1"]),
    ("report with an unknown parameter", ["report", "cleantech", "-p", "regoin=LD01"], None,
     ["unknown parameter 'regoin'", "region"]),
    ("report with reversed years",
     ["report", "cleantech", "--start-year", "2020", "--end-year", "2010"], None,
     ["start_year 2020 is after end_year 2010"]),
    ("fetch of an unknown table", ["fetch", "NO-PE"], None,
     ["not a CBS table id: 'NO-PE'", "noordstats search"]),
    ("reports with a malformed claims.yaml", ["reports", "--only", "claims"],
     ("claims.yaml",
      lambda r: _entry(r, "claims", "earning_capacity_growth").update(verdict="yes")),
     ["entry 'earning_capacity_growth', key 'verdict'", "valid keys:"]),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "argv", "edit", "fragments"), _cases(PROCESS_CASES, "CLI process")
)
def test_bad_input_to_a_real_process(sandbox, case, argv, edit, fragments):
    if edit is not None:
        _edit_yaml(sandbox.data / edit[0], edit[1])
    site = write_sitecustomize(sandbox.root.parent / f"{sandbox.root.name}-site")
    env = subprocess_env(
        site,
        data_dir=sandbox.data,
        cache_dir=sandbox.cache,
        NOORDSTATS_CATALOG_URL=closed_port_url(),
    )
    if argv[0] in {"report", "reports"}:
        argv = [*argv, "--out", str(sandbox.out)]
    before = tree_digest(sandbox.root)
    done = run_cli(argv, env, cwd=sandbox.root, timeout=120)
    assert_refused(sandbox, done.returncode, done.stdout, done.stderr, *fragments)
    after = tree_digest(sandbox.root)
    assert after == before, describe_difference(before, after)
