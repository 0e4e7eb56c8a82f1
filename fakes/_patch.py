"""Patch mode: every Elasticsearch client constructed inside a block talks to a FakeCluster.

The class's ``__init__`` is wrapped (not the module attribute), so code that imported
``Elasticsearch`` long before the block is redirected too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from ._cluster import FakeCluster

# Options that would make a client reach for real nodes or a cloud endpoint.
_DROPPED = (
    "cloud_id",
    "sniff_on_start",
    "sniff_before_requests",
    "sniff_on_node_failure",
    "node_class",
)


@contextmanager
def patch_elasticsearch(cluster: FakeCluster) -> Iterator[FakeCluster]:
    """While active, ``Elasticsearch(...)`` and ``AsyncElasticsearch(...)`` use ``cluster``.

    Whatever hosts, node class or cloud id the code names, requests reach the fake; outside the
    block nothing is changed. Usable as a decorator too.
    """
    from elasticsearch import AsyncElasticsearch, Elasticsearch

    def wrap(cls: type, node_class: type) -> Any:
        original = cls.__init__  # type: ignore[misc]

        def __init__(self: Any, hosts: Any = None, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("_transport") is None:
                for name in _DROPPED:
                    kwargs.pop(name, None)
                if hosts is None:
                    hosts = "http://localhost:9200"
                kwargs["node_class"] = node_class
            original(self, hosts, *args, **kwargs)

        return __init__

    with ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(Elasticsearch, "__init__", wrap(Elasticsearch, cluster.node_class))
        )
        stack.enter_context(
            mock.patch.object(
                AsyncElasticsearch, "__init__", wrap(AsyncElasticsearch, cluster.async_node_class)
            )
        )
        yield cluster
