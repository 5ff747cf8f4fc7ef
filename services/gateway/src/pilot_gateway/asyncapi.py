"""The bus, documented as AsyncAPI 3.0 by FastStream and served at /asyncapi (HTML) and
/asyncapi.json.

Services never import each other, so the gateway describes the whole bus from what they
share: a broker that is never connected declares one subscriber per command subject
(typed with its message contract) and one publisher per event subject, and FastStream
generates the document from it. Subjects and contracts come from `pilot_shared`, so the
document cannot drift from what the services actually use.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html

from pilot_shared import subjects
from pilot_shared.contracts import (
    ExecutionEvent,
    GenerateRequest,
    GenerationEvent,
    NodeChunk,
    NodeResult,
    NodeTask,
    PlanRequest,
    RunRequest,
    WorkflowChange,
)
from pilot_shared.contracts.messages import (
    InstantiateRequest,
    OptimizeQuery,
    RecommendQuery,
    TemplateListQuery,
    TemplateQuery,
)

from .deps import SettingsDep

router = APIRouter(tags=["operations"])

TITLE = "πlot bus"
DESCRIPTION = """\
Commands and work items travel on work-queue streams (each message is taken once, by a
durable pull consumer with explicit acks); events on a replayable stream. Every publish
carries a `Nats-Msg-Id` header, so a retried publish is not a second message.
"""


def _public_url(url: str) -> str:
    """The first server URL without credentials: secrets never appear in the docs."""
    parts = urlsplit(url.split(",")[0].strip())
    host = parts.hostname or "localhost"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme or "nats", netloc, "", "", ""))


def describe_bus(nats_url: str) -> NatsBroker:
    broker = NatsBroker(_public_url(nats_url), description="NATS with JetStream")

    def command(subject: str, title: str, description: str, model: Any) -> None:
        async def handler(message: Any) -> None: ...

        handler.__annotations__["message"] = model
        broker.subscriber(subject, title=title, description=description)(handler)

    command(
        subjects.PLAN,
        "plan",
        "gateway → planner: turn a prompt into a blueprint (stream PILOT_COMMANDS)",
        PlanRequest,
    )
    command(
        subjects.GENERATE,
        "generate",
        "planner → generator: build, validate, lay out and store the graph",
        GenerateRequest,
    )
    command(
        subjects.RUN,
        "run",
        "gateway → executor: start (or resume) an execution whose document exists",
        RunRequest,
    )
    command(
        subjects.tasks("{node_type}"),
        "node tasks",
        "executor → runner of one node type (stream PILOT_TASKS; one durable per type)",
        NodeTask,
    )
    command(
        subjects.RESULTS,
        "node results",
        "runner → executor: streamed chunks (`kind: chunk`) and one result per attempt",
        NodeChunk | NodeResult,
    )
    for subject, title, reply, model in (
        (subjects.TEMPLATES_LIST, "templates", "TemplateListReply", TemplateListQuery),
        (subjects.TEMPLATES_GET, "template", "TemplateReply", TemplateQuery),
        (subjects.TEMPLATES_RECOMMEND, "recommend", "RecommendReply", RecommendQuery),
        (subjects.TEMPLATES_INSTANTIATE, "instantiate", "InstantiateReply", InstantiateRequest),
        (subjects.OPTIMIZATIONS, "optimizations", "OptimizeReply", OptimizeQuery),
    ):
        command(
            subject,
            title,
            f"gateway → planner, core NATS request/reply (no stream): answered with {reply}",
            model,
        )
    broker.publisher(
        subjects.generation_events("{generation_id}"),
        title="generation events",
        description="planner/generator → the gateway waiting on a generation (PILOT_EVENTS)",
        schema=GenerationEvent,
    )
    broker.publisher(
        subjects.execution_events("{workflow_id}", "{execution_id}"),
        title="execution events",
        description="executor → everyone following an execution; `seq` increases by one "
        "per execution, starting at 1 (PILOT_EVENTS)",
        schema=ExecutionEvent,
    )
    broker.publisher(
        subjects.workflow_events("{workflow_id}"),
        title="workflow changes",
        description="gateway → gateways: saved versions and sharing changes, relayed to "
        "the collaboration WebSockets",
        schema=WorkflowChange,
    )
    return broker


@lru_cache(maxsize=4)
def specification_json(nats_url: str, version: str) -> str:
    spec = AsyncAPI(
        describe_bus(nats_url), title=TITLE, version=version, description=DESCRIPTION
    ).to_specification()
    return str(spec.to_json())


@router.get(
    "/asyncapi.json",
    summary="AsyncAPI document of the bus (generated by FastStream)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def asyncapi_json(settings: SettingsDep) -> JSONResponse:
    return JSONResponse(json.loads(specification_json(settings.nats_url, "0.1.0")))


@router.get(
    "/asyncapi",
    summary="AsyncAPI documentation of the bus (HTML)",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def asyncapi_html(settings: SettingsDep) -> HTMLResponse:
    spec = AsyncAPI(
        describe_bus(settings.nats_url), title=TITLE, version="0.1.0", description=DESCRIPTION
    ).to_specification()
    return HTMLResponse(get_asyncapi_html(spec, try_it_out_path=None))
