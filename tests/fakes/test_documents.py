"""Document APIs: versions, sequence numbers, conflicts, and the refresh boundary.

Expected values follow Elasticsearch's docs (docs-index_.html, optimistic-concurrency-control.html)
and its REST tests (index/35_external_version.yml, delete/12_result.yml, update/12_result.yml).
"""

from __future__ import annotations

import elasticsearch
import pytest
from elasticsearch import Elasticsearch

from esbackend.fakes import FakeCluster

from .conftest import ManualClock


def test_index_assigns_version_seq_no_and_result(es: Elasticsearch) -> None:
    first = es.index(index="t", id="1", document={"a": 1})
    second = es.index(index="t", id="1", document={"a": 2})
    other = es.index(index="t", id="2", document={"a": 3})
    assert (first["result"], first["_version"], first["_seq_no"]) == ("created", 1, 0)
    assert (second["result"], second["_version"], second["_seq_no"]) == ("updated", 2, 1)
    assert (other["_version"], other["_seq_no"], other["_primary_term"]) == (1, 2, 1)
    assert first.meta.status == 201
    assert second.meta.status == 200


def test_get_returns_the_source_exactly_as_sent(cluster: FakeCluster, es: Elasticsearch) -> None:
    es.index(index="t", id="1", document={"b": [1, 2], "a": {"x": "ü"}})
    got = es.get(index="t", id="1")
    assert got["_source"] == {"b": [1, 2], "a": {"x": "ü"}}
    assert list(got["_source"]) == ["b", "a"]
    assert (got["found"], got["_version"], got["_seq_no"], got["_primary_term"]) == (True, 1, 0, 1)


def test_get_missing_document_and_missing_index(es: Elasticsearch) -> None:
    with pytest.raises(elasticsearch.NotFoundError) as missing_index:
        es.get(index="nope", id="1")
    assert missing_index.value.error == "index_not_found_exception"
    es.index(index="t", id="1", document={})
    missing_doc = es.options(ignore_status=404).get(index="t", id="2")
    assert missing_doc.body == {"_index": "t", "_id": "2", "found": False}


def test_create_conflicts_with_an_existing_document(es: Elasticsearch) -> None:
    es.create(index="t", id="1", document={"a": 1})
    with pytest.raises(elasticsearch.ConflictError) as conflict:
        es.create(index="t", id="1", document={"a": 1})
    assert conflict.value.body["error"]["reason"] == (
        "[1]: version conflict, document already exists (current version [1])"
    )
    with pytest.raises(elasticsearch.ConflictError):
        es.index(index="t", id="1", document={"a": 1}, op_type="create")


def test_if_seq_no_guards_writes(es: Elasticsearch) -> None:
    created = es.index(index="t", id="1", document={"n": 1})
    es.index(index="t", id="1", document={"n": 2}, if_seq_no=created["_seq_no"], if_primary_term=1)
    with pytest.raises(elasticsearch.ConflictError) as stale:
        es.index(
            index="t", id="1", document={"n": 3}, if_seq_no=created["_seq_no"], if_primary_term=1
        )
    assert stale.value.body["error"]["type"] == "version_conflict_engine_exception"
    assert stale.value.body["error"]["reason"] == (
        "[1]: version conflict, required seqNo [0], primary term [1]. current document has "
        "seqNo [1] and primary term [1]"
    )
    with pytest.raises(elasticsearch.ConflictError):
        es.delete(index="t", id="1", if_seq_no=0, if_primary_term=1)
    with pytest.raises(elasticsearch.ConflictError):
        es.update(index="t", id="1", doc={"n": 9}, if_seq_no=0, if_primary_term=1)
    assert es.get(index="t", id="1")["_source"] == {"n": 2}


def test_external_versions(es: Elasticsearch) -> None:
    assert (
        es.index(index="t", id="1", document={}, version=5, version_type="external")["_version"]
        == 5
    )
    with pytest.raises(elasticsearch.ConflictError):
        es.index(index="t", id="1", document={}, version=5, version_type="external")
    assert (
        es.index(index="t", id="1", document={}, version=5, version_type="external_gte")["_version"]
        == 5
    )
    with pytest.raises(elasticsearch.BadRequestError) as internal:
        es.index(index="t", id="1", document={}, version=7)
    assert internal.value.error == "action_request_validation_exception"


