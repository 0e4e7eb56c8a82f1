"""A fault plan in front of a real cluster: a subclass of a real elastic_transport node class."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elastic_transport.client_utils import DEFAULT, DefaultType

from . import _errors as err
from ._faults import FaultPlan, NetworkFault, status_error

if TYPE_CHECKING:
    from ._cluster import RequestLog

_ROUTER: Any = None


def _route(method: str, target: str) -> tuple[str, str | None, str | None, str | None]:
    """(path, api, index, id) of a request, as the fake's router names them."""
    global _ROUTER
    if _ROUTER is None:
        from ._rest import Router

        _ROUTER = Router()
    path = target.partition("?")[0]
    try:
        api, _, params = _ROUTER.match(method, path)
    except err.EsError:
        return path, None, None, None
    return path, api, params.get("index"), params.get("id")


def wrap_node_class(
    node_class: type[BaseNode], plan: FaultPlan, log: RequestLog | None = None
) -> type[BaseNode]:
    """``node_class`` with ``plan`` applied first; attempts go to ``log`` when given."""
    from ._cluster import RequestRecord, _timeout

    def perform_request(
        self: BaseNode,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: DefaultType | float | None = DEFAULT,
    ) -> NodeApiResponse:
        path, api, index, doc_id = _route(method, target)
        injected = plan.decide(method, path, api, index, doc_id)

        def record(status: int | None, fault: str | None) -> None:
            if log is not None:
                log.append(RequestRecord(method, path, api, status, {}, index, doc_id, fault))

        if injected is None:
            response = node_class.perform_request(
                self, method, target, body, headers, request_timeout
            )
            record(response.meta.status, None)
            return response
        timeout = _timeout(self.config, request_timeout)
        fault = injected.rule.label
        try:
            delay = injected.hold(timeout)
            if delay:
                time.sleep(delay)
            if injected.network is not None:
                raise NetworkFault(injected.network)
        except NetworkFault as exc:
            record(None, fault)
            raise exc.transport_error() from None
        if injected.status is None:
            response = node_class.perform_request(
                self, method, target, body, headers, request_timeout
            )
            record(response.meta.status, fault)
            return response
        error = status_error(injected.status, path, api, index)
        payload = b"" if method == "HEAD" else json.dumps(error.body()).encode()
        response_headers = HttpHeaders(
            {
                "content-type": "application/json",
                "x-elastic-product": "Elasticsearch",
                **error.headers,
            }
        )
        meta = ApiResponseMeta(
            status=injected.status,
            http_version="1.1",
            headers=response_headers,
            duration=0.0,
            node=self.config,
        )
        record(injected.status, fault)
        return NodeApiResponse(meta, payload)

    return type(f"Faulty{node_class.__name__}", (node_class,), {"perform_request": perform_request})
