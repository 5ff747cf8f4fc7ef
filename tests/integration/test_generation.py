"""Prompt -> plan -> stored workflow, through the real planner and generator services over
a real nats-server and the nx-27017 store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import jsonschema
import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from pilot_generator.app import create_app as create_generator
from pilot_generator.app import workflow_id_for
from pilot_planner.app import create_app as create_planner
from pilot_shared import subjects
from pilot_shared.bus import MSG_ID_HEADER
from pilot_shared.contracts import (
    GenerateRequest,
    GenerationEvent,
    InputNode,
    PilotModel,
    PlanRequest,
    ToolNode,
    UserPreferences,
    Workflow,
    WorkflowBlueprint,
    new_id,
)
from pilot_shared.repositories import WorkflowRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.support.fake_openai import FakeOpenAI, Reply

TERMINAL = {"generation.completed", "generation.failed"}
DEADLINE_S = 30


@dataclass
class Bus:
    nc: NatsClient
    events: dict[str, asyncio.Queue[GenerationEvent]]

    async def watch(self, gid: str) -> None:
        """Subscribe to a generation's events before anything can emit them."""
        queue: asyncio.Queue[GenerationEvent] = asyncio.Queue()
        self.events[gid] = queue

        async def on_event(msg: Msg) -> None:
            queue.put_nowait(GenerationEvent.model_validate_json(msg.data))

        await self.nc.subscribe(subjects.generation_events(gid), cb=on_event)
        await self.nc.flush()

    async def send(self, message: PilotModel, subject: str, msg_id: str) -> None:
        await self.nc.jetstream().publish(
            subject, message.model_dump_json().encode(), headers={MSG_ID_HEADER: msg_id}
        )

    async def plan(self, request: PlanRequest) -> list[GenerationEvent]:
        await self.watch(request.generation_id)
        await self.send(request, subjects.PLAN, request.generation_id)
        return await self.until_done(request.generation_id)

    async def until_done(self, gid: str) -> list[GenerationEvent]:
        seen: list[GenerationEvent] = []
        async with asyncio.timeout(DEADLINE_S):
            while not seen or seen[-1].type not in TERMINAL:
                seen.append(await self.events[gid].get())
        return seen

    async def drained(self, durable: str) -> None:
        """Wait until a work consumer has nothing pending or unacknowledged."""
        js = self.nc.jetstream()
        async with asyncio.timeout(DEADLINE_S):
            while True:
                info = await js.consumer_info(subjects.COMMANDS.name, durable)
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    return
                await asyncio.sleep(0.05)  # polling a condition, bounded by the deadline


@asynccontextmanager
async def services(settings: PilotSettings) -> AsyncIterator[Bus]:
    nc = await nats.connect(settings.nats_url)
    try:
        async with create_planner(settings), create_generator(settings):
            yield Bus(nc, {})
    finally:
        await nc.drain()


async def test_chinese_prompt_becomes_a_stored_workflow(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    prompt = "创建一个客户支持聊天机器人"
    request = PlanRequest(
        prompt=prompt,
        owner_id="user-1",
        user_preferences=UserPreferences(complexity="simple", integrations=["slack", "email"]),
    )
    async with services(settings) as bus:
        events = await bus.plan(request)

    assert [e.type for e in events] == ["generation.planned", "generation.completed"]
    planned, completed = events
    assert planned.detail["strategy"] == "offline"
    assert planned.detail["intent"]["category"] == "customer_support"
    assert completed.workflow_id == workflow_id_for(request.generation_id)

    stored = await WorkflowRepository(db).get(completed.workflow_id)
    assert stored is not None and stored == completed.workflow
    types = {n.type for n in stored.nodes}
    assert {"input", "llm", "output"} <= types
    assert [n.config.tool for n in stored.nodes if isinstance(n, ToolNode)] == ["slack", "email"]
    assert stored.owner_id == "user-1"
    assert stored.generation is not None
    assert stored.generation.prompt == prompt and stored.generation.strategy == "offline"
    assert stored.estimated_cost > 0 and stored.execution_time.startswith("~")
    entry = stored.node("input_1")
    assert isinstance(entry, InputNode)
    schema = entry.config.schema_
    jsonschema.validate({"user_message": "我需要帮助"}, schema)


async def test_unplannable_prompt_fails_and_the_planner_carries_on(settings: PilotSettings) -> None:
    async with services(settings) as bus:
        failed = await bus.plan(PlanRequest(prompt="   "))
        oversize = await bus.plan(PlanRequest(prompt="x" * 20_001))
        ok = await bus.plan(PlanRequest(prompt="Write a blog post about tea"))

    assert [e.type for e in failed] == ["generation.failed"]
    assert failed[0].error is not None and "empty" in failed[0].error
    assert oversize[-1].type == "generation.failed" and "20000" in (oversize[-1].error or "")
    assert ok[-1].type == "generation.completed"


def _bad_blueprint() -> WorkflowBlueprint:
    return WorkflowBlueprint.model_validate(
        {
            "name": "broken",
            "intent": {"category": "general"},
            "steps": [
                {"key": "in", "type": "input", "config": {}},
                {"key": "ask", "type": "llm", "config": {"prompt": "{{ nodes.out.output }}"}},
                {"key": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}},
            ],
            "edges": [{"source": "in", "target": "ask"}, {"source": "ask", "target": "out"}],
        }
    )


