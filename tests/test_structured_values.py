"""Values stay structured until the page: no module of analysis/ or report/ splits or
pattern-matches text (another module's sentence, a joined list, a formatted figure or title);
notes, caveats, titles and figures travel as fields."""

from __future__ import annotations

import ast
from pathlib import Path

from noordstats.analysis import claims, frames, indicators
from noordstats.analysis.indicators import Caveat, IndicatorResult
from noordstats.declarations.verdicts import VERDICTS
from noordstats.report import wording

PACKAGE = Path(__file__).resolve().parent.parent / "noordstats"
TEXT_PARSING = {"split", "rsplit", "partition", "rpartition"}
REGEX = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "split"}
#: (module, function): the print footer splits the catalogue's "page {page} of {pages}" template
#: at its own placeholders to build CSS counters
ALLOWED = {("report/page/blocks.py", "print_style")}


def text_parsing_calls(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)] + [tree]:
        name = getattr(function, "name", "<module>")
        for node in ast.walk(function):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            attr, owner = node.func.attr, node.func.value
            is_regex = isinstance(owner, ast.Name) and owner.id == "re" and attr in REGEX
            if attr in TEXT_PARSING or is_regex:
                found.append((name, node.lineno))
    return found


def test_analysis_and_report_parse_no_text_back():
    offenders = []
    for stage in ("analysis", "report"):
        for path in sorted((PACKAGE / stage).rglob("*.py")):
            module = str(path.relative_to(PACKAGE))
            for function, line in text_parsing_calls(path):
                if (module, function) not in ALLOWED and function != "<module>":
                    offenders.append(f"{module}:{line} ({function})")
    assert not offenders, "text parsed back (carry a field instead): " + ", ".join(offenders)


def test_frame_notes_and_caveats_are_data():
    frame = frames.indicator_frame("unemployment_rate")
    notes = {n for ns in frame.note for n in ns}
    assert all(isinstance(n, frames.FrameNote) for n in notes)
    result = indicators.compute_indicator("gdp_volume_cagr_10y", "LD01")
    assert result.caveats and all(isinstance(c, Caveat) for c in result.caveats)
    kinds = {c.kind for c in result.caveats}
    assert "comparability" in kinds
    nl, en = wording.caveat_texts(result, "nl"), wording.caveat_texts(result, "en")
    assert len(nl) == len(en) == len(result.caveats) and nl != en


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_the_analysis_stage_makes_no_words():
    """No module of analysis/ imports the catalogue (noordstats.i18n) and no function there
    takes a language: the words are the report layer's (noordstats.report.wording)."""
    offenders = []
    for path in sorted((PACKAGE / "analysis").rglob("*.py")):
        module = str(path.relative_to(PACKAGE))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(m == "noordstats.i18n" or m.startswith("noordstats.i18n.") for m in _imports(tree)):
            offenders.append(f"{module} imports noordstats.i18n")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                args = node.args
                names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
                if "lang" in names:
                    name = getattr(node, "name", "<lambda>")
                    offenders.append(f"{module}:{node.lineno} {name}() takes lang")
    assert not offenders, offenders


#: the text columns the wording adds; the analysis' frames carry none of them
HEADLINE_TEXTS = {"title", "title_nl", "value_text", "nl_value_text", "comparison_text",
                  "period", "unit", "caveat", "dated"}  # fmt: skip
CLAIM_TEXTS = {"quote_nl", "claim_en", "claim", "figure_text", "period", "definition",
               "comparison", "context_figures", "rule", "rationale", "caveats",
               "first_rule"}  # fmt: skip
READING_TEXTS = {"title", "validity_reason", "figure_text", "period", "comparison", "rule"}


def _no_text(value: object) -> bool:
    """Whether a field holds no reader's words: numbers, codes and typed values pass; a
    collection passes when its items do."""
    if isinstance(value, tuple | list):
        return all(_no_text(v) for v in value)
    return not isinstance(value, str) or value in ("", "-") or " " not in value.strip()


def test_results_hold_values_and_the_wording_gives_each_language_its_words():
    result = indicators.compute_indicator("unemployment_rate", "PV20")
    assert not hasattr(result, "lang") and not hasattr(result, "value_text")
    assert not {"value_text", "period_text", "comparison_text"} & set(dir(IndicatorResult))
    figures = indicators.headline_figures("economy", "LD01")
    assert not HEADLINE_TEXTS & set(figures.columns)
    assert all(isinstance(c, Caveat) for cs in figures.caveats for c in cs)
    frame = claims.evaluate_claims("LD01")
    assert not CLAIM_TEXTS & set(frame.columns)
    testable = frame[frame.verdict != "not testable"]
    for row in testable.itertuples():
        assert all(isinstance(c, Caveat) for c in row.verdict_caveats)
        for reading in row.readings:
            assert not READING_TEXTS & set(reading), reading
            assert isinstance(reading["result"], IndicatorResult)
    # the region's name (the registry's) and the paper's section (verbatim, a label like the
    # claim's id) are names; every other string field is a code or an id
    vocabulary = ["verdict", "first_rule_verdict", "robustness"]
    codes = frame.drop(columns=["region_name", "section", "readings", "results", *vocabulary])
    for column in codes.columns:
        assert codes[column].map(_no_text).all(), column
    assert set(frame.verdict) <= set(VERDICTS) and set(frame.robustness) <= set(claims.ROBUSTNESS)
    assert set(frame.first_rule_verdict.dropna()) <= set(VERDICTS)
    # one result, words in each language
    nl, en = wording.value_text(result, "nl"), wording.value_text(result, "en")
    assert nl != en and nl.replace(",", ".") == en, (nl, en)
    assert wording.comparison_text(result, "nl") != wording.comparison_text(result, "en")
    shown_nl, shown_en = wording.claim_texts(frame, "nl"), wording.claim_texts(frame, "en")
    assert list(shown_nl.columns) == wording.CLAIM_COLUMNS
    assert (shown_nl.verdict == frame.verdict).all() and (shown_en.verdict == frame.verdict).all()
    judged = shown_nl.verdict != "not testable"
    assert (shown_nl.claim != shown_en.claim).all()
    assert (shown_nl[judged].comparison != shown_en[judged].comparison).all()
    heads_nl = wording.headline_texts(figures, "nl")
    heads_en = wording.headline_texts(figures, "en")
    assert list(heads_nl.columns) == wording.HEADLINE_COLUMNS
    assert heads_nl.value.equals(heads_en.value) and heads_nl.value.equals(figures.value)
    assert (heads_nl.title != heads_en.title).all()
    assert (heads_nl.comparison_text != heads_en.comparison_text).all()
