"""Acceptance: a real in-process Celery worker (memory broker) using the backend on FakeCluster."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery, chord, group, signals
from celery.contrib.testing.worker import start_worker

from .backend_helpers import hooked_node, make_app

TIMEOUT = 20  # seconds; a safety net for a hung worker, never an assertion


class Traffic:
    """Who sent which request: (thread, method, path) for every request to the cluster."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[int, str, str]] = []

    def __call__(self, method: str, target: str) -> None:
        with self.lock:
            self.seen.append((threading.get_ident(), method, target.split("?")[0]))

    def mark(self) -> int:
        with self.lock:
            return len(self.seen)

    def of_this_thread(self, start: int) -> list[tuple[str, str]]:
        me = threading.get_ident()
        with self.lock:
            return [(m, p) for t, m, p in self.seen[start:] if t == me]


# One worker (and one cluster) for the module: starting and stopping a worker is the
# slow part of these tests.


@pytest.fixture(scope="module")
def cluster() -> Any:
    from esbackend.fakes import FakeCluster

    return FakeCluster()


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture(scope="module")
def app(cluster: Any, traffic: Traffic) -> Celery:
    app = make_app(
        # The memory transport polls its queues; the default 1 s makes each hop slow.
        broker_transport_options={"polling_interval": 0.01},
        # The module:Class form needs no installed entry point.
        result_backend="esbackend._backend:ElasticsearchBackend+http://localhost:9200/celery",
        elasticsearch_client_options={"node_class": hooked_node(cluster.node_class, traffic)},
        result_extended=True,
        task_track_started=True,
    )

    @app.task(name="add", shared=False)
    def add(x: int, y: int) -> int:
        return x + y

    @app.task(name="fail", shared=False)
    def fail() -> None:
        raise ValueError("expected failure")

    @app.task(name="total", shared=False)
    def total(values: list[int]) -> int:
        return sum(values)

    return app


@pytest.fixture
def task_names() -> Iterator[list[str]]:
    names: list[str] = []

    def record(sender: Any = None, **kwargs: Any) -> None:
        names.append(sender.name)

    signals.task_prerun.connect(record, weak=False)
    yield names
    signals.task_prerun.disconnect(record)


@pytest.fixture(scope="module")
def worker(app: Celery) -> Iterator[Any]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=TIMEOUT) as w:
        yield w


@pytest.mark.usefixtures("worker")
def test_tasks_and_failures(app: Celery) -> None:
    result = app.tasks["add"].delay(2, 3)
    assert result.get(timeout=TIMEOUT, interval=0.01) == 5
    assert result.state == "SUCCESS"
    assert (result.name, result.args, result.kwargs) == ("add", [2, 3], {})  # result_extended
    failed = app.tasks["fail"].delay()
    with pytest.raises(ValueError, match="expected failure"):
        failed.get(timeout=TIMEOUT, interval=0.01)
    assert failed.state == "FAILURE"
    assert "ValueError" in failed.traceback
    failed.forget()
    assert failed.state == "PENDING"


@pytest.mark.usefixtures("worker")
def test_a_group_polls_with_one_mget_per_round(app: Celery, traffic: Traffic) -> None:
    add = app.tasks["add"]
    rounds: list[int] = []
    start = traffic.mark()
    result = group(add.s(i, i) for i in range(10)).apply_async()
    values = result.get(timeout=TIMEOUT, interval=0.01, on_interval=lambda: rounds.append(1))
    assert values == [2 * i for i in range(10)]
    mine = [request for request in traffic.of_this_thread(start) if request[0] != "HEAD"]
    polls = [request for request in mine if request[1].endswith("/_mget")]
    # Every round is one _mget for all ten results. Celery 5.5+ calls on_interval after every
    # round but the last; Celery 5.3 after every round.
    assert len(rounds) <= len(polls) <= len(rounds) + 1
    assert not [request for request in mine if "celery-task-meta" in request[1]]


@pytest.mark.usefixtures("worker")
def test_a_chord_completes_without_chord_unlock(
    app: Celery, cluster: Any, task_names: list[str]
) -> None:
    add, total = app.tasks["add"], app.tasks["total"]
    result = chord(add.s(i, 1) for i in range(8))(total.s())
    assert result.get(timeout=TIMEOUT, interval=0.01) == sum(i + 1 for i in range(8))
    assert "celery.chord_unlock" not in task_names
    assert task_names.count("add") == 8
    assert task_names.count("total") == 1
    counter = [
        r for r in cluster.requests if (r.id or "").startswith(f"chord-unlock-{result.parent.id}")
    ]
    assert [r.api for r in counter].count("delete") == 1  # counted, then removed
    assert not app.backend.get(app.backend.get_key_for_chord(result.parent.id))


@pytest.mark.usefixtures("worker")
def test_a_chord_with_a_failing_header_fails(app: Celery) -> None:
    add, fail, total = app.tasks["add"], app.tasks["fail"], app.tasks["total"]
    result = chord([add.s(1, 1), fail.s()])(total.s())
    with pytest.raises(Exception, match="expected failure"):
        result.get(timeout=TIMEOUT, interval=0.01)
