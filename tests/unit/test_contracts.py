"""The wire contracts of DESIGN.md §4 accept what they should and reject the rest clearly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pilot_shared.contracts import (
    NODE_ADAPTER,
    NODE_TYPES,
    RUNNER_MESSAGE_ADAPTER,
    ConditionConfig,
    ExecutionEvent,
    NodeChunk,
    NodeResult,
    Usage,
    Workflow,
)

DESIGN_EXAMPLE = {
    "id": "wf1",
    "name": "Support",
    "description": "d",
    "owner_id": "u1",
    "version": 3,
    "status": "draft",
    "nodes": [
        {
            "id": "input_1",
            "type": "input",
            "name": "In",
            "position": {"x": 0, "y": 0},
            "config": {"schema": {"type": "object", "required": ["user_message"]}},
        },
        {
            "id": "llm_1",
            "type": "llm",
            "name": "Answer",
            "position": {"x": 240, "y": 0},
            "config": {"model": "gpt-4o-mini", "prompt": "Answer: {{ input.user_message }}"},
            "retry": {
                "max_attempts": 3,
                "initial_delay_ms": 500,
                "multiplier": 2.0,
                "max_delay_ms": 10000,
                "jitter": True,
            },
            "timeout_s": 60,
            "on_error": {"strategy": "fail", "default_output": None},
        },
        {"id": "output_1", "type": "output", "config": {"value": "{{ nodes.llm_1.output }}"}},
    ],
    "connections": [
        {"id": "c1", "source": "input_1", "target": "llm_1", "source_handle": None},
        {"id": "c2", "source": "llm_1", "target": "output_1"},
    ],
    "variables": {},
    "estimated_cost": 0.0012,
    "execution_time": "~2s",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


def test_design_example_round_trips() -> None:
    wf = Workflow.model_validate(DESIGN_EXAMPLE)
    dumped = wf.model_dump(mode="json")
    assert dumped["nodes"][0]["config"]["schema"] == DESIGN_EXAMPLE["nodes"][0]["config"]["schema"]  # type: ignore[index]
    assert Workflow.model_validate(dumped) == wf


def test_every_node_type_has_a_config_model() -> None:
    minimal = {
        "input": {},
        "llm": {},
        "output": {},
        "knowledge": {},
        "condition": {"expression": "input.n > 5"},
        "loop": {"items": "{{ input.items }}", "body": ["x"]},
        "api": {"url": "https://example.com"},
        "tool": {"tool": "calculator"},
    }
    assert set(minimal) == set(NODE_TYPES)
    for node_type, config in minimal.items():
        node = NODE_ADAPTER.validate_python(
            {"id": f"{node_type}_1", "type": node_type, "config": config}
        )
        assert node.type == node_type


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "a", "type": "bogus"},
        {"id": "a", "type": "llm", "config": {"modle": "gpt-4o"}},  # typo: extra="forbid"
        {"id": "a", "type": "api", "config": {}},
        {"id": "a", "type": "condition", "config": {}},
        {
            "id": "a",
            "type": "condition",
            "config": {"expression": "x", "cases": [{"handle": "h", "when": "y"}]},
        },
        {"id": "a", "type": "loop", "config": {"mode": "while", "body": []}},
        {"id": "has space", "type": "input"},
        {"id": "a", "type": "output", "config": {"value": "v", "mapping": {"k": "v"}}},
    ],
)
def test_invalid_nodes_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        NODE_ADAPTER.validate_python(bad)


def test_condition_handles() -> None:
    assert ConditionConfig(expression="input.n > 5").handles() == ["true", "false"]
    cases = ConditionConfig.model_validate(
        {"cases": [{"handle": "refund", "when": "x"}], "default_handle": "other"}
    )
    assert cases.handles() == ["refund", "other"]
    llm = ConditionConfig.model_validate(
        {"mode": "llm_classify", "labels": ["positive", "negative"], "input": "{{ input.t }}"}
    )
    assert llm.handles() == ["positive", "negative", "default"]


def test_runner_messages_are_told_apart_by_kind() -> None:
    chunk = NodeChunk(task_id="t", execution_id="e", node_id="n", text="hi")
    result = NodeResult(task_id="t", execution_id="e", node_id="n", status="completed", output=1)
    assert RUNNER_MESSAGE_ADAPTER.validate_json(chunk.model_dump_json()) == chunk
    assert RUNNER_MESSAGE_ADAPTER.validate_json(result.model_dump_json()) == result


def test_event_seq_starts_at_one() -> None:
    with pytest.raises(ValidationError):
        ExecutionEvent(execution_id="e", workflow_id="w", seq=0, type="execution.started")
    with pytest.raises(ValidationError):
        ExecutionEvent.model_validate(
            {"execution_id": "e", "workflow_id": "w", "seq": 1, "type": "node.exploded"}
        )


def test_usage_adds_up() -> None:
    total = Usage(prompt_tokens=1, completion_tokens=2, cost_usd=0.1) + Usage(
        prompt_tokens=3, cost_usd=0.2, estimated=True
    )
    assert (total.prompt_tokens, total.completion_tokens, total.estimated) == (4, 2, True)
    assert total.cost_usd == pytest.approx(0.3)
