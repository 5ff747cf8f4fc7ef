"""Workflow CRUD through the gateway, and the error model on bad requests."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pilot_gateway.workflows import service as workflow_service
from pilot_shared.settings import PilotSettings
from tests.integration.test_gateway_harness import (
    Gateway,
    error_of,
    gateway_settings,
    running_gateway,
    simple_workflow_json,
)


@pytest.fixture
async def gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings)) as gw:
        yield gw


def _assert_error(body: dict[str, Any], kind: str) -> None:
    assert body["error"] == kind, body
    assert isinstance(body["detail"], str) and body["detail"], body


async def test_create_read_and_list_workflows(gateway: Gateway) -> None:
    async with gateway.client() as client:
        r = await client.post("/api/workflows", json=simple_workflow_json("first"))
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["id"] and created["version"] == 1 and created["status"] == "draft"
        # the alias survives the round trip: clients send and get back "schema"
        assert created["nodes"][0]["config"]["schema"]["required"] == ["user_message"]

        r = await client.get(f"/api/workflows/{created['id']}")
        assert r.status_code == 200 and r.json() == created

        second = (await client.post("/api/workflows", json=simple_workflow_json("second"))).json()
        r = await client.get("/api/workflows")
        assert r.status_code == 200
        listed = r.json()
        assert {w["id"] for w in listed["items"]} == {created["id"], second["id"]}
        assert (listed["skip"], listed["limit"]) == (0, 50)

        page = (await client.get("/api/workflows", params={"skip": 1, "limit": 1})).json()
        assert len(page["items"]) == 1
        r = await client.get("/api/workflows", params={"limit": 0})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "limit"]


async def test_invalid_graphs_are_refused_naming_the_node(gateway: Gateway) -> None:
    cycle = simple_workflow_json()
    cycle["connections"].append({"id": "c3", "source": "output_1", "target": "llm_1"})
    missing = simple_workflow_json()
    missing["connections"].append({"id": "c3", "source": "llm_1", "target": "ghost_1"})
    unknown_type = simple_workflow_json()
    unknown_type["nodes"][1]["type"] = "teleport"

    async with gateway.client() as client:
        r = await client.post("/api/workflows", json=cycle)
        assert r.status_code == 422, r.text
        _assert_error(r.json(), "invalid_workflow")
        assert "cycle" in r.json()["detail"]
        assert {i["node_id"] for i in r.json()["issues"]} & {"llm_1", "output_1"}

        r = await client.post("/api/workflows", json=missing)
        assert r.status_code == 422
        _assert_error(r.json(), "invalid_workflow")
        assert "ghost_1" in r.json()["detail"]
        assert r.json()["issues"][0]["node_id"] == "ghost_1"

        r = await client.post("/api/workflows", json=unknown_type)
        assert r.status_code == 422
        body = r.json()
        _assert_error(body, "validation")
        assert body["errors"][0]["loc"][:3] == ["body", "nodes", 1]
        assert "teleport" in body["detail"] or "input" in body["detail"]

        bad_config = copy.deepcopy(simple_workflow_json())
        bad_config["nodes"][1]["config"]["temprature"] = 0.3  # a typo is an error, not a no-op
        r = await client.post("/api/workflows", json=bad_config)
        assert r.status_code == 422 and "temprature" in r.text

        assert (await client.get("/api/workflows")).json()["items"] == []


async def test_unknown_ids_and_bad_bodies_get_json_errors(gateway: Gateway) -> None:
    async with gateway.client() as client:
        r = await client.get("/api/workflows/does-not-exist")
        assert r.status_code == 404
        _assert_error(r.json(), "not_found")
        assert "does-not-exist" in r.json()["detail"]

        r = await client.post(
            "/api/workflows",
            content=b'{"name": "unterminated',
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400
        _assert_error(r.json(), "malformed_json")
        assert "Traceback" not in r.text

        r = await client.post("/api/workflows", json=["not", "an", "object"])
        assert r.status_code == 422
        _assert_error(r.json(), "validation")


async def test_an_unexpected_failure_is_a_500_and_the_server_carries_on(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(_: object) -> None:
        raise RuntimeError("secret internals")

    # The gateway serves in a thread of this process, so patching its module reaches it.
    monkeypatch.setattr(workflow_service, "validate_workflow", explode)
    async with gateway.client() as client:
        r = await client.post("/api/workflows", json=simple_workflow_json())
        assert r.status_code == 500
        assert error_of(r) == {"error": "internal", "detail": "internal error"}
        assert "secret" not in r.text
        monkeypatch.undo()
        assert (await client.post("/api/workflows", json=simple_workflow_json())).status_code == 201


async def test_replace_patch_and_delete_make_versions(gateway: Gateway) -> None:
    async with gateway.client() as client:
        created = (await client.post("/api/workflows", json=simple_workflow_json("v1"))).json()
        url = f"/api/workflows/{created['id']}"

        r = await client.patch(url, json={"name": "renamed", "status": "active"})
        assert r.status_code == 200, r.text
        patched = r.json()
        assert (patched["name"], patched["status"], patched["version"]) == ("renamed", "active", 2)
        assert (
            patched["nodes"] == created["nodes"] and patched["created_at"] == created["created_at"]
        )

        replacement = simple_workflow_json("v3")
        replacement["nodes"][1]["config"]["prompt"] = "Reply briefly: {{ input.user_message }}"
        r = await client.put(url, json=replacement)
        assert r.status_code == 200 and r.json()["version"] == 3
        assert r.json()["nodes"][1]["config"]["prompt"].startswith("Reply briefly")
        assert (await client.get(url)).json() == r.json()

        broken = {"connections": [{"id": "c9", "source": "llm_1", "target": "nowhere_1"}]}
        r = await client.patch(url, json=broken)
        assert r.status_code == 422 and r.json()["error"] == "invalid_workflow"
        assert (await client.get(url)).json()["version"] == 3  # nothing saved

        r = await client.patch(url, json={"colour": "blue"})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "colour"]

        assert (await client.delete(url)).status_code == 204
        assert (await client.get(url)).status_code == 404
        r = await client.delete(url)
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        assert (await client.put(url, json=replacement)).status_code == 404
