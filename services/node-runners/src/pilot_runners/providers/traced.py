"""A span per LLM call, whatever the provider: model, tokens and cost on it (the
OpenTelemetry GenAI attribute names), so a trace shows where an execution's money went."""

from __future__ import annotations

from contextlib import AbstractContextManager

from opentelemetry.trace import Span, SpanKind

from pilot_shared import tracing
from pilot_shared.contracts import Usage

from .base import ChatReply, ChatRequest, LLMProvider, OnDelta


class TracedProvider:
    def __init__(self, inner: LLMProvider) -> None:
        self.inner = inner
        self.name = inner.name

    async def chat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatReply:
        with self._span(request.model, "chat") as span:
            reply = await self.inner.chat(request, on_delta)
            _record(span, reply.usage, reply.model or request.model)
            return reply

    async def classify(self, text: str, labels: list[str], model: str) -> tuple[str | None, Usage]:
        with self._span(model, "classify") as span:
            label, usage = await self.inner.classify(text, labels, model)
            _record(span, usage, model)
            return label, usage

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _span(self, model: str, purpose: str) -> AbstractContextManager[Span]:
        # GenAI semantic conventions: "{operation} {model}", a client span
        return tracing.span(
            f"chat {model}",
            {
                tracing.GEN_AI_OPERATION: "chat",
                tracing.GEN_AI_PROVIDER: self.name,
                tracing.GEN_AI_REQUEST_MODEL: model,
                "pilot.llm.purpose": purpose,
            },
            kind=SpanKind.CLIENT,
        )


def _record(span: Span, usage: Usage, model: str) -> None:
    tracing.set_attributes(
        span,
        {
            tracing.GEN_AI_RESPONSE_MODEL: model,
            tracing.GEN_AI_INPUT_TOKENS: usage.prompt_tokens,
            tracing.GEN_AI_OUTPUT_TOKENS: usage.completion_tokens,
            tracing.COST_USD: usage.cost_usd,
            "pilot.usage.estimated": usage.estimated,
        },
    )
