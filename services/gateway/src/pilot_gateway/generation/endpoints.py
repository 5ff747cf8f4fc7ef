"""POST /api/workflows/generate: prompt in, stored workflow out (or its events as SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.requests import Request
from starlette.responses import Response

from ..deps import BrokerDep, LiveDep, SettingsDep, WorkflowsDep
from ..errors import PilotError, error_body
from ..sse import EVENT_STREAM, event_stream_response, sse_frame, wants_event_stream
from . import service
from .schemas import GenerateWorkflowRequest, GenerateWorkflowResponse

router = APIRouter(prefix="/api/workflows", tags=["generation"])


@router.post(
    "/generate",
    status_code=status.HTTP_201_CREATED,
    response_model=GenerateWorkflowResponse,
    summary="Generate a workflow from a natural-language prompt",
    responses={
        200: {
            "description": "With `?stream=true` or `Accept: text/event-stream`: the "
            "generation's events (`generation.planned`, then `generation.completed` with "
            "the workflow or `generation.failed`) as server-sent events",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        },
        413: {"description": "The request body is over the size limit"},
        422: {
            "description": "Empty or over-long prompt, or the generation failed (`detail` says why)"
        },
        503: {"description": "The message bus is unreachable"},
        504: {"description": "No result within the generation timeout"},
    },
)
async def generate_workflow(
    request: Request,
    body: GenerateWorkflowRequest,
    live: LiveDep,
    broker: BrokerDep,
    settings: SettingsDep,
    workflows: WorkflowsDep,
    stream: Annotated[bool, Query(description="Answer with the generation's events (SSE)")] = False,
) -> Response | GenerateWorkflowResponse:
    """The planner turns the prompt into a blueprint, the generator turns that into a
    validated, laid-out and costed graph and stores it; the stored workflow is returned."""
    watch = await service.start_generation(live, broker, body, settings)
    if stream or wants_event_stream(request):
        return event_stream_response(_frames(watch), on_close=watch.close)
    try:
        return await watch.result(workflows)
    finally:
        await watch.close()


async def _frames(watch: service.GenerationWatch) -> AsyncIterator[bytes]:
    seq = 0
    try:
        async for event in watch.events():
            seq += 1
            yield sse_frame(event.model_dump_json(), event=event.type, id=seq)
    except PilotError as exc:  # the deadline passed: say so in-band, the status is sent
        yield sse_frame(json.dumps(error_body(exc.kind, exc.detail, **exc.extra)), event="error")
    finally:
        await watch.close()
