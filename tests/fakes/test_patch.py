"""patch_elasticsearch: clients built anywhere inside the block talk to the fake."""

from __future__ import annotations

import asyncio

import elasticsearch
from elasticsearch import AsyncElasticsearch, Elasticsearch

from esbackend.fakes import FakeCluster, patch_elasticsearch


def build_client_deep_inside() -> Elasticsearch:
    # Code under test names a real host (and a cloud id); it must not matter.
    return elasticsearch.Elasticsearch("https://prod.example.invalid:9243", request_timeout=1)


def test_clients_constructed_in_the_block_use_the_cluster(cluster: FakeCluster) -> None:
    original = Elasticsearch.__init__
    with patch_elasticsearch(cluster):
        es = build_client_deep_inside()
        es.index(index="t", id="1", document={"patched": True})
        cloud = Elasticsearch(cloud_id="name:ZXhhbXBsZS5pbnZhbGlkJGFiYyRkZWY=")
        assert cloud.get(index="t", id="1")["_source"] == {"patched": True}
        assert es.options(request_timeout=5).exists(index="t", id="1")
    assert Elasticsearch.__init__ is original
    assert cluster.requests.count("index") == 1


def test_works_as_a_decorator(cluster: FakeCluster) -> None:
    @patch_elasticsearch(cluster)
    def code_under_test() -> str:
        client = Elasticsearch("http://elsewhere:9200")
        return str(client.info()["cluster_name"])

    assert code_under_test() == cluster.cluster_name
    assert code_under_test() == cluster.cluster_name  # reusable


def test_async_clients_are_patched_too(cluster: FakeCluster) -> None:
    async def main() -> bool:
        es = AsyncElasticsearch("http://elsewhere:9200")
        try:
            await es.index(index="t", id="1", document={})
            return bool(await es.exists(index="t", id="1"))
        finally:
            await es.close()

    with patch_elasticsearch(cluster):
        assert asyncio.run(main())
