"""Control and error handling on the real nats-server and the real store: cancel, re-run
from a chosen node, re-run a failed execution from its failed node, a join after a
condition, a flaky endpoint retried with growing delays, an always-failing endpoint
under each on_error strategy."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from faststream.nats import NatsBroker
from pymongo.asynchronous.database import AsyncDatabase

from pilot_executor.control import request_cancel, request_rerun
from pilot_shared.contracts import Workflow
from pilot_shared.repositories import EventRepository, ExecutionRepository, NodeRunRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_execution import (
    assert_consistent,
    execute,
    nodes_with,
    of_type,
    services,
    start_run,
    workflow,
)
from tests.support.fleet import wait_finished
from tests.support.gauge_server import GaugeServer

INPUT = {"id": "input_1", "type": "input", "config": {}}


@pytest.fixture
def gauge() -> Iterator[GaugeServer]:
    with GaugeServer(delay_s=0.01).serve() as server:
        yield server


@pytest.fixture
def local(settings: PilotSettings) -> PilotSettings:
    return settings.model_copy(update={"http_allowlist": ["127.0.0.1"]})


def api(node_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "api", "config": {"url": url}, **extra}


def out(value: str) -> dict[str, Any]:
    return {"id": "output_1", "type": "output", "config": {"value": value}}


def chain(url: str, b_path: str = "/k/b") -> Workflow:
    return workflow(
        [INPUT, api("a", url + "/k/a"), api("b", url + b_path), out("{{ nodes.b.output }}")],
        [("input_1", "a", None), ("a", "b", None), ("b", "output_1", None)],
    )


def broker_of(app: Any) -> NatsBroker:
    broker = app.broker
    assert isinstance(broker, NatsBroker)
    return broker


async def test_a_join_after_a_condition_waits_for_the_branch_taken(
    local: PilotSettings, db: AsyncDatabase[Document], gauge: GaugeServer
) -> None:
    wf = workflow(
        [
            INPUT,
            {"id": "cond", "type": "condition", "config": {"expression": "input.n > 5"}},
            api("big", gauge.url + "/k/big"),
            api("small", gauge.url + "/k/small"),
            api("always", gauge.url + "/k/always"),
            out("{{ nodes.big.output if nodes.big else nodes.small.output }}"),
        ],
        [
            ("input_1", "cond", None),
            ("input_1", "always", None),
            ("cond", "big", "true"),
            ("cond", "small", "false"),
            ("big", "output_1", None),
            ("small", "output_1", None),
            ("always", "output_1", None),
        ],
    )
    async with services(local) as app:
        eid, events = await execute(app, local, db, wf, {"n": 9})
    execution = await assert_consistent(db, eid, events)
    assert execution.status == "completed"
    assert execution.output == {"path": "/k/big"}
    assert nodes_with(events, "node.skipped") == {"small"}
    assert [e.node_id for e in of_type(events, "node.started")].count("output_1") == 1
    # the join started only after both branches it depends on settled
    seq = {(e.type, e.node_id): e.seq for e in events}
    assert seq[("node.started", "output_1")] > seq[("node.completed", "big")]
    assert seq[("node.started", "output_1")] > seq[("node.completed", "always")]
    assert dict(gauge.hits) == {"/k/big": 1, "/k/always": 1}


async def test_a_flaky_endpoint_is_retried_with_growing_delays(
    local: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    with GaugeServer(delay_s=0.0, failures_before_success=2).serve() as flaky:
        retry = {"max_attempts": 3, "initial_delay_ms": 150, "multiplier": 2.0, "jitter": False}
        wf = workflow(
            [
                INPUT,
                api("call", flaky.url + "/fail/x", retry=retry),
                out("{{ nodes.call.output }}"),
            ],
            [("input_1", "call", None), ("call", "output_1", None)],
        )
        async with services(local) as app:
            eid, events = await execute(app, local, db, wf, {})
    execution = await assert_consistent(db, eid, events)
    assert execution.status == "completed"
    retrying = of_type(events, "node.retrying")
    assert [(e.data["attempt"], e.data["delay_ms"]) for e in retrying] == [(1, 150), (2, 300)]
    times = flaky.times["/fail/x"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Lower bounds only: the delays themselves are asserted exactly above, and how much
    # longer a shared machine takes on top of them is noise.
    assert len(times) == 3 and gaps[0] >= 0.15 and gaps[1] >= 0.3
    runs = await NodeRunRepository(db).list(eid, node_id="call")
    assert [(r.attempt, r.status) for r in runs] == [(1, "failed"), (2, "failed"), (3, "completed")]
    assert all(r.error is not None for r in runs[:2])


@pytest.mark.parametrize("strategy", ["fail", "continue", "error_branch", "fallback"])
async def test_an_always_failing_endpoint_under_each_on_error_strategy(
    local: PilotSettings, db: AsyncDatabase[Document], gauge: GaugeServer, strategy: str
) -> None:
    on_error = {"strategy": strategy, "default_output": "default"}
    wf = workflow(
        [
            INPUT,
            api("call", gauge.url + "/down", on_error=on_error),
            api("handler", gauge.url + "/k/handler"),
            out("{{ nodes.call.output if nodes.call else 'handled' }}"),
        ],
        [("input_1", "call", None), ("call", "output_1", None), ("call", "handler", "error")]
        if strategy == "error_branch"
        else [("input_1", "call", None), ("call", "output_1", None)],
    )
    if strategy != "error_branch":
        wf.nodes = [n for n in wf.nodes if n.id != "handler"]
    async with services(local) as app:
        eid, events = await execute(app, local, db, wf, {})
    execution = await assert_consistent(db, eid, events)
    if strategy == "continue":
        assert execution.status == "completed"
        assert execution.output == "default"
        completed = [e for e in of_type(events, "node.completed") if e.node_id == "call"]
        assert completed[0].data["on_error"] == "continue"
    elif strategy == "error_branch":
        assert execution.status == "completed"
        assert nodes_with(events, "node.failed") == {"call"}
        assert "handler" in nodes_with(events, "node.completed")
        assert nodes_with(events, "node.skipped") == {"output_1"}
        assert gauge.hits["/k/handler"] == 1
    else:  # fail, and fallback (an api node names no alternative: it fails like fail)
        assert execution.status == "failed"
        assert execution.error and execution.error.startswith("node 'call' failed: HTTP 503")
    assert gauge.hits["/down"] == 1  # HTTP 503 is retryable, but max_attempts is 1


async def test_cancel_stops_a_running_execution(
    local: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    with GaugeServer(delay_s=1.5).serve() as slow:
        async with services(local) as app:
            run, nc = await start_run(app, local, db, chain(slow.url), {})
            await run.wait_until(
                lambda evs: any(e.type == "node.started" and e.node_id == "a" for e in evs)
            )
            await request_cancel(broker_of(app), run.execution_id, "user pressed stop")
            events = await run.wait(local.nats_url)
            # the straggling result of `a` arrives and is ignored
            await wait_finished(db, [run.execution_id], 10)
            await nc.drain()
    execution = await assert_consistent(db, run.execution_id, events)
    assert execution.status == "cancelled"
    assert events[-1].type == "execution.cancelled"
    assert events[-1].data["reason"] == "user pressed stop"
    assert execution.node_states["a"].status == "cancelled"
    assert "b" not in nodes_with(events, "node.started")


async def test_rerun_from_a_node_reuses_upstream_outputs(
    local: PilotSettings, db: AsyncDatabase[Document], gauge: GaugeServer
) -> None:
    async with services(local) as app:
        eid, _events = await execute(app, local, db, chain(gauge.url), {})
        assert (await ExecutionRepository(db).get(eid)).status == "completed"  # type: ignore[union-attr]
        new_id = await request_rerun(broker_of(app), eid, ["b"])
        await wait_finished(db, [new_id], 20)
    rerun = await ExecutionRepository(db).get(new_id)
    assert rerun is not None and rerun.status == "completed"
    assert rerun.rerun_of == eid and rerun.rerun_from == ["b"]
    assert rerun.output == {"path": "/k/b"}
    assert dict(gauge.hits) == {"/k/a": 1, "/k/b": 2}  # a reused, b ran again
    new_events = await EventRepository(db).list_after(new_id)
    assert [e.node_id for e in of_type(new_events, "node.started")] == ["b", "output_1"]
    await assert_consistent(db, new_id, new_events)


async def test_rerun_of_a_failed_execution_restarts_at_its_failed_node(
    local: PilotSettings, db: AsyncDatabase[Document], gauge: GaugeServer
) -> None:
    gauge.down = True
    async with services(local) as app:
        eid, _events = await execute(app, local, db, chain(gauge.url, "/maybe/b"), {})
        failed = await ExecutionRepository(db).get(eid)
        assert failed is not None and failed.status == "failed"
        gauge.down = False  # the endpoint is fixed
        new_id = await request_rerun(broker_of(app), eid)  # no node: from the failed one
        await wait_finished(db, [new_id], 20)
    rerun = await ExecutionRepository(db).get(new_id)
    assert rerun is not None and rerun.status == "completed", rerun
    assert rerun.rerun_from == ["b"]
    assert dict(gauge.hits) == {"/k/a": 1, "/maybe/b": 2}
