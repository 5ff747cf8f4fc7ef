"""Workflows run end to end through the executor and the node runners, in-process, over
the real nats-server and the real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import nats
from faststream import FastStream
from faststream.nats import NatsBroker
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from pilot_executor.app import create_app as create_executor
from pilot_executor.settings import ExecutorSettings
from pilot_runners.app import create_app as create_runners
from pilot_runners.settings import RunnerSettings
from pilot_shared import subjects
from pilot_shared.bus import publish
from pilot_shared.contracts import (
    TERMINAL_EVENT_TYPES,
    Execution,
    ExecutionEvent,
    NodeError,
    NodeState,
    RunRequest,
    Workflow,
    new_id,
    utcnow,
)
from pilot_shared.pricing import cost_usd
from pilot_shared.repositories import (
    EventRepository,
    ExecutionRepository,
    NodeRunRepository,
    WorkflowRepository,
)
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.support.fake_openai import FakeOpenAI, Reply

DEADLINE_S = 30


def workflow(nodes: list[dict[str, Any]], edges: list[tuple[str, str, str | None]]) -> Workflow:
    return Workflow.model_validate(
        {
            "name": "test",
            "nodes": nodes,
            "connections": [
                {"id": f"c{i}", "source": s, "target": t, "source_handle": h}
                for i, (s, t, h) in enumerate(edges)
            ],
        }
    )


INPUT = {
    "id": "input_1",
    "type": "input",
    "config": {
        "schema": {
            "type": "object",
            "properties": {"user_message": {"type": "string"}},
            "required": ["user_message"],
        }
    },
}


def customer_support() -> Workflow:
    return workflow(
        [
            INPUT,
            {
                "id": "llm_1",
                "type": "llm",
                "name": "Answer",
                "config": {
                    "model": "gpt-4o-mini",
                    "system_prompt": "你是一名耐心的客服。",
                    "prompt": "回答用户的问题：{{ input.user_message }}",
                },
            },
            {"id": "output_1", "type": "output", "config": {"value": "{{ nodes.llm_1.output }}"}},
        ],
        [("input_1", "llm_1", None), ("llm_1", "output_1", None)],
    )


class Run:
    """One execution: its events as they arrive on the execution's live subject."""

    def __init__(self, execution_id: str) -> None:
        self.execution_id = execution_id
        self.events: list[ExecutionEvent] = []
        self.finished = asyncio.Event()
        self._changed = asyncio.Condition()

    async def on_message(self, msg: Any) -> None:
        event = ExecutionEvent.model_validate_json(msg.data)
        self.events.append(event)
        if event.type in TERMINAL_EVENT_TYPES:
            self.finished.set()
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, condition: Callable[[list[ExecutionEvent]], bool]) -> None:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: condition(self.events)), DEADLINE_S
            )

    async def wait(self, nats_url: str | None = None) -> list[ExecutionEvent]:
        try:
            await asyncio.wait_for(self.finished.wait(), DEADLINE_S)
        except TimeoutError:
            got = [(e.seq, e.type, e.node_id) for e in self.events if e.type != "node.chunk"]
            detail = await consumer_states(nats_url) if nats_url else ""
            raise AssertionError(f"no terminal event; got {got}\n{detail}") from None
        return sorted(self.events, key=lambda e: e.seq)


async def consumer_states(nats_url: str) -> str:
    """What every durable consumer holds: where a stalled run is waiting."""
    nc = await nats.connect(nats_url)
    lines = []
    try:
        js = nc.jetstream()
        for stream in ("PILOT_COMMANDS", "PILOT_TASKS", "PILOT_RESULTS"):
            for info in await js.consumers_info(stream):
                lines.append(
                    f"{stream}/{info.name}: pending={info.num_pending} "
                    f"ack_pending={info.num_ack_pending} redelivered={info.num_redelivered} "
                    f"waiting={info.num_waiting}"
                )
    finally:
        await nc.drain()
    return "\n".join(lines)


@asynccontextmanager
async def services(
    settings: PilotSettings,
    *,
    llm: FakeOpenAI | None = None,
    types: list[str] | None = None,
    **executor_settings: Any,
) -> AsyncIterator[FastStream]:
    base = settings.model_dump()
    if llm is not None:
        base.update(llm_base_url=llm.base_url, llm_api_key=SecretStr("test-key"))
    executor = create_executor(ExecutorSettings(**{**base, **executor_settings}))
    runners = create_runners(RunnerSettings(**base), types=types)
    async with executor, runners:
        yield executor


