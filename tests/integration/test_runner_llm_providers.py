"""More of the llm runner against the OpenAI-compatible test server: Retry-After surfaced
for the executor, JSON validated against the node's schema, a pricing file that overrides
the shipped table, and usage and cost that add up exactly over several calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from pilot_runners.registry import build_registry
from pilot_runners.settings import RunnerSettings
from pilot_runners.task import run_task
from pilot_shared import pricing
from pilot_shared.contracts import NODE_ADAPTER, NodeResult, NodeTask, Usage
from tests.support.fake_openai import FakeOpenAI, Reply


def llm_task(config: dict[str, Any], context: dict[str, Any] | None = None) -> NodeTask:
    return NodeTask(
        task_id="e1:llm:1",
        execution_id="e1",
        workflow_id="wf",
        node=NODE_ADAPTER.validate_python({"id": "llm", "type": "llm", "config": config}),
        context=context or {"input": {"q": "What is NATS?"}, "nodes": {}},
    )


async def run_llm(
    server: FakeOpenAI, config: dict[str, Any], context: dict[str, Any] | None = None
) -> tuple[NodeResult, list[str]]:
    settings = RunnerSettings(llm_base_url=server.base_url, llm_api_key=SecretStr("test-key"))
    registry = build_registry(settings)
    chunks: list[str] = []

    async def emit(text: str) -> None:
        chunks.append(text)

    try:
        return await run_task(llm_task(config, context), registry.handler_for("llm"), emit), chunks
    finally:
        await registry.aclose()


@pytest.mark.parametrize(
    ("headers", "wait"), [({"Retry-After": "7"}, 7.0), ({"retry-after-ms": "1500"}, 1.5)]
)
async def test_rate_limit_surfaces_retry_after(
    fake_openai: FakeOpenAI, headers: dict[str, str], wait: float
) -> None:
    fake_openai.responder = lambda body: Reply(
        status=429, headers=headers, error={"message": "slow down", "type": "rate_limit"}
    )
    result, _ = await run_llm(fake_openai, {"model": "gpt-4o"})
    assert result.status == "failed" and result.error is not None
    assert result.error.retryable and result.error.retry_after_s == pytest.approx(wait, abs=0.01)
    assert "rate-limited" in result.error.message
    assert len(fake_openai.requests) == 1  # the SDK does not retry behind the executor's back


async def test_rejected_key_says_so(fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda body: Reply(status=401, error={"message": "bad key"})
    result, _ = await run_llm(fake_openai, {"model": "gpt-4o", "fallback_models": ["gpt-4o-mini"]})
    assert result.error is not None and not result.error.retryable
    assert "rejected the API key" in result.error.message
    assert len(fake_openai.requests) == 1  # a rejected key is not tried on the fallback


async def test_rate_limited_model_falls_back(fake_openai: FakeOpenAI) -> None:
    def respond(body: dict[str, Any]) -> Reply:
        if body["model"] == "gpt-4o":
            return Reply(status=429, headers={"Retry-After": "30"})
        return Reply(content="from the fallback")

    fake_openai.responder = respond
    result, _ = await run_llm(fake_openai, {"model": "gpt-4o", "fallback_models": ["gpt-4o-mini"]})
    assert result.status == "completed" and result.output == "from the fallback"
    assert [r["body"]["model"] for r in fake_openai.requests] == ["gpt-4o", "gpt-4o-mini"]


SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["answer", "confidence"],
}


async def test_json_output_is_validated_against_the_schema(fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda body: Reply(content='{"answer": "A broker", "confidence": 0.9}')
    ok, _ = await run_llm(fake_openai, {"json_schema": SCHEMA, "stream": False})
    assert ok.status == "completed" and ok.output == {"answer": "A broker", "confidence": 0.9}
    sent = fake_openai.requests[0]["body"]["response_format"]
    assert sent == {"type": "json_schema", "json_schema": {"name": "output", "schema": SCHEMA}}

    fake_openai.responder = lambda body: Reply(content='{"answer": 42}')
    bad, _ = await run_llm(fake_openai, {"json_schema": SCHEMA, "stream": False})
    assert bad.status == "failed" and bad.error is not None
    assert bad.error.kind == "validation" and bad.error.retryable
    assert "'confidence' is a required property" in bad.error.message


@pytest.fixture
def pricing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "models:\n"
        "  house-model: {input_per_m: 1.0, output_per_m: 2.0}\n"
        "  gpt-4o: {input_per_m: 10.0, output_per_m: 20.0}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PILOT_PRICING_FILE", str(path))
    pricing.reload_prices()
    try:
        yield path
    finally:
        monkeypatch.delenv("PILOT_PRICING_FILE")
        pricing.reload_prices()


async def test_usage_and_cost_add_up_exactly_over_a_run(
    fake_openai: FakeOpenAI, pricing_file: Path
) -> None:
    assert pricing.price_of("gpt-4o") == pricing.Price(10.0, 20.0)  # overridden
    assert pricing.price_of("gpt-4o-mini") == pricing.Price(0.15, 0.60)  # shipped default
    script = iter(
        [
            Reply(content="one two three", prompt_tokens=1000, completion_tokens=3),
            Reply(content="four five", prompt_tokens=2000, completion_tokens=2),
            Reply(content="six", include_usage=False),  # estimated from the text
        ]
    )
    fake_openai.responder = lambda body: next(script)
    total = Usage()
    streamed: list[str] = []
    for model in ("house-model", "gpt-4o", "house-model"):
        result, chunks = await run_llm(fake_openai, {"model": model, "prompt": "{{ input.q }}"})
        assert result.status == "completed" and result.usage is not None
        streamed += chunks
        total = total + result.usage
    assert streamed == ["one ", "two ", "three", "four ", "five", "six"]
    estimated_prompt = pricing.estimate_tokens("What is NATS?")
    estimated_completion = pricing.estimate_tokens("six")
    assert total.prompt_tokens == 1000 + 2000 + estimated_prompt
    assert total.completion_tokens == 3 + 2 + estimated_completion
    expected = (
        (1000 * 1.0 + 3 * 2.0)
        + (2000 * 10.0 + 2 * 20.0)
        + (estimated_prompt * 1.0 + estimated_completion * 2.0)
    ) / 1e6
    assert total.cost_usd == pytest.approx(expected, abs=1e-12)
    assert total.estimated  # one of the three had no usage from the API
    assert [r["body"]["stream_options"] for r in fake_openai.requests] == [
        {"include_usage": True}
    ] * 3


async def test_llm_cites_knowledge_hits(fake_openai: FakeOpenAI) -> None:
    hits = [
        {"text": "NATS is a messaging system.", "score": 2.1, "source": "nats.md", "doc_id": "d1"},
        {"text": "JetStream adds persistence.", "score": 1.3, "source": "js.md", "doc_id": "d2"},
    ]
    prompt = (
        "Answer with citations.\n{% for h in nodes.kb.output %}[{{ loop.index }}] {{ h.text }} "
        "(source: {{ h.source }})\n{% endfor %}Q: {{ input.q }}"
    )
    result, _ = await run_llm(
        fake_openai,
        {"prompt": prompt},
        {"input": {"q": "What is NATS?"}, "nodes": {"kb": {"output": hits}}},
    )
    assert result.status == "completed"
    sent = fake_openai.requests[0]["body"]["messages"][-1]["content"]
    assert "[1] NATS is a messaging system. (source: nats.md)" in sent
    assert "[2] JetStream adds persistence. (source: js.md)" in sent
