"""The backend under faults: with ``result_backend_always_retry`` it rides them out.

The transport's own retries are switched off here (``elasticsearch_max_retries=0``), so every
retry counted is the backend's. Celery's base class retries store/get/forget; esbackend also
retries the reads behind ``get_many``, and ``incr``/``delete``/``cleanup``.
"""

from __future__ import annotations

from collections.abc import Callable

import elasticsearch
import pytest
from celery import Celery, states

from esbackend import ElasticsearchBackend
from esbackend.fakes import FaultPlan, RequestLog

RIDDEN_OUT: list[int | str] = [401, 409, 500, 502, 504, "timeout", "connection"]


@pytest.fixture
def backend(es_celery_app: Celery) -> ElasticsearchBackend:
    es_celery_app.conf.update(
        result_backend_always_retry=True,
        result_backend_max_retries=5,
        # Keep Celery's backoff between retries short: this suite counts, it does not wait.
        result_backend_base_sleep_between_retries_ms=1,
        result_backend_max_sleep_between_retries_ms=2,
        elasticsearch_max_retries=0,
        elasticsearch_timeout=1,
    )
    backend: ElasticsearchBackend = es_celery_app.backend
    backend.store_result("stored", 42, states.SUCCESS)  # the index exists, one result stored
    return backend


def store(backend: ElasticsearchBackend) -> None:
    backend.store_result("new-task", "done", states.SUCCESS)
    assert backend.get_task_meta("new-task")["result"] == "done"


def get_meta(backend: ElasticsearchBackend) -> None:
    assert backend.get_task_meta("stored")["result"] == 42


def get_many(backend: ElasticsearchBackend) -> None:
    found = dict(backend.get_many(["stored"], timeout=5, interval=0.01))
    assert found["stored"]["result"] == 42


def forget(backend: ElasticsearchBackend) -> None:
    backend.forget("stored")
    assert backend.get_task_meta("stored")["status"] == states.PENDING


# operation, the API whose attempts the faults hit
OPERATIONS: dict[str, tuple[Callable[[ElasticsearchBackend], None], str]] = {
    "store_result": (store, "index"),
    "get_task_meta": (get_meta, "get"),
    "get_many": (get_many, "mget"),
    "forget": (forget, "delete"),
}


@pytest.mark.parametrize("times", [1, 2])
@pytest.mark.parametrize("fault", RIDDEN_OUT, ids=str)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_operations_succeed_after_passing_faults(
    backend: ElasticsearchBackend,
    es_faults: FaultPlan,
    es_requests: RequestLog,
    operation: str,
    fault: int | str,
    times: int,
) -> None:
    run, api = OPERATIONS[operation]
    rule = es_faults.inject(fault, api=api, times=times)
    es_requests.clear()
    run(backend)
    assert rule.hits == times
    # A 409 on a new result's create means "it exists": the backend reads and re-creates
    # instead of retrying, so count only the attempts the rule failed plus one success.
    failed = [r for r in es_requests if r.api == api and r.fault is not None]
    assert len(failed) == times
    assert es_requests.count(api, fault=None) >= 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, elasticsearch.BadRequestError),
        (403, elasticsearch.AuthorizationException),
    ],
)
@pytest.mark.parametrize("operation", ["store_result", "get_task_meta", "forget"])
def test_400_and_403_surface_at_once(
    backend: ElasticsearchBackend,
    es_faults: FaultPlan,
    es_requests: RequestLog,
    operation: str,
    status: int,
    error: type[Exception],
) -> None:
    run, api = OPERATIONS[operation]
    es_faults.inject(status, api=api)
    es_requests.clear()
    with pytest.raises(error):
        run(backend)
    assert es_requests.count(api) == 1


def test_retries_give_up_after_result_backend_max_retries(
    backend: ElasticsearchBackend,
    es_faults: FaultPlan,
    es_requests: RequestLog,
) -> None:
    from celery.exceptions import BackendGetMetaError

    es_faults.inject(503, api="get")
    es_requests.clear()
    with pytest.raises(BackendGetMetaError):
        backend.get_task_meta("stored")
    assert es_requests.count("get") == 1 + 5  # the first try and five retries


def test_incr_and_cleanup_retry_too(
    backend: ElasticsearchBackend, es_faults: FaultPlan, es_requests: RequestLog
) -> None:
    es_faults.inject("connection", api="get", times=2)
    assert backend.incr("chord-unlock-x") == 1
    es_faults.inject(502, api="delete_by_query", times=1)
    backend.cleanup()
    assert es_requests.count("delete_by_query") == 2
