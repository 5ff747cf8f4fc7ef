"""The harness itself: real servers answer, and the store round-trips what πlot writes."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.contracts import Execution, ExecutionEvent, NodeRun, NodeState, Usage, Workflow
from pilot_shared.repositories import (
    EventRepository,
    ExecutionRepository,
    NodeRunRepository,
    WorkflowRepository,
)
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document


def _workflow() -> Workflow:
    return Workflow.model_validate(
        {
            "name": "客户支持",
            "nodes": [
                {"id": "input_1", "type": "input", "config": {"schema": {"type": "object"}}},
                {
                    "id": "cond_1",
                    "type": "condition",
                    "config": {"cases": [{"handle": "refund", "when": "'refund' in input.text"}]},
                },
                {
                    "id": "loop_1",
                    "type": "loop",
                    "config": {"items": "{{ input.items }}", "body": ["llm_1"]},
                },
                {"id": "llm_1", "type": "llm", "config": {"prompt": "Answer: {{ item }}"}},
                {
                    "id": "output_1",
                    "type": "output",
                    "config": {"mapping": {"a": "{{ nodes.llm_1.output }}"}},
                },
            ],
            "connections": [{"id": "c1", "source": "input_1", "target": "cond_1"}],
        }
    )


async def test_store_round_trips_every_document_shape(db: AsyncDatabase[Document]) -> None:
    wf = _workflow()
    await WorkflowRepository(db).insert(wf)
    assert await WorkflowRepository(db).get(wf.id) == wf

    ex = Execution(
        id="e1", workflow_id=wf.id, input_data={"text": "我需要帮助", "n": [1, {"a": None}]}
    )
    executions = ExecutionRepository(db)
    await executions.insert(ex)
    state = NodeState(
        status="completed", attempt=1, output={"x": [1, 2]}, usage=Usage(prompt_tokens=3)
    )
    await executions.set_fields(
        "e1", {"node_states.llm_1": state.model_dump(mode="json"), "status": "running"}
    )
    got = await executions.get("e1")
    assert got is not None and got.node_states["llm_1"] == state and got.status == "running"
    assert await executions.allocate_seq("e1", 3) == 1
    assert await executions.allocate_seq("e1") == 4

    events = EventRepository(db)
    batch = [
        ExecutionEvent(
            execution_id="e1", workflow_id=wf.id, seq=i, type="node.chunk", data={"text": "块"}
        )
        for i in range(1, 6)
    ]
    await events.insert_many(batch)
    await events.insert_many(batch[2:])  # a redelivery must not duplicate
    assert [e.seq for e in await events.list_after("e1", 2)] == [3, 4, 5]
    assert (await events.list_after("e1"))[0] == batch[0]

    run = NodeRun(
        id="e1:llm_1::1",
        execution_id="e1",
        workflow_id=wf.id,
        node_id="llm_1",
        node_type="llm",
        attempt=1,
        status="completed",
        output="ok",
    )
    await NodeRunRepository(db).upsert(run)
    await NodeRunRepository(db).upsert(run)
    assert await NodeRunRepository(db).list("e1") == [run]


async def test_nats_has_every_stream(settings: PilotSettings) -> None:
    import nats

    from pilot_shared.subjects import STREAMS

    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        names = {(await js.stream_info(s.name)).config.name for s in STREAMS}
        assert names == {s.name for s in STREAMS}
    finally:
        await nc.drain()
