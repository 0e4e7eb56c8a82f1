"""Key/value operations, documents, the index mapping and result encoding, on FakeCluster."""

from __future__ import annotations

import re
from typing import Any

import elasticsearch
import pytest
from celery import states
from celery.app.task import Context
from celery.result import GroupResult

from esbackend import ElasticsearchBackend
from esbackend._backend import INDEX_MAPPING

from .backend_helpers import BackendFactory, hooked_node

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def apis(cluster: Any, start: int = 0) -> list[str]:
    """The API names of the requests the cluster saw, from *start* on."""
    return [record.api for record in list(cluster.requests)[start:]]


def source(cluster: Any, key: str, index: str = "celery") -> dict[str, Any]:
    return dict(cluster.client().get(index=index, id=key)["_source"])


# -- get / set / mget / delete -------------------------------------------------------


def test_set_then_get(backend: ElasticsearchBackend) -> None:
    backend.set("k1", "value-1")
    backend.set(b"k2", "value-2")  # Celery's keys are bytes
    assert backend.get("k1") == "value-1"
    assert backend.get(b"k2") == "value-2"
    backend.set("k1", "value-3")
    assert backend.get("k1") == "value-3"


def test_get_of_a_missing_key_or_index_is_none(backend: ElasticsearchBackend, cluster: Any) -> None:
    assert backend.get("nothing") is None  # no index yet
    assert not cluster.client().indices.exists(index="celery")  # reads never create it
    backend.set("k", "v")
    assert backend.get("nothing") is None


def test_set_is_one_index_request_after_the_index_exists(
    backend: ElasticsearchBackend, cluster: Any
) -> None:
    backend.set("k0", "v")
    assert apis(cluster) == ["indices.exists", "indices.create", "index"]
    start = len(cluster.requests)
    backend.set("k1", "v")
    backend.set("k1", "w")
    assert apis(cluster, start) == ["index", "index"]


def test_mget_is_one_request_in_key_order(backend: ElasticsearchBackend, cluster: Any) -> None:
    for i in range(0, 100, 2):
        backend.set(f"k{i}", f"v{i}")
    start = len(cluster.requests)
    values = backend.mget([f"k{i}" for i in range(100)])
    assert apis(cluster, start) == ["mget"]
    assert values == [f"v{i}" if i % 2 == 0 else None for i in range(100)]


def test_mget_of_nothing_sends_nothing(backend: ElasticsearchBackend, cluster: Any) -> None:
    assert backend.mget([]) == []
    assert apis(cluster) == []


def test_mget_without_index_is_all_none(backend: ElasticsearchBackend) -> None:
    assert backend.mget(["a", b"b"]) == [None, None]


def test_delete(backend: ElasticsearchBackend) -> None:
    backend.set("k", "v")
    backend.delete("k")
    assert backend.get("k") is None


def test_delete_and_forget_of_missing_keys_are_not_errors(
    make_backend: BackendFactory, cluster: Any
) -> None:
    fresh = make_backend()
    fresh.delete("never-stored")  # no index either
    fresh.forget("never-run")
    fresh.delete_group("never-saved")
    fresh.set("k", "v")
    fresh.delete("k")
    fresh.delete("k")  # twice


def test_the_index_is_created_once_with_our_mapping(
    make_backend: BackendFactory, cluster: Any
) -> None:
    first, second = make_backend(), make_backend()
    first.set("a", "v")
    second.set("b", "v")
    assert apis(cluster).count("indices.create") == 1
    mapping = cluster.client().indices.get_mapping(index="celery")["celery"]["mappings"]
    for field, spec in INDEX_MAPPING["properties"].items():
        assert mapping["properties"][field]["type"] == spec["type"]
    assert mapping["properties"]["result"].get("enabled") in (False, "false")
    assert str(mapping.get("dynamic")).lower() == "false"


def test_the_index_comes_from_the_url(make_backend: BackendFactory, cluster: Any) -> None:
    b = make_backend("esbackend://localhost:9200/results/legacy_type")
    b.set("k", "v")
    assert source(cluster, "k", index="results")["result"] == "v"
    # doc_type is parsed for compatibility but never sent to an 8.x/9.x server.
    assert all("legacy_type" not in record.path for record in cluster.requests)


def test_an_existing_index_is_used_as_it_is(make_backend: BackendFactory, cluster: Any) -> None:
    cluster.client().indices.create(index="celery")
    b = make_backend()
    b.set("k", "v")
    assert "indices.create" not in apis(cluster)[1:]
    assert b.get("k") == "v"


def test_losing_the_index_creation_race_is_fine(make_backend: BackendFactory, cluster: Any) -> None:
    other = cluster.client()

    def create_first(method: str, target: str) -> None:
        # Another worker creates the index between our exists() and our create().
        is_create = method == "PUT" and target.split("?")[0] == "/celery"
        if is_create and not other.indices.exists(index="celery"):
            other.indices.create(index="celery", mappings=INDEX_MAPPING)

    b = make_backend(node_class=hooked_node(cluster.node_class, create_first))
    b.set("k", "v")
    assert b.get("k") == "v"
    assert [r.status for r in cluster.requests if r.api == "indices.create"][-1] == 400


