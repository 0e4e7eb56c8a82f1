"""Benchmark plumbing: targets, the backends under test, and the end-of-run report.

Absolute timings on a shared machine are noise; ratios of two benchmarks measured in the same
run are not. Each benchmark labels itself (target, impl, op, keys) so ``bench/_report.py`` can
compare it with its baselines: the client's floor, the raw client, Celery's built-in backend.

Without ``--es-target`` the suite runs on the fake node and on the emulator (the same in-memory
cluster over HTTP); ``--es-target=emulator|docker|URL`` runs it on that target alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from bench import _report
from bench._support import builtin_backend, builtin_unavailable, seed
from esbackend._backend import INDEX_MAPPING

if TYPE_CHECKING:
    from celery import Celery
    from elasticsearch import Elasticsearch

    from esbackend import ElasticsearchBackend
    from esbackend.fixtures._targets import Target

_ENFORCE = "--bench-enforce"
_TARGETS_KEY = pytest.StashKey[list[str]]()
_EXTRA_KEY = pytest.StashKey[list[tuple[str, float, float]]]()
_SESSION_KEY = pytest.StashKey[pytest.Session]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        _ENFORCE, action="store_true", help="fail the run when a ratio target is missed"
    )


def pytest_configure(config: pytest.Config) -> None:
    explicit = "ES_TARGET" in os.environ or any(
        str(arg).startswith("--es-target") for arg in config.invocation_params.args
    )
    chosen = str(config.getoption("--es-target", "fake"))
    config.stash[_TARGETS_KEY] = [chosen] if explicit else ["fake", "emulator"]
    config.stash[_EXTRA_KEY] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_SESSION_KEY] = session


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every benchmark that asks for a target runs once per target, grouped per target.
    if "es_target_name" in metafunc.fixturenames:
        names = metafunc.config.stash[_TARGETS_KEY]
        metafunc.parametrize(
            "es_target_name", names, ids=[_short(n) for n in names], indirect=True, scope="session"
        )


def _short(name: str) -> str:
    return "url" if name.startswith(("http://", "https://")) else name


@pytest.fixture(scope="session")
def es_target_name(request: pytest.FixtureRequest) -> str:
    """The plugin's target selection, parametrized here over this run's targets."""
    return str(getattr(request, "param", "fake"))


@pytest.fixture(scope="session")
def emulator_in_run(pytestconfig: pytest.Config) -> bool:
    """True when this run measures the emulator (so the bare-HTTP baseline is worth taking)."""
    return "emulator" in pytestconfig.stash[_TARGETS_KEY]


@pytest.fixture(scope="session")
def builtin_reason() -> str | None:
    """Why Celery's built-in backend is skipped in this environment, or None."""
    return builtin_unavailable()


@dataclass
class Stack:
    """One target and the three ways to read results from it: client, esbackend, built-in."""

    name: str
    target: Target
    client: Elasticsearch
    index: str
    app: Celery
    builtin_reason: str | None
    _backends: dict[str, Any] = field(default_factory=dict)
    _apps: list[Celery] = field(default_factory=list)

    @property
    def esbackend(self) -> ElasticsearchBackend:
        if "esbackend" not in self._backends:
            self._backends["esbackend"] = self.app.backend
        backend: ElasticsearchBackend = self._backends["esbackend"]
        return backend

    @property
    def builtin(self) -> Any:
        """Celery's built-in backend on this target; skips the test where it cannot run."""
        if self.builtin_reason is not None:
            pytest.skip(self.builtin_reason)
        if "builtin" not in self._backends:
            self._backends["builtin"] = builtin_backend(self.app, self.target, self.index)
        return self._backends["builtin"]

    @property
    def esbackend_stdlib(self) -> ElasticsearchBackend:
        """esbackend decoding with the stdlib, as without orjson (the client's own serializer)."""
        if "esbackend-stdlib" not in self._backends:
            from celery import Celery
            from elasticsearch.serializer import JsonSerializer

            app = Celery("esbackend-bench-stdlib", set_as_current=False)
            app.conf.update(self.app.conf.changes)
            options = dict(app.conf.elasticsearch_client_options or {})
            app.conf.elasticsearch_client_options = {**options, "serializer": JsonSerializer()}
            self._apps.append(app)
            self._backends["esbackend-stdlib"] = app.backend
        backend: ElasticsearchBackend = self._backends["esbackend-stdlib"]
        return backend

    def backend(self, impl: str) -> Any:
        if impl == "builtin":
            return self.builtin
        return self.esbackend_stdlib if impl == "esbackend-stdlib" else self.esbackend

    def close(self) -> None:
        for app in (self.app, *self._apps):
            app.close()

    def seed(self, n: int) -> tuple[list[str], list[str]]:
        """Store ``n`` SUCCESS results; returns (task ids, keys)."""
        from bench._support import new_task_ids

        task_ids = new_task_ids(n)
        return task_ids, seed(self.client, self.index, task_ids)


