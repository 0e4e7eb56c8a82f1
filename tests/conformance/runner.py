"""A runner for Elastic's YAML REST tests that drives the real elasticsearch-py client.

The format is Elastic's (rest-api-spec/src/yamlRestTest/resources/rest-api-spec/test/README.asciidoc
in elastic/elasticsearch); the semantics follow Elastic's Java runner (test/yaml-rest-runner)
wherever the Python client allows. Choices of our own:

* Each ``do`` is a client API call: ``indices.create`` -> ``client.indices.create(...)``. Path
  and query parameters the client knows go in as keyword arguments, ``body`` as ``body=``.
  Parameters the client does not know, or knows only as body fields (``delete_by_query``'s
  ``max_docs``), go to the query string verbatim, where Elastic's runner sends every parameter.
* ``headers`` from the test replace the client's per-API ``Accept``/``Content-Type``.
* ``catch: param`` expects the client to refuse the call (``TypeError``/``ValueError``).
* ``cluster_features``: ``gte_vX.Y.Z`` is a version check against the target; every other
  named feature is assumed present for the target's version (a version is all the runner
  knows of a target, and the fake claims to be a full cluster of that version).
* ``catch: /regex/`` searches the response's ``error`` rendered as Java's toString, like
  Elastic's runner; ``match: /regex/`` searches a string in COMMENTS (re.VERBOSE) mode.
* Before each case the target gets the setting Elastic's test clusters start with
  (``prepare_target``); after each case come its teardown, then deleting every index.
* A case skipped by its own gate (version, cluster feature, a capability the target says it
  lacks) is skipped; a case needing something the runner lacks (an unknown runner feature,
  ``do`` option, assertion or ``catch``) fails with a ``RunnerError`` naming it.
"""

from __future__ import annotations

import inspect
import re
import urllib.parse
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import yaml
from elastic_transport import ApiResponse, HttpHeaders, Serializer
from elasticsearch import ApiError, Elasticsearch, UnsupportedProductError
from elasticsearch.exceptions import ElasticsearchWarning, GeneralAvailabilityWarning

Step = Mapping[str, Any]
Version = tuple[int, int, int]


class RunnerError(Exception):
    """The runner lacks something a case needs, or the case is malformed: the case fails."""


# --------------------------------------------------------------------------- loading

if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:  # the C parser, when PyYAML has it, makes collecting ~250 cases faster
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(_BaseLoader):
    """YAML as Elastic's runner reads it: only true/false are booleans, dates stay strings.

    PyYAML's YAML 1.1 rules would turn ``2021-04-28T00:00:00Z`` (delete_by_query tsdb) into
    a datetime and ``on``/``no`` into booleans, changing what is sent.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str | bytes) -> Any:
    """Parse one YAML document with the runner's rules."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader


@dataclass(frozen=True)
class RestCase:
    """One test case of a YAML file, with the file's setup and teardown."""

    file: str  # path relative to the corpus root, with forward slashes
    name: str
    steps: tuple[Step, ...]
    setup: tuple[Step, ...] = ()
    teardown: tuple[Step, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


def _as_steps(where: str, value: Any) -> tuple[Step, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(s, dict) and len(s) == 1 for s in value):
        raise RunnerError(f"{where}: expected a list of one-key mappings, got {value!r}")
    return tuple(value)


def load_file(path: Path, root: Path) -> list[RestCase]:
    """Read the cases of one YAML file (a stream: setup?, teardown?, then one doc per case)."""
    rel = path.relative_to(root).as_posix()
    setup: tuple[Step, ...] = ()
    teardown: tuple[Step, ...] = ()
    tests: list[tuple[str, tuple[Step, ...]]] = []
    try:
        docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader))
    except yaml.YAMLError as err:
        raise RunnerError(f"{rel}: not valid YAML: {err}") from None
    for doc in docs:
        if doc is None:  # an empty document, e.g. after a trailing '---'
            continue
        if not isinstance(doc, dict):
            raise RunnerError(f"{rel}: expected a mapping per document, got {doc!r}")
        for name, body in doc.items():
            steps = _as_steps(f"{rel}::{name}", body)
            if name == "setup":
                setup = steps
            elif name == "teardown":
                teardown = steps
            else:
                tests.append((str(name), steps))
    return [RestCase(rel, name, steps, setup, teardown) for name, steps in tests]


