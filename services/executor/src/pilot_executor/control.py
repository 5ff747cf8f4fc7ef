"""Control of executions: cancel, re-run from a node, re-run a failed execution.

As bus commands (what the gateway sends; any executor process handles them):
- `pilot.cmd.cancel` with a `CancelRequest` -> the execution ends `cancelled`
  (`execution.cancelled` event; running nodes are marked cancelled and their late
  results ignored);
- `pilot.cmd.rerun` with a `RerunRequest` -> a new execution of the same workflow and
  input that reuses the outputs of every node not downstream of the chosen nodes (with
  none chosen: the nodes that failed or were cut short).

As functions: `request_cancel` / `request_rerun` publish those commands, and
`plan_rerun` builds the new execution document (pure).
"""

from __future__ import annotations

from faststream.nats import NatsBroker

from pilot_shared import subjects
from pilot_shared.bus import publish
from pilot_shared.contracts import (
    CancelRequest,
    Execution,
    LoopNode,
    NodeState,
    RerunRequest,
    Workflow,
    new_id,
)
from pilot_shared.graph import Graph

# states a re-run keeps for a node outside the re-run part
_REUSABLE = frozenset({"completed", "skipped"})


class RerunError(ValueError):
    pass


def rerun_start_nodes(original: Execution) -> list[str]:
    """Where a failed (or cancelled) execution is re-run from: its top-level nodes that
    failed without an error route or were cut short."""
    return [
        node_id
        for node_id, state in original.node_states.items()
        if (state.status == "failed" and state.handle is None) or state.status == "cancelled"
    ]


def plan_rerun(
    original: Execution,
    workflow: Workflow,
    from_node_ids: list[str],
    new_execution_id: str | None = None,
) -> Execution:
    """A pending execution that starts again at `from_node_ids` (and every node
    downstream of them), with the states of all other completed or skipped nodes copied,
    so their outputs are reused and they do not run again."""
    graph = Graph(workflow)
    starts = list(from_node_ids) or rerun_start_nodes(original)
    if not starts:
        raise RerunError("nothing to re-run from: no node failed; name the node to re-run from")
    for node_id in starts:
        if node_id not in graph.nodes:
            raise RerunError(f"node {node_id!r} is not in the workflow")
    # a body node is re-run with its whole loop
    starts = [graph.loop_of.get(n, n) for n in starts]
    rerun = graph.reachable_from(starts)
    kept: dict[str, NodeState] = {
        node_id: state
        for node_id, state in original.node_states.items()
        if node_id not in rerun and state.status in _REUSABLE
    }
    loops_kept = {n.id for n in workflow.nodes if isinstance(n, LoopNode) and n.id in kept}
    loop_states = {
        key: state
        for key, state in original.loop_states.items()
        if key.split(":", 1)[0] in loops_kept
    }
    return Execution(
        id=new_execution_id or new_id(),
        workflow_id=original.workflow_id,
        workflow_version=original.workflow_version,
        owner_id=original.owner_id,
        input_data=original.input_data,
        node_states=kept,
        loop_states=loop_states,
        depth=original.depth,
        parent_execution_id=original.parent_execution_id,
        rerun_of=original.id,
        rerun_from=starts,
    )


async def request_cancel(
    broker: NatsBroker, execution_id: str, reason: str = "cancelled by request"
) -> None:
    request = CancelRequest(execution_id=execution_id, reason=reason)
    await publish(broker, request, subjects.CANCEL, msg_id=f"cancel:{execution_id}")


async def request_rerun(
    broker: NatsBroker, execution_id: str, from_node_ids: list[str] | None = None
) -> str:
    """Ask for a re-run; returns the id the new execution will have."""
    request = RerunRequest(execution_id=execution_id, from_node_ids=from_node_ids or [])
    await publish(broker, request, subjects.RERUN, msg_id=f"rerun:{request.new_execution_id}")
    return request.new_execution_id
