"""The ratio targets, the compact table and the throughput chart, from benchmark results.

Every benchmark records ``target``, ``impl``, ``op`` and ``keys`` in its ``extra_info``, so a
result is found by its label ``target:impl:op:keys`` (``fake:esbackend:mget:1000``) whatever
its test is called, in this run or in a saved ``--benchmark-json`` file:

    python -m bench._report bench/results/latest.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Where ``nox -s bench`` keeps its JSON and the chart (git-ignored).
RESULTS = Path(__file__).parent / "results"

#: The order rows and chart lines appear in.
IMPLS = ("floor", "client", "esbackend", "esbackend-stdlib", "builtin")
OPS = ("get", "mget", "get_many", "set_new", "set_state")


@dataclass(frozen=True)
class Result:
    """One benchmark: where it ran, what ran, what it did, and its median seconds per call."""

    target: str
    impl: str
    op: str
    keys: int
    median: float

    @property
    def label(self) -> str:
        return f"{self.target}:{self.impl}:{self.op}:{self.keys}"


@dataclass(frozen=True)
class Target:
    """``subject`` takes at most ``limit`` times as long as ``baseline`` (per key).

    With ``faster=True`` it reads the other way: ``subject`` is at least ``limit`` times
    faster than ``baseline``. ``{t}`` in a label stands for every target in the run.
    """

    subject: str
    baseline: str
    limit: float
    what: str
    faster: bool = False

    def ratio(self, medians: Mapping[str, float]) -> float | None:
        """The measured ratio (per key), or None when either side did not run."""
        if self.subject not in medians or self.baseline not in medians:
            return None
        subject = medians[self.subject] / _keys(self.subject)
        baseline = medians[self.baseline] / _keys(self.baseline)
        return baseline / subject if self.faster else subject / baseline

    def met(self, ratio: float) -> bool:
        return ratio >= self.limit if self.faster else ratio <= self.limit

    def expand(self, targets: Iterable[str]) -> list[Target]:
        if "{t}" not in self.subject + self.baseline + self.what:
            return [self]
        return [
            Target(
                self.subject.replace("{t}", t),
                self.baseline.replace("{t}", t),
                self.limit,
                self.what.replace("{t}", t),
                self.faster,
            )
            for t in targets
        ]


def _keys(label: str) -> int:
    return int(label.rsplit(":", 1)[1])


TARGETS = [
    Target(
        "fake:client:get:1",
        "floor:client:get:1",
        1.5,
        "client.get through the fake vs a node returning a fixed body",
    ),
    Target(
        "emulator:client:get:1",
        "http.server:client:get:1",
        1.25,
        "client.get through the emulator vs a bare stdlib http.server",
    ),
    Target(
        "{t}:esbackend:get:1",
        "{t}:client:get:1",
        1.25,
        "esbackend get (orjson when installed) vs client.get on {t}",
    ),
    Target(
        "{t}:esbackend-stdlib:get:1",
        "{t}:client:get:1",
        1.25,
        "esbackend get, stdlib JSON like the client, vs client.get on {t}",
    ),
    Target(
        "fake:esbackend:mget:1000",
        "fake:builtin:mget:1000",
        8.0,
        "esbackend mget(1000) faster than Celery's built-in, on the fake",
        faster=True,
    ),
    Target(
        "emulator:esbackend:mget:1000",
        "emulator:builtin:mget:1000",
        30.0,
        "esbackend mget(1000) faster than Celery's built-in, on the emulator",
        faster=True,
    ),
    Target(
        "{t}:client:get-10-rules:1",
        "{t}:client:get-0-rules:1",
        1.05,
        "client.get with 10 non-matching fault rules vs none, on {t}",
    ),
    Target(
        "fake:client:get-in-100000-docs:1",
        "fake:client:get-in-1-docs:1",
        1.25,
        "get from an index of 100,000 docs vs one doc",
    ),
    Target(
        "fake:client:mget:1000",
        "fake:client:mget:100",
        1.25,
        "mget cost per id, 1000 ids vs 100 ids (linear growth)",
    ),
]


def results_of(records: Iterable[tuple[Mapping[str, Any], float]]) -> list[Result]:
    """Results from (extra_info, median) pairs; benchmarks without our labels are left out."""
    out = []
    for info, median in records:
        if {"target", "impl", "op", "keys"} <= info.keys():
            out.append(
                Result(
                    str(info["target"]),
                    str(info["impl"]),
                    str(info["op"]),
                    int(info["keys"]),
                    median,
                )
            )
    return out


def ratios(results: list[Result]) -> list[tuple[Target, float]]:
    """Every target both of whose benchmarks ran, with its measured ratio."""
    medians = {r.label: r.median for r in results}
    targets = sorted({r.target for r in results} - {"floor", "http.server"})
    out = []
    for template in TARGETS:
        for target in template.expand(targets):
            ratio = target.ratio(medians)
            if ratio is not None:
                out.append((target, ratio))
    return out


def describe(target: Target, ratio: float) -> str:
    """One line of the ratio-target summary."""
    bound = f"at least {target.limit:.2f}x" if target.faster else f"limit {target.limit:.2f}x"
    verdict = "ok  " if target.met(ratio) else "MISS"
    return f"{verdict} {ratio:6.2f}x ({bound})  {target.what}"


def _order(result: Result) -> tuple[int, int, str, int]:
    op = OPS.index(result.op) if result.op in OPS else len(OPS)
    impl = IMPLS.index(result.impl) if result.impl in IMPLS else len(IMPLS)
    return op, result.keys, result.target, impl


def table(results: list[Result]) -> list[str]:
    """The compact table: ops/s, µs per key, speed-up over the built-in, cost over the floor.

    ``x built-in`` is how many times faster than Celery's built-in backend doing the same on
    the same target; ``x floor`` is how many times the client's floor (the same requests
    answered by a node returning fixed bodies, no server work at all).
    """
    by_label = {r.label: r for r in results}
    rows = [r for r in results if r.op in OPS]
    rows.sort(key=_order)
    lines = [
        f"{'op':<10}{'keys':>5}  {'target':<12}{'impl':<17}{'ops/s':>9}{'µs/key':>9}"
        f"{'x built-in':>12}{'x floor':>9}"
    ]
    previous = None
    for r in rows:
        if previous is not None and (r.op, r.keys) != previous:
            lines.append("")
        previous = (r.op, r.keys)
        builtin = by_label.get(f"{r.target}:builtin:{r.op}:{r.keys}")
        floor = by_label.get(f"floor:client:{r.op}:{r.keys}")
        speedup = (
            f"{builtin.median / r.median:.1f}x" if builtin and r.impl not in ("builtin",) else "-"
        )
        cost = f"{r.median / floor.median:.2f}x" if floor and r.impl != "floor" else "-"
        lines.append(
            f"{r.op:<10}{r.keys:>5}  {r.target:<12}{r.impl:<17}{1 / r.median:>9,.0f}"
            f"{r.median / r.keys * 1e6:>9.1f}{speedup:>12}{cost:>9}"
        )
    return lines


def chart(results: list[Result], path: Path) -> str:
    """Plot mget throughput (keys/s) against batch size; returns what happened, in words."""
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")  # no display: render straight to the file
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return "no chart: matplotlib is not installed (`nox -s bench` installs it)"
    lines: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for r in results:
        if r.op == "mget":
            lines.setdefault((r.target, r.impl), []).append((r.keys, r.keys / r.median))
    if not lines:
        return "no chart: no mget results"
    fig, ax = plt.subplots(figsize=(10, 5))
    styles = {
        "floor": ":",
        "client": "--",
        "esbackend": "-",
        "esbackend-stdlib": "-",
        "builtin": "-.",
    }
    for (target, impl), points in sorted(
        lines.items(), key=lambda item: (item[0][0] != "floor", item[0][0], IMPLS.index(item[0][1]))
    ):
        points.sort()
        name = "client floor (fixed answers)" if target == "floor" else f"{impl} on {target}"
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            styles.get(impl, "-"),
            marker="o",
            label=name,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("keys per mget call")
    ax.set_ylabel("keys per second (median)")
    ax.set_title("Result lookups: throughput against batch size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"chart: {path}"


def main(argv: list[str]) -> int:
    """Print the table and ratio targets of a ``--benchmark-json`` file; redraw its chart."""
    if len(argv) != 1:
        print("usage: python -m bench._report RESULTS.json", file=sys.stderr)
        return 2
    data = json.loads(Path(argv[0]).read_text())
    results = results_of((b["extra_info"], b["stats"]["median"]) for b in data["benchmarks"])
    print("\n".join(table(results)))
    print()
    for target, ratio in ratios(results):
        print(describe(target, ratio))
    print(chart(results, RESULTS / "throughput.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
