"""The gateway on a real uvicorn server, real NATS and the real store, with stand-ins for
the services behind it; plus the operational endpoints (health, readiness, metrics, docs).

The other `test_gateway_*` modules import the helpers from here: the gateway serves in a
background thread with its own event loop (as it would in its own process), while the
stand-ins and the test talk to it over HTTP and NATS from the test's loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx
import nats
import pytest
import uvicorn
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from pymongo.asynchronous.database import AsyncDatabase

from pilot.embedded import ManagedProcess, free_port
from pilot_gateway.app import create_app
from pilot_gateway.server import GatewayServer
from pilot_gateway.settings import GatewaySettings
from pilot_shared import subjects
from pilot_shared.accounts import create_user
from pilot_shared.bus import MSG_ID_HEADER
from pilot_shared.contracts import (
    TERMINAL_EVENT_TYPES,
    ExecutionEvent,
    GenerationEvent,
    NodeRun,
    PlanRequest,
    RunRequest,
    Workflow,
)
from pilot_shared.repositories import (
    EventRepository,
    ExecutionRepository,
    NodeRunRepository,
    WorkflowRepository,
)
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document, create_store_client

# --- waiting on conditions (never fixed sleeps) ---------------------------------------


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.02)


def error_of(r: httpx.Response) -> dict[str, Any]:
    """An error body without its request id, after checking the id is the response's."""
    body = dict(r.json())
    assert body.pop("request_id") == r.headers["x-request-id"], body
    return body


# --- the gateway under test -----------------------------------------------------------


def gateway_settings(settings: PilotSettings, **overrides: Any) -> GatewaySettings:
    return GatewaySettings.model_validate({**settings.model_dump(), **overrides})


@dataclass
class Gateway:
    base_url: str
    settings: GatewaySettings
    server: GatewayServer
    thread: threading.Thread
    admin_key: str = ""

    async def stop(self) -> None:
        """Shut the gateway down as SIGTERM would, and wait until it has."""
        self.server.begin_shutdown()
        await asyncio.to_thread(self.thread.join, 15)
        assert not self.thread.is_alive(), "the gateway did not shut down"

    def client(self, api_key: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        """A client authenticated as the admin, or with `api_key` ("" for none)."""
        key = self.admin_key if api_key is None else api_key
        headers = dict(kwargs.pop("headers", {}))
        if key:
            headers.setdefault("Authorization", f"Bearer {key}")
        return httpx.AsyncClient(
            base_url=self.base_url, timeout=kwargs.pop("timeout", 20), headers=headers, **kwargs
        )

    @property
    def ws_base(self) -> str:
        return self.base_url.replace("http://", "ws://")

    async def create_user(self, username: str) -> str:
        """A new user (made by the admin through the API); returns their API key."""
        async with self.client() as client:
            r = await client.post("/api/users", json={"username": username})
            assert r.status_code == 201, r.text
            return str(r.json()["api_key"])


async def create_admin_key(settings: PilotSettings) -> str:
    client = create_store_client(settings.mongodb_url)
    try:
        _, key = await create_user(client[settings.mongodb_db], f"admin-{uuid4().hex[:8]}", "admin")
    finally:
        await client.close()
    return key


@asynccontextmanager
async def running_gateway(settings: GatewaySettings) -> AsyncIterator[Gateway]:
    port = free_port()
    app = create_app(settings)
    # A long grace period: a test that leaves the shutdown to it would be slow to pass.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=10
    )
    server = GatewayServer(app, config)
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the gateway exited during start-up (see the log above)")
        if time.monotonic() > deadline:
            raise TimeoutError("the gateway did not start")
        await asyncio.sleep(0.01)
    gateway = Gateway(
        f"http://127.0.0.1:{port}", settings, server, thread, await create_admin_key(settings)
    )
    try:
        yield gateway
    finally:
        await gateway.stop()


# --- SSE reading ----------------------------------------------------------------------


@dataclass
class Frame:
    id: str | None
    event: str | None
    data: Any


async def sse_frames(response: httpx.Response) -> AsyncIterator[Frame]:
    """Frames of an SSE body as they arrive; comments (keep-alives) are skipped."""
    fields: dict[str, str] = {}
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield Frame(fields.get("id"), fields.get("event"), json.loads("\n".join(data)))
            fields, data = {}, []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value


async def read_until_terminal(response: httpx.Response) -> list[Frame]:
    frames = []
    async for frame in sse_frames(response):
        frames.append(frame)
        if frame.event in TERMINAL_EVENT_TYPES:
            break
    return frames


# --- workflows ------------------------------------------------------------------------


