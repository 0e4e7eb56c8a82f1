"""An in-memory Elasticsearch, plugged in where the network would be.

>>> from esbackend.fakes import FakeCluster
>>> cluster = FakeCluster()
>>> es = cluster.client()
>>> es.index(index="demo", id="1", document={"a": 1})["result"]
'created'
"""

from ._cluster import FakeCluster, RequestLog, RequestRecord
from ._errors import EsError
from ._rest import DEFAULT_VERSION

__all__ = ["DEFAULT_VERSION", "EsError", "FakeCluster", "RequestLog", "RequestRecord"]
