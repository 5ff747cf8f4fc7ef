"""The data of each execution event type (DESIGN.md §4), built from the state it reports.

The engine builds live events with these, and recovery rebuilds any that a crash lost
from the stored state with the very same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pilot_shared.contracts import EventType, Execution, Node, NodeState, Usage

SKIPPED_REASON = "no incoming branch was taken"


@dataclass(frozen=True)
class PendingEvent:
    """An event before it has a `seq`; the manager numbers, stores and publishes it."""

    type: EventType
    node_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[str, str | None, Any]:
        """What tells this event apart from another of the same execution."""
        return (self.type, self.node_id, self.data.get("attempt"))


def _usage(usage: Usage | None) -> dict[str, Any] | None:
    return usage.model_dump(mode="json") if usage is not None else None


def execution_started(execution: Execution) -> PendingEvent:
    return PendingEvent(
        "execution.started",
        data={"input": execution.input_data, "workflow_version": execution.workflow_version},
    )


def node_started(node: Node, state: NodeState) -> PendingEvent:
    return PendingEvent(
        "node.started",
        node.id,
        {"attempt": state.attempt, "node_type": node.type, "name": node.name},
    )


def node_completed(node_id: str, state: NodeState, usage: Usage | None) -> PendingEvent:
    data: dict[str, Any] = {
        "output": state.output,
        "duration_ms": state.duration_ms,
        "attempt": state.attempt,
        "usage": _usage(usage),
    }
    if state.handle is not None:
        data["handle"] = state.handle
    if state.error is not None:  # completed by on_error "continue"
        data["error"] = state.error.model_dump(mode="json")
        data["on_error"] = "continue"
    return PendingEvent("node.completed", node_id, data)


def node_retrying(node_id: str, state: NodeState, delay_ms: int) -> PendingEvent:
    return PendingEvent(
        "node.retrying",
        node_id,
        {
            "attempt": state.attempt,
            "next_attempt": state.attempt + 1,
            "delay_ms": delay_ms,
            "error": state.error.model_dump(mode="json") if state.error else None,
        },
    )


def node_failed(node_id: str, state: NodeState) -> PendingEvent:
    data: dict[str, Any] = {
        "error": state.error.model_dump(mode="json") if state.error else None,
        "attempt": state.attempt,
        "duration_ms": state.duration_ms,
    }
    if state.handle is not None:
        data["handle"] = state.handle
        data["on_error"] = "error_branch"
    return PendingEvent("node.failed", node_id, data)


def node_skipped(node_id: str) -> PendingEvent:
    return PendingEvent("node.skipped", node_id, {"reason": SKIPPED_REASON})


def execution_finished(execution: Execution) -> PendingEvent:
    data: dict[str, Any] = {
        "duration_ms": execution.duration_ms,
        "usage": _usage(execution.usage),
    }
    if execution.status == "completed":
        return PendingEvent("execution.completed", data={"output": execution.output, **data})
    if execution.status == "failed":
        return PendingEvent("execution.failed", data={"error": execution.error, **data})
    return PendingEvent("execution.cancelled", data={"reason": execution.error, **data})
