"""The README walk-through, over HTTP, against `pilot up` with every service a process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PilotUp, start_pilot_up
from tests.support.sse import read_sse

pytestmark = pytest.mark.e2e

PROMPT = "创建一个客户支持聊天机器人"


async def _generate(client: httpx.AsyncClient, prompt: str = PROMPT) -> dict[str, Any]:
    r = await client.post(
        "/api/workflows/generate",
        json={
            "prompt": prompt,
            "user_preferences": {"complexity": "simple", "integrations": []},
        },
    )
    assert r.status_code in (200, 201), r.text
    body = r.json()
    assert body["workflow_id"] == body["workflow"]["id"]
    return body["workflow"]  # type: ignore[no-any-return]


async def _logged(up: PilotUp, text: str, timeout_s: float = 30) -> None:
    """Wait until `pilot up` has printed `text` (it prints after the gateway is ready)."""
    deadline = time.monotonic() + timeout_s
    while text not in up.log_path.read_text():
        if time.monotonic() > deadline:
            pytest.fail(f"pilot up did not print {text!r}")
        await asyncio.sleep(0.1)


async def _execute_streaming(
    client: httpx.AsyncClient, workflow_id: str, input_data: dict[str, Any]
) -> list[Any]:
    frames = []
    async with client.stream(
        "POST",
        f"/api/workflows/{workflow_id}/execute",
        json={"input_data": input_data},
        headers={"Accept": "text/event-stream"},
    ) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        async for frame in read_sse(r):
            frames.append(frame)
            if frame.event in ("execution.completed", "execution.failed", "execution.cancelled"):
                break
    return frames


async def test_original_plan_example_end_to_end(pilot_up: PilotUp) -> None:
    async with pilot_up.client() as client:
        workflow = await _generate(client)
        types = {n["type"] for n in workflow["nodes"]}
        assert {"input", "llm", "output"} <= types
        assert workflow["estimated_cost"] >= 0 and workflow["execution_time"]

        got = await client.get(f"/api/workflows/{workflow['id']}")
        assert got.status_code == 200 and got.json()["nodes"] == workflow["nodes"]

        frames = await _execute_streaming(client, workflow["id"], {"user_message": "我需要帮助"})
        events = [f.data for f in frames]
        assert [int(f.id) for f in frames] == list(range(1, len(frames) + 1))
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert events[0]["type"] == "execution.started"
        assert events[-1]["type"] == "execution.completed", events[-1]
        assert events[-1]["data"]["output"], "the execution's output is empty"
        execution_id = events[0]["execution_id"]

        ran = {e["node_id"] for e in events if e["type"] == "node.completed"}
        started = {e["node_id"] for e in events if e["type"] == "node.started"}
        assert ran == started and {"input", "llm", "output"} <= {
            n["type"] for n in workflow["nodes"] if n["id"] in ran
        }
        assert any(e["type"] == "node.chunk" for e in events), "llm output was not streamed"

        r = await client.get(f"/api/executions/{execution_id}")
        assert r.status_code == 200
        execution = r.json()
        assert execution["status"] == "completed"
        assert execution["output"] == events[-1]["data"]["output"]
        for node_id in ran:
            assert execution["node_states"][node_id]["status"] == "completed"

        # the stored event stream replays the same, and resumes after Last-Event-ID
        async with client.stream(
            "GET", f"/api/executions/{execution_id}/events", headers={"Last-Event-ID": "2"}
        ) as r:
            replay = [f.data async for f in read_sse(r)]
        assert [e["seq"] for e in replay] == list(range(3, len(events) + 1))
        assert replay == events[2:]


async def test_bad_input_gets_clear_errors_and_services_keep_running(pilot_up: PilotUp) -> None:
    async with pilot_up.client() as client:
        cases = [
            await client.post("/api/workflows/generate", json={"prompt": "   "}),
            await client.post("/api/workflows/generate", json={"prompt": "x" * (2 * 1024 * 1024)}),
            await client.post(
                "/api/workflows/generate",
                content=b'{"prompt": "unterminated',
                headers={"Content-Type": "application/json"},
            ),
            await client.get("/api/workflows/does-not-exist"),
            await client.post("/api/workflows/does-not-exist/execute", json={"input_data": {}}),
        ]
        workflow = await _generate(client)
        cases.append(
            await client.post(f"/api/workflows/{workflow['id']}/execute", json={"input_data": {}})
        )
        for r in cases:
            assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text)
            body = r.json()
            assert body["error"] and body["detail"], body
            assert "Traceback" not in r.text
        assert cases[3].status_code == 404 and cases[4].status_code == 404
        assert "user_message" in cases[-1].text

        assert (await client.get("/readyz")).status_code == 200
        frames = await _execute_streaming(client, workflow["id"], {"user_message": "still there?"})
        assert frames[-1].event == "execution.completed"
    assert set(pilot_up.children()) >= {
        "pilot_planner",
        "pilot_generator",
        "pilot_executor",
        "pilot_runners",
        "pilot_gateway",
    }


async def test_a_dead_service_is_restarted(pilot_up: PilotUp) -> None:
    before = pilot_up.children()
    os.kill(before["pilot_planner"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = pilot_up.children().get("pilot_planner")
        if now and now != before["pilot_planner"]:
            break
        await asyncio.sleep(0.2)
    else:
        pytest.fail("the planner was not restarted")
    assert "planner exited" in pilot_up.log_path.read_text()
    async with pilot_up.client() as client:
        workflow = await _generate(client, "summarize incoming emails and post them to Slack")
        assert {"input", "output"} <= {n["type"] for n in workflow["nodes"]}


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    up = start_pilot_up(data_dir)
    try:
        async with up.client() as client:
            workflow = await _generate(client)
            frames = await _execute_streaming(
                client, workflow["id"], {"user_message": "我需要帮助"}
            )
            execution_id = frames[0].data["execution_id"]
    finally:
        assert up.stop() == 0
    first_key = (data_dir / "admin.key").read_text()
    up = start_pilot_up(data_dir)
    try:
        # the admin from the first start stays; its key is not printed again
        assert (data_dir / "admin.key").read_text() == first_key
        await _logged(up, "πlot gateway listening")
        assert "πlot admin API key:" not in up.log_path.read_text()
        async with up.client() as client:
            r = await client.get(f"/api/workflows/{workflow['id']}")
            assert r.status_code == 200 and r.json()["nodes"] == workflow["nodes"]
            r = await client.get(f"/api/executions/{execution_id}")
            assert r.status_code == 200 and r.json()["status"] == "completed"
    finally:
        assert up.stop() == 0


async def test_the_admin_key_and_pilot_users_create(pilot_up: PilotUp) -> None:
    key_file = pilot_up.data_dir / "admin.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    await _logged(pilot_up, f"πlot admin API key: {pilot_up.admin_key}")
    async with httpx.AsyncClient(base_url=pilot_up.base_url, timeout=60) as anonymous:
        r = await anonymous.get("/api/workflows")
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"

    # `pilot users create` works on the store of the running `pilot up`
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pilot.cli",
        "users",
        "create",
        "bob",
        "--data-dir",
        str(pilot_up.data_dir),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    bob_key = out.decode().strip()
    assert bob_key.startswith("pilot_") and "\n" not in bob_key

    async with pilot_up.client() as admin:
        workflow = await _generate(admin, "summarize incoming emails and post them to Slack")
        r = await admin.post("/api/users", json={"username": "carol"})
        assert r.status_code == 201 and r.json()["api_key"].startswith("pilot_")
    async with httpx.AsyncClient(
        base_url=pilot_up.base_url, timeout=60, headers={"Authorization": f"Bearer {bob_key}"}
    ) as bob:
        assert (await bob.get("/api/users/me")).json()["username"] == "bob"
        assert (await bob.get(f"/api/workflows/{workflow['id']}")).status_code == 404
        assert (await bob.get("/api/workflows")).json()["total"] == 0
