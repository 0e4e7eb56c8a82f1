"""Search, count and delete-by-query over the refreshed view."""

from __future__ import annotations

from typing import Any

import elasticsearch
import pytest
from elasticsearch import Elasticsearch

DOCS = [
    {"name": "Alpha One", "n": 1, "tag": "x", "when": "2024-01-01T00:00:00Z"},
    {"name": "beta two", "n": 2, "tag": "y", "when": "2024-02-01T00:00:00Z"},
    {"name": "gamma two", "n": 3, "tag": "x", "when": "2024-03-01T00:00:00Z", "extra": True},
]


@pytest.fixture
def loaded(es: Elasticsearch) -> Elasticsearch:
    for n, doc in enumerate(DOCS, 1):
        es.index(index="s", id=str(n), document=doc)
    es.indices.refresh(index="s")
    return es


def ids(es: Elasticsearch, query: dict[str, Any], **kwargs: Any) -> list[str]:
    return [h["_id"] for h in es.search(index="s", query=query, **kwargs)["hits"]["hits"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"match_all": {}}, ["1", "2", "3"]),
        ({"term": {"tag.keyword": "x"}}, ["1", "3"]),
        ({"term": {"name": "two"}}, ["2", "3"]),
        ({"term": {"name": "Two"}}, []),  # term is not analyzed
        ({"terms": {"n": [1, 3]}}, ["1", "3"]),
        ({"ids": {"values": ["2"]}}, ["2"]),
        ({"range": {"n": {"gte": 2}}}, ["2", "3"]),
        ({"range": {"when": {"lt": "2024-02-01"}}}, ["1"]),
        ({"range": {"when": {"lte": "2024-02-01||/M"}}}, ["1", "2"]),
        ({"range": {"when": {"lt": "now"}}}, ["1", "2", "3"]),
        ({"exists": {"field": "extra"}}, ["3"]),
        ({"prefix": {"tag.keyword": "y"}}, ["2"]),
        ({"match": {"name": "ALPHA gamma"}}, ["1", "3"]),
        ({"match": {"name": {"query": "beta two", "operator": "and"}}}, ["2"]),
        (
            {"bool": {"must": [{"term": {"tag.keyword": "x"}}], "must_not": [{"term": {"n": 1}}]}},
            ["3"],
        ),
        (
            {
                "bool": {
                    "should": [{"term": {"n": 1}}, {"term": {"n": 2}}],
                    "filter": {"range": {"n": {"lt": 3}}},
                }
            },
            ["1", "2"],
        ),
        (
            {
                "bool": {
                    "should": [{"term": {"n": 1}}, {"term": {"tag.keyword": "x"}}],
                    "minimum_should_match": 2,
                }
            },
            ["1"],
        ),
    ],
)
def test_queries(loaded: Elasticsearch, query: dict[str, Any], expected: list[str]) -> None:
    assert ids(loaded, query) == expected
    assert loaded.count(index="s", query=query)["count"] == len(expected)


def test_sort_paging_and_source_filtering(loaded: Elasticsearch) -> None:
    result = loaded.search(index="s", sort=[{"n": "desc"}], from_=1, size=1, source_includes=["n"])
    hit = result["hits"]["hits"][0]
    assert (hit["_id"], hit["_source"], hit["sort"], hit["_score"]) == ("2", {"n": 2}, [2], None)
    assert result["hits"]["total"] == {"value": 3, "relation": "eq"}
    by_date = loaded.search(index="s", sort="when:desc")["hits"]["hits"]
    assert [h["_id"] for h in by_date] == ["3", "2", "1"]


def test_sorting_on_text_is_refused(loaded: Elasticsearch) -> None:
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        loaded.search(index="s", sort="name")
    assert "Text fields are not optimised" in bad.value.body["error"]["reason"]


def test_track_total_hits(loaded: Elasticsearch) -> None:
    assert loaded.search(index="s", track_total_hits=2)["hits"]["total"] == {
        "value": 2,
        "relation": "gte",
    }
    assert "total" not in loaded.search(index="s", track_total_hits=False)["hits"]


def test_unknown_query_is_a_parsing_error(loaded: Elasticsearch) -> None:
    with pytest.raises(elasticsearch.BadRequestError) as bad:
        loaded.search(index="s", query={"fuzzy_magic": {}})
    assert (bad.value.error, bad.value.body["error"]["reason"]) == (
        "parsing_exception",
        "unknown query [fuzzy_magic]",
    )


def test_delete_by_query_deletes_what_matches(loaded: Elasticsearch) -> None:
    result = loaded.delete_by_query(index="s", query={"term": {"tag.keyword": "x"}}, refresh=True)
    assert (result["deleted"], result["total"], result["version_conflicts"]) == (2, 2, 0)
    assert loaded.count(index="s")["count"] == 1


def test_delete_by_query_conflicts_with_unrefreshed_changes(loaded: Elasticsearch) -> None:
    loaded.index(index="s", id="1", document={"n": 10})
    with pytest.raises(elasticsearch.ConflictError) as conflict:
        loaded.delete_by_query(index="s", query={"term": {"n": 1}})
    assert conflict.value.body["failures"][0]["cause"]["type"] == (
        "version_conflict_engine_exception"
    )
    proceed = loaded.delete_by_query(index="s", query={"match_all": {}}, conflicts="proceed")
    assert (proceed["deleted"], proceed["version_conflicts"]) == (2, 1)
