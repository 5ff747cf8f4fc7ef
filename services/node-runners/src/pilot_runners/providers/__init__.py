"""LLM providers: an OpenAI-compatible client, or the deterministic offline stand-in."""

from __future__ import annotations

from ..settings import RunnerSettings
from .base import ChatReply, ChatRequest, LLMProvider, OnDelta
from .offline import OfflineProvider
from .openai_compat import OpenAICompatibleProvider


def provider_from_settings(settings: RunnerSettings) -> LLMProvider:
    if settings.llm_enabled and settings.llm_api_key is not None:
        return OpenAICompatibleProvider(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key.get_secret_value(),
            timeout_s=settings.llm_request_timeout_s,
        )
    return OfflineProvider()


__all__ = [
    "ChatReply",
    "ChatRequest",
    "LLMProvider",
    "OfflineProvider",
    "OnDelta",
    "OpenAICompatibleProvider",
    "provider_from_settings",
]
