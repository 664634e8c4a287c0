"""The paper's claims (``data/claims.yaml``): the verbatim quote, the theme, and the readings
(an indicator and its verdict rule each) written down before the figures were looked at.

A claim declares one ``rule`` or a list of ``readings``; either way :attr:`Claim.readings` holds
them and :attr:`Claim.rule` is the primary reading that gives the verdict: the first reading that
is not *context*. The other readings are checks: they say whether the verdict holds when the claim
is measured another way.

Every reading declares its validity (:data:`VALIDITY`), with a one-line reason: a *direct*
measure of what the sentence says, a *proxy*, or *context* only. The class bounds the verdict a
reading can give (:data:`MAX_VERDICT`): a proxy at most 'partly supported'; context gives none,
so a claim whose readings are all context is 'insufficient data'. A claim without a direct
reading says what would measure it (``direct_measure``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from noordstats import paths
from noordstats.declarations.files import Strict, fail, read_file_model, validate_entries
from noordstats.declarations.indicators import Indicator, load_indicators, unknown_indicator
from noordstats.declarations.tables import get_declaration
from noordstats.declarations.texts import (
    Text,
    deprecated_text_property,
    old_text_keys_folder,
    warn_old_form,
)
from noordstats.declarations.themes import theme_ids
from noordstats.declarations.verdicts import VERDICTS  # noqa: F401 (re-exported)

#: how well a reading measures what the paper's sentence says
VALIDITY = {
    "direct": "a direct measure of what the sentence says",
    "proxy": "a proxy: related to what the sentence says, not a measure of it",
    "context": "context only: shown beside the verdict, never gives one",
}
#: the best verdict a reading of each validity class can give (context gives none)
MAX_VERDICT = {"direct": "supported", "proxy": "partly supported", "context": None}


METRICS = {
    "value": "the region's figure",
    "minus_nl": "the region's figure minus the Netherlands' figure",
    "ratio_to_nl": "the region's figure / the Netherlands' figure",
    "rank": "the region's rank among regions of its level (1 = best)",
}


class Condition(Strict):
    metric: Literal["value", "minus_nl", "ratio_to_nl", "rank"] = "value"
    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _has_bound(self) -> Condition:
        if all(b is None for b in (self.at_least, self.above, self.at_most, self.below)):
            raise ValueError("a condition needs at least one of at_least, above, at_most, below")
        return self


class Rule(Strict):
    """One reading of a claim: the figure, its validity and the rule that judges it."""

    indicator: str
    validity: Literal["direct", "proxy", "context"] = Field(
        description="direct measure of the sentence, proxy, or context only"
    )
    validity_reason: Text = Field(description="{language: why this class, in one line}")
    text: Text = Field(description="{language: the rule in words and numbers}, written first")
    supported: list[Condition]
    partly: list[Condition] = []
    min_year: int | None = None

    @property
    def max_verdict(self) -> str | None:
        """The best verdict this reading can give (None: context gives none)."""
        return MAX_VERDICT[self.validity]

    _fold_old_text_keys = model_validator(mode="before")(old_text_keys_folder("rule"))
    text_nl = deprecated_text_property("text", "nl")
    validity_reason_nl = deprecated_text_property("validity_reason", "nl")

    @field_validator("validity_reason")
    @classmethod
    def _reason_in_a_line(cls, value: Text) -> Text:
        if len(str(value).strip()) < 10:
            raise ValueError("say in one line (10 characters or more) why this validity class")
        return value


class Claim(Strict):
    id: str
    section: str
    theme: str
    quote_nl: str
    claim: Text = Field(description="{language: what is tested}")
    testable: bool
    indicators: list[str] = []
    rationale: str
    rule: Rule | None = None
    readings: list[Rule] = []
    reason_not_testable: Text = Field(default_factory=Text)
    direct_measure: Text = Field(
        default_factory=Text,
        description="where no reading is direct: {language: what would measure the sentence, "
        "and which CBS table would be needed}",
    )

    _fold_old_text_keys = model_validator(mode="before")(old_text_keys_folder("claim"))
    claim_en = deprecated_text_property("claim", "en")
    claim_nl = deprecated_text_property("claim", "nl")
    reason_not_testable_nl = deprecated_text_property("reason_not_testable", "nl")
    direct_measure_nl = deprecated_text_property("direct_measure", "nl")

    @model_validator(mode="after")
    def _rule_or_reason(self) -> Claim:
        if self.rule is not None and self.readings:
            raise ValueError("give either 'rule' (one reading) or 'readings', not both")
        judged = self.rule is not None or bool(self.readings)
        if self.testable and not judged:
            raise ValueError("a testable claim needs a 'rule' (or 'readings')")
        if not self.testable and not self.reason_not_testable:
            raise ValueError("a claim that is not testable needs 'reason_not_testable'")
        if not self.testable and judged:
            raise ValueError("a claim that is not testable cannot have a 'rule' or 'readings'")
        indicators = [r.indicator for r in self.readings]
        if len(set(indicators)) != len(indicators):
            raise ValueError("two readings of a claim use the same indicator")
        # one form inside: readings (the primary first) and rule (the primary, or None when
        # every reading is context)
        if self.rule is not None:
            object.__setattr__(self, "readings", [self.rule])
        readings = self.readings
        if readings:
            judging = [r for r in readings if r.validity != "context"]
            if judging and readings[0].validity == "context":
                raise ValueError("list the readings that give a verdict before the context ones")
            object.__setattr__(self, "rule", judging[0] if judging else None)
        if (
            self.testable
            and not any(r.validity == "direct" for r in readings)
            and not self.direct_measure
        ):
            raise ValueError(
                "no reading is direct: say what would measure the sentence ('direct_measure')"
            )
        return self

    @property
    def judged(self) -> bool:
        """Whether the claim has readings (testable), even if they are all context."""
        return bool(self.readings)


class ClaimFile(Strict):
    default_min_year: int = Field(
        description="figures older than this cannot test a claim about today"
    )
    claims: list[dict]


def read_claims(path: Path, indicators: dict[str, Indicator]) -> list[Claim]:
    """``data/claims.yaml`` -> claims in file order; indicators and themes are checked."""
    top = read_file_model(path, "claims", ClaimFile)
    entries = validate_entries(path, top.claims, Claim)
    warn_old_form(path, _raw_texts(top.claims))
    claims = []
    for claim in entries.values():
        if claim.theme not in theme_ids():
            valid = ", ".join(theme_ids())
            fail(path, claim.id, "theme", f"unknown theme {claim.theme!r}; valid: {valid}")
        for ind_id in claim.indicators:
            if ind_id not in indicators:
                fail(path, claim.id, "indicators", unknown_indicator(ind_id, indicators))
        if claim.readings:
            claim = _check_readings(path, claim, top.default_min_year, indicators)
        claims.append(claim)
    return claims


def _raw_texts(raw_claims: list[dict]) -> list[tuple[str, object]]:
    """(kind, raw entry) of every claim and every reading, for the older-keys warning."""
    out: list[tuple[str, object]] = []
    for raw in raw_claims:
        out.append(("claim", raw))
        if isinstance(raw, dict):
            readings = [raw.get("rule"), *(raw.get("readings") or [])]
            out.extend(("rule", r) for r in readings if r is not None)
    return out


def _check_readings(
    path: Path, claim: Claim, default_min_year: int, indicators: dict[str, Indicator]
) -> Claim:
    """Every reading's indicator is one of the claim's; a missing min_year gets the default."""
    single = len(claim.readings) == 1 and claim.model_fields_set.isdisjoint({"readings"})
    readings = []
    for i, reading in enumerate(claim.readings):
        key = "rule" if single else f"readings.{i}"
        if reading.indicator not in claim.indicators:
            fail(
                path, claim.id, f"{key}.indicator",
                f"{reading.indicator!r} is not one of the claim's indicators",
            )  # fmt: skip
        allocated = [
            t for t in indicators[reading.indicator].tables
            if get_declaration(t).regional_method == "allocated"
        ]  # fmt: skip
        if allocated and reading.validity != "context":
            fail(
                path, claim.id, f"{key}.validity",
                f"{reading.indicator!r} reads {', '.join(allocated)}, whose regional figures are "
                "allocated by a key: it can be 'context' only, never a reading of where an "
                "activity takes place",
            )  # fmt: skip
        if reading.min_year is None:
            reading = reading.model_copy(update={"min_year": default_min_year})
        readings.append(reading)
    judging = [r for r in readings if r.validity != "context"]
    return claim.model_copy(update={"readings": readings, "rule": judging[0] if judging else None})


@cache
def load_claims() -> list[Claim]:
    """The paper's claims (``data/claims.yaml``), validated, in the paper's order."""
    return read_claims(paths.CLAIMS_FILE, load_indicators())
