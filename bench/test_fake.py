"""What the fake's layers cost: the emulator against bare HTTP, fault plans, index size."""

from __future__ import annotations

from typing import Any

import pytest
from elasticsearch import Elasticsearch

from bench._support import fixed_http_server, new_task_ids, result_document, seed
from bench.conftest import Label, Stack
from esbackend.fakes import FakeCluster

#: Rules that match no ``get`` of the benchmark's document, each failing on a different test.
NON_MATCHING_RULES: list[dict[str, Any]] = [
    {"what": 503, "api": "index"},
    {"what": 503, "api": "bulk"},
    {"what": 429, "api": "search"},
    {"what": "connection", "api": "mget"},
    {"what": "timeout", "api": "update"},
    {"latency": 0.5, "api": "delete"},
    {"what": 503, "index": "another-index"},
    {"what": 409, "id": "another-document"},
    {"what": 500, "method": "DELETE"},
    {"what": 502, "path": r"^/another-index/"},
]


@pytest.mark.benchmark(max_time=1.0)
def test_get_http_server(benchmark: Any, label: Label, emulator_in_run: bool) -> None:
    """The baseline for the emulator: a bare stdlib ``http.server`` with one fixed answer."""
    if not emulator_in_run:
        pytest.skip("the emulator is not measured in this run")
    cluster = FakeCluster()
    (key,) = seed(cluster.client(), "celery", new_task_ids(1))
    body = cluster.handle("GET", f"/celery/_doc/{key}", None, {}).body
    with fixed_http_server(body) as url:
        client = Elasticsearch(url)
        label("http.server", "client", "get")
        assert benchmark(client.get, index="celery", id=key)["found"]
        client.close()


@pytest.mark.benchmark(max_time=1.0)  # a few percent apart: more rounds, steadier medians
@pytest.mark.parametrize("rules", [0, 10])
def test_get_with_fault_rules(benchmark: Any, label: Label, stack: Stack, rules: int) -> None:
    """A fault plan whose rules never match must cost (almost) nothing."""
    _, (key,) = stack.seed(1)
    for rule in NON_MATCHING_RULES[:rules]:
        stack.target.faults.inject(**rule)
    label(stack.name, "client", f"get-{rules}-rules", group="get: fault rules that never match")
    assert benchmark(stack.client.get, index=stack.index, id=key)["found"]
    assert all(rule.hits == 0 for rule in stack.target.faults)


@pytest.mark.parametrize("docs", [1, 100_000])
def test_get_index_size(benchmark: Any, label: Label, docs: int) -> None:
    """A realtime get does not slow down as the index grows."""
    cluster = FakeCluster()
    es = cluster.client()
    task_ids = new_task_ids(docs)
    for start in range(0, docs, 10_000):
        seed(es, "celery", task_ids[start : start + 10_000])
    label("fake", "client", f"get-in-{docs}-docs", group="get: index size")
    got = benchmark(es.get, index="celery", id=f"celery-task-meta-{task_ids[0]}")
    assert got["_source"] == result_document(task_ids[0])
