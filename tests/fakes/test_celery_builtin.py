"""Celery's own built-in Elasticsearch backend, unchanged, against the fake.

It builds its own client, so it is reached over HTTP (``serve``) or by patching the client
class. On elasticsearch-py 9 the built-in backend itself fails (it passes ``timeout=``, see
REFERENCES.md), so these run where the installed client is 8.x (``nox -s compat``).
"""

from __future__ import annotations

from collections.abc import Iterator

import elasticsearch
import pytest
from celery import Celery

from esbackend.fakes import FakeCluster, patch_elasticsearch, serve

pytestmark = [
    pytest.mark.skipif(
        elasticsearch.__versionstr__.startswith("9."),
        reason="Celery's built-in ElasticsearchBackend fails on elasticsearch-py 9 "
        "(TypeError: unexpected keyword argument 'timeout'); runs under nox -s compat (8.x)",
    ),
    # Celery's built-in backend calls elasticsearch-py 8 with deprecated arguments (that is
    # one of the reasons esbackend exists); those warnings are Celery's, not ours.
    pytest.mark.filterwarnings("ignore:The '.*' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Passing transport options:DeprecationWarning"),
]


@pytest.fixture
def app() -> Iterator[Celery]:
    application = Celery("builtin", set_as_current=False)
    yield application
    application.close()


def round_trip(app: Celery) -> None:
    from celery.backends.elasticsearch import ElasticsearchBackend

    backend = app.backend
    assert isinstance(backend, ElasticsearchBackend)
    backend.store_result("task-1", {"answer": 42}, "SUCCESS")
    meta = backend.get_task_meta("task-1")
    assert (meta["status"], meta["result"]) == ("SUCCESS", {"answer": 42})
    backend.forget("task-1")
    assert backend.get_task_meta("task-1")["status"] == "PENDING"


def test_builtin_backend_over_http(app: Celery, cluster: FakeCluster) -> None:
    with serve(cluster) as url:
        app.conf.result_backend = url.replace("http://", "elasticsearch://") + "/celery"
        round_trip(app)
    assert cluster.requests.count("index") + cluster.requests.count("create") >= 1


def test_builtin_backend_patched(app: Celery, cluster: FakeCluster) -> None:
    app.conf.result_backend = "elasticsearch://prod.example.invalid:9200/celery"
    with patch_elasticsearch(cluster):
        round_trip(app)
    assert cluster.requests.count("get") >= 1
