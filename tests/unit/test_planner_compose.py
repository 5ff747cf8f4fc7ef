"""The offline composer: steps, conditions, loops, retrieval, HTTP calls, channels and models
read from English, Chinese and mixed prompts, and wired with the right branches
(`source_handle`) and loop bodies (DESIGN.md §4)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from pilot_generator.generator import WorkflowGenerator
from pilot_planner.clauses import split_clauses
from pilot_planner.offline import OfflinePlanner
from pilot_planner.structure import Branch, Loop, read_plan
from pilot_shared.contracts import UserPreferences, Workflow
from pilot_shared.graph import Graph, validate_workflow

planner = OfflinePlanner()
generator = WorkflowGenerator()


def generate(prompt: str, **prefs: Any) -> Workflow:
    blueprint = planner.plan_now(prompt, UserPreferences(**prefs))
    workflow = generator.generate_workflow(blueprint, prompt=prompt)
    validate_workflow(workflow)
    return workflow


def types(wf: Workflow) -> list[str]:
    return [n.type for n in wf.nodes]


def edges(wf: Workflow) -> set[tuple[str, str, str | None]]:
    return {(c.source, c.target, c.source_handle) for c in wf.connections}


def config(wf: Workflow, node_id: str) -> dict[str, Any]:
    return wf.node(node_id).config.model_dump(by_alias=True)


@pytest.mark.parametrize(
    ("prompt", "pieces"),
    [
        ("Fetch the data, then summarize it and finally email it", 3),
        ("先翻译成英文，然后总结要点，最后发到飞书", 3),
        ("Call https://api.example.com/v1.2/data. Then post it to #ops", 2),  # dots in URLs
        ("Send me an SMS if the price drops below 7.5", 2),  # the condition comes after
    ],
)
def test_clauses(prompt: str, pieces: int) -> None:
    assert len(split_clauses(prompt)) == pieces


def test_steps_in_order_with_what_the_prompt_names() -> None:
    wf = generate(
        "Fetch the weather for Beijing from a weather API, summarize it with gpt-4o and "
        "then post it to Slack #general"
    )
    assert types(wf) == ["input", "api", "llm", "tool", "output"]
    assert edges(wf) == {
        ("input_1", "api_1", None),
        ("api_1", "llm_1", None),
        ("llm_1", "tool_1", None),
        ("tool_1", "output_1", None),
    }
    assert "Beijing" in config(wf, "api_1")["url"]
    assert config(wf, "llm_1")["model"] == "gpt-4o"
    assert "nodes.api_1.output" in config(wf, "llm_1")["prompt"]
    assert config(wf, "tool_1")["tool"] == "slack"
    assert config(wf, "tool_1")["params"]["channel"] == "#general"
    assert "nodes.llm_1.output" in config(wf, "tool_1")["params"]["text"]


def test_chinese_loop_with_threshold_branch_then_report() -> None:
    wf = generate(
        "遍历订单列表，对每一个订单检查金额，如果超过1000元就发钉钉通知财务，否则记录日志。"
        "最后汇总成报告发到飞书"
    )
    loop = config(wf, "loop_1")
    assert loop["mode"] == "for_each" and loop["items"] == "{{ input.orders }}"
    # the loop connects to its first body node with handle "body"; body lists the body
    assert loop["body"] == ["condition_1", "tool_1"]
    assert ("loop_1", "condition_1", "body") in edges(wf)
    # a list item without the field compares as 0 instead of failing the run
    assert config(wf, "condition_1")["expression"] == "((item or {}).amount or 0) > 1000"
    assert ("condition_1", "tool_1", "true") in edges(wf)
    assert config(wf, "tool_1")["tool"] == "dingtalk"
    # what follows the loop reads its output, and continues from the loop itself
    assert ("loop_1", "llm_1", None) in edges(wf)
    assert "nodes.loop_1.output" in config(wf, "llm_1")["prompt"]
    assert config(wf, "tool_2")["tool"] == "feishu"
    schema = config(wf, "input_1")["schema"]
    jsonschema.validate({"orders": [{"amount": 1200}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"orders": []}, schema)


def test_otherwise_and_join() -> None:
    wf = generate(
        "For each customer review, classify the sentiment; if negative, email "
        "support@example.com, otherwise draft a thank-you reply"
    )
    graph = Graph(wf)
    (cond,) = [n for n in wf.nodes if n.type == "condition"]
    assert cond.config.mode == "llm_classify"  # type: ignore[union-attr]
    assert cond.config.labels == ["negative"]  # type: ignore[union-attr]
    handles = {c.source_handle: c.target for c in graph.outgoing[cond.id]}
    assert set(handles) == {"negative", "other"}
    assert wf.node(handles["negative"]).type == "tool"
    assert config(wf, handles["negative"])["params"]["to"] == ["support@example.com"]
    assert wf.node(handles["other"]).type == "llm"
    # the classification is the condition's own question: no separate llm step for it
    assert types(wf).count("llm") == 1


def test_postfix_condition_fetches_first() -> None:
    wf = generate("Send me an SMS if the bitcoin price drops below 50k")
    assert types(wf) == ["input", "api", "condition", "tool", "output"]
    assert "coingecko" in config(wf, "api_1")["url"]
    expression = config(wf, "condition_1")["expression"]
    assert expression == "(((nodes.api_1.output or {}).bitcoin or {}).usd or 0) < 50000"
    assert {("condition_1", "tool_1", "true"), ("condition_1", "output_1", "false")} <= edges(wf)
    assert config(wf, "tool_1")["tool"] == "sms"


def test_retrieval_not_found_escalates() -> None:
    wf = generate("根据知识库回答员工问题，找不到答案时转人工并发邮件给 hr@corp.com")
    assert types(wf)[:4] == ["input", "knowledge", "llm", "condition"]
    answer = config(wf, "llm_1")
    assert "nodes.knowledge_1.output" in answer["prompt"]
    assert "NOT_FOUND" in answer["system_prompt"]
    assert "NOT_FOUND" in config(wf, "condition_1")["expression"]
    true_branch = [c.target for c in wf.connections if c.source_handle == "true"]
    assert wf.node(true_branch[0]).type == "tool"  # the email, then the hand-off output
    outputs = [n for n in wf.nodes if n.type == "output"]
    assert len(outputs) == 2


def test_router_with_label_arms() -> None:
    wf = generate(
        "Classify support tickets into billing, technical or general. Billing ones go to "
        "finance by email, technical ones to Jira; the others get an automatic reply."
    )
    (cond,) = [n for n in wf.nodes if n.type == "condition"]
    assert cond.config.labels == ["billing", "technical", "general"]  # type: ignore[union-attr]
    routes = {
        (c.source_handle, wf.node(c.target).type) for c in wf.connections if c.source == cond.id
    }
    assert ("billing", "tool") in routes and ("technical", "tool") in routes
    assert ("other", "llm") in routes


def test_call_failure_is_a_condition_on_an_empty_result() -> None:
    wf = generate(
        "If the API call to our order service fails, notify the on-call engineer on DingTalk"
    )
    api = wf.node("api_1")
    assert api.on_error.strategy == "continue"  # the run goes on to the failure branch
    assert config(wf, "condition_1")["expression"] == "not nodes.api_1.output"
    assert ("condition_1", "tool_1", "true") in edges(wf)


def test_models_and_languages_go_into_configs() -> None:
    wf = generate(
        "Translate the user's text into French with claude-3-5-sonnet, then post it to #fr"
    )
    llm = config(wf, "llm_1")
    assert llm["model"] == "claude-3-5-sonnet"
    assert "French" in llm["system_prompt"] and "French" in wf.node("llm_1").name
    zh = generate("用 deepseek-chat 把这段话翻译成日语")
    assert config(zh, "llm_1")["model"] == "deepseek-chat"
    assert "日" in zh.node("llm_1").name


def test_mixed_language_prompt() -> None:
    wf = generate("Build a Slack bot 帮我总结每天的群聊消息并发邮件")
    assert {"llm", "tool"} <= set(types(wf))
    assert "email" in {config(wf, n.id)["tool"] for n in wf.nodes if n.type == "tool"}


def test_trigger_when_is_not_a_branch() -> None:
    plan = read_plan("When a new email arrives, summarize it and post the summary to Slack")
    assert not any(isinstance(i, Branch | Loop) for i in plan.walk())
    assert plan.sources == ["email"]
    wf = generate("When a new email arrives, summarize it and post the summary to Slack")
    assert wf.node("input_1").config.input_type == "email"  # type: ignore[union-attr]


def test_schedule_is_not_a_loop() -> None:
    plan = read_plan("Every morning, fetch the weather and send it to Feishu")
    assert plan.schedule and not any(isinstance(i, Loop) for i in plan.walk())


def test_complexity_changes_a_composed_graph() -> None:
    prompt = "Translate the text into English, then summarize it and send it to Slack"
    simple = generate(prompt, complexity="simple")
    standard = generate(prompt)
    advanced = generate(prompt, complexity="advanced")
    count = [types(w).count("llm") for w in (simple, standard, advanced)]
    assert count == [1, 2, 3]  # merged; one per step; plus a review pass
    assert "Translate" in simple.node("llm_1").name and "Summarize" in simple.node("llm_1").name


def test_preferred_integrations_add_tools() -> None:
    wf = generate("Summarize the article", integrations=["slack", "钉钉"])
    tools = [config(wf, n.id)["tool"] for n in wf.nodes if n.type == "tool"]
    assert tools == ["slack", "dingtalk"]


@pytest.mark.parametrize(
    "prompt",
    [
        "For each order over $1000 in the list, notify finance on Slack",
        "If the score is above 80, email sales; if it is between 50 and 80, post to Slack",
        "Go through every row and if it is urgent text me, otherwise ignore it. "
        "Finally email a report",
        "对每篇文章生成摘要，如果是负面的就发钉钉，否则发飞书，然后汇总成周报",
        "Check whether the contract is risky; if so, email legal@example.com, if not, archive it",
        "当接口调用失败时重试并发邮件通知运维，否则把结果写入数据库",
    ],
)
def test_tricky_shapes_stay_valid(prompt: str) -> None:
    wf = generate(prompt)  # validate_workflow inside
    for node in wf.nodes:
        if node.type == "loop":
            assert node.config.body  # type: ignore[union-attr]


def test_after_a_branch_the_next_step_reads_whichever_arm_ran() -> None:
    from pilot_shared.templating import render

    wf = generate("If the review is negative, draft an apology, otherwise write a thank-you note")
    value = wf.node("output_1").config.mapping["result"]  # type: ignore[union-attr]
    # the arm not taken is skipped: its node is absent from the context, not an error
    assert render(value, {"nodes": {"llm_2": {"output": "thanks!"}}}) == "thanks!"
    assert render(value, {"nodes": {"llm_1": {"output": "sorry"}}}) == "sorry"
