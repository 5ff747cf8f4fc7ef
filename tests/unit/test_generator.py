"""WorkflowGenerator: blueprints become valid, laid-out, costed workflows; bad blueprints
are refused with a message that names the step or node at fault."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pilot_generator.errors import InvalidBlueprint
from pilot_generator.estimate import estimate, format_duration
from pilot_generator.generator import WorkflowGenerator
from pilot_generator.layout import X_STEP, Y_STEP
from pilot_planner.analyzer import PromptAnalyzer
from pilot_planner.settings import PlannerSettings
from pilot_shared.contracts import (
    LLMNode,
    LoopNode,
    UserPreferences,
    Workflow,
    WorkflowBlueprint,
)
from pilot_shared.graph import validate_workflow


def blueprint(
    steps: list[dict[str, Any]], edges: list[tuple[str, ...]], **extra: Any
) -> WorkflowBlueprint:
    return WorkflowBlueprint.model_validate(
        {
            "name": "Test",
            "intent": {"category": "general", "language": "en"},
            "steps": steps,
            "edges": [
                {"source": e[0], "target": e[1], "handle": e[2] if len(e) > 2 else None}
                for e in edges
            ],
            **extra,
        }
    )


INPUT = {"key": "in", "type": "input", "config": {"schema": {"type": "object"}}}
LLM = {"key": "ask", "type": "llm", "config": {"prompt": "Q: {{ input.q }}"}}
OUTPUT = {"key": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}}


def simple() -> WorkflowBlueprint:
    return blueprint([INPUT, LLM, OUTPUT], [("in", "ask"), ("ask", "out")])


@pytest.fixture
def generator() -> WorkflowGenerator:
    return WorkflowGenerator()


def by_id(wf: Workflow) -> dict[str, Any]:
    return {n.id: n for n in wf.nodes}


async def test_generates_a_valid_workflow_from_every_offline_plan(
    generator: WorkflowGenerator,
) -> None:
    analyzer = PromptAnalyzer(PlannerSettings(llm_api_key=None))
    prompts = [
        "创建一个客户支持聊天机器人",
        "Write a blog post about tea",
        "分析销售数据",
        "Analyze https://example.com/data.csv",
        "Translate to French",
    ]
    for prompt in prompts:
        for complexity in ("simple", "standard", "advanced"):
            prefs = UserPreferences(complexity=complexity, integrations=["slack", "email"])
            bp = await analyzer.plan(prompt, prefs)
            wf = generator.generate_workflow(bp, owner_id="u1", prompt=prompt)
            validate_workflow(wf)
            assert wf.owner_id == "u1" and wf.name == bp.name
            assert wf.generation is not None
            assert wf.generation.prompt == prompt and wf.generation.strategy == "offline"
            assert wf.generation.intent == bp.intent.category
            assert wf.estimated_cost > 0
            assert re.fullmatch(r"~\d+s|<1s|~\d+min", wf.execution_time)


async def test_customer_support_workflow(generator: WorkflowGenerator) -> None:
    analyzer = PromptAnalyzer(PlannerSettings(llm_api_key=None))
    bp = await analyzer.plan("创建一个客户支持聊天机器人")
    wf = generator.generate_workflow(bp, prompt="创建一个客户支持聊天机器人")
    nodes = by_id(wf)
    assert {"input_1", "llm_1", "condition_1", "output_1", "output_2"} == set(nodes)
    assert nodes["llm_1"].config.prompt.endswith("{{ input.user_message }}")
    assert [c.id for c in wf.connections] == [f"c{i}" for i in range(1, len(wf.connections) + 1)]
    assert wf.generation is not None and wf.generation.language == "zh"
    # the main path is a straight line; the escalation branch fans out below it
    assert [
        (nodes[n].position.x, nodes[n].position.y) for n in ("input_1", "llm_1", "condition_1")
    ] == [
        (0, 0),
        (X_STEP, 0),
        (2 * X_STEP, 0),
    ]
    assert nodes["output_1"].position.y == 0
    assert nodes["output_2"].position.y == Y_STEP
    assert wf.execution_time == "~3s"


def test_keys_are_renumbered_and_references_follow(generator: WorkflowGenerator) -> None:
    # an LLM-style blueprint: free keys, and two llm steps named against their order
    bp = blueprint(
        [
            INPUT,
            {"key": "llm_2", "type": "llm", "config": {"prompt": "{{ input.q }}"}},
            {
                "key": "llm_1",
                "type": "llm",
                "config": {"prompt": "Improve: {{ nodes['llm_2'].output }}"},
            },
            {
                "key": "out",
                "type": "output",
                "config": {
                    "mapping": {
                        "first": "{{ nodes.llm_2.output }}",
                        "second": "{{ nodes.llm_1.output }}",
                    }
                },
            },
        ],
        [("in", "llm_2"), ("llm_2", "llm_1"), ("llm_1", "out")],
    )
    wf = generator.generate_workflow(bp)
    nodes = by_id(wf)
    assert list(nodes) == ["input_1", "llm_1", "llm_2", "output_1"]
    assert nodes["llm_2"].config.prompt == "Improve: {{ nodes.llm_1.output }}"
    assert nodes["output_1"].config.mapping == {
        "first": "{{ nodes.llm_1.output }}",
        "second": "{{ nodes.llm_2.output }}",
    }
    assert [(c.source, c.target) for c in wf.connections] == [
        ("input_1", "llm_1"),
        ("llm_1", "llm_2"),
        ("llm_2", "output_1"),
    ]
    assert nodes["llm_1"].name == "LLM 1"  # a default name when the step has none


def test_branches_fan_out(generator: WorkflowGenerator) -> None:
    bp = blueprint(
        [
            INPUT,
            {
                "key": "route",
                "type": "condition",
                "config": {
                    "cases": [
                        {"handle": "a", "when": "input.x == 'a'"},
                        {"handle": "b", "when": "input.x == 'b'"},
                    ],
                    "default_handle": "c",
                },
            },
            {"key": "oa", "type": "output", "config": {"value": "A"}},
            {"key": "ob", "type": "output", "config": {"value": "B"}},
            {"key": "oc", "type": "output", "config": {"value": "C"}},
        ],
        [("in", "route"), ("route", "oa", "a"), ("route", "ob", "b"), ("route", "oc", "c")],
    )
    wf = generator.generate_workflow(bp)
    ys = [n.position.y for n in wf.nodes if n.type == "output"]
    assert ys == [0, Y_STEP, -Y_STEP]
    assert {n.position.x for n in wf.nodes if n.type == "output"} == {2 * X_STEP}
    assert {c.source_handle for c in wf.connections if c.source == "condition_1"} == {"a", "b", "c"}


def test_loops_map_their_body_and_multiply_cost(generator: WorkflowGenerator) -> None:
    bp = blueprint(
        [
            INPUT,
            {
                "key": "each",
                "type": "loop",
                "config": {"items": "{{ input.items }}", "body": ["summarize"], "concurrency": 1},
            },
            {"key": "summarize", "type": "llm", "config": {"prompt": "Summarize {{ item }}"}},
            {"key": "out", "type": "output", "config": {"value": "{{ nodes.each.output }}"}},
        ],
        [("in", "each"), ("each", "summarize", "body"), ("summarize", "each"), ("each", "out")],
    )
    wf = generator.generate_workflow(bp)
    loop = by_id(wf)["loop_1"]
    assert isinstance(loop, LoopNode) and loop.config.body == ["llm_1"]
    single = blueprint(
        [INPUT, {**LLM, "config": {"prompt": "Summarize {{ input.q }}"}}, OUTPUT],
        [("in", "ask"), ("ask", "out")],
    )
    once = generator.generate_workflow(single)
    assert wf.estimated_cost == pytest.approx(5 * once.estimated_cost, rel=0.01)
    assert estimate(wf).seconds > 4 * estimate(once).seconds


def test_cost_follows_the_model(generator: WorkflowGenerator) -> None:
    cheap = generator.generate_workflow(simple())
    pricey_bp = blueprint(
        [INPUT, {**LLM, "config": {"model": "gpt-4", "prompt": "Q: {{ input.q }}"}}, OUTPUT],
        [("in", "ask"), ("ask", "out")],
    )
    pricey = generator.generate_workflow(pricey_bp)
    assert 0 < cheap.estimated_cost < pricey.estimated_cost
    node = by_id(pricey)["llm_1"]
    assert isinstance(node, LLMNode)
    assert estimate(pricey).nodes["llm_1"].model == "gpt-4"


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.2, "<1s"), (2.4, "~2s"), (59, "~59s"), (150, "~2min"), (7200, "~2.0h")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("steps", "edges", "message"),
    [
        (
            [INPUT, {**LLM, "config": {"prompt": "x", "temperature": 5}}, OUTPUT],
            [("in", "ask"), ("ask", "out")],
            r"step 'ask' \(node 'llm_1', llm\): invalid config: temperature",
        ),
        (
            [INPUT, {**LLM, "config": {"prompt": "x", "bogus": 1}}, OUTPUT],
            [("in", "ask"), ("ask", "out")],
            r"'llm_1'.*bogus.*Extra inputs",
        ),
        (
            [INPUT, {"key": "cond", "type": "condition", "config": {}}, OUTPUT],
            [("in", "cond"), ("cond", "out", "true")],
            r"'condition_1'.*exactly one of",
        ),
        (
            [INPUT, {"key": "t", "type": "tool", "config": {"params": {}}}, OUTPUT],
            [("in", "t"), ("t", "out")],
            r"'tool_1'.*tool: Field required",
        ),
        ([INPUT, LLM, OUTPUT], [("in", "ask"), ("ask", "nowhere")], r"no step 'nowhere'"),
        ([INPUT, LLM, LLM, OUTPUT], [("in", "ask")], r"step 'ask': two steps have this key"),
        (
            [INPUT, {**LLM, "config": {"prompt": "{{ nodes.out.output }}"}}, OUTPUT],
            [("in", "ask"), ("ask", "out")],
            r"node 'llm_1': template reads nodes.output_1, which is not upstream",
        ),
        (
            [INPUT, {**LLM, "config": {"prompt": "{{ user_message }}"}}, OUTPUT],
            [("in", "ask"), ("ask", "out")],
            r"'llm_1'.*templates read user_message",
        ),
        (
            [INPUT, LLM, OUTPUT],
            [("in", "ask")],
            r"node 'output_1': not reachable from an input node",
        ),
        (
            [INPUT, LLM, OUTPUT, {"key": "b", "type": "llm", "config": {"prompt": "x"}}],
            [("in", "ask"), ("ask", "b"), ("b", "ask"), ("ask", "out")],
            r"cycle outside a loop through llm_1, llm_2",
        ),
        ([LLM, OUTPUT], [("ask", "out")], r"needs an input node"),
        (
            [INPUT, {**LLM, "config": {"prompt": "{{ input.q "}}, OUTPUT],
            [("in", "ask"), ("ask", "out")],
            r"node 'llm_1': template error",
        ),
        (
            [
                INPUT,
                {
                    "key": "each",
                    "type": "loop",
                    "config": {"items": "{{ input.x }}", "body": ["ghost"]},
                },
                OUTPUT,
            ],
            [("in", "each"), ("each", "out")],
            r"step 'each' \(loop\): config.body names unknown steps 'ghost'",
        ),
        ([], [], r"no steps"),
    ],
)
def test_bad_blueprints_are_refused_naming_the_node(
    generator: WorkflowGenerator,
    steps: list[dict[str, Any]],
    edges: list[tuple[str, ...]],
    message: str,
) -> None:
    with pytest.raises(InvalidBlueprint, match=message):
        generator.generate_workflow(blueprint(steps, edges))


def test_create_nodes_and_connect_nodes_on_their_own(generator: WorkflowGenerator) -> None:
    bp = simple()
    nodes = generator.create_nodes(bp.steps)
    assert [n.id for n in nodes] == ["input_1", "llm_1", "output_1"]
    conns = generator.connect_nodes(
        bp.edges + bp.edges, {"in": "input_1", "ask": "llm_1", "out": "output_1"}
    )
    assert [(c.id, c.source, c.target) for c in conns] == [
        ("c1", "input_1", "llm_1"),
        ("c2", "llm_1", "output_1"),
    ]
