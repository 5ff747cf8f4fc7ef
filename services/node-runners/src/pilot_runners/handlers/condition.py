"""The condition node: picks the outgoing branch (`handle`) the executor follows."""

from __future__ import annotations

from typing import Any

from pilot_shared import metrics
from pilot_shared.contracts import ConditionNode, NodeTask
from pilot_shared.templating import evaluate, render

from ..outcome import EmitChunk, NodeOutcome
from ..providers import LLMProvider
from .llm import as_text


class ConditionHandler:
    def __init__(self, provider: LLMProvider, *, default_model: str) -> None:
        self.provider = provider
        self.default_model = default_model

    async def __call__(self, task: NodeTask, emit_chunk: EmitChunk) -> NodeOutcome:
        assert isinstance(task.node, ConditionNode)
        config = task.node.config
        context = task.context
        if config.mode == "expression":
            value = bool(evaluate(config.expression or "", context))
            return NodeOutcome(output=value, handle="true" if value else "false")
        if config.mode == "cases":
            for case in config.cases or []:
                if evaluate(case.when, context):
                    return NodeOutcome(output=case.handle, handle=case.handle)
            return NodeOutcome(output=config.default_handle, handle=config.default_handle)
        return await self._classify(task, context)

    async def _classify(self, task: NodeTask, context: dict[str, Any]) -> NodeOutcome:
        assert isinstance(task.node, ConditionNode)
        config = task.node.config
        text = as_text(render(config.input or "", context))
        labels = config.labels or []
        model = config.model or self.default_model
        label, usage = await self.provider.classify(text, labels, model)
        # Classification is an LLM call too: its tokens and cost count like an llm node's.
        metrics.LLM_TOKENS.labels(model, "prompt").inc(usage.prompt_tokens)
        metrics.LLM_TOKENS.labels(model, "completion").inc(usage.completion_tokens)
        metrics.LLM_COST.labels(model).inc(usage.cost_usd)
        handle = label if label is not None else config.default_handle
        return NodeOutcome(output=handle, handle=handle, usage=usage, input=text)
