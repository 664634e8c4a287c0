"""Rewrite declaration files from the language-suffixed keys to one mapping per text field.

``python -m noordstats.declarations.migrate_texts DIR [DIR ...]`` rewrites the ``claims.yaml``,
``indicators.yaml`` and ``themes.yaml`` found in each folder (``data/`` of a checkout, or a
working folder) in place::

    title_nl: "Reële bbp-groei"            title:
    title_en: "Real GDP growth"      ->      nl: "Reële bbp-groei"
                                              en: "Real GDP growth"

    definition: >-                          definition:
      Average annual ...            ->        en: >-
    definition_nl: >-                           Average annual ...
      Gemiddelde ...                          nl: >-
                                                Gemiddelde ...

Only the lines of those keys change (comments, order and every other line stay as written), a
plain ``unit: "%"`` without a Dutch twin stays one text for every language, and a file already in
the mapping form is left untouched, so running it again changes nothing. Before writing, the file
is read both ways and must declare exactly the same texts; otherwise it is left as it was and the
tool exits with status 1 naming it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from noordstats import paths
from noordstats.declarations.texts import OLD_KEYS, fold_old_keys

#: field -> {language: older key}, over every kind of declaration (the names do not clash)
FIELDS: dict[str, dict[str, str]] = {f: k for kinds in OLD_KEYS.values() for f, k in kinds.items()}
#: the order languages are written in
LANG_ORDER = ("nl", "en")
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<dash>- )?(?P<key>[A-Za-z_]\w*):(?P<rest>.*)$")


class _Key:
    """One ``key: value`` of a YAML mapping with the lines of its value."""

    def __init__(self, lines: list[str], start: int, indent: int, key: str, rest: str) -> None:
        self.start, self.indent, self.key, self.rest = start, indent, key, rest
        self.end = start + 1  # one past the last line of its value
        self.lines = lines

    @property
    def continuation(self) -> list[str]:
        return self.lines[self.start + 1 : self.end]


def _scan(lines: list[str]) -> dict[tuple[int, int], list[_Key]]:
    """The keys of every mapping, grouped by (its first line, its indent)."""
    blocks: dict[tuple[int, int], list[_Key]] = {}
    open_blocks: list[tuple[int, int]] = []  # (indent, first line) from outer to inner
    keys: list[_Key] = []
    scalar_of: int | None = None  # indent of the key whose scalar value the lines continue
    for number, line in enumerate(lines):
        depth = len(line) - len(line.lstrip())
        if scalar_of is not None and (not line.strip() or depth > scalar_of):
            continue  # a line of a (block or multi-line) scalar, whatever it looks like
        scalar_of = None
        match = _KEY_LINE.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        indent = len(match["indent"]) + (2 if match["dash"] else 0)
        value = match["rest"].strip()
        if value and not value.startswith("#"):
            scalar_of = indent
        while open_blocks and (
            open_blocks[-1][0] > indent or (match["dash"] and open_blocks[-1][0] == indent)
        ):
            open_blocks.pop()
        if not open_blocks or open_blocks[-1][0] < indent:
            open_blocks.append((indent, number))
        key = _Key(lines, number, indent, match["key"], match["rest"])
        blocks.setdefault((open_blocks[-1][1], indent), []).append(key)
        keys.append(key)
    for key, following in zip(keys, [*keys[1:], None], strict=True):
        end = following.start if following is not None else len(lines)
        while end > key.start + 1 and _ends_value(lines[end - 1], key.indent):
            end -= 1
        key.end = end
    return blocks


def _ends_value(line: str, indent: int) -> bool:
    """A trailing line that belongs after a value, not to it: blank, or a comment no deeper
    than the key."""
    stripped = line.strip()
    if not stripped:
        return True
    return stripped.startswith("#") and len(line) - len(line.lstrip()) <= indent


def migrate_text(text: str) -> str:
    """The file's text with every language-suffixed key folded into a mapping."""
    lines = text.splitlines(keepends=True)
    replace: dict[int, tuple[int, list[str]]] = {}  # first line -> (end, new lines)
    for keys in _scan(lines).values():
        by_name = {k.key: k for k in keys}
        for field, by_lang in FIELDS.items():
            suffixed = [key for key in by_lang.values() if key != field and key in by_name]
            if not suffixed:
                continue
            parts = [by_name[key] for key in by_lang.values() if key in by_name]
            base = by_name.get(field)
            if base is not None and base.rest.strip() == "" and base.continuation:
                raise ValueError(
                    f"line {base.start + 1}: {field!r} is a mapping and has {suffixed}"
                )
            pad = " " * parts[0].indent
            new = [f"{pad}{field}:\n"]
            for lang in [lang for lang in LANG_ORDER if lang in by_lang] + [
                lang for lang in by_lang if lang not in LANG_ORDER
            ]:
                key = by_name.get(by_lang[lang])
                if key is None:
                    continue
                new.append(f"{pad}  {lang}:{key.rest}\n")
                new.extend("  " + line if line.strip() else line for line in key.continuation)
            first = min(p.start for p in parts)
            for part in parts:
                replace[part.start] = (part.end, [])
            replace[first] = (replace[first][0], new)
    out: list[str] = []
    number = 0
    while number < len(lines):
        if number in replace:
            end, new = replace[number]
            out.extend(new)
            number = end
        else:
            out.append(lines[number])
            number += 1
    return "".join(out)


def _texts(path: Path, text: str) -> Any:
    """The file's declared content with the older keys folded (what the readers see)."""
    raw = yaml.safe_load(text)
    kind = {"claims.yaml": "claim", "indicators.yaml": "indicator", "themes.yaml": "theme"}
    top = {"claim": "claims", "indicator": "indicators", "theme": "themes"}[kind[path.name]]

    def fold(kind_: str, entry: Any) -> Any:
        entry = fold_old_keys(kind_, entry)
        if kind_ == "claim" and isinstance(entry, dict):
            entry = dict(entry)
            if entry.get("rule") is not None:
                entry["rule"] = fold_old_keys("rule", entry["rule"])
            if entry.get("readings"):
                entry["readings"] = [fold_old_keys("rule", r) for r in entry["readings"]]
        return entry

    return {**raw, top: [fold(kind[path.name], e) for e in raw.get(top) or []]}


def migrate_file(path: Path) -> bool:
    """Rewrite ``path`` in place; True when it changed. Raises ValueError when the rewritten
    file would declare other texts than the original."""
    text = path.read_text(encoding="utf-8")
    new = migrate_text(text)
    if new == text:
        return False
    if _texts(path, new) != _texts(path, text):
        raise ValueError(f"{path}: the rewritten file would declare other texts; left as it was")
    tmp = path.with_name(f".{path.name}.migrating")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m noordstats.declarations.migrate_texts",
        description="rewrite claims/indicators/themes.yaml to one {language: text} per field",
    )
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    status = 0
    for folder in args.folders:
        if not folder.is_dir():
            print(f"migrate_texts: {folder}: not a folder", file=sys.stderr)
            return 2
        for name in paths.EDITABLE_DECLARATIONS:
            path = folder / name
            if not path.is_file():
                continue
            try:
                changed = migrate_file(path)
            except ValueError as exc:
                print(f"migrate_texts: {exc}", file=sys.stderr)
                status = 1
                continue
            print(f"{path}: {'rewritten' if changed else 'already in the mapping form'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
