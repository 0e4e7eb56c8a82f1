"""Mappings: explicit definitions, dynamic mapping, and the type checks that reject bad documents.

Elasticsearch maps a field from the first value it sees and from then on refuses values the
mapped type cannot hold. A fake that accepts everything hides the bug class behind Celery
#3960/#5660/#6306 (one task returns a string, another an object, in the same field); this one
answers with the same ``document_parsing_exception`` a real cluster does.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from . import _errors as err
from ._dates import parse_date

TEXT_TYPES = frozenset(
    {
        "text",
        "keyword",
        "match_only_text",
        "wildcard",
        "constant_keyword",
        "version",
        "search_as_you_type",
        "completion",
    }
)
INTEGER_TYPES = {
    "long": (-(2**63), 2**63 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-(2**7), 2**7 - 1),
    "unsigned_long": (0, 2**64 - 1),
}
FLOAT_TYPES = frozenset({"double", "float", "half_float", "scaled_float"})
OBJECT_TYPES = frozenset({"object", "nested"})
# Types we accept and store without checking values (the fake does not score or aggregate them).
OPAQUE_TYPES = frozenset(
    {
        "flattened",
        "binary",
        "dense_vector",
        "sparse_vector",
        "geo_point",
        "geo_shape",
        "point",
        "shape",
        "histogram",
        "rank_feature",
        "rank_features",
        "percolator",
        "token_count",
        "alias",
        "integer_range",
        "long_range",
        "float_range",
        "double_range",
        "date_range",
        "ip_range",
        "semantic_text",
        "aggregate_metric_double",
        "annotated_text",
        "counted_keyword",
        "join",
        "passthrough",
    }
)
FIELD_TYPES = (
    TEXT_TYPES
    | set(INTEGER_TYPES)
    | FLOAT_TYPES
    | OBJECT_TYPES
    | OPAQUE_TYPES
    | {"boolean", "date", "date_nanos", "ip"}
)
RUNTIME_TYPES = frozenset(
    {
        "boolean",
        "composite",
        "date",
        "double",
        "geo_point",
        "geo_shape",
        "ip",
        "keyword",
        "long",
        "lookup",
    }
)
MAX_TOTAL_FIELDS = 1000
DEFAULT_NESTED_LIMIT = 10000

_NUMERIC = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DETECT_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$"
    r"|^\d{4}/\d{2}/\d{2}( \d{2}:\d{2}:\d{2})?( [+-]\d{4})?$"
)


def _preview(value: Any) -> str:
    """The value as Elasticsearch previews it in errors (Java's ``Map.toString`` style)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_preview(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_preview(v) for v in value) + "]"
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _bad_value(path: str, ftype: str, doc_id: str, value: Any, cause: err.EsError) -> err.EsError:
    return err.document_parsing(
        f"failed to parse field [{path}] of type [{ftype}] in document with id '{doc_id}'. "
        f"Preview of field's value: '{_preview(value)}'",
        caused_by=cause,
    )


def _check_scalar(path: str, spec: dict[str, Any], value: Any, doc_id: str) -> None:
    """Raise the error Elasticsearch gives when ``value`` cannot be stored in a mapped field."""
    ftype = spec.get("type", "object")
    if ftype in OPAQUE_TYPES:
        return
    if isinstance(value, dict):
        if ftype in TEXT_TYPES or ftype == "boolean":
            cause = err.EsError(400, "illegal_state_exception", "Can't get text on a START_OBJECT")
        else:
            cause = err.illegal_argument(f"Cannot parse an object as a value of [{ftype}]")
        raise _bad_value(path, ftype, doc_id, value, cause)
    if ftype in TEXT_TYPES:
        return
    if ftype in INTEGER_TYPES:
        low, high = INTEGER_TYPES[ftype]
        number: Any = value
        if isinstance(value, bool) or (isinstance(value, str) and not _NUMERIC.match(value)):
            raise _bad_value(
                path, ftype, doc_id, value, err.illegal_argument(f'For input string: "{value}"')
            )
        try:
            number = int(float(value)) if not isinstance(value, int) else value
        except (OverflowError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            raise _bad_value(
                path,
                ftype,
                doc_id,
                value,
                err.illegal_argument(f"Value [{value}] is out of range for {ftype}"),
            )
        return
    if ftype in FLOAT_TYPES:
        if isinstance(value, bool) or (isinstance(value, str) and not _NUMERIC.match(value)):
            raise _bad_value(
                path, ftype, doc_id, value, err.illegal_argument(f'For input string: "{value}"')
            )
        return
    if ftype == "boolean":
        if value not in (True, False, "true", "false", ""):
            raise _bad_value(
                path,
                ftype,
                doc_id,
                value,
                err.illegal_argument(
                    f"Failed to parse value [{_preview(value)}] as only [true] or [false] are "
                    "allowed."
                ),
            )
        return
    if ftype in ("date", "date_nanos"):
        fmt = spec.get("format", "strict_date_optional_time||epoch_millis")
        if isinstance(value, bool) or parse_date(value, fmt) is None:
            raise _bad_value(
                path,
                ftype,
                doc_id,
                value,
                err.illegal_argument(
                    f"failed to parse date field [{_preview(value)}] with format [{fmt}]"
                ),
            )
        return
    if ftype == "ip":
        try:
            ipaddress.ip_address(str(value))
        except ValueError:
            raise _bad_value(
                path,
                ftype,
                doc_id,
                value,
                err.illegal_argument(f"'{value}' is not an IP string literal."),
            ) from None
        return
    if ftype in OBJECT_TYPES:
        raise err.document_parsing(
            f"object mapping for [{path}] tried to parse field [{path.rsplit('.', 1)[-1]}] as "
            f"{ftype}, but found a concrete value"
        )


def _dynamic_type(value: Any, date_detection: bool) -> dict[str, Any] | None:
    """The mapping Elasticsearch's dynamic mapping gives a new field from its first value."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "long"}
    if isinstance(value, float):
        return {"type": "float"}
    if isinstance(value, str):
        if date_detection and _DETECT_DATE.match(value):
            return {"type": "date"}
        return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
    if isinstance(value, dict):
        return {"properties": {}}
    return None


class Mapping:
    """One index's mapping: explicit definitions plus what dynamic mapping added."""

    def __init__(self, definition: Any = None) -> None:
        self.root: dict[str, Any] = {}
        self.fields: dict[str, dict[str, Any]] = {}
        self.source_enabled = True
        self.nested_limit = DEFAULT_NESTED_LIMIT
        self.merge(definition if definition is not None else {})

    # -- definitions -------------------------------------------------------------------

    def merge(self, definition: Any) -> None:
        """Validate and merge a mapping definition (index creation or put mapping)."""
        if not isinstance(definition, dict):
            raise err.mapper_parsing(
                f"Failed to parse mapping: Expected map for property [mappings] but got "
                f"[{_preview(definition)}]"
            )
        definition = copy.deepcopy(definition)
        if set(definition) == {"_doc"} and isinstance(definition["_doc"], dict):
            definition = definition["_doc"]
        _validate_object(definition, "_doc", runtime=False)
        for runtime_name, runtime in (definition.get("runtime") or {}).items():
            rtype = runtime.get("type") if isinstance(runtime, dict) else None
            if rtype not in RUNTIME_TYPES:
                raise _unknown_type(rtype, runtime_name, runtime=True)
        merged = copy.deepcopy(self.root)
        _merge_into(merged, definition)
        self.root = merged
        self._reindex()

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.root)

    def _source_enabled(self) -> bool:
        source = self.root.get("_source")
        return not (isinstance(source, dict) and source.get("enabled") is False)

    @property
    def routing_required(self) -> bool:
        routing = self.root.get("_routing")
        return isinstance(routing, dict) and bool(routing.get("required"))

    def field_type(self, path: str) -> str | None:
        """The mapped type of a field path (``a.b``, or a multi-field ``title.keyword``)."""
        spec = self.fields.get(path)
        if spec is None:
            return None
        return str(spec.get("type", "object"))

    def stored_fields(self) -> Iterator[str]:
        return (path for path, spec in self.fields.items() if spec.get("store") is True)

    def _reindex(self) -> None:
        # Read on every GET: computed when the mapping changes, not per request.
        self.source_enabled = self._source_enabled()
        self.fields = {}

        def walk(obj: dict[str, Any], prefix: str) -> None:
            for name, spec in (obj.get("properties") or {}).items():
                path = prefix + name
                self.fields[path] = spec
                walk(spec, path + ".")
                for sub, subspec in (spec.get("fields") or {}).items():
                    self.fields[f"{path}.{sub}"] = subspec

        walk(self.root, "")

    # -- documents ---------------------------------------------------------------------

    def apply(self, doc: dict[str, Any], doc_id: str) -> None:
        """Check a document against the mapping and add what dynamic mapping adds.

        Raises the error Elasticsearch gives for the first value that does not fit; on error
        the mapping is left unchanged.
        """
        walk = _Walk(doc_id, self.root.get("date_detection", True) is not False)
        self._apply_object(walk, doc, "", "_doc", self.root.get("dynamic", True))
        if walk.nested > self.nested_limit:
            raise err.nested_limit(self.nested_limit)
        if walk.updates:
            if len(self.fields) + len(walk.updates) > MAX_TOTAL_FIELDS:
                raise err.illegal_argument(
                    f"Limit of total fields [{MAX_TOTAL_FIELDS}] has been exceeded while adding "
                    "new fields"
                )
            for path, spec in walk.updates.items():
                parent = self.root
                for part in path.split(".")[:-1]:
                    parent = parent["properties"][part]
                parent.setdefault("properties", {})[path.rsplit(".", 1)[-1]] = spec
            self._reindex()

    def _apply_object(
        self, walk: _Walk, obj: dict[str, Any], prefix: str, parent: str, dynamic: Any
    ) -> None:
        for raw_name, value in obj.items():
            if raw_name == "" or raw_name.strip(".") != raw_name or ".." in raw_name:
                raise err.document_parsing(
                    "field name cannot be an empty string"
                    if raw_name == ""
                    else f"field name [{raw_name}] cannot contain only whitespace or dots"
                )
            # {"a.b": 1} is the object {"a": {"b": 1}}.
            name, dot, rest = raw_name.partition(".")
            if dot:
                value = {rest: value}
            self._apply_value(walk, name, value, prefix, parent, dynamic)

    def _apply_value(
        self, walk: _Walk, name: str, value: Any, prefix: str, parent: str, dynamic: Any
    ) -> None:
        path = prefix + name
        if value is None:
            return
        if isinstance(value, list):
            for item in value:
                self._apply_value(walk, name, item, prefix, parent, dynamic)
            return
        spec = self.fields.get(path) or walk.updates.get(path)
        if spec is None:
            if dynamic in (False, "false", "runtime"):
                return
            if dynamic in ("strict",):
                raise err.strict_dynamic(name, parent)
            spec = _dynamic_type(value, walk.date_detection)
            if spec is None:
                return
            walk.updates[path] = spec
        ftype = spec.get("type", "object")
        if ftype in OBJECT_TYPES:
            # A disabled object is not parsed at all, so any JSON value fits.
            if spec.get("enabled") is False:
                return
            if not isinstance(value, dict):
                _check_scalar(path, spec, value, walk.doc_id)
                return
            if ftype == "nested":
                walk.nested += 1
            self._apply_object(walk, value, path + ".", name, spec.get("dynamic", dynamic))
            return
        _check_scalar(path, spec, value, walk.doc_id)


@dataclass
class _Walk:
    """One document's trip through the mapping: what it adds, and its nested count."""

    doc_id: str
    date_detection: bool
    updates: dict[str, dict[str, Any]] = dataclass_field(default_factory=dict)
    nested: int = 0


def _unknown_type(ftype: Any, name: str, *, runtime: bool = False) -> err.EsError:
    kind = "runtime field" if runtime else "field"
    if ftype is None:
        return err.mapper_parsing(f"Failed to parse mapping: No type specified for field [{name}]")
    return err.mapper_parsing(
        f"Failed to parse mapping: The mapper type [{ftype}] declared on {kind} [{name}] does "
        "not exist. It might have been created within a future version or requires a plugin "
        "to be installed. Check the documentation."
    )


def _validate_object(obj: dict[str, Any], name: str, *, runtime: bool) -> None:
    properties = obj.get("properties", {})
    if not isinstance(properties, dict):
        raise err.mapper_parsing(
            f"Failed to parse mapping: Expected map for property [properties] on field [{name}] "
            f"but got a class java.lang.String"
        )
    for field, spec in properties.items():
        if field == "" or not field.strip():
            cause = err.illegal_argument("field name cannot be an empty string")
            raise err.mapper_parsing(
                "Failed to parse mapping: field name cannot be an empty string", caused_by=cause
            )
        if not isinstance(spec, dict):
            raise err.mapper_parsing(
                f"Failed to parse mapping: Expected map for property [fields] on field "
                f"[{field}] but got a class java.lang.String"
            )
        ftype = spec.get("type", "object" if "properties" in spec or not spec else None)
        if ftype not in FIELD_TYPES:
            raise _unknown_type(ftype, field)
        if ftype in OBJECT_TYPES:
            _validate_object(spec, field, runtime=runtime)
        for sub, subspec in (spec.get("fields") or {}).items():
            subtype = subspec.get("type") if isinstance(subspec, dict) else None
            if subtype not in FIELD_TYPES:
                raise _unknown_type(subtype, sub)


def _merge_into(target: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if key == "properties":
            props = target.setdefault("properties", {})
            for field, spec in value.items():
                if field in props:
                    old_type = props[field].get("type", "object")
                    new_type = spec.get("type", "object")
                    if old_type != new_type:
                        raise err.illegal_argument(
                            f"mapper [{field}] cannot be changed from type [{old_type}] to "
                            f"[{new_type}]"
                        )
                    _merge_into(props[field], spec)
                else:
                    props[field] = spec
        else:
            target[key] = value
