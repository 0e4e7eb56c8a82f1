"""The fake over real HTTP (``serve``): any client, keep-alive, gzip, auth, and bad input."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from esbackend.fakes import FakeCluster, serve


@pytest.fixture
def url(cluster: FakeCluster) -> Iterator[str]:
    with serve(cluster) as base:
        yield base


def request(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def raw(url: str, data: bytes, *, shutdown: bool = False) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if (
                b"\r\n\r\n" in b"".join(chunks)
                and b"connection: close" not in b"".join(chunks).lower()
            ):
                break
        return b"".join(chunks)


def test_the_real_client_over_http(url: str) -> None:
    es = Elasticsearch(url)
    es.index(index="t", id="1", document={"a": 1}, refresh=True)
    assert es.get(index="t", id="1")["_source"] == {"a": 1}
    assert es.search(index="t")["hits"]["total"]["value"] == 1
    assert es.count(index="t")["count"] == 1


def test_plain_http_status_headers_and_bodies(url: str) -> None:
    status, headers, body = request(
        f"{url}/t/_doc/1", "PUT", b'{"a": 1}', {"content-type": "application/json"}
    )
    assert status == 201
    assert headers["X-Elastic-Product"] == "Elasticsearch"
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["result"] == "created"
    status, _, body = request(f"{url}/t/_doc/2")
    assert (status, json.loads(body)["found"]) == (404, False)
    status, headers, body = request(f"{url}/t/_doc/1", "HEAD")
    assert (status, body) == (200, b"")
    assert request(f"{url}/t/_doc/2", "HEAD")[0] == 404


def test_gzip_both_ways(url: str) -> None:
    status, headers, body = request(
        f"{url}/t/_doc/1",
        "PUT",
        gzip.compress(b'{"zipped": true}'),
        {"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert status == 201
    status, headers, body = request(f"{url}/t/_doc/1", headers={"accept-encoding": "gzip"})
    assert headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(body))["_source"] == {"zipped": True}
    es = Elasticsearch(url, http_compress=True)
    assert es.get(index="t", id="1")["_source"] == {"zipped": True}


def test_chunked_request_body(url: str) -> None:
    payload = b'{"chunked": 1}'
    data = (
        b"PUT /t/_doc/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(payload):x}\r\n".encode()
        + payload
        + b"\r\n0\r\n\r\n"
    )
    answer = raw(url, data)
    assert answer.startswith(b"HTTP/1.1 201")


def test_require_auth(clock: Any) -> None:
    secured = FakeCluster(require_auth=("elastic", "s3cret"), clock=clock)
    with serve(secured) as base:
        status, headers, body = request(f"{base}/")
        assert status == 401
        assert headers["WWW-Authenticate"].startswith("Basic realm=")
        error = json.loads(body)["error"]
        assert error["type"] == "security_exception"
        assert error["reason"] == "missing authentication credentials for REST request [/]"
        wrong = Elasticsearch(base, basic_auth=("elastic", "nope"))
        with pytest.raises(Exception, match="unable to authenticate user"):
            wrong.info()
        right = Elasticsearch(base, basic_auth=("elastic", "s3cret"))
        assert right.info()["version"]["number"] == secured.version


@pytest.mark.parametrize(
    "data",
    [
        b"NONSENSE\r\n\r\n",
        b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(120)) + b"\r\n",
    ],
    ids=["bad-request-line", "oversize-header", "too-many-headers"],
)
def test_bad_requests_get_elasticsearch_shaped_400s(url: str, data: bytes) -> None:
    answer = raw(url, data)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith((b"HTTP/1.1 400", b"HTTP/1.0 400"))
    error = json.loads(body)
    assert error["status"] == 400
    assert error["error"]["root_cause"]
    assert request(f"{url}/")[0] == 200  # the server keeps serving


def test_short_body_closes_the_connection_and_the_server_survives(url: str) -> None:
    answer = raw(url, b'PUT /t/_doc/1 HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"a"', shutdown=True)
    assert answer == b""
    assert request(f"{url}/t/_doc/1")[0] == 404  # nothing half-written


def test_invalid_utf8_json_is_a_400(url: str) -> None:
    status, _, body = request(
        f"{url}/t/_doc/1", "PUT", b'{"a": "\xff\xfe"}', {"content-type": "application/json"}
    )
    assert status == 400
    assert json.loads(body)["error"]["type"] == "document_parsing_exception"


def test_errors_in_the_server_thread_reach_the_caller(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom in the server thread")

    answers = []

    def serve_one_request() -> None:
        with serve(cluster) as base:
            monkeypatch.setattr(cluster.protocol, "execute", broken)
            answers.append(request(f"{base}/"))

    with pytest.raises(RuntimeError, match="boom in the server thread"):
        serve_one_request()  # the error surfaces as the serve() block ends
    status, _, body = answers[0]
    assert status == 500
    assert "boom in the server thread" in json.loads(body)["error"]["reason"]


def test_concurrent_clients_lose_nothing(url: str) -> None:
    threads, per_thread = 8, 1000
    problems: list[str] = []

    def work(n: int) -> None:
        es = Elasticsearch(url)
        try:
            for i in range(per_thread):
                doc_id = f"{n}-{i // 2}"
                if i % 2 == 0:
                    created = es.index(index="load", id=doc_id, document={"n": n, "i": i})
                    if created["result"] != "created":
                        problems.append(f"{doc_id}: {created.body}")
                else:
                    got = es.get(index="load", id=doc_id)
                    if got["_source"] != {"n": n, "i": i - 1}:
                        problems.append(f"{doc_id}: {got.body}")
        except Exception as exc:  # reported in the test thread
            problems.append(repr(exc))
        finally:
            es.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert problems == []
    es = Elasticsearch(url)
    es.indices.refresh(index="load")
    assert es.count(index="load")["count"] == threads * per_thread // 2


def test_failures_of_the_fake_itself_are_not_lost(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_handler(*args: object) -> None:
        raise KeyError("bug in a handler")

    monkeypatch.setattr(cluster.protocol.__class__, "info", broken_handler)
    monkeypatch.setattr(cluster.protocol.router, "cache", {})
    answers = []

    def serve_one_request() -> None:
        with serve(cluster) as base:
            answers.append(request(f"{base}/"))

    with pytest.raises(KeyError, match="bug in a handler"):
        serve_one_request()
    status, _, body = answers[0]
    assert status == 500
    assert json.loads(body)["error"]["type"] == "esbackend_fake_exception"
