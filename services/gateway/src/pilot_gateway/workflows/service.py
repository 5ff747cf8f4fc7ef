"""Storing and reading workflows. Every saved graph passes the one shared validator."""

from __future__ import annotations

from typing import Any

from pilot_shared.contracts import Workflow, WorkflowCreate, utcnow
from pilot_shared.graph import GraphValidationError, validate_workflow
from pilot_shared.repositories import WorkflowRepository

from ..errors import PilotError
from .schemas import WorkflowUpdate


class WorkflowNotFoundError(PilotError):
    status_code = 404
    kind = "not_found"

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow {workflow_id!r} does not exist")


class InvalidWorkflowError(PilotError):
    status_code = 422
    kind = "invalid_workflow"

    def __init__(self, exc: GraphValidationError) -> None:
        issues = [{"node_id": i.node_id, "message": i.message} for i in exc.issues]
        super().__init__(f"the workflow graph is invalid: {exc}", extra={"issues": issues})


def check_graph(workflow: Workflow) -> None:
    try:
        validate_workflow(workflow)
    except GraphValidationError as exc:
        raise InvalidWorkflowError(exc) from exc


async def create_workflow(
    repo: WorkflowRepository, body: WorkflowCreate, owner_id: str = "anonymous"
) -> Workflow:
    # dict(body) keeps the validated node models as they are, with no second round trip
    workflow = Workflow(**dict(body), owner_id=owner_id)
    check_graph(workflow)
    await repo.insert(workflow)
    return workflow


async def get_workflow(repo: WorkflowRepository, workflow_id: str) -> Workflow:
    workflow = await repo.get(workflow_id)
    if workflow is None:
        raise WorkflowNotFoundError(workflow_id)
    return workflow


async def replace_workflow(
    repo: WorkflowRepository, workflow_id: str, body: WorkflowCreate
) -> Workflow:
    return await _save_new_version(repo, await get_workflow(repo, workflow_id), dict(body))


async def update_workflow(
    repo: WorkflowRepository, workflow_id: str, body: WorkflowUpdate
) -> Workflow:
    return await _save_new_version(repo, await get_workflow(repo, workflow_id), body.changes())


async def _save_new_version(
    repo: WorkflowRepository, current: Workflow, changes: dict[str, Any]
) -> Workflow:
    """Every saved change is a new version; id, owner and creation time stay.
    (Last writer wins: there is no version check yet.)"""
    workflow = Workflow(
        **{**dict(current), **changes, "version": current.version + 1, "updated_at": utcnow()}
    )
    check_graph(workflow)
    await repo.replace(workflow)
    return workflow


async def delete_workflow(repo: WorkflowRepository, workflow_id: str) -> None:
    if not await repo.delete(workflow_id):
        raise WorkflowNotFoundError(workflow_id)
