"""Storing and reading workflows. Every saved graph passes the one shared validator, and
every save is a new version: the workflow document is replaced only if it is still at the
version the change was made on (optimistic concurrency), then the version is stored as a
document of its own and announced to collaborators.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from pilot_shared.contracts import (
    NODE_ADAPTER,
    ChangeKind,
    Node,
    Workflow,
    WorkflowChange,
    WorkflowCreate,
    WorkflowVersion,
    utcnow,
    version_id,
)
from pilot_shared.graph import GraphValidationError, validate_workflow

from ..auth.schemas import Caller
from ..errors import ConflictError, NotFoundError, PilotError
from .access import WorkflowNotFoundError
from .schemas import NodeUpdate, Ownership, WorkflowSort
from .store import WorkflowStore


class InvalidWorkflowError(PilotError):
    status_code = 422
    kind = "invalid_workflow"

    def __init__(self, exc: GraphValidationError) -> None:
        issues = [{"node_id": i.node_id, "message": i.message} for i in exc.issues]
        super().__init__(f"the workflow graph is invalid: {exc}", extra={"issues": issues})


class InvalidNodeError(PilotError):
    status_code = 422
    kind = "validation"


class NodeNotFoundError(NotFoundError):
    def __init__(self, workflow_id: str, node_id: str) -> None:
        super().__init__(f"workflow {workflow_id!r} has no node {node_id!r}")


class StaleVersionError(ConflictError):
    """The change was made on a version that is no longer the latest: never merged."""

    def __init__(self, workflow_id: str, based_on: int, current: int | None) -> None:
        now = f"it is at version {current}" if current is not None else "it was deleted"
        super().__init__(
            f"workflow {workflow_id!r} changed since version {based_on}: {now}. "
            "Reload it and apply your change again",
            extra={"current_version": current, "based_on": based_on},
        )


def check_graph(workflow: Workflow) -> None:
    try:
        validate_workflow(workflow)
    except GraphValidationError as exc:
        raise InvalidWorkflowError(exc) from exc


def _version(workflow: Workflow, change: ChangeKind, saved_by: str) -> WorkflowVersion:
    return WorkflowVersion(
        id=version_id(workflow.id, workflow.version),
        workflow_id=workflow.id,
        version=workflow.version,
        change=change,
        saved_by=saved_by,
        saved_at=workflow.updated_at,
        workflow=workflow,
    )


async def create_workflow(
    store: WorkflowStore, body: WorkflowCreate, caller: Caller, change: ChangeKind = "created"
) -> Workflow:
    # dict(body) keeps the validated node models as they are, with no second round trip
    workflow = Workflow(**dict(body), owner_id=caller.id)
    check_graph(workflow)
    await store.workflows.insert(workflow)
    await store.versions.put(_version(workflow, change, caller.id))
    return workflow


async def record_first_version(store: WorkflowStore, workflow: Workflow) -> None:
    """Workflows stored by another service (the generator) get their version document
    when the gateway first handles them. Idempotent."""
    if await store.versions.get(workflow.id, workflow.version) is None:
        change: ChangeKind = "generated" if workflow.generation is not None else "created"
        await store.versions.put(_version(workflow, change, workflow.owner_id))


async def save_version(
    store: WorkflowStore,
    current: Workflow,
    changes: dict[str, Any],
    *,
    caller: Caller,
    change: ChangeKind,
    based_on: int | None = None,
    node_id: str | None = None,
) -> Workflow:
    """Save `changes` on top of `current` as the next version. `based_on` is the version
    the client edited (If-Match, or a WebSocket edit's base_version): a stale one is a
    conflict. A save that loses a race with another save is a conflict as well."""
    if based_on is not None and based_on != current.version:
        raise StaleVersionError(current.id, based_on, current.version)
    await record_first_version(store, current)
    workflow = Workflow(
        **{**dict(current), **changes, "version": current.version + 1, "updated_at": utcnow()}
    )
    check_graph(workflow)
    if not await store.workflows.replace_if_version(workflow, current.version):
        latest = await store.workflows.get(current.id)
        raise StaleVersionError(
            current.id, current.version, latest.version if latest is not None else None
        )
    await store.versions.put(_version(workflow, change, caller.id))
    await store.feed.publish(
        WorkflowChange(
            type="workflow.updated",
            workflow_id=workflow.id,
            version=workflow.version,
            previous_version=current.version,
            change=change,
            node_id=node_id,
            by=caller.id,
            by_username=caller.user.username,
            workflow=workflow,
        )
    )
    return workflow


def updated_nodes(workflow: Workflow, node_id: str, update: NodeUpdate) -> list[Node]:
    """The workflow's nodes with one node changed as `update` says, re-validated."""
    try:
        node = workflow.node(node_id)
    except KeyError:
        raise NodeNotFoundError(workflow.id, node_id) from None
    data = node.model_dump(mode="json", by_alias=True)
    for name in update.model_fields_set - {"config"}:
        value = getattr(update, name)
        if value is not None:
            data[name] = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
    if update.config is not None:
        config = {**data["config"], **update.config}
        data["config"] = {k: v for k, v in config.items() if v is not None}
    try:
        changed = NODE_ADAPTER.validate_python(data)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", *err["loc"][1:]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False)
        ]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        raise InvalidNodeError(
            f"node {node_id!r} would be invalid: {detail}", extra={"errors": errors}
        ) from None
    return [changed if n.id == node_id else n for n in workflow.nodes]