async def start_run(
    app: FastStream,
    settings: PilotSettings,
    db: AsyncDatabase[Document],
    wf: Workflow,
    input_data: dict[str, Any],
) -> tuple[Run, Any]:
    """Store the workflow and a pending execution (as the gateway does), subscribe to the
    execution's events, then ask for the run. Returns the run and the NATS connection."""
    await WorkflowRepository(db).insert(wf)
    execution_id = new_id()
    await ExecutionRepository(db).insert(
        Execution(id=execution_id, workflow_id=wf.id, input_data=input_data)
    )
    run = Run(execution_id)
    nc = await nats.connect(settings.nats_url)
    await nc.subscribe(subjects.execution_events(execution_id=execution_id), cb=run.on_message)
    await nc.flush()
    broker = app.broker
    assert isinstance(broker, NatsBroker)
    await publish(
        broker,
        RunRequest(execution_id=execution_id, workflow_id=wf.id),
        subjects.RUN,
        msg_id=execution_id,
    )
    return run, nc


async def execute(
    app: FastStream,
    settings: PilotSettings,
    db: AsyncDatabase[Document],
    wf: Workflow,
    input_data: dict[str, Any],
) -> tuple[str, list[ExecutionEvent]]:
    run, nc = await start_run(app, settings, db, wf, input_data)
    try:
        return run.execution_id, await run.wait(settings.nats_url)
    finally:
        await nc.drain()


def of_type(events: list[ExecutionEvent], type_: str) -> list[ExecutionEvent]:
    return [e for e in events if e.type == type_]


def nodes_with(events: list[ExecutionEvent], type_: str) -> set[str]:
    return {e.node_id for e in of_type(events, type_) if e.node_id}


async def assert_consistent(
    db: AsyncDatabase[Document], execution_id: str, events: list[ExecutionEvent]
) -> Execution:
    """The invariants every execution keeps, live and in the store."""
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "seq has gaps"
    assert events[0].type == "execution.started"
    assert events[-1].type in TERMINAL_EVENT_TYPES
    assert sum(e.type in TERMINAL_EVENT_TYPES for e in events) == 1
    ran = nodes_with(events, "node.started")
    assert nodes_with(events, "node.completed") | nodes_with(events, "node.failed") <= ran
    stored_events = await EventRepository(db).list_after(execution_id)
    assert [(e.seq, e.type, e.node_id, e.data) for e in stored_events] == [
        (e.seq, e.type, e.node_id, e.data) for e in events
    ]
    execution = await ExecutionRepository(db).get(execution_id)
    assert execution is not None
    assert execution.last_seq == len(events)
    assert execution.finished_at is not None and execution.duration_ms is not None
    top = [e for e in events if "loop_id" not in e.data]  # loop body events have their own
    for node_id in nodes_with(top, "node.completed"):
        assert execution.node_states[node_id].status == "completed"
    for node_id in nodes_with(top, "node.skipped"):
        assert execution.node_states[node_id].status == "skipped"
    runs = await NodeRunRepository(db).list(execution_id)
    finished = (
        of_type(events, "node.completed")
        + of_type(events, "node.failed")
        + of_type(events, "node.retrying")
    )
    assert sorted((r.node_id, r.iteration or 0, r.attempt) for r in runs) == sorted(
        (e.node_id or "", e.data.get("iteration") or 0, e.data["attempt"]) for e in finished
    )
    return execution


