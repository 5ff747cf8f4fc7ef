"""Running workflows and following their executions: execute, list, read, SSE."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, status
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from pilot_shared.contracts import ExecutionStatus

from ..deps import (
    BrokerDep,
    CallerDep,
    EventsDep,
    ExecutionsDep,
    LimitParam,
    LimitsDep,
    LiveDep,
    NodeRunsDep,
    RunnableWorkflow,
    SettingsDep,
    SharesDep,
    SkipParam,
    StreamCallerDep,
    ViewableWorkflow,
    WorkflowsDep,
)
from ..errors import COMMON_ERRORS, BadRequestError, error_responses
from ..sse import EVENT_STREAM, SSE_EVENT_SCHEMA, event_stream_response, wants_event_stream
from ..workflows.access import authorize_execution, authorize_workflow
from . import service
from .event_stream import ExecutionEventStream
from .schemas import ExecuteAccepted, ExecuteRequest, ExecutionDetail, ExecutionList

router = APIRouter(tags=["executions"], responses=error_responses(*COMMON_ERRORS))


_SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: `id: <seq>`, `event: <type>`, "
        "`data: <ExecutionEvent JSON>`; the stream ends after the terminal event",
        "content": {
            EVENT_STREAM: {
                "schema": SSE_EVENT_SCHEMA,
                "example": 'id: 1\nevent: execution.started\ndata: {"seq": 1, …}\n\n',
            }
        },
    }
}


@router.post(
    "/api/workflows/{workflow_id}/execute",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExecuteAccepted,
    summary="Run a workflow",
    responses={
        **_SSE_RESPONSE,
        **error_responses(
            403,
            404,
            _403="Viewers may not run a workflow",
            _422="`input_data` does not match the input node's schema",
            _429="Over the rate limit, or too many of your executions are running",
        ),
    },
)
async def execute_workflow(
    request: Request,
    found: RunnableWorkflow,
    body: ExecuteRequest,
    executions: ExecutionsDep,
    events: EventsDep,
    broker: BrokerDep,
    live: LiveDep,
    settings: SettingsDep,
    limits: LimitsDep,
) -> Response | ExecuteAccepted:
    """`202 {"execution_id"}` at once; or, with `Accept: text/event-stream`, the
    execution's events as they happen, ending with its terminal event. The execution
    runs the workflow's current version, and records which one (`workflow_version`)."""
    workflow, caller = found.workflow, found.caller
    async with limits.executions.reserve(caller.id, executions.count_active):
        execution = await service.create_execution(
            executions, broker, workflow, body.input_data, owner_id=caller.id
        )
    if not wants_event_stream(request):
        await service.request_run(broker, execution)
        return ExecuteAccepted(execution_id=execution.id, workflow_id=workflow.id)
    # Subscribe before the run is requested, so not even execution.started can be missed.
    stream = await ExecutionEventStream.open(
        live, events, executions, execution.id, keepalive_s=settings.sse_keepalive_s
    )
    try:
        await service.request_run(broker, execution)
    except BaseException:
        await stream.close()
        raise
    return event_stream_response(stream.frames(), on_close=stream.close)


@router.get(
    "/api/executions",
    response_model=ExecutionList,
    responses=error_responses(404, _404="`workflow_id` names no workflow you may see"),
    summary="List executions: yours, or all of one workflow you may see",
)
async def list_executions(
    caller: CallerDep,
    executions: ExecutionsDep,
    workflows: WorkflowsDep,
    shares: SharesDep,
    workflow_id: Annotated[
        str | None, Query(description="Every execution of this workflow (needs view access)")
    ] = None,
    status: Annotated[ExecutionStatus | None, Query(description="Only this status")] = None,
    skip: SkipParam = 0,
    limit: LimitParam = 50,
) -> ExecutionList:
    """Newest first. Without `workflow_id`: the executions you started."""
    owner_id: str | None = caller.id
    if workflow_id is not None:
        await authorize_workflow(workflows, shares, caller, workflow_id, "viewer")
        owner_id = None
    filters: dict[str, Any] = {"workflow_id": workflow_id, "status": status, "owner_id": owner_id}
    return ExecutionList(
        items=await executions.list(**filters, skip=skip, limit=limit),
        skip=skip,
        limit=limit,
        total=await executions.count(**filters),
    )


@router.get(
    "/api/workflows/{workflow_id}/executions",
    response_model=ExecutionList,
    responses=error_responses(404),
    summary="List a workflow's executions, newest first",
)
async def list_workflow_executions(
    found: ViewableWorkflow,
    executions: ExecutionsDep,
    status: Annotated[ExecutionStatus | None, Query(description="Only this status")] = None,
    skip: SkipParam = 0,
    limit: LimitParam = 50,
) -> ExecutionList:
    workflow_id = found.workflow.id
    return ExecutionList(
        items=await executions.list(workflow_id=workflow_id, status=status, skip=skip, limit=limit),
        skip=skip,
        limit=limit,
        total=await executions.count(workflow_id=workflow_id, status=status),
    )


@router.get(
    "/api/executions/{execution_id}",
    response_model=ExecutionDetail,
    summary="Read an execution: status, output, per-node states, usage, node runs",
    responses=error_responses(404),
)
async def get_execution(
    execution_id: str,
    caller: CallerDep,
    executions: ExecutionsDep,
    workflows: WorkflowsDep,
    shares: SharesDep,
    node_runs: NodeRunsDep,
) -> ExecutionDetail:
    """Visible to whoever started it and to whoever may see its workflow."""
    execution = await authorize_execution(executions, workflows, shares, caller, execution_id)
    return await service.execution_detail(node_runs, execution)


# The largest seq a client may name: far beyond any execution, well inside 64 bits.
MAX_SEQ = 10**15
LAST_EVENT_ID_PATTERN = r"^[ \t]*[0-9]{0,15}[ \t]*$"


def resume_point(last_event_id: str | None, after: int | None) -> int:
    """The seq to resume after. The header wins: a reconnecting EventSource sends it, while
    the URL still carries whatever `after` the stream was first opened with."""
    if last_event_id is not None and last_event_id.strip(" \t"):
        value = last_event_id.strip(" \t")
        if not value.isascii() or not value.isdigit() or int(value) > MAX_SEQ:
            raise BadRequestError(
                f"Last-Event-ID must be an event seq (an integer), not {last_event_id!r}"
            )
        return int(value)
    return after or 0


@router.get(
    "/api/executions/{execution_id}/events",
    response_class=StreamingResponse,
    summary="Follow an execution's events (SSE, resumable)",
    responses={**_SSE_RESPONSE, **error_responses(404)},
)
async def execution_events(
    execution_id: str,
    caller: StreamCallerDep,
    executions: ExecutionsDep,
    workflows: WorkflowsDep,
    shares: SharesDep,
    events: EventsDep,
    live: LiveDep,
    settings: SettingsDep,
    last_event_id: Annotated[
        str | None, Header(pattern=LAST_EVENT_ID_PATTERN, description="Resume after this seq")
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_SEQ, description="Resume after this seq")
    ] = None,
) -> StreamingResponse:
    """Stored events after `Last-Event-ID` (or `?after=`), then live ones, each once and
    in `seq` order; the stream closes after the terminal event."""
    await authorize_execution(executions, workflows, shares, caller, execution_id)
    stream = await ExecutionEventStream.open(
        live,
        events,
        executions,
        execution_id,
        after_seq=resume_point(last_event_id, after),
        keepalive_s=settings.sse_keepalive_s,
    )
    return event_stream_response(stream.frames(), on_close=stream.close)
