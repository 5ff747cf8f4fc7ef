"""The node-runners service over the real nats-server: tasks in, chunks and one result out."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.errors import NotFoundError

from pilot_runners.app import create_app
from pilot_runners.settings import RunnerSettings
from pilot_shared import subjects
from pilot_shared.bus import MSG_ID_HEADER
from pilot_shared.contracts import (
    NODE_ADAPTER,
    RUNNER_MESSAGE_ADAPTER,
    NodeChunk,
    NodeResult,
    NodeTask,
)
from pilot_shared.settings import PilotSettings


async def test_a_task_yields_its_chunks_in_order_then_one_result(settings: PilotSettings) -> None:
    app = create_app(RunnerSettings(**settings.model_dump()), types=["llm"])
    task = NodeTask(
        task_id="e1:llm_1:1",
        execution_id="e1",
        workflow_id="wf",
        node=NODE_ADAPTER.validate_python(
            {"id": "llm_1", "type": "llm", "config": {"prompt": "Hello {{ input.name }}"}}
        ),
        context={"input": {"name": "Ada"}, "nodes": {}},
    )
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    try:
        async with app:
            for expect_duplicate in (False, True):  # a retried dispatch is not a second task
                ack = await js.publish(
                    subjects.tasks("llm"),
                    task.model_dump_json().encode(),
                    headers={MSG_ID_HEADER: task.task_id},
                )
                assert bool(ack.duplicate) is expect_duplicate
            results = await js.pull_subscribe(subjects.RESULTS, durable="test-results")
            got: list[NodeChunk | NodeResult] = []
            ids: list[str] = []
            async with asyncio.timeout(20):
                while not got or not isinstance(got[-1], NodeResult):
                    for msg in await results.fetch(50, timeout=5):
                        got.append(RUNNER_MESSAGE_ADAPTER.validate_json(msg.data))
                        ids.append(msg.headers[MSG_ID_HEADER])
                        await msg.ack()
            with pytest.raises(NotFoundError):  # only the selected types are served
                await js.consumer_info(subjects.TASKS.name, subjects.runner_durable("input"))
    finally:
        await nc.drain()

    *chunks, result = got
    assert isinstance(result, NodeResult) and result.status == "completed"
    assert all(isinstance(c, NodeChunk) for c in chunks) and len(chunks) > 3
    assert [c.index for c in chunks] == list(range(len(chunks)))  # type: ignore[union-attr]
    assert "".join(c.text for c in chunks) == result.output  # type: ignore[union-attr]
    assert ids == [f"e1:llm_1:1:chunk:{i}" for i in range(len(chunks))] + ["e1:llm_1:1:result"]
    assert (result.task_id, result.node_id, result.attempt) == ("e1:llm_1:1", "llm_1", 1)
    assert "Hello Ada" in result.output
