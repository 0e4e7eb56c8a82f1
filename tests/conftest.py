"""Options for esbackend's own test suite (the plugin's options live in esbackend.fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REST_TESTS = ROOT.parent / "shared" / "es-rest-tests"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--es-rest-tests",
        metavar="DIR",
        default=None,
        help=f"Elastic's YAML REST tests to run (default: {DEFAULT_REST_TESTS} when present).",
    )