async def delete_workflow(store: WorkflowStore, workflow: Workflow, caller: Caller) -> None:
    if not await store.workflows.delete(workflow.id):
        raise WorkflowNotFoundError(workflow.id)
    await store.versions.delete_for_workflow(workflow.id)
    await store.shares.delete_for_workflow(workflow.id)
    await store.feed.publish(
        WorkflowChange(
            type="workflow.deleted",
            workflow_id=workflow.id,
            version=workflow.version,
            by=caller.id,
            by_username=caller.user.username,
        )
    )


_SORTS: dict[WorkflowSort, list[tuple[str, int]]] = {
    WorkflowSort.updated_desc: [("updated_at", -1), ("_id", 1)],
    WorkflowSort.updated_asc: [("updated_at", 1), ("_id", 1)],
    WorkflowSort.created_desc: [("created_at", -1), ("_id", 1)],
    WorkflowSort.created_asc: [("created_at", 1), ("_id", 1)],
    WorkflowSort.name_asc: [("name", 1), ("_id", 1)],
    WorkflowSort.name_desc: [("name", -1), ("_id", 1)],
}


async def visible_workflows_query(
    store: WorkflowStore,
    caller: Caller,
    *,
    ownership: Ownership = Ownership.any,
    status: str | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    """The store query for the workflows this caller may see, filtered."""
    mine: dict[str, Any] = {"owner_id": caller.id}
    shared: dict[str, Any] = {"_id": {"$in": await store.shares.workflow_ids_for_user(caller.id)}}
    clauses: list[dict[str, Any]] = []
    if ownership is Ownership.mine:
        clauses.append(mine)
    elif ownership is Ownership.shared:
        clauses.append(shared)
    else:
        clauses.append({"$or": [mine, shared]})
    if status is not None:
        clauses.append({"status": status})
    if q:
        # A literal, case-insensitive substring: the user's text is never a pattern.
        clauses.append({"name": {"$regex": re.escape(q), "$options": "i"}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


async def list_workflows(
    store: WorkflowStore,
    caller: Caller,
    *,
    ownership: Ownership,
    status: str | None,
    q: str | None,
    sort: WorkflowSort,
    skip: int,
    limit: int,
) -> tuple[list[Workflow], int]:
    query = await visible_workflows_query(store, caller, ownership=ownership, status=status, q=q)
    items = await store.workflows.find(query, sort=_SORTS[sort], skip=skip, limit=limit)
    return items, await store.workflows.count(query)
