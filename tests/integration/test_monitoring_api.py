"""The monitoring API over real history: a workflow run several times through the gateway,
the real executor and the real runners (LLM nodes against the OpenAI-compatible test server,
an api node against a flaky local server), then its stats, suggestions and usage checked
against what the store holds. Plus known durations written directly, to pin p50/p95 and
the window's bounds."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from pilot.embedded import free_port
from pilot_executor.app import create_app as create_executor
from pilot_executor.settings import ExecutorSettings
from pilot_runners.app import create_app as create_runners
from pilot_runners.settings import RunnerSettings
from pilot_shared.contracts import (
    TERMINAL_EXECUTION_STATUSES,
    Execution,
    NodeRun,
    NodeState,
    Usage,
)
from pilot_shared.pricing import cost_usd
from pilot_shared.repositories import ExecutionRepository, NodeRunRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import EXECUTIONS, NODE_RUNS, Document, from_document
from tests.integration.test_gateway_harness import (
    Gateway,
    eventually,
    gateway_settings,
    running_gateway,
    simple_workflow_json,
)
from tests.support.fake_openai import FakeOpenAI, Reply

# Every LLM answer reports these tokens, so cost is known: gpt-4o is the expensive model.
PROMPT_TOKENS, COMPLETION_TOKENS = 1000, 200
# The flaky API's latency: slower than anything else in the workflow, so it is the bottleneck.
API_LATENCY_S = 0.3
RUNS = 6
FAILING_API_CALLS = {2, 5}  # 1-based: the api node's 2nd and 5th calls answer 500


@dataclass
class FlakyApi:
    """A local JSON API that answers slowly and fails on chosen calls."""

    failing: set[int]
    calls: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @contextmanager
    def serve(self) -> Iterator[FlakyApi]:
        outer = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    outer.calls += 1
                    call = outer.calls
                time.sleep(API_LATENCY_S)  # the server's own latency, not a wait of the test
                status = 500 if call in outer.failing else 200
                body = b'{"error": "boom"}' if status == 500 else b'{"weather": "sunny"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.port = free_port()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


def monitored_workflow(api_url: str) -> dict[str, Any]:
    return {
        "name": "Weather answer",
        "nodes": [
            {
                "id": "input_1",
                "type": "input",
                "config": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "user_message": {"type": "string"},
                            "n": {"type": "integer"},
                        },
                        "required": ["user_message", "n"],
                    }
                },
            },
            {
                "id": "llm_1",
                "type": "llm",
                "config": {"model": "gpt-4o", "prompt": "Answer: {{ input.user_message }}"},
                "retry": {"max_attempts": 3, "initial_delay_ms": 10, "jitter": False},
            },
            {"id": "api_1", "type": "api", "config": {"method": "GET", "url": f"{api_url}/w"}},
            {"id": "cond_1", "type": "condition", "config": {"expression": "input.n > 100"}},
            {
                "id": "llm_2",
                "type": "llm",
                "config": {"model": "gpt-4o-mini", "prompt": "Big: {{ input.n }}"},
            },
            {"id": "out_big", "type": "output", "config": {"value": "{{ nodes.llm_2.output }}"}},
            {"id": "out_small", "type": "output", "config": {"value": "{{ nodes.llm_1.output }}"}},
        ],
        "connections": [
            {"id": "c1", "source": "input_1", "target": "llm_1"},
            {"id": "c2", "source": "llm_1", "target": "api_1"},
            {"id": "c3", "source": "api_1", "target": "cond_1"},
            {"id": "c4", "source": "cond_1", "target": "llm_2", "source_handle": "true"},
            {"id": "c5", "source": "llm_2", "target": "out_big"},
            {"id": "c6", "source": "cond_1", "target": "out_small", "source_handle": "false"},
        ],
    }


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@pytest.fixture
async def gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings)) as gw:
        yield gw


async def run_to_end(client: httpx.AsyncClient, workflow_id: str, data: dict[str, Any]) -> str:
    r = await client.post(f"/api/workflows/{workflow_id}/execute", json={"input_data": data})
    assert r.status_code == 202, r.text
    execution_id = str(r.json()["execution_id"])

    async def finished() -> bool:
        r = await client.get(f"/api/executions/{execution_id}")
        return r.json()["status"] in TERMINAL_EXECUTION_STATUSES

    await eventually(finished, timeout_s=30, what=f"execution {execution_id} to finish")
    return execution_id


async def test_stats_suggestions_and_usage_of_real_runs(
    settings: PilotSettings,
    db: AsyncDatabase[Document],
    gateway: Gateway,
    fake_openai: FakeOpenAI,
) -> None:
    llm_calls: list[str] = []

    def answer(body: dict[str, Any]) -> Reply:
        llm_calls.append(body["model"])
        if len(llm_calls) == 1:
            return Reply(status=503)  # one retried attempt of llm_1
        return Reply(
            content="It is sunny.", prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS
        )

    fake_openai.responder = answer
    base = settings.model_dump()
    base.update(
        llm_base_url=fake_openai.base_url,
        llm_api_key=SecretStr("test-key"),
        http_allowlist=["127.0.0.1"],
    )
    with FlakyApi(FAILING_API_CALLS).serve() as flaky:
        async with (
            create_executor(ExecutorSettings(**base)),
            create_runners(RunnerSettings(**base)),
            gateway.client() as admin,
        ):
            r = await admin.post("/api/workflows", json=monitored_workflow(flaky.url))
            assert r.status_code == 201, r.text
            workflow_id = r.json()["id"]
            r = await admin.get(f"/api/workflows/{workflow_id}/suggestions")
            assert r.status_code == 200, r.text
            assert r.json()["suggestions"] == [] and "no executions" in r.json()["note"]

            ids = [
                await run_to_end(admin, workflow_id, {"user_message": f"weather {i}?", "n": i})
                for i in range(1, RUNS + 1)
            ]
            bob_key = await gateway.create_user("bob")
            async with gateway.client(bob_key) as bob:
                r = await bob.post("/api/workflows", json=simple_workflow_json("Bob's bot"))
                bob_workflow = r.json()["id"]
                bob_execution = await run_to_end(bob, bob_workflow, {"user_message": "hi"})

            stats = (await admin.get(f"/api/workflows/{workflow_id}/stats")).json()
            advice = (await admin.get(f"/api/workflows/{workflow_id}/suggestions")).json()
            admin_id = (await admin.get("/api/users/me")).json()["id"]
            mine = (await admin.get("/api/usage", params={"user_id": admin_id})).json()
            everyone = (await admin.get("/api/usage")).json()
            async with gateway.client(bob_key) as bob:
                bob_id = (await bob.get("/api/users/me")).json()["id"]
                assert (await bob.get(f"/api/workflows/{workflow_id}/stats")).status_code == 404
                r = await bob.get(f"/api/workflows/{workflow_id}/suggestions")
                assert r.status_code == 404
                assert (
                    await bob.get("/api/usage", params={"user_id": admin_id})
                ).status_code == 404
                bobs = (await bob.get("/api/usage")).json()
            by_admin = (await admin.get("/api/usage", params={"user_id": bob_id})).json()

    # --- stats: counts, rates and durations agree with the executions collection -----------
    executions = [
        Execution.model_validate(from_document(d))
        async for d in db[EXECUTIONS].find({"workflow_id": workflow_id})
    ]
    assert sorted(e.id for e in executions) == sorted(ids)
    statuses = sorted(e.status for e in executions)
    assert statuses == ["completed"] * 4 + ["failed"] * 2
    assert stats["window"]["count"] == RUNS and stats["runs"] == RUNS
    assert stats["window"]["truncated"] is False
    assert stats["by_status"] == {"completed": 4, "failed": 2}
    assert stats["success_rate"] == pytest.approx(4 / 6, abs=1e-4)
    durations = [e.duration_ms for e in executions if e.duration_ms is not None]
    assert len(durations) == RUNS
    assert stats["duration"]["p50_ms"] == nearest_rank(durations, 50)
    assert stats["duration"]["p95_ms"] == nearest_rank(durations, 95)

    # cost and tokens: the sum of every node run's usage, read independently
    runs = [NodeRun.model_validate(from_document(d)) async for d in db[NODE_RUNS].find({})]
    runs = [r for r in runs if r.execution_id in ids]
    usages = [r.usage for r in runs if r.usage is not None]
    assert stats["cost"]["total_usd"] == pytest.approx(sum(u.cost_usd for u in usages), abs=1e-9)
    llm_answers = RUNS  # llm_1 answered once per run (its 503 carried no usage)
    assert stats["cost"]["total_usd"] == pytest.approx(
        llm_answers * cost_usd("gpt-4o", PROMPT_TOKENS, COMPLETION_TOKENS), abs=1e-9
    )
    assert stats["cost"]["per_run_usd"] == pytest.approx(stats["cost"]["total_usd"] / RUNS)
    assert stats["tokens"]["prompt"] == sum(u.prompt_tokens for u in usages)
    assert stats["tokens"]["completion"] == sum(u.completion_tokens for u in usages)

    nodes = {n["node_id"]: n for n in stats["nodes"]}
    assert [n["node_id"] for n in stats["nodes"]] == [
        "input_1",
        "llm_1",
        "api_1",
        "cond_1",
        "out_small",
    ]
    assert (nodes["llm_1"]["runs"], nodes["llm_1"]["attempts"], nodes["llm_1"]["retries"]) == (
        6,
        7,
        1,
    )
    assert nodes["llm_1"]["success_rate"] == 1.0
    assert (nodes["api_1"]["runs"], nodes["api_1"]["failed"], nodes["api_1"]["retries"]) == (
        6,
        2,
        0,
    )
    assert nodes["api_1"]["success_rate"] == pytest.approx(4 / 6, abs=1e-4)
    assert nodes["cond_1"]["runs"] == 4 and nodes["out_small"]["runs"] == 4
    api_durations = [r.duration_ms for r in runs if r.node_id == "api_1" and r.duration_ms]
    assert nodes["api_1"]["p95_ms"] == nearest_rank(api_durations, 95)
    mean = sum(api_durations) / len(api_durations)
    assert nodes["api_1"]["mean_ms"] == pytest.approx(mean, abs=1e-3)  # rounded to 1 µs
    assert nodes["llm_1"]["cost_usd"] == pytest.approx(stats["cost"]["total_usd"])

    # --- suggestions name the bottleneck, the cost hot spot, the flaky node, the dead branch
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for s in advice["suggestions"]:
        assert set(s) == {"kind", "node_id", "title", "detail", "evidence", "severity"}
        by_kind.setdefault(s["kind"], []).append(s)
    (bottleneck,) = by_kind["bottleneck"]
    assert bottleneck["node_id"] == "api_1"
    assert bottleneck["evidence"]["node_total_ms"] == pytest.approx(sum(api_durations))
    evidence = bottleneck["evidence"]
    assert evidence["execution_total_ms"] == pytest.approx(sum(durations), abs=1e-3)
    assert evidence["share_of_execution_time"] == pytest.approx(
        sum(api_durations) / sum(durations), abs=1e-4
    )
    assert evidence["share_of_node_time"] > 0.5  # 300 ms of API latency per call
    (hotspot,) = by_kind["cost_hotspot"]
    assert hotspot["node_id"] == "llm_1" and hotspot["evidence"]["model"] == "gpt-4o"
    assert hotspot["evidence"]["suggested_model"] == "gpt-4o-mini"
    assert hotspot["evidence"]["saving_usd"] > 0
    (flaky_node,) = by_kind["flaky_node"]  # llm_1 retried once in 6 runs: under the threshold
    assert flaky_node["node_id"] == "api_1"
    assert (
        flaky_node["evidence"]["failed_attempts"] == 2 and flaky_node["evidence"]["attempts"] == 6
    )
    assert flaky_node["evidence"]["retryable_failures"] == 2  # HTTP 500s: worth retrying
    assert "add a retry policy" in flaky_node["detail"] and "on_error" in flaky_node["detail"]
    (untaken,) = by_kind["branch_never_taken"]
    assert untaken["node_id"] == "cond_1" and untaken["evidence"]["handle"] == "true"
    assert untaken["evidence"]["taken"] == {"false": 4}

    # --- usage: per day sums to the stats; each user sees their own ------------------------
    assert mine["scope"] == "self" and mine["totals"]["runs"] == RUNS
    assert sum(d["runs"] for d in mine["days"]) == RUNS
    day_cost = sum(d["cost_usd"] for d in mine["days"])
    assert day_cost == pytest.approx(stats["cost"]["total_usd"], abs=1e-9)
    assert sum(d["tokens"]["prompt"] for d in mine["days"]) == stats["tokens"]["prompt"]
    assert {d["user_id"] for d in mine["days"]} == {admin_id}
    assert mine["top_by_cost"][0] == {
        "workflow_id": workflow_id,
        "name": "Weather answer",
        "runs": RUNS,
        "cost_usd": pytest.approx(stats["cost"]["total_usd"]),
    }
    assert bobs["scope"] == "self" and bobs["totals"]["runs"] == 1
    assert {d["user_id"] for d in bobs["days"]} == {bob_id}
    assert [w["workflow_id"] for w in bobs["top_by_runs"]] == [bob_workflow]
    assert by_admin["scope"] == "user" and by_admin["totals"]["runs"] == 1
    assert everyone["scope"] == "all" and everyone["totals"]["runs"] == RUNS + 1
    assert {d["user_id"] for d in everyone["days"]} == {admin_id, bob_id}
    assert bob_execution not in ids


async def test_known_durations_and_the_window(
    db: AsyncDatabase[Document], gateway: Gateway
) -> None:
    """Executions written as the executor writes them, with durations 10, 20, … 200 ms."""
    async with gateway.client() as client:
        r = await client.post("/api/workflows", json=simple_workflow_json())
        workflow_id = r.json()["id"]
        start = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
        executions, node_runs = ExecutionRepository(db), NodeRunRepository(db)
        for i in range(20):
            created = start + timedelta(minutes=10 * i)  # crosses midnight UTC at i = 6
            execution_id = f"known-{i:02d}"
            usage = Usage(prompt_tokens=10, completion_tokens=5, cost_usd=0.001 * (i + 1))
            await executions.insert(
                Execution(
                    id=execution_id,
                    workflow_id=workflow_id,
                    status="failed" if i % 5 == 0 else "completed",
                    created_at=created,
                    duration_ms=10.0 * (i + 1),
                    usage=usage,
                    node_states={"llm_1": NodeState(status="completed")},
                )
            )
            await node_runs.upsert(
                NodeRun(
                    id=f"{execution_id}:llm_1::1",
                    execution_id=execution_id,
                    workflow_id=workflow_id,
                    node_id="llm_1",
                    node_type="llm",
                    attempt=1,
                    status="completed",
                    started_at=created,
                    duration_ms=10.0 * (i + 1) - 5,
                    usage=usage,
                )
            )
        stats = (await client.get(f"/api/workflows/{workflow_id}/stats")).json()
        assert stats["duration"] == {
            "count": 20,
            "mean_ms": 105.0,
            "p50_ms": 100.0,
            "p95_ms": 190.0,
        }
        assert stats["by_status"] == {"completed": 16, "failed": 4}
        assert stats["success_rate"] == 0.8
        assert stats["cost"]["total_usd"] == pytest.approx(0.001 * 210)
        (llm,) = [n for n in stats["nodes"] if n["node_id"] == "llm_1"]
        assert (llm["mean_ms"], llm["p95_ms"]) == (100.0, 185.0)
        window = stats["window"]
        assert window["count"] == 20 and not window["truncated"]
        assert window["from"].startswith("2026-03-01T23:00:00")
        assert window["to"].startswith("2026-03-02T02:10:00")

        # the newest 5 only, and said so
        r = await client.get(f"/api/workflows/{workflow_id}/stats", params={"limit": 5})
        part = r.json()
        assert part["window"]["count"] == 5 and part["window"]["truncated"] is True
        assert part["duration"]["p50_ms"] == 180.0 and part["duration"]["p95_ms"] == 200.0
        assert part["window"]["from"].startswith("2026-03-02T01:30:00")

        # since: executions created at or after it (i >= 12)
        since = (start + timedelta(minutes=120)).isoformat()
        part = (
            await client.get(f"/api/workflows/{workflow_id}/stats", params={"since": since})
        ).json()
        assert part["runs"] == 8 and part["duration"]["p50_ms"] == 160.0

        # usage per UTC day: 6 executions on March 1st, 14 on the 2nd
        usage = (
            await client.get(
                "/api/usage",
                params={"since": "2026-03-01T00:00:00Z", "until": "2026-03-03T00:00:00Z"},
            )
        ).json()
        days = {d["day"]: d for d in usage["days"]}
        assert {day: d["runs"] for day, d in days.items()} == {"2026-03-01": 6, "2026-03-02": 14}
        assert days["2026-03-01"]["cost_usd"] == pytest.approx(0.001 * (1 + 2 + 3 + 4 + 5 + 6))
        assert usage["totals"]["cost_usd"] == pytest.approx(stats["cost"]["total_usd"])
        assert usage["totals"]["tokens"] == {"prompt": 200, "completion": 100, "total": 300}

        for bad in ({"limit": 0}, {"limit": 5001}, {"since": "yesterday"}, {"since": "0.5"}):
            r = await client.get(f"/api/workflows/{workflow_id}/stats", params=bad)
            assert r.status_code == 422, (bad, r.text)
