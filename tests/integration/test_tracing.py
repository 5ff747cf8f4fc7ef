"""An execution stays one trace when an executor restarts between a node's failure and
its retry: the retry is started by a timer of a new process, with no message to carry a
trace context, and joins the trace stored on the execution."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from pymongo.asynchronous.database import AsyncDatabase

from pilot_executor.app import create_app as create_executor
from pilot_executor.settings import ExecutorSettings
from pilot_runners.app import create_app as create_runners
from pilot_runners.settings import RunnerSettings
from pilot_shared import subjects, tracing
from pilot_shared.bus import publish
from pilot_shared.contracts import Execution, RunRequest, Workflow, new_id
from pilot_shared.repositories import ExecutionRepository, WorkflowRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.support.http_servers import CountingServer
from tests.support.spans import attr, captured_spans

DEADLINE_S = 30


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def flaky_call(url: str) -> Workflow:
    return Workflow.model_validate(
        {
            "name": "retry across a restart",
            "nodes": [
                {"id": "input_1", "type": "input"},
                {
                    "id": "api_1",
                    "type": "api",
                    "config": {"url": f"{url}/flaky"},
                    # long enough that the first executor is gone before it is due
                    "retry": {"max_attempts": 2, "initial_delay_ms": 2000, "jitter": False},
                },
                {"id": "output_1", "type": "output", "config": {"value": "done"}},
            ],
            "connections": [
                {"id": "c1", "source": "input_1", "target": "api_1"},
                {"id": "c2", "source": "api_1", "target": "output_1"},
            ],
        }
    )


async def test_a_retry_after_an_executor_restart_stays_in_the_execution_trace(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    base = {**settings.model_dump(), "http_allowlist": "127.0.0.1"}
    executions = ExecutionRepository(db)
    with CountingServer(status=503).serve() as api, captured_spans() as spans:
        wf = flaky_call(api.url)
        await WorkflowRepository(db).insert(wf)
        runners = create_runners(RunnerSettings(**base), types=["input", "api", "output"])
        first = create_executor(ExecutorSettings(**base))
        async with runners:
            async with first:
                # what the gateway does inside the HTTP request's span
                with tracing.tracer().start_as_current_span("POST execute") as request:
                    execution = Execution(
                        id=new_id(),
                        workflow_id=wf.id,
                        trace_parent=tracing.current_traceparent(),
                    )
                    await executions.insert(execution)
                    await publish(
                        first.broker,  # type: ignore[arg-type]
                        RunRequest(execution_id=execution.id, workflow_id=wf.id),
                        subjects.RUN,
                        msg_id=execution.id,
                    )

                async def waiting_for_retry() -> bool:
                    found = await executions.get(execution.id)
                    state = found.node_states.get("api_1") if found else None
                    return state is not None and state.next_attempt_at is not None

                await eventually(waiting_for_retry, "api_1 to wait for its retry")
            api.status = 200  # the second attempt succeeds
            async with create_executor(ExecutorSettings(**base)):

                async def completed() -> bool:
                    found = await executions.get(execution.id)
                    return found is not None and found.status == "completed"

                await eventually(completed, "the execution to complete after the restart")

        trace_id = request.get_span_context().trace_id
        ours = [s for s in spans.get_finished_spans() if attr(s, tracing.EXECUTION_ID)]
        assert {s.context.trace_id for s in ours} == {trace_id}
        runs = sorted(
            (attr(s, tracing.NODE_ATTEMPT), attr(s, tracing.NODE_STATUS))
            for s in ours
            if s.name == "node.run api"
        )
        assert runs == [(1, "failed"), (2, "completed")]
        assert len(api.requests) == 2
