"""Test-only helpers for the backend tests: a scripted elastic-transport node and an app factory.

``scripted_node`` answers each request with the next scripted status or network error, so a test
can drive the real elasticsearch-py client (and so the real exception classes and the transport's
own retries) without a cluster, and count every attempt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders, NodeConfig
from elastic_transport._node._base import NodeApiResponse

from esbackend import ElasticsearchBackend

#: ``make_backend(url=..., node_class=..., **celery_settings)`` (the fixture in conftest.py).
BackendFactory = Callable[..., ElasticsearchBackend]

# What a scripted step may be: a status (with a matching body), (status, body), or an
# exception class (raised as a new object each time, as elastic-transport requires).
Step = int | tuple[int, Any] | type[BaseException]


@dataclass
class Script:
    """The answers a scripted node gives, in order, then ``default`` for every other request."""

    steps: list[Step] = field(default_factory=list)
    default: Callable[[str, str, Any], tuple[int, Any]] | None = None
    log: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, method: str, target: str, body: Any) -> tuple[int, Any]:
        self.log.append((method, target))
        if self.steps:
            step = self.steps.pop(0)
            if isinstance(step, type):
                raise step("scripted network failure")
            if isinstance(step, int):
                return step, _error_body(step)
            return step
        if self.default is not None:
            return self.default(method, target, body)
        raise AssertionError(f"unscripted request {method} {target}")


def _error_body(status: int) -> Any:
    if status < 300:
        return {"acknowledged": True}
    kind = {409: "version_conflict_engine_exception", 404: "index_not_found_exception"}
    error = {"type": kind.get(status, "scripted_exception"), "reason": f"scripted {status}"}
    return {"error": {"root_cause": [error], **error}, "status": status}


def json_response(node: BaseNode, status: int, payload: Any) -> NodeApiResponse:
    """What an Elasticsearch node answers: ``payload`` as JSON, with the product header."""
    meta = ApiResponseMeta(
        status=status,
        http_version="1.1",
        headers=HttpHeaders(
            {"X-Elastic-Product": "Elasticsearch", "Content-Type": "application/json"}
        ),
        duration=0.0,
        node=node.config,
    )
    return NodeApiResponse(meta, json.dumps(payload).encode())


def scripted_node(script: Script) -> type[BaseNode]:
    """A node class (for ``Elasticsearch(node_class=...)``) that plays *script*."""

    class ScriptedNode(BaseNode):
        def perform_request(  # type: ignore[override]
            self,
            method: str,
            target: str,
            body: bytes | None = None,
            headers: HttpHeaders | None = None,
            request_timeout: Any = None,
        ) -> NodeApiResponse:
            decoded = json.loads(body) if body else None
            status, payload = script.answer(method, target, decoded)
            return json_response(self, status, payload)

    return ScriptedNode


def node_config() -> NodeConfig:
    return NodeConfig("http", "localhost", 9200)


def make_app(**config: Any) -> Celery:
    """A Celery app with a memory broker and *config* (the backend is built on demand)."""
    app = Celery("esbackend-tests", set_as_current=False)
    # broker_connection_retry_on_startup: explicit, so Celery 5.3/5.4 do not warn about 6.0.
    app.conf.update(broker_url="memory://", broker_connection_retry_on_startup=True, **config)
    return app


def requests_of(log: Iterable[tuple[str, str]]) -> list[str]:
    return [f"{method} {target.split('?')[0]}" for method, target in log]


Hook = Callable[[str, str], "tuple[int, Any] | None"]


def hooked_node(base: type[BaseNode], hook: Hook) -> type[BaseNode]:
    """*base* (e.g. ``cluster.node_class``) with *hook* called before each request.

    The hook may act (write through another client to force an interleaving), or answer
    instead of the cluster by returning ``(status, body)``.
    """

    class HookedNode(base):  # type: ignore[valid-type, misc]
        def perform_request(  # type: ignore[no-untyped-def]
            self, method, target, body=None, headers=None, request_timeout=None, **kwargs
        ):
            answer = hook(method, target)
            if answer is not None:
                return json_response(self, *answer)
            if request_timeout is None:
                return super().perform_request(method, target, body=body, headers=headers, **kwargs)
            return super().perform_request(
                method, target, body=body, headers=headers, request_timeout=request_timeout
            )

    return HookedNode


def incr_many(url: str, key: str, times: int) -> list[int]:
    """Increment *key* *times* with a fresh backend (runs in a child process)."""
    app = make_app()
    backend = ElasticsearchBackend(app=app, url=url)
    return [backend.incr(key) for _ in range(times)]


def builtin_backend_class(node_class: type[BaseNode]) -> type[Any]:
    """Celery's built-in Elasticsearch backend, its client bound to *node_class*.

    Also sets ``BuiltinOnFake.node_class`` so a worker can name the class in ``result_backend``.
    """
    BuiltinOnFake.node_class = node_class
    return BuiltinOnFake


def _builtin_on_fake() -> type[Any]:
    import elasticsearch
    from celery.backends.elasticsearch import ElasticsearchBackend as Builtin

    class BuiltinOnFake(Builtin):  # type: ignore[misc]
        node_class: type[BaseNode] | None = None

        def _get_server(self) -> Any:
            hosts = "http://localhost:9200"
            return elasticsearch.Elasticsearch(hosts, node_class=type(self).node_class)

    return BuiltinOnFake


BuiltinOnFake = _builtin_on_fake()
