"""Memory: 100,000 Celery-sized result documents take at most 4x their JSON size.

Measured with tracemalloc (allocations, not wall-clock), so this is a plain assertion.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Callable

from esbackend.fakes import FakeCluster

DOCS = 100_000
LIMIT = 4.0


def test_result_documents_fit_in_four_times_their_json(
    bench_ratio: Callable[[str, float, float], None],
) -> None:
    cluster = FakeCluster()
    es = cluster.client()
    es.indices.create(index="celery")
    json_bytes = 0
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    batch: list[bytes] = []
    for n in range(DOCS):
        doc = json.dumps(
            {
                "result": json.dumps(
                    {
                        "status": "SUCCESS",
                        "result": n,
                        "traceback": None,
                        "children": [],
                        "date_done": "2024-05-01T10:00:00.123456",
                        "task_id": f"{n:08d}-5b3a-4f4b-9d0c-1a2b3c4d5e6f",
                    }
                ),
                "@timestamp": "2024-05-01T10:00:00.123456Z",
            }
        ).encode()
        json_bytes += len(doc)
        batch.append(b'{"index":{"_id":"celery-task-meta-%d"}}' % n)
        batch.append(doc)
        if len(batch) >= 10_000:
            cluster.handle(
                "POST",
                "/celery/_bulk",
                b"\n".join(batch) + b"\n",
                {"content-type": "application/x-ndjson"},
            )
            batch = []
    del batch
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    ratio = used / json_bytes
    bench_ratio(f"memory held by {DOCS:,} Celery results vs their JSON size", ratio, LIMIT)
    print(f"\n{DOCS} docs: JSON {json_bytes / 1e6:.1f} MB, held {used / 1e6:.1f} MB, {ratio:.2f}x")
    assert cluster.engine.indices["celery"].live_count == DOCS
    assert ratio <= LIMIT
