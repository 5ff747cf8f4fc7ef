"""πlot as production runs it: the embedded nats-server and nx-27017, and every service
started by `pilot up` as its own process, the LLM provider pointed at the test model.
Executions are stored and requested over the bus (as the gateway does); completion is
observed from the execution events on the bus, SSE latency through the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.aio.msg import Msg

from pilot.embedded import document_store, free_port, mongodb_url, nats_server
from pilot.embedded import nats_url as url_of_nats
from pilot_shared import subjects
from pilot_shared.contracts import Execution, PlanRequest, RunRequest, Workflow, new_id
from pilot_shared.repositories import NodeRunRepository, WorkflowRepository
from pilot_shared.store import EXECUTIONS, create_store_client, to_document

from . import llm_server
from .workloads import Spec, chain

_TERMINAL_KINDS = ("execution.completed", "execution.failed", "execution.cancelled")
_TERMINAL = (b'"execution.completed"', b'"execution.failed"', b'"execution.cancelled"')


def pilot_workflow(spec: Spec, model: str) -> Workflow:
    llm_config = {"model": model, "prompt": "Say ok to {{ input.k }}", "stream": False}
    nodes: list[dict[str, Any]] = []
    edges: list[tuple[str, str, str | None]] = [(s, t, None) for s, t in spec.edges]
    for nid, kind in spec.nodes:
        if kind == "input":
            nodes.append({"id": nid, "type": "input", "config": {}})
        elif kind == "llm":
            nodes.append({"id": nid, "type": "llm", "config": llm_config})
        elif kind == "output":
            upstream = [s for s, t in spec.edges if t == nid]
            nodes.append(
                {
                    "id": nid,
                    "type": "output",
                    "config": {"mapping": {u: f"{{{{ nodes.{u}.output }}}}" for u in upstream}},
                }
            )
        elif kind == "loop":
            nodes.append(
                {
                    "id": nid,
                    "type": "loop",
                    "config": {
                        "mode": "for_each",
                        "items": "{{ input.items }}",
                        "body": ["body_1"],
                        "concurrency": spec.loop_concurrency,
                        "max_iterations": max(spec.items, 1),
                    },
                }
            )
            body = {**llm_config, "prompt": "Say ok to {{ item }}"}
            nodes.append({"id": "body_1", "type": "llm", "config": body})
            edges.append((nid, "body_1", "body"))
    return Workflow.model_validate(
        {
            "name": f"bench {spec.name}",
            "nodes": nodes,
            "connections": [
                {"id": f"c{i}", "source": s, "target": t, "source_handle": h}
                for i, (s, t, h) in enumerate(edges)
            ],
        }
    )


@dataclass
class Tracked:
    submitted: float = 0.0
    finished: float = 0.0
    status: str = ""
    body_s: float = 0.0  # the model calls' own time, from node.completed events
    done: asyncio.Event = field(default_factory=asyncio.Event)


class PilotSystem:
    def __init__(
        self, workdir: Path, llm_base_url: str, extra_env: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.llm_base_url = llm_base_url
        self.extra_env = extra_env or {}
        self.nats = nats_server(workdir)
        self.store = document_store(workdir)
        self.port = free_port()
        self.up: subprocess.Popen[bytes] | None = None
        self.tracked: dict[str, Tracked] = {}
        self.generations: dict[str, Tracked] = {}
        self.want_bodies = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.nats.start()
        self.store.start()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PILOT_")},
            "PILOT_NATS_URL": url_of_nats(self.nats),
            "PILOT_MONGODB_URL": mongodb_url(self.store),
            "PILOT_MONGODB_DB": "bench",
            "PILOT_LLM_BASE_URL": self.llm_base_url,
            "PILOT_LLM_API_KEY": "bench",
            "PILOT_LOG_LEVEL": "WARNING",
            # model calls are I/O: a runner waiting on 200 ms answers needs many in flight
            # (the default of 8 caps one runner process at 40 calls/s)
            "PILOT_RUNNER_WORKERS": os.environ.get("PILOT_RUNNER_WORKERS", "256"),
            **self.extra_env,
        }
        w = str(self.workdir)
        self.up = _spawn(
            [sys.executable, "-m", "pilot.cli", "up", "--port", str(self.port), "--data-dir", w],
            self.workdir / "pilot-up.log",
            env,
        )
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient() as client:
            while True:
                if self.up.poll() is not None:
                    raise RuntimeError("pilot up exited; see " + str(self.workdir))
                try:
                    if (await client.get(self.base_url + "/readyz", timeout=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("pilot up not ready")
                await asyncio.sleep(0.2)
        self.client = create_store_client(mongodb_url(self.store))
        self.db = self.client["bench"]
        self.nc = await nats.connect(url_of_nats(self.nats))
        self.js = self.nc.jetstream()
        await self.nc.subscribe(subjects.execution_events(), cb=self._on_event)
        await self.nc.subscribe(f"{subjects.GENERATION_EVENTS_PREFIX}.>", cb=self._on_generation)

    async def stop(self) -> None:
        if hasattr(self, "nc"):  # started as far as connecting
            for closing in (self.nc.drain(), self.client.close()):
                with contextlib.suppress(Exception):  # tearing down
                    await closing
        if self.up is not None and self.up.poll() is None:
            self.up.send_signal(signal.SIGINT)
            try:
                self.up.wait(60)
            except subprocess.TimeoutExpired:
                self.up.kill()
        for proc in (self.store, self.nats):
            proc.stop()

    def children(self) -> dict[str, int]:
        """pid of each service `pilot up` started, by module."""
        found: dict[str, int] = {}
        assert self.up is not None
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.up.pid and b"-m" in argv:
                found[argv[argv.index(b"-m") + 1].decode()] = int(entry.name)
        return found

    # --- observing ---------------------------------------------------------------------

    async def _on_event(self, msg: Msg) -> None:
        data = msg.data
        terminal = any(t in data for t in _TERMINAL)
        if not terminal and not (self.want_bodies and b'"node.completed"' in data):
            return
        now = time.perf_counter()
        event = json.loads(data)
        tracked = self.tracked.get(event["execution_id"])
        if tracked is None:
            return
        if terminal:
            tracked.finished = now
            tracked.status = event["type"].removeprefix("execution.")
            tracked.done.set()
        else:
            tracked.body_s += float(event["data"].get("duration_ms") or 0) / 1000

    async def _on_generation(self, msg: Msg) -> None:
        if b'"generation.completed"' not in msg.data and b'"generation.failed"' not in msg.data:
            return
        event = json.loads(msg.data)
        tracked = self.generations.get(event["generation_id"])
        if tracked is not None:
            tracked.finished = time.perf_counter()
            tracked.status = event["type"].removeprefix("generation.")
            tracked.done.set()

    # --- running -----------------------------------------------------------------------

    async def store_workflow(self, wf: Workflow) -> None:
        await WorkflowRepository(self.db).insert(wf)

    async def submit(self, wf: Workflow, inputs: list[dict[str, Any]]) -> list[str]:
        """Store pending executions and request their runs, as the gateway does."""
        executions = [Execution(id=new_id(), workflow_id=wf.id, input_data=d) for d in inputs]
        await self.db[EXECUTIONS].insert_many([to_document(e) for e in executions])
        ids = [e.id for e in executions]
        for eid in ids:
            self.tracked[eid] = Tracked()

        async def request(eid: str) -> None:
            self.tracked[eid].submitted = time.perf_counter()
            payload = RunRequest(execution_id=eid, workflow_id=wf.id).model_dump_json()
            await self.js.publish(subjects.RUN, payload.encode(), headers={"Nats-Msg-Id": eid})

        await asyncio.gather(*(request(eid) for eid in ids))
        return ids

    async def wait(self, ids: list[str], deadline_s: float) -> list[Tracked]:
        found = [self.tracked[eid] for eid in ids]
        await asyncio.wait_for(asyncio.gather(*(t.done.wait() for t in found)), deadline_s)
        for eid in ids:
            self.tracked.pop(eid, None)
        return found

    async def generate(self, prompts: list[str], deadline_s: float) -> list[Tracked]:
        found = []
        for prompt in prompts:
            request = PlanRequest(prompt=prompt, planner="offline")
            tracked = self.generations[request.generation_id] = Tracked(
                submitted=time.perf_counter()
            )
            found.append(tracked)
            await self.js.publish(
                subjects.PLAN,
                request.model_dump_json().encode(),
                headers={"Nats-Msg-Id": request.generation_id},
            )
        await asyncio.wait_for(asyncio.gather(*(t.done.wait() for t in found)), deadline_s)
        return found

    # --- SSE ---------------------------------------------------------------------------

    async def sse_latencies(self, wf: Workflow, runs: int) -> list[float]:
        """ms from each node's completion (its node run's `finished_at`) to the SSE client
        receiving its `node.completed` frame from the gateway."""
        key = (self.workdir / "admin.key").read_text().strip()
        latencies: list[float] = []
        async with httpx.AsyncClient(
            base_url=self.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as http:
            me = (await http.get("/api/users/me")).raise_for_status().json()["id"]
            for i in range(runs):
                execution = Execution(
                    id=new_id(), workflow_id=wf.id, input_data={"k": i}, owner_id=me
                )
                await self.db[EXECUTIONS].insert_one(to_document(execution))
                received: dict[str, float] = {}
                url = f"/api/executions/{execution.id}/events"
                async with http.stream("GET", url) as response:
                    response.raise_for_status()
                    payload = RunRequest(execution_id=execution.id, workflow_id=wf.id)
                    await self.js.publish(
                        subjects.RUN,
                        payload.model_dump_json().encode(),
                        headers={"Nats-Msg-Id": execution.id},
                    )
                    kind = ""
                    async for line in response.aiter_lines():
                        if line.startswith("event: "):
                            kind = line[7:]
                        elif line.startswith("data: ") and kind == "node.completed":
                            received[json.loads(line[6:])["node_id"]] = time.time()
                        elif line.startswith("data: ") and kind in _TERMINAL_KINDS:
                            break
                for run in await NodeRunRepository(self.db).list(execution.id):
                    if run.node_id in received and run.finished_at is not None:
                        latencies.append(
                            (received[run.node_id] - run.finished_at.timestamp()) * 1000
                        )
        return latencies


@contextlib.asynccontextmanager
async def warm_chain(
    workdir: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[tuple[PilotSystem, Workflow]]:
    """`pilot up` calling the test model, with the 10-node chain stored and run once (imports
    and caches warm), for the profiling tools."""
    with llm_server.running(workdir) as llm_url:
        system = PilotSystem(workdir, llm_url, extra_env)
        try:
            await system.start()
            wf = pilot_workflow(chain(10), "bench")
            await system.store_workflow(wf)
            await system.wait(await system.submit(wf, [{"k": 0}]), 60)
            yield system, wf
        finally:
            await system.stop()


def _spawn(argv: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
