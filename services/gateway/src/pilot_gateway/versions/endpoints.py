"""/api/workflows/{id}/versions: every saved version, and rolling back to one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from pilot_shared.contracts import Workflow, WorkflowVersion

from ..deps import EditableWorkflow, LimitParam, SkipParam, ViewableWorkflow, WorkflowStoreDep
from ..errors import COMMON_ERRORS, error_responses
from ..workflows.endpoints import IfMatch, based_on, etag
from . import service
from .schemas import VersionList

router = APIRouter(
    prefix="/api/workflows/{workflow_id}/versions",
    tags=["versions"],
    responses=error_responses(*COMMON_ERRORS),
)

VersionNumber = Annotated[int, Path(ge=1, le=2**31, description="A version number")]


@router.get(
    "",
    response_model=VersionList,
    responses=error_responses(404),
    summary="List a workflow's versions, newest first",
)
async def list_versions(
    found: ViewableWorkflow,
    store: WorkflowStoreDep,
    skip: SkipParam = 0,
    limit: LimitParam = 50,
) -> VersionList:
    items, total = await service.list_versions(store, found.workflow, skip=skip, limit=limit)
    return VersionList(items=items, skip=skip, limit=limit, total=total)


@router.get(
    "/{version}",
    response_model=WorkflowVersion,
    responses=error_responses(404),
    summary="Read one version of a workflow, whole",
)
async def get_version(
    found: ViewableWorkflow, store: WorkflowStoreDep, version: VersionNumber
) -> WorkflowVersion:
    """What an execution ran: its `workflow_version` names the version."""
    return await service.get_version(store, found.workflow, version)


@router.post(
    "/{version}/restore",
    response_model=Workflow,
    responses=error_responses(403, 404, 409),
    summary="Roll back: save an old version's content as the next version",
)
async def restore_version(
    found: EditableWorkflow,
    store: WorkflowStoreDep,
    version: VersionNumber,
    response: Response,
    if_match: IfMatch = None,
) -> Workflow:
    workflow = await service.restore_version(
        store, found.workflow, version, found.caller, based_on(if_match)
    )
    response.headers["ETag"] = etag(workflow)
    return workflow
