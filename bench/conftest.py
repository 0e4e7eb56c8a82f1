"""Benchmark plumbing: fixtures, and a summary of the ratios our speed targets are stated in.

Absolute timings on a shared machine are noise; ratios of two benchmarks measured in the same
run are not. Each target names a benchmark, the one it is compared with, and the limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Target:
    """``subject`` may take at most ``limit`` times as long as ``baseline`` (per key if asked)."""

    subject: str
    baseline: str
    limit: float
    what: str
    subject_keys: int = 1
    baseline_keys: int = 1


TARGETS = [
    Target(
        "test_get[fake]",
        "test_get[floor]",
        1.5,
        "client.get through the fake vs a node returning a fixed body",
    ),
    Target(
        "test_get_index_size[100000]",
        "test_get_index_size[1]",
        1.25,
        "get from an index of 100,000 docs vs one doc",
    ),
    Target(
        "test_mget[1000]",
        "test_mget[100]",
        1.25,
        "mget cost per id, 1000 ids vs 100 ids (linear growth)",
        1000,
        100,
    ),
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-enforce", action="store_true", help="fail the run when a ratio target is missed"
    )


def _ratios(benchmarks: Iterable[object]) -> list[tuple[Target, float]]:
    medians = {b.name: b.stats.median for b in benchmarks}  # type: ignore[attr-defined]
    out = []
    for target in TARGETS:
        if target.subject in medians and target.baseline in medians:
            subject = medians[target.subject] / target.subject_keys
            baseline = medians[target.baseline] / target.baseline_keys
            out.append((target, subject / baseline))
    return out


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    ratios = _ratios(session.benchmarks)
    if not ratios:
        return
    terminalreporter.section("ratio targets (medians, this run)")
    missed = 0
    for target, ratio in ratios:
        ok = ratio <= target.limit
        missed += not ok
        terminalreporter.write_line(
            f"{'ok  ' if ok else 'MISS'} {ratio:5.2f}x (limit {target.limit:.2f}x)  {target.what}"
        )
    if missed and config.getoption("--bench-enforce"):
        terminalreporter.write_line(f"{missed} ratio target(s) missed")
        config._bench_missed = missed  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if getattr(session.config, "_bench_missed", 0):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
