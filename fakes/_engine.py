"""The state of a fake cluster: indices, documents, versions, sequence numbers and refreshes.

Plain Python, no HTTP or JSON-wire knowledge; every public method runs under one lock, so each
request is atomic, as a single-shard write is in Elasticsearch. Errors are raised as
:class:`~._errors.EsError`.

Document versions (https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-index_.html):
``_version`` counts writes to an id (a delete leaves a tombstone, so a re-index continues the
count); ``_seq_no`` counts operations per shard; ``_primary_term`` is always 1 (no failover).

The refresh boundary: realtime GETs see every write; search, count and delete-by-query see only
what the last refresh published. A refresh publishes writes up to a sequence number; versions a
search may still need are kept on a short chain per document until the next refresh.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid as _uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import _errors as err
from ._dates import resolve_index_name
from ._mapping import Mapping
from ._query import glob_pattern

DEFAULT_REFRESH_INTERVAL = 1.0
GC_DELETES = 60.0  # index.gc_deletes: how long a delete tombstone keeps its version
MAX_ID_BYTES = 512


def _new_uuid() -> str:
    return base64.urlsafe_b64encode(_uuid.uuid4().bytes).decode().rstrip("=")[:22]


def new_doc_id() -> str:
    """An auto-generated ``_id``: 20 URL-safe base64 characters, as Elasticsearch makes them."""
    return base64.urlsafe_b64encode(os.urandom(15)).decode()


def _murmur3(data: bytes) -> int:
    """MurmurHash3 x86 32-bit, seed 0, as a signed 32-bit int (Elasticsearch's routing hash)."""
    c1, c2, h = 0xCC9E2D51, 0x1B873593, 0
    length = len(data)
    body = length - length % 4
    for i in range(0, body, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
        h = ((h << 13) | (h >> 19)) & 0xFFFFFFFF
        h = (h * 5 + 0xE6546B64) & 0xFFFFFFFF
    k = 0
    tail = data[body:]
    for n in reversed(range(len(tail))):
        k ^= tail[n] << (8 * n)
    if tail:
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def parse_time_value(value: Any, setting: str) -> float | None:
    """Seconds for ``1s``/``500ms``/``2m``; None for ``-1`` (disabled)."""
    text = str(value).strip()
    if text == "-1":
        return None
    for suffix, scale in (
        ("nanos", 1e-9),
        ("micros", 1e-6),
        ("ms", 1e-3),
        ("s", 1.0),
        ("m", 60.0),
        ("h", 3600.0),
        ("d", 86400.0),
    ):
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(text[: -len(suffix)]) * scale
    if text == "0":
        return 0.0
    raise err.illegal_argument(
        f"failed to parse setting [{setting}] with value [{text}] as a time value: unit is "
        "missing or unrecognized"
    )


class Doc:
    """One version of a document; ``prev`` links versions a refresh may still need."""

    __slots__ = ("deleted", "id", "prev", "routing", "seq_no", "shard", "source", "version")

    def __init__(
        self,
        doc_id: str,
        source: bytes | None,
        version: int,
        seq_no: int,
        routing: str | None,
        shard: int,
        prev: Doc | None,
        deleted: bool = False,
    ) -> None:
        self.id = doc_id
        self.source = source
        self.version = version
        self.seq_no = seq_no
        self.routing = routing
        self.shard = shard
        self.prev = prev
        self.deleted = deleted

    primary_term = 1


class Index:
    """One index: settings, mapping, aliases, documents and its refreshed view.

    Sequence numbers and refreshes are per shard, as in Elasticsearch: ``refresh=true`` on a
    write publishes only the shard that took it.
    """

    def __init__(
        self, name: str, settings: dict[str, str], mapping: Mapping, created_ms: int, now: float
    ) -> None:
        self.name = name
        self.name_json = json.dumps(name, ensure_ascii=False).encode()  # rendered in every hit
        self.uuid = _new_uuid()
        self.settings = settings
        self.mapping = mapping
        self.aliases: dict[str, dict[str, Any]] = {}
        self.docs: dict[str, Doc] = {}
        self.live_count = 0
        self.last_refresh = now
        self.created_ms = created_ms
        self.closed = False
        self.tombstones: dict[str, float] = {}  # doc id -> time of its delete
        self.stats = {"index_total": 0, "delete_total": 0, "noop_update_total": 0}
        self._apply_settings()
        self.seq_nos = [-1] * self.shards
        self.checkpoints = [-1] * self.shards  # per shard: the highest seq_no search sees
        # (time, shard, seq_no) of writes not yet published, for scheduled refreshes.
        self.marks: list[tuple[float, int, int]] = []

    def _apply_settings(self) -> None:
        self.shards = int(self.settings.get("index.number_of_shards", "1"))
        self.replicas = int(self.settings.get("index.number_of_replicas", "1"))
        auto = self.settings.get("index.auto_expand_replicas", "false")
        if auto not in ("false", ""):
            # One node: auto-expanding replicas settle at the range's lower bound.
            self.replicas = int(auto.split("-")[0])
        routing_shards = self.settings.get("index.number_of_routing_shards")
        if routing_shards is not None:
            self.routing_shards = int(routing_shards)
        else:
            # Elasticsearch's default: the shard count doubled as often as fits in 1024.
            self.routing_shards = self.shards
            while self.routing_shards * 2 <= 1024 and self.shards <= 512:
                self.routing_shards *= 2
        interval = self.settings.get("index.refresh_interval")
        self.refresh_interval = (
            DEFAULT_REFRESH_INTERVAL
            if interval is None
            else parse_time_value(interval, "index.refresh_interval")
        )
        self.hidden = self.settings.get("index.hidden") == "true"

    def update_settings(self, changes: dict[str, str | None]) -> None:
        for key, value in changes.items():
            if value is None:
                self.settings.pop(key, None)
            else:
                self.settings[key] = value
        self._apply_settings()

    # -- routing --------------------------------------------------------------------------

    def shard_of(self, doc_id: str, routing: str | None) -> int:
        """The shard a document lives on: murmur3 over the routing key's UTF-16 code units."""
        if self.shards == 1:
            return 0
        key = routing if routing is not None else doc_id
        digest = _murmur3(key.encode("utf-16-le"))
        return (digest % self.routing_shards) // (self.routing_shards // self.shards)

    def find(self, doc_id: str, routing: str | None) -> Doc | None:
        """The live version (tombstones included) reachable with this routing."""
        doc = self.docs.get(doc_id)
        if doc is None or self.shards == 1:
            return doc
        if self.shard_of(doc_id, routing) != doc.shard:
            return None
        return doc

    # -- the refresh boundary -------------------------------------------------------------

    def visible(self, doc: Doc | None) -> Doc | None:
        """The version of ``doc`` a search sees, or None."""
        if doc is None:
            return None
        checkpoint = self.checkpoints[doc.shard]
        node: Doc | None = doc
        while node is not None and node.seq_no > checkpoint:
            node = node.prev
        if node is None or node.deleted:
            return None
        return node

    def searchable(self) -> Iterator[Doc]:
        for doc in self.docs.values():
            seen = self.visible(doc)
            if seen is not None:
                yield seen

    @property
    def fully_refreshed(self) -> bool:
        return self.checkpoints == self.seq_nos

    def refresh(self, now: float, shards: Iterable[int] | None = None) -> None:
        """Publish every write on ``shards`` (default: all) to search."""
        for shard in range(self.shards) if shards is None else shards:
            self.checkpoints[shard] = self.seq_nos[shard]
        self._published(now)

    def _published(self, now: float) -> None:
        self.marks = [m for m in self.marks if m[2] > self.checkpoints[m[1]]]
        expired = [i for i, t in self.tombstones.items() if now - t > GC_DELETES]
        for doc_id in expired:
            doc = self.docs.get(doc_id)
            if doc is not None and doc.deleted and doc.seq_no <= self.checkpoints[doc.shard]:
                del self.docs[doc_id]
            del self.tombstones[doc_id]

    def scheduled_refresh(self, now: float) -> None:
        """Publish what periodic refreshes would have published by ``now``."""
        interval = self.refresh_interval
        if interval is None or not self.marks:
            return
        if interval <= 0:
            self.refresh(now)
            return
        elapsed = now - self.last_refresh
        if elapsed < interval:
            return
        boundary = self.last_refresh + (elapsed // interval) * interval
        for stamp, shard, seq_no in self.marks:
            if stamp > boundary:
                break
            self.checkpoints[shard] = max(self.checkpoints[shard], seq_no)
        self.last_refresh = boundary
        self._published(now)

    # -- writes ---------------------------------------------------------------------------

    def put(
        self,
        doc_id: str,
        source: bytes | None,
        version: int,
        routing: str | None,
        now: float,
        *,
        deleted: bool = False,
    ) -> Doc:
        if self.marks:
            # Publish what the schedule has published by now, so the chain below stays short.
            self.scheduled_refresh(now)
        old = self.docs.get(doc_id)
        shard = self.shard_of(doc_id, routing) if self.shards > 1 else 0
        self.seq_nos[shard] += 1
        seq_no = self.seq_nos[shard]
        # Keep the versions a future search could still see: the newest published one and,
        # on a refresh schedule, those written since its last refresh (a later scheduled
        # refresh may publish any of them). An explicit refresh publishes everything, so
        # with refresh_interval -1 the unpublished versions in between are never needed.
        published = old
        checkpoint = self.checkpoints[shard]
        while published is not None and published.seq_no > checkpoint:
            published = published.prev
        if published is not None:
            published.prev = None
        keep = old if self.refresh_interval is not None else published
        doc = Doc(doc_id, source, version, seq_no, routing, shard, keep, deleted)
        self.docs[doc_id] = doc
        if old is None or old.deleted:
            self.live_count += 0 if deleted else 1
        elif deleted:
            self.live_count -= 1
        if deleted:
            self.tombstones[doc_id] = now
        else:
            self.tombstones.pop(doc_id, None)
        if self.refresh_interval is not None:
            self.marks.append((now, shard, seq_no))
        return doc


class Engine:
    """Every index of one fake cluster, plus cluster-level settings and finished tasks."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.wall_clock = wall_clock
        self.node_id = _new_uuid()
        self.cluster_uuid = _new_uuid()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.indices: dict[str, Index] = {}
            self.cluster_settings: dict[str, dict[str, Any]] = {"persistent": {}, "transient": {}}
            self.tasks: dict[str, dict[str, Any]] = {}
            self.task_counter = 0

    def now_ms(self) -> int:
        return int(self.wall_clock() * 1000)

    def cluster_setting(self, key: str, default: str) -> str:
        for scope in ("transient", "persistent"):
            if key in self.cluster_settings[scope]:
                return str(self.cluster_settings[scope][key])
        return default

    # -- names ----------------------------------------------------------------------------

    def validate_index_name(self, name: str) -> None:
        """Elasticsearch's rules for index names (``MetadataCreateIndexService``)."""
        if not name:
            raise err.invalid_index_name(name, "must not be empty")
        if name != name.lower():
            raise err.invalid_index_name(name, "must be lowercase")
        bad = [c for c in err.INVALID_NAME_CHARS if c in name]
        if bad:
            listed = ", ".join(err.INVALID_NAME_CHARS)
            raise err.invalid_index_name(
                name, f"must not contain the following characters [{listed}]"
            )
        if "#" in name:
            raise err.invalid_index_name(name, "must not contain '#'")
        if ":" in name:
            raise err.invalid_index_name(name, "must not contain ':'")
        if name[0] in "_-+":
            raise err.invalid_index_name(name, "must not start with '_', '-', or '+'")
        if name in (".", ".."):
            raise err.invalid_index_name(name, "must not be '.' or '..'")
        size = len(name.encode())
        if size > 255:
            raise err.invalid_index_name(name, f"index name is too long, ({size} > 255)")

    def aliases(self) -> dict[str, list[Index]]:
        out: dict[str, list[Index]] = {}
        for index in self.indices.values():
            for alias in index.aliases:
                out.setdefault(alias, []).append(index)
        return out

    def index_for_read(self, name: str) -> Index:
        """The one index a single-document read names (an index or a one-index alias)."""
        name = resolve_index_name(name, self.now_ms)
        index = self.indices.get(name)
        if index is not None:
            return self._open(index)
        targets = self.aliases().get(name)
        if not targets:
            raise err.index_not_found(name)
        if len(targets) > 1:
            raise err.alias_many_indices(name, (i.name for i in targets))
        return self._open(targets[0])

    def _open(self, index: Index) -> Index:
        if index.closed:
            raise err.index_closed(index.name, index.uuid)
        return index

    def index_for_write(
        self, name: str, *, require_alias: bool = False, auto_create: bool = True
    ) -> tuple[Index, str | None]:
        """The index a write goes to (creating it if allowed) and the alias's index routing."""
        name = resolve_index_name(name, self.now_ms)
        index = self.indices.get(name)
        if index is not None and not require_alias:
            self._check_writable(index)
            return self._open(index), None
        targets = self.aliases().get(name)
        if targets:
            if len(targets) == 1 and targets[0].aliases[name].get("is_write_index") is not False:
                target = targets[0]
            else:
                writers = [i for i in targets if i.aliases[name].get("is_write_index") is True]
                if len(writers) != 1:
                    raise err.no_write_index(name)
                target = writers[0]
            self._check_writable(target)
            return self._open(target), target.aliases[name].get("index_routing")
        if require_alias:
            raise err.require_alias(name)
        if not auto_create or self.cluster_setting("action.auto_create_index", "true") == "false":
            raise err.index_not_found(name)
        return self.create_index(name, {}), None

    def _check_writable(self, index: Index) -> None:
        for block in ("read_only", "read_only_allow_delete", "write"):
            if index.settings.get(f"index.blocks.{block}") == "true":
                what = {"read_only": "index read-only (api)", "write": "index write (api)"}.get(
                    block, "index read-only / allow delete (api)"
                )
                raise err.index_read_only(index.name, f"8/{what}")

    def resolve(
        self,
        expression: str | list[str] | None,
        *,
        ignore_unavailable: bool = False,
        allow_no_indices: bool = True,
        expand_wildcards: str = "open",
        allow_aliases: bool = True,
    ) -> list[Index]:
        """Indices named by a multi-target expression (``a,b*,-b2``, ``_all``, aliases)."""
        if isinstance(expression, list):
            parts = [p for item in expression for p in str(item).split(",") if p]
        else:
            parts = [p for p in (expression or "").split(",") if p]
        if not parts or parts == ["_all"]:
            parts = ["*"]
        states = set(expand_wildcards.split(","))
        if "all" in states:
            states = {"open", "closed", "hidden"}
        aliases = self.aliases()
        found: dict[str, Index] = {}
        for part in parts:
            exclude = part.startswith("-") and bool(found)
            pattern = part[1:] if exclude else part
            pattern = resolve_index_name(pattern, self.now_ms)
            if "*" in pattern:
                regex = glob_pattern(pattern)
                matched = [
                    i
                    for i in self.indices.values()
                    if regex.match(i.name) and self._expandable(i, states, pattern)
                ]
                if allow_aliases:
                    for alias, targets in aliases.items():
                        if regex.match(alias):
                            matched += [i for i in targets if self._expandable(i, states, "")]
                if not matched and not allow_no_indices:
                    raise err.index_not_found(pattern)
            elif pattern in self.indices:
                matched = [self.indices[pattern]]
            elif pattern in aliases:
                if not allow_aliases:
                    if ignore_unavailable:
                        continue
                    raise err.illegal_argument(
                        f"The provided expression [{pattern}] matches an alias, specify the "
                        "corresponding concrete indices instead."
                    )
                matched = aliases[pattern]
            else:
                if ignore_unavailable:
                    continue
                raise err.index_not_found(pattern)
            for index in matched:
                if exclude:
                    found.pop(index.name, None)
                else:
                    found[index.name] = index
        if not found and not allow_no_indices:
            raise err.index_not_found(",".join(parts))
        return list(found.values())

    @staticmethod
    def _expandable(index: Index, states: set[str], pattern: str) -> bool:
        if "none" in states:
            return False
        if index.closed and "closed" not in states:
            return False
        if not index.closed and "open" not in states:
            return False
        hidden = index.hidden or index.name.startswith(".")
        return not hidden or "hidden" in states or pattern.startswith(".")

    # -- indices --------------------------------------------------------------------------

    def create_index(self, name: str, body: dict[str, Any]) -> Index:
        name = resolve_index_name(name, self.now_ms)
        self.validate_index_name(name)
        if name in self.indices:
            raise err.index_already_exists(name, self.indices[name].uuid)
        if name in self.aliases():
            raise err.invalid_index_name(name, "already exists as alias")
        settings = {
            k: v for k, v in flatten_settings(body.get("settings") or {}).items() if v is not None
        }
        self._validate_new_settings(settings)
        mapping = Mapping(body.get("mappings") or {})
        limit = settings.get("index.mapping.nested_objects.limit")
        if limit is not None:
            mapping.nested_limit = int(limit)
        settings.setdefault("index.number_of_shards", "1")
        settings.setdefault("index.number_of_replicas", "1")
        settings.setdefault("index.provided_name", name)
        index = Index(name, settings, mapping, self.now_ms(), self.clock())
        settings["index.uuid"] = index.uuid
        settings["index.creation_date"] = str(index.created_ms)
        aliases = body.get("aliases") or {}
        if not isinstance(aliases, dict):
            raise err.parse_error("Failed to parse content to map")
        for alias, spec in aliases.items():
            self._add_alias(index, alias, spec)
        self.indices[name] = index
        return index

    def _validate_new_settings(self, settings: dict[str, str]) -> None:
        if settings.get("index.soft_deletes.enabled") == "false":
            raise err.illegal_argument(
                "Creating indices with soft-deletes disabled is no longer supported. Please do "
                "not specify a value for setting [index.soft_deletes.enabled]."
            )
        for key in ("index.number_of_shards", "index.number_of_replicas"):
            value = settings.get(key)
            if value is not None and not value.lstrip("-").isdigit():
                raise err.illegal_argument(f"Failed to parse value [{value}] for setting [{key}]")
        if settings.get("index.mode") == "lookup":
            if settings.get("index.number_of_shards", "1") != "1":
                raise err.illegal_argument(
                    "index with [lookup] mode must have [index.number_of_shards] set to 1 or "
                    f"unset; provided {settings['index.number_of_shards']}"
                )
            settings["index.number_of_shards"] = "1"
        _validate_analysis(nest_settings(settings).get("index", {}).get("analysis", {}))
        interval = settings.get("index.refresh_interval")
        if interval is not None:
            parse_time_value(interval, "index.refresh_interval")

    def _add_alias(self, index: Index, alias: str, spec: Any) -> None:
        alias = resolve_index_name(alias, self.now_ms)
        if not isinstance(spec, dict):
            raise err.parse_error(f"Failed to parse alias [{alias}]")
        clean: dict[str, Any] = {}
        for key, value in spec.items():
            if key in ("is_write_index", "is_hidden") and not isinstance(value, bool):
                raise err.illegal_argument(
                    f"Unsupported String type value [{value}] for field [{key}] in alias [{alias}]"
                )
            if key in ("routing", "index_routing", "search_routing") and not isinstance(value, str):
                kind = "boolean" if isinstance(value, bool) else type(value).__name__
                raise err.illegal_argument(
                    f"Unsupported {kind} type value [{str(value).lower()}] for field [{key}] in "
                    f"alias [{alias}]"
                )
            clean[key] = value
        if "routing" in clean:
            routing = clean.pop("routing")
            clean.setdefault("index_routing", routing)
            clean.setdefault("search_routing", routing)
        if alias in self.indices:
            raise err.invalid_alias_name(
                alias, "an index or data stream exists with the same name as the alias"
            )
        index.aliases[alias] = clean

    def put_alias(self, indices: list[Index], alias: str, spec: dict[str, Any]) -> None:
        for index in indices:
            self._add_alias(index, alias, spec)

    def delete_indices(self, indices: list[Index]) -> None:
        for index in indices:
            self.indices.pop(index.name, None)

    # -- documents ------------------------------------------------------------------------

    def write(
        self,
        index: Index,
        doc_id: str | None,
        source: bytes,
        parsed: dict[str, Any],
        *,
        op_type: str = "index",
        version: int | None = None,
        version_type: str = "internal",
        if_seq_no: int | None = None,
        if_primary_term: int | None = None,
        routing: str | None = None,
    ) -> tuple[Doc, str]:
        """Index a document; returns the new version and ``created`` or ``updated``."""
        auto_id = doc_id is None
        doc_id = new_doc_id() if doc_id is None else doc_id
        check_id(doc_id)
        if routing is None and index.mapping.routing_required:
            raise err.EsError(
                400,
                "routing_missing_exception",
                f"routing is required for [{index.name}]/[{doc_id}]",
                index_uuid=index.uuid,
                index=index.name,
            )
        index.mapping.apply(parsed, doc_id)
        current = None if auto_id else index.find(doc_id, routing)
        alive = current is not None and not current.deleted
        if op_type == "create" and alive:
            assert current is not None
            raise err.version_conflict(
                index.name,
                index.uuid,
                doc_id,
                f"document already exists (current version [{current.version}])",
            )
        new_version = check_version(
            index, doc_id, current, version, version_type, if_seq_no, if_primary_term
        )
        doc = index.put(doc_id, source, new_version, routing, self.clock())
        index.stats["index_total"] += 1
        return doc, "updated" if alive else "created"

    def delete(
        self,
        index: Index,
        doc_id: str,
        *,
        version: int | None = None,
        version_type: str = "internal",
        if_seq_no: int | None = None,
        if_primary_term: int | None = None,
        routing: str | None = None,
    ) -> tuple[Doc, bool]:
        """Delete a document; returns the tombstone and whether a live document was found."""
        current = index.find(doc_id, routing)
        alive = current is not None and not current.deleted
        new_version = check_version(
            index, doc_id, current, version, version_type, if_seq_no, if_primary_term
        )
        if current is None and doc_id in index.docs:
            # The id lives on another shard: this routing's shard has nothing to delete.
            return Doc(
                doc_id, None, 1, -1, routing, index.shard_of(doc_id, routing), None, True
            ), False
        if not alive and version_type == "internal":
            # Deleting a missing document still records a tombstone (and a sequence number).
            new_version = current.version + 1 if current is not None else 1
        doc = index.put(doc_id, None, new_version, routing, self.clock(), deleted=True)
        if alive:
            index.stats["delete_total"] += 1
        return doc, alive

    def read(
        self, index: Index, doc_id: str, *, routing: str | None = None, realtime: bool = True
    ) -> Doc | None:
        """The document as a GET sees it: live, or (``realtime=false``) as last refreshed."""
        doc = index.find(doc_id, routing)
        if not realtime:
            index.scheduled_refresh(self.clock())
            return index.visible(doc)
        if doc is None or doc.deleted:
            return None
        return doc

    def refresh(self, indices: list[Index]) -> None:
        now = self.clock()
        for index in indices:
            index.refresh(now)

    def next_task_id(self) -> str:
        self.task_counter += 1
        return f"{self.node_id}:{self.task_counter}"


ANALYZER_TYPES = frozenset(
    {
        "custom",
        "standard",
        "simple",
        "whitespace",
        "stop",
        "keyword",
        "pattern",
        "fingerprint",
        "snowball",
        "english",
        "french",
        "german",
        "spanish",
        "italian",
        "dutch",
        "portuguese",
        "russian",
        "arabic",
        "cjk",
        "chinese",
    }
)
BUILTIN_FILTERS = frozenset(
    {
        "lowercase",
        "uppercase",
        "asciifolding",
        "stop",
        "stemmer",
        "porter_stem",
        "kstem",
        "trim",
        "unique",
        "reverse",
        "length",
        "truncate",
        "word_delimiter",
        "word_delimiter_graph",
        "shingle",
        "ngram",
        "edge_ngram",
        "synonym",
        "synonym_graph",
        "elision",
        "cjk_width",
        "cjk_bigram",
        "decimal_digit",
        "classic",
        "apostrophe",
        "remove_duplicates",
        "snowball",
        "keyword_marker",
        "flatten_graph",
    }
)


def _validate_analysis(analysis: Any) -> None:
    """Refuse analysis settings a real node could not build (missing filters, hunspell)."""
    if not isinstance(analysis, dict):
        return
    raw_filters = analysis.get("filter")
    filters: dict[str, Any] = raw_filters if isinstance(raw_filters, dict) else {}
    for spec in filters.values():
        if isinstance(spec, dict) and spec.get("type") == "hunspell":
            raise err.illegal_argument(
                f"failed to load hunspell dictionary for locale: {spec.get('locale')}"
            )
    raw_analyzers = analysis.get("analyzer")
    analyzers: dict[str, Any] = raw_analyzers if isinstance(raw_analyzers, dict) else {}
    for name, spec in analyzers.items():
        if not isinstance(spec, dict):
            raise err.illegal_argument(
                f"analyzer [{name}] must specify either an analyzer type, or a tokenizer"
            )
        kind = spec.get("type", "custom" if "tokenizer" in spec else None)
        if kind not in ANALYZER_TYPES:
            raise err.illegal_argument(f"Unknown analyzer type [{kind}] for [{name}]")
        wanted = spec.get("filter", [])
        for used in [wanted] if isinstance(wanted, str) else wanted:
            if used not in filters and used not in BUILTIN_FILTERS:
                raise err.illegal_argument(
                    f"Custom Analyzer [{name}] failed to find filter under name [{used}]"
                )


def check_id(doc_id: str) -> None:
    if not doc_id:
        raise err.illegal_argument("if _id is specified it must not be empty")
    size = len(doc_id.encode())
    if size > MAX_ID_BYTES:
        raise err.action_validation(
            f"id [{doc_id}] is too long, must be no longer than 512 bytes but was: {size}"
        )


def check_version(
    index: Index,
    doc_id: str,
    current: Doc | None,
    version: int | None,
    version_type: str,
    if_seq_no: int | None,
    if_primary_term: int | None,
) -> int:
    """Apply optimistic concurrency control; returns the version the write gets."""
    if if_seq_no is not None or if_primary_term is not None:
        if current is None or current.deleted:
            raise err.version_conflict(
                index.name,
                index.uuid,
                doc_id,
                f"required seqNo [{if_seq_no}], primary term [{if_primary_term}]. but no "
                "document was found",
            )
        if current.seq_no != if_seq_no or current.primary_term != if_primary_term:
            raise err.version_conflict(
                index.name,
                index.uuid,
                doc_id,
                f"required seqNo [{if_seq_no}], primary term [{if_primary_term}]. current "
                f"document has seqNo [{current.seq_no}] and primary term "
                f"[{current.primary_term}]",
            )
    if version_type in ("external", "external_gte"):
        assert version is not None
        if current is not None:
            if version_type == "external" and version <= current.version:
                raise err.version_conflict(
                    index.name,
                    index.uuid,
                    doc_id,
                    f"current version [{current.version}] is higher or equal to the one "
                    f"provided [{version}]",
                )
            if version_type == "external_gte" and version < current.version:
                raise err.version_conflict(
                    index.name,
                    index.uuid,
                    doc_id,
                    f"current version [{current.version}] is higher than the one provided "
                    f"[{version}]",
                )
        return version
    if current is None:
        return 1
    return current.version + 1


def flatten_settings(settings: Any, prefix: str = "") -> dict[str, str | None]:
    """``{"index": {"number_of_replicas": 0}}`` as ``{"index.number_of_replicas": "0"}``.

    Values become strings, as Elasticsearch stores them; ``None`` (reset to default) stays.
    """
    if not isinstance(settings, dict):
        raise err.illegal_argument(
            "Malformed [settings] section for [index], should include an inner object"
        )
    out: dict[str, str | None] = {}
    for key, value in settings.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_settings(value, full + "."))
        elif isinstance(value, bool):
            out[full] = "true" if value else "false"
        elif isinstance(value, list):
            out[full] = ",".join(str(v) for v in value)
        else:
            out[full] = None if value is None else str(value)
    if not prefix:
        out = {(k if k.startswith("index.") else "index." + k): v for k, v in out.items()}
    return out


def nest_settings(flat: dict[str, str]) -> dict[str, Any]:
    """Flat ``a.b.c`` settings as nested objects, as Elasticsearch renders them."""
    out: dict[str, Any] = {}
    for key, value in sorted(flat.items()):
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                child = node[part] = {"": child}
            node = child
        node[leaf] = value
    return out
