"""Graph validation: the errors name the node at fault."""

from __future__ import annotations

from typing import Any

import pytest

from pilot_shared.contracts import Workflow
from pilot_shared.graph import Graph, GraphValidationError, validate_workflow


def wf(nodes: list[dict[str, Any]], edges: list[tuple[str, str, str | None]]) -> Workflow:
    return Workflow.model_validate(
        {
            "nodes": nodes,
            "connections": [
                {"id": f"c{i}", "source": s, "target": t, "source_handle": h}
                for i, (s, t, h) in enumerate(edges, 1)
            ],
        }
    )


INPUT = {"id": "in", "type": "input"}
OUT = {"id": "out", "type": "output", "config": {"value": "{{ nodes.llm.output }}"}}
LLM = {"id": "llm", "type": "llm", "config": {"prompt": "{{ input.q }}"}}


def test_linear_workflow_is_valid_and_ordered() -> None:
    w = wf([OUT, LLM, INPUT], [("in", "llm", None), ("llm", "out", None)])
    validate_workflow(w)
    assert Graph(w).topological_order() == ["in", "llm", "out"]


def _issues(w: Workflow) -> str:
    with pytest.raises(GraphValidationError) as info:
        validate_workflow(w)
    return str(info.value)


def test_cycle_outside_a_loop_is_rejected() -> None:
    b = {"id": "b", "type": "llm"}
    msg = _issues(
        wf(
            [INPUT, LLM, b, OUT],
            [("in", "llm", None), ("llm", "b", None), ("b", "llm", None), ("b", "out", None)],
        )
    )
    assert ("cycle" in msg and "'b'" in msg) or "b" in msg


def test_connection_to_missing_node_names_it() -> None:
    assert "ghost" in _issues(wf([INPUT, OUT], [("in", "ghost", None), ("in", "out", None)]))


def test_unreachable_node_and_missing_output() -> None:
    msg = _issues(wf([INPUT, LLM, {"id": "out", "type": "output"}], [("in", "llm", None)]))
    assert "'out'" in msg and "not reachable" in msg and "no output node" in msg


def test_duplicate_ids_and_no_input() -> None:
    assert "duplicate node id" in _issues(wf([INPUT, INPUT], []))
    assert "input node" in _issues(
        wf([LLM, {"id": "out", "type": "output"}], [("llm", "out", None)])
    )


def test_condition_branch_must_be_a_known_handle() -> None:
    cond = {"id": "cond", "type": "condition", "config": {"expression": "input.n > 5"}}
    msg = _issues(
        wf(
            [INPUT, cond, {"id": "out", "type": "output"}],
            [("in", "cond", None), ("cond", "out", "maybe")],
        )
    )
    assert "cond" in msg and "maybe" in msg
    validate_workflow(
        wf(
            [INPUT, cond, {"id": "out", "type": "output"}],
            [("in", "cond", None), ("cond", "out", "true")],
        )
    )


def test_template_reading_a_node_that_is_not_upstream() -> None:
    side = {"id": "side", "type": "llm", "config": {"prompt": "{{ nodes.out2.output }}"}}
    out2 = {"id": "out2", "type": "output"}
    msg = _issues(wf([INPUT, side, out2], [("in", "side", None), ("side", "out2", None)]))
    assert "side" in msg and "out2" in msg


def test_template_syntax_error_names_the_node() -> None:
    bad = {"id": "bad", "type": "llm", "config": {"prompt": "{{ input.q "}}
    assert "bad" in _issues(
        wf(
            [INPUT, bad, {"id": "out", "type": "output"}],
            [("in", "bad", None), ("bad", "out", None)],
        )
    )


def test_loop_body_back_edge_is_not_a_cycle_but_must_be_wired() -> None:
    loop = {
        "id": "loop",
        "type": "loop",
        "config": {"items": "{{ input.items }}", "body": ["each"]},
    }
    each = {"id": "each", "type": "llm", "config": {"prompt": "{{ item }}"}}
    out = {"id": "out", "type": "output", "config": {"value": "{{ nodes.loop.output }}"}}
    ok = wf(
        [INPUT, loop, each, out],
        [
            ("in", "loop", None),
            ("loop", "each", "body"),
            ("each", "loop", None),
            ("loop", "out", None),
        ],
    )
    validate_workflow(ok)
    unwired = wf(
        [INPUT, loop, each, out],
        [("in", "loop", None), ("loop", "each", None), ("loop", "out", None)],
    )
    assert "body" in _issues(unwired)
