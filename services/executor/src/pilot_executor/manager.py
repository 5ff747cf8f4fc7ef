"""`ExecutionManager`: carries out the engine's steps against the store and the bus.

Per execution it keeps one `WorkflowExecutor` in memory (rebuilt from the store when
missing, so a restarted executor resumes) and one lock, so that a run request, results
and retry timers of the same execution never interleave in this process.

Any number of executor processes share the work (one durable consumer per subject, so
each message goes to one of them). Concurrent updates to one execution are made safe by
optimistic concurrency plus a transactional outbox (docs/ARCHITECTURE.md, "Executors"):
1. the step's state changes, its tasks and its numbered events (`last_seq` advanced) are
   written in ONE conditional update that requires the execution's `version` this
   process read and increments it. If another executor wrote first, nothing is written:
   this process reloads the execution and decides again (results of settled nodes are
   ignored, so redoing is safe);
2. the committed tasks and events (the `outbox`) are then published (tasks with msg id
   `<execution>:<node>:<attempt>`, events `<execution>:<seq>`: JetStream drops a second
   publish), the events stored keyed by (execution, seq), and the outbox cleared.
   The step's node runs are written beside 1 (idempotent upserts by run id) and kept in
   the outbox too.
Whoever loads an execution first flushes an outbox left by a process that died between 1
and 2 (node runs written again first), so a crash loses no task, no event and no node
run, and `seq` never has a gap or a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from pilot_shared import metrics, subjects, tracing
from pilot_shared.bus import Outgoing, publish_all
from pilot_shared.contracts import (
    TERMINAL_EXECUTION_STATUSES,
    CancelRequest,
    Execution,
    ExecutionEvent,
    NodeChunk,
    NodeResult,
    NodeRun,
    NodeTask,
    RerunRequest,
    RunRequest,
    Workflow,
    utcnow,
)
from pilot_shared.graph import GraphValidationError, validate_workflow
from pilot_shared.repositories import (
    EventRepository,
    ExecutionRepository,
    NodeRunRepository,
    WorkflowRepository,
    WorkflowVersionRepository,
)
from pilot_shared.store import Document, GroupCommit

from .control import RerunError, plan_rerun
from .engine import Limits, ScheduledRetry, Step, WorkflowExecutor
from .events import PendingEvent
from .state import ExecutionState

log = logging.getLogger(__name__)

_EVENT_PAGE = 1000
_RETRY_AGAIN_MS = 2000
_WORKFLOW_CACHE = 256  # validated workflow versions kept in memory


_Repo = TypeVar("_Repo")


class Conflict(Exception):
    """Another executor wrote the execution since this process read it."""


class ExecutionManager:
    def __init__(
        self,
        broker: NatsBroker,
        db: Callable[[], AsyncDatabase[Document]],
        *,
        rng: random.Random | None = None,
        limits: Limits | None = None,
        conflict_retries: int = 20,
    ) -> None:
        self._broker = broker
        self._db = db  # the store opens after the app is built: resolve it when used
        self._rng = rng or random.Random()
        self._limits = limits or Limits()
        self._conflict_retries = conflict_retries
        self._executors: dict[str, WorkflowExecutor] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._timers: set[asyncio.Task[None]] = set()
        self._writes: set[asyncio.Task[None]] = set()
        self._repositories: dict[object, tuple[AsyncDatabase[Document], object]] = {}
        # Node runs and events of the steps of many executions, stored in one round trip
        # each: under load these were most of the executor's (and the store's) CPU.
        self._node_run_writes: GroupCommit[NodeRun] = GroupCommit(self._write_node_runs)
        self._event_writes: GroupCommit[ExecutionEvent] = GroupCommit(self._write_events)
        self._valid_workflows: OrderedDict[tuple[str, int], Workflow] = OrderedDict()
        self._deadlines: dict[str, asyncio.Task[None]] = {}
        # per execution, (node, attempt) -> index of the last chunk turned into an event;
        # kept apart from the executor so that it survives the executor being rebuilt
        self._chunk_marks: dict[str, dict[tuple[str, int], int]] = {}
        self.steps_applied = 0  # committed state writes (tests read it)
        self.conflicts = 0

    # --- repositories --------------------------------------------------------------------

    def _repository(self, kind: Callable[[AsyncDatabase[Document]], _Repo]) -> _Repo:
        # a repository per store connection, not per call: building the collection
        # objects was a few percent of the executor's CPU
        db = self._db()
        cached = self._repositories.get(kind)
        if cached is None or cached[0] is not db:
            cached = self._repositories[kind] = (db, kind(db))
        return cached[1]  # type: ignore[return-value]

    @property
    def executions(self) -> ExecutionRepository:
        return self._repository(ExecutionRepository)

    @property
    def workflows(self) -> WorkflowRepository:
        return self._repository(WorkflowRepository)

    async def _pinned_workflow(self, workflow_id: str, version: int) -> Workflow | None:
        """The workflow as it was at the version the execution pinned when it was
        requested: an edit saved in between must not change what an execution runs."""
        latest = await self.workflows.get(workflow_id)
        if latest is None or latest.version == version:
            return latest
        saved = await self._repository(WorkflowVersionRepository).get(workflow_id, version)
        if saved is None:
            # versions stored before version documents existed: the latest is all there is
            log.warning(
                "workflow %s has no version %s; running %s", workflow_id, version, latest.version
            )
            return latest
        return saved.workflow

    @property
    def events(self) -> EventRepository:
        return self._repository(EventRepository)

    @property
    def node_runs(self) -> NodeRunRepository:
        return self._repository(NodeRunRepository)

    async def _write_node_runs(self, runs: list[NodeRun]) -> None:
        # one step may carry two states of one run: the last is the true one
        await self.node_runs.upsert_many(list({run.id: run for run in runs}.values()))

    async def _write_events(self, events: list[ExecutionEvent]) -> None:
        await self.events.insert_many(events)

    # --- handlers ------------------------------------------------------------------------

    async def handle_run(self, request: RunRequest) -> None:
        """Start the execution, or resume it if it is already running: loading an
        execution does either. A redelivered request for an execution this process is
        running finds it in memory and has nothing to redo."""
        await self._with_execution(request.execution_id, None, workflow_id=request.workflow_id)

    async def handle_cancel(self, request: CancelRequest) -> None:
        """Cancel the execution (emits `execution.cancelled`); a finished one stays as it
        is. A pending execution is cancelled without starting it."""
        await self._with_execution(
            request.execution_id, lambda ex: ex.cancel(request.reason), resume=False
        )

    async def handle_rerun(self, request: RerunRequest) -> Execution | None:
        """Create the re-run execution (idempotently: a redelivered request finds it) and
        run it. None when the original execution or its workflow does not exist."""
        existing = await self.executions.get(request.new_execution_id)
        if existing is None:
            original = await self.executions.get(request.execution_id)
            if original is None:
                log.warning("re-run of a missing execution %s", request.execution_id)
                return None
            workflow = await self._pinned_workflow(original.workflow_id, original.workflow_version)
            if workflow is None:
                log.warning("re-run of %s: its workflow is gone", request.execution_id)
                return None
            try:
                existing = plan_rerun(
                    original, workflow, request.from_node_ids, request.new_execution_id
                )
            except RerunError as exc:
                log.warning("re-run of %s refused: %s", request.execution_id, exc)
                return None
            existing.trace_parent = tracing.current_traceparent()  # the re-run request's
            with contextlib.suppress(DuplicateKeyError):
                await self.executions.insert(existing)
        await self._with_execution(existing.id, None, workflow_id=existing.workflow_id)
        return existing

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
        emitted: dict[tuple[str, int], int] = {}

        def handle(executor: WorkflowExecutor) -> Step:
            emitted.clear()  # a conflict replays the whole share
            # read under the execution's lock: an earlier batch may have just set them
            marks = self._chunk_marks.get(execution_id, {})
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
            execution_id,
            lambda ex: ex.on_retry_due(retry.node_id, retry.failed_attempt, retry.scope),
        )

    async def resume_running(self, page: int = 200) -> int:
        """Load every execution the store says is running, at start-up: one whose last
        message was handled by a process that died may have nothing left on the bus to
        wake it (a node waiting for its retry timer, an unflushed outbox). Loading
        resumes it."""
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
        timers = [*self._timers, *self._deadlines.values()]
        for timer in timers:
            timer.cancel()
        if timers:
            await asyncio.gather(*timers, return_exceptions=True)
        self._deadlines.clear()
        self._executors.clear()
        await asyncio.gather(*self._writes, return_exceptions=True)

    # --- the execution's lifecycle in memory ---------------------------------------------

    async def _with_execution(
        self,
        execution_id: str,
        action: Callable[[WorkflowExecutor], Step] | None,
        *,
        workflow_id: str | None = None,
        resume: bool = True,
    ) -> bool:
        """Run `action` on the execution under its lock and apply the step it returns;
        on a conflict with another executor, reload and run it again. True when the
        execution has finished (or does not exist)."""
        lock = self._locks.get(execution_id)
        if lock is None:
            lock = self._locks[execution_id] = asyncio.Lock()
        async with lock:
            for _ in range(self._conflict_retries):
                try:
                    return await self._attempt(execution_id, action, workflow_id, resume)
                except Conflict:
                    self.conflicts += 1
                    self._executors.pop(execution_id, None)
                    await asyncio.sleep(self._rng.uniform(0, 0.01))
                except BaseException:
                    # memory may now be ahead of the store: forget it, and let the
                    # redelivered message rebuild the execution from what was persisted
                    self._executors.pop(execution_id, None)
                    raise
            raise RuntimeError(f"execution {execution_id}: too many concurrent-update conflicts")

    async def _attempt(
        self,
        execution_id: str,
        action: Callable[[WorkflowExecutor], Step] | None,
        workflow_id: str | None,
        resume: bool,
    ) -> bool:
        executor = self._executors.get(execution_id)
        cached = executor is not None
        if executor is None:
            executor = await self._load(execution_id, workflow_id, resume)
            if executor is None:
                return True
        if action is not None:
            step = action(executor)
            if not step.empty:
                await self._apply(executor, step)
            elif cached and not await self._is_fresh(executor):
                # "nothing to do" decided on memory another executor has moved past (the
                # result is for a node this process still sees pending): decide again on
                # the stored state, or the message would be acked and its news lost
                raise Conflict(execution_id)
        if executor.finished:
            self._executors.pop(execution_id, None)
            deadline = self._deadlines.pop(execution_id, None)
            if deadline is not None and deadline is not asyncio.current_task():
                deadline.cancel()
            return True
        self._executors[execution_id] = executor
        self._watch_deadline(executor)
        return False

    async def _is_fresh(self, executor: WorkflowExecutor) -> bool:
        version = await self.executions.version(executor.execution.id)
        return version is None or version == executor.execution.version

    async def _load(
        self, execution_id: str, workflow_id: str | None, resume: bool = True
    ) -> WorkflowExecutor | None:
        """Rebuild an execution from the store: flush what a crash left in its outbox,
        then start it (pending) or resume it (running). None when there is nothing to
        run."""
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
        if execution.outbox:
            runs = execution.outbox.get("node_runs") or []
            await self._node_run_writes.submit([NodeRun.model_validate(r) for r in runs])
            await self._flush(execution, execution.outbox, execution.version)
            execution.outbox = None
        if execution.status in TERMINAL_EXECUTION_STATUSES:
            return self._executor(execution, Workflow(id=execution.workflow_id))
        pinned = (execution.workflow_id, execution.workflow_version)
        workflow = self._valid_workflows.get(pinned)
        fresh = workflow is None
        if workflow is None:
            workflow = await self._pinned_workflow(*pinned)
        problem = None
        state: ExecutionState | None = None
        if workflow is None:
            problem = f"workflow {execution.workflow_id} does not exist"
        else:
            try:
                if fresh:
                    validate_workflow(workflow)
                state = ExecutionState.build(execution, workflow)
            except GraphValidationError as exc:
                problem = f"the workflow is not valid: {exc}"
            else:
                self._remember_workflow(pinned, workflow)
        if problem is not None or state is None:
            # an empty stand-in graph is enough to record the failure
            executor = self._executor(execution, Workflow(id=execution.workflow_id))
            await self._apply(executor, executor.fail(problem or "no workflow"))
            return executor
        executor = WorkflowExecutor(state, rng=self._rng, limits=self._limits)
        if execution.version == 0 and execution.status == "running":
            # written before the outbox existed: events a crash lost are rebuilt
            lost = executor.lost_events(await self._stored_events(execution_id))
            if lost:
                log.warning(
                    "execution %s: emitting %d events a crash lost", execution_id, len(lost)
                )
                executor.state.execution.last_seq = await self._emit_legacy(execution, lost)
        if resume and not executor.finished:
            if execution.status == "running":
                log.info("resuming execution %s", execution_id)
            step = executor.start()
            if not step.empty:
                await self._apply(executor, step)
        return executor

    def _remember_workflow(self, pinned: tuple[str, int], workflow: Workflow) -> None:
        """A saved version never changes (an edit makes a new one), so the executions of
        one version share one loaded, validated copy: starting an execution then costs no
        workflow read and no graph validation (the profile's share of a start)."""
        if workflow.version != pinned[1]:
            return  # stood in for a missing version: look again next time
        self._valid_workflows[pinned] = workflow
        self._valid_workflows.move_to_end(pinned)
        while len(self._valid_workflows) > _WORKFLOW_CACHE:
            self._valid_workflows.popitem(last=False)

    def _executor(self, execution: Execution, workflow: Workflow) -> WorkflowExecutor:
        return WorkflowExecutor(
            ExecutionState.build(execution, workflow), rng=self._rng, limits=self._limits
        )

    async def _stored_events(self, execution_id: str) -> list[PendingEvent]:
        out: list[PendingEvent] = []
        after = 0
        while True:
            page = await self.events.list_after(execution_id, after, limit=_EVENT_PAGE)
            out.extend(PendingEvent(e.type, e.node_id, e.data) for e in page)
            if len(page) < _EVENT_PAGE:
                return out
            after = page[-1].seq

    async def _emit_legacy(self, execution: Execution, pending: list[PendingEvent]) -> int:
        first = await self.executions.allocate_seq(execution.id, len(pending))
        batch = self._number(execution, pending, first)
        await self.events.insert_many(batch)
        subject = subjects.execution_events(execution.workflow_id, execution.id)
        await publish_all(
            self._broker, [Outgoing(e, subject, f"{execution.id}:{e.seq}", {}) for e in batch]
        )
        return first + len(pending) - 1

    # --- carrying out a step -------------------------------------------------------------

    @staticmethod
    def _number(
        execution: Execution, pending: list[PendingEvent], first: int
    ) -> list[ExecutionEvent]:
        return [
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

    async def _apply(self, executor: WorkflowExecutor, step: Step) -> None:
        execution = executor.execution
        with tracing.span_in_trace(
            "execution.step",
            execution.trace_parent,
            {
                tracing.WORKFLOW_ID: execution.workflow_id,
                tracing.EXECUTION_ID: execution.id,
                "pilot.execution.events": [e.type for e in step.events],
                "pilot.execution.status": step.fields.get("status"),
            },
        ):
            await self._apply_step(executor, step)

    async def _apply_step(self, executor: WorkflowExecutor, step: Step) -> None:
        execution = executor.execution
        read_version = execution.version
        batch = self._number(execution, step.events, execution.last_seq + 1)
        outbox: dict[str, Any] | None = None
        if step.tasks or batch or step.node_runs:
            outbox = {
                "tasks": [t.model_dump(mode="json") for t in step.tasks],
                "events": [e.model_dump(mode="json") for e in batch],
                # written below beside the state; kept here too, because a crash between
                # the two writes would otherwise leave a settled node without its run
                "node_runs": [r.model_dump(mode="json") for r in step.node_runs],
            }
        fields = dict(step.fields)
        fields["last_seq"] = execution.last_seq + len(batch)
        fields["version"] = read_version + 1
        fields["outbox"] = outbox
        # Both at once (one round trip's wait, not two): node runs are idempotent by id
        # and true whoever commits, and both are stored before anything is published.
        _, committed = await asyncio.gather(
            self._node_run_writes.submit(step.node_runs),
            self.executions.set_fields_if_version(execution.id, fields, read_version),
        )
        if not committed:
            raise Conflict(execution.id)
        execution.version = read_version + 1
        execution.last_seq += len(batch)
        self.steps_applied += 1
        if outbox is not None:
            await self._flush(execution, outbox, execution.version)
        for retry in step.retries:
            self._schedule(execution.id, retry)
        _observe(executor, step)

    async def _flush(self, execution: Execution, outbox: dict[str, Any], version: int) -> None:
        """Publish and store what a committed write put in the outbox; every part is
        idempotent, so flushing twice (a crash, two executors) changes nothing."""
        outgoing: list[Outgoing] = []
        for raw in outbox.get("tasks") or []:
            task = NodeTask.model_validate(raw)
            # the runner's spans are children of this one (context in the message headers)
            with tracing.span_in_trace(
                "node.dispatch",
                execution.trace_parent,
                {
                    tracing.WORKFLOW_ID: task.workflow_id,
                    tracing.EXECUTION_ID: task.execution_id,
                    tracing.NODE_ID: task.node.id,
                    tracing.NODE_TYPE: task.node.type,
                    tracing.NODE_ATTEMPT: task.attempt,
                },
            ):
                traceparent = tracing.current_traceparent()
            headers = {"traceparent": traceparent} if traceparent else {}
            outgoing.append(Outgoing(task, subjects.tasks(task.node.type), task.task_id, headers))
        batch = [ExecutionEvent.model_validate(raw) for raw in outbox.get("events") or []]
        if batch:
            # stored before published: the gateway fills a gap in what it hears from the store
            await self._event_writes.submit(batch)
            subject = subjects.execution_events(execution.workflow_id, execution.id)
            outgoing += [
                Outgoing(event, subject, f"{execution.id}:{event.seq}", {}) for event in batch
            ]
        # one pipeline: tasks first, then the events in seq order
        await publish_all(self._broker, outgoing)
        # Off the hot path: clearing is conditional on `version`, so a clear that lands
        # after the next step's write matches nothing, and one that never lands leaves
        # an outbox whose second flush changes nothing. (Deferring it further, to let the
        # next step's write replace the outbox, made a runner-kill test call a completed
        # node twice: an execution reloaded meanwhile flushed the old outbox again.)
        self._background(self.executions.clear_outbox(execution.id, version))

    def _background(self, write: Coroutine[Any, Any, None]) -> None:
        async def run() -> None:
            try:
                await write
            except Exception:
                log.warning("a background store write failed", exc_info=True)

        task = asyncio.create_task(run())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def _schedule(self, execution_id: str, retry: ScheduledRetry, tries: int = 10) -> None:
        """The next attempt after the backoff. The due time is stored with the node
        (`next_attempt_at`), so if this process dies first, whichever executor loads the
        execution next sets the timer again for the delay that remains."""

        async def fire() -> None:
            await asyncio.sleep(max(retry.delay_ms, 0) / 1000)
            try:
                await self.retry_due(execution_id, retry)
            except Exception:
                # no message will be redelivered for a timer: try again a while later
                log.exception("retry of %s in execution %s failed", retry.node_id, execution_id)
                if tries > 1:
                    later = ScheduledRetry(
                        retry.node_id, retry.failed_attempt, _RETRY_AGAIN_MS, retry.scope
                    )
                    self._schedule(execution_id, later, tries - 1)

        timer = asyncio.create_task(fire(), name=f"retry:{execution_id}:{retry.node_id}")
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    def _watch_deadline(self, executor: WorkflowExecutor) -> None:
        """One timer per running execution at its wall-time limit: a node that never
        answers produces no message to check the limit on."""
        execution = executor.execution
        if execution.id in self._deadlines or execution.started_at is None:
            return
        remaining = (
            execution.started_at.timestamp() + self._limits.max_wall_time_s - utcnow().timestamp()
        )

        async def fire() -> None:
            await asyncio.sleep(max(remaining, 0) + 0.05)
            try:
                await self._with_execution(execution.id, lambda ex: ex.check_deadline())
            except Exception:
                log.exception("wall-time check of execution %s failed", execution.id)
            finally:
                self._deadlines.pop(execution.id, None)

        self._deadlines[execution.id] = asyncio.create_task(fire(), name=f"deadline:{execution.id}")


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
