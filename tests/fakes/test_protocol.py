"""The wire contract: headers, error shapes, bad input, unknown endpoints."""

from __future__ import annotations

import json

import elasticsearch
import pytest
from elasticsearch import Elasticsearch

from esbackend.fakes import FakeCluster

JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}


def call(
    cluster: FakeCluster,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], object]:
    response = cluster.handle(method, target, body, headers or JSON_HEADERS)
    return response.status, response.headers, json.loads(response.body) if response.body else None


def test_every_response_carries_the_product_header(cluster: FakeCluster) -> None:
    for method, target in [("GET", "/"), ("GET", "/missing/_doc/1"), ("GET", "/_nope")]:
        _, headers, _ = call(cluster, method, target)
        assert headers["X-Elastic-Product"] == "Elasticsearch"
        assert headers["content-type"] == "application/json"


def test_compatible_with_headers_are_echoed(cluster: FakeCluster) -> None:
    compat = "application/vnd.elasticsearch+json; compatible-with=8"
    status, headers, _ = call(cluster, "GET", "/", headers={"accept": compat})
    assert status == 200
    assert headers["content-type"] == "application/vnd.elasticsearch+json;compatible-with=8"
    status, _, body = call(
        cluster,
        "GET",
        "/",
        headers={"accept": "application/vnd.elasticsearch+json; compatible-with=7"},
    )
    assert status == 400
    assert body["error"]["type"] == "media_type_header_exception"  # type: ignore[index]


def test_unknown_endpoint_names_what_was_asked(cluster: FakeCluster) -> None:
    status, _, body = call(cluster, "GET", "/_frobnicate/now")
    assert status == 400
    assert body == {
        "error": {
            "root_cause": [
                {
                    "type": "illegal_argument_exception",
                    "reason": "no handler found for uri [/_frobnicate/now] and method [GET]",
                }
            ],
            "type": "illegal_argument_exception",
            "reason": "no handler found for uri [/_frobnicate/now] and method [GET]",
        },
        "status": 400,
    }


def test_wrong_method_is_405_with_allow(cluster: FakeCluster) -> None:
    status, headers, body = call(cluster, "PATCH", "/t/_doc/1")
    assert status == 405
    assert set(headers["Allow"].split(",")) == {"DELETE", "GET", "HEAD", "POST", "PUT"}
    assert body["error"]["type"] == "method_not_allowed"  # type: ignore[index]


@pytest.mark.parametrize("payload", [b"{", b'{"a": }', b"\xff\xfe{}", b"[1, 2]", b"nope"])
def test_malformed_documents_are_400s_and_change_nothing(
    cluster: FakeCluster, payload: bytes
) -> None:
    status, _, body = call(cluster, "PUT", "/t/_doc/1", payload)
    assert status == 400
    assert set(body) == {"error", "status"}  # type: ignore[arg-type]
    assert body["error"]["root_cause"]  # type: ignore[index]
    assert cluster.engine.indices == {}


def test_malformed_search_body_is_a_400(cluster: FakeCluster) -> None:
    status, _, body = call(cluster, "POST", "/_search", b'{"query": ')
    assert status == 400
    assert body["error"]["type"] == "x_content_parse_exception"  # type: ignore[index]


def test_bad_parameter_values(es: Elasticsearch) -> None:
    with pytest.raises(elasticsearch.BadRequestError) as refresh:
        es.index(index="t", id="1", document={}, refresh="sometimes")  # type: ignore[arg-type]
    assert refresh.value.body["error"]["reason"] == "Unknown value for refresh: [sometimes]."
    with pytest.raises(elasticsearch.BadRequestError):
        es.index(index="t", id="1", document={}, version_type="bogus")  # type: ignore[arg-type]
    with pytest.raises(elasticsearch.BadRequestError) as too_long:
        es.index(index="t", id="x" * 513, document={})
    assert "is too long, must be no longer than 512 bytes" in str(too_long.value.body)


def test_head_requests_have_no_body(cluster: FakeCluster, es: Elasticsearch) -> None:
    assert es.ping()
    response = cluster.handle("HEAD", "/missing", None, JSON_HEADERS)
    assert (response.status, response.body) == (404, b"")


def test_request_log_records_each_attempt(cluster: FakeCluster, es: Elasticsearch) -> None:
    es.index(index="t", id="1", document={})
    es.options(ignore_status=404).get(index="t", id="2")
    records = list(cluster.requests)
    assert [(r.method, r.path, r.api, r.status, r.index, r.id) for r in records] == [
        ("PUT", "/t/_doc/1", "index", 201, "t", "1"),
        ("GET", "/t/_doc/2", "get", 404, "t", "2"),
    ]
    assert cluster.requests.count("get") == 1
    cluster.reset()
    assert len(cluster.requests) == 0
    assert not es.indices.exists(index="t")


def test_client_options_pass_through(cluster: FakeCluster) -> None:
    client = cluster.client(max_retries=7, retry_on_timeout=True, request_timeout=3)
    # elasticsearch-py keeps per-client retry options on the client and sends them with each
    # request; the fault-injection suite proves they take effect by counting attempts.
    assert client._max_retries == 7
    assert client._retry_on_timeout is True
    assert client._request_timeout == 3
    other = Elasticsearch("http://somewhere:9200", node_class=cluster.node_class)
    other.index(index="t", id="1", document={})
    assert cluster.client().exists(index="t", id="1")


def test_elasticsearch_8_version_reports_itself(cluster: FakeCluster) -> None:
    old = FakeCluster(version="8.15.0")
    info = old.handle("GET", "/", None, JSON_HEADERS)
    assert json.loads(info.body)["version"]["number"] == "8.15.0"
    if elasticsearch.__versionstr__.startswith("8."):
        assert old.client().info()["version"]["number"] == "8.15.0"
    else:
        # elasticsearch-py 9 asks for compatible-with=9, which an 8.x server refuses.
        with pytest.raises(elasticsearch.BadRequestError):
            old.client().info()


def test_routing_is_the_same_whatever_was_routed_before(cluster: FakeCluster) -> None:
    # The router caches by path shape: earlier requests must not change later answers.
    assert call(cluster, "GET", "/_all")[0] == 200
    assert call(cluster, "GET", "/_nope")[0] == 400
    assert call(cluster, "GET", "/_all")[0] == 200
    assert call(cluster, "PUT", "/health")[0] == 200  # an index named like a literal
    assert call(cluster, "GET", "/health/_doc/1")[0] == 404
    assert call(cluster, "GET", "/_cluster/health")[0] == 200
    assert call(cluster, "GET", "/_cluster/health/health")[2]["status"] == "yellow"  # type: ignore[index]
