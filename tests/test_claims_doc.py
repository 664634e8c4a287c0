"""docs/claims.md and the verdict record (data/verdict_history.yaml)."""

from __future__ import annotations

import copy

import pytest
import yaml

from noordstats import paths
from noordstats.analysis.claims import evaluate_claims
from noordstats.declarations.claims import load_claims
from noordstats.declarations.files import ConfigError
from noordstats.declarations.verdict_history import load_verdict_history, read_verdict_history
from noordstats.report import claims_doc


@pytest.mark.slow
def test_docs_claims_md_is_current():
    """Fails when the registry, the history or the data changed without `make claims-doc`."""
    text = claims_doc.build_claims_doc()
    assert paths.CLAIMS_DOC_FILE.read_text(encoding="utf-8") == text, (
        "docs/claims.md is stale: run `make claims-doc`"
    )
    for claim in load_claims():
        assert f"## {claim.id}\n" in text and claim.quote_nl in text
    assert "## Claims taken out of the registry" in text and "students_share_by_location" in text


@pytest.mark.slow
def test_check_mode_reports_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "claims.md"
    stale.write_text("old\n", encoding="utf-8")
    assert claims_doc.main([str(stale), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert claims_doc.main([str(stale)]) == 0
    assert claims_doc.main([str(stale), "--check"]) == 0


def test_the_latest_recorded_verdict_is_todays_verdict():
    current = evaluate_claims("LD01").set_index("claim_id").verdict
    latest: dict[str, str] = {}
    for change in sorted(load_verdict_history(), key=lambda c: c.date):
        latest[change.claim_id] = change.new_verdict
    assert latest, "the history records no change"
    for claim_id, verdict in latest.items():
        if verdict == "removed":
            assert claim_id not in current.index
        else:
            assert current[claim_id] == verdict, claim_id


def test_todays_changes_are_recorded():
    dated = {c.claim_id for c in load_verdict_history() if c.date.isoformat() == "2026-11-30"}
    assert {
        "cleantech_sectors", "defence_position", "startup_landscape", "innovation_region",
        "labour_reserve", "students_share_by_location", "craftsmanship", "knowledge_workforce",
        "talent_retention", "startup_scale_up",
    } <= dated  # fmt: skip


@pytest.fixture
def raw_history() -> dict:
    return yaml.safe_load(paths.VERDICT_HISTORY_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(new_verdict="mostly true"), "unknown verdict 'mostly true'"),
        (lambda c: c.update(date="yesterday"), "key 'date'"),
        (lambda c: c.update(because="x"), "'because'"),
        (lambda c: c.pop("reason"), "key 'reason'"),
    ],
)
def test_history_is_strictly_validated(tmp_path, raw_history, change, expected):
    data = copy.deepcopy(raw_history)
    change(data["changes"][0])
    path = tmp_path / "verdict_history.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_verdict_history(path)
    assert str(path) in str(info.value) and expected in str(info.value)


def test_a_claim_changes_once_per_date(tmp_path, raw_history):
    data = copy.deepcopy(raw_history)
    data["changes"].append(copy.deepcopy(data["changes"][0]))
    path = tmp_path / "verdict_history.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError, match="a second change"):
        read_verdict_history(path)
