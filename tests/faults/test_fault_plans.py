"""Fault plans, rule by rule: what each option does to the attempts that match it.

Every assertion counts attempts in the log; nothing is timed.
"""

from __future__ import annotations

import elastic_transport
import elasticsearch
import pytest
from elasticsearch import Elasticsearch

from esbackend.fakes import FakeCluster, FaultPlan, RequestLog, parse_fault_spec


@pytest.fixture
def es(es_cluster: FakeCluster) -> Elasticsearch:
    # No transport retries here: each call is exactly one attempt, so the rules are visible.
    client = es_cluster.client(max_retries=0)
    client.index(index="celery", id="1", document={"a": 1})
    es_cluster.requests.clear()
    return client


def test_a_status_answers_with_elasticsearch_error_body(
    es: Elasticsearch, es_faults: FaultPlan
) -> None:
    rule = es_faults.inject(429, api="get")
    with pytest.raises(elasticsearch.ApiError) as rejected:
        es.get(index="celery", id="1")
    assert rejected.value.meta.status == 429
    assert rejected.value.body["error"]["type"] == "es_rejected_execution_exception"
    assert rule.hits == 1
    assert es.index(index="celery", id="2", document={})["result"] == "created"  # other APIs


def test_401_carries_the_challenge(es: Elasticsearch, es_faults: FaultPlan) -> None:
    es_faults.inject(401)
    with pytest.raises(elasticsearch.AuthenticationException) as denied:
        es.info()
    assert denied.value.meta.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_times_limits_the_failures(
    es: Elasticsearch, es_faults: FaultPlan, es_requests: RequestLog
) -> None:
    rule = es_faults.inject(503, api="get", times=2)
    for _ in range(2):
        with pytest.raises(elasticsearch.ApiError):
            es.get(index="celery", id="1")
    assert es.get(index="celery", id="1")["found"]
    assert rule.hits == 2
    assert [r.fault for r in es_requests] == ["503", "503", None]
    assert [r.status for r in es_requests] == [503, 503, 200]


def test_after_lets_attempts_through_first(es: Elasticsearch, es_faults: FaultPlan) -> None:
    es_faults.inject(409, api="index", index="celery", after=1)
    es.index(index="celery", id="2", document={})
    with pytest.raises(elasticsearch.ConflictError):
        es.index(index="celery", id="3", document={})
    es.index(index="other", id="3", document={})  # another index: not matched


def test_matching_on_method_id_and_path(es: Elasticsearch, es_faults: FaultPlan) -> None:
    es_faults.inject(500, method="DELETE")
    es_faults.inject(502, id="secret")
    es_faults.inject(504, path=r"/_count$")
    with pytest.raises(elasticsearch.ApiError, match="500"):
        es.delete(index="celery", id="1")
    with pytest.raises(elasticsearch.ApiError, match="502"):
        es.get(index="celery", id="secret")
    with pytest.raises(elasticsearch.ApiError, match="504"):
        es.count(index="celery")
    assert es.get(index="celery", id="1")["found"]


def test_timeout_and_connection_raise_transport_errors(
    es: Elasticsearch, es_faults: FaultPlan, es_requests: RequestLog
) -> None:
    es_faults.inject("timeout", api="get", times=1)
    es_faults.inject("connection", api="get", times=1)
    with pytest.raises(elastic_transport.ConnectionTimeout):
        es.get(index="celery", id="1")
    with pytest.raises(elastic_transport.ConnectionError) as refused:
        es.get(index="celery", id="1")
    assert not isinstance(refused.value, elastic_transport.ConnectionTimeout)
    assert [(r.status, r.fault) for r in es_requests] == [(None, "timeout"), (None, "connection")]


def test_probability_is_reproducible_with_a_seed(es_cluster: FakeCluster) -> None:
    def outcomes(seed: int) -> list[bool]:
        cluster = FakeCluster()
        client = cluster.client(max_retries=0)
        cluster.faults.inject("connection", probability=0.3, seed=seed)
        seen = []
        for _ in range(200):
            try:
                client.info()
                seen.append(True)
            except elastic_transport.ConnectionError:
                seen.append(False)
        return seen

    first = outcomes(7)
    assert first == outcomes(7)
    assert first != outcomes(8)
    assert 40 <= first.count(False) <= 80  # about 30% of 200


def test_latency_beyond_the_timeout_is_a_timeout(es: Elasticsearch, es_faults: FaultPlan) -> None:
    es_faults.inject(latency=5.0, api="mget")
    with pytest.raises(elastic_transport.ConnectionTimeout):
        es.options(request_timeout=0.5).mget(index="celery", ids=["1"])


def test_rules_apply_in_order(es: Elasticsearch, es_faults: FaultPlan) -> None:
    first = es_faults.inject(503, api="get", times=1)
    second = es_faults.inject(500, api="get", times=1)
    with pytest.raises(elasticsearch.ApiError, match="503"):
        es.get(index="celery", id="1")
    with pytest.raises(elasticsearch.ApiError, match="500"):
        es.get(index="celery", id="1")
    assert (first.hits, second.hits) == (1, 1)
    es_faults.clear()
    assert es.get(index="celery", id="1")["found"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("503:api=get,times=2", {"what": 503, "api": "get", "times": 2}),
        ("timeout:api=index", {"what": "timeout", "api": "index"}),
        (
            "connection:probability=0.3,seed=7",
            {"what": "connection", "probability": 0.3, "seed": 7},
        ),
        ("latency=0.05:api=mget", {"latency": 0.05, "api": "mget"}),
        ("409:index=celery,after=1", {"what": 409, "index": "celery", "after": 1}),
    ],
)
def test_command_line_specs(spec: str, expected: dict[str, object]) -> None:
    assert parse_fault_spec(spec) == expected


@pytest.mark.parametrize("spec", ["teapot", "503:colour=red", "503:times"])
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="fault spec"):
        parse_fault_spec(spec)


@pytest.mark.parametrize(
    "kwargs",
    [{"what": 200}, {"what": "flaky"}, {}, {"what": 503, "probability": 2.0}, {"latency": -1.0}],
)
def test_bad_rules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must|needs"):
        FaultPlan().inject(**kwargs)  # type: ignore[arg-type]


def test_a_plan_in_front_of_a_real_node_class(es_cluster: FakeCluster) -> None:
    """plan.wrap() puts faults before any real cluster; here the emulator plays that cluster."""
    from elastic_transport import Urllib3HttpNode

    from esbackend.fakes import serve

    plan, log = FaultPlan(), RequestLog()
    with serve(es_cluster) as url:
        client = Elasticsearch(url, node_class=plan.wrap(Urllib3HttpNode, log), max_retries=2)
        client.index(index="celery", id="1", document={"a": 1})
        plan.inject(503, api="get", times=2)
        assert client.get(index="celery", id="1")["_source"] == {"a": 1}
        plan.inject("connection", api="info")
        with pytest.raises(elastic_transport.ConnectionError):
            client.info()
        client.close()
    assert [(r.api, r.status, r.fault) for r in log] == [
        ("index", 201, None),
        ("get", 503, "503"),
        ("get", 503, "503"),
        ("get", 200, None),
        ("info", None, "connection"),
        ("info", None, "connection"),
        ("info", None, "connection"),
    ]
    # Injected attempts never reached the cluster behind the node.
    assert es_cluster.requests.apis() == ["index", "get"]
