"""The built-in templates (each a valid graph at every complexity, in both languages), the
recommender's ranking, and the optimization suggestions."""

from __future__ import annotations

import pytest

from pilot_generator.generator import WorkflowGenerator
from pilot_planner.errors import UnknownTemplate
from pilot_planner.optimizations import suggest_optimizations
from pilot_planner.recommender import TemplateRecommender, build_template
from pilot_planner.templates import CATALOG, TEMPLATES
from pilot_shared.contracts import UserPreferences, Workflow
from pilot_shared.graph import validate_workflow

generator = WorkflowGenerator()
REQUIRED = {
    "customer_support",
    "content_generation",
    "data_analysis",
    "rag_qa",
    "email_triage",
    "translation",
    "lead_qualification",
    "content_moderation",
    "list_report",
    "api_alert",
}


def test_there_are_the_templates_the_issue_names() -> None:
    assert set(TEMPLATES) >= REQUIRED and len(TEMPLATES) >= 10
    assert {t.id for t in CATALOG} == set(TEMPLATES)


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
@pytest.mark.parametrize("complexity", ["simple", "standard", "advanced"])
@pytest.mark.parametrize("prompt", ["", "用 gpt-4o 做这个工作流，结果发到钉钉"])
def test_every_template_is_a_valid_graph(template_id: str, complexity: str, prompt: str) -> None:
    prefs = UserPreferences(complexity=complexity, integrations=["slack"])
    blueprint = build_template(template_id, prefs, prompt=prompt)
    assert blueprint.strategy == "template"
    workflow = generator.generate_workflow(blueprint, prompt=prompt)
    validate_workflow(workflow)
    types = {n.type for n in workflow.nodes}
    info = next(t for t in CATALOG if t.id == template_id)
    assert types <= info.node_types, f"{template_id} uses {types - info.node_types}"
    assert "slack" in {n.config.tool for n in workflow.nodes if n.type == "tool"}  # type: ignore[union-attr]
    if prompt:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in workflow.name)


def test_complexity_changes_templates() -> None:
    for template_id in ("content_generation", "translation", "rag_qa", "list_report"):
        sizes = [
            len(build_template(template_id, UserPreferences(complexity=c)).steps)
            for c in ("simple", "standard", "advanced")
        ]
        assert sizes[0] <= sizes[1] <= sizes[2] and sizes[0] < sizes[2], template_id


def test_list_report_loop_contract() -> None:
    wf = generator.generate_workflow(build_template("list_report"))
    loop = wf.node("loop_1")
    assert loop.config.body == ["llm_1"]  # type: ignore[union-attr]
    assert any(
        c.source == "loop_1" and c.target == "llm_1" and c.source_handle == "body"
        for c in wf.connections
    )


def test_unknown_template() -> None:
    with pytest.raises(UnknownTemplate, match="no template 'nope'"):
        build_template("nope")


@pytest.mark.parametrize(
    ("prompt", "best"),
    [
        ("创建一个客户支持聊天机器人", "customer_support"),
        ("Alert me on Slack when BTC goes above 60k", "api_alert"),
        ("Summarize each article in the list and write a weekly report", "list_report"),
        ("把这段话翻译成法语", "translation"),
        ("Answer questions from our HR handbook", "rag_qa"),
        ("Triage my inbox and archive the spam", "email_triage"),
    ],
)
def test_recommendations_rank_with_scores(prompt: str, best: str) -> None:
    ranked = TemplateRecommender().recommend_templates(prompt, limit=5)
    assert ranked[0].template_id == best
    assert len(ranked) == 5
    assert all(0 <= r.score <= 1 for r in ranked)
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    assert ranked[0].score > ranked[1].score


def _wf(nodes: list[dict[str, object]], edges: list[tuple[str, str]]) -> Workflow:
    return Workflow.model_validate(
        {
            "nodes": nodes,
            "connections": [
                {"id": f"c{i}", "source": a, "target": b} for i, (a, b) in enumerate(edges)
            ],
        }
    )


def test_suggestions_are_concrete() -> None:
    wf = _wf(
        [
            {"id": "in", "type": "input"},
            {
                "id": "cls",
                "type": "llm",
                "name": "Classify",
                "config": {"model": "gpt-4o", "prompt": "{{ input.text }}", "temperature": 0},
            },
            {
                "id": "a",
                "type": "llm",
                "config": {
                    "model": "gpt-4o-mini",
                    "prompt": "{{ nodes.cls.output }}",
                    "fallback_models": ["x"],
                },
            },
            {
                "id": "b",
                "type": "llm",
                "config": {
                    "model": "gpt-4o-mini",
                    "prompt": "{{ nodes.a.output }}",
                    "fallback_models": ["x"],
                },
            },
            {"id": "fetch", "type": "api", "config": {"url": "https://example.com/a"}},
            {"id": "fetch2", "type": "api", "config": {"url": "https://example.com/b"}},
            {"id": "out", "type": "output", "config": {"value": "{{ nodes.b.output }}"}},
        ],
        [
            ("in", "cls"),
            ("cls", "a"),
            ("a", "b"),
            ("b", "fetch"),
            ("fetch", "fetch2"),
            ("fetch2", "out"),
        ],
    )
    found = {s.kind: s for s in suggest_optimizations(wf)}
    cheaper = found["cheaper_model"]
    assert cheaper.node_ids == ["cls"] and cheaper.patch == {
        "cls": {"config": {"model": "gpt-4o-mini"}}
    }
    retry = [s for s in suggest_optimizations(wf) if s.kind == "add_retries"]
    assert {s.node_ids[0] for s in retry} == {"fetch", "fetch2"}
    assert retry[0].patch[retry[0].node_ids[0]]["retry"]["max_attempts"] == 3
    assert found["merge_llm_calls"].node_ids == ["a", "b"]
    assert found["parallelize"].node_ids == ["fetch", "fetch2"]
    assert found["add_fallback"].node_ids == ["cls"]


def test_generated_workflows_get_few_suggestions() -> None:
    # what the planner builds already retries network steps
    wf = generator.generate_workflow(build_template("api_alert"))
    assert not [s for s in suggest_optimizations(wf) if s.kind == "add_retries"]


def test_the_function_api_a_gateway_calls() -> None:
    from pilot_planner import api

    listed = api.list_templates("zh")
    assert len(listed) == len(CATALOG) and listed[0].title == "客户支持聊天机器人"
    ranked = api.recommend_templates("Translate product descriptions into Japanese", limit=2)
    assert ranked[0].template_id == "translation" and len(ranked) == 2
    blueprint = api.template_blueprint("rag_qa", UserPreferences(complexity="simple"))
    workflow = generator.generate_workflow(blueprint)
    suggestions = api.suggest_optimizations(workflow)
    assert all(s.model_dump(mode="json") for s in suggestions)
    with pytest.raises(UnknownTemplate):
        api.template_blueprint("nope")
