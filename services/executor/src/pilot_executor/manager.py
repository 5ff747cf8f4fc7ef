"""`ExecutionManager`: carries out the engine's steps against the store and the bus.

Per execution it keeps one `WorkflowExecutor` in memory (rebuilt from the store when
missing, so a restarted executor resumes) and one lock, so that a run request, results
and retry timers of the same execution never interleave.

A step is applied in an order chosen for crashes:
1. publish the tasks (msg id `<execution>:<node>:<attempt>`: a second publish is a no-op);
2. persist the state (`node_states.<id>`, usage, status, ...) and the node runs;
3. number, store and publish the events.
So "running" in the store always means the task is on the bus, and a crash before 2
replays the step from the redelivered message. A crash between 2 and 3 loses events: the
next executor to load the execution emits them from the state (`lost_events`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections.abc import Callable, Sequence

from faststream.nats import NatsBroker
from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared import metrics, subjects
from pilot_shared.bus import publish
from pilot_shared.contracts import (
    TERMINAL_EXECUTION_STATUSES,
    Execution,
    ExecutionEvent,
    NodeChunk,
    NodeResult,
    RunRequest,
    Workflow,
)
from pilot_shared.graph import GraphValidationError, validate_workflow
from pilot_shared.repositories import (
    EventRepository,
    ExecutionRepository,
    NodeRunRepository,
    WorkflowRepository,
)
from pilot_shared.store import Document

from .engine import ScheduledRetry, Step, WorkflowExecutor
from .events import PendingEvent
from .state import ExecutionState

log = logging.getLogger(__name__)

_EVENT_PAGE = 1000
_RETRY_AGAIN_MS = 2000


class ExecutionManager:
    def __init__(
        self,
        broker: NatsBroker,
        db: Callable[[], AsyncDatabase[Document]],
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._broker = broker
        self._db = db  # the store opens after the app is built: resolve it when used
        self._rng = rng or random.Random()
        self._executors: dict[str, WorkflowExecutor] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._timers: set[asyncio.Task[None]] = set()
        # per execution, (node, attempt) -> index of the last chunk turned into an event;
        # kept apart from the executor so that it survives the executor being rebuilt
        self._chunk_marks: dict[str, dict[tuple[str, int], int]] = {}

    # --- repositories --------------------------------------------------------------------

    @property
    def executions(self) -> ExecutionRepository:
        return ExecutionRepository(self._db())

    @property
    def workflows(self) -> WorkflowRepository:
        return WorkflowRepository(self._db())

    @property
    def events(self) -> EventRepository:
        return EventRepository(self._db())

    @property
    def node_runs(self) -> NodeRunRepository:
        return NodeRunRepository(self._db())

    # --- handlers ------------------------------------------------------------------------

    async def handle_run(self, request: RunRequest) -> None:
        """Start the execution, or resume it if it is already running: loading an
        execution does either. A redelivered request for an execution this process is
        running finds it in memory and has nothing to redo."""
        await self._with_execution(request.execution_id, None, workflow_id=request.workflow_id)

    async def handle_runner_messages(self, messages: Sequence[NodeChunk | NodeResult]) -> None:
        """A batch of chunks and results, in the order the runners produced them: each
        execution's share in order, different executions at once. If any execution's
        share fails, the whole batch is redelivered, which handling tolerates: results
        of settled nodes are ignored, and chunks already turned into events are skipped."""
        shares: dict[str, list[NodeChunk | NodeResult]] = {}
        for message in messages:
            shares.setdefault(message.execution_id, []).append(message)
        outcomes = await asyncio.gather(
            *(self._handle_share(eid, share) for eid, share in shares.items()),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _handle_share(self, execution_id: str, share: list[NodeChunk | NodeResult]) -> None:
        marks = self._chunk_marks.get(execution_id, {})
        emitted: dict[tuple[str, int], int] = {}

        def handle(executor: WorkflowExecutor) -> Step:
            step = Step()
            for message in share:
                if isinstance(message, NodeChunk):
                    key = (message.node_id, message.attempt)
                    if message.index <= max(marks.get(key, -1), emitted.get(key, -1)):
                        continue  # redelivered: its event exists already
                    part = executor.on_chunk(message)
                    if not part.empty:
                        emitted[key] = message.index
                else:
                    part = executor.on_result(message)
                step.merge(part)
            return step

        finished = await self._with_execution(execution_id, handle)
        if finished:
            self._chunk_marks.pop(execution_id, None)
        elif emitted:
            self._chunk_marks.setdefault(execution_id, {}).update(emitted)

    async def retry_due(self, execution_id: str, retry: ScheduledRetry) -> None:
        await self._with_execution(
            execution_id, lambda ex: ex.on_retry_due(retry.node_id, retry.failed_attempt)
        )

    async def resume_running(self, page: int = 200) -> int:
        """Load every execution the store says is running, at start-up: one whose last
        message was handled by a process that died may have nothing left on the bus to
        wake it (a node waiting for its retry timer). Loading resumes it."""
        ids: list[str] = []
        while True:  # ids first: executions finishing meanwhile would shift the pages
            batch = await self.executions.list(status="running", skip=len(ids), limit=page)
            ids += [execution.id for execution in batch]
            if len(batch) < page:
                break
        for execution_id in ids:
            try:
                await self._with_execution(execution_id, None)
            except Exception:
                log.exception("could not resume execution %s", execution_id)
        return len(ids)

    async def close(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        if self._timers:
            await asyncio.gather(*self._timers, return_exceptions=True)
        self._executors.clear()

    # --- the execution's lifecycle in memory ---------------------------------------------

    async def _with_execution(
        self,
        execution_id: str,
        action: Callable[[WorkflowExecutor], Step] | None,
        *,
        workflow_id: str | None = None,
    ) -> bool:
        """Run `action` on the execution under its lock and apply the step it returns.
        True when the execution has finished (or does not exist)."""
        lock = self._locks.get(execution_id)
        if lock is None:
            lock = self._locks[execution_id] = asyncio.Lock()
        async with lock:
            try:
                executor = self._executors.get(execution_id)
                if executor is None:
                    executor = await self._load(execution_id, workflow_id)
                    if executor is None:
                        return True
                if action is not None:
                    step = action(executor)
                    if not step.empty:
                        await self._apply(executor, step)
                if executor.finished:
                    self._executors.pop(execution_id, None)
                    return True
                self._executors[execution_id] = executor
                return False
            except BaseException:
                # memory may now be ahead of the store: forget it, and let the
                # redelivered message rebuild the execution from what was persisted
                self._executors.pop(execution_id, None)
                raise

    async def _load(self, execution_id: str, workflow_id: str | None) -> WorkflowExecutor | None:
        """Rebuild an execution from the store: emit the events a crash lost, then start
        it (pending) or resume it (running). None when there is nothing to run."""
        execution = await self.executions.get(execution_id)
        if execution is None:
            log.warning("execution %s does not exist; ignoring the message", execution_id)
            return None
        if workflow_id is not None and execution.workflow_id != workflow_id:
            log.warning(
                "execution %s belongs to workflow %s, not %s; ignoring",
                execution_id,
                execution.workflow_id,
                workflow_id,
            )
            return None
        workflow = await self.workflows.get(execution.workflow_id)
        problem = None
        if workflow is None:
            problem = f"workflow {execution.workflow_id} does not exist"
        else:
            try:
                validate_workflow(workflow)
            except GraphValidationError as exc:
                problem = f"the workflow is not valid: {exc}"
        if problem is not None or workflow is None:
            # an empty stand-in graph is enough to record the failure
            executor = self._executor(execution, Workflow(id=execution.workflow_id))
            await self._apply(executor, executor.fail(problem or "no workflow"))
            return executor
        executor = self._executor(execution, workflow)
        lost = executor.lost_events(await self._stored_events(execution_id))
        if lost:
            log.warning("execution %s: emitting %d events a crash lost", execution_id, len(lost))
            await self._emit(executor.execution, lost)
        if not executor.finished:
            if execution.status == "running":
                log.info("resuming execution %s", execution_id)
            await self._apply(executor, executor.start())
        return executor

    def _executor(self, execution: Execution, workflow: Workflow) -> WorkflowExecutor:
        return WorkflowExecutor(ExecutionState.build(execution, workflow), rng=self._rng)

    async def _stored_events(self, execution_id: str) -> list[PendingEvent]:
        out: list[PendingEvent] = []
        after = 0
        while True:
            page = await self.events.list_after(execution_id, after, limit=_EVENT_PAGE)
            out.extend(PendingEvent(e.type, e.node_id, e.data) for e in page)
            if len(page) < _EVENT_PAGE:
                return out
            after = page[-1].seq

    # --- carrying out a step -------------------------------------------------------------

    async def _apply(self, executor: WorkflowExecutor, step: Step) -> None:
        execution = executor.execution
        for task in step.tasks:
            await publish(self._broker, task, subjects.tasks(task.node.type), msg_id=task.task_id)
        if step.fields:
            await self.executions.set_fields(execution.id, step.fields)
        for run in step.node_runs:
            await self.node_runs.upsert(run)
        await self._emit(execution, step.events)
        for retry in step.retries:
            self._schedule(execution.id, retry)
        _observe(executor, step)

    async def _emit(self, execution: Execution, pending: list[PendingEvent]) -> None:
        if not pending:
            return
        first = await self.executions.allocate_seq(execution.id, len(pending))
        batch = [
            ExecutionEvent(
                execution_id=execution.id,
                workflow_id=execution.workflow_id,
                seq=first + i,
                type=e.type,
                node_id=e.node_id,
                data=e.data,
            )
            for i, e in enumerate(pending)
        ]
        await self.events.insert_many(batch)
        subject = subjects.execution_events(execution.workflow_id, execution.id)
        for event in batch:
            await publish(self._broker, event, subject, msg_id=f"{execution.id}:{event.seq}")

    def _schedule(self, execution_id: str, retry: ScheduledRetry, tries: int = 10) -> None:
        """The next attempt after the backoff. The timer lives in this process only: if
        the process dies first, whichever executor loads the execution next dispatches the
        retry at once (see `WorkflowExecutor.start`)."""

        async def fire() -> None:
            await asyncio.sleep(retry.delay_ms / 1000)
            try:
                await self.retry_due(execution_id, retry)
            except Exception:
                # no message will be redelivered for a timer: try again a while later
                log.exception("retry of %s in execution %s failed", retry.node_id, execution_id)
                if tries > 1:
                    later = ScheduledRetry(retry.node_id, retry.failed_attempt, _RETRY_AGAIN_MS)
                    self._schedule(execution_id, later, tries - 1)

        timer = asyncio.create_task(fire(), name=f"retry:{execution_id}:{retry.node_id}")
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)


def _observe(executor: WorkflowExecutor, step: Step) -> None:
    """Metrics of a step that has been carried out (so a replayed step counts once)."""
    for run in step.node_runs:
        metrics.NODE_RUNS.labels(run.node_type, run.status).inc()
        metrics.NODE_DURATION.labels(run.node_type, run.status).observe(
            (run.duration_ms or 0) / 1000
        )
    nodes = executor.state.graph.nodes
    for retry in step.retries:
        metrics.NODE_RETRIES.labels(nodes[retry.node_id].type).inc()
    execution = executor.execution
    if executor.finished and step.fields.get("status") in TERMINAL_EXECUTION_STATUSES:
        metrics.EXECUTIONS.labels(execution.status).inc()
        metrics.EXECUTION_DURATION.labels(execution.status).observe(
            (execution.duration_ms or 0) / 1000
        )
        log.info(
            "execution %s %s in %.0f ms", execution.id, execution.status, execution.duration_ms or 0
        )
