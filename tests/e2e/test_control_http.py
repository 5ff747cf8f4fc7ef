"""Execution control over HTTP against `pilot up`: cancel a running execution, re-run from
a node reusing upstream outputs, and read the execution log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PilotUp

pytestmark = pytest.mark.e2e


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def workflow(
    nodes: list[dict[str, Any]], edges: list[tuple[str, str, str | None]]
) -> dict[str, Any]:
    return {
        "name": "control",
        "nodes": nodes,
        "connections": [
            {"id": f"c{i}", "source": s, "target": t, "source_handle": h}
            for i, (s, t, h) in enumerate(edges, 1)
        ],
    }


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    r = await client.post("/api/workflows", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def status_of(client: httpx.AsyncClient, execution_id: str) -> str | None:
    """None until the execution exists: a re-run's id is answered (202) before the
    executor has stored the new execution."""
    r = await client.get(f"/api/executions/{execution_id}")
    return str(r.json()["status"]) if r.status_code == 200 else None


async def test_cancel_a_running_execution(pilot_up: PilotUp) -> None:
    long_loop = workflow(
        [
            {"id": "input_1", "type": "input"},
            {
                "id": "loop_1",
                "type": "loop",
                "config": {"items": "{{ input.items }}", "body": ["llm_1"], "concurrency": 1},
            },
            {"id": "llm_1", "type": "llm", "config": {"prompt": "Item {{ item }}"}},
            {"id": "output_1", "type": "output", "config": {"value": "{{ nodes.loop_1.output }}"}},
        ],
        [("input_1", "loop_1", None), ("loop_1", "llm_1", "body"), ("loop_1", "output_1", None)],
    )
    async with pilot_up.client(timeout=60) as client:
        wf = await create(client, long_loop)
        r = await client.post(
            f"/api/workflows/{wf}/execute", json={"input_data": {"items": list(range(100))}}
        )
        assert r.status_code == 202, r.text
        eid = r.json()["execution_id"]

        async def some_body_runs() -> bool:
            r = await client.get(f"/api/executions/{eid}/nodes", params={"node_id": "llm_1"})
            return r.status_code == 200 and r.json()["total"] >= 2

        await eventually(some_body_runs, "the loop body to run")
        r = await client.post(f"/api/executions/{eid}/cancel", json={"reason": "enough"})
        assert r.status_code == 202, r.text

        async def cancelled() -> bool:
            return await status_of(client, eid) == "cancelled"

        await eventually(cancelled, "the execution to be cancelled")
        async with client.stream("GET", f"/api/executions/{eid}/events") as stream:
            lines = [line async for line in stream.aiter_lines() if line.startswith("event:")]
        assert lines[-1] == "event: execution.cancelled"
        ran = (await client.get(f"/api/executions/{eid}/nodes", params={"node_id": "llm_1"})).json()
        assert ran["total"] < 100  # it stopped before the end
        again = await client.post(f"/api/executions/{eid}/cancel")
        assert again.status_code == 400 and "already finished" in again.json()["detail"]


async def test_rerun_from_a_node_reuses_upstream_outputs(pilot_up: PilotUp) -> None:
    chain = workflow(
        [
            {"id": "input_1", "type": "input"},
            {"id": "llm_1", "type": "llm", "config": {"prompt": "Summarize {{ input.text }}"}},
            {
                "id": "output_1",
                "type": "output",
                "config": {"mapping": {"summary": "{{ nodes.llm_1.output }}"}},
            },
        ],
        [("input_1", "llm_1", None), ("llm_1", "output_1", None)],
    )
    async with pilot_up.client(timeout=60) as client:
        wf = await create(client, chain)
        r = await client.post(f"/api/workflows/{wf}/execute", json={"input_data": {"text": "hi"}})
        first = r.json()["execution_id"]

        async def done() -> bool:
            return await status_of(client, first) == "completed"

        await eventually(done, "the first execution")
        refused = await client.post(f"/api/executions/{first}/rerun", json={})
        assert refused.status_code == 400 and "name the node" in refused.json()["detail"]

        r = await client.post(
            f"/api/executions/{first}/rerun", json={"from_node_ids": ["output_1"]}
        )
        assert r.status_code == 202, r.text
        second = r.json()["execution_id"]
        assert second != first

        async def rerun_done() -> bool:
            return await status_of(client, second) == "completed"

        await eventually(rerun_done, "the re-run")
        a = (await client.get(f"/api/executions/{first}")).json()
        b = (await client.get(f"/api/executions/{second}")).json()
        assert b["output"] == a["output"]  # llm_1's output was reused, not recomputed
        runs = (await client.get(f"/api/executions/{second}/nodes")).json()["items"]
        assert [r["node_id"] for r in runs] == ["output_1"]

        listed = await client.get(
            "/api/executions", params={"workflow_id": wf, "status": "completed", "limit": 10}
        )
        assert listed.status_code == 200
        ids = {e["id"] for e in listed.json()["items"]}
        assert {first, second} <= ids
