"""The reports' two languages: Dutch (``nl``, the default) and English (``en``).

Every string a report shows that is not declared with the data lives once, in both languages side by
side, in ``catalogue.yaml`` beside this module; :func:`t` looks it up and fills in its
``{placeholders}``. Titles, definitions and caveats of themes, indicators and claims are declared in
the YAML declarations themselves, one ``{language: text}`` mapping per field; :func:`declared` picks
one by the one fallback rule (:func:`pick_text`). Numbers and dates follow the language:
``1.774.603``, ``29,5%``, ``30 november 2026`` in Dutch; ``1,774,603``, ``29.5%``, ``30 November
2026`` in English. Quotes from the position paper are never translated.

This module imports nothing from the project but :mod:`noordstats.errors`, so every later stage
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

from noordstats.errors import UserError

LANGS = ("nl", "en")
DEFAULT_LANG = "nl"
#: a declared text missing in the language asked for is taken from the first of these that has it
FALLBACK_LANGS = ("en", "nl")
CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")


class LanguageError(UserError):
    """A language that is not one of :data:`LANGS`, or a string the catalogue lacks."""


def check_lang(lang: Any) -> str:
    """Return ``lang`` if it is a language of the reports, else raise :class:`LanguageError`."""
    if lang not in LANGS:
        raise LanguageError(f"unknown language {lang!r}; valid: {', '.join(LANGS)}")
    return lang


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """``{key: {"nl": text, "en": text}}`` as written in ``catalogue.yaml``."""
    raw = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return {str(key): {k: str(v) for k, v in texts.items()} for key, texts in raw.items()}


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


def _swap_separators(text: str, lang: str) -> str:
    """Python writes ``1,234.5``; Dutch writes ``1.234,5``."""
    if lang == "nl":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


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
    return ",." if check_lang(lang) == "nl" else ".,"


def csv_options(lang: str) -> dict[str, str]:
    """How a CSV download is written for ``lang``: Dutch spreadsheets read ``;`` between fields
    and a decimal comma (as CBS's own StatLine CSV files), English ones ``,`` and a point."""
    if check_lang(lang) == "nl":
        return {"sep": ";", "decimal": ","}
    return {"sep": ",", "decimal": "."}
