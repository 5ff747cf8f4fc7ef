"""schemathesis against the gateway's OpenAPI, with a bounded number of examples: every
documented operation, every check but positive_data_acceptance (see the script), no
server errors and no response that violates the documented schema.

The same script `make schemathesis` runs against a full `pilot up`; here it fuzzes a
gateway whose planner (for prompts) and executor are stand-ins, so the run stays short.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import nats
import pytest
from faststream.nats import NatsBroker
from pymongo.asynchronous.database import AsyncDatabase

from pilot_generator.app import create_app as create_generator
from pilot_planner.app import register_queries
from pilot_shared.contracts import GenerationEvent, PlanRequest
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_gateway_harness import (
    FakeExecutor,
    FakePlanner,
    gateway_settings,
    running_gateway,
    simple_workflow,
    simple_workflow_json,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "services" / "gateway" / "scripts" / "schemathesis.sh"
UNLIMITED = {
    "rate_limit_per_minute": 1e6,
    "rate_limit_burst": 100_000,
    "expensive_per_minute": 1e6,
    "expensive_burst": 100_000,
    "auth_failures_per_minute": 1e6,
    "max_concurrent_executions": 100_000,
    "generate_timeout_s": 5,
}


def _completes(request: PlanRequest) -> GenerationEvent:
    workflow = simple_workflow("generated")
    return GenerationEvent(
        generation_id=request.generation_id,
        type="generation.completed",
        workflow_id=workflow.id,
        workflow=workflow,
    )


@pytest.mark.slow
async def test_schemathesis_finds_no_server_errors_or_schema_violations(
    settings: PilotSettings, db: AsyncDatabase[Document], tmp_path: Path
) -> None:
    nc = await nats.connect(settings.nats_url)
    stack = AsyncExitStack()
    try:
        await FakePlanner(nc, db, _completes).start()
        await FakeExecutor(nc, db).start()
        # The planner's queries (templates, suggestions) and a generator for workflows
        # made from templates: the real ones, as nothing about them is slow.
        queries = NatsBroker(settings.nats_url)
        register_queries(queries)
        await queries.start()
        stack.push_async_callback(queries.stop)
        await stack.enter_async_context(create_generator(settings))
        async with running_gateway(gateway_settings(settings, **UNLIMITED)) as gateway:
            async with gateway.client() as client:  # something real to find and run
                r = await client.post("/api/workflows", json=simple_workflow_json())
                assert r.status_code == 201, r.text
            env = {
                **os.environ,
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                "SCHEMATHESIS_URL": gateway.base_url,
                "SCHEMATHESIS_KEY": gateway.admin_key,
                "EXAMPLES": "15",
                "PHASES": "examples,fuzzing,stateful",
                "REPORT_DIR": str(tmp_path / "report"),
            }
            proc = await asyncio.create_subprocess_exec(
                "bash",
                str(SCRIPT),
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 300)
    finally:
        await stack.aclose()
        await nc.drain()
    text = out.decode(errors="replace")
    summary = text[text.rfind("SUMMARY") :] if "SUMMARY" in text else text[-4000:]
    assert proc.returncode == 0, summary
    counts = re.search(r"(\d+) generated, (\d+) passed", text)
    assert counts is not None, summary
    generated, passed = map(int, counts.groups())
    assert generated > 100 and passed == generated, summary
    assert re.search(r"Tested: (\d+)", text), summary
    print(f"schemathesis: {generated} test cases, {passed} passed")  # shown with -s
