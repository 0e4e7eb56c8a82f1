"""The in-memory Elasticsearch: what it costs on top of the client, and how it scales."""

from __future__ import annotations

from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch

from esbackend.fakes import FakeCluster

RESULT = {
    "result": '{"status": "SUCCESS", "result": 42, "traceback": null, "children": [], '
    '"date_done": "2024-05-01T10:00:00.123456+00:00", '
    '"task_id": "0b4a1f64-5b3a-4f4b-9d0c-1a2b3c4d5e6f"}',
    "@timestamp": "2024-05-01T10:00:00.123456Z",
}
COMPAT = {"accept": "application/vnd.elasticsearch+json; compatible-with=9"}


def floor_client(cluster: FakeCluster, index: str, doc_id: str) -> Elasticsearch:
    """A client whose node answers every request with one pre-recorded response: the floor."""
    recorded = cluster.handle("GET", f"/{index}/_doc/{doc_id}", None, COMPAT)

    class FixedNode(BaseNode):
        _CLIENT_META_HTTP_CLIENT = ("fx", "0")

        def perform_request(
            self,
            method: str,
            target: str,
            body: bytes | None = None,
            headers: Any = None,
            request_timeout: Any = None,
        ) -> NodeApiResponse:
            meta = ApiResponseMeta(
                status=recorded.status,
                http_version="1.1",
                headers=HttpHeaders(recorded.headers),
                duration=0.0,
                node=self.config,
            )
            return NodeApiResponse(meta, recorded.body)

    return Elasticsearch("http://localhost:9200", node_class=FixedNode)


@pytest.mark.parametrize("where", ["floor", "fake"])
def test_get(benchmark: Any, where: str) -> None:
    benchmark.group = "get: fake vs client floor"
    cluster = FakeCluster()
    es = cluster.client()
    es.index(index="celery", id="celery-task-meta-1", document=RESULT)
    client = floor_client(cluster, "celery", "celery-task-meta-1") if where == "floor" else es
    got = benchmark(client.get, index="celery", id="celery-task-meta-1")
    assert got["_source"] == RESULT


@pytest.mark.parametrize("docs", [1, 100_000])
def test_get_index_size(benchmark: Any, docs: int) -> None:
    benchmark.group = "get: index size"
    cluster = FakeCluster()
    es = cluster.client()
    lines = []
    for n in range(docs):
        lines.append({"index": {"_index": "celery", "_id": f"celery-task-meta-{n}"}})
        lines.append(RESULT)
        if len(lines) >= 20_000:
            es.bulk(operations=lines)
            lines = []
    if lines:
        es.bulk(operations=lines)
    got = benchmark(es.get, index="celery", id="celery-task-meta-0")
    assert got["found"]


@pytest.mark.parametrize("n", [1, 10, 100, 1000])
def test_mget(benchmark: Any, n: int) -> None:
    benchmark.group = "mget: ids per request"
    cluster = FakeCluster()
    es = cluster.client()
    es.bulk(
        operations=[
            line
            for i in range(n)
            for line in ({"index": {"_index": "celery", "_id": f"k{i}"}}, RESULT)
        ]
    )
    ids = [f"k{i}" for i in range(n)]
    docs = benchmark(es.mget, index="celery", ids=ids)["docs"]
    assert len(docs) == n
    assert all(d["found"] for d in docs)
