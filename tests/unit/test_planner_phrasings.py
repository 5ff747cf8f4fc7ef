"""Phrasings found failing on fresh, unseen prompt batches (issue #3) and read right now:
storage tools read from, models named apart from their step, labels followed by what to
do, states that select loop items, "时"/"立即" consequences, ranking versus filtering, a
hand-off read before later steps (the graph must stay valid)."""

from __future__ import annotations

from typing import Any

import pytest

from pilot_generator.generator import WorkflowGenerator
from pilot_planner.actions import labels_of
from pilot_planner.offline import OfflinePlanner
from pilot_shared.contracts import (
    ConditionNode,
    InputNode,
    LLMNode,
    LoopNode,
    ToolNode,
    UserPreferences,
    Workflow,
)
from pilot_shared.graph import Graph, validate_workflow

planner = OfflinePlanner()
generator = WorkflowGenerator()


def generate(prompt: str) -> Workflow:
    blueprint = planner.plan_now(prompt, UserPreferences())
    workflow = generator.generate_workflow(blueprint, prompt=prompt)
    validate_workflow(workflow)
    return workflow


def tools(wf: Workflow) -> list[str]:
    return [n.config.tool for n in wf.nodes if isinstance(n, ToolNode)]


def models(wf: Workflow) -> list[str]:
    return [n.config.model for n in wf.nodes if isinstance(n, LLMNode)]


def types(wf: Workflow) -> set[str]:
    return {n.type for n in wf.nodes}


def tool_params(wf: Workflow, tool: str) -> dict[str, Any]:
    (node,) = [n for n in wf.nodes if isinstance(n, ToolNode) and n.config.tool == tool]
    return dict(node.config.params)


@pytest.mark.parametrize(
    ("prompt", "tool"),
    [
        ("读取数据库中的销售记录，分析趋势，并给出改进建议", "database"),
        ("每周一把上周的Jira工单统计一下，生成报告后发到 Slack", "jira"),
    ],
)
def test_a_storage_tool_read_from_is_a_query_step_first(prompt: str, tool: str) -> None:
    wf = generate(prompt)
    assert tool_params(wf, tool)["action"] == "query"
    graph = Graph(wf)
    (read,) = [n for n in wf.nodes if isinstance(n, ToolNode) and n.config.tool == tool]
    (llm, *_) = [n for n in wf.nodes if isinstance(n, LLMNode)]
    assert read.id in graph.ancestors(llm.id)


def test_items_read_from_a_tool_are_read_before_the_loop() -> None:
    wf = generate("Go through all tasks in Notion; overdue ones get a Slack reminder")
    (loop,) = [n for n in wf.nodes if isinstance(n, LoopNode)]
    (read,) = [n for n in wf.nodes if isinstance(n, ToolNode) and n.config.tool == "notion"]
    assert read.id not in loop.config.body
    assert any(isinstance(n, ConditionNode) for n in wf.nodes)  # "overdue ones"


def test_a_trigger_on_a_storage_tool_is_where_runs_come_from() -> None:
    wf = generate(
        "Whenever a new row is added to Google Sheets, send a welcome SMS to the phone number"
    )
    (node,) = [n for n in wf.nodes if isinstance(n, InputNode)]
    assert node.config.input_type == "google_sheets"
    assert "sms" in tools(wf)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (
            "Use qwen-max to write a product description, and then use deepseek-chat to "
            "check it for errors",
            ["qwen-max", "deepseek-chat"],
        ),
        ("Answer questions about the product from the documentation, using qwen-max", ["qwen-max"]),
        (
            "Use gpt-4 to classify the lead as hot, warm or cold; hot leads go to sales on "
            "Slack, warm ones get a follow-up email",
            ["gpt-4"],
        ),
    ],
)
def test_each_named_model_runs_an_llm_step(prompt: str, expected: list[str]) -> None:
    assert set(expected) <= set(models(generate(prompt)))


def test_labels_followed_by_what_to_do_fill_their_arms() -> None:
    assert labels_of("按紧急程度分类：紧急的打电话，一般的发邮件，其他的自动回复") == [
        "紧急",
        "一般",
    ]
    wf = generate("把客户投诉按紧急程度分类：紧急的打电话，一般的发邮件，其他的自动回复")
    assert {"phone", "email"} <= set(tools(wf)) and "llm" in types(wf)
    wf = generate(
        "用户提问后，判断问题类型：技术问题查技术文档回答，商务问题转给销售的钉钉，其他问题直接由AI回答"
    )
    assert {"knowledge", "condition"} <= types(wf) and "dingtalk" in tools(wf)
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    assert len({c.source_handle for c in Graph(wf).outgoing[cond.id]}) == 3


@pytest.mark.parametrize(
    "prompt",
    [
        "遍历待办事项，已过期的用 Telegram 提醒我",
        "遍历所有未完成的任务，截止日期在明天之前的发钉钉提醒负责人",
        "监控网站是否正常，宕机时给运维发短信和邮件",
        "监控美元汇率，一旦超过7.3立即邮件通知我",
        "Monitor the website https://example.com every 5 minutes and email ops if it is down",
        "If the score is above 80, then notify sales on Slack",
    ],
)
def test_states_and_consequences_make_a_branch_with_its_action(prompt: str) -> None:
    wf = generate(prompt)
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    graph = Graph(wf)
    assert any(isinstance(wf.node(c.target), ToolNode) for c in graph.outgoing[cond.id])


def test_choosing_the_top_few_is_a_ranking_not_a_filter() -> None:
    wf = generate("在网上搜索最近的AI新闻，挑出最重要的五条，发到企业微信")
    assert "condition" not in types(wf) and "llm" in types(wf)
    assert tools(wf) == ["web_search", "wecom"]


