"""Loops and limits on the real nats-server and the real store: for_each with a
concurrency cap and item-ordered results, while with max_iterations, and the
per-execution limits (steps, wall time, loop iterations, call depth)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nats
import pytest
from faststream.nats import NatsBroker
from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared import subjects
from pilot_shared.bus import publish
from pilot_shared.contracts import Execution, RunRequest, Workflow, new_id
from pilot_shared.repositories import ExecutionRepository, NodeRunRepository, WorkflowRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_execution import (
    Run,
    assert_consistent,
    execute,
    of_type,
    services,
    workflow,
)
from tests.support.gauge_server import GaugeServer

INPUT = {"id": "input_1", "type": "input", "config": {}}
OUTPUT = {"id": "output_1", "type": "output", "config": {"value": "{{ nodes.loop_1.output }}"}}


@pytest.fixture
def gauge() -> Iterator[GaugeServer]:
    with GaugeServer(delay_s=0.03).serve() as server:
        yield server


@pytest.fixture
def local(settings: PilotSettings) -> PilotSettings:
    return settings.model_copy(update={"http_allowlist": ["127.0.0.1"]})


def api(node_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "api", "config": {"method": "GET", "url": url}, **extra}


def for_each(url: str, concurrency: int, max_iterations: int = 100) -> Workflow:
    return workflow(
        [
            INPUT,
            {
                "id": "loop_1",
                "type": "loop",
                "config": {
                    "mode": "for_each",
                    "items": "{{ input.items }}",
                    "body": ["fetch", "shape"],
                    "concurrency": concurrency,
                    "max_iterations": max_iterations,
                },
            },
            api("fetch", url + "/n/{{ item }}?i={{ loop.index0 }}"),
            {
                "id": "shape",
                "type": "output",
                "config": {
                    "mapping": {
                        "n": "{{ nodes.fetch.output.n }}",
                        "index": "{{ loop.index0 }}",
                    }
                },
            },
            OUTPUT,
        ],
        [
            ("input_1", "loop_1", None),
            ("loop_1", "fetch", "body"),
            ("fetch", "shape", None),
            ("loop_1", "output_1", None),
        ],
    )


async def test_for_each_over_50_items_keeps_4_in_flight_and_item_order(
    local: PilotSettings, db: AsyncDatabase[Document], gauge: GaugeServer
) -> None:
    items = [(i * 7) % 50 for i in range(50)]  # not sorted: order must follow the items
    async with services(local) as app:
        eid, events = await execute(app, local, db, for_each(gauge.url, 4), {"items": items})
    execution = await assert_consistent(db, eid, events)
    assert execution.status == "completed", execution.error
    assert execution.output == [{"n": n, "index": i} for i, n in enumerate(items)]
    assert gauge.total == 50  # every item fetched exactly once
    assert gauge.max_in_flight <= 4, gauge.max_in_flight
    assert gauge.max_in_flight >= 2  # it did run in parallel
    # the executor never had more than 4 iterations open, by its own events
    open_, most = set(), 0
    for e in events:
        if e.node_id == "fetch" and e.type == "node.started":
            open_.add(e.data["iteration"])
        elif e.node_id == "shape" and e.type in ("node.completed", "node.failed"):
            open_.discard(e.data["iteration"])
        most = max(most, len(open_))
    assert most <= 4
    runs = await NodeRunRepository(db).list(eid, node_id="fetch")
    assert sorted(r.iteration or 0 for r in runs) == list(range(50))
    assert all(r.input is not None for r in runs)  # the rendered request the runner sent


async def run_while_loop(
    local: PilotSettings,
    db: AsyncDatabase[Document],
    condition: str,
    url: str,
    max_iterations: int,
) -> Execution:
    """input -> a while loop whose body calls `url` -> output, run to its end."""
    wf = workflow(
        [
            INPUT,
            {
                "id": "loop_1",
                "type": "loop",
                "config": {
                    "mode": "while",
                    "condition": condition,
                    "body": ["fetch"],
                    "max_iterations": max_iterations,
                },
            },
            api("fetch", url),
            OUTPUT,
        ],
        [("input_1", "loop_1", None), ("loop_1", "fetch", "body"), ("loop_1", "output_1", None)],
    )
    async with services(local) as app:
        eid, events = await execute(app, local, db, wf, {})
    return await assert_consistent(db, eid, events)


async def test_while_loop_stops_when_its_condition_fails(
    local: PilotSettings, db: AsyncDatabase[Document], gauge: GaugeServer
) -> None:
    execution = await run_while_loop(
        local, db, "loop.index0 < 3", gauge.url + "/n/{{ loop.index0 * 10 }}", 10
    )
    assert execution.status == "completed", execution.error
    assert [r["n"] for r in execution.output] == [0, 10, 20]
    assert gauge.max_in_flight == 1  # a while loop runs its iterations one after another


async def test_a_while_loop_past_max_iterations_fails_with_a_clear_reason(
    local: PilotSettings, db: AsyncDatabase[Document], gauge: GaugeServer
) -> None:
    execution = await run_while_loop(local, db, "true", gauge.url + "/n/{{ loop.index0 }}", 5)
    assert execution.status == "failed"
    assert "loop iteration limit exceeded" in (execution.error or "")
    assert "max_iterations=5" in (execution.error or "")
    assert gauge.total == 5


async def test_limits_fail_the_execution_with_a_clear_reason(
    local: PilotSettings, db: AsyncDatabase[Document], gauge: GaugeServer
) -> None:
    # loop iterations: the executor's own cap applies below the loop's max_iterations
    async with services(local, executor_max_loop_iterations=10) as app:
        eid, events = await execute(
            app, local, db, for_each(gauge.url, 4), {"items": list(range(20))}
        )
    execution = await assert_consistent(db, eid, events)
    assert execution.status == "failed"
    assert "loop iteration limit exceeded: 20 items > the executor's max_loop_iterations=10" in (
        execution.error or ""
    )
    assert gauge.total == 0

    # steps: node attempts, loop bodies included
    async with services(local, executor_max_steps=7) as app:
        eid, events = await execute(
            app, local, db, for_each(gauge.url, 2), {"items": list(range(20))}
        )
    execution = await assert_consistent(db, eid, events)
    assert execution.status == "failed"
    assert "step limit exceeded" in (execution.error or "")
    assert "max_steps=7" in (execution.error or "")
    assert len(of_type(events, "node.started")) <= 8  # 7 dispatched + the loop itself

    # wall time: a slow endpoint outlives the limit; the deadline timer fails the run
    slow = GaugeServer(delay_s=3.0)
    with slow.serve():
        async with services(local, executor_max_wall_time_s=0.5) as app:
            eid, events = await execute(app, local, db, for_each(slow.url, 1), {"items": [1]})
    execution = await assert_consistent(db, eid, events)
    assert execution.status == "failed"
    assert "wall time limit exceeded" in (execution.error or "")

    # call depth: an execution deeper in a sub-workflow chain than allowed fails
    wf = for_each(gauge.url, 1)
    await WorkflowRepository(db).insert(wf)
    deep = Execution(id=new_id(), workflow_id=wf.id, input_data={"items": [1]}, depth=3)
    await ExecutionRepository(db).insert(deep)
    async with services(local, executor_max_call_depth=2) as app:
        run = Run(deep.id)
        nc = await nats.connect(local.nats_url)
        await nc.subscribe(subjects.execution_events(execution_id=deep.id), cb=run.on_message)
        await nc.flush()
        broker = app.broker
        assert isinstance(broker, NatsBroker)
        await publish(
            broker,
            RunRequest(execution_id=deep.id, workflow_id=wf.id),
            subjects.RUN,
            msg_id=deep.id,
        )
        events = await run.wait(local.nats_url)
        await nc.drain()
    execution = await assert_consistent(db, deep.id, events)
    assert execution.status == "failed"
    assert execution.error == "call depth limit exceeded: depth 3 > max_call_depth=2"
