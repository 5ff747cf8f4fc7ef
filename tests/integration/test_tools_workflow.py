"""The "run another workflow" tool through the real executor and runners over NATS: the
child runs as its own execution (one level deeper, linked to its parent) and its output
comes back as the tool node's output."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.repositories import ExecutionRepository, WorkflowRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_execution import execute, services, workflow


async def test_a_workflow_runs_another_and_gets_its_output(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    child = workflow(
        [
            {"id": "in", "type": "input"},
            {
                "id": "calc",
                "type": "tool",
                "config": {"tool": "calculator", "params": {"expression": "{{ input.n }} * 2"}},
            },
            {"id": "out", "type": "output", "config": {"value": "{{ nodes.calc.output.result }}"}},
        ],
        [("in", "calc", None), ("calc", "out", None)],
    )
    await WorkflowRepository(db).insert(child)
    parent = workflow(
        [
            {"id": "in", "type": "input"},
            {
                "id": "call",
                "type": "tool",
                "config": {
                    "tool": "workflow",
                    "params": {"workflow_id": child.id, "input": {"n": "{{ input.n }}"}},
                },
            },
            {"id": "out", "type": "output", "config": {"value": "{{ nodes.call.output.output }}"}},
        ],
        [("in", "call", None), ("call", "out", None)],
    )
    async with services(settings) as app:
        eid, events = await execute(app, settings, db, parent, {"n": 21})
    assert events[-1].type == "execution.completed", events[-1].data
    executions = ExecutionRepository(db)
    done = await executions.get(eid)
    assert done is not None and done.output == 42
    (doc,) = [d async for d in db["executions"].find({"parent_execution_id": eid})]
    child_run = await executions.get(doc["_id"])
    assert child_run is not None and child_run.status == "completed"
    assert child_run.workflow_id == child.id and child_run.depth == 1 and child_run.output == 42
