"""Which failures are retried, and by whom: the transport, Celery's loop, or ours.

The errors come from the real elasticsearch-py client talking to a scripted node, so the
exception classes are the ones production sees. Attempts are counted, never timed.
"""

from __future__ import annotations

import logging
from typing import Any

import elastic_transport
import elasticsearch
import pytest

from esbackend import ElasticsearchBackend

from .backend_helpers import Script, Step, make_app, requests_of, scripted_node


def backend(
    script: Script, url: str = "http://localhost:9200/celery", **config: Any
) -> ElasticsearchBackend:
    config.setdefault("elasticsearch_max_retries", 0)  # isolate the backend from the transport
    options = {"node_class": scripted_node(script)}
    b = ElasticsearchBackend(app=make_app(elasticsearch_client_options=options, **config), url=url)
    b._index_ready.set()  # the tests script document requests only
    return b


def raised_by(step: Step) -> BaseException:
    """The exception the real client raises when a request is answered with *step*."""
    b = backend(Script(steps=[step]))
    with pytest.raises(Exception) as info:  # noqa: PT011 - whatever the client raises
        b.server.index(index="celery", id="k", document={"result": "x"})
    return info.value


@pytest.mark.parametrize(
    ("step", "expected_type", "retry"),
    [
        (400, elasticsearch.BadRequestError, False),
        (401, elasticsearch.AuthenticationException, True),
        (403, elasticsearch.AuthorizationException, False),
        (404, elasticsearch.NotFoundError, False),
        (409, elasticsearch.ConflictError, True),
        (429, elasticsearch.ApiError, True),
        (500, elasticsearch.ApiError, True),
        (502, elasticsearch.ApiError, True),
        (503, elasticsearch.ApiError, True),
        (504, elasticsearch.ApiError, True),
        (elastic_transport.ConnectionError, elastic_transport.ConnectionError, True),
        (elastic_transport.ConnectionTimeout, elastic_transport.ConnectionTimeout, True),
        (elastic_transport.TlsError, elastic_transport.TlsError, False),
    ],
)
def test_exception_safe_to_retry(
    step: Step, expected_type: type[BaseException], retry: bool
) -> None:
    exc = raised_by(step)
    assert isinstance(exc, expected_type)
    b = backend(Script())
    assert b.exception_safe_to_retry(exc) is retry


@pytest.mark.parametrize("exc", [ValueError("x"), KeyError("k"), RuntimeError("boom")])
def test_foreign_exceptions_are_not_retried(exc: BaseException) -> None:
    assert backend(Script()).exception_safe_to_retry(exc) is False


def test_transport_retries_statuses_per_setting() -> None:
    script = Script(steps=[503, 503, 503, 503])
    b = backend(script, elasticsearch_max_retries=2)
    with pytest.raises(elasticsearch.ApiError):
        b.set("k", "v")
    assert len(script.log) == 3  # one attempt and two transport retries


@pytest.mark.parametrize(("retry_on_timeout", "attempts"), [(False, 1), (True, 3)])
def test_transport_retries_timeouts_only_when_asked(retry_on_timeout: bool, attempts: int) -> None:
    script = Script(steps=[elastic_transport.ConnectionTimeout] * 5)
    b = backend(
        script, elasticsearch_max_retries=2, elasticsearch_retry_on_timeout=retry_on_timeout
    )
    with pytest.raises(elastic_transport.ConnectionTimeout):
        b.get("k")
    assert len(script.log) == attempts


ALWAYS_RETRY = {
    "result_backend_always_retry": True,
    "result_backend_max_retries": 2,
}


def _ok(method: str, target: str, body: Any) -> tuple[int, Any]:
    if "_mget" in target:
        return 200, {"docs": [{"_id": i, "found": False} for i in body["ids"]]}
    if "_delete_by_query" in target:
        return 200, {"deleted": 0}
    if method == "GET":
        return 404, {"found": False}
    return 201, {"result": "created", "_seq_no": 0, "_primary_term": 1}


OPERATIONS = {
    "mget": lambda b: b.mget(["a", "b", "c"]),
    "incr": lambda b: b.incr("chord-unlock-g"),
    "delete": lambda b: b.delete("k"),
    "forget": lambda b: b.forget("task"),
    "cleanup": lambda b: b.cleanup(),
    "expire": lambda b: b.expire("k", 60),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_always_retry_covers_operations_celery_does_not(
    operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = Script(steps=[503, elastic_transport.ConnectionError], default=_ok)
    b = backend(script, **ALWAYS_RETRY)
    sleeps: list[float] = []
    monkeypatch.setattr(b, "_sleep", sleeps.append)
    OPERATIONS[operation](b)
    assert len(sleeps) == 2  # two failures, two backoffs, then success
    # The same request three times: each retry repeats the failed request only.
    assert len(set(requests_of(script.log[:3]))) == 1


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_retries_stop_at_result_backend_max_retries(
    operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = Script(default=lambda method, target, body: (503, {"error": "busy", "status": 503}))
    b = backend(script, **ALWAYS_RETRY)
    monkeypatch.setattr(b, "_sleep", lambda seconds: None)
    with pytest.raises(elasticsearch.ApiError):
        OPERATIONS[operation](b)
    # 1 + 2 retries, and not (1 + 2) ** 2: forget() is retried by Celery and must not
    # retry again inside.
    assert len(script.log) == 3


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_without_always_retry_nothing_is_retried(operation: str) -> None:
    script = Script(steps=[503], default=_ok)
    b = backend(script)
    with pytest.raises(elasticsearch.ApiError):
        OPERATIONS[operation](b)
    assert len(script.log) == 1


def test_non_retryable_errors_are_raised_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script(steps=[403], default=_ok)
    b = backend(script, **ALWAYS_RETRY)
    monkeypatch.setattr(b, "_sleep", lambda seconds: pytest.fail("slept"))
    with pytest.raises(elasticsearch.AuthorizationException):
        b.mget(["a"])
    assert len(script.log) == 1


def test_store_result_is_retried_by_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script(steps=[502, 429], default=_ok)
    b = backend(script, **ALWAYS_RETRY)
    monkeypatch.setattr(b, "_sleep", lambda seconds: None)
    b.mark_as_done("t1", 42)
    assert requests_of(script.log) == ["PUT /celery/_doc/celery-task-meta-t1"] * 3
    assert all("op_type=create" in target for _, target in script.log)


def test_retry_logs_carry_no_credentials(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script(steps=[elastic_transport.ConnectionError, 401], default=_ok)
    b = backend(script, url="https://admin:hunter2@es.example:9200/celery", **ALWAYS_RETRY)
    monkeypatch.setattr(b, "_sleep", lambda seconds: None)
    with caplog.at_level(logging.DEBUG):
        b.mget(["a"])
        b.delete("k")
    assert "retry" in caplog.text
    assert "hunter2" not in caplog.text
    assert "hunter2" not in repr(b.server)
