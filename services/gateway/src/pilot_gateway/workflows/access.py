"""Who may do what with a workflow: its owner everything; users it is shared with as
`editor` may change and run it; as `viewer` may read it, its versions and its
executions. Anyone else gets a 404, as if it did not exist (OWASP API1: ids of other
users' workflows cannot be probed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from pilot_shared.contracts import Execution, Workflow
from pilot_shared.repositories import ExecutionRepository, ShareRepository, WorkflowRepository

from ..auth.schemas import Caller
from ..errors import ForbiddenError, NotFoundError

AccessLevel: TypeAlias = Literal["viewer", "editor", "owner"]
_RANK: dict[AccessLevel, int] = {"viewer": 1, "editor": 2, "owner": 3}


class WorkflowNotFoundError(NotFoundError):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow {workflow_id!r} does not exist")


class ExecutionNotFoundError(NotFoundError):
    def __init__(self, execution_id: str) -> None:
        super().__init__(f"execution {execution_id!r} does not exist")


@dataclass(frozen=True)
class AuthorizedWorkflow:
    workflow: Workflow
    access: AccessLevel
    caller: Caller


def allows(access: AccessLevel | None, need: AccessLevel) -> bool:
    return access is not None and _RANK[access] >= _RANK[need]


async def access_level(
    shares: ShareRepository, caller: Caller, workflow: Workflow
) -> AccessLevel | None:
    if workflow.owner_id == caller.id:
        return "owner"
    share = await shares.get(workflow.id, caller.id)
    return share.role if share is not None else None


async def authorize_workflow(
    workflows: WorkflowRepository,
    shares: ShareRepository,
    caller: Caller,
    workflow_id: str,
    need: AccessLevel,
) -> AuthorizedWorkflow:
    workflow = await workflows.get(workflow_id)
    if workflow is None:
        raise WorkflowNotFoundError(workflow_id)
    access = await access_level(shares, caller, workflow)
    if access is None:
        raise WorkflowNotFoundError(workflow_id)
    if not allows(access, need):
        raise ForbiddenError(
            f"you have {access} access to workflow {workflow_id!r}; this needs {need} access "
            "(ask its owner to share it with you as editor)",
            extra={"access": access, "required": need},
        )
    return AuthorizedWorkflow(workflow, access, caller)


async def authorize_execution(
    executions: ExecutionRepository,
    workflows: WorkflowRepository,
    shares: ShareRepository,
    caller: Caller,
    execution_id: str,
) -> Execution:
    """The user who started it, and whoever may see its workflow, may see an execution."""
    execution = await executions.get(execution_id)
    if execution is None:
        raise ExecutionNotFoundError(execution_id)
    if execution.owner_id == caller.id:
        return execution
    workflow = await workflows.get(execution.workflow_id)
    if workflow is None or await access_level(shares, caller, workflow) is None:
        raise ExecutionNotFoundError(execution_id)
    return execution
