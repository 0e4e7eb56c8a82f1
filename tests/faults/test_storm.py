"""A storm: hundreds of tasks through a real worker while ~30% of all attempts fail.

Seeded mixed faults on every API, for the worker and the caller alike. With
``result_backend_always_retry`` every result must still be readable and correct, no SUCCESS
may be overwritten, and chord counters must come out exact.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, chord, group, states

from esbackend.fakes import FaultPlan, RequestLog

TIMEOUT = 60  # a safety net for a hung worker, never an assertion
TASKS = 200
CHORDS = 6
CHORD_SIZE = 8


def configure(app: Celery) -> None:
    app.conf.update(
        result_backend_always_retry=True,
        result_backend_max_retries=50,
        result_backend_base_sleep_between_retries_ms=1,
        result_backend_max_sleep_between_retries_ms=5,
        elasticsearch_retry_on_timeout=True,
        task_track_started=True,  # STARTED writes race SUCCESS writes: they must never win
    )

    @app.task(name="square", shared=False)
    def square(x: int) -> int:
        return x * x

    @app.task(name="total", shared=False)
    def total(values: list[int]) -> int:
        return sum(values)


def storm(faults: FaultPlan) -> None:
    # About 30% of attempts fail, whatever the API: each rule fails ~7.5% of what reaches it.
    for n, what in enumerate([503, 429, "connection", "timeout"]):
        faults.inject(what, probability=0.075, seed=100 + n)


def test_every_result_survives_the_storm(
    es_celery_app: Celery, es_faults: FaultPlan, es_requests: RequestLog
) -> None:
    from celery.contrib.testing.worker import start_worker

    configure(es_celery_app)
    square, total = es_celery_app.tasks["square"], es_celery_app.tasks["total"]
    with start_worker(
        es_celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=TIMEOUT
    ):
        storm(es_faults)
        singles = [square.delay(i) for i in range(TASKS)]
        groups = [group(square.s(i) for i in range(10)).apply_async() for _ in range(5)]
        chords = [chord(square.s(i) for i in range(CHORD_SIZE))(total.s()) for _ in range(CHORDS)]
        values: list[Any] = [r.get(timeout=TIMEOUT, interval=0.01) for r in singles]
        grouped = [g.get(timeout=TIMEOUT, interval=0.01) for g in groups]
        summed = [c.get(timeout=TIMEOUT, interval=0.01) for c in chords]
    failed = [r for r in es_requests if r.fault is not None]
    es_faults.clear()

    assert values == [i * i for i in range(TASKS)]
    assert grouped == [[i * i for i in range(10)]] * 5
    assert summed == [sum(i * i for i in range(CHORD_SIZE))] * CHORDS
    # Stored states, read back with the storm over: every one SUCCESS, none overwritten.
    backend = es_celery_app.backend
    for result in singles:
        meta = backend.get_task_meta(result.id, cache=False)
        assert (meta["status"], meta["result"]) == (states.SUCCESS, result.result)
    # The storm was real: about 30% of the attempts failed.
    assert 0.15 <= len(failed) / len(es_requests) <= 0.45