async def test_invalid_blueprint_fails_with_the_reason(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    gid = new_id()
    request = GenerateRequest(generation_id=gid, prompt="p", blueprint=_bad_blueprint())
    async with services(settings) as bus:
        await bus.watch(gid)
        await bus.send(request, subjects.GENERATE, gid)
        events = await bus.until_done(gid)
    assert [e.type for e in events] == ["generation.failed"]
    assert "node 'llm_1'" in (events[0].error or "") and "not upstream" in (events[0].error or "")
    assert await WorkflowRepository(db).list() == []


async def test_a_redelivered_request_stores_one_workflow(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    bp = WorkflowBlueprint.model_validate(
        {
            "name": "once",
            "intent": {"category": "general"},
            "steps": [
                {"key": "in", "type": "input", "config": {}},
                {"key": "ask", "type": "llm", "config": {"prompt": "{{ input.q }}"}},
                {"key": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}},
            ],
            "edges": [{"source": "in", "target": "ask"}, {"source": "ask", "target": "out"}],
        }
    )
    gid = new_id()
    request = GenerateRequest(generation_id=gid, prompt="p", blueprint=bp)
    async with services(settings) as bus:
        await bus.watch(gid)
        # Different msg ids defeat the stream's dedupe: the generator sees it twice.
        await bus.send(request, subjects.GENERATE, f"{gid}:a")
        first = await bus.until_done(gid)
        await bus.send(request, subjects.GENERATE, f"{gid}:b")
        await bus.drained(subjects.GENERATOR_DURABLE)
    assert first[-1].type == "generation.completed"
    stored = await WorkflowRepository(db).list()
    assert [w.id for w in stored] == [workflow_id_for(gid)]


LLM_PLAN: dict[str, Any] = {
    "name": "LLM-made triage",
    "description": "from the model",
    "intent": {"category": "customer_support", "confidence": 0.8, "summary": "triage"},
    "steps": [
        {
            "key": "ticket",
            "type": "input",
            "name": "Ticket",
            "config": {"schema": {"type": "object", "properties": {"text": {"type": "string"}}}},
        },
        {
            "key": "answer",
            "type": "llm",
            "name": "Answer",
            "config": {"model": "gpt-4o", "prompt": "Answer: {{ input.text }}"},
        },
        {
            "key": "done",
            "type": "output",
            "name": "Done",
            "config": {"value": "{{ nodes.answer.output }}"},
        },
    ],
    "edges": [{"source": "ticket", "target": "answer"}, {"source": "answer", "target": "done"}],
}


async def test_llm_strategy_is_used_and_falls_back(
    settings: PilotSettings, db: AsyncDatabase[Document], fake_openai: FakeOpenAI
) -> None:
    def responder(body: dict[str, Any]) -> Reply:
        request = json.loads(body["messages"][1]["content"])["request"]
        if "tickets" in request:
            return Reply(content=json.dumps(LLM_PLAN))
        return Reply(content="I am not JSON at all")

    fake_openai.responder = responder
    llm_settings = settings.model_copy(
        update={"llm_base_url": fake_openai.base_url, "llm_api_key": SecretStr("test-key")}
    )
    repo = WorkflowRepository(db)
    async with services(llm_settings) as bus:
        used = await bus.plan(PlanRequest(prompt="Answer support tickets"))
        fallback = await bus.plan(PlanRequest(prompt="创建一个客户支持聊天机器人"))

    assert used[0].detail["strategy"] == "llm"
    wf = await repo.get(used[-1].workflow_id or "")
    assert isinstance(wf, Workflow) and wf.generation is not None
    assert wf.name == "LLM-made triage" and wf.generation.strategy == "llm"
    assert [(n.id, n.name) for n in wf.nodes] == [
        ("input_1", "Ticket"),
        ("llm_1", "Answer"),
        ("output_1", "Done"),
    ]
    assert wf.node("output_1").config.value == "{{ nodes.llm_1.output }}"  # type: ignore[union-attr]

    assert fallback[0].detail["strategy"] == "offline"
    wf2 = await repo.get(fallback[-1].workflow_id or "")
    assert wf2 is not None and wf2.generation is not None
    assert wf2.generation.strategy == "offline"
    assert "not JSON" in wf2.generation.reason and "offline rules" in wf2.generation.reason
    assert {"input", "llm", "output"} <= {n.type for n in wf2.nodes}
    # one answer for the first prompt; three for the second (the answer and two repairs)
    assert len(fake_openai.requests) == 4
