"""Canvas positions: x by topological layer, y by lane, so branches fan out around the
main path (lanes 0, 1, -1, 2, …; y = lane * 140) and a branch keeps its lane."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from pilot_shared.contracts import Position, Workflow
from pilot_shared.graph import Graph, GraphValidationError

X_STEP = 280
Y_STEP = 140


def _lanes_around(base: int) -> Iterator[int]:
    yield base
    offset = 1
    while True:
        yield base + offset
        yield base - offset
        offset += 1


def layers(workflow: Workflow) -> dict[str, int]:
    """Each node's layer: the longest path to it from an entry (loop back-edges ignored)."""
    graph = Graph(workflow)
    try:
        order = graph.topological_order()
    except GraphValidationError:
        order = [n.id for n in workflow.nodes]  # a cyclic draft still gets a layout
    layer: dict[str, int] = {}
    for nid in order:
        preds = [c.source for c in graph.incoming.get(nid, []) if c.source in layer]
        layer[nid] = max((layer[p] + 1 for p in preds), default=0)
    return layer


def layout(workflow: Workflow) -> dict[str, Position]:
    graph = Graph(workflow)
    layer = layers(workflow)
    order = sorted(layer, key=lambda nid: layer[nid])  # stable: keeps topological order per layer
    lane: dict[str, int] = {}
    used: dict[int, set[int]] = defaultdict(set)
    for nid in order:
        parents = [c.source for c in graph.incoming.get(nid, []) if c.source in lane]
        base = lane[parents[0]] if parents else 0
        # The first child continues its parent's lane; siblings take the nearest free ones.
        chosen = next(lane_ for lane_ in _lanes_around(base) if lane_ not in used[layer[nid]])
        used[layer[nid]].add(chosen)
        lane[nid] = chosen
    return {nid: Position(x=layer[nid] * X_STEP, y=lane[nid] * Y_STEP) for nid in layer}
