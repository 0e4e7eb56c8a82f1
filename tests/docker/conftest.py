"""Fixtures for the cluster manager's unit tests: a mocked engine, a fake clock, no atexit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses

from esbackend.fixtures import _docker
from esbackend.fixtures._docker import DockerCluster

from .engine import FakeEngine


@dataclass
class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Exits:
    """Stands in for the ``atexit`` module, so tests never leave real exit handlers."""

    handlers: list[Callable[[], None]] = field(default_factory=list)

    def register(self, func: Callable[[], None]) -> None:
        self.handlers.append(func)

    def unregister(self, func: Callable[[], None]) -> None:
        self.handlers = [h for h in self.handlers if h != func]


@pytest.fixture
def engine() -> Iterator[FakeEngine]:
    # Every request is answered by the fake engine; anything else fails the test.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeEngine(mock)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> Exits:
    fake = Exits()
    monkeypatch.setattr(_docker, "atexit", fake)
    return fake


@pytest.fixture
def progress() -> list[str]:
    return []


ClusterFactory = Callable[..., DockerCluster]


@pytest.fixture
def make_cluster(
    engine: FakeEngine, fake_time: FakeTime, exits: Exits, progress: list[str]
) -> Iterator[ClusterFactory]:
    """``make_cluster(version="9.1.0", **options)``: a DockerCluster on the fake engine."""
    clients: list[Any] = []

    def make(version: str = "9.1.0", **options: Any) -> DockerCluster:
        client = engine.client()
        clients.append(client)
        options = {
            "client": client,
            "clock": fake_time.clock,
            "sleep": fake_time.sleep,
            "progress": progress.append,
            **options,
        }
        return DockerCluster(version, **options)

    yield make
    for client in clients:
        client.close()
