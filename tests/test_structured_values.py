"""Values stay structured until the page: no module of analysis/ or report/ splits or
pattern-matches text (another module's sentence, a joined list, a formatted figure or title);
notes, caveats, titles and figures travel as fields."""

from __future__ import annotations

import ast
from pathlib import Path

from noordstats.analysis import frames, indicators
from noordstats.analysis.indicators import Caveat

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
    nl, en = result.caveat_texts("nl"), result.caveat_texts("en")
    assert len(nl) == len(en) == len(result.caveats) and nl != en
