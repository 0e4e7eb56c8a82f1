"""The REST protocol: routes a request to an API (named as Elasticsearch's REST spec names it),
parses its query string and body, runs it on the engine, and renders Elasticsearch's responses.

Bytes in, bytes out: adapters (the node class, the HTTP server) stay thin.
"""

from __future__ import annotations

import base64
import difflib
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from . import _errors as err
from ._engine import Doc, Engine, Index, check_id, flatten_settings, nest_settings
from ._mapping import Mapping as IndexMapping
from ._query import (
    Compiler,
    SourceFilter,
    field_values,
    glob_pattern,
    parse_sort,
    sort_value,
    sorted_hits,
)

JSON = "application/json"
COMPAT = "application/vnd.elasticsearch+json"
PRODUCT_HEADER = ("X-Elastic-Product", "Elasticsearch")
DEFAULT_VERSION = "9.2.0"
DEFAULT_TRACK_TOTAL_HITS = 10_000


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


_PLAIN = re.compile(r"[\w\-.:@+]*", re.ASCII)


def _jstr(text: str) -> bytes:
    """``text`` as a JSON string (ids and index names are usually plain ASCII)."""
    if _PLAIN.fullmatch(text):
        return b'"' + text.encode() + b'"'
    return json.dumps(text, ensure_ascii=False).encode()


@dataclass(slots=True)
class Response:
    """What the protocol answers: status, headers and the encoded body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Request:
    """A routed request: the API it names, path parameters and query-string parameters."""

    method: str
    path: str
    api: str
    path_params: dict[str, str]
    params: dict[str, str]
    headers: Mapping[str, str]
    handler: Callable[[Protocol, Request, bytes | None], Any] | None = None
    content_type: str = JSON

    @property
    def index(self) -> str | None:
        return self.path_params.get("index")

    @property
    def doc_id(self) -> str | None:
        return self.path_params.get("id")

    # -- query-string parameters ----------------------------------------------------------

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        if value in ("", "true"):
            return True
        if value == "false":
            return False
        raise err.illegal_argument(
            f"Failed to parse value [{value}] as only [true] or [false] are allowed."
        )

    def number(self, name: str, default: Any = None) -> int | None:
        """An integer parameter (``default`` when absent; it may come from the body)."""
        value = self.params.get(name)
        return _integer(name, default if value is None or value == "" else value)

    def refresh(self) -> str:
        """``true``, ``wait_for`` or ``false``; an empty value means ``true``."""
        value = self.params.get("refresh", "false")
        if value in ("", "true"):
            return "true"
        if value in ("false", "wait_for"):
            return value
        raise err.illegal_argument(f"Unknown value for refresh: [{value}].")


# -- routing ----------------------------------------------------------------------------------

Handler = Callable[["Protocol", Request, "bytes | None"], Any]
_ROUTES: list[tuple[str, str, str, str]] = []


def route(methods: str, *paths: str, api: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for path in paths:
            _ROUTES.append((methods, path, api, fn.__name__))
        return fn

    return register


class Router:
    """Matches (method, path) against the routes; literal segments win over parameters.

    Results are cached by the path's *shape*: a segment that equals some route literal is
    kept, any other becomes ``*`` (``*_`` when it starts with ``_``, which one-segment routes
    care about). Every path of one shape routes the same way, and shapes are few, so a new
    document id never misses the cache.
    """

    def __init__(self) -> None:
        by_len: dict[int, list[tuple[tuple[str, ...], str, str, str]]] = {}
        for methods, path, api, handler in _ROUTES:
            segments = tuple(s for s in path.split("/") if s)
            for method in methods.split("|"):
                by_len.setdefault(len(segments), []).append((segments, method, api, handler))
        for routes in by_len.values():
            routes.sort(key=lambda r: tuple(s.startswith("{") for s in r[0]))
        self.by_len = by_len
        # "_all" is an index expression that the one-segment guard below lets through.
        self.literals = frozenset(
            s
            for path in (r[1] for r in _ROUTES)
            for s in path.split("/")
            if s and not s.startswith("{")
        ) | {"_all"}
        self.cache: dict[
            tuple[str, tuple[str, ...]], tuple[str, str, tuple[tuple[int, str], ...]]
        ] = {}

    def match(self, method: str, path: str) -> tuple[str, str, dict[str, str]]:
        """(api, handler name, path parameters); raises for unknown endpoints and methods."""
        segments = [unquote(s) for s in path.split("/") if s]
        literals = self.literals
        shape = tuple(
            s if s in literals else ("*_" if s.startswith("_") else "*") for s in segments
        )
        hit = self.cache.get((method, shape))
        if hit is None:
            hit = self._match(method, path, segments)
            if len(self.cache) < 4096:
                self.cache[(method, shape)] = hit
        api, handler, slots = hit
        return api, handler, {name: segments[n] for n, name in slots}

    def _match(
        self,
        method: str,
        path: str,
        segments: list[str],
    ) -> tuple[str, str, tuple[tuple[int, str], ...]]:
        allowed: set[str] = set()
        for pattern, route_method, api, handler in self.by_len.get(len(segments), ()):
            slots: list[tuple[int, str]] = []
            for n, (want, got) in enumerate(zip(pattern, segments, strict=True)):
                if want.startswith("{"):
                    # GET /_foo names an API this fake lacks, not an index called "_foo".
                    if len(pattern) == 1 and got.startswith("_") and got != "_all":
                        break
                    slots.append((n, want[1:-1]))
                elif want != got:
                    break
            else:
                if route_method == method:
                    return api, handler, tuple(slots)
                allowed.add(route_method)
        if allowed:
            raise err.method_not_allowed(path, method, allowed)
        raise err.no_handler(path, method)


# -- helpers ----------------------------------------------------------------------------------


def _json_body(body: bytes | None, *, required: bool = False, document: bool = False) -> Any:
    if not body or not body.strip():
        if required:
            raise err.action_validation(
                "request body is required" if not document else "source is missing"
            )
        return None
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise err.not_json(f"Invalid UTF-8 in JSON: {exc.reason}", document=document) from None
    except ValueError as exc:
        raise err.not_json(
            f"Unexpected character or end of input: {exc}", document=document
        ) from None


def _object_body(body: bytes | None, api: str, *, required: bool = False) -> dict[str, Any]:
    parsed = _json_body(body, required=required)
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise err.parse_error(f"request body for [{api}] must be a JSON object")
    return parsed


def _document(body: bytes | None) -> tuple[bytes, dict[str, Any]]:
    """A document source: the raw bytes (stored as sent) and the parsed object."""
    parsed = _json_body(body, required=True, document=True)
    if not isinstance(parsed, dict):
        raise err.document_parsing(
            "[1:1] failed to parse: the document must be a JSON object",
            caused_by=err.illegal_argument("document must be a JSON object"),
        )
    assert body is not None
    return body.strip(), parsed


def _shards(index: Index) -> dict[str, int]:
    return {"total": 1 + index.replicas, "successful": 1, "failed": 0}


def _write_result(index: Index, doc: Doc, result: str, forced: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "_index": index.name,
        "_id": doc.id,
        "_version": doc.version,
        "result": result,
    }
    if forced:
        out["forced_refresh"] = True
    out["_shards"] = _shards(index)
    out["_seq_no"] = doc.seq_no
    out["_primary_term"] = doc.primary_term
    return out


def _expect_object(value: Any, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object; else the 400 Elasticsearch's parser answers."""
    if not isinstance(value, dict):
        raise err.parse_error(f"[{what}] must be an object, found [{_json_kind(value)}]")
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, str):
        return "VALUE_STRING"
    if isinstance(value, bool):
        return "VALUE_BOOLEAN"
    if value is None:
        return "VALUE_NULL"
    return "VALUE_NUMBER"


