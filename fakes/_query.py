"""The query DSL subset the fake evaluates, ``_source`` filtering, and search-time sorting.

Scoring is constant (every hit scores 1.0): the fake answers *which* documents match, in a
stable order, not how relevant they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from . import _errors as err
from ._dates import date_math, parse_date
from ._mapping import FLOAT_TYPES, INTEGER_TYPES, Mapping

Predicate = Callable[[str, dict[str, Any]], bool]

_TOKEN = re.compile(r"\w+", re.UNICODE)


def analyze(text: Any) -> list[str]:
    """The standard analyzer, near enough: lowercase word tokens."""
    return _TOKEN.findall(str(text).lower())


# -- _source filtering ------------------------------------------------------------------


@lru_cache(maxsize=512)
def glob_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` with ``*`` wildcards (index names, fields, aliases) as an anchored regex."""
    return re.compile("^" + ".*".join(map(re.escape, pattern.split("*"))) + "$")


def _listify(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p for p in value.split(",") if p]
    return [str(v) for v in value]


class SourceFilter:
    """What ``_source`` / ``_source_includes`` / ``_source_excludes`` ask for.

    ``enabled`` False drops the source; includes/excludes are path globs, where a pattern
    naming an object selects everything beneath it.
    """

    __slots__ = ("enabled", "excludes", "includes")

    def __init__(
        self, enabled: bool = True, includes: Iterable[str] = (), excludes: Iterable[str] = ()
    ) -> None:
        self.enabled = enabled
        self.includes = [glob_pattern(p) for p in includes]
        self.excludes = [glob_pattern(p) for p in excludes]

    @classmethod
    def parse(cls, source: Any = None, includes: Any = None, excludes: Any = None) -> SourceFilter:
        """From the ``_source`` value (bool, pattern(s) or an object) and the two params."""
        inc, exc = _listify(includes), _listify(excludes)
        if isinstance(source, bool):
            if not source:
                return cls(enabled=False)
        elif isinstance(source, str) and source in ("true", "false"):
            if source == "false":
                return cls(enabled=False)
        elif isinstance(source, dict):
            unknown = set(source) - {"includes", "excludes", "include", "exclude"}
            if unknown:
                raise err.parse_error(f"Unknown key for a VALUE_STRING in [{sorted(unknown)[0]}].")
            inc += _listify(source.get("includes", source.get("include")))
            exc += _listify(source.get("excludes", source.get("exclude")))
        elif source is not None:
            inc += _listify(source)
        return cls(True, inc, exc)

    @property
    def is_identity(self) -> bool:
        return self.enabled and not self.includes and not self.excludes

    def apply(self, source: dict[str, Any]) -> dict[str, Any]:
        return self._filter(source, "", bool(self.includes) is False)

    def _matches(self, patterns: list[re.Pattern[str]], path: str) -> bool:
        return any(p.match(path) for p in patterns)

    def _filter(self, obj: dict[str, Any], prefix: str, included: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in obj.items():
            path = prefix + key
            if self._matches(self.excludes, path):
                continue
            inside = included or self._matches(self.includes, path)
            if isinstance(value, dict):
                child = self._filter(value, path + ".", inside)
                if child or (inside and not value):
                    out[key] = child
            elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
                items = [
                    self._filter(v, path + ".", inside) if isinstance(v, dict) else v for v in value
                ]
                kept = [v for v in items if not isinstance(v, dict) or v]
                if inside or any(isinstance(v, dict) for v in kept):
                    out[key] = kept if inside else [v for v in kept if isinstance(v, dict)]
            elif inside:
                out[key] = value
        return out


# -- field values -----------------------------------------------------------------------


def field_values(source: dict[str, Any], path: str) -> list[Any]:
    """Every value at a dotted path (arrays flattened, ``{"a.b": 1}`` keys honoured)."""
    out: list[Any] = []

    def walk(node: Any, rest: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, rest)
            return
        if not rest:
            if node is not None:
                out.append(node)
            return
        if not isinstance(node, dict):
            return
        if rest in node:
            walk(node[rest], "")
        head = rest
        while "." in head:
            head = head.rsplit(".", 1)[0]
            if head in node:
                walk(node[head], rest[len(head) + 1 :])

    walk(source, path)
    return out


# -- queries ----------------------------------------------------------------------------


class Compiler:
    """Turns a query object into a predicate over ``(doc_id, source)`` for one index."""

    def __init__(self, mapping: Mapping, index: str, uuid: str, now_ms: int) -> None:
        self.mapping = mapping
        self.index = index
        self.uuid = uuid
        self.now_ms = now_ms

    def compile(self, query: Any) -> Predicate:
        if not isinstance(query, dict) or len(query) != 1:
            if isinstance(query, dict) and not query:
                raise err.parse_error("query malformed, empty clause found")
            raise err.parse_error(
                "[_na] query malformed, must start with start_object"
                if not isinstance(query, dict)
                else f"[{list(query)[1]}] malformed query, expected [END_OBJECT] but found "
                "[FIELD_NAME]"
            )
        ((kind, body),) = query.items()
        method = getattr(self, "_q_" + kind, None)
        if method is None:
            raise err.EsError(
                400,
                "parsing_exception",
                f"unknown query [{kind}]",
                line=1,
                col=1,
                caused_by=err.EsError(
                    400, "named_object_not_found_exception", f"[1:1] unknown field [{kind}]"
                ),
            )
        predicate: Predicate = method(body)
        return predicate

    # field helpers

    def _single_field(self, kind: str, body: Any) -> tuple[str, Any]:
        if not isinstance(body, dict) or not body:
            raise err.parse_error(f"[{kind}] query malformed, no start_object after query name")
        fields = [k for k in body if k not in ("boost", "_name")]
        if len(fields) != 1:
            raise err.parse_error(
                f"[{kind}] query doesn't support multiple fields, found [{fields[0]}] and "
                f"[{fields[1]}]"
                if len(fields) > 1
                else f"[{kind}] query malformed"
            )
        return fields[0], body[fields[0]]

    def _values(self, field: str) -> Callable[[str, dict[str, Any]], list[Any]]:
        if field == "_id":
            return lambda doc_id, _source: [doc_id]
        if field == "_index":
            return lambda _doc_id, _source: [self.index]
        # A multi-field (title.keyword) reads its parent's value.
        ftype = self.mapping.field_type(field)
        path = field
        if ftype is not None and "." in field:
            parent = field.rsplit(".", 1)[0]
            parent_type = self.mapping.field_type(parent)
            if parent_type not in (None, "object", "nested"):
                path = parent
        return lambda _doc_id, source: field_values(source, path)

    def _normalizer(self, field: str) -> Callable[[Any], Any]:
        """How a query value compares with stored values of ``field``'s mapped type."""
        ftype = self.mapping.field_type(field) if field not in ("_id", "_index") else "keyword"
        if ftype in INTEGER_TYPES or ftype in FLOAT_TYPES:

            def number(v: Any) -> Any:
                try:
                    return float(v)
                except (TypeError, ValueError):
                    raise err.query_shard(
                        f'failed to create query: For input string: "{v}"', self.index, self.uuid
                    ) from None

            return number
        if ftype in ("date", "date_nanos"):
            return lambda v: date_math(v, self.now_ms) if isinstance(v, str) else parse_date(v)
        if ftype == "boolean":
            return lambda v: v in (True, "true")
        if ftype == "text":
            return lambda v: v
        return lambda v: str(v).lower() if isinstance(v, bool) else str(v)

    def _term_matcher(self, field: str, value: Any) -> Predicate:
        values = self._values(field)
        if self.mapping.field_type(field) == "text":
            # term is not analyzed: it matches one indexed token exactly.
            return lambda i, s: any(value == tok for v in values(i, s) for tok in analyze(v))
        norm = self._normalizer(field)
        target = norm(value)
        return lambda i, s: any(norm(v) == target for v in values(i, s))

    # leaf queries

    def _q_match_all(self, body: Any) -> Predicate:
        return lambda _i, _s: True

    def _q_match_none(self, body: Any) -> Predicate:
        return lambda _i, _s: False

    def _q_term(self, body: Any) -> Predicate:
        field, spec = self._single_field("term", body)
        value = spec.get("value") if isinstance(spec, dict) else spec
        return self._term_matcher(field, value)

    def _q_terms(self, body: Any) -> Predicate:
        fields = [k for k in body if k not in ("boost", "_name")]
        if len(fields) != 1 or not isinstance(body[fields[0]], list):
            raise err.parse_error(
                "[terms] query does not support multiple fields"
                if len(fields) > 1
                else "[terms] query requires an array of values"
            )
        matchers = [self._term_matcher(fields[0], v) for v in body[fields[0]]]
        return lambda i, s: any(m(i, s) for m in matchers)

    def _q_ids(self, body: Any) -> Predicate:
        wanted = {str(v) for v in body.get("values", [])}
        return lambda i, _s: i in wanted

    def _q_exists(self, body: Any) -> Predicate:
        field = body.get("field") if isinstance(body, dict) else None
        if not isinstance(field, str):
            raise err.parse_error("[exists] must be provided with a [field]")
        values = self._values(field)
        return lambda i, s: bool(values(i, s))

    def _q_prefix(self, body: Any) -> Predicate:
        field, spec = self._single_field("prefix", body)
        value = str(spec.get("value") if isinstance(spec, dict) else spec)
        values = self._values(field)
        if self.mapping.field_type(field) == "text":
            return lambda i, s: any(t.startswith(value) for v in values(i, s) for t in analyze(v))
        return lambda i, s: any(str(v).startswith(value) for v in values(i, s))

    def _q_wildcard(self, body: Any) -> Predicate:
        field, spec = self._single_field("wildcard", body)
        raw = str(spec.get("value", spec.get("wildcard")) if isinstance(spec, dict) else spec)
        pattern = re.compile(
            "^"
            + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in raw)
            + "$"
        )
        values = self._values(field)
        if self.mapping.field_type(field) == "text":
            return lambda i, s: any(pattern.match(t) for v in values(i, s) for t in analyze(v))
        return lambda i, s: any(pattern.match(str(v)) for v in values(i, s))

    def _q_range(self, body: Any) -> Predicate:
        field, spec = self._single_field("range", body)
        if not isinstance(spec, dict):
            raise err.parse_error(f"[range] query malformed, no start_object after [{field}]")
        ftype = self.mapping.field_type(field)
        values = self._values(field)
        bounds: list[tuple[str, Any]] = []
        for op in ("gt", "gte", "lt", "lte", "from", "to"):
            if op in spec and spec[op] is not None:
                bounds.append((op, spec[op]))
        if ftype in ("date", "date_nanos"):
            fmt = spec.get("format", "strict_date_optional_time||epoch_millis")

            def as_date(v: Any, op: str = "") -> Any:
                out = date_math(v, self.now_ms, fmt, round_up=op in ("gt", "lte"))
                if out is None:
                    raise err.query_shard(
                        f"failed to parse date field [{v}] with format [{fmt}]",
                        self.index,
                        self.uuid,
                    )
                return out

            limits = [(op, as_date(v, op)) for op, v in bounds]
            convert: Callable[[Any], Any] = lambda v: parse_date(v)  # noqa: E731
        elif ftype in INTEGER_TYPES or ftype in FLOAT_TYPES:
            norm = self._normalizer(field)
            limits = [(op, norm(v)) for op, v in bounds]
            convert = norm
        else:
            limits = [(op, str(v)) for op, v in bounds]
            convert = str

        def within(v: Any) -> bool:
            try:
                x = convert(v)
            except err.EsError:
                return False
            if x is None:
                return False
            for op, limit in limits:
                if op == "gt" and not x > limit:
                    return False
                if op in ("gte", "from") and not x >= limit:
                    return False
                if op == "lt" and not x < limit:
                    return False
                if op in ("lte", "to") and not x <= limit:
                    return False
            return True

        return lambda i, s: any(within(v) for v in values(i, s))

    def _q_match(self, body: Any) -> Predicate:
        field, spec = self._single_field("match", body)
        query = spec.get("query") if isinstance(spec, dict) else spec
        operator = str(spec.get("operator", "or")).lower() if isinstance(spec, dict) else "or"
        if self.mapping.field_type(field) not in ("text", "match_only_text", None):
            return self._term_matcher(field, query)
        wanted = analyze(query)
        values = self._values(field)
        combine = all if operator == "and" else any

        def match(i: str, s: dict[str, Any]) -> bool:
            tokens = {t for v in values(i, s) for t in analyze(v)}
            return bool(wanted) and combine(t in tokens for t in wanted)

        return match

    def _q_match_phrase(self, body: Any) -> Predicate:
        field, spec = self._single_field("match_phrase", body)
        query = spec.get("query") if isinstance(spec, dict) else spec
        phrase = " ".join(analyze(query))
        values = self._values(field)
        return lambda i, s: any(f" {phrase} " in f" {' '.join(analyze(v))} " for v in values(i, s))

    def _q_constant_score(self, body: Any) -> Predicate:
        return self.compile(body.get("filter"))

    def _q_bool(self, body: Any) -> Predicate:
        if not isinstance(body, dict):
            raise err.parse_error("[bool] query malformed, no start_object after query name")

        def clauses(name: str) -> list[Predicate]:
            raw = body.get(name, [])
            return [self.compile(q) for q in (raw if isinstance(raw, list) else [raw])]

        known = {
            "must",
            "filter",
            "should",
            "must_not",
            "minimum_should_match",
            "boost",
            "_name",
            "adjust_pure_negative",
        }
        unknown = set(body) - known
        if unknown:
            raise err.parse_error(f"[bool] query does not support [{sorted(unknown)[0]}]")
        must = clauses("must") + clauses("filter")
        should = clauses("should")
        must_not = clauses("must_not")
        msm = body.get("minimum_should_match")
        if msm is None:
            needed = 0 if must else (1 if should else 0)
        else:
            needed = _minimum_should_match(msm, len(should))

        def match(i: str, s: dict[str, Any]) -> bool:
            if not all(p(i, s) for p in must):
                return False
            if any(p(i, s) for p in must_not):
                return False
            return not needed or sum(1 for p in should if p(i, s)) >= needed

        return match


