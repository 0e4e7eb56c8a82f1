"""``es_real_cluster`` without an engine: skipped by default, a failure when asked for.

Each case runs pytest in a subprocess with DOCKER_HOST naming a socket that does not exist,
so the result does not depend on whether this machine has Docker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NO_ENGINE = "unix:///nonexistent/esbackend-tests/docker.sock"


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_real.py").write_text(
        "def test_real(es_real_cluster):\n    pass\n\ndef test_client(es_client):\n    pass\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_", "PYTEST_"))}
    env["DOCKER_HOST"] = NO_ENGINE
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-W", "error", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_default_run_skips_the_docker_target_with_the_reason(tmp_path: Path) -> None:
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert (
        f"docker target unavailable: no Docker engine reachable at DOCKER_HOST={NO_ENGINE}"
        in result.stdout
    )


def test_an_explicit_docker_target_fails_loudly(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "--es-target=docker")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 errors" in result.stdout
    assert f"--es-target=docker: no Docker engine reachable at DOCKER_HOST={NO_ENGINE}" in (
        result.stdout
    )
