"""The llm node: renders its prompts, asks the provider, streams the answer as chunks."""

from __future__ import annotations

import json
from typing import Any

from pilot_shared import metrics
from pilot_shared.contracts import LLMNode, NodeTask
from pilot_shared.templating import render

from ..outcome import EmitChunk, NodeFailure, NodeOutcome
from ..providers import ChatReply, ChatRequest, LLMProvider
from .input import schema_problems


def as_text(value: Any) -> str:
    """A rendered template as prompt text: structured values as JSON, not Python reprs."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class LLMHandler:
    def __init__(self, provider: LLMProvider, *, default_model: str) -> None:
        self.provider = provider
        self.default_model = default_model

    async def __call__(self, task: NodeTask, emit_chunk: EmitChunk) -> NodeOutcome:
        assert isinstance(task.node, LLMNode)
        config = task.node.config
        prompt = as_text(render(config.prompt, task.context))
        system = (
            as_text(render(config.system_prompt, task.context)) if config.system_prompt else None
        )
        models = [config.model or self.default_model, *config.fallback_models]
        reply: ChatReply | None = None
        for i, model in enumerate(models):
            request = ChatRequest(
                model=model,
                prompt=prompt,
                system_prompt=system,
                temperature=config.temperature,
                max_tokens=config.max_tokens,
                stream=config.stream,
                json_schema=config.json_schema,
            )
            try:
                reply = await self.provider.chat(request, emit_chunk if config.stream else None)
                break
            except NodeFailure as failure:
                # a rejected key fails every model alike; anything else may work on a fallback
                if i == len(models) - 1 or failure.credentials:
                    raise
        assert reply is not None
        _count(reply)
        output: Any = reply.text
        if config.json_schema is not None:
            try:
                output = json.loads(reply.text)
            except json.JSONDecodeError:
                raise NodeFailure(
                    "validation",
                    "the model's answer is not the JSON the node's json_schema asks for",
                    retryable=True,
                ) from None
            problems = schema_problems(config.json_schema, output, what="json_schema")
            if problems:
                raise NodeFailure(
                    "validation",
                    "the model's answer does not match the node's json_schema: "
                    + "; ".join(problems),
                    retryable=True,
                )
        rendered = {"prompt": prompt, **({"system_prompt": system} if system else {})}
        return NodeOutcome(output=output, usage=reply.usage, input=rendered)


def _count(reply: ChatReply) -> None:
    usage = reply.usage
    metrics.LLM_TOKENS.labels(reply.model, "prompt").inc(usage.prompt_tokens)
    metrics.LLM_TOKENS.labels(reply.model, "completion").inc(usage.completion_tokens)
    metrics.LLM_COST.labels(reply.model).inc(usage.cost_usd)
