"""The ``esbackend`` command: ``esbackend serve`` runs the in-memory Elasticsearch over HTTP."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ._cluster import FakeCluster
from ._faults import parse_fault_spec
from ._rest import DEFAULT_VERSION
from ._server import FakeServer


def _credentials(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise argparse.ArgumentTypeError("expected USER:PASS")
    return user, password


def _fault_spec(value: str) -> str:
    try:
        parse_fault_spec(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="esbackend", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve an in-memory Elasticsearch over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    serve.add_argument("--port", type=int, default=9200, help="port (0 picks a free one)")
    serve.add_argument(
        "--version",
        default=DEFAULT_VERSION,
        dest="es_version",
        help=f"Elasticsearch version to report (default {DEFAULT_VERSION})",
    )
    serve.add_argument(
        "--require-auth",
        type=_credentials,
        metavar="USER:PASS",
        help="answer 401 unless requests carry these Basic credentials",
    )
    serve.add_argument(
        "--load",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.ndjson",
        help="bulk-load this file (the _bulk format) at start; repeatable",
    )
    serve.add_argument(
        "--fault",
        type=_fault_spec,
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault, e.g. 503:api=get,times=2 or connection:probability=0.3,seed=7 "
        "or latency=0.05:api=mget; repeatable, applied in order",
    )
    serve.add_argument(
        "--verbose",
        action="store_true",
        help="log one line per request: method, path, status, milliseconds",
    )
    return parser


def load(cluster: FakeCluster, path: Path) -> int:
    """Bulk-load an NDJSON file; returns how many items it held. Raises on any item error."""
    import json

    response = cluster.handle(
        "POST", "/_bulk?refresh=true", path.read_bytes(), {"content-type": "application/x-ndjson"}
    )
    result = json.loads(response.body)
    if response.status != 200:
        raise SystemExit(f"{path}: {result['error']['reason']}")
    failed = [i for i in result["items"] if "error" in next(iter(i.values()))]
    if failed:
        first = next(iter(failed[0].values()))["error"]
        raise SystemExit(f"{path}: {len(failed)} item(s) failed, first: {first['reason']}")
    return len(result["items"])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(message)s",
        stream=sys.stderr,
    )
    cluster = FakeCluster(version=args.es_version, require_auth=args.require_auth)
    for path in args.load:
        print(f"loaded {load(cluster, path)} documents from {path}", file=sys.stderr)
    for spec in args.fault:
        cluster.faults.add_spec(spec)
    server = FakeServer(cluster, args.host, args.port, verbose=args.verbose)
    print(
        f"esbackend fake Elasticsearch {args.es_version} listening on {server.url}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.stop_quietly()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
