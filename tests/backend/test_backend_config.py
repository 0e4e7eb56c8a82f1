"""URL, settings and client construction of esbackend.ElasticsearchBackend (no cluster needed)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import elasticsearch
import pytest
from celery.exceptions import ImproperlyConfigured

import esbackend
from esbackend import ElasticsearchBackend

from .backend_helpers import Script, make_app, scripted_node


def backend(url: str | None = None, **config: Any) -> ElasticsearchBackend:
    return ElasticsearchBackend(app=make_app(**config), url=url)


def test_defaults_match_celerys_builtin_backend() -> None:
    b = backend()
    assert (b.index, b.doc_type, b.scheme, b.host, b.port) == (
        "celery",
        None,
        "http",
        "localhost",
        9200,
    )
    assert (b.username, b.password) == (None, None)
    assert (b.es_retry_on_timeout, b.es_timeout, b.es_max_retries) == (False, 10, 3)
    assert b.es_save_meta_as_text is True
    assert b.implements_incr is True
    assert b.supports_native_join is True


def test_url_gives_scheme_host_port_credentials_index_and_doc_type() -> None:
    b = backend("https://us%40er:p%3Ass%2Fw@es.example:9243/results/legacy")
    assert (b.scheme, b.host, b.port) == ("https", "es.example", 9243)
    assert (b.username, b.password) == ("us@er", "p:ss/w")
    assert (b.index, b.doc_type) == ("results", "legacy")


@pytest.mark.parametrize("scheme", ["esbackend", "elasticsearch"])
def test_alias_scheme_means_the_default_scheme(scheme: str) -> None:
    b = backend(f"{scheme}://es.example/idx")
    assert (b.scheme, b.host, b.port, b.index) == ("http", "es.example", 9200, "idx")


@pytest.mark.parametrize("url", ["esbackend://", "esbackend:///", "http://:9201/"])
def test_missing_parts_fall_back_to_defaults(url: str) -> None:
    b = backend(url)
    assert b.host == "localhost"
    assert b.index == "celery"
    assert b.port in (9200, 9201)


def test_several_hosts_and_ipv6() -> None:
    b = backend("https://u:p@h1:9201,h2,[::1]:9203/idx")
    assert b.hosts == [("h1", 9201), ("h2", 9200), ("[::1]", 9203)]
    assert (b.host, b.port) == ("h1", 9201)
    kwargs = b._client_kwargs()
    assert kwargs["hosts"] == ["https://h1:9201", "https://h2:9200", "https://[::1]:9203"]
    assert kwargs["basic_auth"] == ("u", "p")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://h:nine/idx", "port 'nine' is not an integer"),
        ("http://h:99999/idx", "out of range"),
        ("ftp://h:9200/idx", "unsupported scheme 'ftp'"),
        ("h:9200/idx", "missing '://'"),
        ("http://h:9200/a/b/c", "too many path segments"),
        ("http://h:9200/idx?verify_certs=false", "query strings"),
        ("http://h1,,h2/idx", "empty host"),
        ("http://[::1:9200/idx", "malformed IPv6 host"),
        ("http://::1:9200/idx", "IPv6 addresses go in brackets"),
    ],
)
def test_bad_urls_name_the_problem_and_hide_the_password(url: str, problem: str) -> None:
    url = url.replace("://", "://user:s3cret@", 1) if "://" in url else url
    with pytest.raises(ImproperlyConfigured, match="esbackend") as info:
        backend(url)
    assert problem in str(info.value)
    assert "s3cret" not in str(info.value)


def test_settings_reach_the_client() -> None:
    b = backend(
        "http://h:9200/idx",
        elasticsearch_retry_on_timeout=True,
        elasticsearch_timeout=2.5,
        elasticsearch_max_retries=7,
        elasticsearch_save_meta_as_text=False,
        elasticsearch_client_options={"verify_certs": False, "http_compress": True},
    )
    assert (b.es_retry_on_timeout, b.es_timeout, b.es_max_retries) == (True, 2.5, 7)
    assert b.es_save_meta_as_text is False
    kwargs = b._client_kwargs()
    assert kwargs == {
        "hosts": ["http://h:9200"],
        "request_timeout": 2.5,
        "retry_on_timeout": True,
        "max_retries": 7,
        "verify_certs": False,
        "http_compress": True,
    }


def test_client_options_win_over_the_url() -> None:
    b = backend(
        "https://user:pw@h:9200/idx",
        elasticsearch_client_options={"api_key": "KEY", "hosts": ["https://a:1", "https://b:2"]},
    )
    kwargs = b._client_kwargs()
    assert kwargs["api_key"] == "KEY"
    assert "basic_auth" not in kwargs  # the client refuses two kinds of credentials
    assert kwargs["hosts"] == ["https://a:1", "https://b:2"]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("elasticsearch_client_options", ["verify_certs"]),
        ("elasticsearch_timeout", "soon"),
        ("elasticsearch_max_retries", "many"),
    ],
)
def test_bad_settings_are_improperly_configured(setting: str, value: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match=setting):
        backend(**{setting: value})


def test_object_mode_needs_a_text_serializer() -> None:
    with pytest.raises(ImproperlyConfigured, match="text result serializer"):
        backend(
            elasticsearch_save_meta_as_text=False,
            result_serializer="pickle",
            result_accept_content=["pickle"],
        )


def test_real_client_is_built_with_modern_arguments_only() -> None:
    # -W error turns any DeprecationWarning of elasticsearch-py 8.x into a failure; check
    # explicitly too, so the test means the same without -W error.
    b = backend(
        "https://user:pw@h1:9201,h2:9202/idx",
        elasticsearch_client_options={"ca_certs": None, "http_compress": True},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = b.server
    assert isinstance(client, elasticsearch.Elasticsearch)
    assert client is b.server  # created once, cached
    hosts = sorted(
        (n.config.scheme, n.config.host, n.config.port) for n in client.transport.node_pool.all()
    )
    assert hosts == [("https", "h1", 9201), ("https", "h2", 9202)]
    assert client._headers["authorization"].startswith("Basic ")
    assert "pw" not in repr(client)


def test_server_is_rebuilt_in_a_forked_child(monkeypatch: pytest.MonkeyPatch) -> None:
    b = backend("http://h:9200/idx")
    first = b.server
    monkeypatch.setattr("os.getpid", lambda: -1)
    assert b.server is not first


def test_node_class_option_binds_the_client() -> None:
    script = Script(default=lambda method, target, body: (404, {"found": False}))
    b = backend(elasticsearch_client_options={"node_class": scripted_node(script)})
    assert b.get("celery-task-meta-x") is None
    assert script.log == [("GET", "/celery/_doc/celery-task-meta-x")]


def test_repr_and_as_uri_hide_the_password() -> None:
    url = "https://user:s3cret@h1:9200,h2:9200/idx"
    b = backend(url)
    assert "s3cret" not in repr(b)
    assert b.as_uri() == "https://user:****@h1:9200,h2:9200/idx"
    assert b.as_uri(include_password=True) == url
    assert backend().as_uri() == "http://localhost:9200/celery"


def test_backend_pickles_with_its_url() -> None:
    app = make_app()
    b = ElasticsearchBackend(app=app, url="http://h:9201/idx")
    _function, (cls, _args, kwargs) = b.__reduce__()
    assert cls is ElasticsearchBackend
    assert kwargs["url"] == "http://h:9201/idx"


def test_importing_esbackend_and_its_fakes_does_not_import_celery() -> None:
    code = (
        "import sys, esbackend\n"
        "try:\n import esbackend.fakes\n"
        "except ImportError: pass\n"
        "assert 'celery' not in sys.modules, 'celery imported'\n"
        "assert 'ElasticsearchBackend' in dir(esbackend)\n"
        "esbackend.ElasticsearchBackend\n"
        "assert 'celery' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lazy_attribute_errors_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        esbackend.NoSuchThing  # noqa: B018
