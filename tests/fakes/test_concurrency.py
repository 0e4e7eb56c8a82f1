"""Thread safety: concurrent writers never lose an update; _seq_no strictly increases."""

from __future__ import annotations

import threading

import elasticsearch
from elasticsearch import Elasticsearch

from esbackend.fakes import FakeCluster

THREADS = 8
INCREMENTS = 50


def increment(es: Elasticsearch) -> None:
    """Read-modify-write with if_seq_no, retrying on conflict: the OCC pattern."""
    while True:
        doc = es.get(index="c", id="counter")
        try:
            es.index(
                index="c",
                id="counter",
                document={"n": doc["_source"]["n"] + 1},
                if_seq_no=doc["_seq_no"],
                if_primary_term=doc["_primary_term"],
            )
            return
        except elasticsearch.ConflictError:
            continue


def test_no_lost_updates_under_contention(cluster: FakeCluster) -> None:
    es = cluster.client()
    es.index(index="c", id="counter", document={"n": 0})
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            client = cluster.client()
            for _ in range(INCREMENTS):
                increment(client)
        except BaseException as exc:  # re-raised in the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = es.get(index="c", id="counter")
    assert final["_source"]["n"] == THREADS * INCREMENTS
    assert final["_version"] == THREADS * INCREMENTS + 1


def test_seq_no_strictly_increases_across_threads(cluster: FakeCluster) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        client = cluster.client()
        for i in range(100):
            result = client.index(index="s", id=f"{n}-{i}", document={"i": i})
            with lock:
                seen.append(result["_seq_no"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(THREADS * 100))
    assert cluster.client().count(index="s")["count"] == 0  # nothing refreshed yet
    cluster.refresh("s")
    assert cluster.client().count(index="s")["count"] == THREADS * 100
