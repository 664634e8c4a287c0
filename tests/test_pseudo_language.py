"""A language is data: a pseudo-language ``xx`` added in a temporary working folder (its
catalogue.yaml and one declared title, nothing else) renders a report without changing code."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from noordstats import i18n, paths

PSEUDO = "xx"
LOCALE = {
    "locale.name": "Pseudo",
    "locale.decimal_mark": "'",
    "locale.thousands_separator": "_",
    "locale.csv_separator": "|",
}


def pseudo_catalogue() -> dict[str, dict[str, str]]:
    """Every packaged string in ``xx``: the English between ⟦ ⟧ (placeholders kept)."""
    out = {key: {PSEUDO: f"⟦{texts['en']}⟧"} for key, texts in i18n.catalogue().items()}
    out.update({key: {PSEUDO: text} for key, text in LOCALE.items()})
    return out


def run_cli(folder, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, paths.HOME_ENV: str(folder)}
    return subprocess.run(
        [sys.executable, "-m", "noordstats.cli", *argv],
        capture_output=True, text=True, cwd=folder, env=env, timeout=600,
    )  # fmt: skip


@pytest.mark.slow
def test_a_pseudo_language_in_a_working_folder_renders_a_report(tmp_path):
    folder = tmp_path / "noord"
    done = run_cli(tmp_path, "init", str(folder))
    assert done.returncode == 0, done.stderr
    (folder / "catalogue.yaml").write_text(
        yaml.safe_dump(pseudo_catalogue(), allow_unicode=True), encoding="utf-8"
    )
    themes_file = folder / "themes.yaml"
    raw = yaml.safe_load(themes_file.read_text(encoding="utf-8"))
    agrofood = next(t for t in raw["themes"] if t["id"] == "agrofood")
    title = agrofood.pop("title", None) or {"nl": agrofood.pop("title_nl")}
    agrofood.pop("title_en", None)
    agrofood["title"] = {**title, PSEUDO: "Agrofood-XX"}
    themes_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    done = run_cli(folder, "report", "agrofood", "--lang", PSEUDO, "--out", str(folder / "out"))
    assert done.returncode == 0, done.stderr
    page = (folder / "out" / "theme-agrofood-LD01-xx.html").read_text(encoding="utf-8")
    assert '<html lang="xx"' in page or 'lang="xx"' in page
    assert "Agrofood-XX — ⟦" not in page  # the region's name is data, not a catalogue string
    assert "Agrofood-XX" in page and "⟦" in page  # the declared title and the pseudo strings
    assert re.search(r'class="value">\d+\'\d', page), "figures use the pseudo decimal mark"
    assert (folder / "out" / "index-xx.html").is_file()
    # the packaged languages still work and an unknown one is refused in one line
    refused = run_cli(folder, "report", "agrofood", "--lang", "zz", "--out", str(folder / "o2"))
    assert refused.returncode == 2 and "valid: nl, en, xx" in refused.stderr
    assert not (folder / "o2").exists()
