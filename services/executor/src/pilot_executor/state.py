"""The state of one execution, in memory.

It is the stored `Execution` document itself plus what the workflow graph implies, so a
restarted executor rebuilds it from the store alone and carries on where the last one
stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pilot_shared.contracts import Execution, NodeState, Workflow
from pilot_shared.graph import Graph

SETTLED: frozenset[str] = frozenset({"completed", "failed", "skipped", "cancelled"})
ACTIVE: frozenset[str] = frozenset({"running", "retrying"})


@dataclass
class ExecutionState:
    execution: Execution
    workflow: Workflow
    graph: Graph
    order: list[str]  # topological
    # upstream nodes of each node, in topological order: what its templates may read
    upstream: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, execution: Execution, workflow: Workflow) -> ExecutionState:
        """Raises GraphValidationError when the graph has a cycle."""
        graph = Graph(workflow)
        order = graph.topological_order()
        position = {node_id: i for i, node_id in enumerate(order)}
        upstream = {
            node_id: sorted(graph.ancestors(node_id), key=lambda a: position.get(a, -1))
            for node_id in order
        }
        return cls(execution, workflow, graph, order, upstream)

    @property
    def execution_id(self) -> str:
        return self.execution.id

    @property
    def workflow_id(self) -> str:
        return self.execution.workflow_id

    def node_state(self, node_id: str) -> NodeState:
        return self.execution.node_states.get(node_id) or NodeState()

    def states(self) -> dict[str, NodeState]:
        return {node_id: self.node_state(node_id) for node_id in self.order}

    def active_nodes(self) -> list[str]:
        return [n for n in self.order if self.node_state(n).status in ACTIVE]

    def context_for(self, node_id: str) -> dict[str, Any]:
        """What a node's templates may read: the workflow input and the outputs of the
        upstream nodes that ran (a node failed onto its error branch shows its error)."""
        nodes: dict[str, Any] = {}
        for up in self.upstream.get(node_id, []):
            state = self.node_state(up)
            if state.status == "completed":
                nodes[up] = {"output": state.output}
            elif state.status == "failed" and state.error is not None:
                nodes[up] = {"output": state.output, "error": state.error.model_dump()}
        return {"input": self.execution.input_data, "nodes": nodes}
