"""Shared pytest configuration. Fixtures here stay generic; feature fixtures live with their tests."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.reliability_plugin"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("NOORDSTATS_LIVE_TESTS") == "1":
        return
    skip_live = pytest.mark.skip(reason="talks to the real CBS API; set NOORDSTATS_LIVE_TESTS=1")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip_live)