def test_the_ones_above_a_score_are_a_threshold_on_it() -> None:
    wf = generate(
        "For each applicant in the list, score their CV with gpt-4o and email the ones "
        "above 8 to hr@acme.io"
    )
    assert models(wf) == ["gpt-4o"]
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    assert "8" in (cond.config.expression or "")


def test_a_hand_off_before_later_steps_leaves_no_step_unreachable() -> None:
    wf = generate(
        "Pls build a bot to answer pricing questions from the FAQ, escalate to a human if it "
        "can't answer"
    )
    assert {"knowledge", "llm", "condition"} <= types(wf)


@pytest.mark.parametrize(
    ("prompt", "kind"),
    [
        ("Answer questions about our API docs; unless the answer is in the docs, say so", "api"),
        ("查询知识库，找不到时调用搜索引擎，然后总结答案", "api"),
    ],
)
def test_docs_and_search_engines_are_not_http_calls(prompt: str, kind: str) -> None:
    assert kind not in types(generate(prompt))


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("对每一篇新闻稿，提取关键词并生成摘要", {"loop", "llm"}),  # 新闻稿 is not "a new …"
        ("帮我建一个根据产品说明书回答客户问题的机器人", {"knowledge", "llm"}),
        (
            "Make an FAQ answering bot based on the help center, and hand off to a human "
            "agent when it is unsure",
            {"knowledge", "llm", "condition"},
        ),
        (
            "当监控接口返回错误时，打电话给值班工程师，并在钉钉群里同步",
            {"api", "condition", "tool"},
        ),
        ("逐个检查候选人的简历，符合岗位要求的发面试邀请邮件", {"loop", "condition", "tool"}),
        ("把客户上传的合同逐条审阅，有风险的条款标记出来，最后生成审阅报告", {"loop", "condition"}),
    ],
)
def test_more_phrasings_from_unseen_batches(prompt: str, expected: set[str]) -> None:
    assert expected <= types(generate(prompt))


def test_a_label_list_ends_where_routing_begins() -> None:
    text = "into billing, bug or how-to, and route bugs to Jira and billing questions to a@b.com"
    assert labels_of(text) == ["billing", "bug", "how_to"]


def test_a_web_search_runs_before_what_uses_its_results() -> None:
    wf = generate("Search the web for competitor pricing pages and compile the prices into a table")
    (search,) = [n for n in wf.nodes if isinstance(n, ToolNode)]
    (llm,) = [n for n in wf.nodes if isinstance(n, LLMNode)]
    assert search.config.tool == "web_search" and search.id in Graph(wf).ancestors(llm.id)


@pytest.mark.parametrize(
    ("prompt", "expected", "absent"),
    [
        ("Tell me a fun fact about space", {"llm"}, {"tool"}),  # a request, not a notification
        ("Draft onboarding emails for each new hire in the HR spreadsheet", {"loop"}, set()),
        ("当库存接口显示某商品缺货时，自动调用采购接口补货", {"condition", "api"}, set()),
        ("做一个法律咨询助手，依据民法典条文回答用户问题", {"knowledge"}, set()),
        (
            "Every morning fetch the top stories from Hacker News, pick the 5 most relevant "
            "to AI, and post them to Slack",
            {"api", "llm", "tool"},
            {"condition"},
        ),
    ],
)
def test_phrasings_of_a_later_unseen_batch(
    prompt: str, expected: set[str], absent: set[str]
) -> None:
    got = types(generate(prompt))
    assert expected <= got and not absent & got


# --- round 2 (issue #3): terse ops and e-commerce phrasings ---------------------------


def branch_arms(wf: Workflow) -> int:
    graph = Graph(wf)
    return max(
        (
            len({c.source_handle for c in graph.outgoing.get(n.id, [])} - {"error"})
            for n in wf.nodes
            if isinstance(n, ConditionNode)
        ),
        default=0,
    )


