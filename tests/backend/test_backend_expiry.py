"""Expiry: ``expire()`` lifetimes, ``cleanup()`` and Celery beat's ``backend_cleanup``.

The backend's clock (``_now``) is moved by the tests; nothing sleeps.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from celery.beat import Scheduler

from esbackend import ElasticsearchBackend

from .backend_helpers import BackendFactory

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
DAY = 86400


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(make_backend: BackendFactory, clock: Clock) -> Any:
    def make(**config: Any) -> ElasticsearchBackend:
        b = make_backend(**config)
        b._now = clock  # type: ignore[method-assign]
        return b

    return make


def stored_ids(cluster: Any) -> set[str]:
    client = cluster.client()
    client.indices.refresh(index="celery")
    hits = client.search(index="celery", query={"match_all": {}}, size=1000)["hits"]["hits"]
    return {hit["_id"] for hit in hits}


def test_cleanup_deletes_results_older_than_result_expires(
    timed: Any, clock: Clock, cluster: Any
) -> None:
    b = timed(result_expires=DAY)
    b.mark_as_done("old", 1)
    b.set("celery-taskset-meta-old-group", "g")
    clock.advance(DAY / 2)
    b.mark_as_done("young", 2)
    clock.advance(DAY / 2 + 1)
    start = len(cluster.requests)
    b.cleanup()
    # Refresh first: delete_by_query searches, and search sees only refreshed documents.
    assert [r.api for r in cluster.requests[start:]] == ["indices.refresh", "delete_by_query"]
    assert stored_ids(cluster) == {"celery-task-meta-young"}
    assert b.get_task_meta("young")["result"] == 2


def test_cleanup_without_result_expires_keeps_plain_results(
    timed: Any, clock: Clock, cluster: Any
) -> None:
    b = timed(result_expires=None)
    b.mark_as_done("t", 1)
    b.expire("celery-task-meta-t2", 10)  # missing key: nothing happens
    clock.advance(365 * DAY)
    b.cleanup()
    assert stored_ids(cluster) == {"celery-task-meta-t"}


def test_cleanup_without_an_index_is_fine(timed: Any) -> None:
    timed().cleanup()


def test_expire_gives_a_lifetime_honoured_at_once_and_by_cleanup(
    timed: Any, clock: Clock, cluster: Any
) -> None:
    b = timed(result_expires=DAY)
    b.mark_as_done("short", "s")
    b.mark_as_done("long", "l")
    b.expire(b.get_key_for_task("short"), 60)
    b.expire(b.get_key_for_task("long"), timedelta(days=3))
    clock.advance(59)
    assert b.mget([b.get_key_for_task("short"), b.get_key_for_task("long")]) == [
        b.get(b.get_key_for_task("short")),
        b.get(b.get_key_for_task("long")),
    ]
    assert b.get(b.get_key_for_task("short")) is not None
    clock.advance(2)
    # Expired documents read as absent before cleanup runs (like a Redis TTL).
    assert b.get(b.get_key_for_task("short")) is None
    assert b.get_task_meta("short", cache=False)["status"] == "PENDING"
    assert b.mget([b.get_key_for_task("short")]) == [None]
    clock.advance(2 * DAY)  # past result_expires, but "long" has its own lifetime
    b.cleanup()
    assert stored_ids(cluster) == {"celery-task-meta-long"}


def test_expire_zero_restores_the_default_lifetime(timed: Any, clock: Clock, cluster: Any) -> None:
    b = timed(result_expires=DAY)
    b.mark_as_done("t", 1)
    key = b.get_key_for_task("t")
    b.expire(key, 10)
    b.expire(key, 0)
    clock.advance(60)
    assert b.get(key) is not None
    clock.advance(DAY)
    b.cleanup()
    assert stored_ids(cluster) == set()


def test_a_new_write_resets_the_lifetime(timed: Any, clock: Clock) -> None:
    b = timed(result_expires=DAY)
    b.mark_as_started("t")
    b.expire(b.get_key_for_task("t"), 10)
    b.mark_as_done("t", "done")
    clock.advance(60)
    assert b.get_task_meta("t", cache=False)["result"] == "done"


def test_an_expired_chord_counter_starts_again(timed: Any, clock: Clock) -> None:
    b = timed()
    key = b.get_key_for_chord("g")
    assert [b.incr(key), b.incr(key)] == [1, 2]
    b.expire(key, 30)
    assert b.incr(key) == 3  # incr keeps the lifetime
    clock.advance(29)
    assert b.incr(key) == 4
    clock.advance(2)
    assert b.incr(key) == 1  # expired: a new counter, without the old lifetime
    clock.advance(DAY)
    assert b.incr(key) == 2


def test_beat_schedules_backend_cleanup_and_it_runs(timed: Any, clock: Clock, cluster: Any) -> None:
    b = timed(result_expires=DAY)
    app = b.app
    entries: dict[str, Any] = {}
    scheduler = Scheduler(app, lazy=True)
    scheduler.update_from_dict = entries.update  # type: ignore[method-assign]
    app._local.backend = b  # the app's backend is our instance (thread-local in Celery)
    scheduler.install_default_entries({})
    assert entries["celery.backend_cleanup"]["task"] == "celery.backend_cleanup"
    b.mark_as_done("old", 1)
    clock.advance(DAY + 1)
    app.tasks["celery.backend_cleanup"]()
    assert stored_ids(cluster) == set()


@pytest.mark.parametrize(("chord_expires", "requests"), [(None, 0), (DAY, 1)])
def test_expire_to_the_default_lifetime_is_free_without_result_chord_expires(
    timed: Any, cluster: Any, chord_expires: int | None, requests: int
) -> None:
    # Celery's chord code calls expire(key, result_expires) three times per part.
    b = timed(result_expires=DAY, result_chord_expires=chord_expires)
    if chord_expires is not None and not hasattr(b, "_chord_expires"):
        pytest.skip("Celery < 5.5 has no result_chord_expires setting")
    b.mark_as_done("t", 1)
    start = len(cluster.requests)
    b.expire(b.get_key_for_task("t"), DAY)
    assert len(cluster.requests) - start == requests
