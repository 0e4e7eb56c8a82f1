"""Index management: names, existence, settings, aliases, health."""

from __future__ import annotations

import elasticsearch
import pytest
from elasticsearch import Elasticsearch


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Upper", "must be lowercase"),
        ("a*b", "must not contain the following characters"),
        ("_x", "must not start with '_', '-', or '+'"),
        ("a:b", "must not contain ':'"),
        ("a" * 256, "index name is too long"),
    ],
)
def test_invalid_index_names(es: Elasticsearch, name: str, why: str) -> None:
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        es.index(index=name, document={})
    assert bad.value.error == "invalid_index_name_exception"
    assert why in bad.value.body["error"]["reason"]


def test_create_exists_delete(es: Elasticsearch) -> None:
    assert not es.indices.exists(index="t")
    created = es.indices.create(index="t")
    assert (created["acknowledged"], created["index"]) == (True, "t")
    with pytest.raises(elasticsearch.BadRequestError) as again:
        es.indices.create(index="t")
    assert again.value.error == "resource_already_exists_exception"
    assert es.indices.exists(index="t")
    es.indices.delete(index="t")
    with pytest.raises(elasticsearch.NotFoundError) as gone:
        es.indices.delete(index="t")
    assert gone.value.error == "index_not_found_exception"


def test_settings_are_strings_and_nested(es: Elasticsearch) -> None:
    es.indices.create(
        index="t", settings={"index": {"number_of_replicas": 0}, "refresh_interval": "5s"}
    )
    settings = es.indices.get_settings(index="t")["t"]["settings"]["index"]
    assert settings["number_of_replicas"] == "0"
    assert settings["refresh_interval"] == "5s"
    assert settings["number_of_shards"] == "1"


def test_aliases_resolve_for_reads_and_writes(es: Elasticsearch) -> None:
    es.indices.create(index="a1", aliases={"current": {"is_write_index": True}, "all": {}})
    es.indices.create(index="a2", aliases={"all": {}})
    es.index(index="current", id="1", document={"x": 1}, refresh=True)
    assert es.get(index="current", id="1")["_index"] == "a1"
    assert es.count(index="all")["count"] == 1
    with pytest.raises(elasticsearch.BadRequestError) as many:
        es.get(index="all", id="1")
    assert "has more than one index associated with it" in many.value.body["error"]["reason"]
    with pytest.raises(elasticsearch.BadRequestError) as write:
        es.index(index="all", document={})
    assert "no write index is defined for alias [all]" in write.value.body["error"]["reason"]


def test_health_is_yellow_while_replicas_cannot_be_assigned(es: Elasticsearch) -> None:
    assert es.cluster.health()["status"] == "green"
    es.indices.create(index="t")  # one replica by default; a single node cannot host it
    health = es.options(ignore_status=408).cluster.health(wait_for_status="green", timeout="1ms")
    assert (health["status"], health["timed_out"], health.meta.status) == ("yellow", True, 408)
    es.indices.put_settings(index="t", settings={"number_of_replicas": 0})
    assert es.cluster.health(wait_for_status="green")["status"] == "green"


def test_destructive_wildcard_delete_needs_the_setting(es: Elasticsearch) -> None:
    es.indices.create(index="t1")
    with pytest.raises(elasticsearch.BadRequestError):
        es.indices.delete(index="t*")
    es.cluster.put_settings(persistent={"action.destructive_requires_name": False})
    es.indices.delete(index="t*")
    assert not es.indices.exists(index="t1")
