"""docs/reliability.md is current: it lists exactly the fault and bad-input cases the suite
registers, each passed (regenerate it with ``make docs``)."""

from __future__ import annotations

import pytest

from tests import reliability_plugin as plugin

STALE = "docs/reliability.md is stale: run `make docs` and commit it"


def test_the_reliability_doc_lists_every_registered_case(pytestconfig: pytest.Config) -> None:
    registered = {
        nodeid: {**marker, "outcome": "passed"}
        for nodeid, marker in plugin.registered_cases().items()
    }
    doc = plugin.DOC.read_text(encoding="utf-8")
    if plugin.collected_whole_suite(pytestconfig):
        assert doc == plugin.render(registered), STALE
    else:  # a partial run: the cases it collected must be in the file as they are now
        lines = set(doc.splitlines())
        missing = [n for n, entry in registered.items() if plugin.row(n, entry) not in lines]
        assert missing == [], f"{STALE}; not listed as they are now: {missing[:5]}"


def test_the_doc_is_written_only_when_asked() -> None:
    """A plain run (``make test``) leaves docs/reliability.md alone: only ``make docs`` passes
    --reliability-doc."""
    from noordstats import paths

    makefile = (paths.PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
    docs_recipe = makefile.split("\ndocs:", 1)[1].split("\n\n", 1)[0]
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--reliability-doc docs/reliability.md" in docs_recipe
    assert "--reliability-doc" not in test_recipe