@pytest.mark.parametrize(
    ("prompt", "tool"),
    [
        ("cpu load > 95% -> wecom alert", "wecom"),
        ("critical alerts -> notify the sre channel on discord", "discord"),
        ("negative feedback (1 star) → write an apology and email it", "email"),
    ],
)
def test_a_state_before_an_arrow_is_a_branch_leading_to_its_step(prompt: str, tool: str) -> None:
    wf = generate(prompt)
    (condition,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    (sink,) = [n for n in wf.nodes if isinstance(n, ToolNode) and n.config.tool == tool]
    assert condition.id in Graph(wf).ancestors(sink.id)


def test_an_event_before_an_arrow_is_the_trigger_not_a_branch() -> None:
    wf = generate("new signup -> welcome email to the user")
    assert "condition" not in types(wf) and tools(wf) == ["email"]


def test_paging_someone_is_the_consequence_of_a_test() -> None:
    wf = generate("if the queue length exceeds 1000 page the oncall engineer via sms")
    assert {"condition", "tool"} <= types(wf) and tools(wf) == ["sms"]


@pytest.mark.parametrize(
    "prompt",
    [
        "fetch the build log and ask the LLM what went wrong",
        "for each crashed job, pull its logs and diagnose the failure",
    ],
)
def test_the_model_named_as_who_does_a_step_is_an_llm_step(prompt: str) -> None:
    assert "llm" in types(generate(prompt))


@pytest.mark.parametrize(
    ("prompt", "read"),
    [("urgent bug -> jira ticket", False), ("pull the open tickets from Jira and summarize", True)],
)
def test_a_record_named_after_a_storage_tool_is_made_there(prompt: str, read: bool) -> None:
    from pilot_planner.actions import detect

    (jira,) = [a for a in detect(prompt, 0).actions if a.op == "jira"]
    assert bool(jira.params.get("read")) is read


def test_a_mailbox_is_where_mail_is_sent() -> None:
    assert tools(generate("forward the complaint to the billing mailbox")) == ["email"]


def test_a_currency_pair_is_an_exchange_rate_call() -> None:
    wf = generate("get the GBP/JPY rate and reprice our catalogue")
    assert "api" in types(wf)
    assert "open.er-api.com" in str([n.config for n in wf.nodes if n.type == "api"])


@pytest.mark.parametrize(
    "prompt",
    [
        "look up the SOP for this alert and tell the engineer what to do",
        "按照值班 runbook 给出处理步骤",
    ],
)
def test_runbooks_and_sops_are_looked_up(prompt: str) -> None:
    assert "knowledge" in types(generate(prompt))


def test_something_showing_up_is_the_test_of_a_chinese_branch() -> None:
    wf = generate("监控日志中出现 timeout 字样就发短信告警")
    assert "condition" in types(wf) and tools(wf) == ["sms"]


def test_is_it_or_not_is_a_yes_no_branch_with_both_arms() -> None:
    wf = generate("收到投诉后判断是不是质量问题，是的话发邮件给质检部，不是就直接回复客户")
    assert branch_arms(wf) >= 2 and "email" in tools(wf)


def test_a_new_item_arriving_is_a_trigger_not_a_branch() -> None:
    wf = generate("有新的订单就发短信通知我")
    assert "condition" not in types(wf) and tools(wf) == ["sms"]


# --- round 2 (issue #3): long, polite marketing / HR / finance / education phrasings ------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        # an inflected "checks whether", against a store read first
        (
            "Loop over each order, checks if the address exists in our database, if not "
            "email support",
            {"loop", "condition"},
        ),
        ("track coverage of our product across the web and email me a digest", {"tool", "llm"}),
        ("send me a morning briefing on Slack with the weather", {"llm"}),
        ("请用 qwen-max 批改学生的英语作文", {"llm"}),
        ("每周在飞书群发一篇技术分享帖", {"llm"}),
        ("answer buyers' questions using the product brochure PDF", {"knowledge", "llm"}),
        ("根据价目表回答客户的报价问题", {"knowledge", "llm"}),
        ("I'd like a bot that helps students with questions about enrolment", {"llm"}),
        ("如果退款金额超过 1000，请邮件通知财务主管", {"condition", "tool"}),
        # a lookup with no answering verb still needs a step that reads the passages
        ("look up the escalation policy in the wiki and post it to #oncall", {"knowledge", "llm"}),
    ],
)
def test_phrasings_of_long_polite_requests(prompt: str, expected: set[str]) -> None:
    assert expected <= types(generate(prompt))


def test_who_asks_is_not_what_is_asked() -> None:
    from pilot_planner.actions import _llm_ops

    assert _llm_ops("As a data analyst I need every new signup posted to Slack") == []


def test_a_website_form_is_where_runs_come_from_not_a_page_to_fetch() -> None:
    wf = generate("when someone fills in the website form, save it to the database")
    assert "api" not in types(wf) and tools(wf) == ["database"]


def test_a_chinese_label_list_cut_at_its_commas_still_routes() -> None:
    wf = generate("把工单分成咨询、投诉、其他三类，投诉的发邮件给主管")
    assert branch_arms(wf) >= 3 and tools(wf) == ["email"]


def test_forwarding_to_an_office_without_a_channel_is_an_email() -> None:
    assert "email" in tools(generate("classify each request and forward urgent ones to the office"))


def test_splitting_into_parts_is_not_a_classification() -> None:
    from pilot_planner.actions import _llm_ops

    assert "classify" not in {op for _, op in _llm_ops("把文章分成三段")}


@pytest.mark.parametrize(
    "prompt",
    [
        "check the weather for our 3 warehouses and tell me where to send the tarps",
        "Get the weather in London, Paris and Berlin, then say which is warmest",
        "查一下各门店所在城市的天气，给出备货建议",
    ],
)
def test_a_fetch_for_several_places_runs_once_per_place(prompt: str) -> None:
    wf = generate(prompt)
    (loop,) = [n for n in wf.nodes if isinstance(n, LoopNode)]
    (api,) = [n for n in wf.nodes if n.type == "api"]
    assert api.id in loop.config.body and "{{ item }}" in str(api.config)


@pytest.mark.parametrize(
    "prompt", ["get the weather in Paris and email me", "调用地图接口计算两个地址之间的距离"]
)
def test_one_place_or_a_pair_of_addresses_is_not_a_loop(prompt: str) -> None:
    assert "loop" not in types(generate(prompt))


def test_a_check_that_reads_the_faq_needs_no_answering_step() -> None:
    wf = generate(
        "Check whether the user's question is covered by the FAQ; if not, post it to Slack"
    )
    assert "llm" not in types(wf)


# --- round 3: routes without a classify verb, sign-offs, watched pages, time bounds -------


@pytest.mark.parametrize(
    "prompt",
    [
        "Visitor messages: billing questions go to finance by email, setup questions get "
        "answered from the install guide, anything else goes to Telegram",
        "来电工单：问发票的转财务邮箱，问安装的用安装手册回答，其余的转人工",
        "ticket router: hardware / software / access -> three different replies",
    ],
)
def test_a_route_by_kinds_without_a_classify_verb_has_one_arm_per_kind(prompt: str) -> None:
    assert branch_arms(generate(prompt)) >= 3


def test_a_kind_named_first_is_not_a_route_when_nothing_else_is_routed() -> None:
    assert "condition" not in types(generate("billing questions get a short summary by AI"))


