"""Declared texts in every language: one mapping per field, ``title: {nl: ..., en: ...}``.

A declaration's reader-facing text (a title, a definition, a unit with words, a caveat, a rule in
words) is written in the YAML as a mapping from language to text; adding a language adds
entries, never keys or code. :class:`Text` holds such a mapping; :meth:`Text.in_lang` picks a
language with the one fallback rule (:func:`noordstats.i18n.pick_text`).

The older form, one key per language with three naming patterns (``title_nl``/``title_en``,
``definition``/``definition_nl``, ``claim_en``/``claim_nl``), is still read for one release: it is
folded into the mapping and the file is named in one warning line;
``python -m noordstats.declarations.migrate_texts DIR`` rewrites a folder's files to the mapping.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic_core import core_schema

from noordstats.i18n import FALLBACK_LANGS, pick_text

log = logging.getLogger(__name__)


#: field -> {language: the older key that held that language's text}, per declaration kind
OLD_KEYS: dict[str, dict[str, dict[str, str]]] = {
    "indicator": {
        "title": {"nl": "title_nl", "en": "title_en"},
        "definition": {"en": "definition", "nl": "definition_nl"},
        "unit": {"en": "unit", "nl": "unit_nl"},
        "comparability": {"en": "comparability", "nl": "comparability_nl"},
        "dated_reason": {"en": "dated_reason", "nl": "dated_reason_nl"},
    },
    "theme": {
        "title": {"nl": "title_nl", "en": "title_en"},
        "rationale": {"en": "rationale", "nl": "rationale_nl"},
        "limits": {"en": "limits", "nl": "limits_nl"},
    },
    "claim": {
        "claim": {"en": "claim_en", "nl": "claim_nl"},
        "reason_not_testable": {"en": "reason_not_testable", "nl": "reason_not_testable_nl"},
        "direct_measure": {"en": "direct_measure", "nl": "direct_measure_nl"},
    },
    "rule": {
        "text": {"en": "text", "nl": "text_nl"},
        "validity_reason": {"en": "validity_reason", "nl": "validity_reason_nl"},
    },
}

_warned: set[str] = set()


class Text(str):
    """A declared text in each language it is given in.

    ``in_lang(lang)`` is the text to show. As a plain ``str`` (deprecated: code of the
    language-suffixed era) it is the text in the first fallback language that has one.
    """

    texts: dict[str, str]

    def __new__(cls, texts: Mapping[str, Any] | None = None) -> Text:
        given = {str(k): str(v) for k, v in (texts or {}).items() if v is not None and v != ""}
        obj = super().__new__(cls, pick_text(given, FALLBACK_LANGS[0]))
        obj.texts = given
        return obj

    def in_lang(self, lang: str) -> str:
        """The text in ``lang`` by the one fallback rule (:func:`noordstats.i18n.pick_text`)."""
        return pick_text(self.texts, lang)

    def get(self, lang: str) -> str | None:
        """The text as written in ``lang`` (no fallback), or None."""
        return self.texts.get(lang)

    @property
    def languages(self) -> list[str]:
        return list(self.texts)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (self.texts,))

    @classmethod
    def parse(cls, value: Any) -> Text:
        if isinstance(value, Text):
            return value
        if value is None:
            return cls({})
        if isinstance(value, Mapping):
            bad = [k for k, v in value.items() if not isinstance(k, str) or not isinstance(v, str)]
            if bad:
                raise ValueError(
                    f"expected a mapping of language to text, e.g. {{nl: ..., en: ...}}; "
                    f"{bad[0]!r} is not a language with its text"
                )
            return cls(value)
        if isinstance(value, str):  # a text in one language: the older form's English
            return cls({FALLBACK_LANGS[0]: value})
        raise ValueError("expected a mapping of language to text, e.g. {nl: ..., en: ...}")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v.texts),
        )


def fold_old_keys(kind: str, raw: Any) -> Any:
    """One raw YAML entry with the older language-suffixed keys folded into one mapping per
    field (``title_nl`` + ``title_en`` -> ``title: {nl, en}``; ``definition`` + ``definition_nl``
    -> ``definition: {en, nl}``); anything else as it is. A plain string where no suffixed key
    goes with it is one text for every language (``unit: "%"``)."""
    if not isinstance(raw, dict) or not uses_old_keys(kind, raw):
        return raw
    out = dict(raw)
    for field, by_lang in OLD_KEYS[kind].items():
        if not any(key in out for key in by_lang.values() if key != field):
            continue
        base = out.pop(field, None)
        texts = dict(base) if isinstance(base, Mapping) else {}
        for lang, key in by_lang.items():
            value = base if key == field and not isinstance(base, Mapping) else out.pop(key, None)
            if value is not None:
                texts.setdefault(lang, value)
        out[field] = texts
    return out


def uses_old_keys(kind: str, raw: Any) -> bool:
    """Whether a raw entry spells a text with a language-suffixed key (``title_nl``)."""
    if not isinstance(raw, dict):
        return False
    return any(
        key in raw
        for by_lang in OLD_KEYS[kind].values()
        for key in by_lang.values()
        if key not in OLD_KEYS[kind]
    )


def old_text_keys_folder(kind: str) -> Any:
    """A pydantic ``mode="before"`` model validator that folds the older keys (see
    :func:`fold_old_keys`)."""

    def fold(cls: type, raw: Any) -> Any:
        return fold_old_keys(kind, raw)

    return classmethod(fold)


def deprecated_text_property(field: str, lang: str) -> property:
    """``entry.title_nl`` and the like, for code of the language-suffixed era: the text as
    written in ``lang`` (no fallback), or None. Deprecated: use ``entry.<field>.in_lang(lang)``
    or :func:`noordstats.i18n.declared`."""

    def get(self: Any) -> str | None:
        return getattr(self, field).get(lang)

    return property(get, doc=f"deprecated: {field}.get({lang!r})")


def warn_old_form(path: Path, entries: Iterable[tuple[str, Any]]) -> None:
    """One warning line per folder whose declarations still use the older keys (``entries``:
    (kind, raw entry) of one file)."""
    folder = str(path.parent)
    if folder in _warned or not any(uses_old_keys(k, raw) for k, raw in entries):
        return
    _warned.add(folder)
    log.warning(
        "%s: texts in the older language-suffixed keys (title_nl, claim_en, ...) are read for "
        "one more release; convert: python -m noordstats.declarations.migrate_texts %s",
        path,
        folder,
    )