def _minimum_should_match(spec: Any, clauses: int) -> int:
    text = str(spec).strip()
    try:
        if text.endswith("%"):
            pct = int(text[:-1])
            count = clauses * abs(pct) // 100
            return count if pct >= 0 else clauses - count
        value = int(text)
    except ValueError:
        raise err.parse_error(f"[bool] malformed minimum_should_match [{spec}]") from None
    return value if value >= 0 else max(clauses + value, 0)


# -- sorting ----------------------------------------------------------------------------


class SortKey:
    """One ``sort`` entry, resolved against the mapping."""

    __slots__ = ("desc", "field", "ftype", "missing_first")

    def __init__(self, field: str, desc: bool, missing_first: bool, ftype: str | None) -> None:
        self.field = field
        self.desc = desc
        self.missing_first = missing_first
        self.ftype = ftype


def parse_sort(spec: Any, mapping: Mapping, index: str, uuid: str) -> list[SortKey]:
    """``sort`` as a list of keys; raises Elasticsearch's errors for unsortable fields."""
    entries: Sequence[Any]
    if isinstance(spec, str):
        entries = [s for s in spec.split(",") if s]
    elif isinstance(spec, list):
        entries = spec
    else:
        entries = [spec]
    keys: list[SortKey] = []
    for entry in entries:
        order, missing, unmapped = None, "_last", None
        if isinstance(entry, str):
            field, _, order = entry.partition(":")
        elif isinstance(entry, dict) and len(entry) == 1:
            ((field, opts),) = entry.items()
            if isinstance(opts, str):
                order = opts
            elif isinstance(opts, dict):
                order = opts.get("order")
                missing = opts.get("missing", "_last")
                unmapped = opts.get("unmapped_type")
        else:
            raise err.parse_error("malformed sort format")
        default_desc = field == "_score"
        desc = (order or ("desc" if default_desc else "asc")).lower() == "desc"
        ftype = mapping.field_type(field)
        if field in ("_score", "_doc"):
            ftype = field
        elif field == "_id":
            raise err.illegal_argument(
                "Fielddata access on the _id field is disallowed, you can re-enable it by "
                "updating the dynamic cluster setting: indices.id_field_data.enabled"
            )
        elif ftype is None:
            if unmapped is None:
                raise err.query_shard(
                    f"No mapping found for [{field}] in order to sort on", index, uuid
                )
            ftype = unmapped
        elif ftype == "text":
            raise err.illegal_argument(
                "Text fields are not optimised for operations that require per-document field "
                "data like aggregations and sorting, so these operations are disabled by "
                f"default. Please use a keyword field instead. Alternatively, set fielddata=true "
                f"on [{field}] in order to load field data by uninverting the inverted index. "
                "Note that this can use significant memory."
            )
        keys.append(SortKey(field, desc, missing == "_first", ftype))
    return keys


