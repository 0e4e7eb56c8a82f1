"""One test per case of Elastic's YAML REST tests (``--es-rest-tests=DIR`` picks the corpus).

Item ids read like ``get/80_missing.yml::Missing document with catch``; select with ``-k``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from ..conftest import DEFAULT_REST_TESTS
from .runner import RestCase, Runner, RunnerError, load_corpus


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rest_case" not in metafunc.fixturenames:
        return
    option = metafunc.config.getoption("--es-rest-tests")
    root = Path(option) if option else DEFAULT_REST_TESTS
    params: list[object]
    if root.is_dir():
        params = [
            pytest.param(case, id=case.id if isinstance(case, RestCase) else str(case))
            for case in load_corpus(root)
        ]
    elif option:  # asked for explicitly: a wrong path is an error, not a skip
        error = RunnerError(f"--es-rest-tests={option}: no such directory")
        params = [pytest.param(error, id="es-rest-tests-missing")]
    else:
        reason = (
            f"Elastic's YAML REST tests are not at {root}; "
            "pass --es-rest-tests=DIR to run them from elsewhere"
        )
        params = [pytest.param(None, id="es-rest-tests-missing", marks=pytest.mark.skip(reason))]
    metafunc.parametrize("rest_case", params)


def test_rest_yaml(
    rest_case: RestCase | RunnerError, es_rest_target: tuple[Elasticsearch, str]
) -> None:
    if isinstance(rest_case, RunnerError):  # an unreadable file or a wrong corpus path
        raise rest_case
    client, version = es_rest_target
    runner = Runner(client, version)
    reason = runner.skip_reason(rest_case)  # raises RunnerError when the runner lacks a feature
    if reason is not None:
        pytest.skip(reason)
    runner.run(rest_case)