@pytest.mark.parametrize(
    "prompt",
    [
        "Write the weekly investor update and post it to Slack once the CFO signs off",
        "draft a reply to each vendor email, then wait for my manager to approve before sending",
        "为每封催款邮件生成回复，财务审批通过后再发到企业微信",
    ],
)
def test_a_sign_off_is_a_test_whose_yes_arm_sends(prompt: str) -> None:
    wf = generate(prompt)
    cond = next(n for n in wf.nodes if isinstance(n, ConditionNode))
    sends = {c.target for c in Graph(wf).outgoing[cond.id]}
    assert any(n.id in sends for n in wf.nodes if isinstance(n, ToolNode))


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("watch the vendor's status page hourly and ping me on Slack if it changes", {"api"}),
        (
            "Track the embassy visa appointment page and email me when a new slot appears",
            {"api", "condition"},
        ),
        ("监控竞品官网的价格页面，有变化就发飞书", {"api"}),
        ("每周检查一次域名的 SSL cert 到期情况", {"api"}),
        ("每天检查网关证书到期时间，发企业微信", {"api"}),
        (
            "every Friday search PubMed for new trials on migraine and email me a digest",
            {"api", "llm"},
        ),
    ],
)
def test_a_watched_page_or_public_search_is_fetched(prompt: str, expected: set[str]) -> None:
    assert expected <= types(generate(prompt))


@pytest.mark.parametrize(
    "prompt",
    [
        "for each contract with a renewal within 14 days, message the account owner on Feishu",
        "for every order still pending after 72 hours, text the buyer",
        "遍历会员名单，10 天内到期的会员发短信提醒续费",
        "Text the tenants whose rent is more than 5 days late",
        "数据库里查一下本周的构建记录，有测试失败的就在钉钉群里告警",
    ],
)
def test_a_bound_on_items_is_a_condition(prompt: str) -> None:
    wf = generate(prompt)
    assert "condition" in types(wf) and tools(wf)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("mark each lab report against the marking rubric and give feedback", {"knowledge"}),
        ("answer tenant questions from our house rules info sheet", {"knowledge"}),
        ("对照我们的合规条款库审查这份采购合同", {"knowledge"}),
        ("按评分标准给每份面试记录打分", {"knowledge"}),
        ("format each reference as an MLA citation", {"llm"}),
        ("把本周的客户反馈整理好发到飞书群", {"llm"}),
    ],
)
def test_references_and_tidying_steps(prompt: str, expected: set[str]) -> None:
    assert expected <= types(generate(prompt))


def test_a_phrase_with_de_hua_inside_a_word_is_not_a_condition() -> None:
    assert "condition" not in types(generate("根据客服的话术库，为用户留言写回复"))


def test_a_new_record_in_the_database_starts_the_run() -> None:
    wf = generate("新订单录入数据库时，金额超过一万就通知销售总监的钉钉")
    (inp,) = [n for n in wf.nodes if isinstance(n, InputNode)]
    assert inp.config.input_type == "database" and "condition" in types(wf)


def test_a_mail_service_named_for_the_mail_is_email() -> None:
    wf = generate("go through my gmail from today and tell me which messages need a reply")
    assert "email" in {
        *tools(wf),
        *(n.config.input_type for n in wf.nodes if isinstance(n, InputNode)),
    }


def test_the_sheet_rows_are_read_from_is_a_spreadsheet() -> None:
    wf = generate("every evening pull the new sign-ups from the sheet and email them to me")
    assert "google_sheets" in tools(wf)
    assert "google_sheets" not in tools(generate("answer questions from our fact sheet"))


# --- round 4: general mechanisms (lexicons by kind, product names, routes, tiers) -------


def handles_of(wf: Workflow) -> list[set[str | None]]:
    graph = Graph(wf)
    return [
        {c.source_handle for c in graph.outgoing[n.id]} | set(n.config.handles())
        for n in wf.nodes
        if isinstance(n, ConditionNode)
    ]


@pytest.mark.parametrize(
    "prompt",
    [
        "Plan a weekend menu for a family of four and email it to me",
        "brainstorm ten podcast titles every Monday and save them to Notion",
        "每周一出 5 个短视频选题，存到飞书",
        "看完明天的日程，在钉钉上告诉我要带什么",
        "Research every competitor on the web and write a one-pager on each",
    ],
)
def test_planning_and_ideation_verbs_are_llm_steps(prompt: str) -> None:
    assert "llm" in types(generate(prompt))


@pytest.mark.parametrize(
    ("prompt", "model"),
    [
        ("用 yi-large 翻译这段产品介绍", "yi-large"),
        ("draft the release notes with moonshot-v1-8k", "moonshot-v1-8k"),
        ("summarize the call transcript with doubao-pro-32k", "doubao-pro-32k"),
        ("use acme-3 to summarize the meeting notes", "acme-3"),
    ],
)
def test_unknown_vendor_version_names_are_models(prompt: str, model: str) -> None:
    wf = generate(prompt)
    assert model in models(wf)
    assert "condition" not in types(wf)  # "v1-8k" is a name, not a band of numbers


def test_versioned_names_that_are_not_models_stay_text() -> None:
    assert set(models(generate("rewrite this page using utf-8 and post it to Slack"))) == {
        "gpt-4o-mini"
    }


@pytest.mark.parametrize(
    ("prompt", "tool"),
    [
        ("If this month's spend in Airtable passes $2,000, text me", "google_sheets"),
        ("Read my Outlook calendar every morning and post today's meetings to Slack", "calendar"),
        ("For each deal in Salesforce, write a follow-up email", "database"),
    ],
)
def test_products_name_the_integration_they_are(prompt: str, tool: str) -> None:
    assert tool in tools(generate(prompt))


