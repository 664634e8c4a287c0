"""The verdict vocabulary, once: each verdict's id (the same in the YAML, the code, the CSV and
JSON outputs and the manifest), its place in every list, the CSS class of its badge and matrix
cell (styled in ``report.css``) and its colour in charts. Its words are in the catalogue
(``verdict.<id>``)."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """A claim's verdict; the definition order is the order of every list and legend."""

    SUPPORTED = "supported"
    PARTLY_SUPPORTED = "partly supported"
    NOT_SUPPORTED = "not supported"
    INSUFFICIENT_DATA = "insufficient data"
    NOT_TESTABLE = "not testable"

    @property
    def css_class(self) -> str:
        return _CSS_CLASS[self]

    @property
    def colour(self) -> str:
        return _COLOUR[self]

    @property
    def order(self) -> int:
        return list(Verdict).index(self)

    @property
    def is_judged(self) -> bool:
        """The rule was applied to a figure (not: no figure, not testable)."""
        return self in (Verdict.SUPPORTED, Verdict.PARTLY_SUPPORTED, Verdict.NOT_SUPPORTED)


_CSS_CLASS = {
    Verdict.SUPPORTED: "ok",
    Verdict.PARTLY_SUPPORTED: "partly",
    Verdict.NOT_SUPPORTED: "no",
    Verdict.INSUFFICIENT_DATA: "nodata",
    Verdict.NOT_TESTABLE: "nodata",
}
_COLOUR = {
    Verdict.SUPPORTED: "#2e8540",
    Verdict.PARTLY_SUPPORTED: "#e0a800",
    Verdict.NOT_SUPPORTED: "#c0392b",
    Verdict.INSUFFICIENT_DATA: "#9e9e9e",
    Verdict.NOT_TESTABLE: "#cfcfcf",
}

#: the verdict ids in order (plain strings, as stored in frames and files)
VERDICTS: list[str] = [v.value for v in Verdict]
#: the CSS class of a verdict that is not one of these (a failed or unknown value)
UNKNOWN_CSS_CLASS = "nodata"


def css_class(verdict: object) -> str:
    """The CSS class of ``verdict`` (a :class:`Verdict` or its id); unknown ones get 'nodata'."""
    return Verdict(verdict).css_class if verdict in VERDICTS else UNKNOWN_CSS_CLASS


def order(verdict: object) -> int:
    """Place of ``verdict`` in lists; unknown ones last."""
    return Verdict(verdict).order if verdict in VERDICTS else len(VERDICTS)
