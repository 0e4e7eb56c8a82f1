"""Celery finds the backend: entry point group ``celery.result_backends``, and module:Class."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.utils import imports as celery_imports

from esbackend import ElasticsearchBackend

from .backend_helpers import make_app

ROOT = Path(__file__).resolve().parents[2]


def declared_entry_points() -> dict[str, str]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(project["entry-points"]["celery.result_backends"])


def test_pyproject_declares_the_esbackend_alias() -> None:
    assert declared_entry_points() == {"esbackend": "esbackend:ElasticsearchBackend"}


def _clear_celery_cache() -> None:
    # Celery caches the entry points it found (an lru_cache since 5.5).
    clear = getattr(celery_imports.load_extension_class_names, "cache_clear", None)
    if clear is not None:
        clear()


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The entry points pyproject declares, installed as a distribution on sys.path.

    A stand-in for ``pip install``: Celery reads them through importlib.metadata either way.
    """
    dist = tmp_path / "esbackend_under_test-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: esbackend-under-test\nVersion: 0.0\n"
    )
    lines = [f"{name} = {value}" for name, value in declared_entry_points().items()]
    (dist / "entry_points.txt").write_text("[celery.result_backends]\n" + "\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _clear_celery_cache()
    yield
    _clear_celery_cache()


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(
    "url",
    [
        "esbackend+https://user:pass@es.example:9201/results",
        "esbackend://user:pass@es.example:9201/results",
        "esbackend:ElasticsearchBackend+https://user:pass@es.example:9201/results",
        "esbackend._backend:ElasticsearchBackend+https://user:pass@es.example:9201/results",
    ],
)
def test_celery_resolves_the_result_backend_setting(url: str) -> None:
    app = make_app(result_backend=url)
    backend = app.backend
    assert type(backend) is ElasticsearchBackend
    assert (backend.host, backend.port, backend.index) == ("es.example", 9201, "results")
    assert (backend.username, backend.password) == ("user", "pass")
    assert backend.scheme == ("http" if url.startswith("esbackend://") else "https")
