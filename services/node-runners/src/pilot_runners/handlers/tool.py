"""The tool node: renders its params (secrets by name), validates them against the tool's
params schema, runs the tool, and masks secret values in what it reports."""

from __future__ import annotations

from typing import Any

from pilot_shared.contracts import NodeTask, ToolNode

from ..outcome import EmitChunk, NodeFailure, NodeOutcome
from ..safe_http import SafeHttpClient
from ..secrets import SecretStore, mask
from ..settings import RunnerSettings
from ..tools import ToolContext, ToolError, ToolRegistry
from .api import render_deep, secret_context
from .input import schema_problems


class ToolHandler:
    def __init__(
        self,
        tools: ToolRegistry,
        http: SafeHttpClient,
        secrets: SecretStore | None,
        settings: RunnerSettings,
    ) -> None:
        self.tools = tools
        self.http = http
        self.secrets = secrets
        self.settings = settings

    async def __call__(self, task: NodeTask, emit_chunk: EmitChunk) -> NodeOutcome:
        assert isinstance(task.node, ToolNode)
        config = task.node.config
        tool = self.tools.get(config.tool)
        if tool is None:
            raise NodeFailure(
                "validation",
                f"unknown tool {config.tool!r}; available: {', '.join(self.tools.names())}",
            )
        context, hidden = await secret_context(self.secrets, task.context, config.params)
        params = render_deep(config.params, context)
        schema = getattr(tool, "params_schema", None)
        if schema:
            problems = schema_problems(schema, params, what=f"params schema of tool {tool.name!r}")
            if problems:
                raise NodeFailure(
                    "validation",
                    mask(f"params of tool {tool.name!r}: " + "; ".join(problems), hidden),
                )
        tool_context = ToolContext(
            http=self.http,
            guard=self.http.guard,
            settings=self.settings,
            node_context=task.context,
            timeout_s=task.node.timeout_s,
            execution_id=task.execution_id,
            task_id=task.task_id,
        )
        try:
            output: Any = await tool.run(params, tool_context)
        except ToolError as exc:
            raise NodeFailure(
                "tool",
                mask(f"tool {tool.name!r}: {exc}", hidden),
                retryable=exc.retryable,
                retry_after_s=exc.retry_after_s,
            ) from None
        return NodeOutcome(
            output=mask(output, hidden),
            input=mask({"tool": tool.name, "params": params}, hidden),
        )