def sort_value(key: SortKey, source: dict[str, Any], position: int) -> Any:
    """The value a hit shows in ``sort`` for ``key`` (None when the field is missing)."""
    if key.ftype == "_score":
        return 1.0
    if key.ftype == "_doc":
        return position
    values = field_values(source, key.field)
    if not values:
        return None
    converted: list[Any]
    if key.ftype in ("date", "date_nanos"):
        converted = [parse_date(v) for v in values]
    elif key.ftype in INTEGER_TYPES:
        converted = [int(float(v)) for v in values]
    elif key.ftype in FLOAT_TYPES:
        converted = [float(v) for v in values]
    elif key.ftype == "boolean":
        converted = [1 if v in (True, "true") else 0 for v in values]
    else:
        converted = [str(v) for v in values]
    present = [v for v in converted if v is not None]
    if not present:
        return None
    return max(present) if key.desc else min(present)


def sorted_hits(keys: list[SortKey], rows: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Sort ``rows`` whose last element is the list of sort values, stably."""
    ordered = list(rows)
    for n in reversed(range(len(keys))):
        key = keys[n]
        present = [r for r in ordered if r[-1][n] is not None]
        missing = [r for r in ordered if r[-1][n] is None]
        present.sort(key=lambda r, n=n: r[-1][n], reverse=key.desc)  # type: ignore[misc]
        ordered = missing + present if key.missing_first else present + missing
    return iter(ordered)
