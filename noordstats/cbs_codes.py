"""CBS quirks as small pure functions: keys, period codes, region levels, status, cell values.

Nothing here reads files or talks to the network; every function is tested on plain strings.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

from noordstats import i18n
from noordstats.errors import UserError

#: CBS period types (the two letters in ``2021KW03``) and the frequency names we use.
FREQUENCIES: dict[str, str] = {
    "JJ": "year",
    "KW": "quarter",
    "MM": "month",
    "HJ": "half-year",
    "SJ": "school-year",
    "X0": "multi-year",
}

#: Region code prefixes and their level; the level is what the code says, not a guess.
REGION_LEVELS: dict[str, str] = {
    "NL": "NL",  # Nederland
    "LD": "LD",  # landsdeel
    "PV": "PV",  # provincie
    "CR": "CR",  # COROP-gebied
    "GM": "GM",  # gemeente
    "CP": "CP",  # COROP-plusgebied
    "AM": "AM",  # arbeidsmarktregio
    "ES": "ES",  # RES-regio (energy)
    "ET": "ET",  # energieregio
    "LG": "LG",  # landbouwgebied
    "WK": "WK",  # wijk
    "BU": "BU",  # buurt
}

#: Marker cells as CBS writes them: value (None = no figure) and meaning.
MISSING_MARKERS: dict[str, str] = {
    "": "not published",
    ".": "not available",
    "x": "secret",
    "?": "unreliable",
}
NIL_MARKERS = {"-"}  # CBS "nihil": the figure is zero

#: CBS status words, folded (lower case, no spaces, ``_`` or ``-``) -> the project's names.
STATUS_NAMES: dict[str, str] = {
    "definitief": "definitief",
    "voorlopig": "voorlopig",
    "nadervoorlopig": "nader voorlopig",
    "berekend": "berekend",
    "onbekend": "onbekend",
}

_PERIOD_CODE = re.compile(r"^(\d{4})([A-Z][A-Z0-9])(\d{2})$")
#: A valid CBS period code, as a regular expression (for vectorised checks).
PERIOD_CODE_PATTERN = r"^\d{4}(?:" + "|".join(FREQUENCIES) + r")\d{2}$"
_DUTCH_MONTHS = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]  # fmt: skip
_QUARTER_LABEL = re.compile(r"^(\d{4}) ([1-4])e kwartaal$")
_MONTH_LABEL = re.compile(r"^(\d{4}) (" + "|".join(_DUTCH_MONTHS) + r")$")
_SCHOOL_YEAR_LABEL = re.compile(r"^(\d{4})/'(\d{2})$")
_HALF_YEAR_LABEL = re.compile(r"^(\d{4}) (eerste|tweede) helft$")
_YEAR_LABEL = re.compile(r"^(\d{4})$")


class CodeError(UserError):
    """A key, code or label that does not follow CBS's conventions."""


class UnknownStatusWarning(UserWarning):
    """A CBS status word the project does not know; it is kept as CBS wrote it."""


@dataclass(frozen=True)
class Period:
    code: str
    year: int
    frequency: str
    index: int  # quarter, month or half-year number; 0 for whole years


def strip_key(key: str) -> str:
    """CBS pads dimension keys with spaces (``'PV20  '``); return the bare key."""
    return key.strip()


def decode_period(code: str) -> Period:
    """``'2021KW03'`` -> Period(year=2021, frequency='quarter', index=3)."""
    bare = strip_key(code)
    match = _PERIOD_CODE.match(bare)
    if not match or match.group(2) not in FREQUENCIES:
        raise CodeError(
            f"not a CBS period code: {code!r} (expected YYYY + one of "
            f"{', '.join(FREQUENCIES)} + NN, e.g. 2021JJ00)"
        )
    year, kind, index = match.groups()
    return Period(bare, int(year), FREQUENCIES[kind], int(index))


#: statuses a reader is told beside the period ("2024 (voorlopig)")
_MARKED_STATUSES = ("voorlopig", "nader voorlopig")


def describe_period(code: object, lang: str, status: str | None = None) -> str:
    """A period code in the words of ``lang``: ``2024JJ00`` -> ``2024``, ``2023SJ00`` ->
    ``2023/'24``, ``2024KW04`` -> ``4e kwartaal 2024`` / ``Q4 2024``, ``2024MM03`` -> ``maart
    2024``, ``2024HJ01`` -> ``1e helft 2024``; with ``status`` ``voorlopig`` (or ``nader
    voorlopig``) ``2024 (voorlopig)`` / ``2024 (provisional)``. A value that is not a period code
    (a year, a span such as ``2019-2023``, ``-``) is returned as it is; None is ``–``."""
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return "–"
    text = str(code)
    try:
        period = decode_period(text)
    except CodeError:
        words = text
    else:
        words = i18n.t(
            f"period.{period.frequency}",
            lang,
            year=period.year,
            next=f"{(period.year + 1) % 100:02d}",
            n=period.index,
            month=i18n.t(f"month.{period.index}", lang) if period.frequency == "month" else "",
        )
    if status in _MARKED_STATUSES and words.strip("-– "):
        status_words = i18n.t(f"status.{status}", lang)
        words = i18n.t("period.with_status", lang, period=words, status=status_words)
    return words


def is_provisional_label(label: str) -> bool:
    """StatLine marks provisional periods with ``*``; the OData harvest with a trailing space."""
    return label.endswith("*") or (label != label.rstrip() and label.strip() != "")


