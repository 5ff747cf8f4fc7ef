"""Running workflows and following their executions: execute, read, SSE, WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, WebSocket, status
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from pilot_shared import subjects
from pilot_shared.contracts import ExecutionEvent

from ..deps import (
    BrokerDep,
    EventsDep,
    ExecutionsDep,
    LiveDep,
    NodeRunsDep,
    SettingsDep,
    WorkflowsDep,
)
from ..errors import BadRequestError, PilotError
from ..live import SubscriptionClosed
from ..sse import EVENT_STREAM, event_stream_response, wants_event_stream
from ..workflows.service import get_workflow
from . import service
from .event_stream import ExecutionEventStream
from .schemas import ExecuteAccepted, ExecuteRequest, ExecutionDetail

router = APIRouter(tags=["executions"])

# WebSocket close codes (RFC 6455 registry): the client should reconnect later.
_SERVICE_RESTART = 1012
_TRY_AGAIN_LATER = 1013

_SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: `id: <seq>`, `event: <type>`, "
        "`data: <ExecutionEvent JSON>`; the stream ends after the terminal event",
        "content": {
            EVENT_STREAM: {
                "schema": {"type": "string"},
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
        404: {"description": "No workflow has this id"},
        422: {"description": "`input_data` does not match the input node's schema"},
        503: {"description": "The message bus is unreachable"},
    },
)
async def execute_workflow(
    request: Request,
    workflow_id: str,
    body: ExecuteRequest,
    workflows: WorkflowsDep,
    executions: ExecutionsDep,
    events: EventsDep,
    broker: BrokerDep,
    live: LiveDep,
    settings: SettingsDep,
) -> Response | ExecuteAccepted:
    """`202 {"execution_id"}` at once; or, with `Accept: text/event-stream`, the
    execution's events as they happen, ending with its terminal event."""
    workflow = await get_workflow(workflows, workflow_id)
    execution = await service.create_execution(executions, broker, workflow, body.input_data)
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
    "/api/executions/{execution_id}",
    response_model=ExecutionDetail,
    summary="Read an execution: status, output, per-node states, usage, node runs",
    responses={404: {"description": "No execution has this id"}},
)
async def get_execution(
    execution_id: str, executions: ExecutionsDep, node_runs: NodeRunsDep
) -> ExecutionDetail:
    return await service.execution_detail(executions, node_runs, execution_id)


def resume_point(last_event_id: str | None, after: int | None) -> int:
    """The seq to resume after. The header wins: a reconnecting EventSource sends it, while
    the URL still carries whatever `after` the stream was first opened with."""
    if last_event_id is not None and last_event_id.strip():
        try:
            value = int(last_event_id.strip())
        except ValueError:
            raise BadRequestError(
                f"Last-Event-ID must be an event seq (an integer), not {last_event_id!r}"
            ) from None
        if value < 0:
            raise BadRequestError("Last-Event-ID must not be negative")
        return value
    return after or 0


@router.get(
    "/api/executions/{execution_id}/events",
    response_class=StreamingResponse,
    summary="Follow an execution's events (SSE, resumable)",
    responses={**_SSE_RESPONSE, 404: {"description": "No execution has this id"}},
)
async def execution_events(
    execution_id: str,
    executions: ExecutionsDep,
    events: EventsDep,
    live: LiveDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header(description="Resume after this seq")] = None,
    after: Annotated[int | None, Query(ge=0, description="Resume after this seq")] = None,
) -> StreamingResponse:
    """Stored events after `Last-Event-ID` (or `?after=`), then live ones, each once and
    in `seq` order; the stream closes after the terminal event."""
    await service.get_execution(executions, execution_id)
    stream = await ExecutionEventStream.open(
        live,
        events,
        executions,
        execution_id,
        after_seq=resume_point(last_event_id, after),
        keepalive_s=settings.sse_keepalive_s,
    )
    return event_stream_response(stream.frames(), on_close=stream.close)


@router.websocket("/ws/workflow/{workflow_id}")
async def workflow_live(
    websocket: WebSocket, workflow_id: str, workflows: WorkflowsDep, live: LiveDep
) -> None:
    """Every event of every execution of the workflow, as JSON text frames, live only
    (use the SSE endpoint to replay one execution)."""
    await websocket.accept()
    if await workflows.get(workflow_id) is None:
        await websocket.close(code=4404, reason=f"workflow {workflow_id!r} does not exist")
        return
    try:
        subscription = await live.subscribe(
            subjects.execution_events(workflow_id), ExecutionEvent.model_validate_json
        )
    except PilotError as exc:
        await websocket.close(code=_TRY_AGAIN_LATER, reason=exc.detail[:120])
        return

    async def forward() -> None:
        try:
            while True:
                event = await subscription.get(None)
                if event is not None:
                    await websocket.send_text(event.model_dump_json())
        except SubscriptionClosed:
            await websocket.close(code=_SERVICE_RESTART, reason="the gateway is shutting down")

    async def until_closed() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # the channel is one-way; client messages are ignored

    tasks = [asyncio.create_task(forward()), asyncio.create_task(until_closed())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await subscription.close()
