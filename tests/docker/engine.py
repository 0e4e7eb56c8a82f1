"""A stateful stand-in for the Docker Engine API, served through ``responses``.

The Docker SDK speaks HTTP through requests, so ``responses`` intercepts it when the client
has a TCP base URL and a fixed API version (no ``GET /version`` first). The routes and shapes
are the Engine API's (v1.44): images/{name}/json, images/create (a chunked JSON stream),
containers/create|json|{id}/json|start|stop|kill|pause|unpause|logs (multiplexed frames),
DELETE containers/{id}, networks/create|{id}, GET networks. The Elasticsearch health endpoint
of the published ports is scripted by ``health``.
"""

from __future__ import annotations

import io
import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import docker
import requests
import responses

API_VERSION = "1.44"
ENGINE = "http://127.0.0.1:2375"
BASE = f"{ENGINE}/v{API_VERSION}"

Reply = tuple[int, dict[str, str], Any]
# A health step: a status (a matching body), a body dict (200), an exception, or a callable.
HealthStep = int | dict[str, Any] | Exception | Callable[[], Any]


class _Chunked(io.BufferedReader):
    """A body the SDK reads as chunked transfer encoding, as the engine sends image pulls.

    ``APIClient._stream_helper`` looks at ``response.raw._fp.chunked``; ``responses`` hands
    urllib3 a plain BytesIO, which has no such attribute.
    """

    chunked = True
    chunk_left = None


def _json(status: int, body: Any) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def _error(status: int, message: str) -> Reply:
    return _json(status, {"message": message})


@dataclass
class Health:
    """The scripted answers of ``GET /_cluster/health``; the last step repeats."""

    steps: list[HealthStep] = field(default_factory=lambda: [{"status": "green"}])
    seen: list[requests.PreparedRequest] = field(default_factory=list)

    def __call__(self, request: requests.PreparedRequest) -> Reply:
        self.seen.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if callable(step) and not isinstance(step, Exception):
            step = step()
        if isinstance(step, Exception):
            return 0, {}, step  # responses raises it, as requests would
        if isinstance(step, int):
            return _json(step, {"status": "red", "timed_out": True})
        return _json(200, {"timed_out": False, **step})