def test_delete_leaves_a_tombstone_that_keeps_counting_versions(es: Elasticsearch) -> None:
    es.index(index="t", id="1", document={})
    deleted = es.delete(index="t", id="1")
    assert (deleted["result"], deleted["_version"]) == ("deleted", 2)
    again = es.index(index="t", id="1", document={})
    assert (again["result"], again["_version"]) == ("created", 3)
    gone = es.options(ignore_status=404).delete(index="t", id="nope")
    assert (gone.meta.status, gone["result"]) == (404, "not_found")


def test_update_partial_doc_upsert_and_noop(es: Elasticsearch) -> None:
    upserted = es.update(index="t", id="1", doc={"a": 1}, upsert={"a": 0, "b": 1})
    assert upserted["result"] == "created"
    assert es.get(index="t", id="1")["_source"] == {"a": 0, "b": 1}
    merged = es.update(index="t", id="1", doc={"c": {"d": 1}})
    assert (merged["result"], merged["_version"]) == ("updated", 2)
    noop = es.update(index="t", id="1", doc={"a": 0})
    assert (noop["result"], noop["_version"], noop["_shards"]["total"]) == ("noop", 2, 0)
    forced = es.update(index="t", id="1", doc={"a": 0}, detect_noop=False)
    assert forced["result"] == "updated"
    as_upsert = es.update(index="t", id="2", doc={"z": 1}, doc_as_upsert=True, source=True)
    assert as_upsert["get"]["_source"] == {"z": 1}
    with pytest.raises(elasticsearch.NotFoundError) as missing:
        es.update(index="t", id="3", doc={"a": 1})
    assert missing.value.error == "document_missing_exception"


def test_update_rejects_unknown_fields_with_a_suggestion(es: Elasticsearch) -> None:
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        es.perform_request(
            "POST",
            "/t/_update/1",
            headers={"content-type": "application/json"},
            body={"dac": {"a": 1}},
        )
    assert "[UpdateRequest] unknown field [dac] did you mean [doc]?" in str(bad.value.body)


def test_search_sees_only_refreshed_writes(es: Elasticsearch) -> None:
    es.indices.create(index="t", settings={"refresh_interval": "-1"})
    es.index(index="t", id="1", document={"a": 1})
    assert es.count(index="t")["count"] == 0
    assert es.get(index="t", id="1")["found"]  # GET is realtime
    with pytest.raises(elasticsearch.NotFoundError):
        es.get(index="t", id="1", realtime=False)
    es.indices.refresh(index="t")
    assert es.count(index="t")["count"] == 1
    es.index(index="t", id="1", document={"a": 2})
    es.delete(index="t", id="1")
    hits = es.search(index="t")["hits"]["hits"]
    assert [h["_source"] for h in hits] == [{"a": 1}]  # the refreshed version, not the newer
    forced = es.index(index="t", id="2", document={}, refresh=True)
    assert forced["forced_refresh"] is True
    assert es.count(index="t")["count"] == 1  # 1 deleted, 2 created, both published


def test_default_refresh_interval_publishes_on_schedule(
    clock: ManualClock, es: Elasticsearch
) -> None:
    # The index is created at t=0 and refreshes every second (index.refresh_interval: 1s).
    es.index(index="t", id="1", document={})
    assert es.count(index="t")["count"] == 0
    clock.now += 1.05
    es.index(index="t", id="2", document={})
    clock.now += 0.5  # the refresh at t=1 published the first write, not the second
    assert es.count(index="t")["count"] == 1
    clock.now += 0.5
    assert es.count(index="t")["count"] == 2


def test_refresh_wait_for_makes_the_write_searchable(es: Elasticsearch) -> None:
    written = es.index(index="t", id="1", document={}, refresh="wait_for")
    assert "forced_refresh" not in written
    assert es.count(index="t")["count"] == 1


def test_routing_decides_the_shard(es: Elasticsearch) -> None:
    es.indices.create(index="t", settings={"number_of_shards": 5})
    es.index(index="t", id="1", routing="5", document={})
    assert es.get(index="t", id="1", routing="5")["_routing"] == "5"
    assert not es.exists(index="t", id="1")
    with pytest.raises(elasticsearch.NotFoundError):
        es.delete(index="t", id="1", routing="4")


