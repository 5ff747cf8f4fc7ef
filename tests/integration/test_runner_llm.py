"""The llm runner against an OpenAI-compatible server over real HTTP."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from pilot_runners.providers import OpenAICompatibleProvider, provider_from_settings
from pilot_runners.registry import build_registry
from pilot_runners.settings import RunnerSettings
from pilot_runners.task import run_task
from pilot_shared.contracts import NODE_ADAPTER, NodeResult, NodeTask
from pilot_shared.pricing import cost_usd
from tests.support.fake_openai import FakeOpenAI, Reply


def llm_task(config: dict[str, Any], context: dict[str, Any] | None = None) -> NodeTask:
    return NodeTask(
        task_id="e1:llm:1",
        execution_id="e1",
        workflow_id="wf",
        node=NODE_ADAPTER.validate_python({"id": "llm", "type": "llm", "config": config}),
        context=context or {"input": {"q": "What is NATS?"}, "nodes": {}},
    )


async def run_llm(server: FakeOpenAI, config: dict[str, Any]) -> tuple[NodeResult, list[str]]:
    settings = RunnerSettings(llm_base_url=server.base_url, llm_api_key=SecretStr("test-key"))
    registry = build_registry(settings)
    assert isinstance(registry.provider, OpenAICompatibleProvider)
    chunks: list[str] = []

    async def emit(text: str) -> None:
        chunks.append(text)

    task = llm_task(config)
    try:
        return await run_task(task, registry.handler_for("llm"), emit), chunks
    finally:
        await registry.aclose()


async def test_streams_deltas_and_prices_reported_usage(fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda body: Reply(
        content="NATS is a messaging system.", prompt_tokens=21, completion_tokens=6
    )
    result, chunks = await run_llm(
        fake_openai,
        {"model": "gpt-4o", "system_prompt": "Be brief.", "prompt": "Q: {{ input.q }}"},
    )
    assert result.status == "completed", result.error
    assert chunks == ["NATS ", "is ", "a ", "messaging ", "system."]
    assert result.output == "NATS is a messaging system."
    assert result.usage is not None and not result.usage.estimated
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (21, 6)
    assert result.usage.cost_usd == cost_usd("gpt-4o", 21, 6)
    body = fake_openai.requests[0]["body"]
    assert body["model"] == "gpt-4o" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q: What is NATS?"},
    ]


async def test_usage_is_estimated_when_the_server_reports_none(fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda body: Reply(content="short answer", include_usage=False)
    result, _ = await run_llm(fake_openai, {"prompt": "hi"})
    assert result.usage is not None and result.usage.estimated
    assert result.usage.completion_tokens > 0 and result.usage.cost_usd > 0


async def test_rejected_key_fails_without_retry_and_without_the_key(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.responder = lambda body: Reply(
        status=401, error={"message": "Incorrect API key provided: test-key", "type": "auth"}
    )
    result, _ = await run_llm(fake_openai, {"prompt": "hi", "fallback_models": ["gpt-4o"]})
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "provider" and not result.error.retryable
    assert "API key" in result.error.message and "test-key" not in result.error.message
    assert len(fake_openai.requests) == 1  # no SDK retries, no fallback with a bad key


async def test_rate_limits_and_server_errors_are_retryable(fake_openai: FakeOpenAI) -> None:
    for status in (429, 500, 503):
        fake_openai.responder = lambda body, s=status: Reply(status=s)
        result, _ = await run_llm(fake_openai, {"prompt": "hi"})
        assert result.error is not None and result.error.retryable, status
        assert f"HTTP {status}" in result.error.message
    fake_openai.responder = lambda body: Reply(status=400, error={"message": "bad model"})
    result, _ = await run_llm(fake_openai, {"prompt": "hi"})
    assert result.error is not None and not result.error.retryable
    assert "bad model" in result.error.message


async def test_a_fallback_model_answers_when_the_first_fails(fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda body: (
        Reply(status=503) if body["model"] == "gpt-4o" else Reply(content="from the fallback")
    )
    result, _ = await run_llm(
        fake_openai, {"model": "gpt-4o", "prompt": "hi", "fallback_models": ["gpt-4o-mini"]}
    )
    assert result.status == "completed" and result.output == "from the fallback"
    assert [r["body"]["model"] for r in fake_openai.requests] == ["gpt-4o", "gpt-4o-mini"]


async def test_llm_classify_asks_the_model_for_a_label(fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda body: Reply(content="Refund.")
    settings = RunnerSettings(llm_base_url=fake_openai.base_url, llm_api_key=SecretStr("k"))
    registry = build_registry(settings)
    task = NodeTask(
        task_id="e1:c:1",
        execution_id="e1",
        workflow_id="wf",
        node=NODE_ADAPTER.validate_python(
            {
                "id": "c",
                "type": "condition",
                "config": {
                    "mode": "llm_classify",
                    "labels": ["refund", "other_issue"],
                    "input": "{{ input.text }}",
                    "default_handle": "other",
                },
            }
        ),
        context={"input": {"text": "my money back please"}, "nodes": {}},
    )

    async def emit(text: str) -> None:
        raise AssertionError("a classification streams nothing")

    try:
        result = await run_task(task, registry.handler_for("condition"), emit)
    finally:
        await registry.aclose()
    assert result.handle == "refund" and result.usage is not None
    assert fake_openai.requests[0]["body"]["messages"][-1]["content"] == "my money back please"


def test_offline_unless_a_key_is_set() -> None:
    assert provider_from_settings(RunnerSettings(llm_api_key=None)).name == "offline"
    assert provider_from_settings(RunnerSettings(llm_api_key=SecretStr(""))).name == "offline"


async def test_a_call_without_streaming_answers_prices_and_fails_alike(
    fake_openai: FakeOpenAI,
) -> None:
    # stream: false takes the provider's direct HTTP path, not the SDK's
    fake_openai.responder = lambda body: Reply(
        content="one answer", prompt_tokens=9, completion_tokens=2
    )
    result, chunks = await run_llm(
        fake_openai, {"model": "gpt-4o", "prompt": "hi", "stream": False}
    )
    assert result.status == "completed", result.error
    assert result.output == "one answer" and chunks == []
    assert result.usage is not None and not result.usage.estimated
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (9, 2)
    body = fake_openai.requests[0]["body"]
    assert "stream" not in body and body["model"] == "gpt-4o"
    assert fake_openai.requests[0]["headers"]["authorization"] == "Bearer test-key"

    fake_openai.responder = lambda body: Reply(content="x", include_usage=False)
    result, _ = await run_llm(fake_openai, {"prompt": "hi", "stream": False})
    assert result.usage is not None and result.usage.estimated

    fake_openai.responder = lambda body: Reply(
        status=429, headers={"retry-after": "3"}, error={"message": "slow down"}
    )
    result, _ = await run_llm(fake_openai, {"prompt": "hi", "stream": False})
    assert result.error is not None and result.error.retryable
    assert "HTTP 429" in result.error.message and result.error.retry_after_s == 3
    fake_openai.responder = lambda body: Reply(status=400, error={"message": "bad model"})
    result, _ = await run_llm(fake_openai, {"prompt": "hi", "stream": False})
    assert result.error is not None and not result.error.retryable
    assert "bad model" in result.error.message
    fake_openai.responder = lambda body: Reply(
        status=401, error={"message": "Incorrect API key provided: test-key"}
    )
    result, _ = await run_llm(fake_openai, {"prompt": "hi", "stream": False})
    assert result.error is not None and not result.error.retryable
    assert "test-key" not in result.error.message
