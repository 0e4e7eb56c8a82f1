"""esbackend: a Celery result backend for Elasticsearch, and the kit to test it.

``esbackend.fakes`` (an in-memory Elasticsearch) and ``esbackend.fixtures`` (the pytest
plugin) are subpackages; importing them does not import Celery, which is why
``ElasticsearchBackend`` is loaded on first access rather than here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from esbackend._backend import ElasticsearchBackend

__version__ = "0.1.0"
__all__ = ["ElasticsearchBackend", "__version__"]


def __getattr__(name: str) -> Any:
    # PEP 562: import the backend (and with it Celery) only when someone asks for it.
    if name == "ElasticsearchBackend":
        from esbackend._backend import ElasticsearchBackend

        return ElasticsearchBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "ElasticsearchBackend"])
