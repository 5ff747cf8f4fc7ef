"""No object-level authorization holes (OWASP API1): a second user can neither read,
list, edit, run nor subscribe to the first user's workflows and executions, over REST,
SSE and WebSocket; sharing grants exactly the access its role names, and unsharing
takes it away, live sockets included."""

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

from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_gateway_harness import (
    FakeExecutor,
    Gateway,
    gateway_settings,
    read_until_terminal,
    running_gateway,
    simple_workflow_json,
)

RUN = {"input_data": {"user_message": "hi"}}


@pytest.fixture
async def bus(settings: PilotSettings) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(settings.nats_url)
    yield nc
    await nc.drain()


@pytest.fixture
async def gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings)) as gw:
        yield gw


async def _alice_with_a_run(
    gateway: Gateway, alice: httpx.AsyncClient
) -> tuple[dict[str, Any], str]:
    workflow = (await alice.post("/api/workflows", json=simple_workflow_json("alice's"))).json()
    r = await alice.post(f"/api/workflows/{workflow['id']}/execute", json=RUN)
    assert r.status_code == 202, r.text
    execution_id = r.json()["execution_id"]
    async with alice.stream("GET", f"/api/executions/{execution_id}/events") as stream:
        await read_until_terminal(stream)
    return workflow, execution_id


def _attempts(workflow_id: str, execution_id: str) -> list[tuple[str, str, Any]]:
    wf = f"/api/workflows/{workflow_id}"
    node_patch = {"config": {"prompt": "pwned {{ input.user_message }}"}}
    return [
        ("GET", wf, None),
        ("PUT", wf, simple_workflow_json("pwned")),
        ("PATCH", wf, {"name": "pwned"}),
        ("PATCH", f"{wf}/nodes/llm_1", node_patch),
        ("DELETE", wf, None),
        ("POST", f"{wf}/execute", RUN),
        ("GET", f"{wf}/versions", None),
        ("GET", f"{wf}/versions/1", None),
        ("POST", f"{wf}/versions/1/restore", None),
        ("GET", f"{wf}/export", None),
        ("GET", f"{wf}/shares", None),
        ("PUT", f"{wf}/shares/mallory", {"role": "editor"}),
        ("GET", f"{wf}/executions", None),
        ("GET", f"/api/executions?workflow_id={workflow_id}", None),
        ("GET", f"/api/executions/{execution_id}", None),
        ("GET", f"/api/executions/{execution_id}/events", None),
    ]


async def _ws_close_code(gateway: Gateway, workflow_id: str, key: str) -> int | None:
    url = f"{gateway.ws_base}/ws/workflow/{workflow_id}"
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_a_second_user_can_reach_nothing_of_the_first(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    executor = await FakeExecutor(bus, db).start()
    alice_key, mallory_key = (
        await gateway.create_user("alice"),
        await gateway.create_user("mallory"),
    )
    async with (
        gateway.client(api_key=alice_key) as alice,
        gateway.client(api_key=mallory_key) as mallory,
    ):
        workflow, execution_id = await _alice_with_a_run(gateway, alice)
        runs_before = len(executor.runs)

        # REST and SSE: every route answers 404, exactly as for an id that does not exist
        for method, path, body in _attempts(workflow["id"], execution_id):
            r = await mallory.request(method, path, json=body)
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert r.json()["error"] == "not_found"
            assert "pwned" not in r.text and "alice's" not in r.text

        # lists show nothing of alice's
        for path in ("/api/workflows", "/api/workflows?owner=shared", "/api/executions"):
            listed = (await mallory.get(path)).json()
            assert listed["items"] == [] and listed["total"] == 0, path
        r = await mallory.get("/api/workflows", params={"q": "alice"})
        assert r.json()["items"] == []

        # nothing changed, nothing ran
        after = (await alice.get(f"/api/workflows/{workflow['id']}")).json()
        assert after == workflow
        assert len(executor.runs) == runs_before
        assert (await alice.get(f"/api/executions/{execution_id}")).status_code == 200

    # WebSocket: refused as for a workflow that does not exist; a token in the query too
    assert await _ws_close_code(gateway, workflow["id"], mallory_key) == 4404
    assert await _ws_close_code(gateway, workflow["id"], "pilot_0000000000000000_x") == 4401


async def test_sharing_grants_exactly_its_role_and_unsharing_takes_it_back(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    await FakeExecutor(bus, db).start()
    alice_key, bob_key = await gateway.create_user("alice"), await gateway.create_user("bob")
    async with gateway.client(api_key=alice_key) as alice, gateway.client(api_key=bob_key) as bob:
        workflow, execution_id = await _alice_with_a_run(gateway, alice)
        wf = f"/api/workflows/{workflow['id']}"
        r = await alice.put(f"{wf}/shares/bob", json={"role": "viewer"})
        assert r.status_code == 200 and r.json()["role"] == "viewer"
        assert (await alice.put(f"{wf}/shares/alice", json={"role": "viewer"})).status_code == 422
        assert (await alice.put(f"{wf}/shares/nobody", json={"role": "viewer"})).status_code == 404

        # a viewer reads, lists and follows, but changes and runs nothing
        assert (await bob.get(wf)).status_code == 200
        assert (await bob.get(f"/api/executions/{execution_id}")).status_code == 200
        shared = (await bob.get("/api/workflows", params={"owner": "shared"})).json()
        assert [w["id"] for w in shared["items"]] == [workflow["id"]]
        assert (await bob.get("/api/workflows", params={"owner": "mine"})).json()["total"] == 0
        for method, path, body in [
            ("PATCH", wf, {"name": "bob was here"}),
            ("PATCH", f"{wf}/nodes/llm_1", {"name": "x"}),
            ("POST", f"{wf}/execute", RUN),
            ("POST", f"{wf}/versions/1/restore", None),
            ("DELETE", wf, None),
            ("PUT", f"{wf}/shares/bob", {"role": "editor"}),
        ]:
            r = await bob.request(method, path, json=body)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["error"] == "forbidden" and r.json()["access"] == "viewer"

        # an editor changes and runs it, but neither deletes nor re-shares it
        await alice.put(f"{wf}/shares/bob", json={"role": "editor"})
        r = await bob.patch(wf, json={"name": "bob was here"})
        assert r.status_code == 200 and r.json()["owner_id"] == workflow["owner_id"]
        r = await bob.post(f"{wf}/execute", json=RUN)
        assert r.status_code == 202
        bob_execution = r.json()["execution_id"]
        assert (await bob.delete(wf)).status_code == 403
        assert (await bob.put(f"{wf}/shares/bob", json={"role": "editor"})).status_code == 403
        # alice sees the run bob started on her workflow, as the workflow's owner
        assert (await alice.get(f"/api/executions/{bob_execution}")).status_code == 200

        # a live socket of bob's closes when alice takes his access away
        url = f"{gateway.ws_base}/ws/workflow/{workflow['id']}"
        async with websockets.connect(
            url + f"?access_token={bob_key}"  # browsers cannot set headers
        ) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["access"] == "editor"
            assert (await alice.delete(f"{wf}/shares/bob")).status_code == 204
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

        assert (await bob.get(wf)).status_code == 404
        assert (await bob.get(f"/api/executions/{execution_id}")).status_code == 404
        # what bob started stays his to read
        assert (await bob.get(f"/api/executions/{bob_execution}")).status_code == 200
