"""Execution control over HTTP: cancel, re-run from a node (or from the failed node),
and the execution log (one document per node attempt).

Cancel and re-run are bus commands the executor carries out (`pilot.cmd.cancel`,
`pilot.cmd.rerun`): the endpoints answer 202 at once; the outcome arrives as events
(`execution.cancelled`) or as the new execution (its id is in the answer).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import Field

from pilot_shared import subjects
from pilot_shared.bus import publish
from pilot_shared.contracts import (
    TERMINAL_EXECUTION_STATUSES,
    CancelRequest,
    Execution,
    NodeRun,
    PilotModel,
    RerunRequest,
)

from ..deps import (
    BrokerDep,
    CallerDep,
    ExecutionsDep,
    NodeRunsDep,
    SharesDep,
    SkipParam,
    WorkflowsDep,
)
from ..errors import COMMON_ERRORS, BadRequestError, error_responses
from ..workflows.access import authorize_execution, authorize_workflow

router = APIRouter(tags=["executions"], responses=error_responses(*COMMON_ERRORS))


class CancelBody(PilotModel):
    reason: str = Field(default="cancelled by request", max_length=500)


class RerunBody(PilotModel):
    from_node_ids: list[str] = Field(
        default_factory=list,
        description="re-run these nodes and everything downstream; empty: the failed nodes",
    )


class ControlAccepted(PilotModel):
    execution_id: str
    status_url: str
    events_url: str


class NodeRunList(PilotModel):
    items: list[NodeRun]
    skip: int
    limit: int
    total: int


@router.post(
    "/api/executions/{execution_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ControlAccepted,
    responses=error_responses(400, 404),
    summary="Cancel a running execution (emits execution.cancelled)",
)
async def cancel_execution(
    execution_id: str,
    caller: CallerDep,
    executions: ExecutionsDep,
    workflows: WorkflowsDep,
    shares: SharesDep,
    broker: BrokerDep,
    body: CancelBody | None = None,
) -> ControlAccepted:
    execution = await _controllable(executions, workflows, shares, caller, execution_id)
    if execution.status in TERMINAL_EXECUTION_STATUSES:
        raise BadRequestError(f"the execution has already finished ({execution.status})")
    request = CancelRequest(execution_id=execution_id, reason=(body or CancelBody()).reason)
    await publish(broker, request, subjects.CANCEL, msg_id=f"cancel:{execution_id}")
    return _accepted(execution_id)


@router.post(
    "/api/executions/{execution_id}/rerun",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ControlAccepted,
    responses=error_responses(400, 404),
    summary="Re-run an execution from a node (or from its failed node), reusing upstream outputs",
)
async def rerun_execution(
    execution_id: str,
    caller: CallerDep,
    executions: ExecutionsDep,
    workflows: WorkflowsDep,
    shares: SharesDep,
    broker: BrokerDep,
    body: RerunBody | None = None,
) -> ControlAccepted:
    execution = await _controllable(executions, workflows, shares, caller, execution_id)
    if execution.status not in TERMINAL_EXECUTION_STATUSES:
        raise BadRequestError("the execution is still running: cancel it first")
    from_nodes = (body or RerunBody()).from_node_ids
    if not from_nodes and execution.status == "completed":
        raise BadRequestError("the execution completed: name the node to re-run from")
    request = RerunRequest(execution_id=execution_id, from_node_ids=from_nodes)
    await publish(broker, request, subjects.RERUN, msg_id=f"rerun:{request.new_execution_id}")
    return _accepted(request.new_execution_id)


@router.get(
    "/api/executions/{execution_id}/nodes",
    response_model=NodeRunList,
    responses=error_responses(404),
    summary="The execution log: every attempt of every node (input, output, error, usage)",
)
async def list_node_runs(
    execution_id: str,
    caller: CallerDep,
    executions: ExecutionsDep,
    workflows: WorkflowsDep,
    shares: SharesDep,
    node_runs: NodeRunsDep,
    node_id: Annotated[str | None, Query(description="Only this node's attempts")] = None,
    skip: SkipParam = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NodeRunList:
    await authorize_execution(executions, workflows, shares, caller, execution_id)
    runs = await node_runs.list(execution_id, node_id=node_id, skip=skip, limit=limit)
    total = await node_runs.count(execution_id, node_id=node_id)
    return NodeRunList(items=runs, skip=skip, limit=limit, total=total)


async def _controllable(
    executions: ExecutionsDep,
    workflows: WorkflowsDep,
    shares: SharesDep,
    caller: CallerDep,
    execution_id: str,
) -> Execution:
    """Who started an execution may control it; anyone else needs editor access to its
    workflow (a viewer may watch, not stop or repeat, someone else's run)."""
    execution = await authorize_execution(executions, workflows, shares, caller, execution_id)
    if execution.owner_id != caller.id:
        await authorize_workflow(workflows, shares, caller, execution.workflow_id, "editor")
    return execution


def _accepted(execution_id: str) -> ControlAccepted:
    return ControlAccepted(
        execution_id=execution_id,
        status_url=f"/api/executions/{execution_id}",
        events_url=f"/api/executions/{execution_id}/events",
    )
