"""The declaration files: shipped ones load and read as the paper says; every schema error names
file, entry and key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from noordstats import paths
from noordstats.declarations.claims import VERDICTS, load_claims, read_claims
from noordstats.declarations.files import ConfigError
from noordstats.declarations.indicators import TRANSFORMS, load_indicators, read_indicators
from noordstats.declarations.tables import read_table_declarations
from noordstats.declarations.themes import (
    check_theme,
    load_themes,
    read_themes,
    theme_ids,
)


@pytest.fixture(scope="module")
def tables():
    return read_table_declarations(paths.TABLES_FILE)


@pytest.fixture(scope="module")
def raw_indicators() -> dict:
    return yaml.safe_load(paths.INDICATORS_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw_themes() -> dict:
    return yaml.safe_load(paths.THEMES_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw_claims() -> dict:
    return yaml.safe_load(paths.CLAIMS_FILE.read_text(encoding="utf-8"))


def write(tmp_path: Path, name: str, content: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- shipped files ----------------------------------------------------------------------------


def test_shipped_declarations_load():
    indicators = load_indicators()
    specs = load_themes()
    claims = load_claims()
    assert list(specs) == theme_ids()
    assert len(theme_ids()) == 8
    assert {s.kind for s in specs.values()} == {"specialisation", "foundation"}
    assert [s.id for s in specs.values() if s.kind == "specialisation"] == theme_ids()[:4]
    assert all(i in indicators for s in specs.values() for i in s.indicators)
    assert len(claims) >= 15


def test_at_least_15_claims_are_testable_and_the_rest_give_a_reason():
    claims = load_claims()
    testable = [c for c in claims if c.testable]
    assert len(testable) >= 15
    for claim in claims:
        if claim.testable:
            assert claim.readings and all(r.text.strip() for r in claim.readings)
            assert all(r.min_year is not None for r in claim.readings)
            # a claim whose readings are all context has no rule that gives a verdict
            judging = [r for r in claim.readings if r.validity != "context"]
            assert claim.rule == (judging[0] if judging else None)
        else:
            assert claim.reason_not_testable and claim.rule is None


def test_every_quote_is_verbatim_from_the_paper():
    paper = paths.PAPER_FILE.read_text(encoding="utf-8")  # ships in data/raw/paper/
    for claim in load_claims():
        assert claim.quote_nl in paper, claim.id


def test_every_theme_has_claims_and_every_specialisation_is_mapped_or_explained():
    claims = load_claims()
    assert {c.theme for c in claims} == set(theme_ids())
    for spec in load_themes().values():
        assert spec.rationale.strip() and spec.limits.strip()
        assert spec.indicators


def test_check_specialisation_names_valid_choices():
    assert check_theme("cleantech") == "cleantech"
    with pytest.raises(ConfigError, match="valid: cleantech, life_sciences_health"):
        check_theme("space")


# --- indicators.yaml errors -------------------------------------------------------------------


def _indicator_error(tmp_path, raw_indicators, tables, change) -> str:
    data = copy.deepcopy(raw_indicators)
    change(data)
    path = write(tmp_path, "indicators.yaml", data)
    with pytest.raises(ConfigError) as info:
        read_indicators(path, tables)
    message = str(info.value)
    assert str(path) in message
    return message


def test_indicator_unknown_key(tmp_path, raw_indicators, tables):
    def change(d):
        d["indicators"][0]["colour"] = "red"

    message = _indicator_error(tmp_path, raw_indicators, tables, change)
    first = raw_indicators["indicators"][0]["id"]
    assert f"entry {first!r}" in message and "'colour'" in message


@pytest.mark.slow
def test_indicator_wrong_type(tmp_path, raw_indicators, tables):
    def change(d):
        d["indicators"][1]["decimals"] = "two"

    message = _indicator_error(tmp_path, raw_indicators, tables, change)
    assert "'decimals'" in message and raw_indicators["indicators"][1]["id"] in message


def test_indicator_unknown_table(tmp_path, raw_indicators, tables):
    def change(d):
        d["indicators"][0]["table"] = "99999NED"

    message = _indicator_error(tmp_path, raw_indicators, tables, change)
    assert "'table'" in message and "unknown table '99999NED'" in message and "85924NED" in message


def test_indicator_unknown_measure(tmp_path, raw_indicators, tables):
    def change(d):
        d["indicators"][0]["measure"] = "NoSuchMeasure_99"

    message = _indicator_error(tmp_path, raw_indicators, tables, change)
    assert "'measure'" in message and "NoSuchMeasure_99" in message


def test_indicator_unknown_denominator_measure(tmp_path, raw_indicators, tables):
    def change(d):
        with_den = next(i for i in d["indicators"] if "denominator" in i)
        with_den["denominator"]["measure"] = "Nope_1"

    message = _indicator_error(tmp_path, raw_indicators, tables, change)
    assert "'denominator.measure'" in message


@pytest.mark.slow
def test_indicator_unknown_filter_dimension_and_code(tmp_path, raw_indicators, tables):
    def wrong_dimension(d):
        with_filter = next(i for i in d["indicators"] if i.get("filters"))
        with_filter["filters"] = {"colour": ["red"]}

    assert "no dimension 'colour'" in _indicator_error(
        tmp_path, raw_indicators, tables, wrong_dimension
    )

    def wrong_code(d):
        with_filter = next(i for i in d["indicators"] if i.get("table") == "83582NED")
        with_filter["filters"] = {"sector": ["999999"]}

    assert "999999" in _indicator_error(tmp_path, raw_indicators, tables, wrong_code)


def test_indicator_unknown_transform_lists_valid_ones(tmp_path, raw_indicators, tables):
    def change(d):
        d["indicators"][0]["transform"] = "magic"

    message = _indicator_error(tmp_path, raw_indicators, tables, change)
    assert "unknown transform 'magic'" in message
    assert all(t in message for t in TRANSFORMS)


def test_indicator_transform_arguments(tmp_path, raw_indicators, tables):
    def no_denominator(d):
        d["indicators"][0]["transform"] = "location_quotient"
        d["indicators"][0].pop("denominator", None)

    assert "needs a 'denominator'" in _indicator_error(
        tmp_path, raw_indicators, tables, no_denominator
    )

    def no_span(d):
        d["indicators"][0]["transform"] = "growth"
        d["indicators"][0].pop("span_years", None)

    assert "needs 'span_years'" in _indicator_error(tmp_path, raw_indicators, tables, no_span)


def test_indicator_duplicate_id(tmp_path, raw_indicators, tables):
    def change(d):
        d["indicators"].append(copy.deepcopy(d["indicators"][0]))

    assert "duplicate id" in _indicator_error(tmp_path, raw_indicators, tables, change)


def test_indicator_region_profile_reference(tmp_path, raw_indicators, tables):
    def change(d):
        d["region_profile"].append("no_such_indicator")

    assert "no_such_indicator" in _indicator_error(tmp_path, raw_indicators, tables, change)


def test_indicator_file_shape(tmp_path, tables):
    path = tmp_path / "indicators.yaml"
    path.write_text("indicators: {a: 1}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="top-level 'indicators:' list"):
        read_indicators(path, tables)
    path.write_text("indicators: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        read_indicators(path, tables)


# --- themes.yaml errors --------------------------------------------------------------


def _spec_error(tmp_path, raw_themes, tables, change) -> str:
    data = copy.deepcopy(raw_themes)
    change(data)
    path = write(tmp_path, "themes.yaml", data)
    with pytest.raises(ConfigError) as info:
        read_themes(path, load_indicators(), tables)
    assert str(path) in str(info.value)
    return str(info.value)


def test_theme_unknown_key(tmp_path, raw_themes, tables):
    def change(d):
        d["themes"][0]["budget"] = 10

    message = _spec_error(tmp_path, raw_themes, tables, change)
    assert "entry 'cleantech'" in message and "'budget'" in message


def test_theme_wrong_type_and_kind(tmp_path, raw_themes, tables):
    def wrong_type(d):
        d["themes"][1]["indicators"] = "lq_jobs_health"

    assert "'indicators'" in _spec_error(tmp_path, raw_themes, tables, wrong_type)

    def wrong_kind(d):
        d["themes"][1]["kind"] = "hobby"

    assert "'kind'" in _spec_error(tmp_path, raw_themes, tables, wrong_kind)


def test_theme_unknown_indicator(tmp_path, raw_themes, tables):
    def change(d):
        d["themes"][2]["indicators"].append("no_such_indicator")

    message = _spec_error(tmp_path, raw_themes, tables, change)
    assert "entry 'ai_digital'" in message and "no_such_indicator" in message


def test_theme_unknown_sector_code(tmp_path, raw_themes, tables):
    def change(d):
        d["themes"][0]["sbi"] = ["D", "Z9"]

    message = _spec_error(tmp_path, raw_themes, tables, change)
    assert "'sbi'" in message and "83582NED" in message and "Z9" in message


def test_theme_sectors_as_sbi_letters_or_cbs_keys(tmp_path, raw_themes, tables):
    """SBI letters in themes.yaml become the sector table's CBS keys; keys stay keys."""
    themes = load_themes()
    assert themes["cleantech"].sbi == ["346600", "348000"]  # D, E in 83582NED's code list
    assert themes.sectors.table == "83582NED" and themes.sectors.total == "T001081"
    data = copy.deepcopy(raw_themes)
    data["themes"][0]["sbi"] = ["346600", "E"]
    path = write(tmp_path, "themes.yaml", data)
    assert read_themes(path, load_indicators(), tables)["cleantech"].sbi == ["346600", "348000"]


