"""The async node class drives AsyncElasticsearch against the same state."""

from __future__ import annotations

import asyncio

import pytest

from esbackend.fakes import FakeCluster


def test_async_client_round_trip(cluster: FakeCluster) -> None:
    async def main() -> tuple[dict[str, object], bool]:
        es = cluster.async_client()
        try:
            await es.index(index="t", id="1", document={"a": 1}, refresh=True)
            got = await es.get(index="t", id="1")
            return got.body, bool(await es.exists(index="t", id="2"))
        finally:
            await es.close()

    body, exists = asyncio.run(main())
    assert body["_source"] == {"a": 1}
    assert exists is False
    assert cluster.client().count(index="t")["count"] == 1


def test_sync_node_is_refused_by_the_async_client(cluster: FakeCluster) -> None:
    from elasticsearch import AsyncElasticsearch

    with pytest.raises(ValueError, match="node_class"):
        AsyncElasticsearch("http://localhost:9200", node_class=cluster.node_class)
