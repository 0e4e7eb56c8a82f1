"""A tiny shop: orders in Elasticsearch."""

from __future__ import annotations

from typing import Any

from elasticsearch import ConflictError, Elasticsearch

INDEX = "orders"


def client() -> Elasticsearch:
    """How the application builds its client in production."""
    return Elasticsearch("https://search.shop.example:9200", request_timeout=5)


def place_order(es: Elasticsearch, order_id: str, items: list[dict[str, Any]]) -> bool:
    """Store an order once; a second attempt with the same id is a no-op (False)."""
    total = sum(item["price"] * item["qty"] for item in items)
    try:
        es.create(
            index=INDEX, id=order_id, document={"items": items, "total": total}, refresh="wait_for"
        )
    except ConflictError:
        return False
    return True


def revenue(es: Elasticsearch) -> float:
    """The sum of all order totals."""
    hits = es.search(index=INDEX, size=1000, source_includes=["total"])["hits"]["hits"]
    return float(sum(hit["_source"]["total"] for hit in hits))


def count_orders() -> int:
    """Builds its own client, like much real code does."""
    return int(client().count(index=INDEX)["count"])
