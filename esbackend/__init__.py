"""esbackend: a Celery result backend for Elasticsearch, and the kit to test it.

``esbackend.fakes`` (an in-memory Elasticsearch) and ``esbackend.fixtures`` (the pytest
plugin) are subpackages; importing them does not import Celery.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
