"""The output node: shapes the workflow's result from its context."""

from __future__ import annotations

from typing import Any

from pilot_shared.contracts import NodeTask, OutputNode
from pilot_shared.templating import render

from ..outcome import EmitChunk, NodeOutcome


async def handle_output(task: NodeTask, emit_chunk: EmitChunk) -> NodeOutcome:
    assert isinstance(task.node, OutputNode)
    config = task.node.config
    if config.value is not None:
        output: Any = render(config.value, task.context)
    elif config.mapping is not None:
        output = {key: render(template, task.context) for key, template in config.mapping.items()}
    else:
        output = default_output(task.context, whole_map=config.format == "json")
    return NodeOutcome(output=output)


def default_output(context: dict[str, Any], *, whole_map: bool) -> Any:
    """Without a template: the nearest upstream node's output (the executor lists upstream
    nodes in topological order, so the last one is nearest), or for `format: json` every
    upstream output by node id. With no upstream nodes, the workflow input."""
    nodes: dict[str, Any] = context.get("nodes") or {}
    if not nodes:
        return context.get("input")
    if whole_map:
        return {node_id: entry.get("output") for node_id, entry in nodes.items()}
    for entry in reversed(nodes.values()):
        if entry.get("error") is None:  # a failed node on an error branch has no output
            return entry.get("output")
    return None
