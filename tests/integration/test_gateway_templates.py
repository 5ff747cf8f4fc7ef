"""/api/templates and GET /api/workflows/{id}/optimizations through the real gateway,
planner and generator over a real nats-server: the gateway asks the planner by core NATS
request/reply and never imports it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from pilot_generator.app import create_app as create_generator
from pilot_planner.app import create_app as create_planner
from pilot_shared import subjects
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


@pytest.fixture
async def impatient_gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings, planner_query_timeout_s=1.5)) as gw:
        yield gw


@pytest.fixture
async def services(settings: PilotSettings) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(create_planner(settings))
        await stack.enter_async_context(create_generator(settings))
        yield


async def test_list_and_get_templates(gateway: Gateway, services: None) -> None:
    async with gateway.client() as client:
        r = await client.get("/api/templates")
        assert r.status_code == 200, r.text
        templates = r.json()
        assert len(templates) >= 10
        ids = [t["id"] for t in templates]
        assert len(set(ids)) == len(ids) and "customer_support" in ids
        for t in templates:
            assert set(t) >= {"id", "name", "description", "tags", "languages"}
            assert t["name"] and t["description"] and set(t["languages"]) == {"en", "zh"}
        support = next(t for t in templates if t["id"] == "customer_support")
        assert "support" in support["tags"]

        zh = (await client.get("/api/templates", params={"language": "zh"})).json()
        support_zh = next(t for t in zh if t["id"] == "customer_support")
        assert support_zh["name"] == "客户支持聊天机器人" and "客服" in support_zh["tags"]

        r = await client.get("/api/templates/list_report")
        assert r.status_code == 200, r.text
        detail = r.json()
        types = {n["type"] for n in detail["nodes"]}
        assert {"input", "loop", "output"} <= types
        node_ids = {n["id"] for n in detail["nodes"]}
        assert detail["connections"]
        for c in detail["connections"]:
            assert c["source"] in node_ids and c["target"] in node_ids
        assert any(c["source_handle"] == "body" for c in detail["connections"])


async def test_unknown_template_is_a_404(gateway: Gateway, services: None) -> None:
    async with gateway.client() as client:
        for r in (
            await client.get("/api/templates/no_such_template"),
            await client.post("/api/templates/no_such_template/instantiate", json={}),
        ):
            assert r.status_code == 404, r.text
            body = error_of(r)
            assert body["error"] == "template_not_found"
            assert "no_such_template" in body["detail"] and "customer_support" in body["detail"]


@pytest.mark.parametrize(
    ("prompt", "first"),
    [
        ("创建一个客户支持聊天机器人", "customer_support"),
        ("Translate this product page into French", "translation"),
        ("For each GitHub issue, summarize it and email the digest", "list_report"),
    ],
)
async def test_recommend_ranks_the_fitting_template_first(
    gateway: Gateway, services: None, prompt: str, first: str
) -> None:
    async with gateway.client() as client:
        r = await client.post("/api/templates/recommend", json={"prompt": prompt, "limit": 4})
    assert r.status_code == 200, r.text
    ranked = r.json()
    assert len(ranked) == 4
    assert ranked[0]["template_id"] == first, ranked
    scores = [x["score"] for x in ranked]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert all(x["reason"] for x in ranked)
    assert set(ranked[0]) >= {"template_id", "score", "reason"}


async def test_recommend_refuses_an_empty_prompt(gateway: Gateway, services: None) -> None:
    async with gateway.client() as client:
        r = await client.post("/api/templates/recommend", json={"prompt": "   "})
    assert r.status_code == 422
    assert error_of(r)["error"] == "invalid_prompt"


async def test_instantiate_creates_a_workflow_owned_by_the_caller(
    gateway: Gateway, services: None
) -> None:
    key = await gateway.create_user("tina")
    async with gateway.client(key) as client:
        r = await client.post(
            "/api/templates/customer_support/instantiate",
            json={"user_preferences": {"integrations": ["slack"]}},
        )
        assert r.status_code == 201, r.text
        body = r.json()
        workflow = body["workflow"]
        assert body["workflow_id"] == workflow["id"] and body["generation_id"]
        assert workflow["owner_id"] != "anonymous"
        types = {n["type"] for n in workflow["nodes"]}
        assert {"input", "llm", "condition", "output"} <= types
        stored = await client.get(f"/api/workflows/{workflow['id']}")
        assert stored.status_code == 200 and stored.json()["id"] == workflow["id"]
        mine = (await client.get("/api/workflows")).json()
        assert workflow["id"] in [w["id"] for w in mine["items"]]
    # Someone else cannot see it.
    other = await gateway.create_user("olaf")
    async with gateway.client(other) as client:
        assert (await client.get(f"/api/workflows/{workflow['id']}")).status_code == 404


async def test_optimizations_follow_workflow_access(gateway: Gateway, services: None) -> None:
    owner = await gateway.create_user("owen")
    stranger = await gateway.create_user("sten")
    graph = simple_workflow_json("Costly bot")
    for node in graph["nodes"]:
        if node["type"] == "llm":
            node["name"] = "Classify the ticket"
            node["config"]["model"] = "gpt-4o"
    async with gateway.client(owner) as client:
        r = await client.post("/api/workflows", json=graph)
        assert r.status_code == 201, r.text
        wid = r.json()["id"]
        r = await client.get(f"/api/workflows/{wid}/optimizations")
        assert r.status_code == 200, r.text
        suggestions = r.json()
        kinds = {s["kind"] for s in suggestions}
        assert "cheaper_model" in kinds, suggestions
        cheaper = next(s for s in suggestions if s["kind"] == "cheaper_model")
        (node_id,) = cheaper["node_ids"]
        assert cheaper["patch"][node_id]["config"]["model"] == "gpt-4o-mini"
    async with gateway.client(stranger) as client:
        r = await client.get(f"/api/workflows/{wid}/optimizations")
        assert r.status_code == 404
        assert error_of(r)["error"] == "not_found"
        r = await client.get("/api/workflows/does-not-exist/optimizations")
        assert r.status_code == 404


async def test_no_planner_is_a_503(gateway: Gateway) -> None:
    async with gateway.client() as client:
        r = await client.get("/api/templates")
        assert r.status_code == 503
        body = error_of(r)
        assert body["error"] == "planner_unavailable" and "planner" in body["detail"]
        r = await client.post("/api/templates/recommend", json={"prompt": "客服机器人"})
        assert r.status_code == 503


@pytest.fixture
async def bus(settings: PilotSettings) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(settings.nats_url)
    yield nc
    await nc.drain()


async def test_a_planner_that_does_not_answer_in_time_is_a_503(
    impatient_gateway: Gateway, bus: NatsClient
) -> None:
    gateway = impatient_gateway
    asked: list[Msg] = []

    async def silent(msg: Msg) -> None:  # takes the query and never replies
        asked.append(msg)

    await bus.subscribe(subjects.TEMPLATES_RECOMMEND, cb=silent)
    await bus.flush()
    async with gateway.client() as client:
        r = await client.post("/api/templates/recommend", json={"prompt": "客服机器人"})
    assert r.status_code == 503, r.text
    body: dict[str, Any] = error_of(r)
    assert body["error"] == "planner_unavailable"
    assert "did not answer within 1.5s" in body["detail"]
    assert len(asked) == 1


async def test_openapi_documents_the_template_routes(gateway: Gateway) -> None:
    async with gateway.client() as client:
        spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path, method in [
        ("/api/templates", "get"),
        ("/api/templates/{template_id}", "get"),
        ("/api/templates/recommend", "post"),
        ("/api/templates/{template_id}/instantiate", "post"),
        ("/api/workflows/{workflow_id}/optimizations", "get"),
    ]:
        operation = paths[path][method]
        assert "503" in operation["responses"], path
    recommend = paths["/api/templates/recommend"]["post"]
    assert recommend["responses"]["200"]["content"]["application/json"]["example"]