def test_theme_sector_table_is_checked(tmp_path, raw_themes, tables):
    for key, value, expected in [
        ("table", "99999NED", "unknown table '99999NED'"),
        ("measure", "Jobs", "has no measure 'Jobs'"),
        ("dimension", "branche", "has no dimension 'branche'"),
        ("total", "ZZ", "sector code not in 83582NED: ZZ"),
    ]:

        def change(d, key=key, value=value):
            d["sectors"][key] = value

        message = _spec_error(tmp_path, raw_themes, tables, change)
        assert "entry 'sectors'" in message and expected in message, message


def test_themes_are_declared_once_in_the_file(tmp_path, raw_themes, tables):
    """The shipped themes are the paper's eight, in its order; their list is the file's: a theme
    added there is a theme, a duplicate id is refused."""
    assert theme_ids() == [
        "cleantech", "life_sciences_health", "ai_digital", "defence_security",
        "agrofood", "talent", "economy", "vestigingsklimaat",
    ]  # fmt: skip
    data = copy.deepcopy(raw_themes)
    extra = copy.deepcopy(data["themes"][-1])
    extra["id"] = "space"
    data["themes"].append(extra)
    assert (
        list(read_themes(write(tmp_path, "themes.yaml", data), load_indicators(), tables))[-1]
        == "space"
    )

    def duplicate(d):
        d["themes"].append(copy.deepcopy(d["themes"][0]))

    assert "duplicate id" in _spec_error(tmp_path, raw_themes, tables, duplicate)


