"""The YAML runner's own logic, against pure inputs and a scripted elastic_transport node."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node._base import NodeApiResponse
from elasticsearch import Elasticsearch

from .runner import (
    SERIALIZERS,
    RestCase,
    Runner,
    RunnerError,
    Stash,
    check_catch,
    check_warnings,
    evaluate,
    in_ranges,
    is_truthy,
    json_equal,
    load_file,
    parse_ranges,
    parse_version,
    skip_reason,
    split_path,
)
from .runner import (
    assert_value as check,
)

# --------------------------------------------------------------------------- a scripted node


@dataclass
class Sent:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes | None


@dataclass
class Server:
    """Answers each request with the next scripted response (default 200 {}); records requests."""

    sent: list[Sent] = field(default_factory=list)
    answers: deque[tuple[int, Any, dict[str, str]]] = field(default_factory=deque)
    crash: Exception | None = None  # raised by the node instead of answering

    def answer(self, status: int = 200, body: Any = None, **headers: str) -> None:
        self.answers.append((status, {} if body is None else body, headers))

    def client(self) -> Elasticsearch:
        server = self

        class Node(BaseNode):
            def perform_request(
                self,
                method: str,
                target: str,
                body: bytes | None = None,
                headers: HttpHeaders | None = None,
                request_timeout: Any = None,
            ) -> NodeApiResponse:
                server.sent.append(Sent(method, target, dict(headers or {}), body))
                if server.crash is not None:
                    raise server.crash
                status, payload, extra = (
                    server.answers.popleft() if server.answers else (200, {}, {})
                )
                content_type = extra.pop("content_type", "application/json")
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                response_headers = HttpHeaders(
                    {"x-elastic-product": "Elasticsearch", "content-type": content_type, **extra}
                )
                meta = ApiResponseMeta(status, "1.1", response_headers, 0.0, self.config)
                return NodeApiResponse(meta, b"" if method == "HEAD" else raw)

        return Elasticsearch("http://localhost:9200", node_class=Node, serializers=SERIALIZERS)


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def runner(server: Server) -> Runner:
    return Runner(server.client(), "9.2.0")


def case(*steps: dict[str, Any], setup: tuple[dict[str, Any], ...] = ()) -> RestCase:
    return RestCase("t/10_x.yml", "a case", tuple(steps), setup=setup)


def no_capabilities(check: Any) -> str | None:
    raise AssertionError("no capability check expected")


# --------------------------------------------------------------------------- paths, stash, values


def test_split_path_keeps_escaped_dots() -> None:
    assert split_path(r"test_index.settings.index\.number_of_shards") == [
        "test_index",
        "settings",
        "index.number_of_shards",
    ]
    assert split_path("") == []


def test_evaluate_walks_dicts_and_lists() -> None:
    body = {"items": [{"index": {"status": 400}}], "a.b": 1}
    assert evaluate(body, "items.0.index.status") == 400
    assert evaluate(body, r"a\.b") == 1
    assert evaluate(body, "items.1.index") is None
    assert evaluate(body, "items.x") is None
    assert evaluate(body, "") is body
    assert evaluate(body, "$body") is body


def test_stash_substitutes_values_embedded_keys_and_paths() -> None:
    stash = Stash()
    stash.values.update(task="n:1", n=3, body={"took": 5})
    assert stash.substitute({"task_id": "$task", "q": "id ${task}!", "$task": ["$n"]}) == {
        "task_id": "n:1",
        "q": "id n:1!",
        "n:1": [3],
    }
    assert stash.lookup("body.took") == 5
    evaluated = evaluate({"nodes": {"n:1": {"name": "x"}}}, "nodes.$task.name", stash)
    assert evaluated == "x"
    with pytest.raises(AssertionError, match=r"\$missing"):
        stash.substitute("$missing")


@pytest.mark.parametrize(
    ("value", "truthy"),
    [(None, False), ("", False), ("false", False), ("FALSE", False), (0, False), (False, False),
     ({}, True), ([], True), ("0.0", True), (0.0, True), (True, True), ("x", True)],
)  # fmt: skip
def test_is_truthy_follows_java_to_string(value: Any, truthy: bool) -> None:
    assert is_truthy(value) is truthy


def test_json_equal_is_strict_about_types() -> None:
    assert json_equal(1, 1.0)
    assert json_equal({"a": [1, "x"]}, {"a": [1.0, "x"]})
    assert not json_equal(True, 1)
    assert not json_equal("1", 1)
    assert not json_equal({"a": 1}, {"a": 1, "b": None})
    assert json_equal(None, None)


def test_match_regex_uses_comments_mode_and_find() -> None:
    reason = "[1]: version conflict, required seqNo [2]"
    check("match", "r", reason, "/\\[1\\]:.version.conflict,  .required  /")
    check("match", "r", "x 12 y", r"/\d+/")
    with pytest.raises(AssertionError, match="!~"):
        check("match", "r", "abc", r"/\d+/")
    with pytest.raises(AssertionError, match="no string"):
        check("match", "shard", 0, r"/\d+/")


def test_other_value_assertions() -> None:
    check("match", "a", {"x": [1]}, {"x": [1]})
    with pytest.raises(AssertionError, match="expected"):
        check("match", "a", "1", 1)
    check("length", "items", [1, 2], 2)
    check("gte", "took", 0, 0)
    check("lt", "took", 3, 60000)
    with pytest.raises(AssertionError, match="cannot be compared"):
        check("gt", "took", None, 0)
    with pytest.raises(AssertionError, match="expected gt"):
        check("gt", "took", 0, 0)
    check("contains", "l", [{"a": 1, "b": 2}, 3], {"a": 1})
    check("contains", "l", [{"a": 1}, 3], 3)
    with pytest.raises(AssertionError, match="does not contain"):
        check("contains", "l", [{"a": 1}], {"a": 2})


# --------------------------------------------------------------------------- versions and gates


@pytest.mark.parametrize(
    ("spec", "version", "inside"),
    [(" - 6.99.99", "9.2.0", False), (" - 6.99.99", "6.8.0", True), ("7.3.0 - ", "9.2.0", True),
     ("8.3.0 - 8.3.2", "8.3.2", True), ("8.3.0 - 8.3.2", "8.3.3", False), ("all", "1.0.0", True),
     (" - 7.1.99, 9.0.0 - 9.9.9", "9.2.0-SNAPSHOT", True)],
)  # fmt: skip
def test_version_ranges(spec: str, version: str, inside: bool) -> None:
    assert in_ranges(version, spec) is inside


def test_parse_version() -> None:
    assert parse_version("9.2.0-SNAPSHOT") == (9, 2, 0)
    assert parse_version("8") == (8, 0, 0)
    assert parse_version(" 7.10 ") == (7, 10, 0)


def test_malformed_version_range_is_a_runner_error() -> None:
    with pytest.raises(RunnerError):
        parse_ranges("7.0.0 - 8.0.0 - 9.0.0")
    with pytest.raises(RunnerError):
        parse_ranges("seven - ")


def test_version_skip_names_the_gate_and_target() -> None:
    gated = case({"skip": {"version": "9.0.0 - ", "reason": "changed in 9"}}, {"do": {"info": {}}})
    reason = skip_reason(gated, "9.2.0", no_capabilities)
    assert reason is not None
    assert "changed in 9" in reason
    assert "9.2.0" in reason
    assert skip_reason(gated, "8.19.0", no_capabilities) is None


def test_skip_in_setup_gates_every_case() -> None:
    gated = case({"do": {"info": {}}}, setup=({"skip": {"version": " - 9.9.9", "reason": "r"}},))
    assert skip_reason(gated, "9.2.0", no_capabilities) is not None


def test_cluster_features_gte_is_a_version_check_named_ones_are_present() -> None:
    def requires(*features: str) -> RestCase:
        return case({"requires": {"cluster_features": list(features), "reason": "r"}})

    assert skip_reason(requires("gte_v8.15.1"), "9.2.0", no_capabilities) is None
    assert skip_reason(requires("gte_v9.3.0"), "9.2.0", no_capabilities) is not None
    assert skip_reason(requires("search.hide_vectors_in_source"), "9.2.0", no_capabilities) is None


def test_unknown_runner_feature_fails_instead_of_skipping() -> None:
    needs = case({"skip": {"features": ["headers", "node_selector"]}})
    with pytest.raises(RunnerError, match="node_selector"):
        skip_reason(needs, "9.2.0", no_capabilities)
    needs = case({"requires": {"test_runner_features": "arbitrary_key"}})
    with pytest.raises(RunnerError, match="arbitrary_key"):
        skip_reason(needs, "9.2.0", no_capabilities)
    with pytest.raises(RunnerError, match="os"):
        skip_reason(case({"skip": {"os": "windows"}}), "9.2.0", no_capabilities)
    # ... but a case its own version gate skips is skipped, whatever it would need.
    gated = case({"skip": {"version": "all", "reason": "r", "features": ["node_selector"]}})
    assert skip_reason(gated, "9.2.0", no_capabilities) is not None
    known = case({"skip": {"features": ["headers", "yaml", "allowed_warnings", "default_shards"]}})
    assert skip_reason(known, "9.2.0", no_capabilities) is None


def test_skip_that_is_not_first_is_a_runner_error() -> None:
    late = case({"do": {"info": {}}}, {"skip": {"version": "all"}})
    with pytest.raises(RunnerError, match="must come before"):
        skip_reason(late, "9.2.0", no_capabilities)


CAPABILITY = {"method": "PUT", "path": "/{index}", "capabilities": ["lookup_index_mode"]}
NEEDS_CAPABILITY = case(
    {"requires": {"test_runner_features": ["capabilities"], "capabilities": [CAPABILITY]}}
)


def test_capabilities_asks_the_target(server: Server, runner: Runner) -> None:
    server.answer(body={"supported": True})
    assert runner.skip_reason(NEEDS_CAPABILITY) is None
    assert server.sent[0].method == "GET"
    assert server.sent[0].target.startswith("/_capabilities?method=PUT&path=%2F%7Bindex%7D")
    assert "capabilities=lookup_index_mode" in server.sent[0].target

    server.answer(body={"supported": False})
    assert "supported=false" in str(runner.skip_reason(NEEDS_CAPABILITY))


def test_capabilities_unknown_to_the_target_skip_with_its_answer(
    server: Server, runner: Runner
) -> None:
    server.answer(400, {"error": "no handler found for uri [/_capabilities]"})
    assert "answered 400" in str(runner.skip_reason(NEEDS_CAPABILITY))
    server.answer(500, {"error": "boom"})
    with pytest.raises(AssertionError, match="failed"):
        runner.skip_reason(NEEDS_CAPABILITY)


# --------------------------------------------------------------------------- catch and warnings


@pytest.mark.parametrize(
    ("catch", "status"),
    [("missing", 404), ("conflict", 409), ("bad_request", 400), ("unauthorized", 401),
     ("forbidden", 403), ("request", 500), ("request", 429), ("unavailable", 503)],
)  # fmt: skip
def test_catch_accepts_its_status(catch: str, status: int) -> None:
    check_catch(catch, status, {"error": {"type": "x"}, "status": status})


@pytest.mark.parametrize(
    ("catch", "status"), [("missing", 400), ("conflict", 404), ("request", 404), ("request", 400)]
)
def test_catch_rejects_other_statuses(catch: str, status: int) -> None:
    with pytest.raises(AssertionError):
        check_catch(catch, status, {})


def test_catch_regex_matches_the_error_as_java_prints_it() -> None:
    body = {"error": {"root_cause": [], "type": "action_request_validation_exception",
                      "reason": "Validation Failed: 1: id is missing for doc 0;"}}  # fmt: skip
    check_catch("/action_request_validation_exception.+ id is missing/", 400, body)
    with pytest.raises(AssertionError, match="does not match"):
        check_catch("/index is missing/", 400, body)
    with pytest.raises(AssertionError, match="expected an error"):
        check_catch("/id is missing/", 200, body)
    with pytest.raises(RunnerError, match="catch: teapot"):
        check_catch("teapot", 418, body)


def test_warning_headers() -> None:
    header = '299 Elasticsearch-9.2.0-abc "[local] is \\"deprecated\\"", 299 Elasticsearch-9 "b"'
    check_warnings(header, expected=['[local] is "deprecated"'], allowed=["b"])
    check_warnings(header, allowed_regex=[r"\[local\].*", "b"])
    with pytest.raises(AssertionError, match="unexpected warnings"):
        check_warnings(header, expected=["b"])
    with pytest.raises(AssertionError, match="missing warnings"):
        check_warnings(None, expected=["b"])
    with pytest.raises(AssertionError, match="unparsable"):
        check_warnings("not a warning")
    check_warnings(None)


# --------------------------------------------------------------------------- do, through the client


def test_test_headers_win_over_the_api_defaults(server: Server, runner: Runner) -> None:
    server.answer(body=b"_id: '1'\nfound: true\n", content_type="application/yaml")
    runner.step("do", {"headers": {"Accept": "application/yaml"}, "get": {"index": "i", "id": 1}})
    assert server.sent[0].headers["accept"] == "application/yaml"
    assert server.sent[0].target == "/i/_doc/1"
    runner.check("match", {"_id": "1", "found": True})


def test_bulk_bodies_are_sent_as_given(server: Server, runner: Runner) -> None:
    lines = ['{"index": {"_index": "i"}}', '{"f": 1}']
    runner.step("do", {"bulk": {"body": lines}})
    runner.step("do", {"bulk": {"body": '{"index": {}}\n{"f": 1}\n', "index": "i"}})
    runner.step("do", {"bulk": {"body": [{"index": {}}, {"f": 1}], "index": "i"}})
    assert [s.body for s in server.sent] == [
        b'{"index": {"_index": "i"}}\n{"f": 1}\n',
        b'{"index": {}}\n{"f": 1}\n',
        b'{"index":{}}\n{"f":1}\n',
    ]


def test_params_the_client_lacks_or_puts_in_the_body_go_to_the_query(
    server: Server, runner: Runner
) -> None:
    runner.step("do", {"bulk": {"index": "v", "_source_include_vectors": True, "body": ["{}"]}})
    assert server.sent[0].target == "/v/_bulk?_source_include_vectors=true"
    body: dict[str, Any] = {"query": {"match_all": {}}}
    runner.step("do", {"delete_by_query": {"index": "t", "max_docs": 1, "body": body}})
    assert server.sent[1].target == "/t/_delete_by_query?max_docs=1"
    assert json.loads(server.sent[1].body or b"") == body
    runner.step("do", {"get": {"index": "t", "id": "1", "_source_includes": "a", "refresh": ""}})
    path, _, query = server.sent[2].target.partition("?")
    assert (path, sorted(query.split("&"))) == ("/t/_doc/1", ["_source_includes=a", "refresh="])


def test_catch_stashes_the_error_body(server: Server, runner: Runner) -> None:
    server.answer(404, {"found": False, "result": "not_found"})
    runner.step("do", {"catch": "missing", "delete": {"index": "i", "id": "1"}})
    runner.check("match", {"result": "not_found"})


def test_errors_without_catch_and_success_with_catch_fail(server: Server, runner: Runner) -> None:
    server.answer(409, {"error": {"type": "version_conflict_engine_exception"}})
    with pytest.raises(AssertionError, match="failed with 409"):
        runner.step("do", {"index": {"index": "i", "id": "1", "body": {}}})
    with pytest.raises(AssertionError, match="expected `catch: conflict`"):
        runner.step("do", {"catch": "conflict", "index": {"index": "i", "id": "1", "body": {}}})


def test_ignore_returns_the_error_as_a_response(server: Server, runner: Runner) -> None:
    server.answer(404, {"found": False})
    runner.step("do", {"get": {"index": "i", "id": "1", "ignore": 404}})
    runner.check("is_false", "found")


def test_exists_gives_a_boolean_body(server: Server, runner: Runner) -> None:
    server.answer(404)
    runner.step("do", {"exists": {"index": "i", "id": "1"}})
    runner.check("is_false", "")
    runner.step("do", {"exists": {"index": "i", "id": "1"}})
    runner.check("is_true", "")


def test_catch_param_expects_the_client_to_refuse(server: Server, runner: Runner) -> None:
    runner.step("do", {"catch": "param", "create": {"index": "i", "body": {}}})
    assert server.sent == []
    with pytest.raises(AssertionError, match="refuse"):
        runner.step("do", {"catch": "param", "create": {"index": "i", "id": "1", "body": {}}})
    with pytest.raises(AssertionError, match="refused"):
        runner.step("do", {"create": {"index": "i", "body": {}}})


def test_a_type_error_after_sending_is_no_client_refusal(server: Server, runner: Runner) -> None:
    server.crash = TypeError("bug in the target")
    with pytest.raises(TypeError, match="bug in the target"):
        runner.step("do", {"catch": "param", "create": {"index": "i", "id": "1", "body": {}}})


def test_warnings_must_be_declared(server: Server, runner: Runner) -> None:
    warning = '299 Elasticsearch-9.2.0 "[local] is deprecated"'
    server.answer(200, {}, warning=warning)
    with pytest.raises(AssertionError, match="unexpected warnings"):
        runner.step("do", {"indices.exists": {"index": "i", "local": True}})
    server.answer(200, {}, warning=warning)
    do = {"indices.exists": {"index": "i", "local": True}}
    runner.step("do", {**do, "allowed_warnings": ["[local] is deprecated"]})
    with pytest.raises(AssertionError, match="missing warnings"):
        runner.step("do", {**do, "warnings": ["[local] is deprecated"]})


def test_set_then_use_the_stashed_value(server: Server, runner: Runner) -> None:
    server.answer(body={"task": "node:7"})
    runner.step("do", {"delete_by_query": {"index": "t", "wait_for_completion": False}})
    runner.check("set", {"task": "task"})
    runner.step("do", {"tasks.get": {"task_id": "$task"}})
    assert server.sent[-1].target == "/_tasks/node%3A7"


def test_what_the_runner_lacks_is_a_runner_error(runner: Runner) -> None:
    with pytest.raises(RunnerError, match="transform_and_set"):
        runner.step("transform_and_set", {"a": "b"})
    with pytest.raises(RunnerError, match="node_selector"):
        runner.step("do", {"node_selector": {"version": "current"}, "info": {}})
    with pytest.raises(RunnerError, match=r"no API `indices\.frobnicate`"):
        runner.step("do", {"indices.frobnicate": {}})


def test_run_keeps_going_to_teardown_and_cleanup(server: Server, runner: Runner) -> None:
    server.answer(500, {"error": "boom"})
    server.answer()  # teardown
    server.answer(body={"a": {}, "b": {}, ".security-7": {}})  # the indices left
    failing = RestCase(
        "t/10_x.yml",
        "fails",
        ({"do": {"info": {}}},),
        teardown=({"do": {"indices.refresh": {}}},),
    )
    with pytest.raises(AssertionError, match=r"test step 1 \(do\): `info` failed with 500"):
        runner.run(failing)
    assert [(s.method, s.target) for s in server.sent] == [
        ("GET", "/"),
        ("POST", "/_refresh"),
        ("GET", "/*?expand_wildcards=all"),
        ("DELETE", "/a,b?expand_wildcards=all"),
    ]


# --------------------------------------------------------------------------- loading


def test_load_file_reads_setup_teardown_and_cases(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    path = tmp_path / "api" / "10_basic.yml"
    path.write_text(
        "setup:\n  - do: {indices.create: {index: i}}\n---\n"
        "teardown:\n  - do: {indices.delete: {index: i}}\n---\n"
        '"First":\n  - match: {when: 2021-04-28T00:00:00Z, flag: on, ok: true}\n---\n'
        "Second:\n  - is_true: ''\n---\n",
        encoding="utf-8",
    )
    first, second = load_file(path, tmp_path)
    assert first.id == "api/10_basic.yml::First"
    assert second.id == "api/10_basic.yml::Second"
    assert first.setup == ({"do": {"indices.create": {"index": "i"}}},)
    assert first.teardown == ({"do": {"indices.delete": {"index": "i"}}},)
    # Dates and YAML 1.1 booleans stay strings, as Elastic's parser reads them.
    assert first.steps == ({"match": {"when": "2021-04-28T00:00:00Z", "flag": "on", "ok": True}},)


def test_load_file_rejects_malformed_cases(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text('"Case":\n  do: {info: {}}\n', encoding="utf-8")
    with pytest.raises(RunnerError, match=r"bad\.yml::Case"):
        load_file(path, tmp_path)
