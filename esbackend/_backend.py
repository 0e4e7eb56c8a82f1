"""The Celery result backend for Elasticsearch.

One result is one document: ``_id`` is the Celery key (``celery-task-meta-<id>``, ...), and the
source keeps the shape of Celery's built-in backend (``result`` and ``@timestamp``) so an index
can be shared during a migration. We add ``status`` (task results only), ``expires_at`` (set by
``expire()``), ``count`` (chord counters) and ``encoding`` (binary payloads).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import elastic_transport
import elasticsearch
from celery import states
from celery.backends.base import KeyValueStoreBackend
from celery.exceptions import ImproperlyConfigured
from celery.utils.time import get_exponential_backoff_interval

from esbackend._config import ParsedURL, mask_url, parse_url

try:  # optional: decodes responses about twice as fast as the stdlib (see _FastJsonSerializer)
    import orjson
except ImportError:  # pragma: no cover - exercised when orjson is absent
    orjson = None  # type: ignore[assignment]

__all__ = ["INDEX_MAPPING", "RETRYABLE_STATUSES", "ElasticsearchBackend"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: HTTP statuses after which repeating the same operation can succeed.
RETRYABLE_STATUSES = frozenset({401, 409, 429, 500, 502, 503, 504})

#: Optimistic-concurrency attempts before a write gives up with the last 409.
MAX_CONFLICT_ATTEMPTS = 100

#: The mapping of the results index, created on first write.
#:
#: ``result`` holds a JSON string (text mode) or an object (object mode). An object field
#: with ``enabled: false`` is kept in ``_source`` but never parsed, and "will also ignore
#: values that are not JSON objects" (mapping-reference/enabled), so strings, objects and
#: falsy scalars from different tasks never conflict (Celery #3960, #5660, #6306).
#: ``dynamic: false`` keeps any other field out of the mapping for the same reason.
INDEX_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "result": {"type": "object", "enabled": False},
        "@timestamp": {"type": "date"},
        "expires_at": {"type": "date"},
        "status": {"type": "keyword"},
        "count": {"type": "long"},
        "encoding": {"type": "keyword"},
    },
}

_AUTH_OPTIONS = frozenset({"basic_auth", "api_key", "bearer_auth", "http_auth"})
_HOST_OPTIONS = frozenset({"hosts", "cloud_id"})
_SERIALIZER_OPTIONS = frozenset({"serializer", "serializers"})


def _timestamp(moment: datetime) -> str:
    """Millisecond UTC ISO-8601, the precision of an Elasticsearch ``date``."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class _FastJsonSerializer(elasticsearch.serializer.JsonSerializer):
    """The client's JSON serializer, decoding responses with orjson when it is installed.

    Encoding is unchanged (the stdlib). orjson decodes every valid JSON the same way except
    integers beyond 64 bits (it makes them floats), so this is only used in text mode, where
    every user value travels inside a JSON string. What orjson rejects (``NaN``, a BOM, lone
    surrogates) is decoded by the stdlib, as before. Decoding dominates ``mget``: measured in
    ``bench/`` (``nox -s bench``), 1000 results are ~25% faster.
    """

    def json_loads(self, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().json_loads(data)


#: The client exposes the decoding hook from elastic-transport 8.13 on.
_FAST_JSON = orjson is not None and hasattr(elasticsearch.serializer.JsonSerializer, "json_loads")


def _text(key: str | bytes) -> str:
    return key.decode() if isinstance(key, bytes) else str(key)


def _describe(exc: BaseException) -> str:
    # Neither the client's exceptions nor ours carry credentials: they never go into
    # the host URLs handed to the client (see ``_client_kwargs``).
    return f"{type(exc).__name__}: {exc}"


class _Keys:
    """The ``client`` Celery < 5.5 expects of a key-value backend (it deletes chord keys)."""

    def __init__(self, backend: ElasticsearchBackend) -> None:
        self._backend = backend

    def delete(self, key: str | bytes) -> None:
        self._backend.delete(key)


class ElasticsearchBackend(KeyValueStoreBackend):  # type: ignore[misc]
    """Celery result backend storing each result as an Elasticsearch document.

    A drop-in replacement for ``celery.backends.elasticsearch.ElasticsearchBackend``
    with native chords (``incr``), one ``_mget`` per poll, conflict-safe state
    changes and expiry.
    """

    index: str = "celery"
    doc_type: str | None = None
    scheme: str = "http"
    host: str = "localhost"
    port: int = 9200
    username: str | None = None
    password: str | None = None
    es_retry_on_timeout: bool = False
    es_timeout: float = 10
    es_max_retries: int = 3
    es_save_meta_as_text: bool = True

    #: ``incr`` is atomic, so chords count their parts instead of polling (no chord_unlock).
    implements_incr = True
    #: ``mget`` is one request, so ``GroupResult.get()`` uses ``get_many``.
    supports_native_join = True
    #: Expiry needs ``cleanup()`` (``celery beat`` schedules ``backend_cleanup``).
    supports_autoexpire = False

    def __init__(self, url: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url = url
        parsed = parse_url(url) if url else ParsedURL()
        self.index = parsed.index or self.index
        self.doc_type = parsed.doc_type or self.doc_type
        self.scheme = parsed.scheme or self.scheme
        first_host, first_port = parsed.hosts[0] if parsed.hosts else (None, None)
        self.host = first_host or self.host
        self.port = first_port or self.port
        default_port = type(self).port
        self.hosts: list[tuple[str, int]] = [
            (host or self.host, port or default_port) for host, port in parsed.hosts
        ] or [(self.host, self.port)]
        self.username = parsed.username or self.username
        self.password = parsed.password if parsed.password is not None else self.password
        self._read_settings(self.app.conf)
        self._task_prefix = _text(self.task_keyprefix)
        self._server: elasticsearch.Elasticsearch | None = None
        self._server_pid: int | None = None
        self._lock = threading.RLock()  # held by server creation and index creation
        self._index_ready = threading.Event()

    def _read_settings(self, conf: Any) -> None:
        def setting(name: str, convert: Callable[[Any], T], current: T) -> T:
            value = conf.get(name)
            if value is None:
                return current
            try:
                return convert(value)
            except (TypeError, ValueError):
                raise ImproperlyConfigured(
                    f"esbackend: setting {name} has an invalid value {value!r}"
                ) from None

        self.es_retry_on_timeout = setting(
            "elasticsearch_retry_on_timeout", bool, self.es_retry_on_timeout
        )
        self.es_timeout = setting("elasticsearch_timeout", float, self.es_timeout)
        self.es_max_retries = setting("elasticsearch_max_retries", int, self.es_max_retries)
        self.es_save_meta_as_text = setting(
            "elasticsearch_save_meta_as_text", bool, self.es_save_meta_as_text
        )
        options = conf.get("elasticsearch_client_options") or {}
        if not isinstance(options, Mapping):
            raise ImproperlyConfigured(
                "esbackend: setting elasticsearch_client_options must be a dict, "
                f"not {type(options).__name__}"
            )
        self.client_options: dict[str, Any] = dict(options)
        if not self.es_save_meta_as_text and self.content_encoding == "binary":
            # Object mode stores the meta as JSON; a pickled/msgpack result has no JSON form.
            raise ImproperlyConfigured(
                "esbackend: elasticsearch_save_meta_as_text=False needs a text result "
                f"serializer such as json, not {self.serializer!r}"
            )

    # -- the client -------------------------------------------------------------------

    def _client_kwargs(self) -> dict[str, Any]:
        """Arguments for ``Elasticsearch(...)``: the modern names only (8.x and 9.x)."""
        options = self.client_options
        kwargs: dict[str, Any] = {
            "request_timeout": self.es_timeout,
            "retry_on_timeout": self.es_retry_on_timeout,
            "max_retries": self.es_max_retries,
        }
        if not options.keys() & _HOST_OPTIONS:
            # Credentials travel in basic_auth, never in these URLs, so they cannot leak
            # into the client's repr, its logs or connection error messages.
            kwargs["hosts"] = [f"{self.scheme}://{host}:{port}" for host, port in self.hosts]
        if self.username is not None and not options.keys() & _AUTH_OPTIONS:
            kwargs["basic_auth"] = (self.username, self.password or "")
        if _FAST_JSON and self.es_save_meta_as_text and not options.keys() & _SERIALIZER_OPTIONS:
            kwargs["serializer"] = _FastJsonSerializer()
        kwargs.update(options)
        return kwargs

    def _get_server(self) -> elasticsearch.Elasticsearch:
        """Create the Elasticsearch client."""
        return elasticsearch.Elasticsearch(**self._client_kwargs())

    @property
    def server(self) -> elasticsearch.Elasticsearch:
        """The Elasticsearch client, created on first use (and again after a fork)."""
        client = self._server
        if client is None or self._server_pid != os.getpid():
            with self._lock:
                if self._server is None or self._server_pid != os.getpid():
                    # A connection pool must not be shared with a forked child (prefork pool).
                    self._server = self._get_server()
                    self._server_pid = os.getpid()
                client = self._server
        return client

    @server.setter
    def server(self, client: elasticsearch.Elasticsearch) -> None:
        self._server = client
        self._server_pid = os.getpid()

    @property
    def client(self) -> _Keys:
        """Key operations by name: Celery 5.3/5.4's chord code calls ``client.delete(key)``."""
        return _Keys(self)

    def as_uri(self, include_password: bool = False) -> str:
        """The backend URL, with the password masked unless *include_password*."""
        if not self.url:
            return f"{self.scheme}://{self.host}:{self.port}/{self.index}"
        return str(self.url) if include_password else mask_url(self.url)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.as_uri()}>"

    def __reduce__(self, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = dict(kwargs or {})
        kwargs.setdefault("url", self.url)
        return super().__reduce__(args, kwargs)

    # -- retries ----------------------------------------------------------------------

    def exception_safe_to_retry(self, exc: BaseException) -> bool:
        """True if repeating the failed operation can succeed.

        Retried: HTTP 401 (a token being rotated), 409, 429, 500, 502, 503, 504,
        connection errors and timeouts. Not retried: other statuses (400, 403, 404),
        TLS errors (a certificate problem does not heal) and anything not from the client.
        """
        if isinstance(exc, elasticsearch.ApiError):
            return exc.meta.status in RETRYABLE_STATUSES
        if isinstance(exc, elastic_transport.TlsError):
            return False
        return isinstance(
            exc, (elastic_transport.ConnectionError, elastic_transport.ConnectionTimeout)
        )

    def _retrying(self, func: Callable[..., T], *args: Any) -> T:
        """Run *func* under ``result_backend_always_retry``, like Celery's own retry loop.

        Celery's base class retries store/get/forget/group operations only; this covers
        the ones it does not (``mget``, ``incr``, ``expire``, ``delete``, ``cleanup``).
        """
        retries = 0
        while True:
            try:
                return func(*args)
            except Exception as exc:
                if not (self.always_retry and self.exception_safe_to_retry(exc)):
                    raise
                if retries >= self.max_retries:
                    raise
                retries += 1
                logger.warning(
                    "esbackend: %s failed (%s), retry %d of %s",
                    getattr(func, "__name__", "operation").lstrip("_"),
                    _describe(exc),
                    retries,
                    self.max_retries,
                )
                sleep_ms = get_exponential_backoff_interval(
                    self.base_sleep_between_retries_ms,
                    retries,
                    self.max_sleep_between_retries_ms,
                    True,
                )
                self._sleep(sleep_ms / 1000)

    # -- time -------------------------------------------------------------------------

    def _now(self) -> datetime:
        """The current UTC time (tests replace it to move the clock)."""
        return datetime.now(timezone.utc)

    def _expired(self, source: Mapping[str, Any]) -> bool:
        """True if ``expire()`` gave this document a lifetime that has ended."""
        expires_at = _parse_timestamp(source.get("expires_at"))
        return expires_at is not None and expires_at <= self._now()

    # -- index ------------------------------------------------------------------------

    def _ensure_index(self) -> None:
        """Create the index with our mapping before the first write, once per process.

        Every write API (index, update, even delete) auto-creates a missing index with a
        dynamic mapping, which would map ``result`` from whatever comes first. Concurrent
        creators race safely: the loser gets ``resource_already_exists_exception``.
        """
        if self._index_ready.is_set():
            return
        with self._lock:
            if self._index_ready.is_set():
                return
            indices = self.server.indices
            try:
                if not indices.exists(index=self.index):
                    try:
                        indices.create(index=self.index, mappings=INDEX_MAPPING)
                    except elasticsearch.BadRequestError as exc:
                        if exc.message != "resource_already_exists_exception":
                            raise
            except elasticsearch.AuthorizationException as exc:
                # A user allowed to write documents but not to manage indices: the index
                # (or an alias) is provisioned by someone else.
                logger.info("esbackend: not creating index %r (%s)", self.index, _describe(exc))
            self._index_ready.set()

    # -- documents --------------------------------------------------------------------

    def _id(self, key: str | bytes) -> str:
        return _text(key)

    def _document(self, value: Any, state: str | None) -> dict[str, Any]:
        document: dict[str, Any] = {"result": value, "@timestamp": _timestamp(self._now())}
        if isinstance(value, (bytes, bytearray, memoryview)):
            # A binary serializer (pickle, msgpack): JSON has no bytes, so base64 them.
            document["result"] = base64.b64encode(bytes(value)).decode("ascii")
            document["encoding"] = "base64"
        if state is not None:
            document["status"] = state
        return document

    def _value(self, hit: Mapping[str, Any]) -> Any:
        """The stored value of a get/mget hit, or None when absent or expired."""
        if not hit.get("found"):
            return None
        source = hit.get("_source") or {}
        if self._expired(source):
            return None
        value = source.get("result")
        if source.get("encoding") == "base64" and isinstance(value, str):
            return base64.b64decode(value)
        return value

    def _stored_state(self, source: Mapping[str, Any]) -> str | None:
        state = source.get("status")
        if isinstance(state, str):
            return state
        # A document written by Celery's built-in backend has no ``status``: decode it.
        try:
            meta = self.decode(source.get("result"))
        except Exception:
            return None
        state = meta.get("status") if isinstance(meta, dict) else None
        return state if isinstance(state, str) else None

    @staticmethod
    def _may_replace(stored: str | None, state: str) -> bool:
        # A SUCCESS is final, and a late RETRY/STARTED never hides a ready state
        # (Celery #6115, #9629; KeyValueStoreBackend._store_result).
        if stored == states.SUCCESS:
            return False
        return not (stored in states.READY_STATES and state in states.UNREADY_STATES)

    # -- KeyValueStoreBackend ---------------------------------------------------------

    def get(self, key: str | bytes) -> Any:
        """The value stored under *key*, or None when absent."""
        try:
            hit = self.server.get(index=self.index, id=self._id(key)).body
        except elasticsearch.NotFoundError:  # no document, or no index yet
            return None
        return self._value(hit)

    def mget(self, keys: Sequence[str | bytes]) -> list[Any]:
        """The values of *keys* (None where absent), in one ``_mget`` request."""
        return self._retrying(self._mget, keys)

    def _mget(self, keys: Sequence[str | bytes]) -> list[Any]:
        ids = [self._id(key) for key in keys]
        if not ids:
            return []  # Elasticsearch rejects an empty _mget
        try:
            response = self.server.mget(index=self.index, ids=ids).body
        except elasticsearch.NotFoundError:
            return [None] * len(ids)
        # A missing index may also come back per document, as an ``error`` entry.
        return [self._value(hit) for hit in response["docs"]]

    def set(self, key: str | bytes, value: Any) -> None:
        """Store *value* under *key* (one ``index`` request)."""
        self._set_with_state(key, value, None)

    def _set_with_state(self, key: str | bytes, value: Any, state: str | None) -> None:
        doc_id = self._id(key)
        guarded = state is not None and doc_id.startswith(self._task_prefix)
        document = self._document(value, state if guarded else None)
        self._ensure_index()
        if not guarded:
            self.server.index(index=self.index, id=doc_id, document=document)
            return
        assert state is not None
        self._write_state(doc_id, document, state)

    def _write_state(self, doc_id: str, document: dict[str, Any], state: str) -> None:
        """Write a task state: create, or replace under optimistic concurrency control.

        A new result is one request (``op_type=create``). A state change is create (409),
        get, then index with ``if_seq_no``/``if_primary_term``; a concurrent writer makes
        that 409 and we read again, so the state check always sees the latest document
        (https://www.elastic.co/guide/en/elasticsearch/reference/current/optimistic-concurrency-control.html).
        """
        exists = False
        last_conflict: elasticsearch.ConflictError | None = None
        for attempt in range(MAX_CONFLICT_ATTEMPTS):
            if not exists:
                try:
                    self.server.index(
                        index=self.index, id=doc_id, document=document, op_type="create"
                    )
                    return
                except elasticsearch.ConflictError as exc:
                    last_conflict, exists = exc, True
            try:
                current = self.server.get(index=self.index, id=doc_id).body
            except elasticsearch.NotFoundError:
                exists = False  # forgotten in between: create again
                continue
            source = current.get("_source") or {}
            if not self._expired(source) and not self._may_replace(
                self._stored_state(source), state
            ):
                return
            try:
                self.server.index(
                    index=self.index,
                    id=doc_id,
                    document=document,
                    if_seq_no=current["_seq_no"],
                    if_primary_term=current["_primary_term"],
                )
                return
            except elasticsearch.ConflictError as exc:
                last_conflict = exc
                self._conflict_pause(attempt)
        assert last_conflict is not None
        raise last_conflict

    def _conflict_pause(self, attempt: int) -> None:
        # Under heavy contention a short random pause lets the writers spread out.
        if attempt >= 2:
            time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))

    def _store_result(
        self,
        task_id: str,
        result: Any,
        state: str,
        traceback: Any = None,
        request: Any = None,
        **kwargs: Any,
    ) -> Any:
        # Celery's version reads the stored meta first to skip overwriting a SUCCESS;
        # ``_write_state`` makes that check itself, atomically, so a new result costs one
        # request instead of two.
        meta = self._get_result_meta(
            result=result, state=state, traceback=traceback, request=request
        )
        meta["task_id"] = _text(task_id)
        self._set_with_state(self.get_key_for_task(task_id), self.encode(meta), state)
        return result

    def delete(self, key: str | bytes) -> None:
        """Delete *key*; deleting a missing key is not an error."""
        self._retrying(self._delete, key)

    def _delete(self, key: str | bytes) -> None:
        self._ensure_index()
        # Already forgotten, expired or never stored: forget() stays idempotent.
        with contextlib.suppress(elasticsearch.NotFoundError):
            self.server.delete(index=self.index, id=self._id(key))

    def forget(self, task_id: str) -> None:
        """Forget a task's result; retried under ``result_backend_always_retry``.

        Our own retry loop, not Celery's: Celery 5.3/5.4 do not retry ``forget`` at all.
        """
        self._cache.pop(task_id, None)
        self._retrying(self._forget, task_id)

    def delete_group(self, group_id: str) -> None:
        """Delete a group's result; retried under ``result_backend_always_retry``."""
        self._cache.pop(group_id, None)
        self._retrying(self._delete_group, group_id)

    def _forget(self, task_id: str) -> None:
        self._delete(self.get_key_for_task(task_id))

    def _delete_group(self, group_id: str) -> None:
        self._delete(self.get_key_for_group(group_id))

    def incr(self, key: str | bytes) -> int:
        """Atomically add one to the counter at *key* and return the new value."""
        return self._retrying(self._incr, key)

    def _incr(self, key: str | bytes) -> int:
        # Optimistic concurrency: read the counter, write count + 1 only if nobody wrote
        # since (if_seq_no/if_primary_term), else read again. Exact under any number of
        # concurrent incrementers, and needs no scripting on the server.
        doc_id = self._id(key)
        self._ensure_index()
        last_conflict: elasticsearch.ConflictError | None = None
        for attempt in range(MAX_CONFLICT_ATTEMPTS):
            try:
                current = self.server.get(index=self.index, id=doc_id).body
            except elasticsearch.NotFoundError:
                current = None
            try:
                if current is None:
                    value = 1
                    document = {"count": value, "@timestamp": _timestamp(self._now())}
                    self.server.index(
                        index=self.index, id=doc_id, document=document, op_type="create"
                    )
                    return value
                source = dict(current.get("_source") or {})
                if self._expired(source):
                    # Like an expired Redis key: start again, with no lifetime.
                    source = {}
                value = int(source.get("count") or 0) + 1
                source.update({"count": value, "@timestamp": _timestamp(self._now())})
                self.server.index(
                    index=self.index,
                    id=doc_id,
                    document=source,
                    if_seq_no=current["_seq_no"],
                    if_primary_term=current["_primary_term"],
                )
                return value
            except elasticsearch.ConflictError as exc:
                last_conflict = exc
                self._conflict_pause(attempt)
        assert last_conflict is not None
        raise last_conflict

    def expire(self, key: str | bytes, value: float | timedelta | None) -> None:
        """Give *key* a lifetime of *value* seconds from now (0/None: the default one).

        An expired document reads as absent at once and is deleted by ``cleanup()``.
        """
        self._retrying(self._expire, key, value)

    def _expire(self, key: str | bytes, value: float | timedelta | None) -> None:
        seconds = value.total_seconds() if isinstance(value, timedelta) else value
        # Celery < 5.5 has no result_chord_expires (no _chord_expires): the default applies.
        chord_expires = getattr(self, "_chord_expires", None)
        if seconds and seconds == self.expires and chord_expires is None:
            # Without result_chord_expires, Celery's chord code only ever asks for the
            # default lifetime (result_expires), and no document carries another one:
            # the default already applies, counted from the key's last write (@timestamp),
            # so skip three requests per chord part. A chord outliving result_expires
            # needs result_chord_expires (then every expire() is sent).
            return
        expires_at = _timestamp(self._now() + timedelta(seconds=seconds)) if seconds else None
        self._ensure_index()
        # Nothing stored under key: nothing to expire (Redis EXPIRE does the same).
        with contextlib.suppress(elasticsearch.NotFoundError):
            self.server.update(
                index=self.index,
                id=self._id(key),
                doc={"expires_at": expires_at},
                retry_on_conflict=5,
            )

    def cleanup(self) -> None:
        """Delete expired results (``celery beat`` runs this daily as ``backend_cleanup``)."""
        self._retrying(self._cleanup)

    def _cleanup(self) -> int:
        # Documents with ``expires_at`` expire then; the others ``result_expires`` after
        # their last write (``@timestamp``), which also covers documents written by
        # Celery's built-in backend.
        now = self._now()
        should: list[dict[str, Any]] = [{"range": {"expires_at": {"lt": _timestamp(now)}}}]
        if self.expires:
            cutoff = _timestamp(now - timedelta(seconds=self.expires))
            should.append(
                {
                    "bool": {
                        "must_not": [{"exists": {"field": "expires_at"}}],
                        "filter": [{"range": {"@timestamp": {"lt": cutoff}}}],
                    }
                }
            )
        query = {"bool": {"should": should, "minimum_should_match": 1}}
        try:
            # delete_by_query searches, and search sees only refreshed documents.
            self.server.indices.refresh(index=self.index)
            response = self.server.delete_by_query(
                index=self.index, query=query, conflicts="proceed"
            ).body
        except elasticsearch.NotFoundError:
            return 0  # no index: nothing stored yet
        deleted = int(response.get("deleted", 0))
        logger.debug("esbackend: cleanup deleted %d expired results", deleted)
        return deleted

    # -- encoding ---------------------------------------------------------------------

    def encode(self, data: Any) -> Any:
        """Serialize a result meta: a string (text mode) or an object (object mode).

        Object mode (``elasticsearch_save_meta_as_text=False``) stores the meta as a JSON
        object whose truthy ``result``/``traceback`` are serialized strings, the shape of
        Celery's built-in backend.
        """
        if self.es_save_meta_as_text or not isinstance(data, dict):
            return super().encode(data)
        data = dict(data)
        for field in ("result", "traceback"):
            if data.get(field):
                data[field] = self._encode(data[field])[2]
        return data

    def decode(self, payload: Any) -> Any:
        """Deserialize what ``encode`` produced, in either mode, whatever the setting."""
        if not isinstance(payload, dict):
            return super().decode(payload)
        payload = dict(payload)
        for field in ("result", "traceback"):
            if payload.get(field) and isinstance(payload[field], (str, bytes)):
                payload[field] = super().decode(payload[field])
        return payload