def test_no_right_to_create_the_index_is_fine(make_backend: BackendFactory, cluster: Any) -> None:
    def forbid(method: str, target: str) -> tuple[int, Any] | None:
        if target.split("?")[0] == "/celery":  # indices.exists / indices.create
            error = {"type": "security_exception", "reason": "action [indices:admin/create]"}
            return 403, {"error": {"root_cause": [error], **error}, "status": 403}
        return None

    b = make_backend(node_class=hooked_node(cluster.node_class, forbid))
    b.set("k", "v")
    assert b.get("k") == "v"


# -- task results ---------------------------------------------------------------------


def test_a_new_result_is_one_write(backend: ElasticsearchBackend, cluster: Any) -> None:
    backend.mark_as_done("warmup", 1)
    start = len(cluster.requests)
    backend.mark_as_done("t1", {"answer": 42})
    assert apis(cluster, start) in (["index"], ["create"])
    assert backend.get_task_meta("t1")["result"] == {"answer": 42}


def test_a_state_change_is_three_requests(backend: ElasticsearchBackend, cluster: Any) -> None:
    backend.mark_as_started("t1")
    start = len(cluster.requests)
    backend.mark_as_done("t1", "done")
    # create (409: it exists), get (seq_no, state), conditional index.
    assert apis(cluster, start)[1] == "get"
    assert len(apis(cluster, start)) == 3
    assert cluster.requests[start].status == 409
    assert backend.get_state("t1") == states.SUCCESS


def test_document_shape_is_compatible_with_celerys_builtin(
    backend: ElasticsearchBackend, cluster: Any
) -> None:
    backend.mark_as_done("t1", [1, 2])
    doc = source(cluster, "celery-task-meta-t1")
    assert isinstance(doc["result"], str)  # text mode: the encoded meta
    assert TIMESTAMP.match(doc["@timestamp"])
    assert doc["status"] == states.SUCCESS
    assert backend.decode(doc["result"])["result"] == [1, 2]


@pytest.mark.parametrize(
    ("stored", "late", "final"),
    [
        (states.SUCCESS, states.RETRY, states.SUCCESS),
        (states.SUCCESS, states.STARTED, states.SUCCESS),
        (states.SUCCESS, states.FAILURE, states.SUCCESS),
        (states.FAILURE, states.RETRY, states.FAILURE),
        (states.FAILURE, states.STARTED, states.FAILURE),
        (states.STARTED, states.SUCCESS, states.SUCCESS),
        (states.RETRY, states.STARTED, states.STARTED),
        (states.FAILURE, states.SUCCESS, states.SUCCESS),
    ],
)
def test_ready_states_are_not_overwritten_by_late_ones(
    backend: ElasticsearchBackend, stored: str, late: str, final: str
) -> None:
    def value(state: str, text: str) -> Any:
        return RuntimeError(text) if state in states.EXCEPTION_STATES else text

    backend.store_result("t", value(stored, "first"), stored)
    backend.store_result("t", value(late, "second"), late)
    meta = backend.get_task_meta("t", cache=False)
    assert meta["status"] == final
    assert str(meta["result"]) == ("first" if final == stored else "second")


def test_legacy_documents_without_status_are_guarded_too(
    backend: ElasticsearchBackend, cluster: Any
) -> None:
    # A document as Celery's built-in backend writes it: no top-level status.
    meta = {"status": states.SUCCESS, "result": 7, "traceback": None, "children": []}
    backend.set("warmup", "x")  # create the index with our mapping
    cluster.client().index(
        index="celery",
        id="celery-task-meta-old",
        document={"result": backend.encode(meta), "@timestamp": "2024-01-01T00:00:00.000Z"},
    )
    backend.store_result("old", None, states.RETRY)
    assert backend.get_task_meta("old")["result"] == 7


def test_failure_round_trips(backend: ElasticsearchBackend) -> None:
    backend.mark_as_failure("t", KeyError("missing"), traceback="Traceback ...")
    meta = backend.get_task_meta("t")
    assert meta["status"] == states.FAILURE
    assert isinstance(meta["result"], KeyError)
    assert backend.get_traceback("t") == "Traceback ..."


def test_forget(backend: ElasticsearchBackend) -> None:
    backend.mark_as_done("t", 1)
    backend.forget("t")
    assert backend.get_state("t") == states.PENDING


