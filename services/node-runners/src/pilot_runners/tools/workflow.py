"""The "run another workflow" tool: starts an execution of another workflow (a child of
the calling execution, one level deeper) through the executor, waits for it to finish and
returns its output. The executor enforces its own call-depth limit; the tool refuses to go
deeper than `MAX_DEPTH` as well, so a workflow calling itself cannot recurse forever."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared import tracing
from pilot_shared.contracts import (
    TERMINAL_EXECUTION_STATUSES,
    Execution,
    RunRequest,
    new_id,
)
from pilot_shared.repositories import ExecutionRepository, WorkflowRepository
from pilot_shared.store import Document

from .base import ToolContext, ToolError

PublishRun = Callable[[RunRequest], Awaitable[None]]
MAX_DEPTH = 5
_POLL_FIRST_S = 0.02
_POLL_MAX_S = 1.0


class RunWorkflowTool:
    name = "workflow"
    description = (
        "Run another workflow with `input` and return its output (waits for it to finish, "
        "within the node's timeout)."
    )
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "workflow_id": {"type": "string", "minLength": 1},
            "input": {"type": "object"},
        },
        "required": ["workflow_id"],
    }

    def __init__(self, db: AsyncDatabase[Document], publish_run: PublishRun | None) -> None:
        self.db = db
        self.publish_run = publish_run

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        if self.publish_run is None:
            raise ToolError("this runner cannot start workflows (it is not connected to the bus)")
        executions = ExecutionRepository(self.db)
        workflow = await WorkflowRepository(self.db).get(str(params["workflow_id"]))
        if workflow is None:
            raise ToolError(f"workflow {params['workflow_id']!r} not found")
        parent_id = ctx.execution_id
        parent = await executions.get(parent_id) if parent_id else None
        depth = (parent.depth if parent else 0) + 1
        if depth > MAX_DEPTH:
            raise ToolError(f"workflows call each other more than {MAX_DEPTH} levels deep")
        if parent is not None and parent.owner_id != workflow.owner_id:
            raise ToolError(f"workflow {workflow.id!r} belongs to another user")
        # one child per task attempt: a redelivered task finds and waits for the same child
        child_id = f"{ctx.task_id}:wf" if ctx.task_id else new_id()
        child = await executions.get(child_id)
        if child is None:
            child = Execution(
                id=child_id,
                workflow_id=workflow.id,
                workflow_version=workflow.version,
                owner_id=workflow.owner_id,
                input_data=dict(params.get("input") or {}),
                depth=depth,
                parent_execution_id=parent_id,
                # a sub-workflow's run is part of its caller's trace
                trace_parent=tracing.current_traceparent(),
            )
            await executions.insert(child)
            await self.publish_run(RunRequest(execution_id=child.id, workflow_id=workflow.id))
        deadline = time.monotonic() + ctx.timeout_s
        wait = _POLL_FIRST_S
        while child.status not in TERMINAL_EXECUTION_STATUSES:
            if time.monotonic() > deadline:
                raise ToolError(f"workflow {workflow.id!r} did not finish in time", retryable=True)
            await asyncio.sleep(wait)
            wait = min(wait * 2, _POLL_MAX_S)
            found = await executions.get(child.id)
            if found is not None:
                child = found
        if child.status != "completed":
            raise ToolError(f"workflow {workflow.id!r} {child.status}: {child.error or ''}".strip())
        return {"execution_id": child.id, "output": child.output, "usage": child.usage.model_dump()}
