"""POST /api/workflows/generate against a stand-in planner/generator on real NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client as NatsClient
from pymongo.asynchronous.database import AsyncDatabase

from pilot.embedded import ManagedProcess
from pilot_shared.contracts import GenerationEvent, PlanRequest
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from pilot_shared.subjects import COMMANDS
from tests.integration.test_gateway_harness import (
    FakePlanner,
    Gateway,
    error_of,
    gateway_settings,
    running_gateway,
    simple_workflow,
    sse_frames,
)


@pytest.fixture
async def bus(settings: PilotSettings) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(settings.nats_url)
    yield nc
    await nc.drain()


@pytest.fixture
async def gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings, max_prompt_chars=5_000)) as gw:
        yield gw


def _completes(request: PlanRequest) -> GenerationEvent:
    workflow = simple_workflow(f"from: {request.prompt[:20]}")
    return GenerationEvent(
        generation_id=request.generation_id,
        type="generation.completed",
        workflow_id=workflow.id,
        workflow=workflow,
    )


def _fails(request: PlanRequest) -> GenerationEvent:
    return GenerationEvent(
        generation_id=request.generation_id,
        type="generation.failed",
        error="the prompt asks for nothing a workflow can do",
    )


async def _commands_queued(nc: NatsClient) -> int:
    return int((await nc.jetstream().stream_info(COMMANDS.name)).state.messages)


async def test_generate_returns_the_stored_workflow(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    planner = await FakePlanner(bus, db, _completes).start()
    async with gateway.client() as client:
        r = await client.post(
            "/api/workflows/generate",
            json={
                "prompt": "  创建一个客户支持聊天机器人 ",
                "user_preferences": {"complexity": "simple", "integrations": ["slack", "email"]},
            },
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["workflow_id"] == body["workflow"]["id"]
        assert body["generation_id"] == planner.requests[0].generation_id
        assert {n["type"] for n in body["workflow"]["nodes"]} == {"input", "llm", "output"}

        stored = await client.get(f"/api/workflows/{body['workflow_id']}")
        assert stored.status_code == 200 and stored.json() == body["workflow"]

    [request] = planner.requests
    assert request.prompt == "创建一个客户支持聊天机器人"
    assert request.user_preferences.complexity == "simple"
    assert request.user_preferences.integrations == ["slack", "email"]


async def test_a_failed_generation_is_a_422_with_the_reason(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    await FakePlanner(bus, db, _fails).start()
    async with gateway.client() as client:
        r = await client.post("/api/workflows/generate", json={"prompt": "do a thing"})
    assert r.status_code == 422
    assert r.json()["error"] == "generation_failed"
    assert r.json()["detail"] == "the prompt asks for nothing a workflow can do"


async def test_generation_events_as_sse(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    await FakePlanner(bus, db, _completes).start()
    async with (
        gateway.client() as client,
        client.stream(
            "POST",
            "/api/workflows/generate",
            params={"stream": "true"},
            json={"prompt": "summarize"},
        ) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        frames = [f async for f in sse_frames(r)]
    assert [f.event for f in frames] == ["generation.planned", "generation.completed"]
    assert frames[1].data["workflow"]["nodes"]


async def test_prompts_that_cannot_be_planned_are_refused_before_publishing(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    planner = await FakePlanner(bus, db, _completes).start()
    async with gateway.client() as client:
        for prompt in ("", "   \n\t "):
            r = await client.post("/api/workflows/generate", json={"prompt": prompt})
            assert r.status_code == 422, r.text
            assert error_of(r) == {"error": "invalid_prompt", "detail": "the prompt is empty"}

        r = await client.post("/api/workflows/generate", json={"prompt": "x" * 5_001})
        assert r.status_code == 422
        assert r.json()["error"] == "invalid_prompt" and "5,000" in r.json()["detail"]

        r = await client.post("/api/workflows/generate", json={})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "prompt"]

        r = await client.post(
            "/api/workflows/generate",
            json={"prompt": "hi", "user_preferences": {"complexity": "extreme"}},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "user_preferences", "complexity"]
    assert planner.requests == []
    assert await _commands_queued(bus) == 0


async def test_a_2mb_prompt_gets_a_413_and_the_server_keeps_running(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    planner = await FakePlanner(bus, db, _completes).start()
    huge = "x" * (2 * 1024 * 1024)
    async with gateway.client() as client:
        r = await client.post("/api/workflows/generate", json={"prompt": huge})
        assert r.status_code == 413
        assert r.json()["error"] == "payload_too_large"
        assert "1,000,000 bytes" in r.json()["detail"]

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: bytes are counted
            yield b'{"prompt": "'
            for _ in range(32):
                yield b"y" * 65_536
            yield b'"}'

        r = await client.post(
            "/api/workflows/generate",
            content=chunked(),
            headers={"Content-Type": "application/json"},
        )
        assert "content-length" not in r.request.headers
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"

        assert (await client.get("/healthz")).status_code == 200
        r = await client.post("/api/workflows/generate", json={"prompt": "still here?"})
        assert r.status_code == 201
    assert len(planner.requests) == 1


async def test_no_answer_is_a_504(settings: PilotSettings) -> None:
    async with (
        running_gateway(gateway_settings(settings, generate_timeout_s=0.3)) as gw,
        gw.client() as client,
    ):
        r = await client.post("/api/workflows/generate", json={"prompt": "anyone there?"})
    assert r.status_code == 504
    assert r.json()["error"] == "generation_timeout" and "0.3s" in r.json()["detail"]


async def test_the_bus_being_down_is_a_503(
    settings: PilotSettings, nats_proc: ManagedProcess
) -> None:
    async with running_gateway(gateway_settings(settings)) as gw, gw.client() as client:
        nats_proc.kill()
        r = await client.post("/api/workflows/generate", json={"prompt": "hello"})
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "unavailable"
        assert (await client.get("/healthz")).status_code == 200