def test_a_store_named_in_a_test_is_read_first() -> None:
    wf = generate("当表格里的本月差旅费超过 5000 元就发短信提醒我")
    assert tool_params(wf, "google_sheets")["action"] == "query"
    assert "condition" in types(wf) and "sms" in tools(wf)


@pytest.mark.parametrize(
    ("prompt", "arms"),
    [
        (
            "If the ticket is a bug, open a Jira issue; if it's a feature request, log it in "
            "Notion; otherwise reply with a thank-you",
            {"bug", "feature_request"},
        ),
        ("留言是广告就删掉，是报名就登记到表格，其他的忽略", {"广告", "报名"}),
    ],
)
def test_tests_of_what_kind_in_a_row_are_one_route(prompt: str, arms: set[str]) -> None:
    wf = generate(prompt)
    (handles,) = handles_of(wf)
    assert arms | {"other"} <= handles


@pytest.mark.parametrize(
    ("prompt", "bands"),
    [
        (
            "Orders under $50 ship standard, $50 to $200 get a Slack note to ops, above $200 "
            "the manager gets an email",
            {"under_50", "50_to_200", "over_200"},
        ),
        (
            "成绩 90 分以上发表扬短信，60 到 90 分发邮件鼓励，60 分以下通知班主任",
            {"from_90", "60_to_90", "up_to_60"},
        ),
    ],
)
def test_bands_of_one_number_are_one_condition_with_cases(prompt: str, bands: set[str]) -> None:
    wf = generate(prompt)
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    assert cond.config.mode == "cases" and cond.config.cases is not None
    assert {c.handle for c in cond.config.cases} == bands
    assert any(" and " in c.when for c in cond.config.cases)  # the middle band is a range


@pytest.mark.parametrize(
    "prompt",
    [
        "日活比上周下降了 15% 以上就在钉钉告警运营",
        "if the queue length tops 500, page the on-call by SMS",
        "For every order today call the shipping API; anything flagged late, email the "
        "customer an apology",
        "逐笔核对本月流水，金额不符的发邮件给财务",
        "Check each signup's company size; large companies go to the founders on Slack, small "
        "ones get the onboarding email",
    ],
)
def test_changes_states_and_kinds_said_plainly_are_tests(prompt: str) -> None:
    assert "condition" in types(generate(prompt))


@pytest.mark.parametrize(
    "prompt", ["逐笔核对本月流水，金额不符的发邮件给财务", "对设备表里的每一台设备生成巡检报告"]
)
def test_any_measure_word_makes_a_loop(prompt: str) -> None:
    assert "loop" in types(generate(prompt))


@pytest.mark.parametrize(
    "prompt",
    [
        "根据公司整理的报销须知回答员工问题",
        "对照编码规范检查这段代码",
        "answer analysts' questions using the data dictionary",
    ],
)
def test_references_by_kind_are_looked_up(prompt: str) -> None:
    assert "knowledge" in types(generate(prompt))


def test_an_aside_in_brackets_is_not_a_label() -> None:
    assert labels_of("classify as urgent (outage, data loss), normal or low") == [
        "urgent",
        "normal",
        "low",
    ]
    wf = generate(
        "Sort bug reports: classify as urgent (outage, data loss), normal or low. Urgent ones "
        "text the on-call engineer, normal ones go to Jira"
    )
    assert {"sms", "jira"} <= set(tools(wf))
    (handles,) = handles_of(wf)
    assert {"urgent", "normal", "low"} <= handles


def test_routing_words_after_a_label_list_end_it() -> None:
    # "by webhook, warnings go to Slack": "by" opens no label list when kinds are routed
    wf = generate(
        "Sort incoming alerts: critical ones go out by webhook, warnings go to Slack, "
        "info gets dropped"
    )
    assert {"webhook", "slack"} <= set(tools(wf))


@pytest.mark.parametrize(
    ("prompt", "tool"),
    [
        ("When CPU is above 90%, trigger PagerDuty", "webhook"),
        (
            "run a SQL query on the Postgres orders table every night and email me the totals",
            "database",
        ),
        ("Look up each supplier on Bing and save a summary to Notion", "web_search"),
        ("用百度搜索最新的行业新闻，总结后发到钉钉", "web_search"),
        ("send the weekly newsletter through Mailchimp", "email"),
        ("text each driver their route via Twilio", "sms"),
        (
            "for each prospect in the CSV, look them up on LinkedIn and draft a short intro",
            "web_search",
        ),
        ("每天 9 点检查库存表，库存低于安全库存的发企业微信给采购", "google_sheets"),
        ("学生提交作业后，用 AI 批改打分，低于 60 分的通知家长", "email"),
        ("read the fridge sensors every 10 minutes; above 8°C, call the store manager", "phone"),
        ("pls watch our status page n if its red for >5 min ping #ops", "slack"),
    ],
)
def test_services_and_people_by_name(prompt: str, tool: str) -> None:
    assert tool in tools(generate(prompt))


def test_a_list_in_brackets_is_the_label_list() -> None:
    assert labels_of("classify by product area (billing, api, dashboard)") == [
        "billing",
        "api",
        "dashboard",
    ]


@pytest.mark.parametrize(
    "prompt",
    [
        "新员工入职时，根据员工手册生成一份入职清单，发到他的飞书",
        "Give me a morning briefing: weather and the top 5 HN stories, sent to Telegram",
        "帮我把这篇英文论文翻成中文，再用通俗的话给高中生讲一遍",
    ],
)
def test_events_rankings_and_plain_words_are_not_tests(prompt: str) -> None:
    assert "condition" not in types(generate(prompt))


