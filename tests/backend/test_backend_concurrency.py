"""Optimistic concurrency: state changes and chord counters under concurrent writers.

Interleavings are forced (a hook writes between our read and our write, a barrier makes
every thread read the same version) so each test exercises the conflict path every run.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from celery import states

from esbackend.fakes import serve

from .backend_helpers import BackendFactory, hooked_node, incr_many

THREADS = 8


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    # Make the interpreter switch threads far more often than every 5 ms, so threads
    # interleave inside the client calls rather than run one after another.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def conflicts(cluster: Any) -> int:
    return sum(1 for record in cluster.requests if record.status == 409)


def is_conditional_write(method: str, target: str) -> bool:
    return method == "PUT" and "if_seq_no=" in target


def once(action: Callable[[], None], when: Callable[[str, str], bool]) -> Any:
    """A hook running *action* before the first request matching *when*."""
    fired: list[str] = []

    def hook(method: str, target: str) -> None:
        if not fired and when(method, target):
            fired.append(target)
            action()

    hook.fired = fired  # type: ignore[attr-defined]
    return hook


def test_a_success_landing_between_read_and_write_wins(
    make_backend: BackendFactory, cluster: Any
) -> None:
    # Celery #6115/#9629: a RETRY computed from a stale read must not replace a SUCCESS.
    competitor = make_backend()
    competitor.mark_as_started("t")
    hook = once(lambda: competitor.mark_as_done("t", "winner"), is_conditional_write)
    late = make_backend(node_class=hooked_node(cluster.node_class, hook))
    late.mark_as_retry("t", RuntimeError("late retry"))
    assert hook.fired
    meta = late.get_task_meta("t", cache=False)
    assert (meta["status"], meta["result"]) == (states.SUCCESS, "winner")


def test_a_state_change_racing_a_forget_recreates(
    make_backend: BackendFactory, cluster: Any
) -> None:
    other = make_backend()
    other.mark_as_started("t")
    hook = once(lambda: other.forget("t"), lambda method, target: method == "GET")
    b = make_backend(node_class=hooked_node(cluster.node_class, hook))
    b.mark_as_done("t", 5)  # create: 409, get: 404 (forgotten), create again
    assert hook.fired
    assert b.get_task_meta("t", cache=False)["result"] == 5


def test_incr_between_read_and_write_is_not_lost(
    make_backend: BackendFactory, cluster: Any
) -> None:
    competitor = make_backend()
    competitor.incr("chord-unlock-g")
    hook = once(lambda: competitor.incr("chord-unlock-g"), is_conditional_write)
    b = make_backend(node_class=hooked_node(cluster.node_class, hook))
    assert b.incr("chord-unlock-g") == 3
    assert hook.fired
    assert conflicts(cluster) == 1


def _barrier_on_first_get(parties: int) -> Callable[[str, str], None]:
    """A hook making every thread's first GET wait for the others: all read one version."""
    barrier = threading.Barrier(parties, timeout=10)
    seen = threading.local()

    def hook(method: str, target: str) -> None:
        if method == "GET" and not getattr(seen, "done", False):
            seen.done = True
            barrier.wait()

    return hook


@pytest.mark.parametrize("shared", [True, False], ids=["one-backend", "backend-per-thread"])
def test_incr_is_exact_under_concurrent_threads(
    make_backend: BackendFactory, cluster: Any, shared: bool
) -> None:
    per_thread = 40
    node_class = hooked_node(cluster.node_class, _barrier_on_first_get(THREADS))
    one = make_backend(node_class=node_class)
    one.set("warmup", "x")  # the index exists before the race starts
    backends = [one if shared else make_backend(node_class=node_class) for _ in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        runs = pool.map(lambda b: [b.incr("chord-unlock-g") for _ in range(per_thread)], backends)
        returned = sorted(value for run in runs for value in run)
    total = THREADS * per_thread
    assert returned == list(range(1, total + 1))  # every value handed out exactly once
    assert make_backend().incr("chord-unlock-g") == total + 1  # not hooked: no barrier
    assert conflicts(cluster) >= THREADS - 1  # the barrier guarantees a first-round race


def test_incr_is_exact_across_processes(cluster: Any) -> None:
    processes, per_process = 3, 25
    with serve(cluster) as base:
        url = f"{base}/celery"
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes) as pool:
            runs = pool.starmap(incr_many, [(url, "chord-unlock-p", per_process)] * processes)
    returned = sorted(value for run in runs for value in run)
    assert returned == list(range(1, processes * per_process + 1))


def test_concurrent_state_writers_never_replace_success(
    make_backend: BackendFactory, cluster: Any
) -> None:
    node_class = hooked_node(cluster.node_class, _barrier_on_first_get(THREADS))
    backends = [make_backend(node_class=node_class) for _ in range(THREADS)]
    backends[0].mark_as_started("t")
    start = threading.Barrier(THREADS, timeout=10)

    def write(index: int) -> None:
        b = backends[index]
        b.get("anything")  # pass the first-GET barrier together
        start.wait()
        if index == 0:
            b.mark_as_done("t", "winner")
            return
        for round_ in range(15):
            if round_ % 2:
                b.mark_as_started("t")
            else:
                b.mark_as_retry("t", RuntimeError(f"retry {index}"))

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(write, range(THREADS)))
    meta = make_backend().get_task_meta("t", cache=False)
    assert (meta["status"], meta["result"]) == (states.SUCCESS, "winner")
