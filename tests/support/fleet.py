"""Executors and runners as real child processes (so kill -9 is real), and a way to
submit many executions and wait for them through the store."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import nats
from pymongo.asynchronous.database import AsyncDatabase

from pilot.embedded import ManagedProcess
from pilot_shared import subjects
from pilot_shared.contracts import (
    TERMINAL_EXECUTION_STATUSES,
    Execution,
    ExecutionEvent,
    RunRequest,
    Workflow,
    new_id,
)
from pilot_shared.repositories import EventRepository, ExecutionRepository, WorkflowRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document


def service_process(
    name: str, module: str, settings: PilotSettings, tmp_path: Path, *args: str, **env: str
) -> ManagedProcess:
    base = {
        "PILOT_NATS_URL": settings.nats_url,
        "PILOT_MONGODB_URL": settings.mongodb_url,
        "PILOT_MONGODB_DB": settings.mongodb_db,
        "PILOT_DATA_DIR": str(tmp_path),
        "PILOT_HTTP_ALLOWLIST": "127.0.0.1",
        "PILOT_LOG_LEVEL": "WARNING",
        "PILOT_RUNNER_ACK_WAIT_S": "2",
    }
    return ManagedProcess(
        name,
        [sys.executable, "-m", module, *args],
        tmp_path / "logs" / f"{name}.log",
        env={**base, **env},
    )


def executor_process(name: str, settings: PilotSettings, tmp_path: Path) -> ManagedProcess:
    return service_process(name, "pilot_executor", settings, tmp_path)


def runner_process(
    name: str, settings: PilotSettings, tmp_path: Path, types: str, **env: str
) -> ManagedProcess:
    return service_process(name, "pilot_runners", settings, tmp_path, "--types", types, **env)


async def submit(
    settings: PilotSettings,
    db: AsyncDatabase[Document],
    wf: Workflow,
    inputs: list[dict[str, Any]],
) -> list[str]:
    """Store the workflow and one pending execution per input, then ask for the runs."""
    if await WorkflowRepository(db).get(wf.id) is None:
        await WorkflowRepository(db).insert(wf)
    ids = []
    for data in inputs:
        execution = Execution(id=new_id(), workflow_id=wf.id, input_data=data)
        await ExecutionRepository(db).insert(execution)
        ids.append(execution.id)
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        for eid in ids:
            request = RunRequest(execution_id=eid, workflow_id=wf.id)
            await js.publish(
                subjects.RUN, request.model_dump_json().encode(), headers={"Nats-Msg-Id": eid}
            )
    finally:
        await nc.drain()
    return ids


async def statuses(db: AsyncDatabase[Document], ids: list[str]) -> dict[str, str]:
    cursor = ExecutionRepository(db).col.find({"_id": {"$in": ids}}, {"status": 1})
    return {d["_id"]: d["status"] async for d in cursor}


async def wait_for(condition: Any, deadline_s: float, what: str, every_s: float = 0.1) -> None:
    """Poll an async (or plain) condition until it holds, or fail after the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(every_s)


async def wait_finished(
    db: AsyncDatabase[Document], ids: list[str], deadline_s: float
) -> dict[str, str]:
    async def done() -> bool:
        found = await statuses(db, ids)
        return len(found) == len(ids) and all(
            s in TERMINAL_EXECUTION_STATUSES for s in found.values()
        )

    await wait_for(done, deadline_s, f"{len(ids)} executions to finish", every_s=0.25)
    return await statuses(db, ids)


async def assert_gap_free(db: AsyncDatabase[Document], execution_id: str) -> list[ExecutionEvent]:
    """The stored stream has seq 1..n, one terminal event last, and no lifecycle event
    (started/completed/failed/retrying of one node attempt) twice."""
    events = await EventRepository(db).list_after(execution_id, 0, limit=100_000)
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), execution_id
    execution = await ExecutionRepository(db).get(execution_id)
    assert execution is not None and execution.last_seq == len(events)
    keys = [
        (e.type, e.node_id, e.data.get("attempt"), e.data.get("iteration"))
        for e in events
        if e.type != "node.chunk"
    ]
    assert len(keys) == len(set(keys)), f"{execution_id}: an event repeated"
    assert events[0].type == "execution.started"
    assert events[-1].type.startswith("execution.") and events[-1].type != "execution.started"
    return events