@pytest.fixture
def stack(
    es_target_name: str,
    es_target: Target,
    es_client: Elasticsearch,
    es_index: str,
    es_celery_config: dict[str, Any],
    builtin_reason: str | None,
) -> Iterator[Stack]:
    """The selected target with its results index made, and both backends bound to it."""
    from celery import Celery

    es_client.indices.create(index=es_index, mappings=INDEX_MAPPING)
    app = Celery("esbackend-bench", set_as_current=False)
    # No result cache: every get_many must ask the cluster, not Celery's LRU.
    app.conf.update(broker_url="memory://", result_cache_max=-1, **es_celery_config)
    stack = Stack(_short(es_target_name), es_target, es_client, es_index, app, builtin_reason)
    yield stack
    stack.close()


Label = Callable[..., None]


@pytest.fixture
def label(benchmark: Any) -> Label:
    """Name a benchmark for the report: ``label(target, impl, op, keys)``.

    The group is the operation, so pytest-benchmark's tables put every way of doing the same
    thing (floor, client, esbackend, built-in, on every target) side by side.
    """

    def apply(target: str, impl: str, op: str, keys: int = 1, group: str | None = None) -> None:
        benchmark.group = group or f"{op} ({keys} key{'s' if keys != 1 else ''})"
        benchmark.extra_info.update(target=target, impl=impl, op=op, keys=keys)

    return apply


@pytest.fixture
def bench_ratio(pytestconfig: pytest.Config) -> Callable[[str, float, float], None]:
    """Report a ratio measured without pytest-benchmark (``what``, ratio, limit)."""

    def record(what: str, ratio: float, limit: float) -> None:
        pytestconfig.stash[_EXTRA_KEY].append((what, ratio, limit))

    return record


# -- the report --------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    session = getattr(config, "_benchmarksession", None)
    benchmarks = list(getattr(session, "benchmarks", None) or [])
    results = _report.results_of((b.extra_info, b.stats.median) for b in benchmarks if b)
    extra = config.stash.get(_EXTRA_KEY, [])
    if not results and not extra:
        return
    write = terminalreporter.write_line
    if results:
        terminalreporter.section("throughput (medians, this run)")
        for line in _report.table(results):
            write(line)
        if not any(r.impl == "builtin" for r in results):
            write("(Celery's built-in backend did not run: see the skip reasons)")
        write(_report.chart(results, _report.RESULTS / "throughput.png"))
    terminalreporter.section("ratio targets (medians, this run)")
    missed = 0
    for target, ratio in _report.ratios(results):
        missed += not target.met(ratio)
        write(_report.describe(target, ratio))
    for what, ratio, limit in extra:
        ok = ratio <= limit
        missed += not ok
        write(f"{'ok  ' if ok else 'MISS'} {ratio:6.2f}x (limit {limit:.2f}x)  {what}")
    if missed and config.getoption(_ENFORCE):
        write(f"{missed} ratio target(s) missed")
        # The summary runs inside pytest_sessionfinish; pytest exits with this status after.
        session = config.stash.get(_SESSION_KEY, None)
        if session is not None and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
