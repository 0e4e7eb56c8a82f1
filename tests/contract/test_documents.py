"""The document API as the backend and downstream code rely on it, on every ``--es-target``.

Written against Elasticsearch's semantics, not the fake's: searches and counts are preceded by
an explicit refresh (or assert the unrefreshed view with ``refresh_interval: -1``); errors are
checked by status and error ``type``, never by reason wording.
"""

from __future__ import annotations

import elasticsearch
import pytest
from elasticsearch import Elasticsearch


def error_type(exc: elasticsearch.ApiError) -> str:
    body = exc.body
    assert isinstance(body, dict)
    assert body["status"] == exc.meta.status
    assert body["error"]["root_cause"], "root_cause lists at least one cause"
    assert exc.message == body["error"]["type"]  # what elasticsearch-py reports as message
    return str(body["error"]["type"])


def test_crud_with_versions_and_seq_nos(es_client: Elasticsearch, es_index: str) -> None:
    created = es_client.index(index=es_index, id="1", document={"n": 1})
    assert (created["result"], created["_version"]) == ("created", 1)
    assert created["_primary_term"] >= 1

    got = es_client.get(index=es_index, id="1")  # realtime: no refresh needed
    assert got["found"] is True
    assert got["_source"] == {"n": 1}
    assert (got["_version"], got["_seq_no"]) == (1, created["_seq_no"])

    updated = es_client.index(index=es_index, id="1", document={"n": 2})
    assert (updated["result"], updated["_version"]) == ("updated", 2)
    assert updated["_seq_no"] > created["_seq_no"]

    partial = es_client.update(index=es_index, id="1", doc={"extra": True})
    assert (partial["result"], partial["_version"]) == ("updated", 3)
    noop = es_client.update(index=es_index, id="1", doc={"extra": True})
    assert (noop["result"], noop["_version"]) == ("noop", 3)
    assert es_client.get_source(index=es_index, id="1") == {"n": 2, "extra": True}

    assert es_client.exists(index=es_index, id="1")
    deleted = es_client.delete(index=es_index, id="1")
    assert (deleted["result"], deleted["_version"]) == ("deleted", 4)
    assert not es_client.exists(index=es_index, id="1")
    with pytest.raises(elasticsearch.NotFoundError) as missing:
        es_client.get(index=es_index, id="1")
    assert missing.value.body["found"] is False  # a missing document is not an error body

    # A delete leaves a tombstone: indexing again continues the version.
    again = es_client.index(index=es_index, id="1", document={"n": 3})
    assert (again["result"], again["_version"]) == ("created", 5)


def test_create_conflicts_when_the_document_exists(es_client: Elasticsearch, es_index: str) -> None:
    es_client.create(index=es_index, id="1", document={"n": 1})
    with pytest.raises(elasticsearch.ConflictError) as caught:
        es_client.create(index=es_index, id="1", document={"n": 2})
    assert caught.value.meta.status == 409
    assert error_type(caught.value) == "version_conflict_engine_exception"
    with pytest.raises(elasticsearch.ConflictError):
        es_client.index(index=es_index, id="1", document={"n": 2}, op_type="create")
    assert es_client.get(index=es_index, id="1")["_source"] == {"n": 1}


def test_if_seq_no_detects_a_concurrent_write(es_client: Elasticsearch, es_index: str) -> None:
    first = es_client.index(index=es_index, id="1", document={"n": 1})
    seen = (first["_seq_no"], first["_primary_term"])
    es_client.index(index=es_index, id="1", document={"n": 2})  # someone else wrote
    with pytest.raises(elasticsearch.ConflictError) as caught:
        es_client.index(
            index=es_index,
            id="1",
            document={"n": 3},
            if_seq_no=seen[0],
            if_primary_term=seen[1],
        )
    assert error_type(caught.value) == "version_conflict_engine_exception"
    current = es_client.get(index=es_index, id="1")
    assert current["_source"] == {"n": 2}
    ok = es_client.index(
        index=es_index,
        id="1",
        document={"n": 3},
        if_seq_no=current["_seq_no"],
        if_primary_term=current["_primary_term"],
    )
    assert ok["_version"] == 3


def test_mget_reports_missing_documents_in_order(es_client: Elasticsearch, es_index: str) -> None:
    es_client.index(index=es_index, id="a", document={"v": "A"})
    es_client.index(index=es_index, id="c", document={"v": "C"})
    docs = es_client.mget(index=es_index, ids=["a", "b", "c"])["docs"]
    assert [(d["_id"], d["found"]) for d in docs] == [("a", True), ("b", False), ("c", True)]
    assert [d.get("_source") for d in docs] == [{"v": "A"}, None, {"v": "C"}]


def test_search_sees_a_write_only_after_a_refresh(es_client: Elasticsearch, es_index: str) -> None:
    es_client.indices.create(index=es_index, settings={"index": {"refresh_interval": "-1"}})
    es_client.index(index=es_index, id="1", document={"tag": "x"})
    assert es_client.get(index=es_index, id="1")["found"] is True  # GET is realtime
    assert es_client.count(index=es_index)["count"] == 0
    es_client.indices.refresh(index=es_index)
    assert es_client.count(index=es_index)["count"] == 1
    hits = es_client.search(index=es_index, query={"term": {"tag": "x"}})["hits"]
    assert [h["_id"] for h in hits["hits"]] == ["1"]

    # refresh=true on a write publishes it before the call returns.
    es_client.index(index=es_index, id="2", document={"tag": "x"}, refresh=True)
    assert es_client.count(index=es_index, query={"term": {"tag": "x"}})["count"] == 2


def test_error_shapes_for_400_404_409(es_client: Elasticsearch, es_index: str) -> None:
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        es_client.indices.create(index="Not-Lowercase")
    assert bad.value.meta.status == 400
    assert error_type(bad.value) == "invalid_index_name_exception"

    with pytest.raises(elasticsearch.NotFoundError) as missing:
        es_client.search(index=f"{es_index}-missing")
    assert missing.value.meta.status == 404
    assert error_type(missing.value) == "index_not_found_exception"
    assert missing.value.body["error"]["index"] == f"{es_index}-missing"

    es_client.indices.create(index=es_index)
    with pytest.raises(elasticsearch.BadRequestError) as exists:
        es_client.indices.create(index=es_index)
    assert error_type(exists.value) == "resource_already_exists_exception"


def test_dynamic_mapping_rejects_an_object_where_text_was_mapped(
    es_client: Elasticsearch, es_index: str
) -> None:
    es_client.index(index=es_index, id="1", document={"result": "a string"})
    with pytest.raises(elasticsearch.BadRequestError) as caught:
        es_client.index(index=es_index, id="2", document={"result": {"an": "object"}})
    assert caught.value.meta.status == 400
    # 8.x before 8.8 called it mapper_parsing_exception; 8.8+ and 9.x document_parsing_...
    assert error_type(caught.value) in ("document_parsing_exception", "mapper_parsing_exception")
    mapping = es_client.indices.get_mapping(index=es_index)[es_index]["mappings"]
    assert mapping["properties"]["result"]["type"] == "text"
