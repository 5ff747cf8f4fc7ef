"""Any OpenAI-compatible chat-completions endpoint: OpenAI, OpenRouter, vLLM, Ollama."""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import openai
from openai import AsyncOpenAI

from pilot_shared.contracts import Usage

from ..outcome import NodeFailure
from .base import ChatReply, ChatRequest, OnDelta, estimated_usage, match_label, priced_usage

_RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
_MAX_MESSAGE_CHARS = 300


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(self, *, base_url: str | None, api_key: str, timeout_s: float) -> None:
        self._api_key = api_key
        # The executor owns retries (the node's retry policy, with events the user sees),
        # so the SDK must not retry behind its back.
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0
        )
        # A call without streaming is one JSON POST: made directly, it skips the SDK's
        # request transform, auth-retry wrappers and response models, which were a third
        # of a runner's CPU per llm node under load. Streaming keeps the SDK.
        self._completions_url = str(self._client.base_url).rstrip("/") + "/chat/completions"
        self._http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
        )

    async def chat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatReply:
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": request.messages(),
            "temperature": request.temperature,
        }
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.json_schema},
            }
        try:
            if request.stream:
                text, usage = await self._stream(kwargs, on_delta)
            else:
                text, usage = await self._complete(kwargs)
        except openai.APIError as exc:
            raise provider_failure(exc, self._api_key) from None
        if usage is not None:
            reported = priced_usage(
                request.model, usage.prompt_tokens, usage.completion_tokens, estimated=False
            )
        else:  # some compatible servers ignore include_usage
            prompt = "\n".join(m["content"] for m in request.messages())
            reported = estimated_usage(request.model, prompt, text)
        return ChatReply(text, reported, request.model)

    async def _complete(self, kwargs: dict[str, Any]) -> tuple[str, _Usage | None]:
        try:
            response = await self._http.post(self._completions_url, json=kwargs)
        except httpx.TimeoutException:
            raise NodeFailure("provider", "the LLM provider timed out", retryable=True) from None
        except httpx.HTTPError:
            raise NodeFailure(
                "provider", "could not reach the LLM provider", retryable=True
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise status_failure(
                response.status_code,
                _error_message(body, response),
                response.headers,
                self._api_key,
            )
        if not isinstance(body, dict):
            raise NodeFailure(
                "provider", "the LLM provider's answer is not a JSON object", retryable=True
            )
        choices = body.get("choices") or []
        message = (choices[0].get("message") or {}) if choices else {}
        text = message.get("content") or ""
        raw = body.get("usage")
        usage = (
            _Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))
            if isinstance(raw, dict)
            else None
        )
        return text, usage

    async def _stream(self, kwargs: dict[str, Any], on_delta: OnDelta | None) -> tuple[str, Any]:
        stream = await self._client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        parts: list[str] = []
        usage = None
        async for chunk in stream:
            if chunk.choices:
                delta = chunk.choices[0].delta.content
                if delta:
                    parts.append(delta)
                    if on_delta is not None:
                        await on_delta(delta)
            if chunk.usage is not None:
                usage = chunk.usage
        return "".join(parts), usage

    async def classify(self, text: str, labels: list[str], model: str) -> tuple[str | None, Usage]:
        request = ChatRequest(
            model=model,
            system_prompt=(
                "Classify the user's text. Answer with exactly one of these labels and "
                f"nothing else: {json.dumps(labels, ensure_ascii=False)}. If none fits, "
                "answer: none"
            ),
            prompt=text,
            temperature=0,
            max_tokens=20,
            stream=False,
        )
        reply = await self.chat(request)
        return match_label(reply.text, labels), reply.usage

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._client.close()


@dataclass(frozen=True)
class _Usage:
    prompt_tokens: int
    completion_tokens: int


def _error_message(body: Any, response: httpx.Response) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return f"Error code: {response.status_code} - {error['message']}"
        return f"Error code: {response.status_code} - {body}"
    return f"Error code: {response.status_code} - {response.text}"


def provider_failure(exc: openai.APIError, api_key: str) -> NodeFailure:
    """A provider error as the node's failure: retryable when waiting may help (rate
    limits, server errors, timeouts, lost connections), never with the key in the text."""
    if isinstance(exc, openai.AuthenticationError):
        return NodeFailure(
            "provider",
            "the LLM provider rejected the API key (HTTP 401); check PILOT_LLM_API_KEY",
            retryable=False,
            credentials=True,
        )
    if isinstance(exc, openai.APITimeoutError):
        return NodeFailure("provider", "the LLM provider timed out", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return NodeFailure("provider", "could not reach the LLM provider", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        return status_failure(exc.status_code, exc.message, exc.response.headers, api_key)
    detail = _safe(exc.message, api_key)
    return NodeFailure("provider", f"the LLM provider failed: {detail}", retryable=False)


def status_failure(
    status: int, message: str, headers: Mapping[str, str], api_key: str
) -> NodeFailure:
    """An HTTP error status from the provider as the node's failure."""
    if status == 401:
        return NodeFailure(
            "provider",
            "the LLM provider rejected the API key (HTTP 401); check PILOT_LLM_API_KEY",
            retryable=False,
            credentials=True,
        )
    detail = _safe(message, api_key)
    retryable = status >= 500 or status in _RETRYABLE_STATUS
    what = "rate-limited the request" if status == 429 else "returned an error"
    wait = retry_after(headers) if retryable else None
    if wait is not None:
        what += f"; retry after {wait:g}s"
    return NodeFailure(
        "provider",
        f"the LLM provider {what} (HTTP {status}): {detail}",
        retryable=retryable,
        retry_after_s=wait,
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or an HTTP date) or `retry-after-ms`."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms:
        with suppress(ValueError):
            return max(0.0, float(raw_ms) / 1000)
    raw = lowered.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _safe(message: str, api_key: str) -> str:
    if api_key:
        message = message.replace(api_key, "***")
    return message if len(message) <= _MAX_MESSAGE_CHARS else message[:_MAX_MESSAGE_CHARS] + "…"
