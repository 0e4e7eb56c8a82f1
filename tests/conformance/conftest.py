"""The target the YAML REST tests run against.

``es_rest_target`` hands each case a client with clean state and the target's version. The
target is started once per session by ``es_rest_session``: today the in-memory FakeCluster;
``open_target`` is the seam where a later ``--es-target=emulator|URL`` option picks another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from elasticsearch import Elasticsearch

from .runner import SERIALIZERS, prepare_target


@dataclass
class SessionTarget:
    """A started target: its client, its version, and how to wipe its state between cases."""

    client: Elasticsearch
    version: str
    reset: Callable[[], None]
    close: Callable[[], None]


def open_target(spec: str) -> SessionTarget:
    """Start or connect to a target: ``fake``, or the URL of a running cluster."""
    if spec == "fake":
        from esbackend.fakes import FakeCluster  # only the YAML tests need the fake

        cluster = FakeCluster()
        client = cluster.client(serializers=SERIALIZERS)
        return SessionTarget(client, cluster.version, cluster.reset, client.close)
    if spec.startswith(("http://", "https://")):
        # A real cluster has no reset: the runner's own cleanup (teardown, then deleting
        # every index) is what keeps cases apart, as in Elastic's runner.
        client = Elasticsearch(spec, serializers=SERIALIZERS)
        version = str(client.info()["version"]["number"])
        return SessionTarget(client, version, lambda: None, client.close)
    raise pytest.UsageError(f"unknown YAML REST test target {spec!r}: use 'fake' or a URL")


@pytest.fixture(scope="session")
def es_rest_session() -> Iterator[SessionTarget]:
    """The target of this session (the fake until --es-target exists)."""
    target = open_target("fake")
    yield target
    target.close()


@pytest.fixture
def es_rest_target(es_rest_session: SessionTarget) -> tuple[Elasticsearch, str]:
    """(client, version) of the target, with every index and setting of earlier cases gone."""
    es_rest_session.reset()
    prepare_target(es_rest_session.client)
    return es_rest_session.client, es_rest_session.version
