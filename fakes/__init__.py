"""An in-memory Elasticsearch, plugged in where the network would be.

>>> from esbackend.fakes import FakeCluster
>>> cluster = FakeCluster()
>>> es = cluster.client()
>>> es.index(index="demo", id="1", document={"a": 1})["result"]
'created'
"""

from ._cluster import FakeCluster, RequestLog, RequestRecord
from ._errors import EsError
from ._faults import FaultPlan, FaultRule, parse_fault_spec
from ._patch import patch_elasticsearch
from ._rest import DEFAULT_VERSION
from ._server import FakeServer, serve

__all__ = [
    "DEFAULT_VERSION",
    "EsError",
    "FakeCluster",
    "FakeServer",
    "FaultPlan",
    "FaultRule",
    "RequestLog",
    "RequestRecord",
    "parse_fault_spec",
    "patch_elasticsearch",
    "serve",
]
