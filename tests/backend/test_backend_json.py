"""The client's JSON decoding: orjson when installed (text mode), the stdlib otherwise."""

from __future__ import annotations

import math

import pytest
from elasticsearch.serializer import JsonSerializer

from esbackend._backend import _FastJsonSerializer

from .backend_helpers import BackendFactory

pytest.importorskip("orjson", reason="orjson is an optional extra (esbackend[fast])")


def json_serializer(backend: object) -> object:
    serializers = backend.server.transport.serializers  # type: ignore[attr-defined]
    return serializers.get_serializer("application/json")


def test_text_mode_decodes_with_orjson(make_backend: BackendFactory) -> None:
    backend = make_backend()
    assert isinstance(json_serializer(backend), _FastJsonSerializer)
    backend.store_result("t", {"big": 2**70, "text": "é"}, "SUCCESS")
    assert backend.get_task_meta("t")["result"] == {"big": 2**70, "text": "é"}


def test_object_mode_keeps_the_stdlib(make_backend: BackendFactory) -> None:
    # Object mode stores user values as JSON; orjson would turn integers past 64 bits into
    # errors or floats, so the stdlib decodes there.
    backend = make_backend(elasticsearch_save_meta_as_text=False)
    serializer = json_serializer(backend)
    assert isinstance(serializer, JsonSerializer)
    assert not isinstance(serializer, _FastJsonSerializer)


def test_a_serializer_the_user_chose_wins(make_backend: BackendFactory) -> None:
    mine = JsonSerializer()
    backend = make_backend(elasticsearch_client_options={"serializer": mine})
    assert json_serializer(backend) is mine


def test_what_orjson_rejects_is_decoded_by_the_stdlib() -> None:
    decoded = _FastJsonSerializer().json_loads(b'{"a": NaN, "b": 1}')
    assert math.isnan(decoded["a"])
    assert decoded["b"] == 1
