"""The offline planner: intent, language, entities and blueprints for English and Chinese
prompts, preferences, and the prompt guard."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from pilot_planner.analyzer import PromptAnalyzer
from pilot_planner.errors import PromptRejected
from pilot_planner.guard import MAX_PROMPT_CHARS
from pilot_planner.language import detect_language
from pilot_planner.preflight import blueprint_issues
from pilot_planner.settings import PlannerSettings
from pilot_shared.contracts import BlueprintStep, UserPreferences, WorkflowBlueprint


@pytest.fixture
def analyzer() -> PromptAnalyzer:
    # No API key: the offline rules, whatever the environment says.
    return PromptAnalyzer(PlannerSettings(llm_api_key=None, llm_model="gpt-4o-mini"))


def steps_of(bp: WorkflowBlueprint, type_: str) -> list[BlueprintStep]:
    return [s for s in bp.steps if s.type == type_]


def step(bp: WorkflowBlueprint, key: str) -> BlueprintStep:
    return next(s for s in bp.steps if s.key == key)


PROMPTS = [
    ("创建一个客户支持聊天机器人", "customer_support", "zh"),
    ("Build a customer support chatbot for our online shop", "customer_support", "en"),
    ("做一个售后客服，处理退款和投诉", "customer_support", "zh"),
    ("写一篇关于人工智能的博客文章", "content_generation", "zh"),
    ("Write a blog post about electric cars for teenagers", "content_generation", "en"),
    ("为小红书生成营销文案", "content_generation", "zh"),
    ("分析上个月的销售数据并生成报表", "data_analysis", "zh"),
    ("Analyze our monthly sales CSV and find trends", "data_analysis", "en"),
    ("Translate a paragraph into French", "translation", "en"),
    ("把这段话翻译成法语", "translation", "zh"),
    ("Answer questions from our product documentation", "rag_qa", "en"),
    ("审核用户评论是否违规", "content_moderation", "zh"),
    ("Help me plan a trip to Japan", "general", "en"),
]


@pytest.mark.parametrize(("prompt", "category", "language"), PROMPTS)
async def test_each_template_in_both_languages(
    analyzer: PromptAnalyzer, prompt: str, category: str, language: str
) -> None:
    intent = analyzer.analyze_intent(prompt)
    assert (intent.category, intent.language) == (category, language)

    bp = await analyzer.plan(prompt)
    assert bp.intent.category == category
    assert bp.strategy == "offline" and bp.strategy_reason
    assert bp.steps[0].type == "input"
    # a model does the work: an llm step, or a condition that classifies with one
    classifies = [c for c in steps_of(bp, "condition") if c.config.get("mode") == "llm_classify"]
    assert (steps_of(bp, "llm") or classifies) and steps_of(bp, "output")
    assert blueprint_issues(bp) == []  # the generator will accept it
    if language == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in bp.name + bp.steps[0].name)


async def test_customer_support_chatbot_in_chinese(analyzer: PromptAnalyzer) -> None:
    bp = await analyzer.plan("创建一个客户支持聊天机器人")
    assert bp.intent.category == "customer_support"
    assert {"input", "llm", "output", "condition"} <= {s.type for s in bp.steps}

    schema = step(bp, "input_1").config["schema"]
    jsonschema.validate({"user_message": "我需要帮助"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({}, schema)
    assert schema["properties"]["user_message"]["type"] == "string"
    assert "user_message" in schema["required"]

    llm = step(bp, "llm_1").config
    assert "{{ input.user_message }}" in llm["prompt"]
    assert llm["model"] == "gpt-4o-mini"

    # input -> llm -> condition, and the condition's two branches end in outputs.
    cond = step(bp, "condition_1").config
    assert cond["mode"] == "llm_classify"
    handles = {e.handle for e in bp.edges if e.source == "condition_1"}
    assert handles == {*cond["labels"], cond["default_handle"]}


async def test_complexity_changes_the_shape(analyzer: PromptAnalyzer) -> None:
    prompt = "Write a blog post about electric cars"
    sizes = {}
    for complexity in ("simple", "standard", "advanced"):
        bp = await analyzer.plan(prompt, UserPreferences(complexity=complexity))
        assert blueprint_issues(bp) == []
        sizes[complexity] = len(steps_of(bp, "llm"))
    assert sizes["simple"] < sizes["standard"] < sizes["advanced"]

    support = await analyzer.plan("客服机器人", UserPreferences(complexity="advanced"))
    assert steps_of(support, "knowledge")
    assert "nodes.knowledge_1.output" in step(support, "llm_1").config["prompt"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Build a support bot", "en"),
        ("创建一个客户支持聊天机器人", "zh"),
        ("用 gpt-4o 写博客，然后发到 Slack", "zh"),
        ("创建一个客户支持 chatbot for our users", "mixed"),
    ],
)
def test_language(analyzer: PromptAnalyzer, text: str, language: str) -> None:
    assert analyzer.analyze_intent(text).language == language


def test_language_ignores_names() -> None:
    assert detect_language("发到 Slack channel", ignore=["Slack"]) == "mixed"
    assert detect_language("发到 Slack 群", ignore=["Slack"]) == "zh"


def entity_values(analyzer: PromptAnalyzer, prompt: str, kind: str) -> list[str]:
    return [e.value for e in analyzer.extract_entities(prompt) if e.kind == kind]


@pytest.mark.parametrize(
    ("prompt", "integrations"),
    [
        ("Send the summary to Slack and by email", ["slack", "email"]),
        ("结果发到企业微信和钉钉，再发邮件", ["wecom", "dingtalk", "email"]),
        ("通知飞书群，然后调用 webhook", ["feishu", "webhook"]),
        ("发到slack", ["slack"]),  # no space between Chinese and the name
        ("post to https://hooks.slack.com/services/T0/B0/x", ["slack"]),
        ("a slacker's guide to emailing", []),  # words that merely contain the names
    ],
)
def test_integrations(analyzer: PromptAnalyzer, prompt: str, integrations: list[str]) -> None:
    assert entity_values(analyzer, prompt, "integration") == integrations


@pytest.mark.parametrize(
    ("prompt", "models"),
    [
        ("用GPT-4o回答", ["gpt-4o"]),
        ("use gpt-4 with claude-3-5-sonnet as a backup.", ["gpt-4", "claude-3-5-sonnet"]),
        ("用 qwen-max 和 deepseek-chat", ["qwen-max", "deepseek-chat"]),
        ("用通义千问写", ["qwen-plus"]),
        ("use gpt4o-mini", ["gpt-4o-mini"]),
        ("no model named here", []),
    ],
)
def test_models(analyzer: PromptAnalyzer, prompt: str, models: list[str]) -> None:
    assert entity_values(analyzer, prompt, "model") == models


def test_other_entities(analyzer: PromptAnalyzer) -> None:
    prompt = (
        "Alert #support-team and ops@example.com, data at https://example.com/a.csv. "
        "Reply in English."
    )
    entities = {(e.kind, e.value) for e in analyzer.extract_entities(prompt)}
    assert {
        ("channel", "#support-team"),
        ("email_address", "ops@example.com"),
        ("url", "https://example.com/a.csv"),
        ("language", "en"),
    } <= entities


async def test_entities_go_into_configs(analyzer: PromptAnalyzer) -> None:
    bp = await analyzer.plan(
        "Customer support bot using claude-3-5-sonnet, fall back to gpt-4o; "
        "alert #escalations on Slack"
    )
    llm = step(bp, "llm_1").config
    assert llm["model"] == "claude-3-5-sonnet"
    assert llm["fallback_models"] == ["gpt-4o"]
    assert step(bp, "condition_1").config["model"] == "claude-3-5-sonnet"
    (slack,) = steps_of(bp, "tool")
    assert slack.config["tool"] == "slack"
    assert slack.config["params"]["channel"] == "#escalations"

    analysis = await analyzer.plan("分析 https://example.com/sales.json 的销售数据")
    (api,) = steps_of(analysis, "api")
    assert api.config["url"] == "https://example.com/sales.json"
    assert "nodes.api_1.output" in step(analysis, "llm_1").config["prompt"]


async def test_preferences_add_tool_nodes(analyzer: PromptAnalyzer) -> None:
    prefs = UserPreferences(integrations=["slack", "email", "企业微信"])
    bp = await analyzer.plan("Write a blog post about tea and email it to me", prefs)
    tools = steps_of(bp, "tool")
    # the prompt's own ("email it to me") where it says; the preferences' after; each once
    assert sorted(t.config["tool"] for t in tools) == ["email", "slack", "wecom"]
    for t in tools:
        assert isinstance(t.config["params"], dict) and t.config["params"]
        assert t.on_error == {"strategy": "continue", "default_output": None}
    assert blueprint_issues(bp) == []
    # the tools sit between the last llm and the output
    chain = {(e.source, e.target) for e in bp.edges}
    last_llm = steps_of(bp, "llm")[-1].key
    assert (last_llm, "tool_1") in chain and ("tool_3", "output_1") in chain


async def test_support_tools_are_on_the_escalation_branch(analyzer: PromptAnalyzer) -> None:
    bp = await analyzer.plan(
        "创建一个客户支持聊天机器人", UserPreferences(integrations=["slack", "email"])
    )
    edges = [(e.source, e.target, e.handle) for e in bp.edges]
    assert ("condition_1", "tool_1", "negative") in edges
    assert ("tool_2", "output_2", None) in edges
    assert ("condition_1", "output_1", "other") in edges


@pytest.mark.parametrize("prompt", ["", "   \n\t "])
async def test_empty_prompt_is_rejected(analyzer: PromptAnalyzer, prompt: str) -> None:
    with pytest.raises(PromptRejected, match="empty"):
        await analyzer.plan(prompt)
    with pytest.raises(PromptRejected):
        analyzer.analyze_intent(prompt)


async def test_oversize_prompt_is_rejected(analyzer: PromptAnalyzer) -> None:
    with pytest.raises(PromptRejected, match=str(MAX_PROMPT_CHARS)):
        await analyzer.plan("x" * (MAX_PROMPT_CHARS + 1))
    bp = await analyzer.plan("写" * MAX_PROMPT_CHARS)  # at the limit is fine
    assert bp.steps


async def test_prompt_text_never_becomes_a_template(analyzer: PromptAnalyzer) -> None:
    prompt = "Summarize {{ nodes.secret.output }} and {% for x in range(99999999) %}{% endfor %}"
    bp = await analyzer.plan(prompt)
    assert blueprint_issues(bp) == []

    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return []

    for s in bp.steps:
        for text in strings(s.config):
            assert "nodes.secret" not in text or "{{ nodes.secret" not in text
            assert "{% for" not in text


async def test_suggest_workflow_structure_from_parts(analyzer: PromptAnalyzer) -> None:
    prompt = "用 deepseek-chat 分析数据"
    intent = analyzer.analyze_intent(prompt)
    entities = analyzer.extract_entities(prompt)
    bp = analyzer.suggest_workflow_structure(intent, entities, UserPreferences(), prompt=prompt)
    assert bp.intent.category == "data_analysis"
    assert step(bp, "llm_1").config["model"] == "deepseek-chat"


async def test_strategy_reasons(analyzer: PromptAnalyzer) -> None:
    auto = await analyzer.plan("客服机器人")
    assert "PILOT_LLM_API_KEY" in auto.strategy_reason
    forced = await analyzer.plan("客服机器人", strategy="offline")
    assert forced.strategy == "offline" and "requested" in forced.strategy_reason
    wanted = await analyzer.plan("客服机器人", strategy="llm")
    assert wanted.strategy == "offline" and "LLM planner was requested" in wanted.strategy_reason
