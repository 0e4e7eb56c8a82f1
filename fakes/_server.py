"""The fake over real HTTP: a keep-alive HTTP/1.1 server in a background thread.

Thin by design: bytes in, the same protocol layer the node class uses, bytes out. Transport-level
concerns live here: keep-alive, chunked bodies, gzip both ways, and bad input that never reaches
the protocol (a malformed request line, oversize headers, a short body), which gets a 400 in
Elasticsearch's error shape, or a closed connection, while the server keeps serving everyone else.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import _errors as err
from ._cluster import FakeCluster
from ._faults import NetworkFault
from ._rest import dumps

log = logging.getLogger("esbackend.fakes.server")

MAX_BODY = 100 * 1024 * 1024  # http.max_content_length


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # Elasticsearch's http.max_header_size is 16kb; http.server checks each line at 64kb.
    timeout = 30

    def setup(self) -> None:
        super().setup()
        # Without TCP_NODELAY, Nagle plus delayed ACK costs ~40 ms per request on loopback.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return None  # requests are logged once, in _answer, when --verbose asks for it

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, oversize headers), shaped like ES's."""
        reason = message or HTTPStatus(code).phrase
        status = 400 if code in (400, 414, 431) else code
        error = err.EsError(
            status, "illegal_argument_exception" if status == 400 else "http_exception", reason
        )
        self.close_connection = True
        # An unparsable request line leaves HTTP/0.9, which has no status line: answer in 1.1.
        self.request_version = "HTTP/1.1"
        body = dumps(error.body())
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("content-length", str(len(body)))
            self.send_header("connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass

    def _read_body(self) -> bytes | None:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024)
                if not size_line:
                    raise ConnectionError("connection closed inside a chunked body")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("request body too large")
                chunk = self.rfile.read(size)
                if len(chunk) < size:
                    raise ConnectionError("connection closed inside a chunked body")
                chunks.append(chunk)
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = self.headers.get("content-length")
        if length is None:
            return None
        size = int(length)
        if size < 0 or size > MAX_BODY:
            raise ValueError(f"invalid content-length [{length}]")
        body = self.rfile.read(size)
        if len(body) < size:
            raise ConnectionError("the body is shorter than its content-length")
        return body

    def _handle_any(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except ConnectionError:
            self.close_connection = True  # the peer went away mid-body: nothing to answer
            return
        except ValueError as exc:
            self.send_error(400, f"bad request body: {exc}")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        if body and headers.get("content-encoding", "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error):
                self.send_error(400, "request body is not valid gzip")
                return
        cluster = self.server.cluster
        try:
            attempt = cluster._begin(self.command, self.path, headers)
            # An injected delay is real here: the client's own timeout decides what happens.
            delay = cluster._delay(attempt, None)
            if delay and self.server.stopping.wait(delay):
                return
            response = cluster._complete(attempt, body)
        except NetworkFault as fault:
            self._drop(fault.kind)
            return
        except BaseException as exc:  # a bug in the fake: answer 500, re-raise in the caller
            self.server.errors.append(exc)
            self.send_error(500, f"the fake failed: {exc!r}")
            return
        payload = response.body
        out_headers = dict(response.headers)
        if payload and "gzip" in headers.get("accept-encoding", ""):
            payload = gzip.compress(payload, compresslevel=1)
            out_headers["content-encoding"] = "gzip"
        self.send_response(response.status)
        for name, value in out_headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        if self.server.verbose:
            log.info(
                "%s %s %s %.1fms",
                self.command,
                self.path,
                response.status,
                (time.perf_counter() - started) * 1000,
            )

    def _drop(self, kind: str) -> None:
        """An injected network fault: hang up at once, or go silent past any client timeout."""
        self.close_connection = True
        if kind == "timeout":
            self.server.stopping.wait(self.server.hold)
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle_any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], cluster: FakeCluster, verbose: bool) -> None:
        self.cluster = cluster
        self.verbose = verbose
        self.stopping = threading.Event()
        # How long an injected "timeout" keeps the client waiting with no answer.
        self.hold = 30.0
        self.errors: list[BaseException] = []
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up is ordinary; anything else is recorded for the caller.
        import sys

        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)) and exc:
            self.errors.append(exc)


class FakeServer:
    """A running HTTP server for a cluster; ``url`` is its base URL."""

    def __init__(
        self, cluster: FakeCluster, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
    ) -> None:
        self._server = _Server((host, port), cluster, verbose)
        bound_host, bound_port = (str(part) for part in self._server.server_address[:2])
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"http://{shown}:{bound_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="esbackend-fake-server", daemon=True
        )

    def serve(self, cluster: FakeCluster) -> None:
        """Answer from now on with ``cluster`` (one server, a fresh cluster per test)."""
        self._server.cluster = cluster

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised inside the server thread (a bug in the fake, not in your code)."""
        return self._server.errors

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the ``esbackend serve`` command)."""
        self._server.serve_forever()

    def stop_quietly(self) -> None:
        self._server.server_close()

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def check(self) -> None:
        """Re-raise, in the calling thread, the first error the server thread or the fake hit."""
        errors = [*self._server.errors, *self._server.cluster.errors]
        if errors:
            raise errors[0]


@contextmanager
def serve(
    cluster: FakeCluster, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> Iterator[str]:
    """Serve ``cluster`` over HTTP while the block runs; yields the base URL.

    Errors raised inside the server thread are re-raised here when the block ends.
    """
    server = FakeServer(cluster, host, port, verbose=verbose).start()
    try:
        yield server.url
    finally:
        server.stop()
    server.check()
