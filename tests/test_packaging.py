"""The wheel: esbackend.fakes and esbackend.fixtures inside it, no top-level fakes/fixtures."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_the_kit_under_esbackend(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("esbackend-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/")[0] for n in names if not n.startswith("esbackend-")}
    assert packages == {"esbackend"}
    for expected in (
        "esbackend/fakes/_engine.py",
        "esbackend/fakes/py.typed",
        "esbackend/fixtures/plugin.py",
        "esbackend/py.typed",
    ):
        assert expected in names
    metadata = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith("entry_points.txt")))
        .decode()
    )
    assert "esbackend = esbackend.fixtures.plugin" in metadata
    assert "esbackend = esbackend:ElasticsearchBackend" in metadata
    assert "esbackend = esbackend.fakes._cli:main" in metadata