def test_no_x_is_the_other_arm_and_rain_is_read_from_the_forecast() -> None:
    wf = generate("如果明天有雨就提醒我带伞，没雨就不用管")
    assert len([n for n in wf.nodes if isinstance(n, ConditionNode)]) == 1
    assert "api" in types(wf)


@pytest.mark.parametrize(
    "prompt",
    ["email each overdue customer a dunning letter", "给每位候选人写一封录用通知书"],
)
def test_letters_are_written(prompt: str) -> None:
    assert "llm" in types(generate(prompt))


@pytest.mark.parametrize(
    "prompt",
    [
        "Write one LinkedIn post per blog article in the RSS feed",
        "Create a Jira ticket per failing test in the CI report",
    ],
)
def test_one_thing_per_item_is_a_loop(prompt: str) -> None:
    assert "loop" in types(generate(prompt))


def test_a_price_per_unit_is_no_loop() -> None:
    assert "loop" not in types(generate("price is $5 per unit, alert me if it goes over $7"))


def test_a_band_without_a_unit_between_two_tests_is_a_case() -> None:
    wf = generate(
        "员工提交报销单后，金额 500 以下自动通过，500 到 2000 经理审批，2000 以上总监审批"
    )
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    assert {c.handle for c in cond.config.cases or []} == {"up_to_500", "500_to_2000", "from_2000"}


@pytest.mark.parametrize(
    ("prompt", "arms"),
    [
        (
            "每天从企业微信群里收集客户反馈，判断是功能建议、bug 还是咨询，"
            "分别记录到 Notion、Jira 和表格",
            {"功能建议": "notion", "bug": "jira", "咨询": "google_sheets"},
        ),
        (
            "Sort feedback into praise, bugs or questions, and post them to Slack, Jira and "
            "email respectively",
            {"praise": "slack", "bugs": "jira", "questions": "email"},
        ),
    ],
)
def test_respectively_gives_each_label_its_place(prompt: str, arms: dict[str, str]) -> None:
    wf = generate(prompt)
    graph = Graph(wf)
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    for c in graph.outgoing[cond.id]:
        if c.source_handle in arms:
            target = wf.node(c.target)
            assert isinstance(target, ToolNode) and target.config.tool == arms[c.source_handle]


def test_a_model_named_alone_in_an_arrow_chain_is_its_llm_step() -> None:
    wf = generate("new PR opened -> run gpt-4o review -> if it finds secrets ping #security")
    assert "gpt-4o" in models(wf)


def test_paging_the_oncall_alerts_a_person() -> None:
    assert tools(generate("error rate above 5% -> page oncall")) == ["email"]


def test_a_count_after_a_label_list_and_what_follows_it_are_no_labels() -> None:
    assert labels_of("负面的再细分成质量、物流、服务三类，各自统计数量") == ["质量", "物流", "服务"]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("When someone buys from my Etsy shop, thank them personally by email", {"llm"}),
        ("post the action items from each transcript to our Asana project", {"tool"}),
        ("问诊机器人：根据症状推荐科室，遇到胸痛、昏迷等急症直接提示拨打 120", {"condition"}),
        ("如果出现乱码、空白或报错就发邮件给我", {"condition"}),
    ],
)
def test_thanks_trackers_and_lists_inside_a_test(prompt: str, expected: set[str]) -> None:
    assert expected <= types(generate(prompt))


@pytest.mark.parametrize(
    "prompt",
    [
        "为每个新注册用户发送欢迎邮件，7 天内没有登录的再发一封召回邮件",
        "Go through our subscribers; users who haven't opened an email in the last 90 days get "
        "a win-back email",
    ],
)
def test_something_not_done_for_a_while_is_a_test(prompt: str) -> None:
    assert "condition" in types(generate(prompt))


def test_air_quality_is_fetched() -> None:
    wf = generate("Build a Telegram bot that tells users the air quality in their city")
    assert "api" in types(wf)


def test_a_fallback_model_is_no_step_of_its_own() -> None:
    wf = generate("Answer tenant questions with qwen-max, fall back to glm-4; post to Slack")
    assert models(wf) == ["qwen-max"]


def test_a_preferred_integration_after_a_hand_off_is_still_reachable() -> None:
    prompt = "Auto-moderate forum posts and send flagged ones for manual review"
    prefs = UserPreferences(complexity="advanced", integrations=["slack"])
    wf = generator.generate_workflow(planner.plan_now(prompt, prefs), prompt=prompt)
    validate_workflow(wf)  # no step left unreachable
    assert "slack" in tools(wf)


@pytest.mark.parametrize(
    ("prompt", "tool"),
    [
        ("Loop over the attendee list and send each person their personalized schedule", "email"),
        ("Send the survey link to everyone on the mailing list", "email"),
        ("所有超过 3 天未发货的订单，逐一联系买家说明原因", "email"),
        ("when the nightly build fails, page whoever merged last", "email"),
    ],
)
def test_people_reached_without_a_channel_get_an_email(prompt: str, tool: str) -> None:
    assert tool in tools(generate(prompt))


@pytest.mark.parametrize(
    "prompt",
    [
        "Go over last month's invoices one at a time and flag any with a missing PO number",
        "For all open tickets older than a week, nudge the assignee on Slack",
    ],
)
def test_a_filter_in_a_loop_and_a_spelled_span_are_tests(prompt: str) -> None:
    assert "condition" in types(generate(prompt))


def test_word_bounds_hold_for_every_alternative() -> None:
    from pilot_planner.lexicon import en, rx

    assert rx(en("alt|script")).search("prescription refills") is None


