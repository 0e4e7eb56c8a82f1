"""FakeCluster, the public face of the fake, and the elastic_transport node classes bound to it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, overload

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders, NodeConfig
from elastic_transport._node import BaseAsyncNode, NodeApiResponse
from elastic_transport.client_utils import DEFAULT, DefaultType

from ._engine import Engine
from ._faults import FaultPlan, Injected, NetworkFault, status_error
from ._rest import DEFAULT_VERSION, Protocol, Request, Response

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch, Elasticsearch

__all__ = ["FakeCluster", "RequestRecord"]


@dataclass(slots=True)
class RequestRecord:
    """One attempt that reached the fake: what was asked and what was answered.

    ``status`` is None when no HTTP answer was given (an injected timeout or connection
    error); ``fault`` names the injected fault that hit the attempt (``"503"``,
    ``"timeout"``, ``"connection"``, ``"latency"``), if any.
    """

    method: str
    path: str
    api: str | None
    status: int | None
    params: Mapping[str, str]
    index: str | None
    id: str | None
    fault: str | None = None


class RequestLog:
    """The attempt log: every request that reached the node or the server, in order."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(list(self._records))

    @overload
    def __getitem__(self, item: int) -> RequestRecord: ...
    @overload
    def __getitem__(self, item: slice) -> list[RequestRecord]: ...

    def __getitem__(self, item: int | slice) -> RequestRecord | list[RequestRecord]:
        return self._records[item]

    def apis(self) -> list[str | None]:
        """The API name of every attempt, in order (handy in assertions)."""
        return [r.api for r in self._records]

    def count(self, api: str | None = None, **match: Any) -> int:
        """How many attempts named ``api`` (and matched every ``field=value`` given)."""
        return sum(
            1
            for r in self._records
            if (api is None or r.api == api) and all(getattr(r, k) == v for k, v in match.items())
        )

    def __repr__(self) -> str:
        return f"RequestLog({[f'{r.method} {r.path} {r.status}' for r in self._records]!r})"


