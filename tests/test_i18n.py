"""The reports' two languages: every string of the catalogue in Dutch and English with the same
placeholders, every key the code and the notebooks ask for present, every declared text a report
shows declared in Dutch beside the English (with the same figures), and numbers and dates
written the way each language writes them."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re

import pytest

from noordstats import cbs_codes, i18n, paths
from noordstats.analysis import frames
from noordstats.declarations.claims import METRICS, VERDICTS, load_claims
from noordstats.declarations.indicators import load_indicators
from noordstats.declarations.texts import Text
from noordstats.declarations.themes import load_themes
from noordstats.report.page import blocks, charts

#: keys whose two texts may use different placeholders (and why)
PLACEHOLDERS_MAY_DIFFER = {
    "caveat.partial_copy",  # the English quotes tables.yaml's (English) provenance note
}
CODE_FILES = sorted(paths.PACKAGE_DIR.rglob("*.py"))
NOTEBOOK_FILES = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))


def test_every_string_has_both_languages_and_the_same_placeholders():
    catalogue = i18n.catalogue()
    assert len(catalogue) > 150
    for key, texts in catalogue.items():
        assert set(texts) == set(i18n.languages()), f"{key}: languages {sorted(texts)}"
        assert all(text.strip() for text in texts.values()), f"{key}: an empty text"
        if key not in PLACEHOLDERS_MAY_DIFFER:
            expected = i18n.placeholders(texts[i18n.DEFAULT_LANG])
            assert all(i18n.placeholders(text) == expected for text in texts.values()), key
    assert set(i18n.LANGS) <= set(i18n.languages())


def _literal_keys(source: str) -> set[str]:
    """Keys passed as a plain string to t(...) / i18n.t(...) / show_narrative / caption."""
    keys = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        if name == "t":
            keys.add(first.value)
        elif name == "show_narrative":
            keys.add(f"narrative.{first.value}")
        elif name == "caption":
            keys.add(f"caption.{first.value}")
    return keys


def _dynamic_keys() -> set[str]:
    """The keys the code builds from declared values (f-strings)."""
    columns = {
        *blocks.FIGURE_TABLE_COLUMNS, *blocks.SECTOR_TABLE_COLUMNS, *blocks.CLAIM_TABLE_COLUMNS,
        *charts.SECTOR_CHART_COLUMNS, *charts.TREND_CHART_COLUMNS, "value_index", "theme_title",
        "claims", "indicator_id", "title", "period", "unit", "value", "nl_value",
    }  # fmt: skip
    return {
        *(f"verdict.{v}" for v in VERDICTS),
        *(f"status.{s}" for s in frames.STATUS_RANK),
        *(f"level.plural.{level}" for level in ("LD", "PV", "CR", "GM", "other")),
        *(f"metric.{m}" for m in METRICS),
        *(f"month.{m}" for m in range(1, 13)),
        *(f"theme.kind.{theme.kind}" for theme in load_themes().values()),
        *(f"report.{k}.{p}" for k in ("claims", "region_profile") for p in ("title", "subtitle")),
        *(f"column.{c}" for c in columns),
        *(f"fresh.{g}" for g in ("all_snapshot", "n_snapshot", "all_cache", "n_cache")),
        *(f"fresh.group.{g}" for g in ("snapshot", "cache", "live", "other")),
        *(f"fresh.item.{g}" for g in ("snapshot", "cache", "live", "other")),
        *(f"fresh.reason.{r}" for r in ("unreachable", "unusable", "not_live", "unknown")),
        *(f"period.{f}" for f in cbs_codes.FREQUENCIES.values()),
        *(f"provenance.{c}" for c in ("complete", "partial")),
        *(f"claims.head.{h}" for h in ("claim", "figure", "comparison", "verdict", "rule")),
        *(f"definitions.{f}" for f in ("rationale", "limits")),
        *(f"index.head.{h}" for h in ("report", "figures", "claims", "data", "region")),
    }  # fmt: skip


def test_every_key_the_code_and_the_notebooks_use_is_in_the_catalogue():
    used = set(_dynamic_keys())
    for path in CODE_FILES:
        used |= _literal_keys(path.read_text(encoding="utf-8"))
    for notebook in NOTEBOOK_FILES:
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                used |= _literal_keys("".join(cell["source"]))
    assert any(k.startswith("narrative.theme.") for k in used), "notebooks were scanned"
    missing = sorted(k for k in used if not i18n.has(k))
    assert missing == [], f"not in {i18n.CATALOGUE_FILE.name}: {missing}"


def test_an_unknown_key_or_language_is_refused():
    with pytest.raises(i18n.LanguageError, match="no string"):
        i18n.t("no.such.key", "nl")
    with pytest.raises(i18n.LanguageError, match="valid: nl, en"):
        i18n.t("verdict.supported", "fr")


def _declared_pairs():
    """(where, English text, Dutch text) of every declared text a report shows."""
    for theme in load_themes().values():
        for field in ("title", "rationale", "limits"):
            yield (
                f"themes.yaml {theme.id} {field}",
                i18n.declared(theme, field, "en"),
                getattr(theme, f"{field}_nl"),
            )
    for ind in load_indicators().values():
        yield f"indicators.yaml {ind.id} title", ind.title_en, ind.title_nl
        yield f"indicators.yaml {ind.id} definition", ind.definition, ind.definition_nl
        if ind.comparability:
            yield f"indicators.yaml {ind.id} comparability", ind.comparability, ind.comparability_nl
        if re.search(r"[A-Za-z]", ind.unit):
            yield f"indicators.yaml {ind.id} unit", ind.unit, ind.unit_nl
        if ind.dated_reason:
            yield f"indicators.yaml {ind.id} dated_reason", ind.dated_reason, ind.dated_reason_nl
    for claim in load_claims():
        yield f"claims.yaml {claim.id} claim", claim.claim_en, claim.claim_nl
        if claim.readings:
            for i, reading in enumerate(claim.readings):
                yield f"claims.yaml {claim.id} reading {i} text", reading.text, reading.text_nl
                yield (
                    f"claims.yaml {claim.id} reading {i} validity_reason",
                    reading.validity_reason,
                    reading.validity_reason_nl,
                )
            if claim.direct_measure:
                yield (
                    f"claims.yaml {claim.id} direct_measure",
                    claim.direct_measure,
                    claim.direct_measure_nl,
                )
        else:
            yield (
                f"claims.yaml {claim.id} reason_not_testable",
                claim.reason_not_testable,
                claim.reason_not_testable_nl,
            )


def _figures(text: str) -> set[str]:
    """The numbers in a text with their separators dropped (1.2 and 1,2 -> 12; 1,000 -> 1000)."""
    return {re.sub(r"[.,]", "", n) for n in re.findall(r"\d+(?:[.,]\d+)*", text)}


def test_every_declared_text_a_report_shows_is_declared_in_dutch_with_the_same_figures():
    pairs = list(_declared_pairs())
    assert len(pairs) > 250
    for where, english, dutch in pairs:
        assert english and dutch and dutch.strip(), f"{where}: no Dutch text"
        assert _figures(english) <= _figures(dutch), f"{where}: a figure differs: {dutch!r}"


def test_a_working_folder_declaration_without_dutch_shows_its_english():
    packaged = next(iter(load_themes().values()))
    english = packaged.rationale.get("en")
    theme = packaged.model_copy(update={"rationale": Text({"en": english})})
    assert english and i18n.declared(theme, "rationale", "nl") == english
    assert i18n.declared(theme, "title", "en") == packaged.title.get("en")
    assert i18n.declared(packaged, "rationale", "nl") == packaged.rationale.get("nl") != english


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nl", ["1.774.603", "29,5%", "30 november 2026", "0,1235", "12,35", "geen cijfer"]),
        ("en", ["1,774,603", "29.5%", "30 November 2026", "0.1235", "12.35", "no figure"]),
    ],
)
def test_numbers_and_dates_follow_the_language(lang, expected):
    assert [
        i18n.number(1774603, lang),
        i18n.percent(29.5, lang),
        i18n.date(dt.date(2026, 11, 30), lang),
        i18n.number(0.12345, lang),
        i18n.number(12.345, lang, 2),
        i18n.number(float("nan"), lang),
    ] == expected
    assert i18n.date("2025-04-22T02:00:00", lang).startswith("22 ")


def test_figures_and_verdicts_are_the_same_in_both_languages():
    from noordstats.analysis.claims import evaluate_claims
    from noordstats.report.wording import claim_texts

    values = evaluate_claims(theme="economy")
    dutch, english = claim_texts(values, "nl"), claim_texts(values, "en")
    assert dutch.verdict.tolist() == english.verdict.tolist()
    assert dutch.figure.equals(english.figure)
    assert dutch.quote_nl.tolist() == english.quote_nl.tolist(), "the paper's words, verbatim"
    shown = dutch[dutch.figure.notna()].iloc[0]
    assert "," in shown.figure_text or shown.figure_text.isdigit()
    assert shown.claim != shown.claim_en


def test_the_language_is_set_once_and_an_explicit_lang_still_wins():
    from noordstats.report.page import blocks

    assert i18n.current_language() == i18n.DEFAULT_LANG
    try:
        i18n.set_language("en")
        assert blocks.caption("claims") == blocks.caption("claims", "en")
        assert blocks.caption("claims", "nl") != blocks.caption("claims")
        with pytest.raises(i18n.LanguageError):
            i18n.set_language("zz")
    finally:
        i18n.set_language(i18n.DEFAULT_LANG)
    assert blocks.caption("claims") == blocks.caption("claims", "nl")