def _integer(name: str, value: Any) -> int | None:
    """A whole-number parameter or body field; None when absent; a 400 when it is not one."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise err.illegal_argument(f"Failed to parse int parameter [{name}] with value [{value}]")
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise err.illegal_argument(
            f"Failed to parse int parameter [{name}] with value [{value}]"
        ) from None


def _version_params(req: Request | Mapping[str, Any], create: bool = False) -> dict[str, Any]:
    """``version``/``version_type``/``if_seq_no``/``if_primary_term``, validated."""
    get = req.params.get if isinstance(req, Request) else req.get
    version_type = str(get("version_type") or "internal")
    if version_type not in ("internal", "external", "external_gte", "force"):
        raise err.illegal_argument(f"No version type match [{version_type}]")
    version = _integer("version", get("version"))
    if_seq_no = _integer("if_seq_no", get("if_seq_no"))
    if_primary_term = _integer("if_primary_term", get("if_primary_term"))
    problems = []
    if create and version_type != "internal":
        problems.append("create operations only support internal versioning. use index instead")
    elif version is not None and version_type == "internal":
        problems.append(
            "internal versioning can not be used for optimistic concurrency "
            "control. Please use `if_seq_no` and `if_primary_term` instead"
        )
    if version_type != "internal" and version is None:
        problems.append(f"version type [{version_type}] requires a version")
    if (if_seq_no is None) != (if_primary_term is None):
        problems.append(
            f"ifSeqNo is unassigned, but primary term is [{if_primary_term}]"
            if if_seq_no is None
            else "ifSeqNo is set, but primary term is [0]"
        )
    if if_seq_no is not None and version is not None:
        problems.append("compare and write operations can not use versioning")
    if problems:
        raise err.action_validation(*problems)
    return {
        "version": version,
        "version_type": version_type,
        "if_seq_no": if_seq_no,
        "if_primary_term": if_primary_term,
    }


def _merge(target: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a partial document into a source (Elasticsearch's update ``doc``)."""
    out = dict(target)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _source_filter(req: Request, override: Any = None) -> SourceFilter:
    params = req.params
    if override is None and not params:
        return _WHOLE_SOURCE
    source = override if override is not None else params.get("_source")
    return SourceFilter.parse(
        source, req.params.get("_source_includes"), req.params.get("_source_excludes")
    )


def _list_param(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v for v in str(value).split(",") if v]


def _stored_fields(
    index: Index, source: dict[str, Any] | None, wanted: list[str]
) -> dict[str, list[Any]]:
    stored = set(index.mapping.stored_fields())
    out: dict[str, list[Any]] = {}
    for name in wanted:
        if name in stored and source is not None:
            values = field_values(source, name)
            if values:
                out[name] = values
    return out


def _render_doc(
    index: Index, doc: Doc, filt: SourceFilter, stored: list[str] | None = None
) -> bytes:
    """A found document as GET/mget render it; the source bytes pass through untouched."""
    routing = b',"_routing":' + _jstr(doc.routing) if doc.routing is not None else b""
    if not stored and filt.is_identity and index.mapping.source_enabled and doc.source:
        # The common case, kept to one formatting step: it is most of a GET's own cost.
        return (
            b'{"_index":%s,"_id":%s,"_version":%d,"_seq_no":%d,"_primary_term":1%s,'
            b'"found":true,"_source":%s}'
            % (index.name_json, _jstr(doc.id), doc.version, doc.seq_no, routing, doc.source)
        )
    head = b'{"_index":%s,"_id":%s,"_version":%d,"_seq_no":%d,"_primary_term":1%s,"found":true' % (
        index.name_json,
        _jstr(doc.id),
        doc.version,
        doc.seq_no,
        routing,
    )
    want_source = filt.enabled and index.mapping.source_enabled
    parsed: dict[str, Any] | None = None
    if stored:
        parsed = json.loads(doc.source) if doc.source else None
        fields = _stored_fields(index, parsed, [f for f in stored if f != "_source"])
        want_source = want_source and "_source" in stored
        if fields:
            head += b',"fields":' + dumps(fields)
    if want_source and doc.source is not None:
        if filt.is_identity:
            head += b',"_source":' + doc.source
        else:
            if parsed is None:
                parsed = json.loads(doc.source)
            head += b',"_source":' + dumps(filt.apply(parsed or {}))
    return head + b"}"


_WHOLE_SOURCE = SourceFilter()


def _missing_doc(index_name: str, doc_id: str) -> dict[str, Any]:
    return {"_index": index_name, "_id": doc_id, "found": False}


# -- the protocol -----------------------------------------------------------------------------


