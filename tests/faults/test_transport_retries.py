"""How elastic-transport retries, proven by counting attempts (runs on every --es-target).

The rules (elastic_transport/_transport.py): a ``ConnectionError`` is always retried; a
``ConnectionTimeout`` only with ``retry_on_timeout``; statuses in ``retry_on_status``
(429, 502, 503, 504 by default) are retried; each up to ``max_retries`` times, so a fault that
persists costs ``max_retries + 1`` attempts. Other statuses (401, 409, 500) are answered at once.
"""

from __future__ import annotations

import elastic_transport
import elasticsearch
import pytest

from esbackend.fakes import FaultPlan, RequestLog
from esbackend.fixtures import Target

RETRIED_STATUSES = [429, 502, 503, 504]


def attempts(requests: RequestLog, api: str) -> int:
    return requests.count(api)


@pytest.fixture
def doc(es_target: Target, es_index: str) -> str:
    client = es_target.client()
    client.index(index=es_index, id="1", document={"a": 1}, refresh=True)
    client.close()
    es_target.requests.clear()
    return "1"


@pytest.mark.parametrize("max_retries", [0, 1, 3])
@pytest.mark.parametrize("status", RETRIED_STATUSES)
def test_retried_statuses_cost_max_retries_plus_one(
    es_target: Target,
    es_faults: FaultPlan,
    es_requests: RequestLog,
    es_index: str,
    doc: str,
    status: int,
    max_retries: int,
) -> None:
    es_faults.inject(status, api="get")
    client = es_target.client(max_retries=max_retries)
    with pytest.raises(elasticsearch.ApiError) as failed:
        client.get(index=es_index, id=doc)
    # When retries run out, the last response is returned and the client raises for it.
    assert failed.value.meta.status == status
    assert attempts(es_requests, "get") == max_retries + 1


@pytest.mark.parametrize("status", [401, 409, 500])
def test_other_statuses_are_not_retried(
    es_target: Target,
    es_faults: FaultPlan,
    es_requests: RequestLog,
    es_index: str,
    doc: str,
    status: int,
) -> None:
    es_faults.inject(status, api="get")
    with pytest.raises(elasticsearch.ApiError):
        es_target.client(max_retries=3).get(index=es_index, id=doc)
    assert attempts(es_requests, "get") == 1


@pytest.mark.parametrize("max_retries", [0, 2])
def test_connection_errors_are_always_retried(
    es_target: Target,
    es_faults: FaultPlan,
    es_requests: RequestLog,
    es_index: str,
    doc: str,
    max_retries: int,
) -> None:
    es_faults.inject("connection", api="get")
    with pytest.raises(elastic_transport.ConnectionError):
        es_target.client(max_retries=max_retries).get(index=es_index, id=doc)
    assert attempts(es_requests, "get") == max_retries + 1


@pytest.mark.parametrize(("retry_on_timeout", "expected"), [(False, 1), (True, 3)])
def test_timeouts_are_retried_only_when_asked(
    es_target: Target,
    es_faults: FaultPlan,
    es_requests: RequestLog,
    es_index: str,
    doc: str,
    retry_on_timeout: bool,
    expected: int,
) -> None:
    es_faults.inject("timeout", api="get")
    client = es_target.client(max_retries=2, retry_on_timeout=retry_on_timeout, request_timeout=0.5)
    with pytest.raises(elastic_transport.ConnectionTimeout):
        client.get(index=es_index, id=doc)
    assert attempts(es_requests, "get") == expected


@pytest.mark.parametrize("fault", ["connection", 503, 429])
def test_a_passing_fault_is_absorbed_by_the_retries(
    es_target: Target,
    es_faults: FaultPlan,
    es_requests: RequestLog,
    es_index: str,
    doc: str,
    fault: int | str,
) -> None:
    es_faults.inject(fault, api="get", times=2)
    got = es_target.client(max_retries=3).get(index=es_index, id=doc)
    assert got["_source"] == {"a": 1}
    assert attempts(es_requests, "get") == 3  # two failures, then the answer
