"""POST /api/workflows/generate: prompt in, stored workflow out (or its events as SSE)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.requests import Request
from starlette.responses import Response

from ..deps import BrokerDep, ExpensiveCallerDep, LiveDep, SettingsDep, WorkflowStoreDep
from ..errors import COMMON_ERRORS, PilotError, error_body, error_responses
from ..sse import (
    EVENT_STREAM,
    SSE_EVENT_SCHEMA,
    event_stream_response,
    sse_frame,
    wants_event_stream,
)
from ..workflows.service import record_first_version
from ..workflows.store import WorkflowStore
from . import service
from .schemas import GenerateWorkflowRequest, GenerateWorkflowResponse

router = APIRouter(
    prefix="/api/workflows", tags=["generation"], responses=error_responses(*COMMON_ERRORS)
)


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
            "content": {EVENT_STREAM: {"schema": SSE_EVENT_SCHEMA}},
        },
        **error_responses(
            502,
            504,
            _422="Empty or over-long prompt, or the generation failed (`detail` says why)",
            _502="The generator reported success without a workflow",
            _504="No result within the generation timeout",
        ),
    },
)
async def generate_workflow(
    request: Request,
    body: GenerateWorkflowRequest,
    live: LiveDep,
    broker: BrokerDep,
    settings: SettingsDep,
    store: WorkflowStoreDep,
    caller: ExpensiveCallerDep,
    stream: Annotated[bool, Query(description="Answer with the generation's events (SSE)")] = False,
) -> Response | GenerateWorkflowResponse:
    """The planner turns the prompt into a blueprint, the generator turns that into a
    validated, laid-out and costed graph and stores it; the stored workflow, owned by
    the caller, is returned."""
    watch = await service.start_generation(live, broker, body, settings, owner_id=caller.id)
    if stream or wants_event_stream(request):
        return event_stream_response(_frames(watch, store), on_close=watch.close)
    try:
        result = await watch.result(store.workflows)
        await record_first_version(store, result.workflow)
        return result
    finally:
        await watch.close()


async def _frames(watch: service.GenerationWatch, store: WorkflowStore) -> AsyncIterator[bytes]:
    seq = 0
    try:
        async for event in watch.events():
            seq += 1
            if event.workflow is not None:
                await record_first_version(store, event.workflow)
            yield sse_frame(event.model_dump_json(), event=event.type, id=seq)
    except PilotError as exc:  # the deadline passed: say so in-band, the status is sent
        yield sse_frame(json.dumps(error_body(exc.kind, exc.detail, **exc.extra)), event="error")
    finally:
        await watch.close()
