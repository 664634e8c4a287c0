"""A Dutch and an English suite, rendered by the real command line and read in headless Chromium
as their readers see them: every chart drawn, no string of the other language (from the
catalogue or the declarations) on the page, numbers, dates and chart axes written as that
language writes them, the paper's quotes verbatim in both, and each index linking the other."""

from __future__ import annotations

import re
import string
import subprocess
import sys

import pytest

from noordstats import i18n
from noordstats.analysis import indicators
from noordstats.declarations.claims import load_claims
from noordstats.declarations.indicators import load_indicators
from noordstats.declarations.themes import load_themes
from noordstats.report import wording
from tests.test_browser import CHARTS_JS, count_charts, open_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ONLY = ["claims", "defence_security", "region_profile"]
PAGES = ["claims-LD01", "theme-defence_security-LD01", "region_profile-LD01"]
#: visible text without the parts written in the other language on purpose: the paper's quotes
#: (lang="nl") in an English report, tables.yaml's provenance notes (lang="en") in a Dutch one
TEXT_JS = """(lang) => { const body = document.body.cloneNode(true);
  body.querySelectorAll('[lang]:not([lang="' + lang + '"])').forEach(e => e.remove());
  return body.innerText; }"""
SEPARATORS_JS = """() => Array.from(document.querySelectorAll('.plotly-graph-div'))
  .map(g => g._fullLayout && g._fullLayout.separators)"""


def _pieces(text: str) -> list[str]:
    """The literal stretches of a catalogue text between its placeholders."""
    return [literal for literal, *_ in string.Formatter().parse(text) if literal]


