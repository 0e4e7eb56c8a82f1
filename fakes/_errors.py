"""Elasticsearch's error shapes and texts: every error the fake answers is built here.

The reason strings follow the Elasticsearch server's own messages (8.x/9.x), so code that
matches on them behaves as it would against a real cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

INVALID_NAME_CHARS = ("\\", "/", "*", "?", '"', "<", ">", "|", " ", ",")


class EsError(Exception):
    """The fake's one internal error: an HTTP status plus Elasticsearch's ``type`` and ``reason``.

    ``extra`` holds the fields Elasticsearch adds next to them (``index``, ``shard``, ...);
    ``caused_by`` nests another error the way Elasticsearch renders its cause chain.
    """

    def __init__(
        self,
        status: int,
        type: str,
        reason: str,
        *,
        caused_by: EsError | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(f"{type}: {reason}")
        self.status = status
        self.type = type
        self.reason = reason
        self.caused_by = caused_by
        self.headers = dict(headers or {})
        self.extra: dict[str, Any] = {**(extra or {}), **fields}

    def cause(self) -> dict[str, Any]:
        """This error as one entry of ``root_cause`` / ``caused_by``."""
        out: dict[str, Any] = {"type": self.type, "reason": self.reason, **self.extra}
        if self.caused_by is not None:
            out["caused_by"] = self.caused_by.cause()
        return out

    def body(self) -> dict[str, Any]:
        """The full response body: ``{"error": {...}, "status": N}``."""
        root = self
        # A search failure reports the shard failure beneath it as the root cause.
        while root.caused_by is not None and root.type == "search_phase_execution_exception":
            root = root.caused_by
        head = {"type": root.type, "reason": root.reason, **root.extra}
        return {"error": {"root_cause": [head], **self.cause()}, "status": self.status}


def _index_extra(index: str, uuid: str = "_na_") -> dict[str, str]:
    return {"index_uuid": uuid, "index": index}


# -- indices -------------------------------------------------------------------------------


def index_not_found(index: str, reason: str | None = None) -> EsError:
    return EsError(
        404,
        "index_not_found_exception",
        reason or f"no such index [{index}]",
        extra={"resource.type": "index_or_alias", "resource.id": index, **_index_extra(index)},
    )


def index_already_exists(index: str, uuid: str) -> EsError:
    return EsError(
        400,
        "resource_already_exists_exception",
        f"index [{index}/{uuid}] already exists",
        extra=_index_extra(index, uuid),
    )


def invalid_index_name(index: str, why: str) -> EsError:
    return EsError(
        400,
        "invalid_index_name_exception",
        f"Invalid index name [{index}], {why}",
        extra=_index_extra(index),
    )


def invalid_alias_name(alias: str, why: str) -> EsError:
    return EsError(400, "invalid_alias_name_exception", f"Invalid alias name [{alias}], {why}")


def alias_many_indices(alias: str, indices: Iterable[str]) -> EsError:
    names = ", ".join(sorted(indices))
    return illegal_argument(
        f"alias [{alias}] has more than one index associated with it [{names}], "
        "can't execute a single index op"
    )


def no_write_index(alias: str) -> EsError:
    return illegal_argument(
        f"no write index is defined for alias [{alias}]. The write index may be explicitly "
        "disabled using is_write_index=false or the alias points to multiple indices without "
        "one being designated as a write index"
    )


def alias_not_found(names: str) -> EsError:
    return EsError(
        404,
        "aliases_not_found_exception",
        f"aliases [{names}] missing",
        extra={"resource.type": "aliases", "resource.id": names},
    )


def index_closed(index: str, uuid: str) -> EsError:
    return EsError(400, "index_closed_exception", "closed", extra=_index_extra(index, uuid))


def index_read_only(index: str, block: str) -> EsError:
    return EsError(
        403,
        "cluster_block_exception",
        f"index [{index}] blocked by: [FORBIDDEN/{block}];",
    )


def require_alias(index: str) -> EsError:
    return index_not_found(
        index,
        f"no such index [{index}] and [require_alias] request flag is [true] and "
        f"[{index}] is not an alias",
    )


# -- documents -----------------------------------------------------------------------------


def _shard_error(status: int, type: str, reason: str, index: str, uuid: str) -> EsError:
    """An error raised on a shard, which names the index and shard it happened on."""
    return EsError(status, type, reason, index_uuid=uuid, shard="0", index=index)


def version_conflict(index: str, uuid: str, doc_id: str, detail: str) -> EsError:
    return _shard_error(
        409,
        "version_conflict_engine_exception",
        f"[{doc_id}]: version conflict, {detail}",
        index,
        uuid,
    )


def document_missing(index: str, uuid: str, doc_id: str) -> EsError:
    return _shard_error(
        404, "document_missing_exception", f"[{doc_id}]: document missing", index, uuid
    )


def document_source_missing(index: str, uuid: str, doc_id: str) -> EsError:
    return EsError(
        404,
        "resource_not_found_exception",
        f"Source not found [{index}][{doc_id}]",
    )


def document_parsing(reason: str, caused_by: EsError | None = None) -> EsError:
    return EsError(400, "document_parsing_exception", reason, caused_by=caused_by)


def strict_dynamic(field: str, parent: str) -> EsError:
    return EsError(
        400,
        "strict_dynamic_mapping_exception",
        f"[1:2] mapping set to strict, dynamic introduction of [{field}] within [{parent}] "
        "is not allowed",
    )


def mapper_parsing(reason: str, caused_by: EsError | None = None) -> EsError:
    return EsError(400, "mapper_parsing_exception", reason, caused_by=caused_by)


def nested_limit(limit: int) -> EsError:
    return document_parsing(
        f"The number of nested documents has exceeded the allowed limit of [{limit}]. This "
        "limit can be set by changing the [index.mapping.nested_objects.limit] index level "
        "setting."
    )


# -- requests ------------------------------------------------------------------------------


def illegal_argument(reason: str) -> EsError:
    return EsError(400, "illegal_argument_exception", reason)


def action_validation(*problems: str) -> EsError:
    listed = "".join(f"{n}: {p};" for n, p in enumerate(problems, 1))
    return EsError(400, "action_request_validation_exception", f"Validation Failed: {listed}")


def parse_error(reason: str) -> EsError:
    return EsError(400, "parsing_exception", reason, line=1, col=1)


def x_content_parse(reason: str, caused_by: EsError | None = None) -> EsError:
    return EsError(400, "x_content_parse_exception", reason, caused_by=caused_by)


def not_json(detail: str, *, document: bool = False) -> EsError:
    """A malformed JSON body, as Elasticsearch reports it: a 400 caused by the JSON parser."""
    cause = EsError(400, "json_parse_exception", detail)
    if document:
        return document_parsing("[1:1] failed to parse", caused_by=cause)
    return x_content_parse(f"[1:1] {detail}", caused_by=cause)


def media_type(content_type: str) -> EsError:
    return EsError(
        406,
        "media_type_header_exception",
        f"Invalid media-type value on headers [Content-Type, Accept]: {content_type}",
    )


def unknown_field(section: str, field: str, suggestion: str | None = None) -> EsError:
    hint = f" did you mean [{suggestion}]?" if suggestion else ""
    return x_content_parse(f"[1:2] [{section}] unknown field [{field}]{hint}")


def unrecognized_params(path: str, params: Iterable[str]) -> EsError:
    names = sorted(params)
    noun = "parameter" if len(names) == 1 else "parameters"
    return illegal_argument(
        f"request [{path}] contains unrecognized {noun}: [{'], ['.join(names)}]"
    )


def no_handler(path: str, method: str) -> EsError:
    """What Elasticsearch answers for an endpoint it (or this fake) does not have."""
    return EsError(
        400,
        "illegal_argument_exception",
        f"no handler found for uri [{path}] and method [{method}]",
    )


def method_not_allowed(path: str, method: str, allowed: Iterable[str]) -> EsError:
    return EsError(
        405,
        "method_not_allowed",
        f"Incorrect HTTP method for uri [{path}] and method [{method}], allowed: "
        f"[{', '.join(sorted(allowed))}]",
        headers={"Allow": ",".join(sorted(allowed))},
    )


AUTHENTICATE = ('Basic realm="security", charset="UTF-8"', "ApiKey")


def unauthenticated(path: str, user: str | None) -> EsError:
    """A 401 as Elasticsearch's security layer answers it, challenge included."""
    reason = (
        f"missing authentication credentials for REST request [{path}]"
        if user is None
        else f"unable to authenticate user [{user}] for REST request [{path}]"
    )
    return EsError(
        401,
        "security_exception",
        reason,
        headers={"WWW-Authenticate": AUTHENTICATE[0]},
        extra={"header": {"WWW-Authenticate": list(AUTHENTICATE)}},
    )


def task_missing(task_id: str) -> EsError:
    return EsError(
        404,
        "resource_not_found_exception",
        f"task [{task_id}] belongs to the node [{task_id.split(':')[0]}] which isn't part of "
        "the cluster and there is no record of the task",
    )


def query_shard(reason: str, index: str, uuid: str) -> EsError:
    return EsError(400, "query_shard_exception", reason, extra=_index_extra(index, uuid))


def search_failed(cause: EsError) -> EsError:
    """A shard-level search failure as Elasticsearch wraps it."""
    return EsError(
        cause.status,
        "search_phase_execution_exception",
        "all shards failed",
        caused_by=cause,
        phase="query",
        grouped=True,
        failed_shards=[{"shard": 0, "index": cause.extra.get("index"), "reason": cause.cause()}],
    )