class Protocol:
    """Elasticsearch's REST API over an :class:`Engine`."""

    def __init__(
        self,
        engine: Engine,
        version: str = DEFAULT_VERSION,
        cluster_name: str = "esbackend-fake",
        node_name: str = "fake-node-0",
    ) -> None:
        self.engine = engine
        self.version = version
        self.major = int(version.split(".")[0])
        self.cluster_name = cluster_name
        self.node_name = node_name
        self.router = Router()
        self._negotiated: dict[tuple[str, str], str] = {}
        self.credentials: tuple[str, str] | None = None
        self.failures: list[Exception] = []

    def _authenticate(self, path: str, authorization: str | None) -> None:
        """Basic authentication, when the cluster requires it (security enabled)."""
        assert self.credentials is not None
        if not authorization:
            raise err.unauthenticated(path, None)
        scheme, _, value = authorization.partition(" ")
        user: str | None = None
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            if (user, password) == self.credentials:
                return
        raise err.unauthenticated(path, user or "_anonymous")

    # -- entry points ----------------------------------------------------------------------

    def prepare(self, method: str, target: str, headers: Mapping[str, str]) -> Request:
        """Route a request (no state is touched): raises EsError for unknown endpoints."""
        path, _, query = target.partition("?")
        params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
        api, handler_name, path_params = self.router.match(method, path)
        request = Request(method, path, api, path_params, params, headers)
        request.handler = getattr(Protocol, handler_name)
        return request

    def begin(
        self, method: str, target: str, headers: Mapping[str, str]
    ) -> tuple[Request | None, Response | None]:
        """Negotiate, authenticate and route one request, touching no state.

        Returns the routed request, or None and the error response to send instead.
        ``headers`` must have lower-case names (adapters normalise them).
        """
        try:
            content_type = self.negotiate(headers)
        except err.EsError as exc:
            return None, self.error(exc)
        try:
            if self.credentials is not None:
                self._authenticate(target.partition("?")[0], headers.get("authorization"))
            request = self.prepare(method, target, headers)
        except err.EsError as exc:
            return None, self.error(exc, content_type, head=method == "HEAD")
        request.content_type = content_type
        return request, None

    def execute(self, request: Request, body: bytes | None) -> Response:
        content_type = request.content_type
        try:
            assert request.handler is not None
            with self.engine.lock:
                result = request.handler(self, request, body)
        except err.EsError as exc:
            return self.error(exc, content_type, head=request.method == "HEAD")
        except Exception as exc:
            # A bug in the fake, not in the caller's request: answer 500 and keep it for
            # FakeCluster.errors, so tests (and the HTTP server) can re-raise it.
            self.failures.append(exc)
            error = err.EsError(
                500, "esbackend_fake_exception", f"the fake failed on this request: {exc!r}"
            )
            return self.error(error, content_type, head=request.method == "HEAD")
        status = 200
        if isinstance(result, tuple):
            status, result = result
        headers = {"content-type": content_type, PRODUCT_HEADER[0]: PRODUCT_HEADER[1]}
        if request.method == "HEAD":
            return Response(status, b"", headers)
        if "filter_path" in request.params:
            parsed = json.loads(result) if isinstance(result, bytes) else result
            result = _filter_path(parsed, request.params["filter_path"])
        payload = result if isinstance(result, bytes) else dumps(result)
        return Response(status, payload, headers)

    def error(self, exc: err.EsError, content_type: str = JSON, *, head: bool = False) -> Response:
        headers = {
            "content-type": content_type,
            PRODUCT_HEADER[0]: PRODUCT_HEADER[1],
            **exc.headers,
        }
        return Response(exc.status, b"" if head else dumps(exc.body()), headers)

    def negotiate(self, headers: Mapping[str, str]) -> str:
        """The response content type; rejects compatibility versions this server lacks."""
        key = (headers.get("accept", ""), headers.get("content-type", ""))
        known = self._negotiated.get(key)
        if known is None:
            known = self._negotiate(headers)
            if len(self._negotiated) < 64:
                self._negotiated[key] = known
        return known

    def _negotiate(self, headers: Mapping[str, str]) -> str:
        accept = headers.get("accept", "")
        for name in ("accept", "content-type"):
            value = headers.get(name, "")
            if "compatible-with=" in value:
                wanted = int(value.split("compatible-with=")[1].split(";")[0].strip() or 0)
                if wanted not in (self.major, self.major - 1):
                    raise err.EsError(
                        400,
                        "media_type_header_exception",
                        "Invalid media-type value on headers [Content-Type, Accept]",
                        caused_by=err.illegal_argument(
                            f"A compatible version is required on both Content-Type and Accept "
                            f"headers if either one has requested a compatible version and the "
                            f"compatible versions must match. Accept={accept}, "
                            f"Content-Type={headers.get('content-type')}"
                        ),
                    )
        if "yaml" in accept:
            return "application/yaml"
        if COMPAT in accept:
            return f"{COMPAT};compatible-with={accept.split('compatible-with=')[1].strip()}"
        return JSON

    # -- cluster ---------------------------------------------------------------------------

    @route("GET", "/", api="info")
    def info(self, req: Request, body: bytes | None) -> Any:
        return {
            "name": self.node_name,
            "cluster_name": self.cluster_name,
            "cluster_uuid": self.engine.cluster_uuid,
            "version": {
                "number": self.version,
                "build_flavor": "default",
                "build_type": "docker",
                "build_hash": "0" * 40,
                "build_date": "2025-01-01T00:00:00.000000000Z",
                "build_snapshot": False,
                "lucene_version": "10.0.0" if self.major >= 9 else "9.12.0",
                "minimum_wire_compatibility_version": f"{self.major - 1}.18.0",
                "minimum_index_compatibility_version": f"{self.major - 1}.0.0",
            },
            "tagline": "You Know, for Search",
        }

    @route("HEAD", "/", api="ping")
    def ping(self, req: Request, body: bytes | None) -> Any:
        return {}

    @route("GET", "/_capabilities", api="capabilities")
    def capabilities(self, req: Request, body: bytes | None) -> Any:
        wanted = set(_list_param(req.params.get("capabilities")))
        path = req.params.get("path", "")
        method = req.params.get("method", "GET").upper()
        known = CAPABILITIES.get((method, path), frozenset())
        return {"supported": wanted <= known}

    @route("GET", "/_cluster/health", "/_cluster/health/{index}", api="cluster.health")
    def cluster_health(self, req: Request, body: bytes | None) -> Any:
        indices = (
            self.engine.resolve(
                req.index, expand_wildcards="all", ignore_unavailable=False, allow_no_indices=True
            )
            if req.index
            else list(self.engine.indices.values())
        )
        rows: dict[str, dict[str, Any]] = {}
        totals = {"active_primary_shards": 0, "active_shards": 0, "unassigned_shards": 0}
        worst = "green"
        for index in indices:
            unassigned = index.shards * index.replicas
            status = "yellow" if unassigned else "green"
            worst = "yellow" if status == "yellow" else worst
            rows[index.name] = {
                "status": status,
                "number_of_shards": index.shards,
                "number_of_replicas": index.replicas,
                "active_primary_shards": index.shards,
                "active_shards": index.shards,
                "relocating_shards": 0,
                "initializing_shards": 0,
                "unassigned_shards": unassigned,
                "unassigned_primary_shards": 0,
            }
            totals["active_primary_shards"] += index.shards
            totals["active_shards"] += index.shards
            totals["unassigned_shards"] += unassigned
        wanted = req.params.get("wait_for_status")
        order = {"green": 0, "yellow": 1, "red": 2}
        timed_out = wanted is not None and order[worst] > order.get(wanted, 2)
        active = totals["active_shards"]
        total = active + totals["unassigned_shards"]
        out: dict[str, Any] = {
            "cluster_name": self.cluster_name,
            "status": worst,
            "timed_out": timed_out,
            "number_of_nodes": 1,
            "number_of_data_nodes": 1,
            **totals,
            "relocating_shards": 0,
            "initializing_shards": 0,
            "unassigned_primary_shards": 0,
            "delayed_unassigned_shards": 0,
            "number_of_pending_tasks": 0,
            "number_of_in_flight_fetch": 0,
            "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": 100.0 * active / total if total else 100.0,
        }
        level = req.params.get("level", "cluster")
        if level in ("indices", "shards"):
            out["indices"] = rows
            if level == "shards":
                for _name, row in rows.items():
                    row["shards"] = {
                        str(n): {
                            "status": row["status"],
                            "primary_active": True,
                            "active_shards": 1,
                            "relocating_shards": 0,
                            "initializing_shards": 0,
                            "unassigned_shards": row["number_of_replicas"],
                            "unassigned_primary_shards": 0,
                        }
                        for n in range(row["number_of_shards"])
                    }
        # A wait that cannot be satisfied ends with the timeout: 408 with timed_out true.
        return (408, out) if timed_out else out

    @route("GET", "/_cluster/settings", api="cluster.get_settings")
    def cluster_get_settings(self, req: Request, body: bytes | None) -> Any:
        return self._cluster_settings(req)

    @route("PUT", "/_cluster/settings", api="cluster.put_settings")
    def cluster_put_settings(self, req: Request, body: bytes | None) -> Any:
        payload = _object_body(body, "cluster.put_settings", required=True)
        unknown = set(payload) - {"persistent", "transient"}
        if unknown:
            raise err.parse_error(
                f"request body for [cluster.put_settings] does not support [{sorted(unknown)[0]}]"
            )
        scopes = {
            scope: _flatten_plain(_expect_object(payload.get(scope) or {}, scope))
            for scope in ("persistent", "transient")
        }
        for scope, flat in scopes.items():
            for key, value in flat.items():
                if value is None:
                    self.engine.cluster_settings[scope].pop(key, None)
                else:
                    self.engine.cluster_settings[scope][key] = (
                        str(value).lower() if isinstance(value, bool) else str(value)
                    )
        out = self._cluster_settings(req)
        return {"acknowledged": True, **out}

    def _cluster_settings(self, req: Request) -> dict[str, Any]:
        flat = req.flag("flat_settings")
        return {
            scope: (dict(values) if flat else nest_settings(values))
            for scope, values in self.engine.cluster_settings.items()
        }

    @route("GET", "/_tasks/{task_id}", api="tasks.get")
    def tasks_get(self, req: Request, body: bytes | None) -> Any:
        task_id = req.path_params["task_id"]
        task = self.engine.tasks.get(task_id)
        if task is None:
            raise err.task_missing(task_id)
        return task

    # -- indices ---------------------------------------------------------------------------

    @route("PUT", "/{index}", api="indices.create")
    def indices_create(self, req: Request, body: bytes | None) -> Any:
        payload = _object_body(body, "indices.create")
        for key in ("mappings", "settings", "aliases"):
            if key in payload and not isinstance(payload[key], dict):
                raise err.parse_error(f"Failed to parse content to map: [{key}] must be an object")
        unknown = set(payload) - {"mappings", "settings", "aliases"}
        if unknown:
            raise err.parse_error(f"unknown key [{sorted(unknown)[0]}] for create index")
        assert req.index is not None
        index = self.engine.create_index(req.index, payload)
        return {"acknowledged": True, "shards_acknowledged": True, "index": index.name}

    @route("DELETE", "/{index}", api="indices.delete")
    def indices_delete(self, req: Request, body: bytes | None) -> Any:
        expression = req.index or ""
        wildcard = "*" in expression or expression == "_all"
        if (
            wildcard
            and self.engine.cluster_setting("action.destructive_requires_name", "true") == "true"
        ):
            raise err.illegal_argument("Wildcard expressions or all indices are not allowed")
        indices = self.engine.resolve(
            expression,
            ignore_unavailable=req.flag("ignore_unavailable"),
            allow_no_indices=req.flag("allow_no_indices", True),
            expand_wildcards=req.params.get("expand_wildcards", "open,closed"),
            allow_aliases=False,
        )
        self.engine.delete_indices(indices)
        return {"acknowledged": True}

    @route("HEAD", "/{index}", api="indices.exists")
    def indices_exists(self, req: Request, body: bytes | None) -> Any:
        indices = self.engine.resolve(
            req.index,
            ignore_unavailable=req.flag("ignore_unavailable"),
            allow_no_indices=req.flag("allow_no_indices", False),
            expand_wildcards=req.params.get("expand_wildcards", "open"),
        )
        return 200 if indices else 404, {}

    def _resolve(
        self, req: Request, default_wildcards: str = "open", index: str | None = None
    ) -> list[Index]:
        return self.engine.resolve(
            index if index is not None else req.index,
            ignore_unavailable=req.flag("ignore_unavailable"),
            allow_no_indices=req.flag("allow_no_indices", True),
            expand_wildcards=req.params.get("expand_wildcards", default_wildcards),
        )

    @route("GET", "/{index}", api="indices.get")
    def indices_get(self, req: Request, body: bytes | None) -> Any:
        indices = self._resolve(req)
        return {
            i.name: {
                "aliases": dict(i.aliases),
                "mappings": i.mapping.to_dict(),
                "settings": self._settings_view(i, req),
            }
            for i in indices
        }

    def _settings_view(self, index: Index, req: Request) -> dict[str, Any]:
        flat = dict(index.settings)
        flat.setdefault("index.version.created", _version_id(self.version))
        if req.flag("flat_settings"):
            return flat
        return nest_settings(flat)

    @route("GET", "/_mapping", "/{index}/_mapping", api="indices.get_mapping")
    def indices_get_mapping(self, req: Request, body: bytes | None) -> Any:
        return {i.name: {"mappings": i.mapping.to_dict()} for i in self._resolve(req)}

    @route("PUT|POST", "/{index}/_mapping", api="indices.put_mapping")
    def indices_put_mapping(self, req: Request, body: bytes | None) -> Any:
        payload = _object_body(body, "indices.put_mapping", required=True)
        indices = self._resolve(req)
        for index in indices:
            index.mapping.merge(payload)
        return {"acknowledged": True}

    @route(
        "GET",
        "/_settings",
        "/{index}/_settings",
        "/{index}/_settings/{name}",
        api="indices.get_settings",
    )
    def indices_get_settings(self, req: Request, body: bytes | None) -> Any:
        out = {}
        names = _list_param(req.path_params.get("name"))
        for index in self._resolve(req, "open,closed"):
            view = dict(index.settings)
            if names:
                view = {
                    k: v for k, v in view.items() if any(glob_pattern(n).match(k) for n in names)
                }
            out[index.name] = {
                "settings": view if req.flag("flat_settings") else nest_settings(view)
            }
        return out

    @route("PUT", "/_settings", "/{index}/_settings", api="indices.put_settings")
    def indices_put_settings(self, req: Request, body: bytes | None) -> Any:
        payload = _object_body(body, "indices.put_settings", required=True)
        if set(payload) == {"settings"} and isinstance(payload["settings"], dict):
            payload = payload["settings"]
        changes = flatten_settings(payload)
        indices = self._resolve(req, "open")
        static = {
            "index.number_of_shards",
            "index.number_of_routing_shards",
            "index.mode",
            "index.soft_deletes.enabled",
        }
        for index in indices:
            frozen = sorted(k for k in changes if k in static)
            if frozen:
                raise err.illegal_argument(
                    f"Can't update non dynamic settings [[{', '.join(frozen)}]] for open "
                    f"indices [[{index.name}/{index.uuid}]]"
                )
        for index in indices:
            index.update_settings(changes)
        return {"acknowledged": True}

    @route("GET|POST", "/_refresh", "/{index}/_refresh", api="indices.refresh")
    def indices_refresh(self, req: Request, body: bytes | None) -> Any:
        indices = self._resolve(req, "open")
        self.engine.refresh(indices)
        total = sum(i.shards * (1 + i.replicas) for i in indices)
        ok = sum(i.shards for i in indices)
        return {"_shards": {"total": total, "successful": ok, "failed": 0}}

    @route("POST", "/{index}/_close", api="indices.close")
    def indices_close(self, req: Request, body: bytes | None) -> Any:
        indices = self._resolve(req, "open")
        for index in indices:
            index.closed = True
        return {
            "acknowledged": True,
            "shards_acknowledged": True,
            "indices": {i.name: {"closed": True} for i in indices},
        }

    @route("POST", "/{index}/_open", api="indices.open")
    def indices_open(self, req: Request, body: bytes | None) -> Any:
        indices = self._resolve(req, "closed")
        for index in indices:
            index.closed = False
        return {"acknowledged": True, "shards_acknowledged": True}

    @route(
        "GET",
        "/_stats",
        "/{index}/_stats",
        "/_stats/{metric}",
        "/{index}/_stats/{metric}",
        api="indices.stats",
    )
    def indices_stats(self, req: Request, body: bytes | None) -> Any:
        indices = self._resolve(req)

        def stats(index: Index) -> dict[str, Any]:
            return {
                "docs": {"count": index.live_count, "deleted": 0},
                "indexing": {
                    "index_total": index.stats["index_total"],
                    "index_current": 0,
                    "index_failed": 0,
                    "delete_total": index.stats["delete_total"],
                    "delete_current": 0,
                    "noop_update_total": index.stats["noop_update_total"],
                },
            }

        def total(rows: list[dict[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for row in rows:
                for section, values in row.items():
                    bucket = out.setdefault(section, {})
                    for key, value in values.items():
                        bucket[key] = bucket.get(key, 0) + value
            return out

        per_index = {
            i.name: {
                "uuid": i.uuid,
                "health": "yellow" if i.replicas else "green",
                "status": "close" if i.closed else "open",
                "primaries": stats(i),
                "total": stats(i),
            }
            for i in indices
        }
        all_rows = [stats(i) for i in indices]
        shards = sum(i.shards for i in indices)
        return {
            "_shards": {"total": shards, "successful": shards, "failed": 0},
            "_all": {"primaries": total(all_rows), "total": total(all_rows)},
            "indices": per_index,
        }

    # -- aliases ---------------------------------------------------------------------------

    @route(
        "PUT|POST", "/{index}/_alias/{name}", "/{index}/_aliases/{name}", api="indices.put_alias"
    )
    def indices_put_alias(self, req: Request, body: bytes | None) -> Any:
        spec = _object_body(body, "indices.put_alias")
        self.engine.put_alias(self._resolve(req, "open"), req.path_params["name"], spec)
        return {"acknowledged": True}

    @route(
        "DELETE", "/{index}/_alias/{name}", "/{index}/_aliases/{name}", api="indices.delete_alias"
    )
    def indices_delete_alias(self, req: Request, body: bytes | None) -> Any:
        patterns = [glob_pattern(n) for n in _list_param(req.path_params["name"])]
        removed = 0
        for index in self._resolve(req, "open"):
            for alias in [a for a in index.aliases if any(p.match(a) for p in patterns)]:
                del index.aliases[alias]
                removed += 1
        if not removed:
            raise err.alias_not_found(req.path_params["name"])
        return {"acknowledged": True}

    @route("POST", "/_aliases", api="indices.update_aliases")
    def indices_update_aliases(self, req: Request, body: bytes | None) -> Any:
        payload = _object_body(body, "indices.update_aliases", required=True)
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            raise err.action_validation("no actions specified")
        # Check every action before applying any: the request is atomic in Elasticsearch.
        plan: list[tuple[str, list[Index], list[str], dict[str, Any]]] = []
        for action in actions:
            if not isinstance(action, dict) or len(action) != 1:
                raise err.parse_error("[aliases] an action must be an object with one key")
            ((kind, spec),) = action.items()
            if kind not in ("add", "remove", "remove_index") or not isinstance(spec, dict):
                raise err.parse_error(f"[aliases] unknown action or malformed [{kind}]")
            names = _list_param(spec.get("indices", spec.get("index")))
            if not names:
                raise err.action_validation("One of [index] or [indices] is required")
            alias_names = _list_param(spec.get("aliases", spec.get("alias")))
            if kind != "remove_index" and not alias_names:
                raise err.action_validation("One of [alias] or [aliases] is required")
            extra = {
                k: v for k, v in spec.items() if k not in ("index", "indices", "alias", "aliases")
            }
            plan.append((kind, self.engine.resolve(names), alias_names, extra))
        for kind, indices, alias_names, extra in plan:
            if kind == "add":
                for alias in alias_names:
                    self.engine.put_alias(indices, alias, extra)
            elif kind == "remove":
                for index in indices:
                    for alias in alias_names:
                        index.aliases.pop(alias, None)
            else:
                self.engine.delete_indices(indices)
        return {"acknowledged": True, "errors": False}

    @route(
        "GET",
        "/_alias",
        "/_alias/{name}",
        "/{index}/_alias",
        "/{index}/_alias/{name}",
        "/_aliases",
        "/{index}/_aliases",
        api="indices.get_alias",
    )
    def indices_get_alias(self, req: Request, body: bytes | None) -> Any:
        names = _list_param(req.path_params.get("name"))
        patterns = [glob_pattern(n) for n in names]
        out = {}
        for index in self._resolve(req, "all" if req.index is None else "open"):
            aliases = {
                a: spec
                for a, spec in index.aliases.items()
                if not patterns or any(p.match(a) for p in patterns)
            }
            if aliases or not patterns:
                out[index.name] = {"aliases": aliases}
        if patterns and not out:
            return 404, {"error": f"alias [{','.join(names)}] missing", "status": 404}
        return out

    @route("HEAD", "/_alias/{name}", "/{index}/_alias/{name}", api="indices.exists_alias")
    def indices_exists_alias(self, req: Request, body: bytes | None) -> Any:
        status, _ = self._alias_lookup(req)
        return status, {}

    def _alias_lookup(self, req: Request) -> tuple[int, Any]:
        result = self.indices_get_alias(req, None)
        if isinstance(result, tuple):
            return result
        return 200, result

    # -- documents ---------------------------------------------------------------------------

    @route("PUT|POST", "/{index}/_doc/{id}", "/{index}/_doc", api="index")
    def index(self, req: Request, body: bytes | None) -> Any:
        op_type = req.params.get("op_type", "index" if req.doc_id is not None else "create")
        if op_type not in ("index", "create"):
            raise err.illegal_argument(f"opType must be 'create' or 'index', found: [{op_type}]")
        return self._write(req, body, op_type)

    @route("PUT|POST", "/{index}/_create/{id}", api="create")
    def create(self, req: Request, body: bytes | None) -> Any:
        return self._write(req, body, "create")

    def _write(self, req: Request, body: bytes | None, op_type: str) -> Any:
        refresh = req.refresh()
        versioning = _version_params(req, create=op_type == "create")
        source, parsed = _document(body)
        assert req.index is not None
        index, alias_routing = self.engine.index_for_write(
            req.index, require_alias=req.flag("require_alias")
        )
        routing = req.params.get("routing", alias_routing)
        doc, result = self.engine.write(
            index, req.doc_id, source, parsed, op_type=op_type, routing=routing, **versioning
        )
        if refresh != "false":
            self._publish(index, doc.shard)
        status = 201 if result == "created" else 200
        return status, _write_result(index, doc, result, refresh == "true")

    def _publish(self, index: Index, shard: int) -> None:
        """``refresh=true|wait_for`` on a write: publish the shard that took it."""
        index.refresh(self.engine.clock(), [shard])

    def _read_target(self, req: Request) -> tuple[Index, Doc | None]:
        assert req.index is not None and req.doc_id is not None
        index = self.engine.index_for_read(req.index)
        realtime = req.flag("realtime", True)
        if req.flag("refresh"):
            self.engine.refresh([index])
        doc = self.engine.read(
            index, req.doc_id, routing=req.params.get("routing"), realtime=realtime
        )
        return index, doc

    @route("GET", "/{index}/_doc/{id}", api="get")
    def get(self, req: Request, body: bytes | None) -> Any:
        index, doc = self._read_target(req)
        assert req.doc_id is not None
        if doc is None:
            return 404, _missing_doc(index.name, req.doc_id)
        stored = _list_param(req.params.get("stored_fields")) or None
        filt = _source_filter(req)
        if stored and req.params.get("_source") is not None and filt.enabled:
            stored = [*stored, "_source"]
        return _render_doc(index, doc, filt, stored)

    @route("HEAD", "/{index}/_doc/{id}", api="exists")
    def exists(self, req: Request, body: bytes | None) -> Any:
        _, doc = self._read_target(req)
        return (200 if doc is not None else 404), {}

    @route("GET", "/{index}/_source/{id}", api="get_source")
    def get_source(self, req: Request, body: bytes | None) -> Any:
        index, doc = self._read_target(req)
        assert req.doc_id is not None
        if doc is None:
            raise err.EsError(
                404,
                "resource_not_found_exception",
                f"Document not found [{index.name}]/[{req.doc_id}]",
            )
        if not index.mapping.source_enabled or doc.source is None:
            raise err.document_source_missing(index.name, index.uuid, req.doc_id)
        filt = _source_filter(req)
        if filt.is_identity:
            return doc.source
        return filt.apply(json.loads(doc.source))

    @route("HEAD", "/{index}/_source/{id}", api="exists_source")
    def exists_source(self, req: Request, body: bytes | None) -> Any:
        index, doc = self._read_target(req)
        found = doc is not None and index.mapping.source_enabled
        return (200 if found else 404), {}

    @route("DELETE", "/{index}/_doc/{id}", api="delete")
    def delete(self, req: Request, body: bytes | None) -> Any:
        refresh = req.refresh()
        versioning = _version_params(req)
        assert req.index is not None and req.doc_id is not None
        index, alias_routing = self.engine.index_for_write(req.index, auto_create=False)
        doc, found = self.engine.delete(
            index, req.doc_id, routing=req.params.get("routing", alias_routing), **versioning
        )
        if refresh != "false":
            self._publish(index, doc.shard)
        result = _write_result(index, doc, "deleted" if found else "not_found", refresh == "true")
        return (200 if found else 404), result

    @route("POST", "/{index}/_update/{id}", api="update")
    def update(self, req: Request, body: bytes | None) -> Any:
        refresh = req.refresh()
        payload = _object_body(body, "update", required=True)
        assert req.index is not None and req.doc_id is not None
        status, result, index, shard = self._update(
            req.index, req.doc_id, payload, req.params, req.flag("require_alias")
        )
        if refresh != "false":
            self._publish(index, shard)
            if refresh == "true" and result.get("result") != "noop":
                result = {**result, "forced_refresh": True}
        return status, result

    def _update(
        self,
        index_name: str,
        doc_id: str,
        payload: dict[str, Any],
        params: Mapping[str, Any],
        require_alias: bool = False,
    ) -> tuple[int, dict[str, Any], Index, int]:
        """One update (the API or a bulk item): returns status, result, index and shard."""
        known = (
            "doc",
            "upsert",
            "doc_as_upsert",
            "detect_noop",
            "scripted_upsert",
            "script",
            "_source",
            "lang",
            "if_seq_no",
            "if_primary_term",
        )
        for key in payload:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                raise err.unknown_field("UpdateRequest", key, close[0] if close else None)
        if "script" in payload:
            raise err.illegal_argument(
                "[script] updates are not supported by the esbackend fake (it does not run "
                "painless); use [doc] or optimistic concurrency control instead"
            )
        doc_part = payload.get("doc")
        for field_name in ("doc", "upsert"):
            if field_name in payload and not isinstance(payload[field_name], dict):
                raise err.x_content_parse(
                    f"[1:2] [UpdateRequest] failed to parse field [{field_name}]",
                    caused_by=err.parse_error(f"[{field_name}] must be an object"),
                )
        if doc_part is None and "upsert" not in payload:
            raise err.action_validation("script or doc is missing")
        versioning = _version_params(params)
        if versioning["version"] is not None:
            raise err.action_validation("can't provide version in update request")
        index, alias_routing = self.engine.index_for_write(index_name, require_alias=require_alias)
        routing = params.get("routing", alias_routing)
        current = index.find(doc_id, routing)
        if current is not None and current.deleted:
            current = None
        filt_spec = payload.get("_source", params.get("_source"))
        wants_get = filt_spec is not None or any(
            p in params for p in ("_source_includes", "_source_excludes", "_source_include_vectors")
        )
        if current is None:
            if versioning["if_seq_no"] is not None:
                self.engine.write(index, doc_id, b"{}", {}, routing=routing, **versioning)
            if payload.get("doc_as_upsert") and doc_part is not None:
                new = doc_part
            elif "upsert" in payload:
                new = payload["upsert"]
            else:
                raise err.document_missing(index.name, index.uuid, doc_id)
            doc, result = self.engine.write(
                index, doc_id, dumps(new), new, routing=routing, op_type="create"
            )
            out = _write_result(index, doc, result, False)
            status = 201
        else:
            old = json.loads(current.source or b"{}")
            new = _merge(old, doc_part or {})
            if payload.get("detect_noop", True) is not False and new == old:
                check = dict(versioning)
                if check["if_seq_no"] is not None and (check["if_seq_no"] != current.seq_no):
                    self.engine.write(index, doc_id, b"{}", {}, routing=routing, **check)
                index.stats["noop_update_total"] += 1
                out = {
                    "_index": index.name,
                    "_id": doc_id,
                    "_version": current.version,
                    "result": "noop",
                    "_shards": {"total": 0, "successful": 0, "failed": 0},
                    "_seq_no": current.seq_no,
                    "_primary_term": current.primary_term,
                }
                doc = current
            else:
                if versioning["if_seq_no"] is None:
                    versioning["if_seq_no"] = current.seq_no
                    versioning["if_primary_term"] = current.primary_term
                doc, result = self.engine.write(
                    index, doc_id, dumps(new), new, routing=routing, **versioning
                )
                out = _write_result(index, doc, result, False)
            status = 200
        if wants_get:
            filt = SourceFilter.parse(
                filt_spec, params.get("_source_includes"), params.get("_source_excludes")
            )
            if params.get("_source_include_vectors") in (False, "false"):
                vectors = [
                    p
                    for p, s in index.mapping.fields.items()
                    if s.get("type") in ("dense_vector", "sparse_vector")
                ]
                filt.excludes += [glob_pattern(p) for p in vectors]
            get: dict[str, Any] = {
                "_seq_no": doc.seq_no,
                "_primary_term": doc.primary_term,
                "found": True,
            }
            if filt.enabled:
                get["_source"] = filt.apply(new)
            out["get"] = get
        return status, out, index, doc.shard

    # -- multi-document ------------------------------------------------------------------

    @route("GET|POST", "/_mget", "/{index}/_mget", api="mget")
    def mget(self, req: Request, body: bytes | None) -> Any:
        payload = _object_body(body, "mget")
        unknown = set(payload) - {"docs", "ids"}
        if unknown:
            raise err.parse_error(f"unknown parameter [{sorted(unknown)[0]}]")
        specs: list[dict[str, Any]] = []
        if "ids" in payload:
            ids = payload["ids"]
            if not isinstance(ids, list) or any(isinstance(i, (dict, list)) for i in ids):
                raise err.parse_error("[mget] ids must be an array of values")
            specs = [{"_id": i} for i in ids]
        elif "docs" in payload:
            docs = payload["docs"]
            if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
                raise err.parse_error("[mget] docs must be an array of objects")
            specs = list(docs)
        problems = []
        for n, spec in enumerate(specs):
            if spec.get("_index", req.index) is None:
                problems.append(f"index is missing for doc {n}")
            if spec.get("_id") is None:
                problems.append(f"id is missing for doc {n}")
        if not specs:
            problems.append("no documents to get")
        if problems:
            raise err.action_validation(*problems)
        realtime = req.flag("realtime", True)
        default_stored = _list_param(req.params.get("stored_fields")) or None
        default_filter = _source_filter(req)
        refreshed: set[str] = set()
        parts = []
        targets: dict[str, Index | err.EsError] = {}
        for spec in specs:
            name, doc_id = str(spec.get("_index", req.index)), str(spec["_id"])
            index_or_error = targets.get(name)
            if index_or_error is None:
                try:
                    index_or_error = self.engine.index_for_read(name)
                except err.EsError as exc:
                    index_or_error = exc
                targets[name] = index_or_error
            if isinstance(index_or_error, err.EsError):
                error = index_or_error.body()["error"]
                parts.append(dumps({"_index": name, "_id": doc_id, "error": error}))
                continue
            index = index_or_error
            if req.flag("refresh") and index.name not in refreshed:
                self.engine.refresh([index])
                refreshed.add(index.name)
            doc = self.engine.read(
                index,
                doc_id,
                routing=spec.get("routing", req.params.get("routing")),
                realtime=realtime,
            )
            if doc is None:
                parts.append(dumps(_missing_doc(index.name, doc_id)))
                continue
            stored = (
                _list_param(spec["stored_fields"]) if "stored_fields" in spec else default_stored
            )
            filt = SourceFilter.parse(spec["_source"]) if "_source" in spec else default_filter
            if (stored and "_source" in spec and filt.enabled) or (
                stored
                and "_source" not in spec
                and req.params.get("_source") is not None
                and filt.enabled
            ):
                stored = [*stored, "_source"]
            parts.append(_render_doc(index, doc, filt, stored))
        return b'{"docs":[' + b",".join(parts) + b"]}"

    @route("POST|PUT", "/_bulk", "/{index}/_bulk", api="bulk")
    def bulk(self, req: Request, body: bytes | None) -> Any:
        started = time.perf_counter()
        refresh = req.refresh()
        lines = list((body or b"").split(b"\n"))
        items: list[dict[str, Any]] = []
        touched: set[tuple[Index, int]] = set()
        n = 0
        count = len(lines)
        while n < count:
            line = lines[n].strip()
            n += 1
            if not line:
                continue
            action = _json_body(line)
            if not isinstance(action, dict) or len(action) != 1:
                found = "END_OBJECT" if action == {} else "START_OBJECT"
                raise err.illegal_argument(
                    f"Malformed action/metadata line [{n}], expected FIELD_NAME but found [{found}]"
                )
            ((kind, meta),) = action.items()
            if kind not in ("index", "create", "update", "delete"):
                raise err.illegal_argument(
                    f"Malformed action/metadata line [{n}], expected field [create], [delete], "
                    f"[index] or [update] but found [{kind}]"
                )
            if meta is not None and not isinstance(meta, dict):
                raise err.illegal_argument(
                    f"Malformed action/metadata line [{n}], expected START_OBJECT or END_OBJECT "
                    f"but found [{_json_kind(meta)}]"
                )
            source_line = None
            if kind != "delete":
                while n < count and not lines[n].strip():
                    n += 1
                if n >= count:
                    raise err.action_validation("source is missing")
                source_line = lines[n].strip()
                n += 1
            items.append(self._bulk_item(req, kind, meta, source_line, touched))
        if not items:
            raise err.action_validation("no requests added")
        if refresh != "false":
            for index, shard in touched:
                self._publish(index, shard)
            if refresh == "true":
                for item in items:
                    result = next(iter(item.values()))
                    if "error" not in result and result.get("result") != "noop":
                        result["forced_refresh"] = True
        took = int((time.perf_counter() - started) * 1000)
        errors = any("error" in next(iter(i.values())) for i in items)
        return {"errors": errors, "took": took, "items": items}

    def _bulk_item(
        self,
        req: Request,
        kind: str,
        meta: Any,
        source: bytes | None,
        touched: set[tuple[Index, int]],
    ) -> dict[str, Any]:
        meta = dict(meta or {})
        name = meta.pop("_index", req.index)
        doc_id = meta.pop("_id", None)
        doc_id = None if doc_id is None else str(doc_id)
        if kind == "index" and meta.pop("op_type", "index") == "create":
            kind = "create"
        result: dict[str, Any] = {"_index": name, "_id": doc_id}
        try:
            if name is None:
                raise err.action_validation("index is missing")
            allowed = {
                "routing",
                "version",
                "version_type",
                "if_seq_no",
                "if_primary_term",
                "require_alias",
                "retry_on_conflict",
                "_source",
                "pipeline",
                "dynamic_templates",
                "require_data_stream",
                "list_executed_pipelines",
            }
            for key in meta:
                if key not in allowed:
                    raise err.illegal_argument(
                        f"Action/metadata line [1] contains an unknown parameter [{key}]"
                    )
            require_alias = bool(meta.get("require_alias", req.flag("require_alias")))
            routing = meta.get("routing", req.params.get("routing"))
            if kind == "update":
                if doc_id is None:
                    raise err.action_validation("id is missing")
                payload = _json_body(source)
                params = {**req.params, **dict(meta.items())}
                if "_source" in payload and "_source" not in meta:
                    params["_source"] = payload["_source"]
                payload = {k: v for k, v in payload.items() if k != "_source"}
                if "_source" in params and not isinstance(params["_source"], (str, bool)):
                    payload["_source"] = params.pop("_source")
                status, out, index, shard = self._update(
                    name, doc_id, payload, params, require_alias
                )
                out["status"] = status
                touched.add((index, shard))
                return {"update": out}
            if kind == "delete":
                if doc_id is None:
                    raise err.action_validation("id is missing")
                index, alias_routing = self.engine.index_for_write(
                    name, require_alias=require_alias, auto_create=False
                )
                doc, found = self.engine.delete(
                    index, doc_id, routing=routing or alias_routing, **_version_params(meta)
                )
                out = _write_result(index, doc, "deleted" if found else "not_found", False)
                out["status"] = 200 if found else 404
                touched.add((index, doc.shard))
                return {"delete": out}
            versioning = _version_params(meta, create=kind == "create")
            raw, parsed = _document(source)
            if doc_id is not None:
                check_id(doc_id)
            index, alias_routing = self.engine.index_for_write(name, require_alias=require_alias)
            doc, outcome = self.engine.write(
                index,
                doc_id,
                raw,
                parsed,
                op_type=kind,
                routing=routing or alias_routing,
                **versioning,
            )
            out = _write_result(index, doc, outcome, False)
            out["status"] = 201 if outcome == "created" else 200
            touched.add((index, doc.shard))
            return {kind: out}
        except err.EsError as exc:
            cause = exc.cause()
            result.update({"status": exc.status, "error": cause})
            if result["_id"] is None:
                del result["_id"]
            return {kind: result}

    # -- search ----------------------------------------------------------------------------

    def _search_targets(self, req: Request) -> list[Index]:
        indices = self._resolve(req)
        now = self.engine.clock()
        for index in indices:
            index.scheduled_refresh(now)
        return indices

    def _matches(self, indices: list[Index], query: Any) -> list[tuple[Index, Doc, dict[str, Any]]]:
        """Every refreshed document of ``indices`` matching ``query``, in index order."""
        hits = []
        now_ms = self.engine.now_ms()
        for index in indices:
            predicate = Compiler(index.mapping, index.name, index.uuid, now_ms).compile(
                query if query is not None else {"match_all": {}}
            )
            for doc in index.searchable():
                source = json.loads(doc.source) if doc.source else {}
                if predicate(doc.id, source):
                    hits.append((index, doc, source))
        return hits

    @route("GET|POST", "/_search", "/{index}/_search", api="search")
    def search(self, req: Request, body: bytes | None) -> Any:
        started = time.perf_counter()
        payload = _object_body(body, "search")
        known = {
            "query",
            "from",
            "size",
            "sort",
            "_source",
            "track_total_hits",
            "stored_fields",
            "timeout",
            "version",
            "seq_no_primary_term",
            "explain",
            "min_score",
            "terminate_after",
            "fields",
            "docvalue_fields",
            "highlight",
            "search_after",
            "track_scores",
            "runtime_mappings",
            "aggs",
            "aggregations",
            "post_filter",
            "collapse",
            "pit",
            "rescore",
            "suggest",
            "profile",
            "indices_boost",
            "stats",
            "script_fields",
            "ext",
            "knn",
            "rank",
            "retriever",
        }
        unknown = set(payload) - known
        if unknown:
            raise err.parse_error(f"Unknown key for a START_OBJECT in [{sorted(unknown)[0]}].")
        for unsupported in (
            "aggs",
            "aggregations",
            "highlight",
            "knn",
            "collapse",
            "rescore",
            "suggest",
            "pit",
            "retriever",
            "rank",
            "script_fields",
            "runtime_mappings",
            "post_filter",
        ):
            if unsupported in payload:
                raise err.illegal_argument(
                    f"[{unsupported}] is not supported by the esbackend fake"
                )
        indices = self._search_targets(req)
        size = req.number("size", payload.get("size"))
        start = req.number("from", payload.get("from"))
        size = 10 if size is None else size
        start = 0 if start is None else start
        if size < 0:
            raise err.illegal_argument(f"[size] parameter cannot be negative, found [{size}]")
        if start < 0:
            raise err.illegal_argument(f"[from] parameter cannot be negative, found [{start}]")
        if "q" in req.params:
            query: Any = (
                {"match_all": {}} if req.params["q"] in ("*", "*:*") else _q_param(req.params["q"])
            )
        else:
            query = payload.get("query")
        matches = self._matches(indices, query)
        sort_spec = req.params.get("sort", payload.get("sort"))
        sort_keys = []
        if sort_spec is not None:
            first = indices[0] if indices else None
            sort_keys = parse_sort(
                sort_spec,
                first.mapping if first else IndexMapping(),
                first.name if first else "",
                first.uuid if first else "",
            )
        rows = [
            (i, d, s, [sort_value(k, s, n) for k in sort_keys])
            for n, (i, d, s) in enumerate(matches)
        ]
        ordered = list(sorted_hits(sort_keys, rows)) if sort_keys else rows
        scored = not sort_keys or any(k.ftype == "_score" for k in sort_keys)
        window = ordered[start : start + size]
        filt = SourceFilter.parse(
            payload.get("_source", req.params.get("_source")),
            req.params.get("_source_includes"),
            req.params.get("_source_excludes"),
        )
        hits = []
        for index, doc, source, values in window:
            hit: dict[str, Any] = {
                "_index": index.name,
                "_id": doc.id,
                "_score": 1.0 if scored else None,
            }
            if payload.get("version") or req.flag("version"):
                hit["_version"] = doc.version
            if payload.get("seq_no_primary_term") or req.flag("seq_no_primary_term"):
                hit["_seq_no"] = doc.seq_no
                hit["_primary_term"] = doc.primary_term
            if doc.routing is not None:
                hit["_routing"] = doc.routing
            if filt.enabled and index.mapping.source_enabled:
                hit["_source"] = filt.apply(source)
            if sort_keys:
                hit["sort"] = values
            hits.append(hit)
        total: Any = _total(
            len(matches), payload.get("track_total_hits", req.params.get("track_total_hits"))
        )
        if req.flag("rest_total_hits_as_int"):
            total = len(matches) if total is not None else -1
        shards = sum(i.shards for i in indices)
        hits_out: dict[str, Any] = {}
        if total is not None:
            hits_out["total"] = total
        hits_out["max_score"] = (1.0 if matches else None) if scored else None
        hits_out["hits"] = hits
        return {
            "took": int((time.perf_counter() - started) * 1000),
            "timed_out": False,
            "_shards": {"total": shards, "successful": shards, "skipped": 0, "failed": 0},
            "hits": hits_out,
        }

    @route("GET|POST", "/_count", "/{index}/_count", api="count")
    def count(self, req: Request, body: bytes | None) -> Any:
        payload = _object_body(body, "count")
        unknown = set(payload) - {"query"}
        if unknown:
            raise err.parse_error(f"request does not support [{sorted(unknown)[0]}]")
        terminate_after = req.number("terminate_after")
        if terminate_after is not None and terminate_after <= 0:
            raise err.illegal_argument("terminateAfter must be > 0")
        indices = self._search_targets(req)
        query = _q_param(req.params["q"]) if "q" in req.params else payload.get("query")
        matched = len(self._matches(indices, query))
        if terminate_after is not None:
            matched = min(matched, terminate_after)
        shards = sum(i.shards for i in indices)
        return {
            "count": matched,
            "_shards": {"total": shards, "successful": shards, "skipped": 0, "failed": 0},
        }

    @route("POST", "/{index}/_delete_by_query", api="delete_by_query")
    def delete_by_query(self, req: Request, body: bytes | None) -> Any:
        started = time.perf_counter()
        payload = _object_body(body, "delete_by_query")
        unknown = set(payload) - {"query", "max_docs", "slice", "sort"}
        if unknown:
            raise err.parse_error(f"Unknown key for a START_OBJECT in [{sorted(unknown)[0]}].")
        conflicts = req.params.get("conflicts", "abort")
        if conflicts not in ("abort", "proceed"):
            raise err.illegal_argument(
                f'conflicts may only be "proceed" or "abort" but was [{conflicts}]'
            )
        max_docs = req.number("max_docs", payload.get("max_docs"))
        scroll_size = req.number("scroll_size", 1000) or 1000
        indices = self._search_targets(req)
        matches = self._matches(indices, payload.get("query"))
        if max_docs is not None:
            matches = matches[:max_docs]
        deleted = conflicts_seen = 0
        failures: list[dict[str, Any]] = []
        for index, seen, _source in matches:
            live = index.docs.get(seen.id)
            if live is None or live.seq_no != seen.seq_no:
                conflicts_seen += 1
                if conflicts == "abort":
                    current = live.seq_no if live is not None else -1
                    cause = err.version_conflict(
                        index.name,
                        index.uuid,
                        seen.id,
                        f"required seqNo [{seen.seq_no}], primary term [1]. current document "
                        f"has seqNo [{current}] and primary term [1]",
                    )
                    failures.append(
                        {"index": index.name, "id": seen.id, "cause": cause.cause(), "status": 409}
                    )
                    break
                continue
            self.engine.delete(
                index,
                seen.id,
                routing=seen.routing,
                if_seq_no=seen.seq_no,
                if_primary_term=seen.primary_term,
            )
            deleted += 1
        if req.flag("refresh"):
            self.engine.refresh(indices)
        processed = deleted + conflicts_seen
        response = {
            "took": int((time.perf_counter() - started) * 1000),
            "timed_out": False,
            "total": len(matches),
            "deleted": deleted,
            "batches": max(1, math.ceil(processed / scroll_size)) if processed else 0,
            "version_conflicts": conflicts_seen,
            "noops": 0,
            "retries": {"bulk": 0, "search": 0},
            "throttled_millis": 0,
            "requests_per_second": -1.0,
            "throttled_until_millis": 0,
            "failures": failures,
        }
        if not req.flag("wait_for_completion", True):
            task_id = self.engine.next_task_id()
            self.engine.tasks[task_id] = {
                "completed": True,
                "task": {
                    "node": self.engine.node_id,
                    "id": int(task_id.split(":")[1]),
                    "type": "transport",
                    "action": "indices:data/write/delete/byquery",
                    "status": {
                        k: response[k]
                        for k in (
                            "total",
                            "deleted",
                            "batches",
                            "version_conflicts",
                            "noops",
                            "retries",
                            "throttled_millis",
                            "requests_per_second",
                            "throttled_until_millis",
                        )
                    },
                    "description": f"delete-by-query [{req.index}]",
                    "start_time_in_millis": self.engine.now_ms(),
                    "running_time_in_nanos": 0,
                    "cancellable": True,
                    "cancelled": False,
                    "headers": {},
                },
                "response": response,
            }
            return {"task": task_id}
        return (409 if failures else 200), response


# Capabilities this fake implements, answered by GET /_capabilities (the YAML runner's gate).
CAPABILITIES: dict[tuple[str, str], frozenset[str]] = {
    ("PUT", "/{index}"): frozenset(
        {"lookup_index_mode", "poorly_formatted_bad_request", "hunspell_dict_400"}
    ),
}


def _version_id(version: str) -> str:
    major, minor, patch = (int(p) for p in ([*version.split("-")[0].split("."), "0", "0"])[:3])
    return str(major * 1_000_000 + minor * 10_000 + patch * 100 + 99)


def _flatten_plain(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (obj or {}).items():
        if isinstance(value, dict):
            out.update(_flatten_plain(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _total(count: int, track: Any) -> dict[str, Any] | None:
    if track in (False, "false"):
        return None
    if track in (True, "true"):
        return {"value": count, "relation": "eq"}
    limit = DEFAULT_TRACK_TOTAL_HITS if track is None else _integer("track_total_hits", track)
    assert limit is not None
    if count > limit:
        return {"value": limit, "relation": "gte"}
    return {"value": count, "relation": "eq"}


def _q_param(q: str) -> dict[str, Any]:
    """``?q=field:value`` (the simplest Lucene query-string form)."""
    if ":" in q:
        field_name, _, value = q.partition(":")
        return {"match": {field_name: value}}
    return {"match_all": {}}


def _filter_path(obj: Any, spec: str) -> Any:
    """Elasticsearch's ``filter_path``: keep only the listed dotted paths (``*`` globs)."""
    patterns = [p.split(".") for p in spec.split(",") if p and not p.startswith("-")]

    def keep(node: Any, pats: list[list[str]]) -> Any:
        if not pats:
            return None
        if any(not p for p in pats):
            return node
        if isinstance(node, list):
            kept = [keep(item, pats) for item in node]
            return [k for k in kept if k is not None] or None
        if not isinstance(node, dict):
            return None
        out = {}
        for key, value in node.items():
            rest = [p[1:] for p in pats if p[0] == "**" or glob_pattern(p[0]).match(key)]
            rest += [p for p in pats if p[0] == "**"]
            child = keep(value, rest)
            if child is not None:
                out[key] = child
        return out or None

    return keep(obj, patterns) or {}
