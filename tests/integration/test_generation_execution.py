"""Every workflow the evaluation set generates runs end to end on the offline provider,
through the real executor and node runners, in-process over real NATS and the store.

API nodes are pointed at a local server (allow-listed) that answers each kind of API the
planner calls with that API's shape (GitHub issues a list of dicts, weather and exchange
rates a dict, news a list, …), so conditions read real fields and loops get real items.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import pytest
from faststream import FastStream
from pymongo.asynchronous.database import AsyncDatabase

from pilot_runners.handlers.unsupported import handle_unsupported
from pilot_runners.registry import build_registry
from pilot_runners.settings import RunnerSettings
from pilot_shared.contracts import (
    NODE_TYPES,
    ApiNode,
    ExecutionEvent,
    InputNode,
    KnowledgeNode,
    LoopNode,
    Node,
    Workflow,
)
from pilot_shared.knowledge import KnowledgeStore
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.eval.generate import generate
from tests.eval.scoring import load_cases
from tests.integration.test_execution import assert_consistent, services, start_run
from tests.support.fake_apis import FakeApis, answer_for
from tests.unit.test_eval import sample

CONCURRENT_RUNS = 24
# A run waits behind up to CONCURRENT_RUNS - 1 others on a machine other tests share too.
RUN_DEADLINE_S = 120
# Run by the executor itself, not by a runner.
EXECUTOR_TYPES = frozenset({"loop"})
# Inputs an API URL is built from, as a user would fill them in.
URL_PARTS = {"repo": "acme/widgets", "city": "Shanghai"}


def unsupported_types() -> set[str]:
    registry = build_registry(RunnerSettings())
    return {
        t
        for t in NODE_TYPES
        if t not in EXECUTOR_TYPES and registry.handler_for(t) is handle_unsupported
    }


def looped_over(workflow: Workflow) -> set[str]:
    """Nodes whose whole output some loop iterates over (so it must be a list); a loop
    over a field of an output (`nodes.api_1.output.items`) finds a list in the records
    the stand-ins answer with."""
    return {
        ref
        for n in workflow.nodes
        if isinstance(n, LoopNode) and n.config.items
        for ref in re.findall(r"nodes\.(\w+)\.output\s*}}", n.config.items)
    }


def localized(workflow: Workflow, apis: FakeApis, kb_id: str) -> Workflow:
    """What a user does on the canvas before a real run: point API calls somewhere (here,
    the local stand-ins of the same APIs) and pick the knowledge base to search."""
    lists = looped_over(workflow)

    def fix(node: Node) -> Node:
        if isinstance(node, ApiNode):
            url = apis.local_url(node.config.url)
            if url != node.config.url:
                host, _, path = url.removeprefix(apis.url + "/").partition("/")
                route, answer = answer_for(host, path.split("?")[0])
                if route == "other" or (node.id in lists and not isinstance(answer, list)):
                    # No stand-in of its own, or not the list the workflow loops over.
                    shape = "list" if node.id in lists else "dict"
                    url = apis.generic_url(shape, f"{host}/{path}")
            return node.model_copy(update={"config": node.config.model_copy(update={"url": url})})
        if isinstance(node, KnowledgeNode) and not node.config.knowledge_base_id:
            return node.model_copy(
                update={"config": node.config.model_copy(update={"knowledge_base_id": kb_id})}
            )
        return node

    return workflow.model_copy(update={"nodes": [fix(n) for n in workflow.nodes]})


def input_for(workflow: Workflow, apis: FakeApis) -> dict[str, Any]:
    """A sample input, with the values API URLs are built from filled in as a user would:
    an `api_url` that answers a list when the workflow loops over the call's output, list
    items that carry a `url` for loops that fetch each one."""
    (node,) = [n for n in workflow.nodes if isinstance(n, InputNode)]
    data = sample(node.config.schema_)
    assert isinstance(data, dict)
    lists = looped_over(workflow)
    calls = [n for n in workflow.nodes if isinstance(n, ApiNode)]
    for name, value in list(data.items()):
        if name in URL_PARTS and isinstance(value, str):
            data[name] = URL_PARTS[name]
        elif "url" in name and isinstance(value, str):
            readers = [n for n in calls if f"input.{name}" in n.config.url]
            shape = "list" if any(n.id in lists for n in readers) else "dict"
            data[name] = apis.generic_url(shape, name)
        elif isinstance(value, list):
            data[name] = [
                {**item, "url": apis.generic_url("dict", f"{name}/{i}")}
                if isinstance(item, dict)
                else item
                for i, item in enumerate(value)
            ]
    return data


async def execute(
    app: FastStream, settings: PilotSettings, db: AsyncDatabase[Document], wf: Workflow, data: Any
) -> tuple[str, list[ExecutionEvent]]:
    run, nc = await start_run(app, settings, db, wf, data)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.finished.wait(), RUN_DEADLINE_S)
        # Done by now, or this reports where the run stalled.
        return run.execution_id, await run.wait(settings.nats_url)
    finally:
        await nc.drain()


def loop_outputs(events: list[ExecutionEvent], workflow: Workflow) -> dict[str, Any]:
    loops = {n.id for n in workflow.nodes if isinstance(n, LoopNode)}
    return {
        e.node_id: e.data.get("output")
        for e in events
        if e.type == "node.completed" and e.node_id in loops and "loop_id" not in e.data
    }


# Hundreds of runs; the time grows with the evaluation set and the machine's load.
@pytest.mark.timeout(1800)
@pytest.mark.slow
async def test_every_eval_workflow_executes(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    missing = unsupported_types()
    cases = [(case.id, generate(case)) for case in load_cases()]
    blocked = {cid: {n.type for n in wf.nodes} & missing for cid, wf in cases}
    assert not any(blocked.values()), f"node types no runner handles: {blocked}"
    kb = await KnowledgeStore(db).create_kb("handbook")
    await KnowledgeStore(db).add_documents(
        kb["_id"],
        [{"content": "Refunds take 5 days. 退款需要 5 天。", "kind": "text", "title": "FAQ"}],
    )
    failed: dict[str, Any] = {}
    empty_loops: dict[str, list[str]] = {}
    routes: set[str] = set()  # the stand-ins the localized workflows call by name
    with FakeApis().serve() as apis:
        local = settings.model_copy(update={"http_allowlist": ["127.0.0.1"]})
        async with services(local) as app:
            gate = asyncio.Semaphore(CONCURRENT_RUNS)

            async def run(case_id: str, workflow: Workflow) -> None:
                async with gate:
                    wf = localized(workflow, apis, kb["_id"])
                    routes.update(
                        answer_for(n.config.url.removeprefix(apis.url + "/").split("/")[0], "")[0]
                        for n in wf.nodes
                        if isinstance(n, ApiNode) and n.config.url.startswith(apis.url + "/")
                    )
                    eid, events = await execute(app, local, db, wf, input_for(wf, apis))
                    await assert_consistent(db, eid, events)
                    if events[-1].type != "execution.completed":
                        failed[case_id] = events[-1].data
                    outputs = loop_outputs(events, wf)
                    if empty := [lid for lid, out in outputs.items() if not out]:
                        empty_loops[case_id] = empty

            await asyncio.gather(*(run(case_id, wf) for case_id, wf in cases))
    assert cases, "the evaluation set is empty"
    assert failed == {}, f"{len(failed)} of {len(cases)} workflows did not complete"
    # Every loop had items to go through: the stand-in APIs answered with lists.
    assert empty_loops == {}
    # Each kind of API the workflows call was answered by its own stand-in.
    assert routes <= set(apis.hits), (routes, apis.hits)
    assert apis.hits["other"] == 0
