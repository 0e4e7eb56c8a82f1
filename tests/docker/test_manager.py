"""The Docker cluster manager against a mocked Engine API (no Docker engine needed).

Requests to the engine and to the cluster's health endpoint are answered by ``FakeEngine``
(``responses``); time is a fake clock, so the deadline tests run instantly.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import docker.errors
import pytest
import requests

from esbackend.fixtures import _docker
from esbackend.fixtures._docker import (
    LABEL,
    LABEL_OWNER,
    LABEL_REUSE,
    ClusterStartError,
    DockerCluster,
    DockerUnavailable,
    connect,
    engine_location,
    remove_leftovers,
)

from .conftest import ClusterFactory, Exits, FakeTime
from .engine import BASE, FakeEngine, HealthStep, _error

IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:9.1.0"
HERE = f"{socket.gethostname()}:{os.getpid()}"


def env_of(body: dict[str, object]) -> dict[str, str]:
    items = body["Env"]
    assert isinstance(items, list)
    return dict(item.partition("=")[::2] for item in items)


def query_of(request: requests.PreparedRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


def creates(engine: FakeEngine) -> int:
    return engine.calls.count(("POST", f"{BASE[len('http://127.0.0.1:2375') :]}/containers/create"))


# -- a normal start --------------------------------------------------------------------------


def test_start_pulls_a_missing_image_runs_it_and_waits_for_yellow(
    make_cluster: ClusterFactory, engine: FakeEngine, fake_time: FakeTime, progress: list[str]
) -> None:
    engine.health.steps = [requests.ConnectionError("refused"), 503, 408, {"status": "yellow"}]
    cluster = make_cluster().start()

    paths = [f"{m} {p.removeprefix('/v1.44')}" for m, p in engine.calls]
    assert paths[:5] == [
        "GET /containers/json",  # the sweep for leftovers of earlier runs
        "GET /networks",
        f"GET /images/{IMAGE}/json",
        "POST /images/create",
        "POST /containers/create",
    ]
    assert f"POST /containers/{cluster.containers[0].id}/start" in paths
    body = engine.bodies[0]
    assert body["Image"] == IMAGE
    env = env_of(body)
    assert env["discovery.type"] == "single-node"
    assert env["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m"
    assert env["xpack.security.enabled"] == "false"
    assert "ELASTIC_PASSWORD" not in env
    # The engine picks a free port (empty HostPort), published on loopback only.
    assert body["HostConfig"]["PortBindings"] == {
        "9200/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]
    }
    assert body["Labels"][LABEL] == "1"
    assert body["Labels"][LABEL_OWNER] == HERE
    assert body["Labels"][LABEL_REUSE] == "0"

    port = cluster.containers[0].attrs["NetworkSettings"]["Ports"]["9200/tcp"][0]["HostPort"]
    assert cluster.url == f"http://127.0.0.1:{port}"
    assert cluster.client_options() == {}
    assert len(engine.health.seen) == 4
    assert {tuple(query_of(r).items()) for r in engine.health.seen} == {
        (("wait_for_status", "yellow"), ("timeout", "1s"))
    }
    assert all("Authorization" not in r.headers for r in engine.health.seen)
    assert fake_time.sleeps == [1.0, 1.0, 1.0]
    assert f"pulling {IMAGE}: 2/2 layers" in progress
    assert progress[-1].startswith(f"{cluster.url} is ready (status yellow)")

    cluster.stop()
    assert engine.containers == {}


def test_a_present_image_is_not_pulled(make_cluster: ClusterFactory, engine: FakeEngine) -> None:
    engine.images.add(IMAGE)
    make_cluster().start()
    assert ("POST", "/v1.44/images/create") not in engine.calls


def test_a_failed_pull_is_reported_and_creates_nothing(
    make_cluster: ClusterFactory, engine: FakeEngine
) -> None:
    engine.pull_events = [{"status": "Pulling from x"}, {"error": "manifest unknown"}]
    with pytest.raises(ClusterStartError, match=f"pulling {IMAGE} failed: manifest unknown"):
        make_cluster().start()
    assert creates(engine) == 0
    assert engine.containers == {}


def test_security_on_generates_a_password_used_by_probe_and_clients(
    make_cluster: ClusterFactory, engine: FakeEngine
) -> None:
    cluster = make_cluster(security=True).start()
    env = env_of(engine.bodies[0])
    assert env["xpack.security.enabled"] == "true"
    assert env["xpack.security.http.ssl.enabled"] == "false"  # url stays http://
    password = env["ELASTIC_PASSWORD"]
    assert len(password) >= 16
    assert cluster.password == password
    assert cluster.client_options() == {"basic_auth": ("elastic", password)}
    token = base64.b64encode(f"elastic:{password}".encode()).decode()
    assert engine.health.seen[-1].headers["Authorization"] == f"Basic {token}"

    other = make_cluster(security=True).start()
    assert other.password != password


def test_heap_and_extra_settings_reach_the_container(
    make_cluster: ClusterFactory, engine: FakeEngine
) -> None:
    make_cluster(heap="1g", settings={"action.auto_create_index": "false"}).start()
    env = env_of(engine.bodies[0])
    assert env["ES_JAVA_OPTS"] == "-Xms1g -Xmx1g"
    assert env["action.auto_create_index"] == "false"


# -- failures --------------------------------------------------------------------------------


def test_never_healthy_times_out_with_the_last_log_lines_and_removes_the_container(
    make_cluster: ClusterFactory, engine: FakeEngine, fake_time: FakeTime, progress: list[str]
) -> None:
    engine.health.steps = [408]
    engine.logs = [f"line {i}" for i in range(100)]
    cluster = make_cluster(startup_timeout=30, log_lines=5)
    with pytest.raises(ClusterStartError) as caught:
        cluster.start()
    message = str(caught.value)
    assert "did not reach yellow health within 30s" in message
    assert "last answer: HTTP 408" in message
    assert message.endswith("\n".join(f"line {i}" for i in range(95, 100)))
    assert "line 94" not in message
    assert sum(fake_time.sleeps) == 30
    assert [m.split(":")[0] for m in progress if m.startswith("waiting")] == [
        f"waiting for {cluster.urls[0].split(':')[0]}"
    ] * 2  # at 10 s and 20 s (report_every)
    assert engine.containers == {}


def test_a_container_that_exits_fails_fast_with_its_exit_code_and_logs(
    make_cluster: ClusterFactory, engine: FakeEngine, fake_time: FakeTime
) -> None:
    engine.logs = ["bootstrap check failure [1] of [1]: max virtual memory areas too low"]
    cluster = make_cluster()

    def crash() -> Exception:
        engine.exit(cluster.name, 78)
        return requests.ConnectionError("connection reset")

    engine.health.steps = [crash]
    with pytest.raises(ClusterStartError, match="exited with code 78") as caught:
        cluster.start()
    assert "max virtual memory areas too low" in str(caught.value)
    assert len(fake_time.sleeps) == 1  # no waiting for the deadline
    assert engine.containers == {}


def test_a_failed_start_call_removes_the_created_container(
    make_cluster: ClusterFactory, engine: FakeEngine
) -> None:
    engine.fail["POST", "start"] = _error(500, "driver failed programming external connectivity")
    with pytest.raises(docker.errors.APIError, match="external connectivity"):
        make_cluster().start()
    assert creates(engine) == 1
    assert engine.containers == {}


def test_an_interrupt_while_waiting_removes_the_container(
    make_cluster: ClusterFactory, engine: FakeEngine
) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    engine.health.steps = [503]
    with pytest.raises(KeyboardInterrupt):
        make_cluster(sleep=interrupted).start()
    assert engine.containers == {}


def test_stop_removes_the_container_and_the_exit_handler(
    make_cluster: ClusterFactory, engine: FakeEngine, exits: Exits
) -> None:
    cluster = make_cluster().start()
    assert exits.handlers == [cluster._remove_at_exit]
    (cid,) = engine.containers
    cluster.stop()
    assert ("DELETE", f"/v1.44/containers/{cid}") in engine.calls
    assert engine.containers == {}
    assert exits.handlers == []
    cluster.stop()  # a second stop has nothing left to do


def test_the_exit_handler_removes_a_cluster_never_stopped(
    make_cluster: ClusterFactory, engine: FakeEngine, exits: Exits
) -> None:
    make_cluster().start()
    for handler in exits.handlers:
        handler()
    assert engine.containers == {}


# -- reuse -----------------------------------------------------------------------------------


def test_reuse_keeps_the_container_and_the_next_run_adopts_it(
    make_cluster: ClusterFactory, engine: FakeEngine, exits: Exits
) -> None:
    first = make_cluster(reuse=True, security=True).start()
    assert engine.bodies[0]["Labels"][LABEL_REUSE] == "1"
    first.stop()
    for handler in exits.handlers:
        handler()  # an exit handler never removes a reused container either
    assert engine.names() == {first.name}

    second = make_cluster(reuse=True, security=True).start()
    assert creates(engine) == 1
    assert second.name == first.name
    assert second.url == first.url
    assert second.client_options() == first.client_options()
    second.stop()
    assert engine.names() == {first.name}


def test_reuse_starts_a_stopped_container(make_cluster: ClusterFactory, engine: FakeEngine) -> None:
    name = DockerCluster("9.1.0", reuse=True).name
    cid = engine.add_container(name, {LABEL: "1", LABEL_REUSE: "1"}, running=False)
    cluster = make_cluster(reuse=True).start()
    assert ("POST", f"/v1.44/containers/{cid}/start") in engine.calls
    assert creates(engine) == 0
    assert cluster.password is None


def test_a_changed_setting_does_not_adopt_the_reused_container() -> None:
    assert DockerCluster("9.1.0", reuse=True).name == DockerCluster("9.1.0", reuse=True).name
    assert (
        DockerCluster("9.1.0", reuse=True).name
        != DockerCluster("9.1.0", reuse=True, heap="1g").name
    )
    assert DockerCluster("9.1.0").name != DockerCluster("9.1.0").name


def test_a_reused_container_that_never_gets_healthy_is_replaced(
    make_cluster: ClusterFactory, engine: FakeEngine
) -> None:
    engine.images.add(IMAGE)
    name = DockerCluster("9.1.0", reuse=True).name
    old = engine.add_container(name, {LABEL: "1", LABEL_REUSE: "1"})
    # Six probes at t = 0..5 s exhaust the first deadline; the fresh container is ready.
    steps: list[HealthStep] = [408] * 6
    engine.health.steps = [*steps, {"status": "green"}]
    cluster = make_cluster(reuse=True, startup_timeout=5).start()
    assert old not in engine.containers
    assert engine.names() == {name}
    assert creates(engine) == 1
    assert cluster.containers[0].id != old


# -- leftovers -------------------------------------------------------------------------------


def test_leftovers_of_dead_processes_on_this_host_are_removed(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_docker, "_pid_alive", lambda pid: pid == os.getpid())
    host = socket.gethostname()
    engine.add_container("dead", {LABEL: "1", LABEL_OWNER: f"{host}:1234567"})
    engine.add_container("alive", {LABEL: "1", LABEL_OWNER: HERE})
    engine.add_container("reused", {LABEL: "1", LABEL_REUSE: "1", LABEL_OWNER: f"{host}:1"})
    engine.add_container("elsewhere", {LABEL: "1", LABEL_OWNER: "other-host:1234567"})
    engine.add_container("unrelated", {"app": "db"})
    engine.networks["n-1"] = {
        "Id": "n-1",
        "Name": "dead-net",
        "Labels": {LABEL: "1", LABEL_OWNER: f"{host}:1234567"},
    }
    client = engine.client()
    assert remove_leftovers(client) == ["dead", "dead-net"]
    assert engine.names() == {"alive", "reused", "elsewhere", "unrelated"}
    assert sorted(remove_leftovers(client, everything=True)) == ["alive", "elsewhere", "reused"]
    assert engine.names() == {"unrelated"}
    client.close()


def test_start_sweeps_leftovers_first(
    make_cluster: ClusterFactory,
    engine: FakeEngine,
    progress: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_docker, "_pid_alive", lambda pid: False)
    engine.add_container("crashed-run", {LABEL: "1", LABEL_OWNER: f"{socket.gethostname()}:7"})
    cluster = make_cluster().start()
    assert engine.names() == {cluster.name}
    assert progress[0] == "removed leftovers of earlier runs: crashed-run"


def test_pid_alive() -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # reaped: its pid names no process (until the system reuses it)
    assert _docker._pid_alive(os.getpid())
    assert not _docker._pid_alive(finished.pid)


def test_cleanup_command(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_docker, "connect", engine.client)
    engine.add_container("kept-for-reuse", {LABEL: "1", LABEL_REUSE: "1"})
    assert _docker.main([]) == 0
    assert capsys.readouterr().out == "nothing to remove\n"
    assert _docker.main(["--all"]) == 0
    assert capsys.readouterr().out == "kept-for-reuse\n"
    assert _docker.main(["--check"]) == 0
    assert capsys.readouterr().out.endswith(": API 1.44\n")
    assert _docker.main(["--bogus"]) == 2


def test_check_command_without_an_engine(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/esbackend-tests/docker.sock")
    assert _docker.main(["--check"]) == 1
    assert capsys.readouterr().err.startswith(
        "Docker: no Docker engine reachable at DOCKER_HOST=unix:///nonexistent/"
    )


# -- three nodes -----------------------------------------------------------------------------


def test_three_nodes_on_a_private_network_and_one_node_disrupted(
    make_cluster: ClusterFactory, engine: FakeEngine
) -> None:
    cluster = make_cluster(nodes=3).start()
    (network,) = engine.networks.values()
    assert network["Name"] == cluster.name
    assert network["Labels"][LABEL] == "1"
    names = [f"{cluster.name}-es0{i}" for i in (1, 2, 3)]
    assert [c.name for c in cluster.containers] == names
    for node, body in enumerate(engine.bodies):
        env = env_of(body)
        assert "discovery.type" not in env
        assert env["node.name"] == names[node]
        assert env["discovery.seed_hosts"] == ",".join(names)
        assert env["cluster.initial_master_nodes"] == ",".join(names)
        assert body["HostConfig"]["NetworkMode"] == cluster.name
    assert len(set(cluster.urls)) == 3
    assert query_of(engine.health.seen[-1])["wait_for_nodes"] == "3"

    with cluster.disrupt(1, "pause") as paused:
        assert engine.containers[paused.id]["State"]["Status"] == "paused"
    assert engine.containers[paused.id]["State"]["Status"] == "running"

    before = cluster.urls[2]
    with cluster.disrupt(2, "kill") as killed:
        assert engine.containers[killed.id]["State"]["Status"] == "exited"
    assert engine.containers[killed.id]["State"]["Status"] == "running"
    assert cluster.urls[2] != before  # a restarted node gets a new host port

    cluster.stop()
    deletes = [p.split("/")[2] for m, p in engine.calls if m == "DELETE"]
    assert deletes == ["containers"] * 3 + ["networks"]
    assert engine.containers == {}
    assert engine.networks == {}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"nodes": 0}, "nodes must be >= 1"),
        ({"nodes": 3, "security": True}, "single node only"),
        ({"nodes": 3, "reuse": True}, "single node only"),
    ],
)
def test_unsupported_combinations(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DockerCluster("9.1.0", **options)  # type: ignore[arg-type]


# -- no engine -------------------------------------------------------------------------------


def test_no_engine_names_docker_host_and_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    where = "unix:///nonexistent/esbackend-tests/docker.sock"
    with pytest.raises(DockerUnavailable) as caught:
        connect({"DOCKER_HOST": where})
    message = str(caught.value)
    assert message.startswith(f"no Docker engine reachable at DOCKER_HOST={where}: ")
    assert "No such file or directory" in message

    monkeypatch.setenv("DOCKER_HOST", where)
    with pytest.raises(DockerUnavailable, match="DOCKER_HOST="):
        DockerCluster("9.1.0").start()


def test_engine_location_without_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_docker, "_context_host", lambda env: None)
    if sys.platform != "win32":
        assert engine_location({}).startswith("the default socket unix:///var/run/docker.sock")
    assert engine_location({}).endswith("(DOCKER_HOST is not set)")
    monkeypatch.setattr(_docker, "_context_host", lambda env: "ssh://build-box")
    assert engine_location({}) == (
        "the Docker context's host ssh://build-box (DOCKER_HOST is not set)"
    )
    assert (
        engine_location({"DOCKER_HOST": "tcp://10.0.0.2:2376"}) == "DOCKER_HOST=tcp://10.0.0.2:2376"
    )
