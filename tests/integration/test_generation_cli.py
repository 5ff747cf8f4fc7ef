"""`pilot generate`: in-process by default (no services), JSON lines in order for a batch,
and `--url` through a running gateway with the real planner and generator behind it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from pymongo.asynchronous.database import AsyncDatabase

from pilot_generator.app import create_app as create_generator
from pilot_planner.app import create_app as create_planner
from pilot_shared.contracts import Workflow
from pilot_shared.graph import validate_workflow
from pilot_shared.repositories import WorkflowRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_gateway_harness import (
    create_admin_key,
    gateway_settings,
    running_gateway,
)

PROMPT = "遍历订单列表，如果金额超过1000元就发钉钉通知财务。最后汇总成报告发到飞书"


def pilot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOT_LLM")}
    return subprocess.run(
        [sys.executable, "-m", "pilot.cli", "generate", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_json_in_process() -> None:
    done = pilot(PROMPT, "--json", "--planner", "offline", "--complexity", "simple")
    assert done.returncode == 0, done.stderr
    workflow = Workflow.model_validate_json(done.stdout)
    validate_workflow(workflow)
    assert workflow.generation is not None and workflow.generation.strategy == "offline"
    assert {"loop", "condition", "tool"} <= {n.type for n in workflow.nodes}


def test_readable_summary() -> None:
    done = pilot("Send me an SMS if the bitcoin price drops below 50k")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "planner: offline" in out and "condition_1 → tool_1 [true]" in out
    assert "estimated cost" in out


def test_jsonl_keeps_the_order() -> None:
    prompts = [
        "Write a blog post about tea",
        "",
        "把这段话翻译成法语",
        "创建一个客户支持聊天机器人",
    ]
    done = pilot("--jsonl", stdin="\n".join(prompts) + "\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3  # blank lines are not prompts
    workflows = [Workflow.model_validate(json.loads(line)) for line in lines]
    assert [w.generation.prompt for w in workflows if w.generation] == [p for p in prompts if p]
    assert "3/3" in done.stderr  # the progress bar


def test_jsonl_reports_a_bad_prompt_in_its_place() -> None:
    done = pilot("--jsonl", stdin="Write a poem\n" + "x" * 30_000 + "\nSummarize this\n")
    assert done.returncode == 1
    first, bad, last = (json.loads(line) for line in done.stdout.splitlines())
    assert first["name"] and last["name"]
    assert "limit" in bad["error"] and bad["prompt"].startswith("xxx")


async def test_url_goes_through_the_gateway(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    key = await create_admin_key(settings)
    async with (
        running_gateway(gateway_settings(settings)) as gateway,
        create_planner(settings),
        create_generator(settings),
    ):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "pilot.cli", "generate", PROMPT, "--json",
            "--url", gateway.base_url, "--api-key", key,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, stderr.decode()
        workflow = Workflow.model_validate_json(stdout)
    stored = await WorkflowRepository(db).get(workflow.id)  # stored by the generator service
    assert stored is not None and stored.nodes == workflow.nodes
    assert {"loop", "condition"} <= {n.type for n in workflow.nodes}
