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
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from pilot_shared.contracts import (
    ERROR_HANDLE,
    TERMINAL_EXECUTION_STATUSES,
    Execution,
    ExecutionStatus,
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
from .state import ExecutionState


@dataclass(frozen=True)
class ScheduledRetry:
    node_id: str
    failed_attempt: int
    delay_ms: int


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


class WorkflowExecutor:
    def __init__(
        self,
        state: ExecutionState,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.state = state
        self._rng = rng or random.Random()
        self._clock = clock

    @property
    def execution(self) -> Execution:
        return self.state.execution

    @property
    def finished(self) -> bool:
        return self.execution.status in TERMINAL_EXECUTION_STATUSES

    # --- what can happen -------------------------------------------------------------

    def start(self) -> Step:
        """Start a pending execution, or resume a running one: nodes waiting for a retry
        are dispatched now (their timer died with the last executor), then every ready
        node. Nodes marked running already have their task on the bus (the manager
        publishes tasks before it persists the state that says so) and are left alone."""
        step = Step()
        if self.execution.status == "pending":
            self._set(step, status="running", started_at=self._clock())
            step.events.append(events.execution_started(self.execution))
        if self.execution.status != "running":
            return step
        for node_id in self.state.order:
            state = self.state.node_state(node_id)
            if state.status == "retrying":
                self._dispatch(step, node_id, state.attempt + 1)
        self._advance(step)
        return step

    def on_chunk(self, chunk: NodeChunk) -> Step:
        step = Step()
        if self._is_current(chunk.node_id, chunk.attempt):
            step.events.append(
                PendingEvent(
                    "node.chunk",
                    chunk.node_id,
                    {"text": chunk.text, "index": chunk.index, "attempt": chunk.attempt},
                )
            )
        return step

    def on_result(self, result: NodeResult) -> Step:
        """Record one attempt's outcome and move on. A result for a node that already
        settled, or for an attempt that is not the current one, is a redelivery or a
        straggler and changes nothing."""
        step = Step()
        if not self._is_current(result.node_id, result.attempt):
            return step
        node_id = result.node_id
        node = self.state.graph.nodes[node_id]
        previous = self.state.node_state(node_id)
        now = self._clock()
        if result.usage is not None:
            self._set(step, usage=self.execution.usage + result.usage)
        spent = _add(previous.usage, result.usage)
        step.node_runs.append(
            NodeRun(
                id=node_run_id(self.execution.id, node_id, result.attempt),
                execution_id=self.execution.id,
                workflow_id=self.execution.workflow_id,
                node_id=node_id,
                node_type=node.type,
                attempt=result.attempt,
                status=result.status,
                input=self.state.context_for(node_id),
                output=result.output,
                error=result.error,
                started_at=result.started_at,
                finished_at=now,
                duration_ms=result.duration_ms,
                usage=result.usage,
            )
        )
        settled = previous.model_copy(
            update={"finished_at": now, "duration_ms": result.duration_ms, "usage": spent}
        )
        if result.status == "completed":
            settled = settled.model_copy(
                update={"status": "completed", "output": result.output, "handle": result.handle}
            )
            self._set_node(step, node_id, settled)
            step.events.append(events.node_completed(node_id, settled, result.usage))
        else:
            error = result.error or NodeError(
                kind="internal", message="the runner reported a failure without an error"
            )
            self._on_failure(
                step, node_id, settled.model_copy(update={"error": error}), error, result.usage
            )
        self._advance(step)
        return step

    def on_retry_due(self, node_id: str, failed_attempt: int) -> Step:
        step = Step()
        state = self.state.node_state(node_id)
        if (
            self.execution.status == "running"
            and state.status == "retrying"
            and state.attempt == failed_attempt
        ):
            self._dispatch(step, node_id, failed_attempt + 1)
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
        """Events the stored state implies but the event log lacks: a crash between
        persisting a step's state and emitting its events loses them, and recovery emits
        them from the state (marked `recovered`)."""
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

    def _is_current(self, node_id: str, attempt: int) -> bool:
        if self.execution.status != "running" or node_id not in self.state.graph.nodes:
            return False
        state = self.state.node_state(node_id)
        return state.status == "running" and state.attempt == attempt

    def _on_failure(
        self, step: Step, node_id: str, state: NodeState, error: NodeError, usage: Usage | None
    ) -> None:
        node = self.state.graph.nodes[node_id]
        has_error_branch = any(
            c.source_handle == ERROR_HANDLE for c in self.state.graph.outgoing.get(node_id, [])
        )
        action = plan_failure(
            node, state.attempt, error, has_error_branch=has_error_branch, rng=self._rng
        )
        if isinstance(action, RetryLater):
            state = state.model_copy(update={"status": "retrying"})
            self._set_node(step, node_id, state)
            step.events.append(events.node_retrying(node_id, state, action.delay_ms))
            step.retries.append(ScheduledRetry(node_id, state.attempt, action.delay_ms))
        elif isinstance(action, UseDefault):
            state = state.model_copy(
                update={"status": "completed", "output": action.output, "handle": action.handle}
            )
            self._set_node(step, node_id, state)
            step.events.append(events.node_completed(node_id, state, usage))
        elif isinstance(action, TakeErrorBranch):
            state = state.model_copy(update={"status": "failed", "handle": ERROR_HANDLE})
            self._set_node(step, node_id, state)
            step.events.append(events.node_failed(node_id, state))
        else:
            assert isinstance(action, FailExecution)
            state = state.model_copy(update={"status": "failed", "handle": None})
            self._set_node(step, node_id, state)
            step.events.append(events.node_failed(node_id, state))
            self._finish(step, "failed", f"node '{node_id}' failed: {error.message}")

    def _advance(self, step: Step) -> None:
        if self.execution.status != "running":
            return
        decision = decide(self.state.graph, self.state.order, self.state.states())
        now = self._clock()
        for node_id in decision.skipped:
            self._set_node(step, node_id, NodeState(status="skipped", finished_at=now))
            step.events.append(events.node_skipped(node_id))
        for node_id in decision.ready:
            self._dispatch(step, node_id, self.state.node_state(node_id).attempt + 1)
        if not self.state.active_nodes():
            self._finish(step, "completed")

    def _dispatch(self, step: Step, node_id: str, attempt: int) -> None:
        node = self.state.graph.nodes[node_id]
        previous = self.state.node_state(node_id)
        state = NodeState(
            status="running", attempt=attempt, started_at=self._clock(), usage=previous.usage
        )
        self._set_node(step, node_id, state)
        step.tasks.append(
            NodeTask(
                task_id=f"{self.execution.id}:{node_id}:{attempt}",
                execution_id=self.execution.id,
                workflow_id=self.execution.workflow_id,
                node=node,
                attempt=attempt,
                context=self.state.context_for(node_id),
            )
        )
        step.events.append(events.node_started(node, state))

    def _finish(self, step: Step, status: ExecutionStatus, error: str | None = None) -> None:
        now = self._clock()
        for node_id in self.state.active_nodes():
            cancelled = self.state.node_state(node_id).model_copy(
                update={"status": "cancelled", "finished_at": now}
            )
            self._set_node(step, node_id, cancelled)
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

    def _set_node(self, step: Step, node_id: str, state: NodeState) -> None:
        self.execution.node_states[node_id] = state
        step.fields[f"node_states.{node_id}"] = state.model_dump(mode="json")


def _add(a: Usage | None, b: Usage | None) -> Usage | None:
    if a is None or b is None:
        return a or b
    return a + b
