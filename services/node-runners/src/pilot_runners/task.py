"""Running one task: the node's handler under its timeout, every failure turned into a
failed NodeResult the executor can act on (retry, route, or fail the execution)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from pilot_shared import tracing
from pilot_shared.contracts import NodeError, NodeResult, NodeTask, utcnow
from pilot_shared.templating import TemplateError

from .outcome import EmitChunk, NodeFailure, NodeOutcome
from .registry import Handler

log = logging.getLogger(__name__)


async def run_task(task: NodeTask, handler: Handler, emit_chunk: EmitChunk) -> NodeResult:
    with tracing.span(
        f"node.run {task.node.type}",
        {
            tracing.WORKFLOW_ID: task.workflow_id,
            tracing.EXECUTION_ID: task.execution_id,
            tracing.NODE_ID: task.node.id,
            tracing.NODE_TYPE: task.node.type,
            tracing.NODE_ATTEMPT: task.attempt,
        },
    ) as span:
        result = await _run(task, handler, emit_chunk)
        tracing.set_attributes(span, {tracing.NODE_STATUS: result.status})
        if result.usage is not None:
            tracing.set_attributes(span, {tracing.COST_USD: result.usage.cost_usd})
        if result.error is not None:
            tracing.set_error(span, result.error.kind, result.error.message)
    return result


async def _run(task: NodeTask, handler: Handler, emit_chunk: EmitChunk) -> NodeResult:
    started_at = utcnow()
    t0 = time.perf_counter()
    outcome: NodeOutcome | None = None
    error: NodeError | None = None
    try:
        async with asyncio.timeout(task.node.timeout_s):
            outcome = await handler(task, emit_chunk)
    except NodeFailure as failure:
        error = failure.error
    except TemplateError as exc:
        error = NodeError(kind="template", message=str(exc), retryable=False)
    except TimeoutError:
        error = NodeError(
            kind="timeout", message=f"node timed out after {task.node.timeout_s:g}s", retryable=True
        )
    except Exception as exc:  # a bug in a handler must still end the task with a result
        log.exception(
            "node %s (%s) of execution %s crashed", task.node.id, task.node.type, task.execution_id
        )
        error = NodeError(kind="internal", message=f"{type(exc).__name__}: {exc}", retryable=False)
    duration_ms = round((time.perf_counter() - t0) * 1000, 3)
    common = {
        "task_id": task.task_id,
        "execution_id": task.execution_id,
        "node_id": task.node.id,
        "attempt": task.attempt,
        "duration_ms": duration_ms,
        "started_at": started_at,
    }
    if outcome is not None:
        return NodeResult(
            **common,
            status="completed",
            output=outcome.output,
            handle=outcome.handle,
            usage=outcome.usage,
            input=outcome.input,
        )
    return NodeResult(**common, status="failed", error=error)


@asynccontextmanager
async def keep_alive(
    in_progress: Callable[[], Awaitable[None]], every_s: float
) -> AsyncIterator[None]:
    """Tell JetStream the task is still being worked on, so that a long LLM call is not
    redelivered to a second runner while the first is still on it."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await in_progress()
            except Exception:  # the ack of the result will tell the truth either way
                log.debug("in-progress ack failed", exc_info=True)

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        beating.cancel()
        with suppress(asyncio.CancelledError):
            await beating