def test_groups(backend: ElasticsearchBackend) -> None:
    backend.mark_as_done("a", 1)
    backend.mark_as_done("b", 2)
    group = GroupResult("g", [backend.app.AsyncResult("a"), backend.app.AsyncResult("b")])
    backend.save_group("g", group)
    restored = backend.restore_group("g", cache=False)
    assert [r.id for r in restored.results] == ["a", "b"]
    # Saving a group again replaces it (group keys carry no task state).
    backend.save_group("g", GroupResult("g", [backend.app.AsyncResult("c")]))
    assert [r.id for r in backend.restore_group("g", cache=False).results] == ["c"]
    backend.delete_group("g")
    assert backend.restore_group("g", cache=False) is None


def test_get_many_polls_with_one_mget(backend: ElasticsearchBackend, cluster: Any) -> None:
    ids = [f"t{i}" for i in range(100)]
    for task_id in ids:
        backend.mark_as_done(task_id, task_id.upper())
    start = len(cluster.requests)
    results = dict(backend.get_many(ids, interval=0))
    assert apis(cluster, start) == ["mget"]
    assert {task_id: meta["result"] for task_id, meta in results.items()} == {
        task_id: task_id.upper() for task_id in ids
    }


def test_result_extended(make_backend: BackendFactory) -> None:
    b = make_backend(result_extended=True)

    request = Context(
        id="t",
        task="tasks.add",
        args=(1, 2),
        kwargs={"z": 3},
        hostname="worker@host",
        retries=0,
        delivery_info={"routing_key": "celery"},
        ignore_result=False,
    )
    b.mark_as_done("t", 3, request=request)
    meta = b.get_task_meta("t")
    assert (meta["name"], meta["args"], meta["kwargs"]) == ("tasks.add", [1, 2], {"z": 3})
    assert (meta["worker"], meta["queue"]) == ("worker@host", "celery")


# -- text and object mode -------------------------------------------------------------

# Values whose dynamic mappings conflict: a string, an object, falsy scalars, and one
# field holding a number, a string and an object (Celery #3960, #5660, #6306).
CONFLICTING = ["text", {"a": 1}, {"a": "x"}, {"a": {"b": [1, "two"]}}, 0, None, False, [], 1.5]


@pytest.mark.parametrize(
    "modes", [(True,), (False,), (True, False)], ids=["text", "object", "mixed"]
)
def test_results_of_any_shape_never_conflict(
    make_backend: BackendFactory, modes: tuple[bool, ...]
) -> None:
    backends = [make_backend(elasticsearch_save_meta_as_text=mode) for mode in modes]
    for i, value in enumerate(CONFLICTING):
        for j, b in enumerate(backends):
            b.mark_as_done(f"t{i}-{j}", value)
    for i, value in enumerate(CONFLICTING):
        for j in range(len(backends)):
            for reader in backends:  # either mode reads what the other wrote
                assert reader.get_task_meta(f"t{i}-{j}", cache=False)["result"] == value


@pytest.mark.parametrize(
    ("first", "then"),
    [((False, {}), (False, "x")), ((True, 1), (False, 1))],
    ids=["object-mode", "text-then-object"],
)
def test_without_our_mapping_those_results_do_conflict(
    make_backend: BackendFactory, cluster: Any, first: tuple[bool, Any], then: tuple[bool, Any]
) -> None:
    # What the built-in backend gets from a dynamic mapping; shows the test above can fail.
    cluster.client().indices.create(index="celery")
    make_backend(elasticsearch_save_meta_as_text=first[0]).mark_as_done("t0", first[1])
    with pytest.raises(elasticsearch.BadRequestError):
        make_backend(elasticsearch_save_meta_as_text=then[0]).mark_as_done("t1", then[1])


def test_object_mode_stores_an_object(make_backend: BackendFactory, cluster: Any) -> None:
    b = make_backend(elasticsearch_save_meta_as_text=False)
    b.mark_as_done("t", {"k": [1, 2]})
    doc = source(cluster, "celery-task-meta-t")
    assert doc["result"]["status"] == states.SUCCESS
    assert doc["result"]["task_id"] == "t"
    assert isinstance(doc["result"]["result"], str)  # the built-in's shape: encoded when truthy
    assert b.get_task_meta("t")["result"] == {"k": [1, 2]}


def test_encode_decode_round_trip_in_both_modes(make_backend: BackendFactory) -> None:
    meta = {"status": states.SUCCESS, "result": {"x": [1]}, "traceback": None, "children": []}
    for text in (True, False):
        b = make_backend(elasticsearch_save_meta_as_text=text)
        encoded = b.encode(dict(meta))
        assert isinstance(encoded, str if text else dict)
        assert b.decode(encoded) == meta
    assert make_backend().decode(None) is None


def test_binary_serializers_are_stored_as_base64(
    make_backend: BackendFactory, cluster: Any
) -> None:
    b = make_backend(result_serializer="pickle", result_accept_content=["pickle", "json"])
    b.mark_as_done("t", {1, 2, 3})  # a set: pickle only
    assert source(cluster, "celery-task-meta-t")["encoding"] == "base64"
    assert b.get_task_meta("t")["result"] == {1, 2, 3}
