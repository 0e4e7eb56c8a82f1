"""The repository's own promises: CI runs what the README says, the layout installs right."""

from __future__ import annotations

import re
from pathlib import Path

import esbackend

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", readme, re.S)
    assert first_block, "README.md must open with a code block of commands"
    return [
        line.split("#")[0].strip()
        for line in first_block.group(1).splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_ci_runs_the_readme_test_command() -> None:
    commands = _readme_commands()
    test_command = next(c for c in commands if c.endswith("nox -s tests"))
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert test_command in ci


def test_readme_opens_with_main_job_and_tests() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("nox -s bench")
    assert commands[1].endswith("nox -s tests")


def test_fakes_and_fixtures_ship_inside_esbackend() -> None:
    # The root folders reach the package through committed relative symlinks.
    for name in ("fakes", "fixtures"):
        link = ROOT / "esbackend" / name
        assert link.is_symlink()
        assert link.resolve() == (ROOT / name).resolve()
    package_dir = Path(esbackend.__file__).resolve().parent
    assert (package_dir / "fakes" / "__init__.py").exists()
    assert (package_dir / "py.typed").exists()
    assert (ROOT / "fakes" / "py.typed").exists()


def test_importing_the_fake_does_not_import_celery() -> None:
    import subprocess
    import sys

    code = "import sys, esbackend.fakes; print('celery' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT / "tests"
    )
    assert out.stdout.strip() == "False"


def _imports(folder: Path) -> set[str]:
    import ast

    found: set[str] = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def test_arrows_point_one_way() -> None:
    """DESIGN.md: the backend never imports the kit; the fake never imports the backend."""
    fake = _imports(ROOT / "fakes")
    assert not {m for m in fake if m.startswith(("esbackend", "celery", "kombu", "docker"))}
    backend = _imports(ROOT / "esbackend")
    assert not {m for m in backend if m.startswith(("esbackend.fakes", "esbackend.fixtures"))}