def load_corpus(root: Path) -> Iterator[RestCase | RunnerError]:
    """Every case under root in path order; a file that cannot be read yields its error."""
    for path in sorted(root.rglob("*.yml")) + sorted(root.rglob("*.yaml")):
        try:
            yield from load_file(path, root)
        except RunnerError as err:
            yield err


# --------------------------------------------------------------------------- values


def java_str(value: Any) -> str:
    """Render a JSON value like Java's toString, which Elastic's assertions compare against."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_str(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_str(v) for v in value) + "]"
    return str(value)


def is_truthy(value: Any) -> bool:
    """is_true/is_false: null, "", "false" and "0" are false; anything else ({} too) is true."""
    if value is None:
        return False
    text = java_str(value)
    return text not in ("", "0") and text.lower() != "false"


def json_equal(actual: Any, expected: Any) -> bool:
    """Equality of JSON values: numbers by value (1 == 1.0), but never bool == 1 or "1" == 1."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return actual == expected
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            json_equal(actual[k], expected[k]) for k in expected
        )
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(map(json_equal, actual, expected))
    return type(actual) is type(expected) and actual == expected


def regex_of(value: Any) -> str | None:
    """The pattern of a ``/.../`` string, else None."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 2 and text.startswith("/") and text.endswith("/"):
            return text[1:-1]
    return None


def split_path(path: str) -> list[str]:
    r"""Split a dotted path; ``\.`` is a literal dot (``index\.number_of_shards``)."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(path)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == ".":
            if current:
                parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        parts.append("".join(current))
    return parts


