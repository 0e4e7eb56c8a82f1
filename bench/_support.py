"""What the benchmarks measure against: the client's floor, a bare HTTP server, the backends.

Nothing here times anything; the benchmarks in ``bench/test_*.py`` do.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import elasticsearch
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node._base import NodeApiResponse
from elastic_transport.client_utils import DEFAULT, DefaultType

from esbackend.fakes import FakeCluster

if TYPE_CHECKING:
    from celery import Celery

    from esbackend.fixtures._targets import Target

__all__ = [
    "BUILTIN_WARNINGS",
    "builtin_backend",
    "builtin_unavailable",
    "fixed_http_server",
    "floor_client",
    "meta_json",
    "new_task_ids",
    "result_document",
    "seed",
]

#: The built-in backend writes with ``params=`` (deprecated on elasticsearch-py 8.x); that is
#: its code, not ours, so its benchmarks ignore exactly this warning and nothing else.
BUILTIN_WARNINGS = "ignore:The 'params' parameter is deprecated:DeprecationWarning"

_TIMESTAMP = "2024-05-01T10:00:00.123Z"


def new_task_ids(n: int) -> list[str]:
    """``n`` fresh Celery task ids (UUID4 strings, as Celery makes them)."""
    return [str(uuid.uuid4()) for _ in range(n)]


def meta_json(task_id: str, status: str = "SUCCESS", result: Any = 42) -> str:
    """A task meta as Celery's JSON serializer stores it (text mode)."""
    return json.dumps(
        {
            "status": status,
            "result": result,
            "traceback": None,
            "children": [],
            "date_done": "2024-05-01T10:00:00.123456+00:00",
            "task_id": task_id,
        }
    )


def result_document(task_id: str) -> dict[str, Any]:
    """A stored SUCCESS result in the built-in backend's shape, which both backends read."""
    return {"result": meta_json(task_id), "@timestamp": _TIMESTAMP}


def seed(client: elasticsearch.Elasticsearch, index: str, task_ids: list[str]) -> list[str]:
    """Store a SUCCESS result per task id in one bulk request; returns their keys."""
    keys = [f"celery-task-meta-{task_id}" for task_id in task_ids]
    if keys:
        operations: list[dict[str, Any]] = []
        for key, task_id in zip(keys, task_ids, strict=True):
            operations.append({"index": {"_index": index, "_id": key}})
            operations.append(result_document(task_id))
        response = client.bulk(operations=operations)
        assert not response["errors"], response
    return keys


# -- the client's floor ----------------------------------------------------------------------


def floor_client(cluster: FakeCluster) -> elasticsearch.Elasticsearch:
    """A client whose node answers each distinct request with its first answer, fixed.

    The first time a (method, path, body) is asked, the fake answers it; every later time the
    node hands back that body with fresh response metadata, as any node builds it. What a call
    costs through this client is the client's own work: the floor under every target.
    """
    recorded: dict[tuple[str, str, bytes | None], tuple[int, HttpHeaders, bytes]] = {}

    class FixedNode(cluster.node_class):  # type: ignore[name-defined, misc]
        def perform_request(
            self,
            method: str,
            target: str,
            body: bytes | None = None,
            headers: HttpHeaders | None = None,
            request_timeout: DefaultType | float | None = DEFAULT,
        ) -> NodeApiResponse:
            key = (method, target, body)
            answer = recorded.get(key)
            if answer is None:
                first = super().perform_request(method, target, body, headers, request_timeout)
                answer = recorded[key] = (first.meta.status, first.meta.headers, first.body)
            status, response_headers, response_body = answer
            meta = ApiResponseMeta(
                status=status,
                http_version="1.1",
                headers=HttpHeaders(response_headers),
                duration=0.0,
                node=self.config,
            )
            return NodeApiResponse(meta, response_body)

    node_class: type[BaseNode] = FixedNode
    return elasticsearch.Elasticsearch("http://localhost:9200", node_class=node_class)


# -- a bare HTTP server ----------------------------------------------------------------------


class _FixedHandler(BaseHTTPRequestHandler):
    """Answers every GET with one fixed Elasticsearch response; keep-alive, no other work."""

    protocol_version = "HTTP/1.1"
    body = b"{}"

    def setup(self) -> None:
        super().setup()
        # As in the emulator: without it, Nagle plus delayed ACK adds ~40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextmanager
def fixed_http_server(body: bytes) -> Iterator[str]:
    """A minimal stdlib ``http.server`` answering every GET with ``body``; yields its URL."""
    handler = type("Handler", (_FixedHandler,), {"body": body})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="bench-http-floor", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- Celery's built-in backend ---------------------------------------------------------------


def builtin_unavailable() -> str | None:
    """Why Celery's built-in Elasticsearch backend cannot run here, or None if it can.

    It builds its client with ``timeout=`` and ``http_auth=``, which elasticsearch-py 9
    removed: that is a ``TypeError`` before its first request.
    """
    from celery import Celery
    from celery.backends.elasticsearch import ElasticsearchBackend as Builtin

    app = Celery("bench-probe", set_as_current=False)
    try:
        with warnings.catch_warnings():
            # 8.x deprecates both arguments; only whether they are accepted matters here.
            warnings.simplefilter("ignore", DeprecationWarning)
            Builtin(app=app, url="elasticsearch://localhost:9200/celery")._get_server().close()
    except TypeError as exc:
        return (
            f"Celery's built-in backend cannot build its client on elasticsearch-py "
            f"{_client_version()} ({exc}); `nox -s bench` runs it on 8.x"
        )
    finally:
        app.close()
    return None


def _client_version() -> str:
    from importlib.metadata import version

    return version("elasticsearch")


def builtin_backend(app: Celery, target: Target, index: str) -> Any:
    """Celery's built-in backend on ``app``, its client bound to ``target``.

    Only the client construction is ours (the target's node class and options, with the
    built-in's own timeout and retry settings); every request is the built-in's code.
    """
    from celery.backends.elasticsearch import ElasticsearchBackend as Builtin

    class BuiltinOnTarget(Builtin):  # type: ignore[misc]
        def _get_server(self) -> elasticsearch.Elasticsearch:
            return target.client(
                request_timeout=self.es_timeout,
                retry_on_timeout=self.es_retry_on_timeout,
                max_retries=self.es_max_retries,
            )

    return BuiltinOnTarget(app=app, url=f"elasticsearch://localhost:9200/{index}")
