"""Fault plans act the same on every target; attempts are counted, never timed."""

from __future__ import annotations

import elastic_transport
import pytest
from elasticsearch import Elasticsearch

from esbackend import ElasticsearchBackend
from esbackend.fakes import FaultPlan, RequestLog


def test_a_503_on_get_is_retried_by_the_client(
    es_client: Elasticsearch, es_index: str, es_faults: FaultPlan, es_requests: RequestLog
) -> None:
    es_client.index(index=es_index, id="1", document={"n": 1})
    rule = es_faults.inject(503, api="get", times=2)
    assert es_client.get(index=es_index, id="1")["_source"] == {"n": 1}
    assert rule.hits == 2
    gets = [r for r in es_requests if r.api == "get"]
    assert [(r.status, r.fault) for r in gets] == [(503, "503"), (503, "503"), (200, None)]


def test_a_lost_connection_fails_after_max_retries_plus_one_attempts(
    es_target: object, es_index: str, es_faults: FaultPlan, es_requests: RequestLog
) -> None:
    from esbackend.fixtures import Target

    assert isinstance(es_target, Target)
    client = es_target.client(max_retries=2)
    try:
        es_faults.inject("connection", api="get")
        with pytest.raises(elastic_transport.ConnectionError):
            client.get(index=es_index, id="1")
    finally:
        client.close()
    assert es_requests.count("get") == 3
    assert {r.fault for r in es_requests if r.api == "get"} == {"connection"}


def test_the_backend_rides_out_a_transient_503(
    es_backend: ElasticsearchBackend, es_faults: FaultPlan, es_requests: RequestLog
) -> None:
    es_backend.set("k", "v")
    es_faults.inject(503, api="get", times=1)
    assert es_backend.get("k") == "v"
    assert es_requests.count("get", status=503) == 1
