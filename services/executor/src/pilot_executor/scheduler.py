"""Which nodes can run next: pure decisions over the graph and the node states.

- A connection is *taken* when its source settled with a matching handle: a node that
  does not branch takes its plain (handle None) connections; a condition takes the ones
  whose `source_handle` is the branch it chose; a node that failed onto its error route
  takes only its `error` connections.
- A node is *ready* when every incoming connection's source has settled and at least one
  of those connections was taken (so a join waits for every branch that runs). Nodes with
  no incoming connection (the input nodes) are ready at the start.
- A node whose incoming connections have all settled untaken is *skipped*, which settles
  it in turn: skips propagate down a branch not taken in one pass, in topological order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pilot_shared.contracts import Connection, NodeState
from pilot_shared.graph import Graph

from .state import SETTLED


@dataclass(frozen=True)
class Decision:
    ready: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def is_taken(connection: Connection, source: NodeState) -> bool:
    if source.status not in ("completed", "failed"):
        return False
    # a plain failure has handle None but takes nothing; an error route has handle "error"
    if source.status == "failed" and source.handle is None:
        return False
    return connection.source_handle == source.handle


def decide(graph: Graph, order: list[str], states: Mapping[str, NodeState]) -> Decision:
    decided: dict[str, str] = {}  # node id -> status this pass gives it

    def status(node_id: str) -> str:
        return decided.get(node_id) or _state(states, node_id).status

    ready: list[str] = []
    skipped: list[str] = []
    for node_id in order:
        if status(node_id) != "pending":
            continue
        incoming = graph.incoming.get(node_id, [])
        if not incoming:
            ready.append(node_id)
            continue
        if not all(status(c.source) in SETTLED for c in incoming):
            continue
        if any(is_taken(c, _state(states, c.source)) for c in incoming):
            ready.append(node_id)
        else:
            skipped.append(node_id)
            decided[node_id] = "skipped"
    return Decision(ready, skipped)


def _state(states: Mapping[str, NodeState], node_id: str) -> NodeState:
    return states.get(node_id) or NodeState()