def test_whether_it_is_one_of_several_kinds_is_a_route() -> None:
    wf = generate(
        "when a tenant reports an issue, figure out whether it's plumbing, electrical or other, "
        "text the right contractor and log the job in our maintenance sheet"
    )
    (handles,) = handles_of(wf)
    assert {"plumbing", "electrical"} <= handles
    assert {"sms", "google_sheets"} <= set(tools(wf))


def test_kinds_before_arrows_after_a_classification_are_its_arms() -> None:
    wf = generate(
        "triage patient messages by urgency; urgent → nurse on call via phone, routine → reply "
        "with the booking link, refills → pharmacy by email"
    )
    (handles,) = handles_of(wf)
    assert {"urgent", "routine", "refills"} <= handles
    assert {"phone", "email"} <= set(tools(wf))


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("When a deal closes, generate the contract from our template and notify finance", "tool"),
        ("用户上传发票后识别发票信息，可疑的提交人工复核", "condition"),
    ],
)
def test_departments_and_manual_checks(prompt: str, expected: str) -> None:
    assert expected in types(generate(prompt))


def test_a_scale_in_brackets_is_no_test_and_a_call_back_is_a_phone_call() -> None:
    wf = generate("收到差评后先判断严重程度（1-5 分），4 分及以上的电话回访，3 分以下的发道歉邮件")
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    assert cond.config.mode == "cases"
    assert {"phone", "email"} <= set(tools(wf))


def test_kinds_with_an_aside_in_brackets_still_route() -> None:
    wf = generate(
        "Collect NPS responses daily; detractors (0-6) get a follow-up email from support, "
        "passives (7-8) get a thank-you email, promoters (9-10) get a referral ask on Slack"
    )
    (handles,) = handles_of(wf)
    assert {"detractors", "passives", "promoters"} <= handles


def test_emailing_someone_is_an_email() -> None:
    assert "email" in tools(generate("reorder the low items by emailing the supplier"))


def test_tiers_named_by_level_and_people_by_title() -> None:
    assert labels_of("把会员按消费金额分成高、中、低三档") == ["高", "中", "低"]
    wf = generate("每季度末汇总各部门的预算执行情况，超支的部门单独列出来，生成报告发给 CFO")
    assert "condition" in types(wf) and "email" in tools(wf)


@pytest.mark.parametrize(
    ("prompt", "tool"),
    [
        ("every friday email anyone who hasn't submitted their timesheet", "email"),
        ("remind the ones without a receipt on Slack", "slack"),
        ("text customers whose orders are still pending", "sms"),
    ],
)
def test_a_step_on_the_items_in_a_state_runs_in_a_test(prompt: str, tool: str) -> None:
    wf = generate(prompt)
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    graph = Graph(wf)
    sends = [n for n in wf.nodes if isinstance(n, ToolNode) and n.config.tool == tool]
    assert sends and cond.id in graph.ancestors(sends[0].id)


@pytest.mark.parametrize(
    ("prompt", "expected", "absent"),
    [
        ("every Sunday look at my Strava runs and suggest next week's plan", "api", "condition"),
        ("商品上新时，自动生成三个平台的文案，发到飞书", "llm", "condition"),
    ],
)
def test_services_read_from_and_events_said_with_shi(
    prompt: str, expected: str, absent: str
) -> None:
    got = types(generate(prompt))
    assert expected in got and absent not in got


def test_that_person_is_a_person_to_notify() -> None:
    wf = generate("When a lead's score goes above 80, assign them to a rep and notify that rep")
    assert "email" in tools(wf)


def test_star_bands_route_and_new_items_after_a_fetch_loop() -> None:
    wf = generate(
        "Auto-reply to app reviews: 4-5 stars get a thank-you, 1-3 stars get an apology and a "
        "Slack alert to the manager"
    )
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    assert cond.config.mode == "cases"
    wf = generate("Poll our blog's RSS feed and, for each new post, write a summary for Airtable")
    assert "loop" in types(wf)


def test_routing_to_a_list_of_places_names_the_labels() -> None:
    assert labels_of("判断意图后路由到售前或售后") == ["售前", "售后"]


def test_incomplete_ones_sent_back_are_a_test() -> None:
    wf = generate("把客户上传的证件照片做 OCR，信息不完整的退回补充，完整的存入 CRM")
    assert "condition" in types(wf) and "database" in tools(wf)


@pytest.mark.parametrize(
    "prompt",
    [
        "给我安排一个周末两天的杭州游玩计划，参考当地天气预报，发到钉钉",
        "写一份下周的出差安排，结合天气预报，然后邮件发我",
        "Draft a packing list for my Lisbon trip, based on the weather forecast, then text me",
        "Suggest what I should wear tomorrow, using the weather forecast, and post it to Telegram",
    ],
)
def test_a_step_that_names_its_data_reads_it_first(prompt: str) -> None:
    wf = generate(prompt)
    graph = Graph(wf)
    (api,) = [n for n in wf.nodes if n.type == "api"]
    (llm,) = [n for n in wf.nodes if isinstance(n, LLMNode)]
    assert api.id in graph.ancestors(llm.id)
    assert f"nodes.{api.id}.output" in llm.config.prompt


@pytest.mark.parametrize(
    "prompt",
    [
        "根据协会的年度报告，回答会员关于会费去向的问题",
        "客户问保修的，按保修协议回答",
        "按项目 README 给新来的同事答疑",
        "同事问报销流程就去翻公司的财务制度文档回答",
        "Using our previous newsletters and annual reports, draft this month's donor update",
        "Review my thesis chapter against the department's formatting guidelines",
        "Answer visitor questions from the museum's welcome pack",
    ],
)
def test_a_document_the_answer_follows_is_looked_up(prompt: str) -> None:
    assert "knowledge" in types(generate(prompt))


