"""The shop's tests: only esbackend's plugin fixtures, nothing else."""

from __future__ import annotations

import elastic_transport
import pytest
import shop
from celery import Celery
from elasticsearch import Elasticsearch


def test_orders_are_stored_once(es_client: Elasticsearch) -> None:
    items = [{"sku": "tea", "price": 3.5, "qty": 2}]
    assert shop.place_order(es_client, "o-1", items)
    assert not shop.place_order(es_client, "o-1", items)
    assert shop.revenue(es_client) == 7.0


def test_code_that_builds_its_own_client(es_patch: object, es_client: Elasticsearch) -> None:
    shop.place_order(es_client, "o-2", [{"sku": "jam", "price": 4, "qty": 1}])
    assert shop.count_orders() == 1


def test_a_flaky_network_is_retried(
    es_client: Elasticsearch, es_faults: object, es_requests: object
) -> None:
    es_faults.inject("connection", api="create", times=2)  # type: ignore[attr-defined]
    assert shop.place_order(es_client, "o-3", [{"sku": "pie", "price": 5, "qty": 1}])
    assert es_requests.count("create") == 3  # type: ignore[attr-defined]


def test_a_dead_cluster_is_an_error(es_client: Elasticsearch, es_faults: object) -> None:
    es_faults.inject("connection")  # type: ignore[attr-defined]
    with pytest.raises(elastic_transport.ConnectionError):
        shop.place_order(es_client, "o-4", [])


def test_celery_results_in_elasticsearch(es_celery_app: Celery, es_celery_worker: object) -> None:
    @es_celery_app.task(name="shop.total", shared=False)
    def total(prices: list[float]) -> float:
        return sum(prices)

    es_celery_worker.reload()  # type: ignore[attr-defined]
    assert total.delay([1.5, 2.5]).get(timeout=30, interval=0.01) == 4.0
