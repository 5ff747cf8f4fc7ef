"""Request checks the gateway makes before anything reaches the bus, the SSE wire format,
settings, and the app factory (which must not connect to anything until it starts)."""

from __future__ import annotations

from typing import Any

import pytest

from pilot_gateway.app import create_app
from pilot_gateway.errors import BadRequestError
from pilot_gateway.executions.endpoints import resume_point
from pilot_gateway.executions.service import InvalidInputError, validate_input
from pilot_gateway.generation.service import InvalidPromptError, check_prompt
from pilot_gateway.settings import GatewaySettings
from pilot_gateway.sse import sse_frame
from pilot_shared.contracts import Workflow


def workflow_with_schema(schema: dict[str, Any]) -> Workflow:
    return Workflow.model_validate(
        {
            "nodes": [
                {"id": "input_1", "type": "input", "config": {"schema": schema}},
                {"id": "output_1", "type": "output", "config": {"value": "{{ input.q }}"}},
            ],
            "connections": [{"id": "c1", "source": "input_1", "target": "output_1"}],
        }
    )


SCHEMA = {
    "type": "object",
    "properties": {
        "q": {"type": "string", "minLength": 1},
        "opts": {"type": "object", "properties": {"k": {"type": "integer"}}, "required": ["k"]},
    },
    "required": ["q"],
}


def test_valid_input_passes() -> None:
    validate_input(workflow_with_schema(SCHEMA), {"q": "hello", "opts": {"k": 3}})
    validate_input(workflow_with_schema({}), {"anything": True})


def test_a_missing_field_is_named() -> None:
    with pytest.raises(InvalidInputError) as err:
        validate_input(workflow_with_schema(SCHEMA), {})
    assert err.value.status_code == 422
    assert err.value.extra["errors"] == [
        {"loc": ["input_data", "q"], "msg": "'q' is a required property", "node_id": "input_1"}
    ]
    assert "input_data.q: 'q' is a required property" in err.value.detail


def test_nested_and_typed_problems_are_located() -> None:
    with pytest.raises(InvalidInputError) as err:
        validate_input(workflow_with_schema(SCHEMA), {"q": 5, "opts": {}})
    locs = [e["loc"] for e in err.value.extra["errors"]]
    assert locs == [["input_data", "opts", "k"], ["input_data", "q"]]


def test_a_broken_schema_is_the_workflows_fault() -> None:
    with pytest.raises(InvalidInputError) as err:
        validate_input(workflow_with_schema({"type": "no-such-type"}), {})
    assert err.value.kind == "invalid_workflow" and "input_1" in err.value.detail


def test_prompts_are_checked() -> None:
    assert check_prompt("  make a bot \n", 100) == "make a bot"
    with pytest.raises(InvalidPromptError, match="empty"):
        check_prompt(" \t\n", 100)
    with pytest.raises(InvalidPromptError, match="the limit is 100") as err:
        check_prompt("x" * 101, 100)
    assert err.value.extra == {"limit": 100}


def test_resume_point_prefers_the_header() -> None:
    assert resume_point(None, None) == 0
    assert resume_point(None, 4) == 4
    assert resume_point("7", 4) == 7
    assert resume_point(" 7 ", None) == 7
    assert resume_point("", 3) == 3
    for bad in ("seven", "-1", "1.5"):
        with pytest.raises(BadRequestError):
            resume_point(bad, None)


def test_sse_frames() -> None:
    assert sse_frame('{"a": 1}', event="node.chunk", id=3) == (
        b'id: 3\nevent: node.chunk\ndata: {"a": 1}\n\n'
    )
    # a newline in data must not end the field early
    assert sse_frame("a\nb") == b"data: a\ndata: b\n\n"


def test_settings_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    s = GatewaySettings()
    assert (
        s.port,
        s.generate_timeout_s,
        s.max_body_bytes,
        s.max_prompt_chars,
        s.sse_keepalive_s,
    ) == (8000, 30, 1_000_000, 20_000, 15)
    monkeypatch.setenv("PILOT_PORT", "9001")
    monkeypatch.setenv("PILOT_HOST", "0.0.0.0")
    monkeypatch.setenv("PILOT_GENERATE_TIMEOUT_S", "2.5")
    s = GatewaySettings()
    assert (s.host, s.port, s.generate_timeout_s) == ("0.0.0.0", 9001, 2.5)


def test_create_app_connects_to_nothing_and_documents_the_api() -> None:
    # Unreachable servers: building the app (and its OpenAPI) must not touch them.
    app = create_app(
        GatewaySettings(nats_url="nats://127.0.0.1:1", mongodb_url="mongodb://127.0.0.1:1")
    )
    spec = app.openapi()
    ops = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert {
        ("/api/workflows/generate", "post"),
        ("/api/workflows", "post"),
        ("/api/workflows", "get"),
        ("/api/workflows/{workflow_id}", "get"),
        ("/api/workflows/{workflow_id}/execute", "post"),
        ("/api/executions/{execution_id}", "get"),
        ("/api/executions/{execution_id}/events", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    } <= ops
    execute = spec["paths"]["/api/workflows/{workflow_id}/execute"]["post"]
    assert "text/event-stream" in execute["responses"]["200"]["content"]
    assert "202" in execute["responses"]
