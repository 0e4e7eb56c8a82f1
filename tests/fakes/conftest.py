from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from esbackend.fakes import FakeCluster


class ManualClock:
    """A clock the test moves by hand, for the refresh schedule."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def cluster(clock: ManualClock) -> FakeCluster:
    return FakeCluster(clock=clock)


@pytest.fixture
def es(cluster: FakeCluster) -> Iterator[Elasticsearch]:
    client = cluster.client()
    yield client
    client.close()
