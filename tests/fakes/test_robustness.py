"""No request crashes the fake or corrupts its state: seeded garbage against every API.

Each request must come back as an Elasticsearch-shaped answer (never a Python exception, never
a 500), and the documents written before the barrage must still be there, unchanged.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from esbackend.fakes import FakeCluster

TARGETS = [
    ("PUT", "/t/_doc/{id}"),
    ("POST", "/t/_doc"),
    ("PUT", "/t/_create/{id}"),
    ("POST", "/t/_update/{id}"),
    ("GET", "/t/_doc/{id}"),
    ("DELETE", "/t/_doc/{id}"),
    ("POST", "/_mget"),
    ("POST", "/t/_mget"),
    ("POST", "/_bulk"),
    ("POST", "/t/_search"),
    ("POST", "/t/_count"),
    ("POST", "/t/_delete_by_query"),
    ("PUT", "/{id}"),
    ("PUT", "/t/_mapping"),
    ("PUT", "/t/_settings"),
    ("POST", "/_aliases"),
    ("PUT", "/_cluster/settings"),
    ("GET", "/t/_source/{id}"),
    ("POST", "/t/_refresh"),
]
PARAMS = [
    "refresh=true",
    "refresh=maybe",
    "version=abc",
    "version=3&version_type=external",
    "if_seq_no=0&if_primary_term=1",
    "if_seq_no=x",
    "routing=r",
    "size=-1",
    "from=x",
    "op_type=create",
    "op_type=bogus",
    "_source=false",
    "_source_includes=a.*",
    "realtime=false",
    "stored_fields=a",
    "sort=a:desc",
    "track_total_hits=x",
    "wait_for_completion=false",
    "conflicts=proceed",
    "max_docs=0",
    "q=a:b",
]
KEYS = [
    "query",
    "doc",
    "upsert",
    "docs",
    "ids",
    "match",
    "term",
    "range",
    "bool",
    "must",
    "a",
    "b.c",
    "",
    "_id",
    "_index",
    "size",
    "sort",
    "mappings",
    "properties",
    "type",
    "settings",
    "aliases",
    "actions",
    "add",
    "index",
    "script",
    "persistent",
]


def garbage(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 1, 2**70, 3.5, float("1e308")])
    if kind in (2, 3, 4):
        return rng.choice(["", "x", "2024-01-01", "now-1d", "Text With Words", "a*", "\u00e9"])
    if kind == 5:
        return [garbage(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(KEYS): garbage(rng, depth + 1) for _ in range(rng.randrange(4))}


QUERY_KINDS = [
    "match_all",
    "term",
    "terms",
    "ids",
    "range",
    "exists",
    "prefix",
    "wildcard",
    "match",
    "match_phrase",
    "bool",
    "constant_score",
    "nope",
]
FIELDS = ["n", "s", "s.keyword", "d", "_id", "missing", "obj.inner"]


def query(rng: random.Random, depth: int = 0) -> Any:
    """A query that is well-formed or nearly so, to reach the query compiler."""
    kind = rng.choice(QUERY_KINDS if depth < 2 else QUERY_KINDS[:-3])
    field = rng.choice(FIELDS)
    if kind == "bool":
        return {
            "bool": {
                rng.choice(["must", "filter", "should", "must_not"]): [
                    query(rng, depth + 1) for _ in range(rng.randrange(3))
                ],
                "minimum_should_match": rng.choice([1, "50%", -1, "x"]),
            }
        }
    if kind == "constant_score":
        return {"constant_score": {"filter": query(rng, depth + 1)}}
    if kind == "range":
        return {"range": {field: {rng.choice(["gt", "gte", "lt", "lte"]): garbage(rng, 3)}}}
    if kind in ("terms", "ids"):
        values = [garbage(rng, 3) for _ in range(rng.randrange(3))]
        return {"ids": {"values": values}} if kind == "ids" else {"terms": {field: values}}
    if kind == "exists":
        return {"exists": {"field": rng.choice([field, 1, None])}}
    return {kind: {field: garbage(rng, 3)} if kind != "match_all" else {}}


def body_for(rng: random.Random, path: str) -> bytes | None:
    if path.endswith(("_search", "_count", "_delete_by_query")) and rng.random() < 0.6:
        payload: dict[str, Any] = {"query": query(rng)}
        if path.endswith("_search") and rng.random() < 0.5:
            payload["sort"] = rng.choice([[{rng.choice(FIELDS): "desc"}], "n", [{"d": {}}]])
            payload["size"] = rng.choice([0, 2, -1, "x"])
        return json.dumps(payload).encode()
    if (path.endswith("_doc") or "_doc/" in path or "_create/" in path) and rng.random() < 0.6:
        return json.dumps(
            {rng.choice(FIELDS): garbage(rng, 2) for _ in range(rng.randrange(1, 4))}
        ).encode()
    choice = rng.randrange(6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([b"{", b"[", b"\xff", b'{"a": }', b"null", b"1"])
    if path.endswith("_bulk"):
        lines = [json.dumps(garbage(rng)) for _ in range(rng.randrange(1, 5))]
        return ("\n".join(lines) + "\n").encode()
    return json.dumps(garbage(rng)).encode()


@pytest.mark.parametrize("seed", range(6))
def test_garbage_never_crashes_and_never_corrupts(seed: int) -> None:
    rng = random.Random(seed)
    cluster = FakeCluster()
    es = cluster.client()
    es.index(index="keep", id="1", document={"n": 1, "s": "text"}, refresh=True)
    headers = {"content-type": "application/json"}
    for _ in range(400):
        method, template = rng.choice(TARGETS)
        path = template.format(id=rng.choice(["1", "2", "x y", "%41", "Upper"]))
        query = "&".join(rng.sample(PARAMS, rng.randrange(3)))
        target = f"{path}?{query}" if query else path
        response = cluster.handle(method, target, body_for(rng, path), headers)
        if cluster.errors:
            raise cluster.errors[0]  # the full traceback of the fake's own failure
        assert 200 <= response.status < 500, (method, target, response.body[:300])
        if response.body:
            answer = json.loads(response.body)
            if response.status >= 400 and "error" in answer:
                assert {"type", "reason"} <= set(answer["error"]), answer
    got = es.get(index="keep", id="1")
    assert (got["_source"], got["_version"]) == ({"n": 1, "s": "text"}, 1)
    assert es.count(index="keep")["count"] == 1