# --- claims.yaml errors -----------------------------------------------------------------------


def _claim_error(tmp_path, raw_claims, change) -> str:
    data = copy.deepcopy(raw_claims)
    change(data)
    path = write(tmp_path, "claims.yaml", data)
    with pytest.raises(ConfigError) as info:
        read_claims(path, load_indicators())
    assert str(path) in str(info.value)
    return str(info.value)


def _first(d: dict, testable: bool) -> dict:
    """The first claim that is (not) testable; a testable one declared with a single 'rule'."""
    return next(
        c for c in d["claims"] if c["testable"] is testable and (not testable or "rule" in c)
    )


def _first_with_readings(d: dict) -> dict:
    return next(c for c in d["claims"] if len(c.get("readings", [])) > 1)


@pytest.mark.slow
def test_claim_readings_are_strictly_validated(tmp_path, raw_claims):
    def both(d):
        claim = _first_with_readings(d)
        claim["rule"] = claim["readings"][0]

    assert "either 'rule'" in _claim_error(tmp_path, raw_claims, both)

    def unlisted(d):
        claim = _first_with_readings(d)
        claim["readings"][1]["indicator"] = next(
            i for i in load_indicators() if i not in claim["indicators"]
        )

    assert "'readings.1.indicator'" in _claim_error(tmp_path, raw_claims, unlisted)

    def wrong_type(d):
        _first_with_readings(d)["readings"][1]["supported"][0]["at_least"] = "a lot"

    assert "readings.1.supported.0.at_least" in _claim_error(tmp_path, raw_claims, wrong_type)

    def twice(d):
        claim = _first_with_readings(d)
        claim["readings"][1]["indicator"] = claim["readings"][0]["indicator"]

    assert "same indicator" in _claim_error(tmp_path, raw_claims, twice)

    def unknown_key(d):
        _first_with_readings(d)["readings"][0]["weight"] = 2

    assert "readings.0.weight" in _claim_error(tmp_path, raw_claims, unknown_key)


