"""`pilot generate "PROMPT"`: a prompt to a workflow, from the command line.

By default the planner and generator run in this process (no services needed): a readable
summary, or the workflow JSON with `--json`. `--jsonl` reads prompts from standard input,
one per line, and writes one workflow JSON per line in the same order (a line that fails
becomes `{"prompt": …, "error": …}`), with a progress bar on standard error. `--url`
sends each prompt to a running gateway instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pilot_shared.contracts import UserPreferences, Workflow

GATEWAY_TIMEOUT_S = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "prompt", nargs="?", help="what the workflow should do (English or Chinese)"
    )
    parser.add_argument(
        "--planner",
        choices=("auto", "offline", "llm"),
        default="auto",
        help="offline rules, the LLM planner (needs PILOT_LLM_API_KEY), or auto (default)",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the workflow JSON")
    out.add_argument(
        "--jsonl", action="store_true", help="prompts from stdin, one workflow JSON per line"
    )
    parser.add_argument("--url", help="a running gateway (e.g. http://127.0.0.1:8000)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("PILOT_API_KEY", ""),
        help="the gateway's API key (default: $PILOT_API_KEY)",
    )
    parser.add_argument(
        "--complexity", choices=("simple", "standard", "advanced"), default="standard"
    )
    parser.add_argument("--integrations", default="", help="comma-separated, e.g. slack,email")
    parser.add_argument(
        "--language", choices=("en", "zh"), default=None, help="node names' language"
    )


class _InProcess:
    """The planner and generator in this process, as the services would run them."""

    def __init__(self) -> None:
        from pilot_generator.generator import WorkflowGenerator
        from pilot_planner.analyzer import PromptAnalyzer

        self.analyzer = PromptAnalyzer()
        self.generator = WorkflowGenerator()

    async def generate(self, prompt: str, prefs: UserPreferences, planner: str) -> Workflow:
        blueprint = await self.analyzer.plan(prompt, prefs, strategy=planner)  # type: ignore[arg-type]
        return self.generator.generate_workflow(blueprint, prompt=prompt)

    async def aclose(self) -> None:
        await self.analyzer.aclose()


class _Gateway:
    def __init__(self, url: str, api_key: str = "") -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.AsyncClient(
            base_url=url.rstrip("/"), timeout=GATEWAY_TIMEOUT_S, headers=headers
        )

    async def generate(self, prompt: str, prefs: UserPreferences, planner: str) -> Workflow:
        body: dict[str, Any] = {"prompt": prompt, "user_preferences": prefs.model_dump(mode="json")}
        if planner != "auto":
            body["planner"] = planner
        response = await self.client.post("/api/workflows/generate", json=body)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail") or response.text
            except ValueError:
                detail = response.text
            raise RuntimeError(f"the gateway answered {response.status_code}: {detail}")
        return Workflow.model_validate(response.json()["workflow"])

    async def aclose(self) -> None:
        await self.client.aclose()


def _preferences(args: argparse.Namespace) -> UserPreferences:
    integrations = [i.strip() for i in args.integrations.split(",") if i.strip()]
    return UserPreferences(
        complexity=args.complexity, integrations=integrations, language=args.language
    )


def _summary(workflow: Workflow, console: Console) -> None:
    info = workflow.generation
    console.print(f"[bold]{escape(workflow.name)}[/]  ({workflow.id})")
    if info is not None:
        console.print(f"planner: {info.strategy} — {escape(info.reason)}")
        console.print(f"intent: {info.intent}  language: {info.language}")
    nodes = Table("id", "type", "name", "what", show_header=True, header_style="bold")
    for node in workflow.nodes:
        nodes.add_row(
            node.id,
            node.type,
            escape(node.name),
            escape(_what(node.config.model_dump(by_alias=True))),
        )
    console.print(nodes)
    for c in workflow.connections:
        handle = f" [{c.source_handle}]" if c.source_handle else ""
        console.print(f"  {c.source} → {c.target}{handle}", markup=False)
    console.print(f"estimated cost ${workflow.estimated_cost:.6f}, time {workflow.execution_time}")


def _what(config: dict[str, Any]) -> str:
    for key in ("tool", "url", "expression", "labels", "items", "model", "query", "value"):
        value = config.get(key)
        if value:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            return f"{key}: {text}"[:70]
    return ""


def _prompts(stream: Any) -> Iterator[str]:
    for line in stream:
        if line.strip():
            yield line.rstrip("\n")


async def _run(args: argparse.Namespace) -> int:
    backend: _InProcess | _Gateway = _Gateway(args.url, args.api_key) if args.url else _InProcess()
    prefs = _preferences(args)
    out = Console(soft_wrap=True)
    err = Console(stderr=True)
    try:
        if not args.jsonl:
            workflow = await backend.generate(args.prompt, prefs, args.planner)
            if args.json:
                sys.stdout.write(workflow.model_dump_json(indent=2) + "\n")
            else:
                _summary(workflow, out)
            return 0
        prompts = list(_prompts(sys.stdin))
        failures = 0
        with Progress(
            TextColumn("generating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as progress:
            task = progress.add_task("prompts", total=len(prompts))
            for prompt in prompts:
                try:
                    workflow = await backend.generate(prompt, prefs, args.planner)
                    line = workflow.model_dump_json()
                except Exception as exc:  # one bad prompt must not lose the rest
                    failures += 1
                    line = json.dumps({"prompt": prompt, "error": str(exc)}, ensure_ascii=False)
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
                progress.advance(task)
        return 1 if failures else 0
    finally:
        await backend.aclose()


def run_generate(args: argparse.Namespace) -> int:
    if not args.jsonl and not args.prompt:
        print("pilot generate: give a prompt, or --jsonl with prompts on stdin", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args))
    except Exception as exc:
        print(f"pilot generate: {exc}", file=sys.stderr)
        return 1
