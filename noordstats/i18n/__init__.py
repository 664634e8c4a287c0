"""The reports' two languages: Dutch (``nl``, the default) and English (``en``).

Every string a report shows that is not declared with the data lives once, in both languages side by
side, in ``catalogue.yaml`` beside this module; :func:`t` looks it up and fills in its
``{placeholders}``. Titles, definitions and caveats of themes, indicators and claims are declared in
the YAML declarations themselves, one ``{language: text}`` mapping per field; :func:`declared` picks
one by the one fallback rule (:func:`pick_text`). Numbers and dates follow the language:
``1.774.603``, ``29,5%``, ``30 november 2026`` in Dutch; ``1,774,603``, ``29.5%``, ``30 November
2026`` in English. Quotes from the position paper are never translated.

This module imports nothing from the project but :mod:`noordstats.paths` and
:mod:`noordstats.errors`, so every later stage
(analysis, report) can use it.
"""

from __future__ import annotations

import datetime as dt
import math
import string
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from noordstats import paths
from noordstats.errors import UserError

#: the packaged languages (deprecated: a working folder's catalogue may add one; see
#: :func:`languages`)
LANGS = ("nl", "en")
DEFAULT_LANG = "nl"
#: a declared text missing in the language asked for is taken from the first of these that has it
FALLBACK_LANGS = ("en", "nl")
CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")
#: the language data/tables.yaml's provenance notes and CBS's messages are recorded in
RECORDED_NOTES_LANG = "en"
#: the catalogue key every language declares (its own name); :func:`languages` lists them
LOCALE_NAME_KEY = "locale.name"


class LanguageError(UserError):
    """A language the catalogue does not have, or a string the catalogue lacks."""


def check_lang(lang: Any) -> str:
    """Return ``lang`` if it is a language of the reports, else raise :class:`LanguageError`."""
    if lang not in languages():
        raise LanguageError(f"unknown language {lang!r}; valid: {', '.join(languages())}")
    return lang


_language: list[str] = []  # set_language's choice for this process (a notebook's kernel)


def set_language(lang: str) -> None:
    """Set the language once for a notebook or a run: the report blocks, charts and maps called
    without ``lang`` then use it (an explicit ``lang=`` still wins)."""
    _language[:] = [check_lang(lang)]


def current_language() -> str:
    """The language :func:`set_language` set, else :data:`DEFAULT_LANG`."""
    return _language[0] if _language else DEFAULT_LANG


def resolve(lang: str | None) -> str:
    """``lang`` if given, else the current language; checked."""
    return check_lang(current_language() if lang is None else lang)


def languages() -> tuple[str, ...]:
    """The languages the catalogue has (those that name themselves, ``locale.name``): Dutch and
    English, plus any a working folder's ``catalogue.yaml`` adds."""
    return tuple(catalogue().get(LOCALE_NAME_KEY, {}))


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """``{key: {language: text}}``: ``catalogue.yaml``, with a working folder's
    ``catalogue.yaml`` over it (its texts replace or add languages, key by key)."""
    merged = _read_catalogue(CATALOGUE_FILE)
    if paths.CATALOGUE_OVERLAY_FILE is not None:
        for key, texts in _read_catalogue(paths.CATALOGUE_OVERLAY_FILE).items():
            merged[key] = {**merged.get(key, {}), **texts}
    return merged


def _read_catalogue(path: Path) -> dict[str, dict[str, str]]:
    try:
        # libyaml's loader where PyYAML has it: every report's kernel reads the catalogue
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as exc:
        raise LanguageError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise LanguageError(f"{path}: expected a mapping of key to {{language: text}}")
    return {str(key): {str(k): str(v) for k, v in texts.items()} for key, texts in raw.items()}


def t(key: str, lang: str, **params: Any) -> str:
    """The catalogue's text for ``key`` in ``lang`` with ``params`` filled in."""
    entry = catalogue().get(key)
    if entry is None:
        raise LanguageError(f"no string {key!r} in {CATALOGUE_FILE.name}")
    text = entry.get(check_lang(lang))
    if text is None:
        raise LanguageError(f"string {key!r} has no {lang!r} text in {CATALOGUE_FILE.name}")
    return text.format(**params) if params else text


def has(key: str) -> bool:
    return key in catalogue()


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a catalogue text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def pick_text(texts: Any, lang: str) -> str:
    """The one fallback rule for declared texts: ``{language: text}`` in ``lang``, else in the
    first of :data:`FALLBACK_LANGS` that has it, else in any language given, else ``""``."""
    for candidate in (lang, *FALLBACK_LANGS):
        if texts.get(candidate):
            return str(texts[candidate])
    return next((str(v) for v in texts.values() if v), "")


def declared(entry: Any, field: str, lang: str) -> str:
    """A declaration's text ``field`` (a ``{language: text}`` mapping, see
    :class:`noordstats.declarations.texts.Text`) in ``lang``, by :func:`pick_text`."""
    check_lang(lang)
    value = getattr(entry, field, None)
    texts = getattr(value, "texts", None)
    if texts is not None:
        return pick_text(texts, lang)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- numbers and dates


def locale(lang: str) -> dict[str, str]:
    """The number and CSV conventions of ``lang`` (the catalogue's ``locale.*`` entries):
    ``decimal_mark``, ``thousands_separator``, ``csv_separator``."""
    check_lang(lang)
    names = ("decimal_mark", "thousands_separator", "csv_separator")
    return {name: t(f"locale.{name}", lang) for name in names}


def _swap_separators(text: str, lang: str) -> str:
    """Python writes ``1,234.5``; each language writes its own marks (Dutch: ``1.234,5``)."""
    marks = locale(lang)
    table = {",": marks["thousands_separator"], ".": marks["decimal_mark"]}
    return "".join(table.get(c, c) for c in text)


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: Any, lang: str, decimals: int | None = None) -> str:
    """A number as readers of ``lang`` write it. With ``decimals``: that many; without: four
    significant digits, but large counts in full (``1.774.603``, not ``1,775e+06``)."""
    if is_missing(value):
        return t("number.missing", lang)
    value = float(value)
    if decimals is not None:
        spec = f",.{decimals}f"
    else:
        spec = ",.0f" if abs(value) >= 10_000 else ",.4g"
    return _swap_separators(format(value, spec), check_lang(lang))


def percent(value: Any, lang: str, decimals: int = 1) -> str:
    """``29,5%`` / ``29.5%``."""
    if is_missing(value):
        return t("number.missing", lang)
    return f"{number(value, lang, decimals)}%"


def date(value: Any, lang: str) -> str:
    """``30 november 2026`` / ``30 November 2026`` from a date, a datetime or an ISO text (a
    text that is not a date is returned as it is)."""
    if is_missing(value) or value == "":
        return t("date.unknown", lang)
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    month = t(f"month.{value.month}", lang)
    return f"{value.day} {month} {value.year}"


def plotly_separators(lang: str) -> str:
    """plotly's ``layout.separators``: decimal mark, then thousands separator."""
    marks = locale(lang)
    return marks["decimal_mark"] + marks["thousands_separator"]


def csv_options(lang: str) -> dict[str, str]:
    """How a CSV download is written for ``lang``: Dutch spreadsheets read ``;`` between fields
    and a decimal comma (as CBS's own StatLine CSV files), English ones ``,`` and a point."""
    marks = locale(lang)
    return {"sep": marks["csv_separator"], "decimal": marks["decimal_mark"]}