class FakeCluster:
    """An in-memory Elasticsearch cluster (one node, one shard per index by default).

    ``require_auth=(user, password)`` turns security on: requests without those Basic
    credentials get Elasticsearch's 401. ``clock`` drives the refresh schedule.
    ``client()`` returns a real :class:`elasticsearch.Elasticsearch` whose network is this
    cluster, so the client's serialization, product check, error mapping and retries all run.
    """

    def __init__(
        self,
        version: str = DEFAULT_VERSION,
        *,
        cluster_name: str = "esbackend-fake",
        clock: Callable[[], float] = time.monotonic,
        require_auth: tuple[str, str] | None = None,
    ) -> None:
        self.version = version
        self.cluster_name = cluster_name
        self.engine = Engine(clock=clock)
        self.protocol = Protocol(self.engine, version, cluster_name)
        self.protocol.credentials = require_auth
        self.requests = RequestLog()
        self.faults = FaultPlan()
        self.node_class: type[BaseNode] = type("FakeNode", (_FakeNode,), {"cluster": self})
        self.async_node_class: type[BaseAsyncNode] = type(
            "AsyncFakeNode", (_AsyncFakeNode,), {"cluster": self}
        )

    def __repr__(self) -> str:
        return f"<FakeCluster {self.cluster_name} version={self.version}>"

    # -- clients -----------------------------------------------------------------------

    def client(self, **kwargs: Any) -> Elasticsearch:
        """An ``Elasticsearch`` client wired to this cluster; ``kwargs`` pass through."""
        from elasticsearch import Elasticsearch

        hosts = kwargs.pop("hosts", "http://localhost:9200")
        return Elasticsearch(hosts, node_class=self.node_class, **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncElasticsearch:
        """An ``AsyncElasticsearch`` client wired to this cluster."""
        from elasticsearch import AsyncElasticsearch

        hosts = kwargs.pop("hosts", "http://localhost:9200")
        return AsyncElasticsearch(hosts, node_class=self.async_node_class, **kwargs)

    # -- state -------------------------------------------------------------------------

    def refresh(self, index: str | None = None) -> None:
        """Make every write (to ``index``, or to all indices) visible to search."""
        with self.engine.lock:
            self.engine.refresh(self.engine.resolve(index, expand_wildcards="all"))

    @property
    def errors(self) -> list[Exception]:
        """Exceptions the fake itself raised while answering (answered as 500s): its bugs."""
        return self.protocol.failures

    def reset(self) -> None:
        """Forget every index, setting, logged request and fault rule."""
        self.engine.reset()
        self.requests.clear()
        self.faults.clear()

    # -- the adapter-facing entry points -----------------------------------------------
    #
    # An attempt goes: _begin (route it, ask the fault plan), the adapter waits out any
    # injected delay its own way (sleep, asyncio, a socket), then _complete (answer an injected
    # status or raise NetworkFault, else run it). Every attempt is logged exactly once.

    def handle(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
    ) -> Response:
        """Run one request (any header-name case) through faults and protocol; log it."""
        return self._handle(method, target, body, {k.lower(): v for k, v in headers.items()})

    def _handle(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
    ) -> Response:
        attempt = self._begin(method, target, headers)
        delay = self._delay(attempt, None)
        if delay:
            time.sleep(delay)
        return self._complete(attempt, body)

    def _begin(self, method: str, target: str, headers: Mapping[str, str]) -> Attempt:
        request, early = self.protocol.begin(method, target, headers)
        path = request.path if request is not None else target.partition("?")[0]
        injected = None
        if self.faults:
            injected = self.faults.decide(
                method,
                path,
                request.api if request else None,
                request.index if request else None,
                request.doc_id if request else None,
            )
        return Attempt(method, path, request, early, injected)

    def _delay(self, attempt: Attempt, timeout: float | None) -> float:
        """Seconds to hold this attempt; raises NetworkFault when that outlasts ``timeout``."""
        injected = attempt.injected
        if injected is None:
            return 0.0
        try:
            return injected.hold(timeout)
        except NetworkFault:
            self._record(attempt, None, injected.rule.label)
            raise

    def _complete(self, attempt: Attempt, body: bytes | None) -> Response:
        injected = attempt.injected
        fault = injected.rule.label if injected is not None else None
        if injected is not None and injected.status is not None:
            request = attempt.request
            error = status_error(
                injected.status,
                attempt.path,
                request.api if request else None,
                request.index if request else None,
            )
            content_type = request.content_type if request is not None else "application/json"
            response = self.protocol.error(error, content_type, head=attempt.method == "HEAD")
            self._record(attempt, response.status, fault)
            return response
        if injected is not None and injected.network is not None:
            self._record(attempt, None, fault)
            raise NetworkFault(injected.network)
        if attempt.request is None:
            assert attempt.early is not None
            response = attempt.early
        else:
            response = self.protocol.execute(attempt.request, body)
        self._record(attempt, response.status, fault)
        return response

    def _record(self, attempt: Attempt, status: int | None, fault: str | None) -> None:
        request = attempt.request
        if request is None:
            record = RequestRecord(
                attempt.method, attempt.path, None, status, {}, None, None, fault
            )
        else:
            record = RequestRecord(
                attempt.method,
                request.path,
                request.api,
                status,
                request.params,
                request.index,
                request.doc_id,
                fault,
            )
        self.requests.append(record)


@dataclass(slots=True)
class Attempt:
    """One request on its way through a cluster: routed, and what the fault plan decided."""

    method: str
    path: str
    request: Request | None
    early: Response | None
    injected: Injected | None


def _timeout(config: NodeConfig, request_timeout: DefaultType | float | None) -> float | None:
    if request_timeout is DEFAULT:
        return config.request_timeout
    return request_timeout


def _lower_headers(base: HttpHeaders, extra: HttpHeaders | None) -> dict[str, str]:
    merged = {k.lower(): v for k, v in base.items()}
    if extra:
        merged.update((k.lower(), v) for k, v in extra.items())
    return merged


def _meta(node: BaseNode, response: Response, started: float) -> ApiResponseMeta:
    return ApiResponseMeta(
        status=response.status,
        http_version="1.1",
        headers=HttpHeaders(response.headers),
        duration=time.perf_counter() - started,
        node=node.config,
    )


def _open_attempt(
    node: _FakeNode | _AsyncFakeNode,
    method: str,
    target: str,
    headers: HttpHeaders | None,
    request_timeout: DefaultType | float | None,
) -> tuple[Attempt, float]:
    """Route an attempt and ask the fault plan; returns it and how long to hold it."""
    cluster = node.cluster
    attempt = cluster._begin(
        method, node.path_prefix + target, _lower_headers(node.headers, headers)
    )
    if attempt.injected is None:
        return attempt, 0.0
    try:
        return attempt, cluster._delay(attempt, _timeout(node.config, request_timeout))
    except NetworkFault as fault:
        raise fault.transport_error() from None


def _close_attempt(
    node: _FakeNode | _AsyncFakeNode, attempt: Attempt, body: bytes | None, started: float
) -> NodeApiResponse:
    try:
        response = node.cluster._complete(attempt, body)
    except NetworkFault as fault:
        raise fault.transport_error() from None
    return NodeApiResponse(_meta(node, response, started), response.body)


class _FakeNode(BaseNode):
    """An elastic_transport node whose network is a FakeCluster (bound per cluster)."""

    cluster: ClassVar[FakeCluster]
    _CLIENT_META_HTTP_CLIENT = ("fk", "0.1")

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: DefaultType | float | None = DEFAULT,
    ) -> NodeApiResponse:
        started = time.perf_counter()
        attempt, delay = _open_attempt(self, method, target, headers, request_timeout)
        if delay:
            time.sleep(delay)
        return _close_attempt(self, attempt, body, started)


class _AsyncFakeNode(BaseAsyncNode):
    """The async twin of the fake node, for ``AsyncElasticsearch``."""

    cluster: ClassVar[FakeCluster]
    _CLIENT_META_HTTP_CLIENT = ("fk", "0.1")

    async def perform_request(  # type: ignore[override]
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: DefaultType | float | None = DEFAULT,
    ) -> NodeApiResponse:
        started = time.perf_counter()
        attempt, delay = _open_attempt(self, method, target, headers, request_timeout)
        if delay:
            await asyncio.sleep(delay)
        return _close_attempt(self, attempt, body, started)

    async def close(self) -> None:  # type: ignore[override]
        return None