class Stash:
    """Values saved by ``set`` (and the last response as ``body``), read back as ``$name``."""

    _EMBEDDED = re.compile(r"\$\{([^}]+)\}")

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def lookup(self, key: str) -> Any:
        """The value of ``$key``; key may be a path into a stashed value (``$body.took``)."""
        name, *rest = split_path(key) or [key]
        if name not in self.values:
            raise AssertionError(f"nothing is stashed under ${name}")
        return evaluate(self.values[name], ".".join(rest), self) if rest else self.values[name]

    def substitute(self, value: Any) -> Any:
        """Replace ``$name`` values and ``${name}`` inside strings, in keys too, recursively."""
        if isinstance(value, str):
            if value.startswith("$") and not value.startswith("${") and len(value) > 1:
                return self.lookup(value[1:])
            return self._EMBEDDED.sub(lambda m: java_str(self.lookup(m[1])), value)
        if isinstance(value, dict):
            return {
                (java_str(self.substitute(k)) if isinstance(k, str) else k): self.substitute(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        return value


def evaluate(body: Any, path: str, stash: Stash | None = None) -> Any:
    """The value at a dotted path in a response body; None when absent (as in Java's ObjectPath).

    ``''`` and ``$body`` are the whole body; a part starting with ``$`` is a stashed key.
    """
    if path in ("", "$body"):
        return body
    value = body
    for part in split_path(path):
        if part.startswith("$") and stash is not None:
            part = java_str(stash.lookup(part[1:]))
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


# --------------------------------------------------------------------------- versions & gates

_MAX_VERSION: Version = (999, 999, 999)


def parse_version(text: str) -> Version:
    """``9.2.0`` or ``9.2.0-SNAPSHOT`` -> (9, 2, 0)."""
    core = str(text).strip().split("-", 1)[0]
    parts = core.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise RunnerError(f"not a version: {text!r}")
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    return (numbers[0], numbers[1], numbers[2])


def parse_ranges(spec: str) -> list[tuple[Version, Version]]:
    """``" - 6.99.99"``, ``"8.3.0 - 8.3.2"``, ``"7.3.0 - "``, ``"all"``, comma-separated."""
    if str(spec).strip() == "all":
        return [((0, 0, 0), _MAX_VERSION)]
    ranges = []
    for raw in str(spec).split(","):
        bounds = raw.split("-")
        if len(bounds) != 2:
            raise RunnerError(f"malformed version range {raw!r} in {spec!r}")
        low, high = (b.strip() for b in bounds)
        ranges.append(
            (
                parse_version(low) if low else (0, 0, 0),
                parse_version(high) if high else _MAX_VERSION,
            )
        )
    return ranges


def in_ranges(version: str, spec: str) -> bool:
    """Whether the version lies in one of the ranges of spec (bounds included)."""
    v = parse_version(version)
    return any(low <= v <= high for low, high in parse_ranges(spec))


def has_cluster_feature(name: str, version: str) -> bool:
    """``gte_vX.Y.Z`` compares versions; other named features are assumed present (module doc)."""
    match = re.fullmatch(r"gte_v(\d+\.\d+\.\d+)", name)
    if match:
        return parse_version(version) >= parse_version(match[1])
    return True


# Runner features (Elastic's Features.java names) this runner implements. default_shards: we
# never inject a number of shards, so tests see the target's default.
SUPPORTED_FEATURES = frozenset(
    {
        "allowed_warnings",
        "allowed_warnings_regex",
        "capabilities",
        "contains",
        "default_shards",
        "embedded_stash_key",
        "headers",
        "stash_in_path",
        "warnings",
        "warnings_regex",
        "yaml",
    }
)
_SKIP_KEYS = frozenset(
    {"version", "reason", "features", "cluster_features", "awaits_fix", "capabilities"}
)
_REQUIRES_KEYS = frozenset({"cluster_features", "test_runner_features", "capabilities", "reason"})

# Answers whether the target has a capability check: None when it does, else why not.
CapabilityProbe = Callable[[Mapping[str, Any]], "str | None"]


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def prerequisites(case: RestCase) -> list[tuple[str, Mapping[str, Any]]]:
    """The leading skip/requires sections of setup and of the case itself."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    for section in (case.setup, case.steps):
        leading = True
        for step in section:
            ((kind, arg),) = step.items()
            if kind not in ("skip", "requires"):
                leading = False
            elif not leading:
                raise RunnerError(f"`{kind}` must come before the other steps of its section")
            elif not isinstance(arg, dict):
                raise RunnerError(f"`{kind}` needs a mapping, got {arg!r}")
            else:
                found.append((kind, arg))
    return found


def skip_reason(case: RestCase, version: str, probe: CapabilityProbe) -> str | None:
    """Why the case's own gates skip it on this target (None: run it).

    Raises RunnerError when the case needs a runner feature or gate this runner lacks.
    """
    missing: list[str] = []
    for kind, section in prerequisites(case):
        allowed = _SKIP_KEYS if kind == "skip" else _REQUIRES_KEYS
        unknown = sorted(set(section) - allowed)
        if unknown:
            raise RunnerError(f"the runner does not support `{kind}` keys {unknown}")
        reason = section.get("reason", "no reason given")
        features = _names(section.get("features" if kind == "skip" else "test_runner_features"))
        missing += [f for f in features if f not in SUPPORTED_FEATURES]
        why = _gate(kind, section, version, probe)
        if why:
            return f"{reason} ({why}; target version {version})"
    if missing:
        raise RunnerError(f"the runner does not support the test features {sorted(set(missing))}")
    return None


def _gate(kind: str, section: Mapping[str, Any], version: str, probe: CapabilityProbe) -> str:
    """The reason one skip/requires section skips the case, or ''."""
    features = _names(section.get("cluster_features"))
    checks = section.get("capabilities") or []
    if not isinstance(checks, list):
        checks = [checks]
    if kind == "skip":
        if section.get("awaits_fix"):
            return f"awaits fix: {section['awaits_fix']}"
        if "version" in section and in_ranges(version, section["version"]):
            return f"skip version range '{section['version']}'"
        present = [f for f in features if has_cluster_feature(f, version)]
        if present:
            return f"skipped when the cluster has features {present}"
        supported = [c for c in checks if probe(c) is None]
        if supported:
            return f"skipped when the target has capabilities {supported}"
        return ""
    absent = [f for f in features if not has_cluster_feature(f, version)]
    if absent:
        return f"requires cluster features {absent}"
    for check in checks:
        why = probe(check)
        if why:
            return f"requires capabilities {dict(check)}: {why}"
    return ""


# --------------------------------------------------------------------------- do: catch & warnings

CATCH_STATUS = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "missing": 404,
    "request_timeout": 408,
    "conflict": 409,
    "gone": 410,
    "unavailable": 503,
}
# ``catch: request`` is any other error status, as in Elastic's DoSection.
_NOT_REQUEST = frozenset(CATCH_STATUS.values()) - {503}


def check_catch(catch: str, status: int, body: Any) -> None:
    """Assert that an error response is the one ``catch`` expects."""
    if catch in CATCH_STATUS:
        expected = CATCH_STATUS[catch]
        assert status == expected, f"expected {catch} ({expected}), got {status}: {body!r}"
    elif catch == "request":
        ok = status >= 400 and status not in _NOT_REQUEST
        assert ok, f"expected `request` (an error not in {sorted(_NOT_REQUEST)}), got {status}"
    elif (pattern := regex_of(catch)) is not None:
        assert status >= 400, f"expected an error matching {catch}, got {status}: {body!r}"
        error = body.get("error") if isinstance(body, dict) else None
        assert error is not None, f"expected an `error` in the response, got {body!r}"
        assert re.search(pattern, java_str(error)), (
            f"error does not match {catch}: {java_str(error)}"
        )
    else:
        raise RunnerError(f"the runner does not support `catch: {catch}`")


# A Warning header value: 299 Elasticsearch-9.2.0-abc "message" ["date"]
_WARNING_HEADER = re.compile(r'\d{3} \S+ "((?:[^"\\]|\\.)*)"(?: "[^"]*")?')


def parse_warnings(header: str | None) -> tuple[list[str], list[str]]:
    """The messages of a (comma-joined) Warning header, and the values that are not warnings."""
    if not header:
        return [], []
    messages = [
        urllib.parse.unquote(re.sub(r"\\(.)", r"\1", m)) for m in _WARNING_HEADER.findall(header)
    ]
    return messages, ([] if messages else [header])


def check_warnings(
    header: str | None,
    expected: Sequence[str] = (),
    allowed: Sequence[str] = (),
    expected_regex: Sequence[str] = (),
    allowed_regex: Sequence[str] = (),
) -> None:
    """Assert the response warned exactly as declared, as Elastic's DoSection does."""
    messages, unmatched = parse_warnings(header)
    missing = list(expected)
    missing_regex = list(expected_regex)
    unexpected = []
    for message in messages:
        if message in allowed:
            continue
        if message in missing:
            missing.remove(message)
            continue
        hit = next((p for p in missing_regex if re.fullmatch(p, message)), None)
        if hit is not None:
            missing_regex.remove(hit)
            continue
        if not any(re.fullmatch(p, message) for p in allowed_regex):
            unexpected.append(message)
    problems = [
        f"{label}: {items}"
        for label, items in (
            ("unexpected warnings", unexpected),
            ("unparsable Warning headers", unmatched),
            ("missing warnings", missing),
            ("warning regexes that matched nothing", missing_regex),
        )
        if items
    ]
    assert not problems, "; ".join(problems)


# --------------------------------------------------------------------------- do: calling the client


class YamlSerializer(Serializer):
    """Reads ``application/yaml`` responses (the ``yaml`` feature: ``Accept: application/yaml``)."""

    mimetype: ClassVar[str] = "application/yaml"

    def loads(self, data: bytes) -> Any:
        return load_yaml(data)

    def dumps(self, data: Any) -> bytes:
        if isinstance(data, bytes):
            return data
        text = data if isinstance(data, str) else yaml.safe_dump(data)
        return text.encode("utf-8")


# Pass these to Elasticsearch(serializers=...) for every client the runner drives.
SERIALIZERS: dict[str, Serializer] = {YamlSerializer.mimetype: YamlSerializer()}


def _rewrite_options(fn: Callable[..., Any]) -> tuple[dict[str, str], frozenset[str]]:
    """The parameter aliases and body fields elasticsearch-py's ``_rewrite_parameters`` keeps.

    They tell which YAML parameters the client would move into the body; Elastic's runner
    sends them in the query string, and so do we. Empty when the client changes shape.
    """
    try:
        scope = inspect.getclosurevars(fn).nonlocals
    except TypeError:  # pragma: no cover - not a plain function
        return {}, frozenset()
    return dict(scope.get("parameter_aliases") or {}), frozenset(scope.get("body_fields") or ())


@dataclass
class PreparedCall:
    """One API call, ready to run; ``sent`` tells a client-side refusal from a failed request."""

    fn: Callable[..., Any]
    kwargs: dict[str, Any]
    sent: bool = False

    def __call__(self) -> Any:
        return self.fn(**self.kwargs)


def prepare_call(
    client: Elasticsearch, api: str, params: Mapping[str, Any], headers: Mapping[str, str]
) -> PreparedCall:
    """Turn ``do: {api: params}`` into a call of the client's API method."""
    params = dict(params)
    ignore = params.pop("ignore", None)
    if ignore is not None:  # a client-side option in Elastic's runner too
        client = client.options(ignore_status=ignore)
    fn = _resolve(client, api)
    aliases, body_fields = _rewrite_options(fn)
    accepted = set(inspect.signature(fn).parameters)
    kwargs: dict[str, Any] = {}
    query: dict[str, Any] = {}
    for name, value in params.items():
        python_name = aliases.get(name, name)
        if name == "body":
            kwargs["body"] = value
        elif python_name in accepted and python_name not in body_fields:
            kwargs[python_name] = value
        else:
            query[name] = value
    prepared = PreparedCall(fn, kwargs)
    prepared.fn = _resolve(_with_overrides(client, prepared, headers, query), api)
    return prepared


def _with_overrides(
    client: Elasticsearch,
    prepared: PreparedCall,
    headers: Mapping[str, str],
    query: Mapping[str, Any],
) -> Elasticsearch:
    """A copy of client whose requests carry the test's headers and extra query parameters.

    Each API method passes its own Accept/Content-Type to ``perform_request``, after (so over)
    the ``options(headers=...)`` ones; wrapping ``perform_request`` on a copy lets the test's
    headers win, as in Elastic's runner. Namespaced APIs (``client.indices``) call it too.
    """
    copy = client.options()
    inner = copy.perform_request
    extra_headers = {str(k): str(v) for k, v in headers.items()}

    def perform_request(
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any | None = None,
        endpoint_id: str | None = None,
        path_parts: Mapping[str, Any] | None = None,
    ) -> ApiResponse[Any]:
        prepared.sent = True
        merged = HttpHeaders(headers or {})
        merged.update(extra_headers)
        return inner(
            method,
            path,
            params={**(params or {}), **query},
            headers=merged,
            body=body,
            endpoint_id=endpoint_id,
            path_parts=path_parts,
        )

    copy.perform_request = perform_request  # type: ignore[method-assign]
    return copy


def _resolve(client: Elasticsearch, api: str) -> Callable[..., Any]:
    target: Any = client
    for part in api.split("."):
        target = getattr(target, part, None)
        if target is None or part.startswith("_"):
            raise RunnerError(f"elasticsearch-py has no API `{api}`")
    if not callable(target):
        raise RunnerError(f"elasticsearch-py has no API `{api}`")
    return target  # type: ignore[no-any-return]


@dataclass
class Outcome:
    """What one API call returned: a response, an error response, or a client-side refusal."""

    status: int | None  # None: the client refused the call before sending it
    body: Any = None
    warning: str | None = None  # the Warning header
    failed: bool = False  # the client raised ApiError (an error status not ignored)
    refusal: Exception | None = None


def call(fn: Callable[[], Any]) -> Outcome:
    """Run one API call and capture its outcome.

    The client turns Warning headers into ElasticsearchWarning; we read the header instead and
    keep those out of pytest's ``-W error``. Other warnings (a DeprecationWarning from the client
    about how we call it) are re-issued so they still fail the run.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            response = fn()
            outcome = Outcome(
                response.meta.status, response.body, response.meta.headers.get("warning")
            )
        except UnsupportedProductError:
            raise
        except ApiError as err:
            outcome = Outcome(err.meta.status, err.body, err.meta.headers.get("warning"), True)
        except (TypeError, ValueError) as err:
            if getattr(fn, "sent", True):  # raised after sending: not the client's refusal
                raise
            outcome = Outcome(None, refusal=err)
    for w in caught:
        # GeneralAvailabilityWarning: the client's note that an API is beta or preview.
        if not issubclass(w.category, (ElasticsearchWarning, GeneralAvailabilityWarning)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return outcome


# --------------------------------------------------------------------------- the runner

_DO_OPTIONS = frozenset(
    {"catch", "headers", "warnings", "allowed_warnings", "warnings_regex", "allowed_warnings_regex"}
)
_ASSERTIONS = frozenset(
    {
        "match",
        "is_true",
        "is_false",
        "exists",
        "not_exists",
        "length",
        "set",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
    }
)


class Runner:
    """Runs cases against one target: an Elasticsearch client and the version it speaks."""

    def __init__(self, client: Elasticsearch, version: str) -> None:
        self.client = client
        self.version = version
        self.stash = Stash()
        self.body: Any = None

    # -- gates

    def skip_reason(self, case: RestCase) -> str | None:
        """Why the case's own gates skip it on this target; RunnerError if the runner lacks one."""
        return skip_reason(case, self.version, self.capability_gap)

    def capability_gap(self, check: Mapping[str, Any]) -> str | None:
        """Ask the target (``GET /_capabilities``) whether it has a capability: None when it does.

        Like Elastic's runner, a 4xx answer means "unknown", which gates the case out.
        """
        params = {key: check[key] for key in ("method", "path") if key in check}
        for key in ("capabilities", "parameters"):
            if key in check:
                params[key] = ",".join(_names(check[key]))
        outcome = call(
            lambda: self.client.perform_request(
                "GET", "/_capabilities", params=params, headers={"accept": "application/json"}
            )
        )
        asked = f"GET /_capabilities?{urllib.parse.urlencode(params)}"
        if outcome.status is None or outcome.status >= 500:
            raise AssertionError(f"{asked} failed: {outcome.refusal or outcome.body!r}")
        if outcome.status >= 400:
            return f"the target answered {outcome.status} to {asked}: {java_str(outcome.body)}"
        supported = evaluate(outcome.body, "supported")
        return None if supported is True else f"{asked} answered supported={java_str(supported)}"

    # -- running

    def run(self, case: RestCase) -> None:
        """Run setup, the case, teardown, then wipe the indices (teardown runs even on failure)."""
        self.stash = Stash()
        self.body = None
        try:
            self._section("setup", case.setup)
            self._section("test", case.steps)
        finally:
            try:
                self._section("teardown", case.teardown)
            finally:
                wipe_indices(self.client)

    def _section(self, name: str, steps: Sequence[Step]) -> None:
        for number, step in enumerate(steps, 1):
            ((kind, arg),) = step.items()
            try:
                self.step(kind, arg)
            except (AssertionError, RunnerError) as err:
                # Say where, keeping the exception type (fail vs runner gap).
                raise type(err)(f"{name} step {number} ({kind}): {err}") from None

    def step(self, kind: str, arg: Any) -> None:
        """Execute one step: ``do``, an assertion, ``set``; gates were checked beforehand."""
        if kind in ("skip", "requires"):
            return
        if kind == "do":
            if not isinstance(arg, dict):
                raise RunnerError(f"`do` needs a mapping, got {arg!r}")
            self.do(arg)
        elif kind in _ASSERTIONS:
            self.check(kind, arg)
        else:
            raise RunnerError(f"the runner does not support the step `{kind}`")

    def do(self, spec: Mapping[str, Any]) -> None:
        """Call one API and check its status (``catch``) and warnings."""
        unsupported = sorted(k for k in spec if k == "node_selector")
        if unsupported:
            raise RunnerError(f"the runner does not support the do options {unsupported}")
        apis = [k for k in spec if k not in _DO_OPTIONS]
        if len(apis) != 1:
            raise RunnerError(f"`do` needs exactly one API, got {apis}")
        api = apis[0]
        catch = spec.get("catch")
        headers = self.stash.substitute(spec.get("headers") or {})
        params = self.stash.substitute(spec[api] or {})
        if not isinstance(params, dict):
            raise RunnerError(f"`{api}` needs a mapping of parameters, got {params!r}")
        outcome = call(prepare_call(self.client, api, params, headers))
        self.body = outcome.body
        self.stash.values["body"] = outcome.body
        if outcome.status is None:
            if catch != "param":
                raise AssertionError(f"the client refused `{api}`: {outcome.refusal}")
            return
        if catch == "param":
            raise AssertionError(
                f"expected the client to refuse `{api}`, but it was sent ({outcome.status})"
            )
        if outcome.failed:
            if catch is None:
                raise AssertionError(f"`{api}` failed with {outcome.status}: {outcome.body!r}")
            # As in Elastic's runner, warnings are judged on successful responses only.
            check_catch(str(catch), outcome.status, outcome.body)
            return
        if catch is not None:
            raise AssertionError(
                f"expected `catch: {catch}` but `{api}` returned {outcome.status}: {outcome.body!r}"
            )
        check_warnings(
            outcome.warning,
            _names(spec.get("warnings")),
            _names(spec.get("allowed_warnings")),
            _names(spec.get("warnings_regex")),
            _names(spec.get("allowed_warnings_regex")),
        )

    def check(self, kind: str, arg: Any) -> None:
        """One assertion against the last response."""
        if kind in ("is_true", "is_false", "exists", "not_exists"):
            if not isinstance(arg, str):
                raise RunnerError(f"`{kind}` needs a path, got {arg!r}")
            value = evaluate(self.body, arg, self.stash)
            ok = {
                "is_true": is_truthy(value),
                "is_false": not is_truthy(value),
                "exists": value is not None,
                "not_exists": value is None,
            }[kind]
            assert ok, f"[{arg}] is {java_str(value)}"
            return
        if not isinstance(arg, dict) or not arg:
            raise RunnerError(f"`{kind}` needs a mapping of path: value, got {arg!r}")
        for path, raw in arg.items():
            if kind == "set":
                self.stash.values[str(raw)] = evaluate(self.body, str(path), self.stash)
                continue
            actual = evaluate(self.body, str(path), self.stash)
            expected = self.stash.substitute(raw)
            assert_value(kind, str(path), actual, expected)


def assert_value(kind: str, path: str, actual: Any, expected: Any) -> None:
    """match, length, gt/gte/lt/lte and contains, with Elastic's semantics."""
    where = f"[{path or '$body'}]"
    if kind == "match":
        pattern = regex_of(expected)
        if pattern is not None:
            assert isinstance(actual, str), f"{where} = {actual!r} is no string to match {expected}"
            # Elastic compiles match regexes with COMMENTS (whitespace ignored) and uses find().
            assert re.search(pattern, actual, re.VERBOSE), f"{where} = {actual!r} !~ {expected}"
        else:
            assert json_equal(actual, expected), f"{where} expected {expected!r}, got {actual!r}"
    elif kind == "length":
        assert isinstance(actual, (list, dict, str)), f"{where} has no length: {actual!r}"
        assert json_equal(len(actual), expected), (
            f"{where} length expected {expected!r}, got {len(actual)}: {actual!r}"
        )
    elif kind in ("gt", "gte", "lt", "lte"):
        comparable = all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in (actual, expected)
        ) or all(isinstance(v, str) for v in (actual, expected))
        assert comparable, f"{where} = {actual!r} cannot be compared with {expected!r}"
        ok = {
            "gt": actual > expected,
            "gte": actual >= expected,
            "lt": actual < expected,
            "lte": actual <= expected,
        }[kind]
        assert ok, f"{where} expected {kind} {expected!r}, got {actual!r}"
    elif kind == "contains":
        assert isinstance(actual, list), f"{where} is not a list: {actual!r}"
        if isinstance(expected, dict):
            found = any(
                isinstance(item, dict)
                and all(k in item and json_equal(item[k], v) for k, v in expected.items())
                for item in actual
            )
        else:
            found = any(json_equal(item, expected) for item in actual)
        assert found, f"{where} does not contain {expected!r}: {actual!r}"
    else:  # pragma: no cover - the caller checks kind against _ASSERTIONS
        raise RunnerError(f"the runner does not support the assertion `{kind}`")


def prepare_target(client: Elasticsearch) -> None:
    """Give the target the setting Elastic's test clusters start with and the corpus assumes.

    Their DefaultSettingsProvider sets ``action.destructive_requires_name: false``, which the
    wildcard cases of indices.delete/10_basic.yml rely on (the default is true since 8.0).
    """
    client.cluster.put_settings(persistent={"action.destructive_requires_name": False})


def wipe_indices(client: Elasticsearch) -> None:
    """Delete every index, hidden and closed ones too, as Elastic's runner does after each test.

    Elastic's runner deletes ``*``; we list the indices and delete them by name, which works
    even when a case leaves ``action.destructive_requires_name`` true. Dot-prefixed indices are
    a real cluster's system indices: kept.
    """
    with warnings.catch_warnings():
        # Listing may touch system indices, which a real cluster answers with a warning.
        warnings.simplefilter("ignore", ElasticsearchWarning)
        found = client.options(ignore_status=404).indices.get(index="*", expand_wildcards="all")
        names = [name for name in found.body if not name.startswith(".")]
        if names:
            client.indices.delete(index=",".join(names), expand_wildcards="all")