def simple_workflow_json(name: str = "Support bot") -> dict[str, Any]:
    return {
        "name": name,
        "nodes": [
            {
                "id": "input_1",
                "type": "input",
                "config": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "user_message": {"type": "string"},
                            "n": {"type": "integer"},
                        },
                        "required": ["user_message"],
                    }
                },
            },
            {
                "id": "llm_1",
                "type": "llm",
                "config": {"prompt": "Answer: {{ input.user_message }}"},
            },
            {"id": "output_1", "type": "output", "config": {"value": "{{ nodes.llm_1.output }}"}},
        ],
        "connections": [
            {"id": "c1", "source": "input_1", "target": "llm_1"},
            {"id": "c2", "source": "llm_1", "target": "output_1"},
        ],
    }


def simple_workflow(name: str = "Support bot") -> Workflow:
    return Workflow.model_validate(simple_workflow_json(name))


# --- stand-ins for the services behind the gateway ------------------------------------


async def js_publish(nc: NatsClient, subject: str, payload: bytes, msg_id: str) -> None:
    """Publish to the events stream the way the services do (with a msg id)."""
    await nc.jetstream().publish(subject, payload, headers={MSG_ID_HEADER: msg_id})


@dataclass
class FakePlanner:
    """Plays the planner and the generator: answers each PlanRequest with
    `generation.planned`, then what `respond` returns (storing its workflow first)."""

    nc: NatsClient
    db: AsyncDatabase[Document]
    respond: Callable[[PlanRequest], GenerationEvent]
    requests: list[PlanRequest] = field(default_factory=list)

    async def start(self) -> FakePlanner:
        await self.nc.subscribe(subjects.PLAN, cb=self._on_plan)
        await self.nc.flush()
        return self

    async def _on_plan(self, msg: Msg) -> None:
        request = PlanRequest.model_validate_json(msg.data)
        self.requests.append(request)
        gid = request.generation_id
        planned = GenerationEvent(generation_id=gid, type="generation.planned")
        await js_publish(
            self.nc,
            subjects.generation_events(gid),
            planned.model_dump_json().encode(),
            f"{gid}:planned",
        )
        event = self.respond(request)
        if event.workflow is not None:
            # as the real generator does: the workflow belongs to who asked for it
            event.workflow = event.workflow.model_copy(update={"owner_id": request.owner_id})
            await WorkflowRepository(self.db).insert(event.workflow)
        await js_publish(
            self.nc,
            subjects.generation_events(gid),
            event.model_dump_json().encode(),
            f"{gid}:{event.type}",
        )


Step = tuple[str, str | None, dict[str, Any]]

DEFAULT_SCRIPT: list[Step] = [
    ("execution.started", None, {}),
    ("node.started", "input_1", {}),
    ("node.completed", "input_1", {"output": {"user_message": "hi"}}),
    ("node.started", "llm_1", {}),
    ("node.chunk", "llm_1", {"text": "Hello"}),
    ("node.chunk", "llm_1", {"text": " there"}),
    ("node.completed", "llm_1", {"output": "Hello there"}),
    ("node.started", "output_1", {}),
    ("node.completed", "output_1", {"output": "Hello there"}),
    ("execution.completed", None, {"output": "Hello there"}),
]


@dataclass
class FakeExecutor:
    """Plays the executor: for each RunRequest it emits `script`, taking seq numbers from
    the execution document and storing each event *before* publishing it, as the real
    executor does. `pause_after` holds the run until `gate` is set; seqs in `unpublished`
    are stored but never published (a lost live message); seqs in `duplicated` are
    published twice."""

    nc: NatsClient
    db: AsyncDatabase[Document]
    script: list[Step] = field(default_factory=lambda: list(DEFAULT_SCRIPT))
    pause_after: int | None = None
    unpublished: set[int] = field(default_factory=set)
    duplicated: set[int] = field(default_factory=set)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    runs: list[RunRequest] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> FakeExecutor:
        await self.nc.subscribe(subjects.RUN, cb=self._on_run)
        await self.nc.flush()
        return self

    async def _on_run(self, msg: Msg) -> None:
        request = RunRequest.model_validate_json(msg.data)
        self.runs.append(request)
        task = asyncio.create_task(self._run(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, request: RunRequest) -> None:
        executions = ExecutionRepository(self.db)
        events = EventRepository(self.db)
        eid, wid = request.execution_id, request.workflow_id
        await executions.set_fields(eid, {"status": "running"})
        subject = subjects.execution_events(wid, eid)
        for index, (type_, node_id, data) in enumerate(self.script, start=1):
            if self.pause_after is not None and index == self.pause_after + 1:
                await self.gate.wait()
            seq = await executions.allocate_seq(eid)
            event = ExecutionEvent(
                execution_id=eid,
                workflow_id=wid,
                seq=seq,
                type=type_,
                node_id=node_id,
                data=data,
            )
            await events.insert_many([event])
            if type_ == "node.completed" and node_id:
                await NodeRunRepository(self.db).upsert(
                    NodeRun(
                        id=f"{eid}:{node_id}::1",
                        execution_id=eid,
                        workflow_id=wid,
                        node_id=node_id,
                        node_type=node_id.split("_")[0],
                        attempt=1,
                        status="completed",
                        output=data.get("output"),
                        started_at=event.ts,
                    )
                )
            if type_ in TERMINAL_EVENT_TYPES:
                await executions.set_fields(
                    eid, {"status": type_.split(".")[1], "output": data.get("output")}
                )
            payload = event.model_dump_json().encode()
            if seq not in self.unpublished:
                await js_publish(self.nc, subject, payload, f"{eid}:event:{seq}")
            if seq in self.duplicated:
                await self.nc.publish(subject, payload)  # core: bypasses stream dedup


@pytest.fixture
async def bus(settings: PilotSettings) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(settings.nats_url)
    yield nc
    await nc.drain()


@pytest.fixture
async def gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings)) as gw:
        yield gw


