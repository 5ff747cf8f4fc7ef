"""What every LLM provider offers the handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pilot_shared.contracts import Usage
from pilot_shared.pricing import cost_usd, estimate_tokens

OnDelta = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class ChatRequest:
    model: str
    prompt: str
    system_prompt: str | None = None
    temperature: float = 0.7
    max_tokens: int | None = None
    stream: bool = True
    json_schema: dict[str, Any] | None = None

    def messages(self) -> list[dict[str, str]]:
        out = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return [*out, {"role": "user", "content": self.prompt}]


@dataclass
class ChatReply:
    text: str
    usage: Usage = field(default_factory=Usage)
    model: str = ""


class LLMProvider(Protocol):
    name: str

    async def chat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatReply:
        """Answer the request, calling `on_delta` with each piece of text as it arrives."""
        ...

    async def classify(self, text: str, labels: list[str], model: str) -> tuple[str | None, Usage]:
        """The label among `labels` that fits `text` best, or None when none does."""
        ...

    async def aclose(self) -> None: ...


def priced_usage(
    model: str, prompt_tokens: int, completion_tokens: int, *, estimated: bool
) -> Usage:
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost_usd(model, prompt_tokens, completion_tokens),
        estimated=estimated,
    )


def estimated_usage(model: str, prompt: str, completion: str) -> Usage:
    """For when the provider reports no usage: counted from the text, and marked so."""
    return priced_usage(model, estimate_tokens(prompt), estimate_tokens(completion), estimated=True)


def match_label(reply: str, labels: list[str]) -> str | None:
    """The label a classifier's reply names: an exact match first, then one it mentions."""
    cleaned = reply.strip().strip("\"'`.。").lower()
    for label in labels:
        if cleaned == label.lower():
            return label
    for label in sorted(labels, key=len, reverse=True):  # "refund_request" before "refund"
        if label.lower() in cleaned:
            return label
    return None
