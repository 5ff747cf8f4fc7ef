"""`WorkflowExecutor`: the control flow of one execution.

It turns what happens (start, a runner's chunk or result, a retry falling due) into a
`Step`: the state changes to persist, the node runs to record, the events to emit and the
tasks to dispatch. It does no I/O, so every decision is testable without a bus or a store;
`ExecutionManager` carries the steps out.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic_core import to_jsonable_python

from pilot_shared.contracts import (
    ERROR_HANDLE,
    TERMINAL_EXECUTION_STATUSES,
    Execution,
    ExecutionStatus,
    LoopNode,
    NodeChunk,
    NodeError,
    NodeResult,
    NodeRun,
    NodeState,
    NodeTask,
    Usage,
    utcnow,
)
from pilot_shared.repositories import node_run_id
from pilot_shared.templating import TemplateError, evaluate, render

from . import events
from .events import PendingEvent
from .failure import (
    FailExecution,
    RetryLater,
    TakeErrorBranch,
    UseDefault,
    plan_failure,
)
from .scheduler import decide
from .state import ACTIVE, ExecutionState, Scope, state_field


@dataclass(frozen=True)
class Limits:
    """Per-execution limits; exceeding one fails the execution with a clear reason."""

    max_steps: int = 10_000  # node attempts dispatched, loop iterations included
    max_wall_time_s: float = 3600.0
    max_loop_iterations: int = 1000  # per loop, on top of the loop's own max_iterations
    max_call_depth: int = 5  # sub-workflow nesting


@dataclass(frozen=True)
class ScheduledRetry:
    node_id: str
    failed_attempt: int
    delay_ms: int
    scope: Scope = None


@dataclass
class Step:
    """Everything one decision produced, in the order the manager applies it."""

    tasks: list[NodeTask] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)  # `$set` on the execution
    node_runs: list[NodeRun] = field(default_factory=list)
    events: list[PendingEvent] = field(default_factory=list)
    retries: list[ScheduledRetry] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.tasks or self.fields or self.node_runs or self.events or self.retries)

    def merge(self, later: Step) -> None:
        """Fold a later step into this one, so several messages cost one round of writes."""
        self.tasks += later.tasks
        self.fields.update(later.fields)  # a later state of the same field wins
        self.node_runs += later.node_runs
        self.events += later.events
        self.retries += later.retries


def task_id_for(execution_id: str, node_id: str, attempt: int, scope: Scope) -> str:
    base = f"{execution_id}:{node_id}:{attempt}"
    return base if scope is None else f"{base}#{scope[0]}#{scope[1]}"


def scope_of(task_id: str) -> Scope:
    """The loop iteration a task (and so its result) belongs to, from its id."""
    # the last two `#` parts: an execution id may itself hold `#` (a sub-workflow started
    # from a loop body names its execution after the calling task)
    parts = task_id.rsplit("#", 2)
    if len(parts) != 3 or ":" in parts[1]:
        return None
    try:
        return (parts[1], int(parts[2]))
    except ValueError:
        return None


def _in_scope(event: PendingEvent, scope: Scope) -> PendingEvent:
    if scope is None:
        return event
    return PendingEvent(
        event.type, event.node_id, {**event.data, "loop_id": scope[0], "iteration": scope[1]}
    )


class WorkflowExecutor:
    def __init__(
        self,
        state: ExecutionState,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = utcnow,
        limits: Limits | None = None,
    ) -> None:
        self.state = state
        self._rng = rng or random.Random()
        self._clock = clock
        self.limits = limits or Limits()
        self._items: dict[str, list[Any]] = {}  # for_each items per loop, rendered once

    @property
    def execution(self) -> Execution:
        return self.state.execution

    @property
    def finished(self) -> bool:
        return self.execution.status in TERMINAL_EXECUTION_STATUSES

    # --- what can happen -------------------------------------------------------------

    def start(self) -> Step:
        """Start a pending execution, or resume a running one: nodes waiting for a retry
        get their timer back with the delay that remains (or are dispatched now if it is
        due), then every ready node. Nodes marked running already have their task on the
        bus (the manager commits tasks with the state that says so) and are left alone."""
        step = Step()
        if self.execution.status == "pending":
            self._set(step, status="running", started_at=self._clock())
            step.events.append(events.execution_started(self.execution))
            if self.execution.depth > self.limits.max_call_depth:
                self._finish(
                    step,
                    "failed",
                    f"call depth limit exceeded: depth {self.execution.depth} "
                    f"> max_call_depth={self.limits.max_call_depth}",
                )
                return step
        if self.execution.status != "running":
            return step
        now = self._clock()
        for node_id, scope in self.state.active_slots():
            state = self.state.node_state(node_id, scope)
            if state.status != "retrying":
                continue
            due = state.next_attempt_at
            if due is not None and due > now:
                remaining = int((due - now).total_seconds() * 1000)
                step.retries.append(ScheduledRetry(node_id, state.attempt, remaining, scope))
            else:
                self._dispatch(step, node_id, state.attempt + 1, scope)
        self._advance(step)
        return step

    def on_chunk(self, chunk: NodeChunk) -> Step:
        step = Step()
        scope = scope_of(chunk.task_id)
        if self._is_current(chunk.node_id, chunk.attempt, scope):
            data: dict[str, Any] = {
                "text": chunk.text,
                "index": chunk.index,
                "attempt": chunk.attempt,
            }
            step.events.append(_in_scope(PendingEvent("node.chunk", chunk.node_id, data), scope))
        return step

    def on_result(self, result: NodeResult) -> Step:
        """Record one attempt's outcome and move on. A result for a node that already
        settled, or for an attempt that is not the current one, is a redelivery or a
        straggler and changes nothing."""
        step = Step()
        scope = scope_of(result.task_id)
        if not self._is_current(result.node_id, result.attempt, scope):
            return step
        node_id = result.node_id
        node = self.state.graph.nodes[node_id]
        previous = self.state.node_state(node_id, scope)
        now = self._clock()
        if result.usage is not None:
            self._set(step, usage=self.execution.usage + result.usage)
        spent = _add(previous.usage, result.usage)
        iteration = f"{scope[0]}:{scope[1]}" if scope is not None else ""
        step.node_runs.append(
            NodeRun(
                id=node_run_id(self.execution.id, node_id, result.attempt, iteration),
                execution_id=self.execution.id,
                workflow_id=self.execution.workflow_id,
                node_id=node_id,
                node_type=node.type,
                attempt=result.attempt,
                status=result.status,
                loop_id=scope[0] if scope is not None else None,
                iteration=scope[1] if scope is not None else None,
                input=result.input if result.input is not None else self._context(node_id, scope),
                output=result.output,
                error=result.error,
                started_at=result.started_at,
                finished_at=now,
                duration_ms=result.duration_ms,
                usage=result.usage,
            )
        )
        settled = previous.model_copy(
            update={
                "finished_at": now,
                "duration_ms": result.duration_ms,
                "usage": spent,
                "next_attempt_at": None,
            }
        )
        if result.status == "completed":
            settled = settled.model_copy(
                update={"status": "completed", "output": result.output, "handle": result.handle}
            )
            self._set_node(step, node_id, settled, scope)
            step.events.append(
                _in_scope(events.node_completed(node_id, settled, result.usage), scope)
            )
        else:
            error = result.error or NodeError(
                kind="internal", message="the runner reported a failure without an error"
            )
            self._on_failure(
                step, node_id, settled.model_copy(update={"error": error}), error, scope
            )
        self._advance(step)
        return step

    def on_retry_due(self, node_id: str, failed_attempt: int, scope: Scope = None) -> Step:
        step = Step()
        state = self.state.node_state(node_id, scope)
        if (
            self.execution.status == "running"
            and state.status == "retrying"
            and state.attempt == failed_attempt
        ):
            self._dispatch(step, node_id, failed_attempt + 1, scope)
        return step

    def check_deadline(self) -> Step:
        """Fail the execution if it has run past its wall-time limit (called by a timer:
        an execution stuck on a slow node produces no other message to check it on)."""
        step = Step()
        self._check_wall_time(step)
        return step

    def fail(self, message: str) -> Step:
        """Fail the execution for a reason outside any node (its workflow is gone or
        invalid)."""
        step = Step()
        if not self.finished:
            self._finish(step, "failed", message)
        return step

    def cancel(self, reason: str = "cancelled") -> Step:
        step = Step()
        if not self.finished:
            self._finish(step, "cancelled", reason)
        return step

    def lost_events(self, stored: Iterable[PendingEvent]) -> list[PendingEvent]:
        """Events the stored state implies but the event log lacks (top-level nodes).
        The manager's outbox makes this unnecessary for executions it wrote; kept for
        executions written before the outbox existed."""
        have = {e.key() for e in stored}
        expected: list[PendingEvent] = []
        ex = self.execution
        if ex.started_at is not None:
            expected.append(events.execution_started(ex))
        for node_id in self.state.order:
            state = self.state.node_state(node_id)
            node = self.state.graph.nodes[node_id]
            if state.attempt >= 1:
                expected.append(events.node_started(node, state))
            if state.status == "completed":
                expected.append(events.node_completed(node_id, state, state.usage))
            elif state.status == "failed":
                expected.append(events.node_failed(node_id, state))
            elif state.status == "retrying":
                expected.append(events.node_retrying(node_id, state, 0))
            elif state.status == "skipped":
                expected.append(events.node_skipped(node_id))
        if self.finished:
            expected.append(events.execution_finished(ex))
        return [
            PendingEvent(e.type, e.node_id, {**e.data, "recovered": True})
            for e in expected
            if e.key() not in have
        ]

    # --- how ---------------------------------------------------------------------------

    def _is_current(self, node_id: str, attempt: int, scope: Scope) -> bool:
        if self.execution.status != "running" or node_id not in self.state.graph.nodes:
            return False
        if scope is not None and scope[0] not in self.state.body_order:
            return False
        state = self.state.node_state(node_id, scope)
        return state.status == "running" and state.attempt == attempt

    def _context(self, node_id: str, scope: Scope) -> dict[str, Any]:
        if scope is None:
            return self.state.context_for(node_id)
        loop_id, index = scope
        loop = self.state.graph.nodes[loop_id]
        assert isinstance(loop, LoopNode)
        if loop.config.mode == "for_each":
            items = self._loop_items(loop_id)
            item = items[index] if index < len(items) else None
            length: int | None = len(items)
        else:
            item, length = None, None
        extra = {
            "item": item,
            "loop": {
                "index": index + 1,  # Jinja's convention: loop.index counts from 1
                "index0": index,
                "first": index == 0,
                "length": length,
                "previous": self._iteration_output(loop_id, index - 1) if index else None,
            },
        }
        return self.state.context_for(node_id, scope, extra)

    def _on_failure(
        self, step: Step, node_id: str, state: NodeState, error: NodeError, scope: Scope
    ) -> None:
        node = self.state.graph.nodes[node_id]
        has_error_branch = any(
            c.source_handle == ERROR_HANDLE for c in self.state.graph.outgoing.get(node_id, [])
        )
        action = plan_failure(
            node, state.attempt, error, has_error_branch=has_error_branch, rng=self._rng
        )
        if isinstance(action, RetryLater):
            due = self._clock() + timedelta(milliseconds=action.delay_ms)
            state = state.model_copy(update={"status": "retrying", "next_attempt_at": due})
            self._set_node(step, node_id, state, scope)
            step.events.append(
                _in_scope(events.node_retrying(node_id, state, action.delay_ms), scope)
            )
            step.retries.append(ScheduledRetry(node_id, state.attempt, action.delay_ms, scope))
        elif isinstance(action, UseDefault):
            state = state.model_copy(
                update={"status": "completed", "output": action.output, "handle": action.handle}
            )
            self._set_node(step, node_id, state, scope)
            step.events.append(_in_scope(events.node_completed(node_id, state, state.usage), scope))
        elif isinstance(action, TakeErrorBranch):
            state = state.model_copy(update={"status": "failed", "handle": ERROR_HANDLE})
            self._set_node(step, node_id, state, scope)
            step.events.append(_in_scope(events.node_failed(node_id, state), scope))
        else:
            assert isinstance(action, FailExecution)
            state = state.model_copy(update={"status": "failed", "handle": None})
            self._set_node(step, node_id, state, scope)
            step.events.append(_in_scope(events.node_failed(node_id, state), scope))
            where = f" (iteration {scope[1]} of loop '{scope[0]}')" if scope else ""
            self._finish(step, "failed", f"node '{node_id}'{where} failed: {error.message}")

    def _check_wall_time(self, step: Step) -> bool:
        started = self.execution.started_at
        if self.execution.status != "running" or started is None:
            return False
        elapsed = (self._clock() - started).total_seconds()
        if elapsed <= self.limits.max_wall_time_s:
            return False
        self._finish(
            step,
            "failed",
            f"wall time limit exceeded: running for {elapsed:.1f}s "
            f"(max_wall_time_s={self.limits.max_wall_time_s:g})",
        )
        return True

    def _advance(self, step: Step) -> None:
        if self.execution.status != "running" or self._check_wall_time(step):
            return
        while self.execution.status == "running":
            decision = decide(self.state.graph, self.state.order, self.state.states())
            now = self._clock()
            for node_id in decision.skipped:
                self._set_node(step, node_id, NodeState(status="skipped", finished_at=now))
                step.events.append(events.node_skipped(node_id))
            for node_id in decision.ready:
                if self.execution.status != "running":
                    return
                if isinstance(self.state.graph.nodes[node_id], LoopNode):
                    self._start_loop(step, node_id)
                else:
                    self._dispatch(step, node_id, self.state.node_state(node_id).attempt + 1)
            settled_a_loop = False
            for node_id in self.state.order:
                if self.execution.status != "running":
                    return
                if (
                    isinstance(self.state.graph.nodes[node_id], LoopNode)
                    and self.state.node_state(node_id).status == "running"
                ):
                    settled_a_loop |= self._advance_loop(step, node_id)
            if not settled_a_loop:
                break
        if self.execution.status == "running" and not self.state.active_nodes():
            self._finish(step, "completed")

    # --- loops -------------------------------------------------------------------------

    def _loop_items(self, loop_id: str) -> list[Any]:
        """The items of a for_each loop: its template rendered over the loop's context.
        Upstream outputs never change, so a rebuilt executor renders the same list."""
        if loop_id not in self._items:
            loop = self.state.graph.nodes[loop_id]
            assert isinstance(loop, LoopNode) and loop.config.items is not None
            value = render(loop.config.items, self.state.context_for(loop_id))
            if isinstance(value, tuple):
                value = list(value)
            if not isinstance(value, list):
                raise TemplateError(
                    f"the loop's items must be a list, but the template gave {type(value).__name__}"
                )
            self._items[loop_id] = value
        return self._items[loop_id]

    def _start_loop(self, step: Step, loop_id: str) -> None:
        loop = self.state.graph.nodes[loop_id]
        assert isinstance(loop, LoopNode)
        state = NodeState(status="running", attempt=1, started_at=self._clock())
        self._set_node(step, loop_id, state)
        step.events.append(events.node_started(loop, state))
        if loop.config.mode != "for_each":
            return
        try:
            items = self._loop_items(loop_id)
        except TemplateError as exc:
            self._loop_failed(step, loop_id, NodeError(kind="template", message=str(exc)))
            return
        limit = min(loop.config.max_iterations, self.limits.max_loop_iterations)
        if len(items) > limit:
            which = (
                f"the loop's max_iterations={loop.config.max_iterations}"
                if loop.config.max_iterations <= self.limits.max_loop_iterations
                else f"the executor's max_loop_iterations={self.limits.max_loop_iterations}"
            )
            self._loop_failed(
                step,
                loop_id,
                NodeError(
                    kind="limit",
                    message=f"loop iteration limit exceeded: {len(items)} items > {which}",
                ),
            )

    def _loop_failed(self, step: Step, loop_id: str, error: NodeError) -> None:
        state = self.state.node_state(loop_id).model_copy(
            update={"error": error, "finished_at": self._clock(), "status": "failed"}
        )
        step.node_runs.append(self._loop_run(state, None, loop_id))
        self._on_failure(step, loop_id, state, error, None)

    def _loop_run(self, state: NodeState, input_: Any, node_id: str) -> NodeRun:
        """The execution log's record of a loop node (the executor runs it itself)."""
        return NodeRun(
            id=node_run_id(self.execution.id, node_id, state.attempt or 1),
            execution_id=self.execution.id,
            workflow_id=self.execution.workflow_id,
            node_id=node_id,
            node_type="loop",
            attempt=state.attempt or 1,
            status="completed" if state.status == "completed" else "failed",
            input=input_,
            output=state.output,
            error=state.error,
            started_at=state.started_at,
            finished_at=state.finished_at,
            duration_ms=state.duration_ms,
        )

    def _iteration_output(self, loop_id: str, index: int) -> Any:
        body = self.state.body_order.get(loop_id) or []
        loop = self.state.graph.nodes[loop_id]
        assert isinstance(loop, LoopNode)
        last = loop.config.body[-1] if loop.config.body else (body[-1] if body else None)
        if last is None:
            return None
        state = self.state.node_state(last, (loop_id, index))
        return state.output if state.status == "completed" else None

    def _advance_loop(self, step: Step, loop_id: str) -> bool:
        """Move a running loop on: settle what its iterations decided, start iterations
        up to the concurrency cap (for_each) or while the condition holds (while), and
        complete the loop once every iteration settled. True when the loop settled."""
        loop = self.state.graph.nodes[loop_id]
        assert isinstance(loop, LoopNode)
        cfg = loop.config
        body = self.state.body_order.get(loop_id, [])
        started = self.state.started_iterations(loop_id)
        active = 0
        for index in range(started):
            active += self._advance_iteration(step, loop_id, index, body)
            if self.execution.status != "running":
                return False
        if cfg.mode == "for_each":
            try:
                total = len(self._loop_items(loop_id))
            except TemplateError as exc:
                self._loop_failed(step, loop_id, NodeError(kind="template", message=str(exc)))
                return True
            while started < total and active < cfg.concurrency:
                active += self._advance_iteration(step, loop_id, started, body)
                started += 1
                if self.execution.status != "running":
                    return False
            if started < total or active:
                return False
        else:
            if active:
                return False
            previous = self._iteration_output(loop_id, started - 1) if started else None
            context = self.state.context_for(
                loop_id,
                extra={
                    "loop": {"index": started + 1, "index0": started, "previous": previous},
                    "item": previous,
                },
            )
            assert cfg.condition is not None
            try:
                go_on = bool(evaluate(cfg.condition, context))
            except TemplateError as exc:
                self._loop_failed(step, loop_id, NodeError(kind="template", message=str(exc)))
                return True
            if go_on:
                limit = min(cfg.max_iterations, self.limits.max_loop_iterations)
                if started >= limit:
                    self._loop_failed(
                        step,
                        loop_id,
                        NodeError(
                            kind="limit",
                            message=(
                                "loop iteration limit exceeded: the while condition still "
                                f"held after {started} iterations (max_iterations={limit})"
                            ),
                        ),
                    )
                    return True
                self._advance_iteration(step, loop_id, started, body)
                return False
            total = started
        results = [self._iteration_output(loop_id, i) for i in range(total)]
        now = self._clock()
        state = self.state.node_state(loop_id)
        duration = (
            round((now - state.started_at).total_seconds() * 1000, 3) if state.started_at else 0.0
        )
        done = state.model_copy(
            update={
                "status": "completed",
                "output": results,
                "handle": None,
                "finished_at": now,
                "duration_ms": duration,
            }
        )
        self._set_node(step, loop_id, done)
        step.node_runs.append(self._loop_run(done, {"iterations": total}, loop_id))
        step.events.append(events.node_completed(loop_id, done, None))
        return True

    def _advance_iteration(self, step: Step, loop_id: str, index: int, body: list[str]) -> int:
        """Dispatch what is ready in one iteration and skip what its branches left out;
        1 if the iteration is still active afterwards, else 0."""
        scope = (loop_id, index)
        decision = decide(self.state.graph, body, self.state.scoped_states(loop_id, index))
        now = self._clock()
        for node_id in decision.skipped:
            self._set_node(step, node_id, NodeState(status="skipped", finished_at=now), scope)
            step.events.append(_in_scope(events.node_skipped(node_id), scope))
        for node_id in decision.ready:
            if self.execution.status != "running":
                return 0
            self._dispatch(step, node_id, self.state.node_state(node_id, scope).attempt + 1, scope)
        return int(any(self.state.node_state(b, scope).status in ACTIVE for b in body))

    # --- dispatch and finish -------------------------------------------------------------

    def _dispatch(self, step: Step, node_id: str, attempt: int, scope: Scope = None) -> None:
        if self.execution.steps >= self.limits.max_steps:
            self._finish(
                step,
                "failed",
                f"step limit exceeded: {self.execution.steps} node attempts ran "
                f"(max_steps={self.limits.max_steps})",
            )
            return
        self._set(step, steps=self.execution.steps + 1)
        node = self.state.graph.nodes[node_id]
        previous = self.state.node_state(node_id, scope)
        state = NodeState(
            status="running", attempt=attempt, started_at=self._clock(), usage=previous.usage
        )
        self._set_node(step, node_id, state, scope)
        step.tasks.append(
            NodeTask(
                task_id=task_id_for(self.execution.id, node_id, attempt, scope),
                execution_id=self.execution.id,
                workflow_id=self.execution.workflow_id,
                node=node,
                attempt=attempt,
                context=self._context(node_id, scope),
            )
        )
        step.events.append(_in_scope(events.node_started(node, state), scope))

    def _finish(self, step: Step, status: ExecutionStatus, error: str | None = None) -> None:
        now = self._clock()
        for node_id, scope in self.state.active_slots():
            cancelled = self.state.node_state(node_id, scope).model_copy(
                update={"status": "cancelled", "finished_at": now, "next_attempt_at": None}
            )
            self._set_node(step, node_id, cancelled, scope)
        started = self.execution.started_at
        duration_ms = round((now - started).total_seconds() * 1000, 3) if started else 0.0
        self._set(
            step,
            status=status,
            error=error,
            output=self._final_output() if status == "completed" else None,
            finished_at=now,
            duration_ms=duration_ms,
        )
        step.events.append(events.execution_finished(self.execution))

    def _final_output(self) -> Any:
        """The output node's output; with several output nodes that ran, one per node id."""
        outputs = {
            node_id: self.state.node_state(node_id).output
            for node_id in self.state.order
            if self.state.graph.nodes[node_id].type == "output"
            and self.state.node_state(node_id).status == "completed"
        }
        if len(outputs) == 1:
            return next(iter(outputs.values()))
        return outputs or None

    def _set(self, step: Step, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self.execution, name, value)
            step.fields[name] = to_jsonable_python(value)

    def _set_node(self, step: Step, node_id: str, state: NodeState, scope: Scope = None) -> None:
        self.state.put(node_id, scope, state)
        step.fields[state_field(node_id, scope)] = state.model_dump(mode="json")


def _add(a: Usage | None, b: Usage | None) -> Usage | None:
    if a is None or b is None:
        return a or b
    return a + b
