"""The Celery result backend on every ``--es-target``: results, groups, chords, expiry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from celery import Celery, chord, group, states
from celery.result import GroupResult
from elasticsearch import Elasticsearch

from esbackend import ElasticsearchBackend

TIMEOUT = 30  # seconds; a safety net for a hung worker, never an assertion


def test_store_and_read_results(es_backend: ElasticsearchBackend) -> None:
    es_backend.store_result("t1", {"answer": 42}, states.SUCCESS)
    meta = es_backend.get_task_meta("t1")
    assert (meta["status"], meta["result"]) == (states.SUCCESS, {"answer": 42})
    assert es_backend.get_task_meta("never-stored")["status"] == states.PENDING

    # A late STARTED never replaces a stored SUCCESS.
    es_backend.store_result("t1", None, states.STARTED)
    assert es_backend.get_task_meta("t1", cache=False)["status"] == states.SUCCESS

    es_backend.forget("t1")
    assert es_backend.get_task_meta("t1", cache=False)["status"] == states.PENDING


def test_mget_reads_many_keys_in_one_request(
    es_backend: ElasticsearchBackend, es_requests: Any
) -> None:
    es_backend.set("k1", "one")
    es_backend.set("k3", "three")
    before = es_requests.count("mget")
    assert es_backend.mget(["k1", "k2", "k3"]) == ["one", None, "three"]
    assert es_requests.count("mget") == before + 1


def test_group_meta_round_trip(es_backend: ElasticsearchBackend, es_celery_app: Celery) -> None:
    saved = GroupResult("g1", [es_celery_app.AsyncResult("a"), es_celery_app.AsyncResult("b")])
    es_backend.save_group("g1", saved)
    restored = es_backend.restore_group("g1")
    assert restored is not None
    assert [r.id for r in restored.results] == ["a", "b"]
    es_backend.delete_group("g1")
    assert es_backend.restore_group("g1") is None


def test_expire_then_cleanup_removes_the_document(
    es_backend: ElasticsearchBackend,
    es_client: Elasticsearch,
    es_index: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The backend's clock is client side, so moving it works against any cluster.
    now = [datetime.now(timezone.utc)]
    monkeypatch.setattr(es_backend, "_now", lambda: now[0])
    es_backend.set("short", "lived")
    es_backend.set("long", "lived")
    es_backend.expire("short", 60)
    now[0] += timedelta(seconds=61)
    assert es_backend.get("short") is None  # expired reads as absent at once
    assert es_backend.get("long") == "lived"
    es_backend.cleanup()
    assert not es_client.exists(index=es_index, id="short")
    assert es_client.exists(index=es_index, id="long")


def _add(x: int, y: int) -> int:
    return x + y


def _total(values: list[int]) -> int:
    return sum(values)


@pytest.fixture
def worker(es_celery_app: Celery, request: pytest.FixtureRequest) -> Any:
    """A worker with ``add`` and ``total`` registered before it starts."""
    es_celery_app.task(name="contract.add")(_add)
    es_celery_app.task(name="contract.total")(_total)
    return request.getfixturevalue("es_celery_worker")


def test_group_and_chord_through_a_worker(es_celery_app: Celery, worker: Any) -> None:
    add = es_celery_app.tasks["contract.add"]
    total = es_celery_app.tasks["contract.total"]
    assert group(add.s(i, i) for i in range(4))().get(timeout=TIMEOUT) == [0, 2, 4, 6]
    # The chord counter (incr) fires the callback once every part is stored.
    assert chord(add.s(i, 1) for i in range(3))(total.s()).get(timeout=TIMEOUT) == 6
