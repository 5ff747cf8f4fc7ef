"""Each node runner's handler on its own: no bus, the offline LLM provider."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pilot_runners.outcome import NodeFailure, NodeOutcome
from pilot_runners.providers.offline import OfflineProvider, pieces
from pilot_runners.registry import build_registry
from pilot_runners.settings import RunnerSettings
from pilot_runners.task import run_task
from pilot_shared.contracts import NODE_ADAPTER, NodeResult, NodeTask
from pilot_shared.pricing import estimate_tokens


def task(node: dict[str, Any], context: dict[str, Any] | None = None, attempt: int = 1) -> NodeTask:
    return NodeTask(
        task_id=f"e1:{node['id']}:{attempt}",
        execution_id="e1",
        workflow_id="wf",
        node=NODE_ADAPTER.validate_python(node),
        attempt=attempt,
        context=context or {"input": {}, "nodes": {}},
    )


class Chunks:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def __call__(self, text: str) -> None:
        self.texts.append(text)


async def run(
    node: dict[str, Any], context: dict[str, Any] | None = None
) -> tuple[NodeResult, list[str]]:
    registry = build_registry(RunnerSettings(), OfflineProvider())
    chunks = Chunks()
    t = task(node, context)
    result = await run_task(t, registry.handler_for(t.node.type), chunks)
    return result, chunks.texts


SCHEMA = {
    "type": "object",
    "properties": {"user_message": {"type": "string"}},
    "required": ["user_message"],
}


async def test_input_passes_valid_input_through() -> None:
    result, _ = await run(
        {"id": "in", "type": "input", "config": {"schema": SCHEMA}},
        {"input": {"user_message": "我需要帮助"}, "nodes": {}},
    )
    assert result.status == "completed" and result.output == {"user_message": "我需要帮助"}
    assert (result.task_id, result.attempt, result.node_id) == ("e1:in:1", 1, "in")


async def test_input_rejects_input_that_breaks_the_schema() -> None:
    result, _ = await run(
        {"id": "in", "type": "input", "config": {"schema": SCHEMA}},
        {"input": {"user_message": 3}, "nodes": {}},
    )
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "validation" and not result.error.retryable
    assert "user_message: 3 is not of type 'string'" in result.error.message


async def test_output_renders_value_and_mapping() -> None:
    ctx = {"input": {"q": "x"}, "nodes": {"llm": {"output": "answer"}}}
    result, _ = await run(
        {"id": "o", "type": "output", "config": {"value": "{{ nodes.llm.output }}"}}, ctx
    )
    assert result.output == "answer"
    result, _ = await run(
        {
            "id": "o",
            "type": "output",
            "config": {"mapping": {"reply": "{{ nodes.llm.output }}", "asked": "Q: {{ input.q }}"}},
        },
        ctx,
    )
    assert result.output == {"reply": "answer", "asked": "Q: x"}


async def test_output_without_templates_uses_the_nearest_upstream_output() -> None:
    ctx = {
        "input": {"q": "x"},
        "nodes": {"in": {"output": {"q": "x"}}, "llm": {"output": "answer"}},
    }
    result, _ = await run({"id": "o", "type": "output"}, ctx)
    assert result.output == "answer"
    result, _ = await run({"id": "o", "type": "output", "config": {"format": "json"}}, ctx)
    assert result.output == {"in": {"q": "x"}, "llm": "answer"}


async def test_condition_expression_chooses_true_or_false() -> None:
    node = {"id": "c", "type": "condition", "config": {"expression": "input.n > 5"}}
    result, _ = await run(node, {"input": {"n": 9}, "nodes": {}})
    assert (result.output, result.handle) == (True, "true")
    result, _ = await run(node, {"input": {"n": 1}, "nodes": {}})
    assert (result.output, result.handle) == (False, "false")


async def test_condition_cases_pick_the_first_match_else_the_default() -> None:
    node = {
        "id": "c",
        "type": "condition",
        "config": {
            "cases": [
                {"handle": "refund", "when": "'refund' in input.text"},
                {"handle": "bug", "when": "'crash' in input.text"},
            ],
            "default_handle": "other",
        },
    }
    result, _ = await run(node, {"input": {"text": "a refund after the crash"}, "nodes": {}})
    assert result.handle == "refund"
    result, _ = await run(node, {"input": {"text": "hello"}, "nodes": {}})
    assert result.handle == "other"


async def test_condition_llm_classify_offline_matches_label_keywords() -> None:
    node = {
        "id": "c",
        "type": "condition",
        "config": {
            "mode": "llm_classify",
            "labels": ["refund", "technical"],
            "input": "{{ input.text }}",
            "default_handle": "other",
        },
    }
    for text, handle in [
        ("I want a REFUND", "refund"),
        ("我要退款", "refund"),
        ("the app shows an error", "technical"),
        ("你好", "other"),
    ]:
        result, _ = await run(node, {"input": {"text": text}, "nodes": {}})
        assert result.handle == handle, text


async def test_llm_offline_streams_a_chinese_answer_for_a_chinese_prompt() -> None:
    node = {
        "id": "llm",
        "type": "llm",
        "config": {
            "model": "gpt-4o-mini",
            "system_prompt": "你是客服",
            "prompt": "回答用户：{{ input.user_message }}",
        },
    }
    result, chunks = await run(node, {"input": {"user_message": "我需要帮助"}, "nodes": {}})
    assert result.status == "completed"
    assert result.output.startswith("[offline gpt-4o-mini] 您好")
    assert "我需要帮助" in result.output
    assert len(chunks) > 5 and "".join(chunks) == result.output
    assert result.usage is not None and result.usage.estimated
    assert result.usage.completion_tokens == estimate_tokens(result.output)
    assert result.usage.cost_usd == 0.0  # nothing was spent


async def test_llm_offline_answers_english_prompts_in_english_deterministically() -> None:
    node = {"id": "llm", "type": "llm", "config": {"prompt": "Summarise: {{ input.text }}"}}
    ctx = {"input": {"text": "the quarterly report"}, "nodes": {}}
    first, chunks = await run(node, ctx)
    second, _ = await run(node, ctx)
    assert first.output == second.output
    assert first.output.startswith(
        '[offline gpt-4o-mini] Thanks for your message. You asked: "Summarise'
    )
    assert chunks[:3] == ["[offline ", "gpt-4o-mini] ", "Thanks "]


async def test_llm_without_stream_sends_no_chunks() -> None:
    node = {"id": "llm", "type": "llm", "config": {"prompt": "hi", "stream": False}}
    result, chunks = await run(node)
    assert result.status == "completed" and chunks == []


async def test_llm_json_schema_gives_structured_output_offline() -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "score": {"type": "number"}},
    }
    node = {"id": "llm", "type": "llm", "config": {"prompt": "hi", "json_schema": schema}}
    result, _ = await run(node)
    assert set(result.output) == {"answer", "score"} and result.output["score"] == 0


@pytest.mark.parametrize(
    "node",
    [
        {"id": "n", "type": "loop", "config": {"items": "{{ input.items }}", "body": ["x"]}},
    ],
)
async def test_unbuilt_node_types_fail_loudly(node: dict[str, Any]) -> None:
    result, _ = await run(node)
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "unsupported" and not result.error.retryable
    assert result.error.message == f"node type '{node['type']}' is not supported yet"


async def test_template_errors_are_reported_as_such() -> None:
    result, _ = await run(
        {"id": "o", "type": "output", "config": {"value": "{{ input.a / 0 }}"}},
        {"input": {"a": 1}, "nodes": {}},
    )
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "template" and "ZeroDivisionError" in result.error.message


async def test_a_node_that_overruns_its_timeout_fails_retryably() -> None:
    never = asyncio.Event()

    async def slow(task: NodeTask, emit_chunk: Any) -> NodeOutcome:
        await never.wait()
        return NodeOutcome()

    t = task({"id": "llm", "type": "llm", "timeout_s": 0.05})
    result = await run_task(t, slow, Chunks())
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "timeout" and result.error.retryable
    assert result.duration_ms >= 50


async def test_a_crashing_handler_still_ends_with_a_result() -> None:
    async def broken(task: NodeTask, emit_chunk: Any) -> NodeOutcome:
        raise KeyError("oops")

    result = await run_task(task({"id": "o", "type": "output"}), broken, Chunks())
    assert (
        result.status == "failed" and result.error is not None and result.error.kind == "internal"
    )


async def test_handlers_raise_node_failure_with_a_node_error() -> None:
    failure = NodeFailure("provider", "x", retryable=True)
    assert failure.error.model_dump() == {
        "kind": "provider",
        "message": "x",
        "retryable": True,
        "retry_after_s": None,
    }


@pytest.mark.parametrize(
    "text",
    [
        "hello  world, how are you?",
        "您好！我已收到您的请求：“我需要帮助”。",
        "mix 中文 and English  ",
        "",
    ],
)
def test_stream_pieces_join_back_to_the_text(text: str) -> None:
    assert "".join(pieces(text)) == text


def test_the_command_line_takes_node_types() -> None:
    import argparse

    from pilot_runners.__main__ import parse_types

    assert parse_types("llm, api") == ["llm", "api"]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown node types"):
        parse_types("llm,teleport")
