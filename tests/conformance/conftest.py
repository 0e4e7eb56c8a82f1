"""The target the YAML REST tests run against.

``es_rest_target`` hands each case a client with clean state and the target's version. The
target is started once per session by ``es_rest_session``: the in-memory FakeCluster by
default; the plugin's ``--es-target`` picks another: the emulator, a docker cluster or a URL.
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


def open_target(spec: str, request: pytest.FixtureRequest) -> SessionTarget:
    """Start or connect to a target: ``fake``, ``emulator``, ``docker`` or a cluster's URL."""
    if spec in ("fake", "emulator"):
        from esbackend.fakes import FakeCluster, FakeServer

        cluster = FakeCluster()
        if spec == "fake":
            client = cluster.client(serializers=SERIALIZERS)
            return SessionTarget(client, cluster.version, cluster.reset, client.close)
        # The same cases over real HTTP: urllib3, keep-alive, headers, the server's parsing.
        server = FakeServer(cluster).start()
        client = Elasticsearch(server.url, serializers=SERIALIZERS)

        def close() -> None:
            client.close()
            server.stop()
            server.check()

        return SessionTarget(client, cluster.version, cluster.reset, close)
    if spec == "docker":
        real = request.getfixturevalue("es_real_cluster")
        spec_url, options = real.url, real.client_options()
    elif spec.startswith(("http://", "https://")):
        spec_url, options = spec, {}
    else:
        raise pytest.UsageError(f"unknown YAML REST test target {spec!r}")
    # A real cluster has no reset: the runner's own cleanup (teardown, then deleting
    # every index) is what keeps cases apart, as in Elastic's runner.
    client = Elasticsearch(spec_url, serializers=SERIALIZERS, **options)
    version = str(client.info()["version"]["number"])
    return SessionTarget(client, version, lambda: None, client.close)


@pytest.fixture(scope="session")
def es_rest_session(es_target_name: str, request: pytest.FixtureRequest) -> Iterator[SessionTarget]:
    """The target of this session, chosen with the plugin's ``--es-target``."""
    target = open_target(es_target_name, request)
    yield target
    target.close()


@pytest.fixture
def es_rest_target(es_rest_session: SessionTarget) -> tuple[Elasticsearch, str]:
    """(client, version) of the target, with every index and setting of earlier cases gone."""
    es_rest_session.reset()
    prepare_target(es_rest_session.client)
    return es_rest_session.client, es_rest_session.version
