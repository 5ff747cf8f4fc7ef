"""One trace per execution and per generation, across every process of `pilot up`:
from the HTTP request through each NATS hop to each node run and each LLM or HTTP call,
exported over OTLP/HTTP to a receiver the test runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PilotUp, start_pilot_up
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.http_servers import CountingServer
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan

pytestmark = pytest.mark.e2e

MODEL = "gpt-4o-mini"
PROMPT_TOKENS = 12
COMPLETION_TOKENS = 5
NODE_TYPES = {"input", "llm", "api", "condition", "output"}


@dataclass
class Traced:
    up: PilotUp
    otlp: OtlpReceiver
    api: CountingServer


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traced]:
    data_dir = tmp_path_factory.mktemp("pilot-traced") / "data"
    llm = FakeOpenAI(
        responder=lambda body: Reply(
            content="a short answer",
            prompt_tokens=PROMPT_TOKENS,
            completion_tokens=COMPLETION_TOKENS,
        )
    )
    with OtlpReceiver().serve() as otlp, CountingServer().serve() as api, llm.serve():
        up = start_pilot_up(
            data_dir,
            extra_env={
                "PILOT_OTLP_ENDPOINT": otlp.endpoint,
                # the exporter's batch leaves every 200 ms instead of every 5 s
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                "PILOT_HTTP_ALLOWLIST": "127.0.0.1",
                "PILOT_LLM_BASE_URL": llm.base_url,
                "PILOT_LLM_API_KEY": "sk-test",
                "PILOT_LLM_MODEL": MODEL,
                "PILOT_PLANNER_STRATEGY": "offline",
            },
        )
        try:
            yield Traced(up, otlp, api)
        finally:
            up.stop()


def workflow(api_url: str) -> dict[str, Any]:
    edges = [
        ("input_1", "llm_1", None),
        ("llm_1", "api_1", None),
        ("api_1", "check", None),
        ("check", "big", "true"),
        ("check", "small", "false"),
    ]
    return {
        "name": "traced",
        "nodes": [
            {"id": "input_1", "type": "input"},
            {
                "id": "llm_1",
                "type": "llm",
                "config": {"model": MODEL, "prompt": "Hi {{ input.n }}"},
            },
            {
                "id": "api_1",
                "type": "api",
                "config": {
                    "method": "POST",
                    "url": f"{api_url}/hook?token=do-not-trace",
                    "body": {"answer": "{{ nodes.llm_1.output }}"},
                },
            },
            {"id": "check", "type": "condition", "config": {"expression": "input.n > 1"}},
            {"id": "big", "type": "output", "config": {"value": "big"}},
            {"id": "small", "type": "output", "config": {"value": "small"}},
        ],
        "connections": [
            {"id": f"c{i}", "source": s, "target": t, "source_handle": h}
            for i, (s, t, h) in enumerate(edges, 1)
        ],
    }


# A deadline, not a sleep: under heavy load (other test workers, other sessions) spans
# have been seen to reach the receiver more than a minute late.
SPAN_WAIT_S = 150


def trace_ids(spans: list[ReceivedSpan], key: str, value: str) -> set[str]:
    return {s.trace_id for s in spans if s.attributes.get(key) == value}


def orphans(trace: list[ReceivedSpan]) -> list[ReceivedSpan]:
    """Spans whose parent is not in the trace (the one root aside)."""
    ids = {s.span_id for s in trace}
    return [s for s in trace if not s.is_root and s.parent_span_id not in ids]


def execution_trace_complete(trace: list[ReceivedSpan]) -> bool:
    runs = {s.attributes.get("pilot.node.type") for s in trace if s.name.startswith("node.run")}
    finished = any(
        s.name == "execution.step" and s.attributes.get("pilot.execution.status") == "completed"
        for s in trace
    )
    return runs >= NODE_TYPES and finished and not orphans(trace)


async def wait_completed(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = await client.get(f"/api/executions/{execution_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        await asyncio.sleep(0.1)
    pytest.fail(f"execution {execution_id} did not finish")


@pytest.mark.timeout(300)
async def test_one_trace_per_execution_across_processes(traced: Traced) -> None:
    async with traced.up.client() as client:
        r = await client.post("/api/workflows", json=workflow(traced.api.url))
        assert r.status_code == 201, r.text
        wf = r.json()["id"]
        execution_ids = []
        for n in (1, 2, 3):
            r = await client.post(f"/api/workflows/{wf}/execute", json={"input_data": {"n": n}})
            assert r.status_code == 202, r.text
            execution_ids.append(r.json()["execution_id"])
        for eid in execution_ids:
            detail = await wait_completed(client, eid)
            assert detail["status"] == "completed", detail

    def all_complete(spans: list[ReceivedSpan]) -> bool:
        for eid in execution_ids:
            ids = trace_ids(spans, "pilot.execution.id", eid)
            if len(ids) != 1:
                return len(ids) > 1  # more than one trace: stop waiting, the asserts say why
            if not execution_trace_complete([s for s in spans if s.trace_id in ids]):
                return False
        return True

    try:
        spans = traced.otlp.wait_for(all_complete, timeout_s=SPAN_WAIT_S)
    except TimeoutError:
        spans = traced.otlp.snapshot()  # the asserts below say what is missing

    traces: dict[str, str] = {}
    for eid in execution_ids:
        ids = trace_ids(spans, "pilot.execution.id", eid)
        assert len(ids) == 1, f"execution {eid} is spread over traces {ids}"
        traces[eid] = tid = ids.pop()
        trace = [s for s in spans if s.trace_id == tid]

        roots = [s for s in trace if s.is_root]
        assert len(roots) == 1, [(s.service, s.name) for s in roots]
        root = roots[0]
        assert root.service == "pilot-gateway"
        assert root.name.startswith("POST /api/workflows/")
        assert root.attributes["pilot.execution.id"] == eid
        assert not orphans(trace), [(s.service, s.name) for s in orphans(trace)]
        assert {"pilot-gateway", "pilot-executor", "pilot-runners"} <= {s.service for s in trace}

        runs = {
            s.attributes["pilot.node.type"]: s
            for s in trace
            if s.service == "pilot-runners" and s.name.startswith("node.run")
        }
        assert set(runs) >= NODE_TYPES, sorted(runs)
        for run in runs.values():
            assert run.attributes["pilot.execution.id"] == eid
            assert run.attributes["pilot.workflow.id"] == wf
        by_id = {s.span_id: s for s in trace}
        # each node run hangs under the executor's dispatch of it, one NATS hop away
        for run in runs.values():
            hop = run
            while hop.service == "pilot-runners" and hop.parent_span_id in by_id:
                hop = by_id[hop.parent_span_id]
            assert hop.service == "pilot-executor", (run.name, hop.name)

        (chat,) = [s for s in trace if s.name == f"chat {MODEL}"]
        assert chat.parent_span_id == runs["llm"].span_id
        assert chat.attributes["gen_ai.request.model"] == MODEL
        assert chat.attributes["gen_ai.usage.input_tokens"] == PROMPT_TOKENS
        assert chat.attributes["gen_ai.usage.output_tokens"] == COMPLETION_TOKENS
        assert chat.attributes["pilot.cost_usd"] > 0

        (call,) = [s for s in trace if s.name == "POST" and s.service == "pilot-runners"]
        assert call.parent_span_id == runs["api"].span_id
        assert call.attributes["http.response.status_code"] == 200
        assert "do-not-trace" not in call.attributes["url.full"]

    assert len(set(traces.values())) == len(execution_ids), traces


@pytest.mark.timeout(300)
async def test_one_trace_per_generation(traced: Traced) -> None:
    async with traced.up.client() as client:
        r = await client.post(
            "/api/workflows/generate",
            json={"prompt": "Summarise a support ticket and email the summary to the team"},
        )
        assert r.status_code in (200, 201), r.text
        generation_id = r.json()["generation_id"]

    def complete(spans: list[ReceivedSpan]) -> bool:
        ids = trace_ids(spans, "pilot.generation.id", generation_id)
        if len(ids) != 1:
            return False
        trace = [s for s in spans if s.trace_id in ids]
        services = {s.service for s in trace}
        return {"pilot-planner", "pilot-generator"} <= services and not orphans(trace)

    try:
        spans = traced.otlp.wait_for(complete, timeout_s=SPAN_WAIT_S)
    except TimeoutError:
        spans = traced.otlp.snapshot()
    ids = trace_ids(spans, "pilot.generation.id", generation_id)
    assert len(ids) == 1, ids
    trace = traced.otlp.trace(ids.pop())
    roots = [s for s in trace if s.is_root]
    assert [(r.service, r.name) for r in roots] == [
        ("pilot-gateway", "POST /api/workflows/generate")
    ]
    assert {"pilot-gateway", "pilot-planner", "pilot-generator"} <= {s.service for s in trace}
    assert not orphans(trace), [(s.service, s.name) for s in orphans(trace)]