def test_readings_keep_their_order_and_the_primary_is_the_rule():
    for claim in load_claims():
        if claim.testable:
            assert claim.readings and claim.rule in (claim.readings[0], None)
            assert all(r.min_year is not None for r in claim.readings)
            kinds = [r.validity for r in claim.readings]
            assert kinds == sorted(kinds, key=lambda k: k == "context")  # context comes last
        else:
            assert claim.rule is None and not claim.readings


def test_claim_unknown_key(tmp_path, raw_claims):
    def change(d):
        _first(d, True)["verdict"] = "supported"

    message = _claim_error(tmp_path, raw_claims, change)
    assert f"entry {_first(raw_claims, True)['id']!r}" in message and "'verdict'" in message


def test_claim_wrong_type(tmp_path, raw_claims):
    def change(d):
        _first(d, True)["rule"]["supported"][0]["at_least"] = "a lot"

    assert "rule.supported.0.at_least" in _claim_error(tmp_path, raw_claims, change)


def test_claim_unknown_indicator(tmp_path, raw_claims):
    def change(d):
        _first(d, True)["indicators"].append("no_such_indicator")

    message = _claim_error(tmp_path, raw_claims, change)
    assert "'indicators'" in message and "no_such_indicator" in message


def test_claim_rule_indicator_must_be_listed(tmp_path, raw_claims):
    def change(d):
        claim = _first(d, True)
        claim["rule"]["indicator"] = next(
            i for i in load_indicators() if i not in claim["indicators"]
        )

    assert "'rule.indicator'" in _claim_error(tmp_path, raw_claims, change)


def test_claim_needs_rule_or_reason(tmp_path, raw_claims):
    def no_rule(d):
        _first(d, True).pop("rule")

    assert "needs a 'rule'" in _claim_error(tmp_path, raw_claims, no_rule)

    def no_reason(d):
        claim = _first(d, False)
        for key in ("reason_not_testable", "reason_not_testable_nl"):  # either form
            claim.pop(key, None)

    assert "reason_not_testable" in _claim_error(tmp_path, raw_claims, no_reason)


@pytest.mark.slow
def test_claim_unknown_theme_metric_and_duplicate(tmp_path, raw_claims):
    def theme(d):
        _first(d, True)["theme"] = "tourism"

    assert "unknown theme 'tourism'" in _claim_error(tmp_path, raw_claims, theme)

    def metric(d):
        _first(d, True)["rule"]["supported"][0]["metric"] = "vibes"

    assert "metric" in _claim_error(tmp_path, raw_claims, metric)

    def duplicate(d):
        d["claims"].append(copy.deepcopy(d["claims"][0]))

    assert "duplicate id" in _claim_error(tmp_path, raw_claims, duplicate)


def test_claim_condition_needs_a_bound(tmp_path, raw_claims):
    def change(d):
        _first(d, True)["rule"]["supported"] = [{"metric": "value"}]

    assert "at least one of" in _claim_error(tmp_path, raw_claims, change)


def test_verdict_vocabulary():
    assert VERDICTS == [
        "supported",
        "partly supported",
        "not supported",
        "insufficient data",
        "not testable",
    ]
