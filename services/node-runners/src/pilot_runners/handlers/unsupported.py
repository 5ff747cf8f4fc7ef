"""Node types whose runner is not built yet fail loudly, never silently."""

from __future__ import annotations

from pilot_shared.contracts import NodeTask

from ..outcome import EmitChunk, NodeFailure, NodeOutcome


async def handle_unsupported(task: NodeTask, emit_chunk: EmitChunk) -> NodeOutcome:
    raise NodeFailure(
        "unsupported", f"node type '{task.node.type}' is not supported yet", retryable=False
    )
