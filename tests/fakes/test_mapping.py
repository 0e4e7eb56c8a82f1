"""Dynamic mapping and the type checks behind Celery #3960/#5660/#6306.

Elasticsearch maps a field from its first value (dynamic-field-mapping.html) and answers 400
``document_parsing_exception`` for a later value the mapped type cannot hold.
"""

from __future__ import annotations

import elasticsearch
import pytest
from elasticsearch import Elasticsearch


def test_dynamic_mapping_infers_types(es: Elasticsearch) -> None:
    es.index(
        index="t",
        id="1",
        document={
            "text": "hello",
            "count": 1,
            "ratio": 0.5,
            "ok": True,
            "when": "2024-05-01T10:00:00.123456",
            "obj": {"inner": "x"},
            "dotted.name": 1,
        },
    )
    props = es.indices.get_mapping(index="t")["t"]["mappings"]["properties"]
    assert props["text"] == {
        "type": "text",
        "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
    }
    assert props["count"] == {"type": "long"}
    assert props["ratio"] == {"type": "float"}
    assert props["ok"] == {"type": "boolean"}
    assert props["when"] == {"type": "date"}
    assert props["obj"] == {"properties": {"inner": props["text"]}}
    assert props["dotted"] == {"properties": {"name": {"type": "long"}}}


def test_object_where_text_was_mapped_is_rejected(es: Elasticsearch) -> None:
    es.index(index="t", id="1", document={"result": "a string"})
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        es.index(index="t", id="2", document={"result": {"an": "object"}})
    error = bad.value.body["error"]
    assert error["type"] == "document_parsing_exception"
    assert error["reason"].startswith("failed to parse field [result] of type [text]")
    assert not es.exists(index="t", id="2")


def test_concrete_value_where_object_was_mapped_is_rejected(es: Elasticsearch) -> None:
    es.index(index="t", id="1", document={"result": {"an": "object"}})
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        es.index(index="t", id="2", document={"result": "a string"})
    assert bad.value.body["error"]["reason"] == (
        "object mapping for [result] tried to parse field [result] as object, but found a "
        "concrete value"
    )


def test_numbers_and_dates_are_checked(es: Elasticsearch) -> None:
    es.indices.create(
        index="t",
        mappings={
            "properties": {
                "n": {"type": "integer"},
                "d": {"type": "date"},
                "b": {"type": "boolean"},
            }
        },
    )
    es.index(index="t", id="ok", document={"n": "12", "d": 1700000000000, "b": "true"})
    for bad_doc in ({"n": "twelve"}, {"n": 2**40}, {"d": "yesterday"}, {"b": "yes"}):
        with pytest.raises(elasticsearch.BadRequestError) as bad:
            es.index(index="t", id="bad", document=bad_doc)
        assert bad.value.body["error"]["type"] == "document_parsing_exception"


def test_disabled_objects_accept_anything(es: Elasticsearch) -> None:
    es.indices.create(
        index="t", mappings={"properties": {"result": {"type": "object", "enabled": False}}}
    )
    es.index(index="t", id="1", document={"result": "text"})
    es.index(index="t", id="2", document={"result": {"nested": [1, {"a": None}]}})
    es.index(index="t", id="3", document={"result": None})
    assert es.indices.get_mapping(index="t")["t"]["mappings"]["properties"] == {
        "result": {"type": "object", "enabled": False}
    }


def test_strict_mapping_rejects_new_fields(es: Elasticsearch) -> None:
    es.indices.create(
        index="t", mappings={"dynamic": "strict", "properties": {"a": {"type": "keyword"}}}
    )
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        es.index(index="t", id="1", document={"a": "x", "b": 1})
    assert bad.value.body["error"]["type"] == "strict_dynamic_mapping_exception"


def test_invalid_mapping_definitions(es: Elasticsearch) -> None:
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        es.indices.create(index="t", mappings={"properties": {"c": {"type": "invalid"}}})
    assert bad.value.body["error"]["type"] == "mapper_parsing_exception"
    assert (
        "The mapper type [invalid] declared on field [c] does not exist"
        in (bad.value.body["error"]["reason"])
    )
    assert not es.indices.exists(index="t")
