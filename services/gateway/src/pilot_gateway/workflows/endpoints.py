"""/api/workflows: create from JSON, list, read, replace, patch, edit one node, delete."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response, status

from pilot_shared.contracts import ChangeKind, Workflow, WorkflowCreate, WorkflowStatus

from ..deps import (
    CallerDep,
    EditableWorkflow,
    LimitParam,
    OwnedWorkflow,
    SkipParam,
    ViewableWorkflow,
    WorkflowStoreDep,
)
from ..errors import COMMON_ERRORS, BadRequestError, error_responses
from . import service
from .schemas import (
    EXAMPLE_WORKFLOW,
    NodeUpdate,
    Ownership,
    WorkflowList,
    WorkflowSort,
    WorkflowUpdate,
)

router = APIRouter(
    prefix="/api/workflows", tags=["workflows"], responses=error_responses(*COMMON_ERRORS)
)

_READ_ERRORS = error_responses(404)
_WRITE_ERRORS = error_responses(
    403,
    404,
    409,
    _422="The body or the graph is invalid; `errors` or `issues` name the fields and nodes",
    _409="The workflow changed since the version in If-Match: reload it and apply again",
)

# A version as an entity tag: `"3"`, `W/"3"` or `3`; `*` (or nothing) means any version.
IF_MATCH_PATTERN = r'^[ \t]*(\*|(W/)?"?[0-9]{1,15}"?)?[ \t]*$'
_IF_MATCH = re.compile(IF_MATCH_PATTERN)

IfMatch = Annotated[
    str | None,
    Header(
        pattern=IF_MATCH_PATTERN,
        description='The version this change was made on (the ETag of GET, e.g. `"3"`). '
        "When it is no longer the latest version the change is refused with a 409 conflict.",
    ),
]


def based_on(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    if not _IF_MATCH.match(if_match):
        raise BadRequestError(
            f'If-Match must be a workflow version such as "3" (the ETag of GET), not {if_match!r}'
        )
    digits = "".join(ch for ch in if_match if ch.isdigit())
    return int(digits) if digits else None


def etag(workflow: Workflow) -> str:
    return f'"{workflow.version}"'


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Workflow,
    responses=error_responses(_422="The body or the graph is invalid; `issues` name the nodes"),
    summary="Create a workflow from its JSON",
)
async def create_workflow(
    store: WorkflowStoreDep,
    caller: CallerDep,
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
    reading nodes that are not upstream) before it is stored. The caller owns it."""
    return await service.create_workflow(store, body, caller)


@router.get("", response_model=WorkflowList, summary="List the workflows you may see")
async def list_workflows(
    store: WorkflowStoreDep,
    caller: CallerDep,
    skip: SkipParam = 0,
    limit: LimitParam = 50,
    owner: Annotated[
        Ownership, Query(description="`mine`, `shared` (with you by others) or `any`")
    ] = Ownership.any,
    status: Annotated[WorkflowStatus | None, Query(description="Only this status")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Names containing this (any case)")
    ] = None,
    sort: Annotated[WorkflowSort, Query(description="`-` first: descending")] = (
        WorkflowSort.updated_desc
    ),
) -> WorkflowList:
    """Workflows you own and workflows shared with you, a page at a time."""
    items, total = await service.list_workflows(
        store, caller, ownership=owner, status=status, q=q, sort=sort, skip=skip, limit=limit
    )
    return WorkflowList(items=items, skip=skip, limit=limit, total=total)


@router.get(
    "/{workflow_id}", response_model=Workflow, responses=_READ_ERRORS, summary="Read a workflow"
)
async def get_workflow(found: ViewableWorkflow, response: Response) -> Workflow:
    """The `ETag` header carries the version: send it back as `If-Match` when saving."""
    response.headers["ETag"] = etag(found.workflow)
    return found.workflow


@router.put(
    "/{workflow_id}",
    response_model=Workflow,
    responses=_WRITE_ERRORS,
    summary="Replace a workflow's content (a new version)",
)
async def replace_workflow(
    found: EditableWorkflow,
    store: WorkflowStoreDep,
    body: WorkflowCreate,
    response: Response,
    if_match: IfMatch = None,
) -> Workflow:
    return await _save(store, found, dict(body), "replaced", if_match, response)


@router.patch(
    "/{workflow_id}",
    response_model=Workflow,
    responses=_WRITE_ERRORS,
    summary="Change some fields of a workflow (a new version)",
)
async def update_workflow(
    found: EditableWorkflow,
    store: WorkflowStoreDep,
    body: WorkflowUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Workflow:
    return await _save(store, found, body.changes(), "updated", if_match, response)


@router.patch(
    "/{workflow_id}/nodes/{node_id}",
    response_model=Workflow,
    responses=_WRITE_ERRORS,
    summary="Edit one node (a new version)",
)
async def update_node(
    found: EditableWorkflow,
    store: WorkflowStoreDep,
    node_id: str,
    body: NodeUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Workflow:
    """The editor's onNodeEdit: `config` keys are merged into the node's config, other
    fields replaced; the node and the graph are validated before the version is saved."""
    nodes = service.updated_nodes(found.workflow, node_id, body)
    return await _save(
        store, found, {"nodes": nodes}, "node_edited", if_match, response, node_id=node_id
    )


@router.delete(
    "/{workflow_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(403, 404, _403="Only the owner may delete a workflow"),
    summary="Delete a workflow, its versions and its shares",
)
async def delete_workflow(found: OwnedWorkflow, store: WorkflowStoreDep) -> None:
    await service.delete_workflow(store, found.workflow, found.caller)


async def _save(
    store: WorkflowStoreDep,
    found: EditableWorkflow,
    changes: dict[str, Any],
    change: ChangeKind,
    if_match: IfMatch,
    response: Response,
    node_id: str | None = None,
) -> Workflow:
    """Every write is a new version, checked against If-Match, answered with its ETag."""
    workflow = await service.save_version(
        store,
        found.workflow,
        changes,
        caller=found.caller,
        change=change,
        based_on=based_on(if_match),
        node_id=node_id,
    )
    response.headers["ETag"] = etag(workflow)
    return workflow
