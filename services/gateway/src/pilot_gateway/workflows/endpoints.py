"""/api/workflows: create from JSON, list, read, replace, patch, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from pilot_shared.contracts import Workflow, WorkflowCreate

from ..deps import WorkflowsDep
from . import service
from .schemas import EXAMPLE_WORKFLOW, WorkflowList, WorkflowUpdate

router = APIRouter(prefix="/api/workflows", tags=["workflows"])

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"description": "No workflow has this id"},
    422: {"description": "The body or the graph is invalid; `issues` name the nodes"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Workflow,
    responses=_ERRORS,
    summary="Create a workflow from its JSON",
)
async def create_workflow(
    workflows: WorkflowsDep,
    body: Annotated[
        WorkflowCreate,
        Body(
            openapi_examples={
                "customer_support": {"summary": "input → llm → output", "value": EXAMPLE_WORKFLOW}
            }
        ),
    ],
) -> Workflow:
    """The graph is validated (cycles, dangling connections, branch handles, templates
    reading nodes that are not upstream) before it is stored."""
    return await service.create_workflow(workflows, body)


@router.get("", response_model=WorkflowList, summary="List workflows, newest first")
async def list_workflows(
    workflows: WorkflowsDep,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> WorkflowList:
    return WorkflowList(items=await workflows.list(skip=skip, limit=limit), skip=skip, limit=limit)


@router.get("/{workflow_id}", response_model=Workflow, responses=_ERRORS, summary="Read a workflow")
async def get_workflow(workflows: WorkflowsDep, workflow_id: str) -> Workflow:
    return await service.get_workflow(workflows, workflow_id)


@router.put(
    "/{workflow_id}",
    response_model=Workflow,
    responses=_ERRORS,
    summary="Replace a workflow's content (a new version)",
)
async def replace_workflow(
    workflows: WorkflowsDep, workflow_id: str, body: WorkflowCreate
) -> Workflow:
    return await service.replace_workflow(workflows, workflow_id, body)


@router.patch(
    "/{workflow_id}",
    response_model=Workflow,
    responses=_ERRORS,
    summary="Change some fields of a workflow (a new version)",
)
async def update_workflow(
    workflows: WorkflowsDep, workflow_id: str, body: WorkflowUpdate
) -> Workflow:
    return await service.update_workflow(workflows, workflow_id, body)


@router.delete(
    "/{workflow_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: _ERRORS[404]},
    summary="Delete a workflow",
)
async def delete_workflow(workflows: WorkflowsDep, workflow_id: str) -> None:
    await service.delete_workflow(workflows, workflow_id)
