"""The declared platform holds: the interpreter CI runs is the lowest one pyproject.toml promises."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def declared_minimum() -> tuple[int, int]:
    text = (REPO / "pyproject.toml").read_text()
    match = re.search(r'^requires-python = ">=(\d+)\.(\d+)"', text, re.M)
    assert match, "pyproject.toml must declare requires-python as >=X.Y"
    return int(match.group(1)), int(match.group(2))


def test_interpreter_meets_the_declared_minimum() -> None:
    assert sys.version_info[:2] >= declared_minimum()


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="CI pins the interpreter; elsewhere any newer one is fine")
def test_ci_runs_the_declared_minimum() -> None:
    # Debian 12's python3 is 3.11: testing on it is testing the lowest version we claim to support.
    assert sys.version_info[:2] == declared_minimum()