class FakeEngine:
    """Images, containers and networks held in dicts; ``calls`` lists (method, path)."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.images: set[str] = set()
        self.containers: dict[str, dict[str, Any]] = {}
        self.networks: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.bodies: list[Any] = []  # JSON bodies of create calls, in order
        self.logs: list[str] = ["starting node", "bootstrap checks passed"]
        self.pull_events: list[dict[str, Any]] = [
            {"status": "Pulling from elasticsearch/elasticsearch", "id": "9.1.0"},
            {"status": "Pulling fs layer", "progressDetail": {}, "id": "a1"},
            {"status": "Pulling fs layer", "progressDetail": {}, "id": "b2"},
            {"status": "Downloading", "progressDetail": {"current": 1, "total": 2}, "id": "a1"},
            {"status": "Pull complete", "progressDetail": {}, "id": "a1"},
            {"status": "Already exists", "progressDetail": {}, "id": "b2"},
            {"status": "Digest: sha256:0123"},
        ]
        self.fail: dict[tuple[str, str], Reply] = {}  # (method, action) -> canned error
        self.health = Health()
        self._next_port = 49200
        self._next_id = 0
        for method in ("GET", "POST", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(ENGINE) + r"/.*"), self._dispatch)
        mock.add_callback(
            "GET", re.compile(r"http://127\.0\.0\.1:\d+/_cluster/health.*"), self.health
        )

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=f"tcp://{ENGINE[7:]}", version=API_VERSION)

    # -- test conveniences ------------------------------------------------------------------

    def add_container(
        self, name: str, labels: dict[str, str], *, running: bool = True, env: tuple[str, ...] = ()
    ) -> str:
        cid = self._new_id()
        self.containers[cid] = self._attrs(cid, name, {"Env": list(env), "Labels": labels})
        if running:
            self._start(self.containers[cid])
        return cid

    def exit(self, name: str, code: int) -> None:
        """The named container's process ends (what a failed bootstrap check does)."""
        attrs = self._by_ref(name)
        assert attrs is not None
        attrs["State"].update(Status="exited", Running=False, ExitCode=code)

    def names(self) -> set[str]:
        return {c["Name"].lstrip("/") for c in self.containers.values()}

    def actions(self) -> list[str]:
        """The calls with the container id replaced by its role, e.g. ``POST start``."""
        out = []
        for method, path in self.calls:
            parts = path.split("/")[2:]
            if parts[0] == "containers" and len(parts) == 3:
                out.append(f"{method} container {parts[2]}")
            elif parts[0] == "containers" and len(parts) == 2 and parts[1] != "json":
                out.append(f"{method} container")
            else:
                out.append(f"{method} {'/'.join(p for p in parts if not p.startswith('c-'))}")
        return out

    # -- routing --------------------------------------------------------------------------

    def _new_id(self) -> str:
        self._next_id += 1
        return f"c-{self._next_id:04d}"

    def _attrs(self, cid: str, name: str, config: dict[str, Any]) -> dict[str, Any]:
        host_config = config.pop("HostConfig", {})
        return {
            "Id": cid,
            "Name": f"/{name}",
            "Config": {"Tty": False, **config},
            "State": {"Status": "created", "Running": False, "ExitCode": 0},
            "HostConfig": host_config,
            "NetworkSettings": {"Ports": {}},
        }

    def _by_ref(self, ref: str) -> dict[str, Any] | None:
        for attrs in self.containers.values():
            if ref in (attrs["Id"], attrs["Name"].lstrip("/")):
                return attrs
        return None

    def _start(self, attrs: dict[str, Any]) -> None:
        attrs["State"].update(Status="running", Running=True, ExitCode=0)
        bindings = attrs["HostConfig"].get("PortBindings") or {"9200/tcp": [{"HostIp": ""}]}
        ports = {}
        for port, binds in bindings.items():
            # An empty HostPort asks the engine for a free port; each start picks anew.
            self._next_port += 1
            ports[port] = [{"HostIp": binds[0]["HostIp"], "HostPort": str(self._next_port)}]
        attrs["NetworkSettings"]["Ports"] = ports

    def _dispatch(self, request: requests.PreparedRequest) -> Reply:
        url = urlsplit(str(request.url))
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        method = str(request.method)
        path = url.path
        self.calls.append((method, path))
        assert path.startswith(f"/v{API_VERSION}/"), path
        route = path[len(f"/v{API_VERSION}") :]
        body = json.loads(cast(bytes, request.body)) if request.body else None
        if method == "GET" and (m := re.fullmatch(r"/images/(.+)/json", route)):
            if m[1] in self.images:
                return _json(200, {"Id": "sha256:abc", "RepoTags": [m[1]]})
            return _error(404, f"No such image: {m[1]}")
        if method == "POST" and route == "/images/create":
            return self._pull(query)
        if route.startswith("/containers"):
            return self._containers(method, route, query, body)
        if route.startswith("/networks"):
            return self._networks(method, route, query, body)
        return _error(404, f"page not found: {method} {route}")

    def _pull(self, query: dict[str, str]) -> Reply:
        if ("POST", "pull") in self.fail:
            return self.fail["POST", "pull"]
        self.images.add(f"{query['fromImage']}:{query['tag']}")
        # One JSON object per line; the engine sends no newline after the last one.
        payload = "\r\n".join(json.dumps(event) for event in self.pull_events).encode()
        return 200, {"Content-Type": "application/json"}, _Chunked(io.BytesIO(payload))

    def _containers(self, method: str, route: str, query: dict[str, str], body: Any) -> Reply:
        if method == "POST" and route == "/containers/create":
            self.bodies.append(body)
            if ("POST", "create") in self.fail:
                return self.fail["POST", "create"]
            if self._by_ref(query["name"]) is not None:
                return _error(409, f'Conflict. The container name "/{query["name"]}" is in use')
            if body["Image"] not in self.images:
                return _error(404, f"No such image: {body['Image']}")
            cid = self._new_id()
            config = {k: body[k] for k in ("Env", "Labels", "Image", "HostConfig")}
            self.containers[cid] = self._attrs(cid, query["name"], config)
            return _json(201, {"Id": cid, "Warnings": []})
        if method == "GET" and route == "/containers/json":
            wanted = json.loads(query.get("filters", "{}")).get("label", [])
            listed = [
                {"Id": c["Id"], "Names": [c["Name"]], "Labels": c["Config"]["Labels"]}
                for c in self.containers.values()
                if all(_has_label(c["Config"]["Labels"], want) for want in wanted)
            ]
            return _json(200, listed)
        m = re.fullmatch(r"/containers/([^/]+)(?:/(\w+))?", route)
        assert m is not None, route
        attrs = self._by_ref(m[1])
        if attrs is None:
            return _error(404, f"No such container: {m[1]}")
        action = m[2] or ""
        if (method, action) in self.fail:
            return self.fail[method, action]
        if method == "GET" and action == "json":
            return _json(200, attrs)
        if method == "GET" and action == "logs":
            tail = int(query.get("tail", "0"))
            lines = self.logs[-tail:] if tail else self.logs
            frames = b"".join(
                struct.pack(">BxxxL", 1, len(data)) + data
                for data in (f"{line}\n".encode() for line in lines)
            )
            return 200, {"Content-Type": "application/vnd.docker.raw-stream"}, frames
        if method == "POST" and action == "start":
            self._start(attrs)
        elif method == "POST" and action in ("stop", "kill"):
            attrs["State"].update(Status="exited", Running=False, ExitCode=137)
        elif method == "POST" and action in ("pause", "unpause"):
            attrs["State"]["Status"] = "paused" if action == "pause" else "running"
        elif method == "DELETE" and action == "":
            if attrs["State"]["Running"] and query.get("force") not in ("1", "True", "true"):
                return _error(409, "You cannot remove a running container")
            del self.containers[attrs["Id"]]
        else:
            return _error(404, f"page not found: {method} {route}")
        return 204, {}, ""

    def _networks(self, method: str, route: str, query: dict[str, str], body: Any) -> Reply:
        if method == "POST" and route == "/networks/create":
            nid = f"n-{len(self.networks) + 1:04d}"
            self.networks[nid] = {"Id": nid, "Name": body["Name"], "Labels": body["Labels"]}
            return _json(201, {"Id": nid, "Warning": ""})
        if method == "GET" and route == "/networks":
            wanted = json.loads(query.get("filters", "{}")).get("label", [])
            return _json(
                200,
                [
                    n
                    for n in self.networks.values()
                    if all(_has_label(n["Labels"], w) for w in wanted)
                ],
            )
        m = re.fullmatch(r"/networks/([^/]+)", route)
        assert m is not None, route
        if m[1] not in self.networks:
            return _error(404, f"network {m[1]} not found")
        if method == "GET":
            return _json(200, self.networks[m[1]])
        if method == "DELETE":
            attached = [
                c
                for c in self.containers.values()
                if c["HostConfig"].get("NetworkMode") == self.networks[m[1]]["Name"]
            ]
            if attached:
                return _error(403, "error while removing network: network has active endpoints")
            del self.networks[m[1]]
            return 204, {}, ""
        return _error(404, f"page not found: {method} {route}")


def _has_label(labels: dict[str, str], want: str) -> bool:
    key, eq, value = want.partition("=")
    return key in labels and (not eq or labels[key] == value)
