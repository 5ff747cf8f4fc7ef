"""The graphs every peer runs, described once. Node kinds: `input` and `output` pass data
through (no model call), `llm` asks the test model once, `loop` runs its body (one llm node)
once per item of the input's `items`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
    name: str
    nodes: list[tuple[str, str]]  # (id, kind)
    edges: list[tuple[str, str]]
    items: int = 0  # for_each: how many items the input carries
    loop_concurrency: int = 10

    @property
    def llm_nodes(self) -> list[str]:
        return [nid for nid, kind in self.nodes if kind == "llm"]

    @property
    def node_steps(self) -> int:
        """Node executions per run: a loop counts itself plus one body run per item."""
        steps = len(self.nodes)
        if self.items:
            steps += self.items
        return steps

    def critical_path_llm_calls(self) -> int:
        """Model calls one after another on the longest path (what latency adds up to)."""
        if self.items:
            return math_ceil(self.items, self.loop_concurrency)
        if self.name == "fanout8":
            return 1
        return len(self.llm_nodes)


def math_ceil(a: int, b: int) -> int:
    return -(-a // b)


def chain(n: int = 10) -> Spec:
    """input -> llm_1 .. llm_{n-2} -> output: n nodes in a row."""
    ids = ["input_1", *[f"llm_{i}" for i in range(1, n - 1)], "output_1"]
    kinds = ["input", *["llm"] * (n - 2), "output"]
    return Spec(f"chain{n}", list(zip(ids, kinds, strict=True)), list(itertools.pairwise(ids)))


def fanout(branches: int = 8) -> Spec:
    """input -> branches llm nodes at once -> output (joins them): branches + 2 nodes."""
    llms = [f"llm_{i}" for i in range(1, branches + 1)]
    nodes = [("input_1", "input"), *[(b, "llm") for b in llms], ("output_1", "output")]
    edges = [("input_1", b) for b in llms] + [(b, "output_1") for b in llms]
    return Spec(f"fanout{branches}", nodes, edges)


def for_each(items: int = 50, concurrency: int = 10) -> Spec:
    """input -> loop over `items` (body: one llm node) -> output."""
    nodes = [("input_1", "input"), ("loop_1", "loop"), ("output_1", "output")]
    return Spec(
        f"for_each{items}",
        nodes,
        [("input_1", "loop_1"), ("loop_1", "output_1")],
        items=items,
        loop_concurrency=concurrency,
    )