def test_a_report_made_from_data_is_no_lookup() -> None:
    assert "knowledge" not in types(generate("根据本月的销售数据生成报告，发到飞书"))


@pytest.mark.parametrize(
    ("prompt", "handles"),
    [
        (
            "每来一笔退款申请，两千元以上的发钉钉给财务，八百到两千的发邮件，八百以下的不用处理",
            3,
        ),
        ("if the order total is above two hundred and fifty dollars, text me", 2),
        ("whenever a product review is two stars or less, email the support lead", 2),
        ("库存剩下不到五天的量就发短信提醒采购", 2),
    ],
)
def test_numbers_in_words_are_thresholds(prompt: str, handles: int) -> None:
    wf = generate(prompt)
    graph = Graph(wf)
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    assert cond.config.mode != "llm_classify"
    assert len({c.source_handle for c in graph.outgoing[cond.id]}) >= handles


def test_numerals_that_are_no_quantity_stay_words() -> None:
    from pilot_planner.numerals import digits

    assert digits("每一个订单查一下，千万别漏掉") == "每一个订单查一下，千万别漏掉"
    assert digits("one of them gets two stars or less") == "one of them gets 2 stars or less"
    assert digits("一千二百块以上，不到七天") == "1200块以上，不到7天"


def test_words_counted_by_ju_are_said_not_a_test() -> None:
    wf = generate("高考倒计时：每天早上在钉钉上给我发几句打气的话")
    assert "condition" not in types(wf) and "llm" in types(wf) and "dingtalk" in tools(wf)
    wf = generate("Every morning send me an uplifting quote on Discord")
    assert "llm" in types(wf)


def test_someone_posting_starts_the_run_and_fangbian_is_no_test() -> None:
    wf = generate("钉钉群里有人发日文消息的话，翻成中文回到群里，顺便方便新同事看")
    assert "condition" not in types(wf) and "dingtalk" in tools(wf)


def test_no_answer_referred_to_a_person_is_a_branch() -> None:
    wf = generate("学生问选课规则时按教务手册回答，回答不了的提示他联系辅导员")
    assert {"condition", "knowledge", "llm"} <= types(wf)


@pytest.mark.parametrize(
    "prompt",
    [
        "课程反馈的留言逐条做分类，差评的汇总后发邮件给教研组",
        "题库里的每道题，用 AI 标注难度",
        "每种原料剩下不到三天的用量就发飞书提醒采购",
    ],
)
def test_items_gone_through_one_by_one_loop(prompt: str) -> None:
    wf = generate(prompt)
    assert "loop" in types(wf) and "knowledge" not in types(wf)


def test_a_shortfall_inside_a_loop_is_tested_per_item() -> None:
    wf = generate("每位会员的余额不到 50 元就发短信提醒充值")
    graph = Graph(wf)
    (loop,) = [n for n in wf.nodes if isinstance(n, LoopNode)]
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    assert cond.id in loop.config.body
    assert cond.config.expression is not None and "50" in cond.config.expression
    (sms,) = [n for n in wf.nodes if isinstance(n, ToolNode)]
    assert cond.id in graph.ancestors(sms.id)


def test_what_a_source_says_is_one_route() -> None:
    wf = generate(
        "if the weather API says it's raining, text the team to bring umbrellas, if it says "
        "snow just email facilities, otherwise nothing"
    )
    graph = Graph(wf)
    (cond,) = [n for n in wf.nodes if isinstance(n, ConditionNode)]
    handles = {c.source_handle for c in graph.outgoing[cond.id]}
    assert {"raining", "snow"} <= handles and len(handles) == 3


@pytest.mark.parametrize(
    "prompt",
    [
        "It would be great if every workshop attendee on the sheet got a thank-you text",
        "Send each customer on the list a thank-you note, if you could.",
        "We'd appreciate it if, for each booking tomorrow, the guest received a text",
    ],
)
def test_a_polite_if_tests_nothing(prompt: str) -> None:
    assert "condition" not in types(generate(prompt))


def test_a_real_if_you_can_still_tests() -> None:
    assert "condition" in types(generate("If you can find the invoice, email it to me"))


def test_getting_a_text_is_an_sms_and_the_mail_channel_named_first_is_where_it_goes() -> None:
    assert "sms" in tools(generate("for every class tomorrow, each student gets a text"))
    assert "email" in tools(generate("把本周的销售数据整理成周报，邮件发我"))


@pytest.mark.parametrize(
    "prompt",
    [
        "水费通知每季度发到我邮箱，把金额填到飞书表格里",
        "When the gas bill arrives by email, copy the total into my Airtable budget",
    ],
)
def test_a_value_copied_out_of_a_document_is_extracted(prompt: str) -> None:
    wf = generate(prompt)
    assert any(isinstance(n, LLMNode) for n in wf.nodes)


def test_a_service_named_after_the_loop_marker_is_what_the_fetch_calls() -> None:
    wf = generate("pull the changed files of each merged PR from GitHub and summarize them")
    (api,) = [n for n in wf.nodes if n.type == "api"]
    assert "api.github.com" in api.config.url


@pytest.mark.parametrize(
    ("prompt", "source"),
    [
        (
            "if anyone in our Discord server asks about pricing, answer from the pricing "
            "sheet, otherwise ping the team on Slack",
            "discord",
        ),
        (
            "when a customer writes to our WeChat account about returns, reply from the "
            "returns policy, but anything about a damaged parcel goes to support by email",
            "wechat",
        ),
    ],
)
def test_where_the_asker_is_starts_the_run(prompt: str, source: str) -> None:
    wf = generate(prompt)
    (inp,) = [n for n in wf.nodes if isinstance(n, InputNode)]
    assert inp.config.input_type == source
    assert "condition" in types(wf)
