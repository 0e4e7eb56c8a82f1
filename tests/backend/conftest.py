"""Fixtures for the backend tests: a FakeCluster and backends bound to it."""

from __future__ import annotations

from typing import Any

import pytest

from esbackend import ElasticsearchBackend

from .backend_helpers import BackendFactory, make_app


@pytest.fixture
def cluster() -> Any:
    from esbackend.fakes import FakeCluster

    return FakeCluster()


@pytest.fixture
def make_backend(cluster: Any) -> BackendFactory:
    """Build a backend bound to ``cluster``: ``make_backend(url=..., node_class=..., **conf)``."""

    def make(
        url: str = "http://localhost:9200/celery", node_class: Any = None, **config: Any
    ) -> ElasticsearchBackend:
        options = {"node_class": node_class or cluster.node_class}
        options.update(config.pop("elasticsearch_client_options", {}))
        app = make_app(elasticsearch_client_options=options, **config)
        return ElasticsearchBackend(app=app, url=url)

    return make


@pytest.fixture
def backend(make_backend: BackendFactory) -> ElasticsearchBackend:
    return make_backend()
