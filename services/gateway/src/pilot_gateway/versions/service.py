"""Reading a workflow's saved versions and rolling back to one. A rollback is itself a
save: the old content becomes the next version, so history only ever grows."""

from __future__ import annotations

from pilot_shared.contracts import Workflow, WorkflowVersion

from ..auth.schemas import Caller
from ..errors import NotFoundError
from ..workflows.service import record_first_version, save_version
from ..workflows.store import WorkflowStore
from .schemas import VersionSummary


class VersionNotFoundError(NotFoundError):
    def __init__(self, workflow_id: str, version: int) -> None:
        super().__init__(f"workflow {workflow_id!r} has no version {version}")


def summary(version: WorkflowVersion) -> VersionSummary:
    return VersionSummary(
        version=version.version,
        change=version.change,
        saved_by=version.saved_by,
        saved_at=version.saved_at,
        name=version.workflow.name,
        nodes=len(version.workflow.nodes),
    )


async def list_versions(
    store: WorkflowStore, workflow: Workflow, *, skip: int, limit: int
) -> tuple[list[VersionSummary], int]:
    await record_first_version(store, workflow)
    items = await store.versions.list(workflow.id, skip=skip, limit=limit)
    return [summary(v) for v in items], await store.versions.count(workflow.id)


async def get_version(store: WorkflowStore, workflow: Workflow, version: int) -> WorkflowVersion:
    await record_first_version(store, workflow)
    found = await store.versions.get(workflow.id, version)
    if found is None:
        raise VersionNotFoundError(workflow.id, version)
    return found


async def restore_version(
    store: WorkflowStore,
    workflow: Workflow,
    version: int,
    caller: Caller,
    based_on: int | None,
) -> Workflow:
    old = (await get_version(store, workflow, version)).workflow
    content = {
        "name": old.name,
        "description": old.description,
        "status": old.status,
        "nodes": old.nodes,
        "connections": old.connections,
        "variables": old.variables,
    }
    return await save_version(
        store, workflow, content, caller=caller, change="rolled_back", based_on=based_on
    )
