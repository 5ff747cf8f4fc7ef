"""Collaboration over WS /ws/workflow/{id}: two clients editing one workflow see each
other's edits with version numbers, a stale edit is rejected with a conflict (never
merged), REST saves reach the sockets too, and every client that may see the workflow
gets its execution events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import nats
import pytest
import websockets
from nats.aio.client import Client as NatsClient
from pymongo.asynchronous.database import AsyncDatabase
from websockets.asyncio.client import ClientConnection

from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_gateway_harness import (
    DEFAULT_SCRIPT,
    FakeExecutor,
    Gateway,
    gateway_settings,
    running_gateway,
    simple_workflow_json,
)

Message = dict[str, Any]


@pytest.fixture
async def bus(settings: PilotSettings) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(settings.nats_url)
    yield nc
    await nc.drain()


@pytest.fixture
async def gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings)) as gw:
        yield gw


class Client:
    """A collaboration socket that keeps what it received, to wait on conditions."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[Message] = []

    async def send(self, message: Message) -> None:
        await self.ws.send(json.dumps(message))

    async def wait_for(self, match: Callable[[Message], bool], timeout_s: float = 10) -> Message:
        for message in self.received:
            if match(message):
                return message
        async with asyncio.timeout(timeout_s):
            while True:
                message = json.loads(await self.ws.recv())
                self.received.append(message)
                if match(message):
                    return message


@asynccontextmanager
async def collab(gateway: Gateway, workflow_id: str, key: str) -> AsyncIterator[Client]:
    url = f"{gateway.ws_base}/ws/workflow/{workflow_id}"
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        client = Client(ws)
        await client.wait_for(lambda m: m["type"] == "hello")
        yield client


def of_type(kind: str, **fields: Any) -> Callable[[Message], bool]:
    return lambda m: m.get("type") == kind and all(m.get(k) == v for k, v in fields.items())


async def test_two_clients_see_each_others_edits_and_a_stale_edit_conflicts(
    gateway: Gateway,
) -> None:
    alice_key, bob_key = await gateway.create_user("alice"), await gateway.create_user("bob")
    async with gateway.client(api_key=alice_key) as alice_http:
        workflow = (await alice_http.post("/api/workflows", json=simple_workflow_json())).json()
        wid = workflow["id"]
        await alice_http.put(f"/api/workflows/{wid}/shares/bob", json={"role": "editor"})

        async with collab(gateway, wid, alice_key) as alice, collab(gateway, wid, bob_key) as bob:
            hello = bob.received[0]
            assert (hello["version"], hello["access"], hello["username"]) == (1, "editor", "bob")

            # alice edits a node on version 1: both see version 2, alice gets her answer
            await alice.send(
                {
                    "type": "edit",
                    "ref": "a1",
                    "base_version": 1,
                    "node_id": "llm_1",
                    "changes": {"config": {"prompt": "Briefly: {{ input.user_message }}"}},
                }
            )
            assert (await alice.wait_for(of_type("edit.accepted", ref="a1")))["version"] == 2
            for client in (alice, bob):
                update = await client.wait_for(of_type("workflow.updated", version=2))
                assert update["previous_version"] == 1 and update["by_username"] == "alice"
                assert update["change"] == "node_edited" and update["node_id"] == "llm_1"
                llm = next(n for n in update["workflow"]["nodes"] if n["id"] == "llm_1")
                assert llm["config"]["prompt"].startswith("Briefly")
                assert llm["config"]["model"] == "gpt-4o-mini"  # merged, not replaced

            # bob, still on version 1, renames: a conflict naming the current version
            await bob.send(
                {"type": "edit", "ref": "b1", "base_version": 1, "changes": {"name": "Bob's"}}
            )
            rejected = await bob.wait_for(of_type("edit.rejected", ref="b1"))
            assert rejected["error"] == "conflict" and rejected["current_version"] == 2
            assert "version 2" in rejected["detail"]

            # rebased on version 2, bob's edit goes through and alice sees it
            await bob.send(
                {"type": "edit", "ref": "b2", "base_version": 2, "changes": {"name": "Bob's"}}
            )
            assert (await bob.wait_for(of_type("edit.accepted", ref="b2")))["version"] == 3
            seen = await alice.wait_for(of_type("workflow.updated", version=3))
            assert seen["workflow"]["name"] == "Bob's" and seen["by_username"] == "bob"

            # a REST save (If-Match) reaches both sockets as well
            r = await alice_http.patch(
                f"/api/workflows/{wid}", json={"status": "active"}, headers={"If-Match": '"3"'}
            )
            assert r.status_code == 200 and r.headers["etag"] == '"4"'
            for client in (alice, bob):
                await client.wait_for(of_type("workflow.updated", version=4, change="updated"))
            r = await alice_http.patch(
                f"/api/workflows/{wid}", json={"status": "draft"}, headers={"If-Match": '"3"'}
            )
            assert r.status_code == 409 and r.json()["current_version"] == 4

            # bad messages are answered, the socket stays open
            await bob.ws.send("not json")
            assert (await bob.wait_for(of_type("error")))["error"] == "bad_message"
            await bob.send(
                {
                    "type": "edit",
                    "ref": "b3",
                    "base_version": 4,
                    "node_id": "nope",
                    "changes": {"name": "x"},
                }
            )
            assert (await bob.wait_for(of_type("edit.rejected", ref="b3")))["error"] == "not_found"
            await bob.send({"type": "ping", "ref": "p"})
            await bob.wait_for(of_type("pong", ref="p"))

        versions = (await alice_http.get(f"/api/workflows/{wid}/versions")).json()
        assert [v["version"] for v in versions["items"]] == [4, 3, 2, 1]
        assert [v["saved_by"] for v in versions["items"]][1:3] == [
            bob.received[0]["user_id"],
            alice.received[0]["user_id"],
        ]


async def test_viewers_follow_but_cannot_edit_and_everyone_gets_execution_events(
    gateway: Gateway, bus: NatsClient, db: AsyncDatabase[Document]
) -> None:
    executor = await FakeExecutor(bus, db, pause_after=0).start()
    alice_key, vic_key = await gateway.create_user("alice"), await gateway.create_user("vic")
    async with gateway.client(api_key=alice_key) as alice_http:
        workflow = (await alice_http.post("/api/workflows", json=simple_workflow_json())).json()
        wid = workflow["id"]
        await alice_http.put(f"/api/workflows/{wid}/shares/vic", json={"role": "viewer"})
        async with collab(gateway, wid, alice_key) as alice, collab(gateway, wid, vic_key) as vic:
            await vic.send(
                {"type": "edit", "ref": "v1", "base_version": 1, "changes": {"name": "mine"}}
            )
            refused = await vic.wait_for(of_type("edit.rejected", ref="v1"))
            assert refused["error"] == "forbidden"

            r = await alice_http.post(
                f"/api/workflows/{wid}/execute", json={"input_data": {"user_message": "hi"}}
            )
            execution_id = r.json()["execution_id"]
            executor.gate.set()
            for client in (alice, vic):
                done = await client.wait_for(
                    of_type("execution.completed", execution_id=execution_id)
                )
                assert done["seq"] == len(DEFAULT_SCRIPT)
                seqs = [m["seq"] for m in client.received if m.get("execution_id") == execution_id]
                assert seqs == list(range(1, len(DEFAULT_SCRIPT) + 1))

            # deleting the workflow tells every client and closes their sockets
            assert (await alice_http.delete(f"/api/workflows/{wid}")).status_code == 204
            for client in (alice, vic):
                await client.wait_for(of_type("workflow.deleted"))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(client.ws.recv(), 10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4410
