"""Declared texts as one {language: text} mapping per field: the one fallback rule, the older
language-suffixed keys still read (one warning line), and the migration tool that rewrites a
folder's declarations (only those keys' lines, the same texts, idempotent)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

import pytest
import yaml

from noordstats import i18n, paths
from noordstats.declarations.claims import read_claims
from noordstats.declarations.files import ConfigError
from noordstats.declarations.indicators import load_indicators, read_indicators
from noordstats.declarations.migrate_texts import migrate_text
from noordstats.declarations.texts import OLD_KEYS, Text, fold_old_keys, uses_old_keys
from noordstats.declarations.themes import read_themes

FILES = paths.EDITABLE_DECLARATIONS


def test_the_one_fallback_rule():
    text = Text({"nl": "Aandeel", "en": "Share"})
    assert [text.in_lang(lang) for lang in ("nl", "en", "xx")] == ["Aandeel", "Share", "Share"]
    assert Text({"nl": "Alleen Nederlands"}).in_lang("en") == "Alleen Nederlands"
    assert Text({"xx": "only xx"}).in_lang("nl") == "only xx" and Text({}).in_lang("nl") == ""
    assert Text.parse("%").in_lang("nl") == "%"  # a plain string: the same in every language
    assert str(text) == "Share"  # deprecated: a plain str is the first fallback language's


def test_every_declared_text_is_picked_in_its_language():
    for ind in load_indicators().values():
        for field in OLD_KEYS["indicator"]:
            value = getattr(ind, field)
            for lang in i18n.languages():
                expected = value.get(lang) or i18n.pick_text(value.texts, lang)
                assert i18n.declared(ind, field, lang) == expected, (ind.id, field, lang)
        assert ind.title.get("nl") and ind.title.get("en"), ind.id


def test_the_older_keys_fold_into_the_mapping():
    raw = {"id": "x", "title_nl": "Titel", "title_en": "Title", "definition": "Def",
           "definition_nl": "Definitie", "unit": "%"}  # fmt: skip
    folded = fold_old_keys("indicator", raw)
    assert folded["title"] == {"nl": "Titel", "en": "Title"}
    assert folded["definition"] == {"en": "Def", "nl": "Definitie"} and folded["unit"] == "%"
    assert not uses_old_keys("indicator", folded) and uses_old_keys("indicator", raw)
    assert fold_old_keys("indicator", folded) == folded


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("migrated")
    for name in FILES:
        shutil.copyfile(paths.DATA_DIR / name, folder / name)
    done = subprocess.run(
        [sys.executable, "-m", "noordstats.declarations.migrate_texts", str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder


def _texts(registry) -> dict:
    entries = registry.values() if isinstance(registry, dict) else registry
    out = {}
    for entry in entries:
        for kind in ("indicator", "theme", "claim"):
            for field in OLD_KEYS[kind]:
                value = getattr(entry, field, None)
                if isinstance(value, Text):
                    out[(entry.id, field)] = {
                        k: " ".join(v.split()) for k, v in value.texts.items()
                    }
        for i, rule in enumerate(getattr(entry, "readings", [])):
            out[(entry.id, f"reading {i}")] = dict(rule.text.texts)
    return out


@pytest.mark.slow
def test_the_migration_keeps_every_text_and_only_touches_text_keys(migrated):
    indicators = read_indicators(migrated / "indicators.yaml")
    packaged = read_indicators(paths.DATA_DIR / "indicators.yaml")
    assert _texts(indicators) == _texts(packaged)
    assert _texts(read_themes(migrated / "themes.yaml", indicators)) == _texts(
        read_themes(paths.DATA_DIR / "themes.yaml", packaged)
    )
    assert _texts(read_claims(migrated / "claims.yaml", indicators)) == _texts(
        read_claims(paths.DATA_DIR / "claims.yaml", packaged)
    )
    suffixed = {k for kinds in OLD_KEYS.values() for f, by in kinds.items() for k in by.values()}
    for name in FILES:
        before = (paths.DATA_DIR / name).read_text(encoding="utf-8")
        after = (migrated / name).read_text(encoding="utf-8")
        # comments stay; no language-suffixed key is left
        assert [c for c in before.splitlines() if c.startswith("#")] == [
            c for c in after.splitlines() if c.startswith("#")
        ]
        keys = {line.split(":")[0].strip(" -") for line in after.splitlines() if ":" in line}
        assert not keys & {k for k in suffixed if k.endswith(("_nl", "_en"))} - {"quote_nl"}
        assert migrate_text(after) == after  # idempotent
        assert yaml.safe_load(after)


@pytest.mark.slow
def test_a_folder_in_the_older_form_is_named_in_one_warning_line(tmp_path, caplog):
    old = tmp_path / "old"
    old.mkdir()
    raw = yaml.safe_load((paths.DATA_DIR / "indicators.yaml").read_text(encoding="utf-8"))
    first = raw["indicators"][0]
    if "title" in first:  # the packaged file in the mapping form: write this entry the old way
        title = first.pop("title")
        first["title_nl"], first["title_en"] = title["nl"], title["en"]
    (old / "indicators.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    with caplog.at_level(logging.WARNING):
        registry = read_indicators(old / "indicators.yaml")
        read_indicators(old / "indicators.yaml")
    lines = [r.getMessage() for r in caplog.records if "older language-suffixed" in r.getMessage()]
    assert len(lines) == 1 and "migrate_texts" in lines[0] and str(old) in lines[0]
    assert registry[first["id"]].title.get("nl") == first["title_nl"]


@pytest.mark.reliability(
    "bad input",
    "a declared text given as a list instead of {language: text}",
    "one line naming the file, the entry, the key and the expected mapping; exit status 2",
)
def test_a_text_that_is_not_a_mapping_is_refused(tmp_path):
    raw = yaml.safe_load((paths.DATA_DIR / "indicators.yaml").read_text(encoding="utf-8"))
    first = raw["indicators"][0]
    for key in ("title_nl", "title_en", "title"):
        first.pop(key, None)
    first["title"] = ["Titel", "Title"]
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(ConfigError) as caught:
        read_indicators(path)
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    assert str(path) in message and first["id"] in message and "title" in message
    assert "{nl: ..., en: ...}" in message


@pytest.mark.reliability(
    "bad input",
    "migrate_texts given a path that is not a folder",
    "one line naming it; exit status 2; nothing written",
)
def test_the_migration_refuses_what_is_not_a_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "noordstats.declarations.migrate_texts", str(tmp_path / "nope")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "not a folder" in done.stderr
    assert list(tmp_path.iterdir()) == []
