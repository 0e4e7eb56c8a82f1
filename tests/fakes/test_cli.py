"""The ``esbackend serve`` command, run as a user runs it: a separate process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from esbackend.fakes._cli import build_parser


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "esbackend.fakes._cli", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "listening on" in line:
            return proc, line.rsplit(" ", 1)[1].strip()
    proc.kill()
    raise AssertionError("the server did not start")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    return err


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_serve_load_verbose_and_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "docs.ndjson"
    data.write_text(
        '{"index": {"_index": "books", "_id": "1"}}\n{"title": "Dune"}\n'
        '{"index": {"_index": "books", "_id": "2"}}\n{"title": "Emma"}\n'
    )
    proc, url = start("--load", str(data), "--verbose", "--version", "8.15.0")
    try:
        status, body = get(f"{url}/books/_count")
        assert (status, body["count"]) == (200, 2)
        status, info = get(f"{url}/")
        assert info["version"] == {**info["version"], "number": "8.15.0"}  # type: ignore[dict-item]
    finally:
        err = stop(proc)
    assert "GET /books/_count 200" in err
    assert "stopped" in err


def test_serve_require_auth() -> None:
    proc, url = start("--require-auth", "elastic:changeme")
    try:
        status, body = get(f"{url}/")
        assert status == 401
        assert body["error"]["type"] == "security_exception"  # type: ignore[index]
        token = "ZWxhc3RpYzpjaGFuZ2VtZQ=="  # base64("elastic:changeme")
        assert get(f"{url}/", {"authorization": f"Basic {token}"})[0] == 200
    finally:
        stop(proc)


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--require-auth", "no-colon"])
    assert "expected USER:PASS" in capsys.readouterr().err


def test_load_failures_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"index": {"_index": "Upper"}}\n{"a": 1}\n')
    proc = subprocess.run(
        [sys.executable, "-m", "esbackend.fakes._cli", "serve", "--port", "0", "--load", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0
    assert "bad.ndjson: 1 item(s) failed" in proc.stderr
    assert "must be lowercase" in proc.stderr


def test_the_console_script_is_registered() -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "esbackend"]
    assert script.value == "esbackend.fakes._cli:main"


def test_serve_with_faults() -> None:
    proc, url = start("--fault", "503:api=info,times=1", "--fault", "connection:api=count")
    try:
        assert get(f"{url}/")[0] == 503
        assert get(f"{url}/")[0] == 200
        # The server hangs up without answering.
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            get(f"{url}/_count")
    finally:
        stop(proc)


def test_bad_fault_specs_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--fault", "teapot"])
    assert "fault spec 'teapot'" in capsys.readouterr().err
