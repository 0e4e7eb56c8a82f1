"""Reading and writing Celery results: esbackend, the raw client and Celery's built-in backend.

Every operation runs three ways on each target (``client``: elasticsearch-py issuing the
requests esbackend issues; ``esbackend``; ``builtin``: Celery's own backend), and once on the
client's floor (the same requests answered by a node returning fixed bodies).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import elasticsearch
import pytest
from celery import states

from bench._support import BUILTIN_WARNINGS, floor_client, meta_json, new_task_ids, seed
from bench.conftest import Label, Stack
from esbackend._backend import INDEX_MAPPING
from esbackend.fakes import FakeCluster

BUILTIN = pytest.param("builtin", marks=pytest.mark.filterwarnings(BUILTIN_WARNINGS))
#: Writes: the raw client, esbackend, Celery's built-in.
IMPLS = ["client", "esbackend", BUILTIN]
#: Reads also run esbackend decoding with the stdlib, to show what orjson (used when
#: installed) is worth; ``client`` is elasticsearch-py as configured by default (stdlib).
READ_IMPLS = ["client", "esbackend", "esbackend-stdlib", BUILTIN]
#: Ratios close to 1 (esbackend vs the client) need more rounds to be stable on a busy machine.
LONGER = pytest.mark.benchmark(max_time=1.0)
MGET_SIZES = [1, 10, 100, 1000]
GROUP_SIZE = 100
#: Writes change the cluster, so they run a fixed number of rounds, each on a fresh key.
WRITE_ROUNDS = 200
WARMUP_ROUNDS = 5


def document(task_id: str, status: str = states.SUCCESS) -> dict[str, Any]:
    """What esbackend writes for a task result (the raw client writes the same)."""
    return {
        "result": meta_json(task_id, status),
        "@timestamp": "2024-05-01T10:00:01.000Z",
        "status": status,
    }


def change_state(client: elasticsearch.Elasticsearch, index: str, key: str, doc: Any) -> None:
    """esbackend's requests for a state change: create (409), get, index if unchanged."""
    with contextlib.suppress(elasticsearch.ConflictError):
        client.index(index=index, id=key, document=doc, op_type="create")
    current = client.get(index=index, id=key)
    client.index(
        index=index,
        id=key,
        document=doc,
        if_seq_no=current["_seq_no"],
        if_primary_term=current["_primary_term"],
    )


def _status(meta: Any) -> str:
    return str(json.loads(meta)["status"])


def _fresh(keys: list[str]) -> Callable[[], tuple[tuple[str], dict[str, Any]]]:
    """A pedantic ``setup``: each round gets the next unused key."""
    pool: Iterator[str] = iter(keys)
    return lambda: ((next(pool),), {})


# -- the client's floor ------------------------------------------------------------------


@pytest.fixture
def floor() -> tuple[FakeCluster, elasticsearch.Elasticsearch]:
    """A fake holding the index, and a floor client that answers from its first responses."""
    cluster = FakeCluster()
    cluster.client().indices.create(index="celery", mappings=INDEX_MAPPING)
    return cluster, floor_client(cluster)


@LONGER
def test_get_floor(benchmark: Any, label: Label, floor: tuple[FakeCluster, Any]) -> None:
    cluster, client = floor
    (key,) = seed(cluster.client(), "celery", new_task_ids(1))
    label("floor", "client", "get")
    assert benchmark(client.get, index="celery", id=key)["found"]


@pytest.mark.parametrize("n", MGET_SIZES)
def test_mget_floor(benchmark: Any, label: Label, floor: tuple[FakeCluster, Any], n: int) -> None:
    cluster, client = floor
    keys = seed(cluster.client(), "celery", new_task_ids(n))
    label("floor", "client", "mget", n)
    assert len(benchmark(client.mget, index="celery", ids=keys)["docs"]) == n


def test_get_many_floor(benchmark: Any, label: Label, floor: tuple[FakeCluster, Any]) -> None:
    cluster, client = floor
    keys = seed(cluster.client(), "celery", new_task_ids(GROUP_SIZE))
    label("floor", "client", "get_many", GROUP_SIZE)
    assert len(benchmark(client.mget, index="celery", ids=keys)["docs"]) == GROUP_SIZE


def test_set_new_floor(benchmark: Any, label: Label, floor: tuple[FakeCluster, Any]) -> None:
    _, client = floor
    (task_id,) = new_task_ids(1)
    key, doc = f"celery-task-meta-{task_id}", document(task_id)
    label("floor", "client", "set_new")
    # The first create is answered 201 and recorded; the floor replays that answer.
    benchmark(client.index, index="celery", id=key, document=doc, op_type="create")


