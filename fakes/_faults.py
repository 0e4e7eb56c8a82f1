"""Fault plans: which attempts fail, and how, whatever carries them.

A plan is a list of rules matched in order against every attempt. The same plan acts inside
the fake's node class, server-side in the HTTP emulator, and in front of a real cluster (by
wrapping a real node class, :meth:`FaultPlan.wrap`), so one fault test runs on every target.

What a rule does:

- an HTTP status: the attempt is answered with that status and Elasticsearch's error body
  and headers for it (429 ``es_rejected_execution_exception``, 401 with its challenge, ...);
- ``"timeout"``: the attempt raises ``elastic_transport.ConnectionTimeout`` (no real waiting
  in the node; the emulator holds the connection past the client's timeout);
- ``"connection"``: the attempt raises ``elastic_transport.ConnectionError`` (the emulator
  closes the connection without answering);
- ``latency=seconds``: the attempt is delayed, then served (or faulted, when the rule also has
  a status); a delay beyond the request's timeout becomes a ``ConnectionTimeout``.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import elastic_transport

from . import _errors as err

if TYPE_CHECKING:
    from elastic_transport import BaseNode

    from ._cluster import RequestLog

NETWORK_FAULTS = ("timeout", "connection")


def status_error(status: int, path: str, api: str | None, index: str | None) -> err.EsError:
    """The error Elasticsearch (or the gateway before it) answers with ``status``."""
    target = index or "_all"
    if status == 401:
        return err.unauthenticated(path, "elastic")
    if status == 403:
        action = {
            "get": "indices:data/read/get",
            "mget": "indices:data/read/mget",
            "search": "indices:data/read/search",
        }.get(api or "", "indices:data/write/index")
        return err.EsError(
            403,
            "security_exception",
            f"action [{action}] is unauthorized for user [elastic] with effective roles [] on "
            f"indices [{target}], this action is granted by the index privileges [all]",
        )
    if status == 404:
        return err.index_not_found(target)
    if status == 409:
        return err.version_conflict(
            target,
            "_na_",
            "injected",
            "required seqNo [0], primary term [1]. current document "
            "has seqNo [1] and primary term [1]",
        )
    if status == 429:
        return err.EsError(
            429,
            "es_rejected_execution_exception",
            "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, "
            "replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1, "
            "max_coordinating_and_primary_bytes=0]",
        )
    if status == 500:
        return err.EsError(500, "exception", "injected internal server error")
    if status == 502:
        return err.EsError(
            502, "bad_gateway", "the gateway got an invalid response from Elasticsearch (injected)"
        )
    if status == 503:
        return err.EsError(
            503,
            "cluster_block_exception",
            "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];",
        )
    if status == 504:
        return err.EsError(
            504, "gateway_timeout", "the gateway timed out waiting for Elasticsearch (injected)"
        )
    return err.EsError(status, "status_exception", f"injected HTTP {status}")


@dataclass(eq=False)
class FaultRule:
    """One rule of a plan; ``hits`` counts the attempts it has failed or delayed."""

    what: int | str | None
    latency: float | None = None
    api: str | None = None
    method: str | None = None
    index: str | None = None
    id: str | None = None
    path: str | None = None
    times: int | None = None
    after: int = 0
    probability: float = 1.0
    seed: int | None = None
    hits: int = 0
    seen: int = 0
    _path_re: re.Pattern[str] | None = field(default=None, repr=False)
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.what, str) and self.what not in NETWORK_FAULTS:
            raise ValueError(
                f"fault must be an HTTP status, 'timeout' or 'connection', not {self.what!r}"
            )
        if isinstance(self.what, int) and not 400 <= self.what <= 599:
            raise ValueError(f"an injected status must be 4xx or 5xx, not {self.what}")
        if self.what is None and self.latency is None:
            raise ValueError("a rule needs a fault (status, 'timeout', 'connection') or latency=")
        if self.latency is not None and self.latency < 0:
            raise ValueError("latency must be >= 0 seconds")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if (self.times is not None and self.times < 0) or self.after < 0:
            raise ValueError("times and after must be >= 0")
        self.method = self.method.upper() if self.method else None
        self._path_re = re.compile(self.path) if self.path else None
        self._random = random.Random(self.seed)

    @property
    def label(self) -> str:
        """How the attempt log names what this rule did (``503``, ``timeout``, ``latency``)."""
        if self.what is None:
            return "latency"
        return str(self.what)

    def _matches(
        self, method: str, path: str, api: str | None, index: str | None, doc_id: str | None
    ) -> bool:
        return (
            (self.api is None or self.api == api)
            and (self.method is None or self.method == method)
            and (self.index is None or self.index == index)
            and (self.id is None or self.id == doc_id)
            and (self._path_re is None or self._path_re.search(path) is not None)
        )

    def _fires(self) -> bool:
        """Count one matching attempt; True when this one is to fail (under the plan's lock)."""
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        if self.probability < 1.0 and self._random.random() >= self.probability:
            return False
        self.hits += 1
        return True


@dataclass
class Injected:
    """What a plan decided for one attempt."""

    rule: FaultRule
    delay: float = 0.0
    status: int | None = None
    network: str | None = None  # "timeout" or "connection"

    def hold(self, timeout: float | None) -> float:
        """Seconds to delay the attempt; a delay the client would not wait out is a timeout."""
        if timeout is not None and self.delay > timeout:
            raise NetworkFault("timeout")
        return self.delay


class NetworkFault(Exception):
    """An injected network failure; each adapter turns it into its own kind of failure."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

    def transport_error(self) -> elastic_transport.TransportError:
        """A new elastic_transport exception (re-raising one instance recurses in the client)."""
        if self.kind == "timeout":
            return elastic_transport.ConnectionTimeout(
                "Connection timed out (injected by an esbackend fault plan)"
            )
        return elastic_transport.ConnectionError(
            "Connection refused (injected by an esbackend fault plan)"
        )


class FaultPlan:
    """An ordered list of fault rules, shared by every adapter of one target."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        # Per API name, the rules that can match it, in order: a rule for another API costs
        # nothing (a benchmark holds 10 such rules to under 5% of a get).
        self._candidates: dict[str | None, list[FaultRule]] = {}

    def __bool__(self) -> bool:
        return bool(self._rules)

    def __iter__(self) -> Iterator[FaultRule]:
        return iter(list(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def inject(
        self,
        what: int | str | None = None,
        *,
        latency: float | None = None,
        api: str | None = None,
        method: str | None = None,
        index: str | None = None,
        id: str | None = None,
        path: str | None = None,
        times: int | None = None,
        after: int = 0,
        probability: float = 1.0,
        seed: int | None = None,
    ) -> FaultRule:
        """Add a rule; returns it (``rule.hits`` counts the attempts it affected).

        ``what`` is an HTTP status, ``"timeout"`` or ``"connection"``; ``latency`` delays.
        Match on ``api`` (REST-spec name such as ``get``, ``index``, ``mget``), ``method``,
        ``index``, document ``id`` or a ``path`` regex. ``after`` lets that many matching
        attempts through first; ``times`` caps how many fail (default: all); ``probability``
        fails only that share of them, reproducibly with ``seed``.
        """
        rule = FaultRule(
            what, latency, api, method, index, id, path, times, after, probability, seed
        )
        with self._lock:
            self._rules.append(rule)
            self._candidates.clear()
        return rule

    def add_spec(self, spec: str) -> FaultRule:
        """Add a rule from its command-line form (see :func:`parse_fault_spec`)."""
        return self.inject(**parse_fault_spec(spec))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._candidates.clear()

    def decide(
        self, method: str, path: str, api: str | None, index: str | None, doc_id: str | None
    ) -> Injected | None:
        """The fault (if any) for one attempt; rules apply in order, the first firing wins.

        Latency-only rules add up and let later rules decide the rest.
        """
        if not self._rules:
            return None
        delay = 0.0
        first: FaultRule | None = None
        with self._lock:
            candidates = self._candidates.get(api)
            if candidates is None:
                candidates = [r for r in self._rules if r.api is None or r.api == api]
                self._candidates[api] = candidates
            for rule in candidates:
                if not rule._matches(method, path, api, index, doc_id) or not rule._fires():
                    continue
                delay += rule.latency or 0.0
                first = first or rule
                if rule.what is not None:
                    if isinstance(rule.what, int):
                        return Injected(rule, delay, status=rule.what)
                    return Injected(rule, delay, network=rule.what)
        return Injected(first, delay) if first is not None else None

    def wrap(self, node_class: type[BaseNode], log: RequestLog | None = None) -> type[BaseNode]:
        """A subclass of a real node class that applies this plan before each request.

        Put it in front of a real cluster: ``Elasticsearch(url, node_class=plan.wrap(
        Urllib3HttpNode))``. Injected statuses and network faults never reach the cluster;
        every attempt is appended to ``log`` when one is given.
        """
        from ._node_faults import wrap_node_class

        return wrap_node_class(node_class, self, log)


def parse_fault_spec(spec: str) -> dict[str, Any]:
    """``WHAT[:key=value,...]`` as :meth:`FaultPlan.inject` arguments.

    ``WHAT`` is a status (``503``), ``timeout``, ``connection`` or ``latency=SECONDS``; keys are
    ``api method index id path times after probability seed latency``. Examples:
    ``503:api=get,times=2``, ``connection:probability=0.3,seed=7``, ``latency=0.05:api=mget``.
    """
    head, _, rest = spec.partition(":")
    head = head.strip()
    kwargs: dict[str, Any] = {}
    if head.startswith("latency="):
        kwargs["latency"] = float(head.split("=", 1)[1])
    elif head.isdigit():
        kwargs["what"] = int(head)
    elif head in NETWORK_FAULTS:
        kwargs["what"] = head
    else:
        raise ValueError(
            f"fault spec {spec!r}: start with a status, timeout, connection or latency=SECONDS"
        )
    converters: dict[str, Any] = {
        "times": int,
        "after": int,
        "seed": int,
        "probability": float,
        "latency": float,
    }
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or key not in ("api", "method", "index", "id", "path", *converters):
            raise ValueError(f"fault spec {spec!r}: unknown option {item!r}")
        kwargs[key] = converters.get(key, str)(value)
    return kwargs