# --- operational endpoints ------------------------------------------------------------


async def test_healthz_and_readyz(gateway: Gateway) -> None:
    async with gateway.client() as client:
        r = await client.get("/healthz")
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        r = await client.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "ready", "checks": {"nats": "ok", "store": "ok"}}


async def test_readyz_names_nats_when_it_is_down(
    settings: PilotSettings, nats_proc: ManagedProcess
) -> None:
    async with running_gateway(gateway_settings(settings)) as gw, gw.client() as client:
        nats_proc.kill()
        last: dict[str, Any] = {}

        async def not_ready() -> bool:
            nonlocal last
            r = await client.get("/readyz")
            last = r.json()
            return r.status_code == 503

        await eventually(not_ready, what="readyz to report NATS down")
        assert last["error"] == "not_ready"
        assert last["detail"].startswith("nats:")
        assert last["checks"]["store"] == "ok" and last["checks"]["nats"] != "ok"
        assert (await client.get("/healthz")).status_code == 200


async def test_metrics_expose_bounded_http_labels(gateway: Gateway) -> None:
    async with gateway.client() as client:
        assert (await client.get("/api/workflows/no-such-id")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200
        r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "pilot_http_request_duration_seconds_bucket" in text
    assert 'route="/api/workflows/{workflow_id}"' in text and 'status="404"' in text
    assert 'route="/healthz"' in text
    assert "no-such-id" not in text  # ids never become label values


async def test_openapi_and_docs_are_served(gateway: Gateway) -> None:
    async with gateway.client() as client:
        r = await client.get("/openapi.json")
        assert r.status_code == 200
        spec = r.json()
        for path in (
            "/api/workflows/generate",
            "/api/workflows",
            "/api/workflows/{workflow_id}",
            "/api/workflows/{workflow_id}/execute",
            "/api/executions/{execution_id}",
            "/api/executions/{execution_id}/events",
            "/healthz",
            "/readyz",
            "/metrics",
        ):
            assert path in spec["paths"], path
        generate = spec["components"]["schemas"]["GenerateWorkflowRequest"]
        assert generate["examples"][0]["prompt"]
        create = spec["paths"]["/api/workflows"]["post"]["requestBody"]["content"]
        assert "customer_support" in create["application/json"]["examples"]
        docs = await client.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_shutdown_ends_open_streams_at_once(gateway: Gateway) -> None:
    async with gateway.client() as client:
        r = await client.post("/api/workflows", json=simple_workflow_json())
        workflow_id = r.json()["id"]
        # No executor: the execution stays pending and its stream stays open.
        r = await client.post(
            f"/api/workflows/{workflow_id}/execute", json={"input_data": {"user_message": "hi"}}
        )
        execution_id = r.json()["execution_id"]
        async with client.stream("GET", f"/api/executions/{execution_id}/events") as r:
            assert r.status_code == 200
            started = time.monotonic()
            stopping = asyncio.create_task(gateway.stop())
            assert [line async for line in r.aiter_lines() if line.startswith("data:")] == []
        await stopping
    # well inside the 10 s grace period the server would otherwise wait out
    assert time.monotonic() - started < 5


async def test_unknown_route_is_a_json_404(gateway: Gateway) -> None:
    async with gateway.client() as client:
        r = await client.get("/api/nothing-here")
        assert r.status_code == 404
        assert error_of(r) == {"error": "not_found", "detail": "Not Found"}
        r = await client.delete("/healthz")
        assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