def test_set_state_floor(benchmark: Any, label: Label, floor: tuple[FakeCluster, Any]) -> None:
    cluster, client = floor
    (task_id,) = new_task_ids(1)
    key = f"celery-task-meta-{task_id}"
    cluster.client().index(index="celery", id=key, document=document(task_id, states.STARTED))
    label("floor", "client", "set_state")
    benchmark(change_state, client, "celery", key, document(task_id))


# -- on the target: client, esbackend, built-in ----------------------------------------------


@LONGER
@pytest.mark.parametrize("impl", READ_IMPLS)
def test_get(benchmark: Any, label: Label, stack: Stack, impl: str) -> None:
    _, (key,) = stack.seed(1)
    label(stack.name, impl, "get")
    if impl == "client":
        assert benchmark(stack.client.get, index=stack.index, id=key)["found"]
    else:
        assert _status(benchmark(stack.backend(impl).get, key)) == states.SUCCESS


@pytest.mark.parametrize("n", MGET_SIZES)
@pytest.mark.parametrize("impl", READ_IMPLS)
def test_mget(benchmark: Any, label: Label, stack: Stack, impl: str, n: int) -> None:
    _, keys = stack.seed(n)
    label(stack.name, impl, "mget", n)
    if impl == "client":
        docs = benchmark(stack.client.mget, index=stack.index, ids=keys)["docs"]
        assert all(doc["found"] for doc in docs)
    else:
        values = benchmark(stack.backend(impl).mget, keys)
        assert [_status(v) for v in values] == [states.SUCCESS] * n


@pytest.mark.parametrize("impl", READ_IMPLS)
def test_get_many(benchmark: Any, label: Label, stack: Stack, impl: str) -> None:
    """A group's results, as ``GroupResult.get()`` collects them (``get_many``)."""
    task_ids, keys = stack.seed(GROUP_SIZE)
    label(stack.name, impl, "get_many", GROUP_SIZE)
    if impl == "client":
        docs = benchmark(stack.client.mget, index=stack.index, ids=keys)["docs"]
        assert all(doc["found"] for doc in docs)
    else:
        backend = stack.backend(impl)
        got = benchmark(lambda: list(backend.get_many(task_ids)))
        assert [meta["status"] for _, meta in got] == [states.SUCCESS] * GROUP_SIZE


@pytest.mark.parametrize("impl", IMPLS)
def test_set_new(benchmark: Any, label: Label, stack: Stack, impl: str) -> None:
    """Storing a new task's result (``store_result`` on a task id never seen)."""
    task_ids = new_task_ids(WRITE_ROUNDS + WARMUP_ROUNDS)
    label(stack.name, impl, "set_new")
    if impl == "client":
        client, index = stack.client, stack.index

        def write(task_id: str) -> None:
            key = f"celery-task-meta-{task_id}"
            client.index(index=index, id=key, document=document(task_id), op_type="create")

    else:
        backend = stack.backend(impl)
        backend.get("warm-up")  # the client exists before the first timed round

        def write(task_id: str) -> None:
            backend.store_result(task_id, 42, states.SUCCESS)

    _pedantic(benchmark, write, task_ids)
    stored = stack.client.get(index=stack.index, id=f"celery-task-meta-{task_ids[-1]}")
    assert _status(stored["_source"]["result"]) == states.SUCCESS


@pytest.mark.parametrize("impl", IMPLS)
def test_set_state(benchmark: Any, label: Label, stack: Stack, impl: str) -> None:
    """A state change: STARTED to SUCCESS (``store_result`` on a stored task)."""
    task_ids = new_task_ids(WRITE_ROUNDS + WARMUP_ROUNDS)
    label(stack.name, impl, "set_state")
    if impl == "client":
        client, index = stack.client, stack.index
        started = [
            line
            for task_id in task_ids
            for line in (
                {"index": {"_index": index, "_id": f"celery-task-meta-{task_id}"}},
                document(task_id, states.STARTED),
            )
        ]
        assert not client.bulk(operations=started)["errors"]

        def write(task_id: str) -> None:
            change_state(client, index, f"celery-task-meta-{task_id}", document(task_id))

    else:
        backend = stack.backend(impl)
        for task_id in task_ids:
            backend.store_result(task_id, None, states.STARTED)

        def write(task_id: str) -> None:
            backend.store_result(task_id, 42, states.SUCCESS)

    _pedantic(benchmark, write, task_ids)
    stored = stack.client.get(index=stack.index, id=f"celery-task-meta-{task_ids[-1]}")
    assert _status(stored["_source"]["result"]) == states.SUCCESS


def _pedantic(benchmark: Any, write: Callable[[str], None], task_ids: list[str]) -> None:
    benchmark.pedantic(
        write,
        setup=_fresh(task_ids),
        rounds=len(task_ids) - WARMUP_ROUNDS,
        warmup_rounds=WARMUP_ROUNDS,
    )
