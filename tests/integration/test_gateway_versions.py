"""Workflows over time and between systems: node edits, every save a version, rollback,
executions pinned to the version they ran, import/export as JSON and YAML, and the list
(paginated, filtered, sorted)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import yaml

from pilot_shared.settings import PilotSettings
from tests.integration.test_gateway_harness import (
    Gateway,
    gateway_settings,
    running_gateway,
    simple_workflow_json,
)


@pytest.fixture
async def gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings)) as gw:
        yield gw


async def test_node_edits_versions_rollback_and_pinned_executions(gateway: Gateway) -> None:
    async with gateway.client() as client:
        created = (await client.post("/api/workflows", json=simple_workflow_json("v1"))).json()
        wf = f"/api/workflows/{created['id']}"
        r = await client.get(wf)
        assert r.headers["etag"] == '"1"'

        # one node's config, merged key by key (onNodeEdit)
        r = await client.patch(
            f"{wf}/nodes/llm_1",
            json={"config": {"temperature": 0.1, "system_prompt": "Be brief"}, "name": "Ask"},
        )
        assert r.status_code == 200, r.text
        v2 = r.json()
        llm = next(n for n in v2["nodes"] if n["id"] == "llm_1")
        assert v2["version"] == 2 and r.headers["etag"] == '"2"'
        assert (llm["name"], llm["config"]["temperature"]) == ("Ask", 0.1)
        assert llm["config"]["prompt"] == "Answer: {{ input.user_message }}"  # kept
        # null puts a key back to its default
        r = await client.patch(f"{wf}/nodes/llm_1", json={"config": {"system_prompt": None}})
        assert (
            next(n for n in r.json()["nodes"] if n["id"] == "llm_1")["config"]["system_prompt"]
            is None
        )

        # what would break the node or the graph is refused, and nothing is saved
        r = await client.patch(f"{wf}/nodes/llm_1", json={"config": {"temperature": 9}})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"][:3] == [
            "body",
            "config",
            "temperature",
        ]
        r = await client.patch(
            f"{wf}/nodes/llm_1", json={"config": {"prompt": "{{ nodes.output_1.output }}"}}
        )
        assert r.status_code == 422 and r.json()["error"] == "invalid_workflow"
        r = await client.patch(f"{wf}/nodes/ghost", json={"name": "x"})
        assert r.status_code == 404 and "ghost" in r.json()["detail"]
        r = await client.patch(f"{wf}/nodes/llm_1", json={"type": "api"})
        assert r.status_code == 422
        r = await client.patch(f"{wf}/nodes/llm_1", json={"name": "y"}, headers={"If-Match": '"1"'})
        assert r.status_code == 409 and r.json()["current_version"] == 3
        r = await client.patch(f"{wf}/nodes/llm_1", json={"name": "y"}, headers={"If-Match": "v3"})
        assert r.status_code == 400 and r.json()["error"] == "bad_request"
        assert (await client.get(wf)).json()["version"] == 3

        versions = (await client.get(f"{wf}/versions")).json()
        assert versions["total"] == 3
        assert [(v["version"], v["change"]) for v in versions["items"]] == [
            (3, "node_edited"),
            (2, "node_edited"),
            (1, "created"),
        ]
        v1 = (await client.get(f"{wf}/versions/1")).json()
        assert v1["workflow"]["nodes"] == created["nodes"] and v1["workflow"]["version"] == 1
        assert (await client.get(f"{wf}/versions/99")).status_code == 404

        # roll back: version 1's content becomes version 4; history only grows
        r = await client.post(f"{wf}/versions/1/restore", headers={"If-Match": '"3"'})
        assert r.status_code == 200, r.text
        v4 = r.json()
        assert v4["version"] == 4 and v4["nodes"] == created["nodes"] and v4["name"] == "v1"
        assert (await client.get(f"{wf}/versions/4")).json()["change"] == "rolled_back"

        # an execution records the version it ran, which can be read back whole
        r = await client.post(f"{wf}/execute", json={"input_data": {"user_message": "hi"}})
        execution = (await client.get(f"/api/executions/{r.json()['execution_id']}")).json()
        assert execution["workflow_version"] == 4
        pinned = (await client.get(f"{wf}/versions/{execution['workflow_version']}")).json()
        assert pinned["workflow"]["nodes"] == v4["nodes"]
        listed = (await client.get(f"{wf}/executions")).json()
        assert [e["id"] for e in listed["items"]] == [execution["id"]]


async def test_export_and_import_as_json_and_yaml(gateway: Gateway) -> None:
    bob = await gateway.create_user("bob")
    async with gateway.client() as admin, gateway.client(api_key=bob) as client:
        source = (await admin.post("/api/workflows", json=simple_workflow_json("Support"))).json()
        wf = f"/api/workflows/{source['id']}"
        r = await admin.get(f"{wf}/export")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        assert 'filename="support.workflow.json"' in r.headers["content-disposition"]
        exported = r.json()
        assert exported["exported_from"]["workflow_id"] == source["id"]
        assert not {"id", "owner_id", "version", "created_at"} & set(exported)

        r = await admin.get(f"{wf}/export", params={"format": "yaml"})
        assert r.headers["content-type"].startswith("application/yaml")
        text = r.text
        assert "exported_from:" in text and yaml.safe_load(text) == {
            **exported,
            "exported_from": {**exported["exported_from"], **yaml.safe_load(text)["exported_from"]},
        }

        # bob imports both forms: new workflows, his own, same graph
        for body, content_type in ((r.text, "application/yaml"), (None, "application/json")):
            payload = body if body is not None else (await admin.get(f"{wf}/export")).text
            r = await client.post(
                "/api/workflows/import",
                content=payload.encode(),
                headers={"Content-Type": content_type},
            )
            assert r.status_code == 201, r.text
            imported = r.json()
            assert imported["id"] != source["id"] and imported["owner_id"] != source["owner_id"]
            assert imported["nodes"] == source["nodes"] and imported["version"] == 1
            versions = (await client.get(f"/api/workflows/{imported['id']}/versions")).json()
            assert versions["items"][0]["change"] == "imported"

        bomb = "a: &a [x, x]\nb: &b [*a, *a]\nnodes: *b\n"
        for payload, content_type, status, kind in [
            (bomb, "application/yaml", 400, "malformed_document"),
            ("name: [unterminated", "text/yaml", 400, "malformed_document"),
            ("{}", "text/plain", 415, "unsupported_media_type"),
            ("nodes: [{id: x, type: teleport}]", "application/yaml", 422, "validation"),
            ('{"name": "x", "version": "3"}', "application/json", 422, "validation"),
        ]:
            r = await client.post(
                "/api/workflows/import",
                content=payload.encode(),
                headers={"Content-Type": content_type},
            )
            assert (r.status_code, r.json()["error"]) == (status, kind), (payload, r.text)


async def test_the_list_is_paginated_filtered_and_sorted(gateway: Gateway) -> None:
    async with gateway.client() as client:
        ids = {}
        for name in ("Beta support", "alpha SUPPORT", "Gamma report", "delta", "Epsilon support"):
            r = await client.post("/api/workflows", json=simple_workflow_json(name))
            ids[name] = r.json()["id"]
        await client.patch(f"/api/workflows/{ids['delta']}", json={"status": "active"})

        async def names(**params: object) -> tuple[list[str], int]:
            r = await client.get("/api/workflows", params=params)
            assert r.status_code == 200, r.text
            return [w["name"] for w in r.json()["items"]], r.json()["total"]

        assert (await names())[0][0] == "delta"  # most recently updated first
        assert await names(sort="name") == (
            ["Beta support", "Epsilon support", "Gamma report", "alpha SUPPORT", "delta"],
            5,
        )
        assert await names(sort="name", skip=1, limit=2) == (
            ["Epsilon support", "Gamma report"],
            5,
        )
        assert await names(q="support", sort="-name") == (
            ["alpha SUPPORT", "Epsilon support", "Beta support"],
            3,
        )
        assert await names(q="a.*", sort="name") == ([], 0)  # text, never a pattern
        assert await names(status="active") == (["delta"], 1)
        assert await names(sort="created_at", limit=1) == (["Beta support"], 5)
        r = await client.get("/api/workflows", params={"sort": "colour"})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "sort"]
