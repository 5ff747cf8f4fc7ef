"""The executor's transactional outbox keeps a step's node runs: a process that dies
after the execution's state is committed but before the node-run write lands leaves a
settled node whose run record the next executor writes from the outbox."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.contracts import NodeRun
from pilot_shared.repositories import ExecutionRepository, NodeRunRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_execution import assert_consistent, execute, services, workflow
from tests.support.fleet import wait_for


async def test_a_node_run_write_lost_after_the_state_commit_is_written_from_the_outbox(
    settings: PilotSettings, db: AsyncDatabase[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    wf = workflow(
        [
            {"id": "input_1", "type": "input"},
            {"id": "output_1", "type": "output", "config": {"value": "{{ input.q }}"}},
        ],
        [("input_1", "output_1", None)],
    )
    real = NodeRunRepository.upsert_many
    lost: list[str] = []

    async def upsert_many(self: NodeRunRepository, runs: list[NodeRun]) -> None:
        settled = [r for r in runs if r.node_id == "input_1" and r.status == "completed"]
        if settled and not lost:
            # the state write beside this one lands; this one is "lost with the process"
            execution_id = settled[0].execution_id

            async def committed() -> Any:
                execution = await ExecutionRepository(db).get(execution_id)
                return execution and execution.node_states["input_1"].status == "completed"

            await wait_for(committed, 30, "the state write")
            lost.append(execution_id)
            raise ConnectionError("the executor died before its node-run write")
        await real(self, runs)

    monkeypatch.setattr(NodeRunRepository, "upsert_many", upsert_many)
    async with services(settings) as app:
        eid, events = await execute(app, settings, db, wf, {"q": "hi"})
    assert lost == [eid]  # the write was lost once, after the state had moved on
    assert events[-1].type == "execution.completed"
    await assert_consistent(db, eid, events)  # every settled node has its run
    runs = await NodeRunRepository(db).list(eid)
    assert {(r.node_id, r.status) for r in runs} == {
        ("input_1", "completed"),
        ("output_1", "completed"),
    }