def encode_period_label(label: str, year_label_suffix: str | None = None) -> str:
    """A CBS period title -> its code: ``'2023'`` -> ``2023JJ00``, ``'2023 1e kwartaal'`` ->
    ``2023KW01``, ``'2023 maart'`` -> ``2023MM03``, ``"2023/'24"`` -> ``2023SJ00``,
    ``'2024 eerste helft'`` -> ``2024HJ01``. Provisional marks (``*``, trailing space) are ignored.

    ``year_label_suffix`` handles tables whose yearly periods carry a month in their title
    (83582NED: ``'2023 december'`` is the year code ``2023JJ00``).
    """
    text = label.strip().rstrip("*").strip()
    if year_label_suffix and text.endswith(" " + year_label_suffix):
        text = text[: -len(year_label_suffix) - 1]
    if m := _YEAR_LABEL.match(text):
        return f"{m.group(1)}JJ00"
    if m := _QUARTER_LABEL.match(text):
        return f"{m.group(1)}KW0{m.group(2)}"
    if m := _MONTH_LABEL.match(text):
        return f"{m.group(1)}MM{_DUTCH_MONTHS.index(m.group(2)) + 1:02d}"
    if m := _SCHOOL_YEAR_LABEL.match(text):
        return f"{m.group(1)}SJ00"
    if m := _HALF_YEAR_LABEL.match(text):
        return f"{m.group(1)}HJ0{1 if m.group(2) == 'eerste' else 2}"
    raise CodeError(
        f"unknown CBS period label {label!r} (expected e.g. '2023', '2023 1e kwartaal', "
        "'2023 maart', \"2023/'24\", '2024 eerste helft')"
    )


def region_level(code: str) -> str:
    """``'PV20'`` -> ``'PV'``. Raises for a code whose prefix CBS does not use."""
    bare = strip_key(code)
    level = REGION_LEVELS.get(bare[:2])
    if level is None or len(bare) < 4:
        raise CodeError(f"not a CBS region code: {code!r} (prefixes: {', '.join(REGION_LEVELS)})")
    return level


def parse_value(cell: str | float | int | None, decimal_comma: bool = False) -> float:
    """One CBS cell -> float; missing markers (``''``, ``.``, ``x``, ``?``) become NaN, never 0.

    ``-`` is CBS's "nihil" and is a true zero.
    """
    if cell is None:
        return math.nan
    if isinstance(cell, int | float):
        return float(cell)
    text = cell.strip()
    if text in MISSING_MARKERS:
        return math.nan
    if text in NIL_MARKERS:
        return 0.0
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise CodeError(
            f"not a CBS cell value: {cell!r} (a number, or one of {sorted(MISSING_MARKERS)} / '-')"
        ) from None


def normalise_status(text: str | None) -> str:
    """CBS status words -> ``definitief`` / ``voorlopig`` / ``nader voorlopig`` / ``berekend``;
    empty -> ``onbekend``. OData v3 writes ``NaderVoorlopig`` (one word), StatLine ``Nader
    voorlopig``: case, spaces, ``_`` and ``-`` do not matter. A word not in
    :data:`STATUS_NAMES` is kept as CBS wrote it (stripped) with an
    :class:`UnknownStatusWarning`, never an error: a new status must not stop a download."""
    if not text or not text.strip():
        return "onbekend"
    folded = re.sub(r"[\s_-]+", "", text).lower()
    if folded in STATUS_NAMES:
        return STATUS_NAMES[folded]
    warnings.warn(
        f"unknown CBS status {text!r} kept as is (known: Definitief, Voorlopig, NaderVoorlopig)",
        UnknownStatusWarning,
        stacklevel=2,
    )
    return text.strip()


_KEY_SUFFIX = re.compile(r"_\d+$")
_KEY_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-zà-ÿ]+|[A-Z]+|\d+")


def is_measure_key(key: str) -> bool:
    """CBS OData measure keys end in ``_<position>`` (``Vestigingen_1``); dimension keys do not."""
    return bool(_KEY_SUFFIX.search(key.strip()))


def title_from_key(key: str) -> str:
    """A readable title from a CBS measure key, for sources that give no title:
    ``'BanenVanWerknemersInDecember_1'`` -> ``'Banen van werknemers in december'``,
    ``'k_2Tot10WerkzamePersonen_4'`` -> ``'2 tot 10 werkzame personen'``,
    ``'PersonenautoS_196'`` -> ``"Personenauto's"``. Acronyms stay in capitals."""
    bare = _KEY_SUFFIX.sub("", key.strip())
    bare = bare[2:] if bare.startswith("k_") else bare
    words: list[str] = []
    for token in _KEY_TOKEN.findall(bare):
        if token == "S" and words:
            words[-1] += "'s"
        elif words and not (len(token) > 1 and token.isupper()):
            words.append(token.lower())
        else:
            words.append(token)
    if not words:
        raise CodeError(f"not a CBS measure key: {key!r}")
    return " ".join(words)


def key_from_title(title: str) -> str:
    """A key-like code for a measure that a source names only by title (StatLine exports):
    ``'Leerlingen/studenten'`` -> ``'LeerlingenStudenten'``. Never used where CBS gives a key."""
    words = re.findall(r"\w+", title.strip())
    if not words:
        raise CodeError(f"cannot build a key from the title {title!r}")
    return "".join(w[:1].upper() + w[1:] for w in words)


def status_from_label(label: str, unmarked: str = "onbekend") -> str:
    """The status a StatLine period title carries: ``'2023**'`` -> ``nader voorlopig``,
    ``'2023*'`` (or the harvest's trailing space) -> ``voorlopig``; an unmarked title gets
    ``unmarked`` (``definitief`` in a StatLine export, ``onbekend`` where marks were lost)."""
    if label.rstrip().endswith("**"):
        return "nader voorlopig"
    if is_provisional_label(label):
        return "voorlopig"
    if unmarked not in {"definitief", "onbekend"}:
        raise CodeError(f"an unmarked period is 'definitief' or 'onbekend', not {unmarked!r}")
    return unmarked
