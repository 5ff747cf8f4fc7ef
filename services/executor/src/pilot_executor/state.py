"""The state of one execution, in memory.

It is the stored `Execution` document itself plus what the workflow graph implies, so a
restarted executor rebuilds it from the store alone and carries on where the last one
stopped.

Loop body nodes run once per iteration. Their states live apart from the top-level
`node_states`, in `loop_states` keyed `<loop>:<index>:<node>`; a `Scope` (loop id,
iteration index) names the iteration a body node's state belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from pilot_shared.contracts import Execution, LoopNode, NodeState, Workflow
from pilot_shared.graph import Graph, GraphIssue, GraphValidationError

SETTLED: frozenset[str] = frozenset({"completed", "failed", "skipped", "cancelled"})
ACTIVE: frozenset[str] = frozenset({"running", "retrying"})

Scope: TypeAlias = tuple[str, int] | None


def scoped_key(node_id: str, scope: Scope) -> str:
    return node_id if scope is None else f"{scope[0]}:{scope[1]}:{node_id}"


def state_field(node_id: str, scope: Scope) -> str:
    """The document field holding the state of `node_id` in `scope`."""
    if scope is None:
        return f"node_states.{node_id}"
    return f"loop_states.{scoped_key(node_id, scope)}"


@dataclass
class ExecutionState:
    execution: Execution
    workflow: Workflow
    graph: Graph
    order: list[str]  # topological, top-level nodes only (no loop body nodes)
    # upstream nodes of each node, in topological order: what its templates may read
    upstream: dict[str, list[str]] = field(default_factory=dict)
    # each loop's body nodes in topological order
    body_order: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, execution: Execution, workflow: Workflow) -> ExecutionState:
        """Raises GraphValidationError when the graph has a cycle, or a loop inside a
        loop body."""
        graph = Graph(workflow)
        full = graph.topological_order()
        position = {node_id: i for i, node_id in enumerate(full)}
        upstream = {
            node_id: sorted(graph.ancestors(node_id), key=lambda a: position.get(a, -1))
            for node_id in full
        }
        body_order: dict[str, list[str]] = {}
        for node in workflow.nodes:
            if isinstance(node, LoopNode):
                body = set(node.config.body)
                body_order[node.id] = [n for n in full if n in body]
                for b in body:
                    if isinstance(graph.nodes.get(b), LoopNode):
                        raise GraphValidationError(
                            [GraphIssue("a loop inside a loop body is not supported", b)]
                        )
        order = [n for n in full if n not in graph.loop_of]
        return cls(execution, workflow, graph, order, upstream, body_order)

    @property
    def execution_id(self) -> str:
        return self.execution.id

    @property
    def workflow_id(self) -> str:
        return self.execution.workflow_id

    def node_state(self, node_id: str, scope: Scope = None) -> NodeState:
        if scope is None:
            return self.execution.node_states.get(node_id) or NodeState()
        return self.execution.loop_states.get(scoped_key(node_id, scope)) or NodeState()

    def put(self, node_id: str, scope: Scope, state: NodeState) -> None:
        if scope is None:
            self.execution.node_states[node_id] = state
        else:
            self.execution.loop_states[scoped_key(node_id, scope)] = state

    def states(self) -> dict[str, NodeState]:
        return {node_id: self.node_state(node_id) for node_id in self.order}

    def scoped_states(self, loop_id: str, index: int) -> dict[str, NodeState]:
        """The states as a body node of iteration `index` sees them: the loop has taken
        its `body` branch, the body nodes have their iteration's states."""
        states = self.states()
        states[loop_id] = NodeState(status="completed", handle="body")
        for b in self.body_order.get(loop_id, []):
            states[b] = self.node_state(b, (loop_id, index))
        return states

    def started_iterations(self, loop_id: str) -> int:
        """Iterations are started in index order, so this is one past the last started."""
        prefix = f"{loop_id}:"
        top = -1
        for key in self.execution.loop_states:
            if key.startswith(prefix):
                top = max(top, int(key[len(prefix) :].split(":", 1)[0]))
        return top + 1

    def active_slots(self) -> list[tuple[str, Scope]]:
        out: list[tuple[str, Scope]] = [
            (n, None) for n in self.order if self.node_state(n).status in ACTIVE
        ]
        for key, state in self.execution.loop_states.items():
            if state.status in ACTIVE:
                loop_id, index, node_id = key.split(":", 2)
                out.append((node_id, (loop_id, int(index))))
        return out

    def active_nodes(self) -> list[str]:
        return [n for n in self.order if self.node_state(n).status in ACTIVE]

    def context_for(
        self, node_id: str, scope: Scope = None, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """What a node's templates may read: the workflow input and the outputs of the
        upstream nodes that ran (a node failed onto its error branch shows its error);
        in a loop body, the outputs of this iteration's body nodes, `item` and `loop`."""
        nodes: dict[str, Any] = {}
        body = set(self.body_order.get(scope[0], [])) if scope is not None else set()
        for up in self.upstream.get(node_id, []):
            if scope is not None and up == scope[0]:
                continue  # the loop itself has no output while it iterates
            state = self.node_state(up, scope if up in body else None)
            if state.status == "completed":
                nodes[up] = {"output": state.output}
            elif state.status == "failed" and state.error is not None:
                nodes[up] = {"output": state.output, "error": state.error.model_dump()}
        context: dict[str, Any] = {"input": self.execution.input_data, "nodes": nodes}
        if extra:
            context.update(extra)
        return context
