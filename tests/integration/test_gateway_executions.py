"""Running workflows through the gateway and following them: 202, SSE on execute,
resumable SSE, the execution document, the workflow WebSocket. A stand-in executor on
real NATS plays the executor."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import nats
import pytest
import websockets
from nats.aio.client import Client as NatsClient
from pymongo.asynchronous.database import AsyncDatabase

from pilot.embedded import ManagedProcess
from pilot_shared.contracts import TERMINAL_EVENT_TYPES
from pilot_shared.repositories import EventRepository, ExecutionRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import EXECUTIONS, Document
from tests.integration.test_gateway_harness import (
    DEFAULT_SCRIPT,
    FakeExecutor,
    Frame,
    Gateway,
    Step,
    eventually,
    gateway_settings,
    read_until_terminal,
    running_gateway,
    simple_workflow_json,
    sse_frames,
)

N_EVENTS = len(DEFAULT_SCRIPT)


@pytest.fixture
async def bus(settings: PilotSettings) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(settings.nats_url)
    yield nc
    await nc.drain()


@pytest.fixture
async def gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings, sse_keepalive_s=0.2)) as gw:
        yield gw


async def _create_workflow(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.post("/api/workflows", json=simple_workflow_json())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _assert_in_order(frames: list[Frame], first: int, last: int) -> None:
    seqs = [f.data["seq"] for f in frames]
    assert seqs == list(range(first, last + 1)), seqs
    assert [int(f.id) for f in frames if f.id is not None] == seqs
    assert all(f.event == f.data["type"] for f in frames)


async def test_execute_returns_202_and_the_run_is_requested(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    executor = await FakeExecutor(bus, db).start()
    async with gateway.client() as client:
        workflow = await _create_workflow(client)
        r = await client.post(
            f"/api/workflows/{workflow['id']}/execute",
            json={"input_data": {"user_message": "我需要帮助"}},
        )
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["status"] == "running" and body["workflow_id"] == workflow["id"]
        execution_id = body["execution_id"]

        async def finished() -> bool:
            r = await client.get(f"/api/executions/{execution_id}")
            return bool(r.status_code == 200 and r.json()["status"] == "completed")

        await eventually(finished, what="the execution to complete")
        execution = (await client.get(f"/api/executions/{execution_id}")).json()

    assert [(run.execution_id, run.workflow_id) for run in executor.runs] == [
        (execution_id, workflow["id"])
    ]
    assert execution["input_data"] == {"user_message": "我需要帮助"}
    assert execution["workflow_version"] == 1 and execution["output"] == "Hello there"
    assert {run["node_id"] for run in execution["node_runs"]} == {"input_1", "llm_1", "output_1"}
    for key in ("node_states", "usage", "created_at", "last_seq"):
        assert key in execution


async def test_execute_refuses_what_it_cannot_run(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    executor = await FakeExecutor(bus, db).start()
    async with gateway.client() as client:
        r = await client.post("/api/workflows/nope/execute", json={"input_data": {}})
        assert r.status_code == 404 and r.json()["error"] == "not_found"

        workflow = await _create_workflow(client)
        url = f"/api/workflows/{workflow['id']}/execute"
        r = await client.post(url, json={"input_data": {}})
        assert r.status_code == 422
        body = r.json()
        assert body["error"] == "invalid_input"
        assert "user_message" in body["detail"] and "required" in body["detail"]
        assert body["errors"][0]["loc"] == ["input_data", "user_message"]

        r = await client.post(url, json={"input_data": {"user_message": "hi", "n": "three"}})
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["input_data", "n"]

        r = await client.post(url, json={"input_data": "not an object"})
        assert r.status_code == 422 and r.json()["error"] == "validation"

        r = await client.get("/api/executions/nope")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        r = await client.get("/api/executions/nope/events")
        assert r.status_code == 404 and r.json()["error"] == "not_found"

    assert executor.runs == []
    assert await db[EXECUTIONS].count_documents({}) == 0


async def test_execute_with_accept_event_stream_streams_the_run(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    await FakeExecutor(bus, db).start()
    async with gateway.client() as client:
        workflow = await _create_workflow(client)
        async with client.stream(
            "POST",
            f"/api/workflows/{workflow['id']}/execute",
            json={"input_data": {"user_message": "hi"}},
            headers={"Accept": "text/event-stream"},
        ) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-cache"
            frames = [f async for f in sse_frames(r)]  # the server ends the stream itself
    _assert_in_order(frames, 1, N_EVENTS)
    assert frames[0].event == "execution.started"
    assert frames[-1].event == "execution.completed"
    assert frames[-1].data["data"]["output"] == "Hello there"


async def test_events_resume_after_last_event_id_without_gaps_or_duplicates(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    # Three events happen before the client connects; the rest after. Live, seq 6 is
    # published twice and seq 8 never (the store has it): the client sees each once.
    executor = await FakeExecutor(bus, db, pause_after=3, duplicated={6}, unpublished={8}).start()
    events = EventRepository(db)
    async with gateway.client() as client:
        workflow = await _create_workflow(client)
        r = await client.post(
            f"/api/workflows/{workflow['id']}/execute", json={"input_data": {"user_message": "hi"}}
        )
        execution_id = r.json()["execution_id"]

        async def three_stored() -> bool:
            return len(await events.list_after(execution_id)) == 3

        await eventually(three_stored, what="the first three events")

        frames: list[Frame] = []
        async with client.stream(
            "GET", f"/api/executions/{execution_id}/events", headers={"Last-Event-ID": "1"}
        ) as r:
            assert r.status_code == 200
            async for frame in sse_frames(r):
                frames.append(frame)
                if frame.data["seq"] == 3:
                    executor.gate.set()  # the rest of the run happens while we are connected
            # the loop ends because the server closed the stream after the terminal event
    _assert_in_order(frames, 2, N_EVENTS)
    assert frames[-1].event in TERMINAL_EVENT_TYPES

    # A reconnect from the middle replays exactly the rest, then closes (already finished).
    async with (
        gateway.client() as client,
        client.stream(
            "GET", f"/api/executions/{execution_id}/events", headers={"Last-Event-ID": "7"}
        ) as r,
    ):
        replay = [f async for f in sse_frames(r)]
    _assert_in_order(replay, 8, N_EVENTS)
    assert [f.data for f in replay] == [f.data for f in frames[6:]]

    async with (
        gateway.client() as client,
        client.stream(
            "GET", f"/api/executions/{execution_id}/events", params={"after": N_EVENTS - 1}
        ) as r,
    ):
        assert [f.data["seq"] for f in await read_until_terminal(r)] == [N_EVENTS]


async def test_a_stream_opened_before_the_first_event_gets_all_of_them(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    executor = await FakeExecutor(bus, db, pause_after=0).start()
    async with gateway.client() as client:
        workflow = await _create_workflow(client)
        r = await client.post(
            f"/api/workflows/{workflow['id']}/execute", json={"input_data": {"user_message": "hi"}}
        )
        execution_id = r.json()["execution_id"]
        async with client.stream("GET", f"/api/executions/{execution_id}/events") as r:
            lines = r.aiter_lines()
            # A keep-alive comment proves the stream is open and idle before any event.
            assert await anext(lines) == ": keepalive"
            executor.gate.set()
            body = "\n".join([line async for line in lines])
    frames = [
        json.loads(line.removeprefix("data: "))
        for line in body.splitlines()
        if line.startswith("data: ")
    ]
    assert [f["seq"] for f in frames] == list(range(1, N_EVENTS + 1))


async def test_a_bad_last_event_id_is_a_400(gateway: Gateway) -> None:
    # No executor: the execution stays pending, which is all this needs.
    async with gateway.client() as client:
        workflow = await _create_workflow(client)
        r = await client.post(
            f"/api/workflows/{workflow['id']}/execute", json={"input_data": {"user_message": "hi"}}
        )
        r = await client.get(
            f"/api/executions/{r.json()['execution_id']}/events", headers={"Last-Event-ID": "seven"}
        )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"


async def test_an_execution_that_ended_without_a_terminal_event_closes_the_stream(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    script: list[Step] = [("execution.started", None, {}), ("node.started", "input_1", {})]
    await FakeExecutor(bus, db, script=script).start()
    async with gateway.client() as client:
        workflow = await _create_workflow(client)
        r = await client.post(
            f"/api/workflows/{workflow['id']}/execute", json={"input_data": {"user_message": "hi"}}
        )
        execution_id = r.json()["execution_id"]
        async with client.stream("GET", f"/api/executions/{execution_id}/events") as r:
            frames = []
            async for frame in sse_frames(r):
                frames.append(frame)
                if len(frames) == 2:  # e.g. cancelled by an operator straight in the store
                    await ExecutionRepository(db).set_fields(execution_id, {"status": "cancelled"})
    assert [f.data["seq"] for f in frames] == [1, 2]


async def test_the_workflow_websocket_relays_every_execution_event(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    executor = await FakeExecutor(bus, db, pause_after=0).start()
    async with gateway.client() as client:
        workflow = await _create_workflow(client)
        ws_url = gateway.base_url.replace("http://", "ws://") + f"/ws/workflow/{workflow['id']}"
        auth = {"Authorization": f"Bearer {gateway.admin_key}"}
        async with websockets.connect(ws_url, additional_headers=auth) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
            for _ in range(2):
                r = await client.post(
                    f"/api/workflows/{workflow['id']}/execute",
                    json={"input_data": {"user_message": "hi"}},
                )
                assert r.status_code == 202
            executor.gate.set()
            received: list[dict[str, Any]] = []
            while sum(e["type"] == "execution.completed" for e in received) < 2:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        by_execution: dict[str, list[int]] = {}
        for event in received:
            assert event["workflow_id"] == workflow["id"]
            by_execution.setdefault(event["execution_id"], []).append(event["seq"])
        assert len(by_execution) == 2
        for seqs in by_execution.values():
            assert sorted(seqs) == list(range(1, N_EVENTS + 1))

        async with websockets.connect(
            ws_url.replace(workflow["id"], "nope"), additional_headers=auth
        ) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404


async def test_execute_while_the_bus_is_down_is_a_503_and_stores_nothing(
    settings: PilotSettings, nats_proc: ManagedProcess, db: AsyncDatabase[Document]
) -> None:
    async with running_gateway(gateway_settings(settings)) as gw, gw.client() as client:
        workflow = await _create_workflow(client)
        nats_proc.kill()

        async def refused() -> bool:
            r = await client.post(
                f"/api/workflows/{workflow['id']}/execute",
                json={"input_data": {"user_message": "hi"}},
            )
            return r.status_code == 503 and r.json()["error"] == "unavailable"

        await eventually(refused, what="execute to report the bus down")
        # input is still checked first: a bad request is a 422 whatever the bus does
        r = await client.post(f"/api/workflows/{workflow['id']}/execute", json={"input_data": {}})
        assert r.status_code == 422
    assert await db[EXECUTIONS].count_documents({}) == 0