def test_bulk_reports_per_item_results(es: Elasticsearch) -> None:
    es.index(index="t", id="1", document={"n": 1})
    result = es.bulk(
        operations=[
            {"index": {"_index": "t", "_id": "2"}},
            {"n": 2},
            {"create": {"_index": "t", "_id": "1"}},
            {"n": 1},
            {"update": {"_index": "t", "_id": "1"}},
            {"doc": {"n": 5}},
            {"delete": {"_index": "t", "_id": "2"}},
            {"index": {"_index": "t", "_id": ""}},
            {"n": 0},
        ],
        refresh=True,
    )
    assert result["errors"] is True
    kinds = [(next(iter(i)), next(iter(i.values()))["status"]) for i in result["items"]]
    assert kinds == [
        ("index", 201),
        ("create", 409),
        ("update", 200),
        ("delete", 200),
        ("index", 400),
    ]
    assert result["items"][1]["create"]["error"]["type"] == "version_conflict_engine_exception"
    assert es.get(index="t", id="1")["_source"] == {"n": 5}
    assert es.count(index="t")["count"] == 1


def test_bulk_malformed_action_line_is_a_400(es: Elasticsearch) -> None:
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        es.bulk(operations='{"index": {"_index": "t", "_id": "1"}}\n{"f": 1}\n{}\n')
    assert bad.value.body["error"]["reason"] == (
        "Malformed action/metadata line [3], expected FIELD_NAME but found [END_OBJECT]"
    )


def test_mget_one_round_trip_with_per_document_errors(
    cluster: FakeCluster, es: Elasticsearch
) -> None:
    es.index(index="t", id="1", document={"a": 1, "b": 2})
    cluster.requests.clear()
    docs = es.mget(
        docs=[
            {"_index": "t", "_id": "1", "_source": ["a"]},
            {"_index": "t", "_id": "2"},
            {"_index": "missing", "_id": "1"},
        ]
    )["docs"]
    assert docs[0]["_source"] == {"a": 1}
    assert docs[1] == {"_index": "t", "_id": "2", "found": False}
    assert docs[2]["error"]["type"] == "index_not_found_exception"
    assert cluster.requests.apis() == ["mget"]
    ids = es.mget(index="t", ids=["1", "2"])["docs"]
    assert [d["found"] for d in ids] == [True, False]
    with pytest.raises(elasticsearch.BadRequestError) as empty:
        es.mget(index="t", ids=[])
    assert "no documents to get" in empty.value.body["error"]["reason"]


def test_source_filtering_on_get(es: Elasticsearch) -> None:
    es.index(index="t", id="1", document={"include": {"f1": 1, "f2": 2}, "count": 1})
    got = es.get(index="t", id="1", source_includes=["include"], source_excludes=["*.f2"])
    assert got["_source"] == {"include": {"f1": 1}}
    assert "_source" not in es.get(index="t", id="1", source=False)
    assert es.get_source(index="t", id="1", source_includes="count").body == {"count": 1}


def chain_length(cluster: FakeCluster, index: str, doc_id: str) -> int:
    node, length = cluster.engine.indices[index].docs.get(doc_id), 0
    while node is not None:
        node, length = node.prev, length + 1
    return length


def test_rewriting_one_document_keeps_few_versions(
    clock: ManualClock, cluster: FakeCluster, es: Elasticsearch
) -> None:
    # What a chord counter or a task's state changes do: many writes to one id, no search.
    es.indices.create(index="manual", settings={"refresh_interval": "-1"})
    es.index(index="manual", id="c", document={"n": 0}, refresh=True)
    for n in range(1, 500):
        es.index(index="manual", id="c", document={"n": n})
    assert chain_length(cluster, "manual", "c") == 2  # the newest and the published one
    assert es.search(index="manual")["hits"]["hits"][0]["_source"] == {"n": 0}
    es.indices.refresh(index="manual")
    assert es.search(index="manual")["hits"]["hits"][0]["_source"] == {"n": 499}

    for n in range(500):  # on the one-second schedule, 10 writes a second
        es.index(index="scheduled", id="c", document={"n": n})
        clock.now += 0.1
    assert chain_length(cluster, "scheduled", "c") <= 12