def foreign_strings(lang: str) -> set[str]:
    """Strings that only the other language writes: stretches of the catalogue (12 characters
    or more) and declared texts, less anything this language writes too."""
    other = "en" if lang == "nl" else "nl"
    own = " ".join(texts[lang] for texts in i18n.catalogue().values())
    found = set()
    for texts in i18n.catalogue().values():
        for piece in _pieces(texts[other]):
            piece = piece.strip(" .,:;()*#\n")
            if len(piece) >= 12 and piece not in own and "`" not in piece:
                found.add(piece)
    declared = []
    for claim in load_claims():
        declared.append((claim.claim_en, claim.claim_nl))
        if claim.rule:
            declared.append((claim.rule.text, claim.rule.text_nl))
    for ind in load_indicators().values():
        declared.append((ind.definition, ind.definition_nl))
    for theme in load_themes().values():
        declared.append((theme.rationale, theme.rationale_nl))
    for english, dutch in declared:
        text = dutch if other == "nl" else english
        if text and text != (english if other == "nl" else dutch):
            found.add(text[:60])
    return found


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    """One folder with the Dutch suite (the default) and the English one (``--lang en``)."""
    out = tmp_path_factory.mktemp("languages")
    base = [sys.executable, "-m", "noordstats.cli", "reports", "--only", *ONLY, "--out", str(out)]
    for extra in ([], ["--lang", "en"]):
        done = subprocess.run(
            [*base, *extra, "--quiet", "--jobs", "2"], capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("name", PAGES)
def test_a_report_speaks_its_readers_language(browser, suites, name, lang):
    stem = name if lang == "nl" else f"{name}-en"
    page, requests, errors, inside = open_page(browser, suites / f"{stem}.html", suites)
    charts = page.evaluate(CHARTS_JS)
    text = page.evaluate(TEXT_JS, lang)
    separators = page.evaluate(SEPARATORS_JS)
    html_lang = page.evaluate("() => document.documentElement.lang")
    page.context.close()
    assert errors == [] and all(url.startswith(inside) for url in requests)
    assert len(charts) == count_charts(suites / f"{stem}.ipynb") > 0
    assert all(c["svg"] > 0 for c in charts), "every chart drawn"
    assert html_lang == lang
    leaked = sorted(s for s in foreign_strings(lang) if s in text)
    assert leaked == [], f"{stem}: the other language on the page: {leaked[:5]}"
    assert set(separators) == {i18n.plotly_separators(lang)}, "chart numbers as the reader writes"
    month = "(" + "|".join(i18n.t(f"month.{m}", "nl") for m in range(1, 13)) + ")"
    if lang == "nl":
        assert re.search(rf"gemaakt op \d{{1,2}} {month} \d{{4}}", text)
        assert "Bronnen" in text and "Bron: CBS, CC BY 4.0" in text
    else:
        assert re.search(r"rendered \d{1,2} [A-Z][a-z]+ \d{4}", text)
        assert "Sources" in text and "Bron: CBS, CC BY 4.0" in text


def test_dutch_figures_are_written_the_dutch_way(suites):
    page = (suites / "region_profile-LD01.html").read_text(encoding="utf-8")
    english = (suites / "region_profile-LD01-en.html").read_text(encoding="utf-8")
    figures = indicators.region_profile("LD01")
    dutch_figures = wording.headline_texts(figures, "nl")
    english_figures = wording.headline_texts(figures, "en")
    population = dutch_figures.set_index("indicator_id").value_text["population"]
    assert re.fullmatch(r"\d{1,3}(\.\d{3})+ inwoners", population), population  # 1.774.603
    for nl_text, en_text in zip(dutch_figures.value_text, english_figures.value_text, strict=True):
        assert nl_text in page and en_text in english
    share = dutch_figures.set_index("indicator_id").value_text["population_share_nl"]
    assert re.fullmatch(r"\d+,\d%", share), share  # 10,0%


def test_quotes_stay_verbatim_and_verdicts_are_named_in_each_language(suites):
    dutch = (suites / "claims-LD01.html").read_text(encoding="utf-8")
    english = (suites / "claims-LD01-en.html").read_text(encoding="utf-8")
    quote = load_claims()[3].quote_nl
    assert quote in dutch and quote in english
    assert "deels ondersteund" in dutch and "niet toetsbaar" in dutch
    assert "partly supported" in english and "not testable" in english
    assert "partly supported" not in dutch and "niet toetsbaar" not in english


def test_each_index_is_in_its_language_and_links_the_other(browser, suites):
    for lang, name, other in (("nl", "index.html", "index-en.html"),
                              ("en", "index-en.html", "index.html")):  # fmt: skip
        page, _, errors, _ = open_page(browser, suites / name, suites)
        text = page.evaluate(TEXT_JS, lang)
        hrefs = page.eval_on_selector_all("a", "a => a.map(x => x.getAttribute('href'))")
        page.context.close()
        assert errors == [] and other in hrefs
        stems = [p if lang == "nl" else f"{p}-en" for p in PAGES]
        assert all(f"{stem}.html" in hrefs for stem in stems)
        leaked = sorted(s for s in foreign_strings(lang) if s in text)
        assert leaked == [], leaked[:5]


#: what the claims report and the index say about evidence counted once (issue 20)
EVIDENCE_JS = """() => ({
  counts: Array.from(document.querySelectorAll('.noordstats-groups')).map(e => e.textContent),
  validity: Array.from(document.querySelectorAll('td.validity'))
    .map(td => td.getAttribute('data-validity')),
  firstRule: Array.from(document.querySelectorAll('.noordstats-first-rule'))
    .map(e => e.textContent),
  distinctive: Array.from(document.querySelectorAll('.distinctive')).map(e => e.textContent),
  body: document.body.innerText})"""


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_claims_report_and_index_count_independent_evidence(browser, suites, lang):
    from noordstats.analysis.claims import all_regions, evaluate_claims, evaluate_claims_regions
    from noordstats.analysis.claims_compare import compare_regions, distinctive_counts
    from noordstats.analysis.evidence import count_verdicts_by_group

    counts = count_verdicts_by_group(evaluate_claims("LD01"))
    distinct = distinctive_counts(compare_regions(evaluate_claims_regions(all_regions()), "LD01"))
    suffix = "" if lang == "nl" else "-en"
    page, _, errors, _ = open_page(browser, suites / f"claims-LD01{suffix}.html", suites)
    report = page.evaluate(EVIDENCE_JS)
    page.context.close()
    page, _, index_errors, _ = open_page(browser, suites / f"index{suffix}.html", suites)
    index = page.evaluate(EVIDENCE_JS)
    page.context.close()
    assert errors == [] and index_errors == []
    # the verdict counts: per claim and per independent group, in the reader's language
    supported = i18n.t("claims.from_groups", lang, groups=counts["supported"]["groups"])
    assert supported in report["counts"]
    summary = i18n.t(
        "matrix.summary_groups", lang, name="Noord-Nederland", supported=distinct["supported"],
        groups=distinct["supported_groups"], distinctive=distinct["distinctive"],
        distinctive_groups=distinct["distinctive_groups"],
    )  # fmt: skip
    assert " ".join(summary.split()) in " ".join(report["body"].split())
    # every reading says its validity; a rule changed with its figure known shows its first verdict
    assert {"direct", "proxy", "context"} <= set(report["validity"])
    assert report["firstRule"] and all(
        i18n.t("claims.first_rule", lang) in text for text in report["firstRule"]
    )
    # the index carries the same counts
    line = i18n.t(
        "index.supported_groups", lang, supported=distinct["supported"],
        groups=distinct["supported_groups"], distinctive=distinct["distinctive"],
        distinctive_groups=distinct["distinctive_groups"],
    )  # fmt: skip
    assert len(index["distinctive"]) == 1 and index["distinctive"][0].startswith(line)


#: every chart: its element, its accessible name (the figcaption it is labelled by) and whether
#: the caption is inside it
CHART_TEXTS_JS = """() => Array.from(document.querySelectorAll('.noordstats-chart')).map(c => {
  const id = c.getAttribute('aria-labelledby');
  const caption = id ? document.getElementById(id) : null;
  return {tag: c.tagName, name: caption ? caption.textContent : '',
          inside: !!caption && c.contains(caption) && caption.tagName === 'FIGCAPTION'};
})"""


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("name", PAGES)
def test_every_chart_has_a_text_alternative_in_the_page_language(browser, suites, name, lang):
    stem = name if lang == "nl" else f"{name}-en"
    page, _, errors, _ = open_page(browser, suites / f"{stem}.html", suites)
    texts = page.evaluate(CHART_TEXTS_JS)
    page.context.close()
    assert errors == [] and len(texts) == count_charts(suites / f"{stem}.ipynb") > 0
    for text in texts:
        assert text["tag"] == "FIGURE" and text["inside"], text
        assert len(text["name"]) > 20 and re.search(r"\d", text["name"]), text
    if not name.startswith("claims"):  # the scorecard's one chart counts verdicts
        assert any("Nederland" in t["name"] for t in texts), "a main comparison is stated"
    other = "Hoogste van" if lang == "en" else "Highest of"
    assert not any(other in t["name"] for t in texts), "captions follow the page's language"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_pages_and_the_index_have_no_axe_violations(browser, suites, lang):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    suffix = "" if lang == "nl" else "-en"
    for stem in [*(f"{name}{suffix}" for name in PAGES), f"index{suffix}"]:
        # (axe reads the stylesheets by XMLHttpRequest, which file: pages refuse: no assertion on
        # the console here; the tests above check it without axe)
        page, _, _, _ = open_page(browser, suites / f"{stem}.html", suites)
        violations = axe.run(page).response["violations"]
        page.context.close()
        assert [(v["id"], v["nodes"][0]["html"][:120]) for v in violations] == [], stem