async def test_customer_support_flow_streams_an_offline_answer(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    async with services(settings) as app:
        eid, events = await execute(
            app, settings, db, customer_support(), {"user_message": "我需要帮助"}
        )
    execution = await assert_consistent(db, eid, events)
    assert events[-1].type == "execution.completed"
    assert nodes_with(events, "node.started") == {"input_1", "llm_1", "output_1"}
    assert nodes_with(events, "node.completed") == {"input_1", "llm_1", "output_1"}

    chunks = of_type(events, "node.chunk")
    assert len(chunks) > 5 and {c.node_id for c in chunks} == {"llm_1"}
    assert [c.data["index"] for c in chunks] == list(range(len(chunks)))
    answer = "".join(c.data["text"] for c in chunks)
    (llm_done,) = [e for e in of_type(events, "node.completed") if e.node_id == "llm_1"]
    assert llm_done.data["output"] == answer
    assert answer.startswith("[offline gpt-4o-mini] 您好") and "我需要帮助" in answer
    assert llm_done.data["usage"]["estimated"] is True
    assert llm_done.data["attempt"] == 1 and llm_done.data["duration_ms"] >= 0
    # chunks come between the node's start and its completion
    started = next(e.seq for e in events if e.type == "node.started" and e.node_id == "llm_1")
    assert all(started < c.seq < llm_done.seq for c in chunks)

    done = events[-1].data
    assert done["output"] == answer
    assert done["usage"]["prompt_tokens"] > 0 and done["duration_ms"] > 0
    assert execution.status == "completed" and execution.output == answer
    assert execution.node_states["llm_1"].output == answer
    assert execution.usage.completion_tokens == llm_done.data["usage"]["completion_tokens"]
    runs = {r.node_id: r for r in await NodeRunRepository(db).list(eid)}
    assert runs["llm_1"].status == "completed" and runs["llm_1"].output == answer
    assert "我需要帮助" in str(runs["llm_1"].input)  # the rendered input the runner reported


async def test_condition_runs_one_branch_and_skips_the_other(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    wf = workflow(
        [
            {"id": "input_1", "type": "input"},
            {"id": "cond_1", "type": "condition", "config": {"expression": "input.n > 5"}},
            {"id": "big", "type": "output", "config": {"value": "big: {{ input.n }}"}},
            {"id": "small_llm", "type": "llm", "config": {"prompt": "why is {{ input.n }} small"}},
            {"id": "small", "type": "output", "config": {"value": "{{ nodes.small_llm.output }}"}},
        ],
        [
            ("input_1", "cond_1", None),
            ("cond_1", "big", "true"),
            ("cond_1", "small_llm", "false"),
            ("small_llm", "small", None),
        ],
    )
    async with services(settings) as app:
        eid, events = await execute(app, settings, db, wf, {"n": 9})
    execution = await assert_consistent(db, eid, events)
    assert events[-1].type == "execution.completed"
    assert nodes_with(events, "node.completed") == {"input_1", "cond_1", "big"}
    assert nodes_with(events, "node.skipped") == {"small_llm", "small"}
    (cond,) = [e for e in of_type(events, "node.completed") if e.node_id == "cond_1"]
    assert cond.data["handle"] == "true" and cond.data["output"] is True
    assert execution.output == "big: 9"


async def test_parallel_branches_run_together_and_join(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    wf = workflow(
        [
            {"id": "input_1", "type": "input"},
            {"id": "summary", "type": "llm", "config": {"prompt": "Summarise {{ input.topic }}"}},
            {"id": "title", "type": "llm", "config": {"prompt": "Title for {{ input.topic }}"}},
            {
                "id": "output_1",
                "type": "output",
                "config": {
                    "mapping": {
                        "title": "{{ nodes.title.output }}",
                        "summary": "{{ nodes.summary.output }}",
                    }
                },
            },
        ],
        [
            ("input_1", "summary", None),
            ("input_1", "title", None),
            ("summary", "output_1", None),
            ("title", "output_1", None),
        ],
    )
    async with services(settings) as app:
        eid, events = await execute(app, settings, db, wf, {"topic": "event sourcing"})
    execution = await assert_consistent(db, eid, events)
    seq = {(e.type, e.node_id): e.seq for e in events}
    # both branches were dispatched before either finished, and the join after both
    assert max(seq["node.started", "summary"], seq["node.started", "title"]) < min(
        seq["node.completed", "summary"], seq["node.completed", "title"]
    )
    assert seq["node.started", "output_1"] > max(
        seq["node.completed", "summary"], seq["node.completed", "title"]
    )
    assert execution.output["title"].startswith("[offline gpt-4o-mini]")
    assert "Summarise event sourcing" in execution.output["summary"]


async def test_a_failing_node_fails_the_execution_with_a_clear_message(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    # every node type has a handler now: an api call to a private address is refused by
    # the SSRF guard, a failure that retrying cannot fix
    wf = workflow(
        [
            {"id": "input_1", "type": "input"},
            {"id": "api_1", "type": "api", "config": {"url": "http://10.255.255.1/{{ input.q }}"}},
            {"id": "output_1", "type": "output"},
        ],
        [("input_1", "api_1", None), ("api_1", "output_1", None)],
    )
    async with services(settings) as app:
        eid, events = await execute(app, settings, db, wf, {"q": "x"})
    execution = await assert_consistent(db, eid, events)
    assert [e.type for e in events][-2:] == ["node.failed", "execution.failed"]
    failed = events[-2]
    assert failed.node_id == "api_1"
    assert failed.data["error"]["kind"] == "blocked"
    assert failed.data["error"]["retryable"] is False
    assert events[-1].data["error"].startswith("node 'api_1' failed: request blocked")
    assert "output_1" not in nodes_with(events, "node.started")
    assert execution.status == "failed" and execution.node_states["api_1"].status == "failed"
    assert execution.error is not None and "SSRF guard" in execution.error


async def test_llm_node_against_an_openai_compatible_server(
    settings: PilotSettings, db: AsyncDatabase[Document], fake_openai: FakeOpenAI
) -> None:
    pieces = ["您好，", "我们 ", "很乐意 ", "为您 ", "提供帮助。"]
    fake_openai.responder = lambda body: Reply(
        chunks=pieces, prompt_tokens=42, completion_tokens=17
    )
    async with services(settings, llm=fake_openai) as app:
        eid, events = await execute(
            app, settings, db, customer_support(), {"user_message": "我需要帮助"}
        )
    execution = await assert_consistent(db, eid, events)
    assert events[-1].type == "execution.completed"
    assert [c.data["text"] for c in of_type(events, "node.chunk")] == pieces
    (llm_done,) = [e for e in of_type(events, "node.completed") if e.node_id == "llm_1"]
    expected_cost = cost_usd("gpt-4o-mini", 42, 17)
    assert llm_done.data["usage"] == {
        "prompt_tokens": 42,
        "completion_tokens": 17,
        "cost_usd": expected_cost,
        "estimated": False,
    }
    assert execution.output == "".join(pieces)
    assert execution.usage.cost_usd == expected_cost
    assert events[-1].data["usage"]["cost_usd"] == expected_cost
    sent = fake_openai.requests[0]
    assert sent["headers"]["authorization"] == "Bearer test-key"
    assert sent["body"]["messages"][-1]["content"] == "回答用户的问题：我需要帮助"


async def test_a_retryable_failure_is_retried_after_a_backoff(
    settings: PilotSettings, db: AsyncDatabase[Document], fake_openai: FakeOpenAI
) -> None:
    calls: list[int] = []

    def flaky(body: dict[str, Any]) -> Reply:
        calls.append(1)
        return Reply(status=503) if len(calls) == 1 else Reply(content="recovered")

    fake_openai.responder = flaky
    wf = customer_support()
    wf.nodes[1].retry.max_attempts = 3
    wf.nodes[1].retry.initial_delay_ms = 20
    async with services(settings, llm=fake_openai) as app:
        eid, events = await execute(app, settings, db, wf, {"user_message": "help"})
    execution = await assert_consistent(db, eid, events)
    assert events[-1].type == "execution.completed" and execution.output == "recovered"
    llm = [
        (e.type, e.data.get("attempt"))
        for e in events
        if e.node_id == "llm_1" and e.type != "node.chunk"
    ]
    assert llm == [
        ("node.started", 1),
        ("node.retrying", 1),
        ("node.started", 2),
        ("node.completed", 2),
    ]
    (retrying,) = of_type(events, "node.retrying")
    assert 10 <= retrying.data["delay_ms"] <= 20 and retrying.data["error"]["retryable"]
    runs = sorted(
        (r.attempt, r.status) for r in await NodeRunRepository(db).list(eid) if r.node_id == "llm_1"
    )
    assert runs == [(1, "failed"), (2, "completed")]


async def test_a_missing_workflow_fails_the_execution(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    async with services(settings) as app:
        execution_id = new_id()
        await ExecutionRepository(db).insert(Execution(id=execution_id, workflow_id="gone"))
        run = Run(execution_id)
        nc = await nats.connect(settings.nats_url)
        await nc.subscribe(subjects.execution_events(execution_id=execution_id), cb=run.on_message)
        await nc.flush()
        assert isinstance(app.broker, NatsBroker)
        await publish(
            app.broker,
            RunRequest(execution_id=execution_id, workflow_id="gone"),
            subjects.RUN,
            msg_id=execution_id,
        )
        events = await run.wait()
        await nc.drain()
    assert [e.type for e in events] == ["execution.failed"]
    assert events[0].data["error"] == "workflow gone does not exist"


async def test_a_restarted_executor_resumes_without_rerunning_completed_nodes(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    # no llm runner at first: the run stops with the llm task waiting on the bus
    async with services(settings, types=["input", "output"]) as app:
        run, nc = await start_run(app, settings, db, customer_support(), {"user_message": "hi"})
        await run.wait_until(
            lambda events: any(e.type == "node.started" and e.node_id == "llm_1" for e in events)
        )
    # a new executor (and now an llm runner) picks the execution up from the store
    async with services(settings):
        events = await run.wait()
    await nc.drain()
    await assert_consistent(db, run.execution_id, events)
    assert events[-1].type == "execution.completed"
    assert [e.node_id for e in of_type(events, "node.started")] == ["input_1", "llm_1", "output_1"]
    runs = await NodeRunRepository(db).list(run.execution_id)
    assert sorted(r.node_id for r in runs) == ["input_1", "llm_1", "output_1"]


async def test_an_execution_left_waiting_for_a_retry_is_resumed_at_start_up(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    # what a crashed executor leaves behind: running, llm failed once and waiting for its
    # retry timer, which died with the process; nothing on the bus will wake it
    wf = customer_support()
    await WorkflowRepository(db).insert(wf)
    execution_id = new_id()
    now = utcnow()
    error = NodeError(kind="provider", message="HTTP 503", retryable=True)
    await ExecutionRepository(db).insert(
        Execution(
            id=execution_id,
            workflow_id=wf.id,
            status="running",
            started_at=now,
            input_data={"user_message": "hi"},
            node_states={
                "input_1": NodeState(status="completed", attempt=1, output={"user_message": "hi"}),
                "llm_1": NodeState(status="retrying", attempt=1, error=error),
            },
        )
    )
    run = Run(execution_id)
    nc = await nats.connect(settings.nats_url)
    await nc.subscribe(subjects.execution_events(execution_id=execution_id), cb=run.on_message)
    await nc.flush()
    async with services(settings):
        events = await run.wait(settings.nats_url)
    await nc.drain()
    assert events[-1].type == "execution.completed"
    # the lost lifecycle events come first, marked as recovered
    recovered = [(e.type, e.node_id) for e in events if e.data.get("recovered")]
    assert recovered == [
        ("execution.started", None),
        ("node.started", "input_1"),
        ("node.completed", "input_1"),
        ("node.started", "llm_1"),
        ("node.retrying", "llm_1"),
    ]
    llm_started = [
        e.data["attempt"] for e in of_type(events, "node.started") if e.node_id == "llm_1"
    ]
    assert llm_started == [1, 2]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    stored = await ExecutionRepository(db).get(execution_id)
    assert stored is not None and stored.status == "completed"
    assert stored.node_states["input_1"].attempt == 1  # the completed node did not run again


async def test_an_execution_runs_the_version_it_pinned(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    from pilot_shared.contracts import WorkflowVersion
    from pilot_shared.contracts.collaboration import version_id
    from pilot_shared.repositories import WorkflowVersionRepository

    def saying(text: str, version: int) -> Workflow:
        wf = workflow(
            [
                {"id": "input_1", "type": "input"},
                {"id": "output_1", "type": "output", "config": {"value": text}},
            ],
            [("input_1", "output_1", None)],
        )
        return wf.model_copy(update={"id": "wf-pinned", "version": version})

    v1, v2 = saying("first", 1), saying("second", 2)
    versions = WorkflowVersionRepository(db)
    for wf in (v1, v2):
        await versions.put(
            WorkflowVersion(
                id=version_id(wf.id, wf.version), workflow_id=wf.id, version=wf.version, workflow=wf
            )
        )
    await WorkflowRepository(db).insert(v2)  # an edit was saved after the run was requested
    execution_id = new_id()
    await ExecutionRepository(db).insert(
        Execution(id=execution_id, workflow_id=v1.id, workflow_version=1)
    )
    run = Run(execution_id)
    nc = await nats.connect(settings.nats_url)
    try:
        await nc.subscribe(subjects.execution_events(execution_id=execution_id), cb=run.on_message)
        await nc.flush()
        async with services(settings) as app:
            broker = app.broker
            assert isinstance(broker, NatsBroker)
            await publish(
                broker,
                RunRequest(execution_id=execution_id, workflow_id=v1.id),
                subjects.RUN,
                msg_id=execution_id,
            )
            events = await run.wait(settings.nats_url)
    finally:
        await nc.drain()
    assert events[-1].type == "execution.completed"
    assert events[-1].data["output"] == "first"
