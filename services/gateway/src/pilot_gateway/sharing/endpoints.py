"""/api/workflows/{id}/shares: who else may see or edit a workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from pilot_shared.contracts import USERNAME_PATTERN

from ..deps import OwnedWorkflow, UsersDep, ViewableWorkflow, WorkflowStoreDep
from ..errors import COMMON_ERRORS, error_responses
from . import service
from .schemas import Share, ShareList, ShareRequest

router = APIRouter(
    prefix="/api/workflows/{workflow_id}/shares",
    tags=["sharing"],
    responses=error_responses(*COMMON_ERRORS),
)

Username = Annotated[str, Path(pattern=USERNAME_PATTERN, description="The user's username")]


@router.get(
    "",
    response_model=ShareList,
    responses=error_responses(404),
    summary="Who the workflow is shared with",
)
async def list_shares(
    found: ViewableWorkflow, store: WorkflowStoreDep, users: UsersDep
) -> ShareList:
    items = await service.list_shares(store, users, found.workflow)
    return ShareList(owner_id=found.workflow.owner_id, items=items)


@router.put(
    "/{username}",
    response_model=Share,
    responses=error_responses(403, 404, _403="Only the owner may share a workflow"),
    summary="Share the workflow with a user as viewer or editor",
)
async def share_workflow(
    found: OwnedWorkflow,
    store: WorkflowStoreDep,
    users: UsersDep,
    username: Username,
    body: ShareRequest,
) -> Share:
    """Viewers may read the workflow, its versions and executions and follow it live;
    editors may also change and run it. Sharing again changes the role."""
    return await service.share_workflow(
        store, users, found.workflow, found.caller, username, body.role
    )


@router.delete(
    "/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(403, 404),
    summary="Stop sharing the workflow with a user (or leave it yourself)",
)
async def unshare_workflow(
    found: ViewableWorkflow, store: WorkflowStoreDep, users: UsersDep, username: Username
) -> None:
    await service.unshare_workflow(store, users, found.workflow, found.caller, username)
