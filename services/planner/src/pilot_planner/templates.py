"""The offline planner's workflow templates: the original plan's customer_support,
content_generation and data_analysis, and a general fallback (input -> llm -> output).

Every template reads only `input.<field>` (fields its input schema declares) and
`nodes.<key>.output` of steps upstream of the reader, which the graph validator checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pilot_shared.contracts import WorkflowBlueprint

from .builder import BlueprintBuilder, PlanContext, literal, output_of
from .entities import integration_of_url, values
from .intent import CONTENT_GENERATION, CUSTOMER_SUPPORT, DATA_ANALYSIS, GENERAL, summarize
from .tools import add_tools

Template = Callable[[PlanContext], WorkflowBlueprint]


def _schema(
    required: dict[str, dict[str, Any]], optional: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
    }


def _text(description: str, *, min_length: int = 0) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "string", "description": description}
    if min_length:
        field["minLength"] = min_length
    return field


def _llm(ctx: PlanContext, system_prompt: str, prompt: str, temperature: float) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model": ctx.model,
        "system_prompt": system_prompt,
        "prompt": prompt,
        "temperature": temperature,
    }
    if ctx.fallback_models:
        config["fallback_models"] = ctx.fallback_models
    return config


def _language_rule(ctx: PlanContext, *, default_en: str, default_zh: str) -> str:
    if ctx.reply_language == "en":
        return ctx.t("Always answer in English.", "始终使用英文回答。")
    if ctx.reply_language == "zh":
        return ctx.t("Always answer in Chinese.", "始终使用中文回答。")
    return ctx.t(default_en, default_zh)


def _requested(ctx: PlanContext) -> str:
    return ctx.t(
        f"This workflow was requested as: “{ctx.request_context()}”.",
        f"该工作流的需求描述：“{ctx.request_context()}”。",
    )


def _build(b: BlueprintBuilder, ctx: PlanContext, en: str, zh: str) -> WorkflowBlueprint:
    return b.build(
        name=ctx.t(en, zh), description=ctx.intent.summary, intent=ctx.intent, entities=ctx.entities
    )


def customer_support(ctx: PlanContext) -> WorkflowBlueprint:
    """input -> [knowledge] -> llm (reply) -> condition (sentiment) -> reply | escalation."""
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("Customer message", "客户消息"),
        {
            "input_type": "text",
            "schema": _schema(
                {
                    "user_message": _text(
                        ctx.t("What the customer wrote", "客户发送的消息"), min_length=1
                    )
                }
            ),
        },
    )
    path = [inp]
    context = ""
    if ctx.complexity == "advanced":
        kb = b.add(
            "knowledge",
            ctx.t("Search help articles", "检索帮助文档"),
            {"query": "{{ input.user_message }}", "top_k": 3},
        )
        path.append(kb)
        context = ctx.t(
            f"\n\nRelevant help articles:\n{output_of(kb)}",
            f"\n\n相关帮助文档：\n{output_of(kb)}",
        )
    system = " ".join(
        [
            ctx.t(
                "You are a friendly, professional customer support agent. Answer the customer's "
                "message helpfully and concisely. If you cannot resolve the issue, say that a "
                "human colleague will follow up.",
                "你是一名友好、专业的客服。请简洁、有帮助地回复客户的消息；"
                "如果无法解决问题，请告知客户会有人工客服跟进。",
            ),
            _language_rule(
                ctx,
                default_en="Reply in the customer's language.",
                default_zh="使用客户所用的语言回复。",
            ),
            _requested(ctx),
        ]
    )
    llm = b.add(
        "llm",
        ctx.t("Draft reply", "生成回复"),
        _llm(
            ctx,
            system,
            ctx.t(
                "Customer message:\n{{ input.user_message }}",
                "客户消息：\n{{ input.user_message }}",
            )
            + context,
            0.3,
        ),
    )
    path.append(llm)
    # Sentiment decides the route: unhappy customers go to a human (the original plan's
    # "sentiment_analysis" condition). One label plus the default keeps two clear branches.
    cond = b.add(
        "condition",
        ctx.t("Sentiment check", "情绪判断"),
        {
            "mode": "llm_classify",
            "labels": ["negative"],
            "default_handle": "other",
            "input": "{{ input.user_message }}",
            "model": ctx.model,
        },
    )
    b.chain(*path, cond)
    reply = b.add(
        "output",
        ctx.t("Reply", "回复客户"),
        {"value": output_of(llm), "format": "text"},
    )
    b.connect(cond, reply, "other")
    # Integrations alert people on the escalation branch: that is where a team needs them.
    tools = add_tools(
        b,
        ctx,
        message=ctx.t(
            "Unhappy customer: {{ input.user_message }}\nDraft reply: " + output_of(llm),
            "客户情绪负面：{{ input.user_message }}\n建议回复：" + output_of(llm),
        ),
        subject=ctx.t("A customer needs a human", "客户需要人工跟进"),
    )
    escalate = b.add(
        "output",
        ctx.t("Escalate to a human", "转人工处理"),
        {
            "mapping": {
                "reply": output_of(llm),
                "escalated": "{{ true }}",
                "sentiment": "negative",
            },
            "format": "json",
        },
    )
    b.chain(cond, *tools, escalate, first_handle="negative")
    return _build(b, ctx, "Customer support chatbot", "客户支持聊天机器人")


def content_generation(ctx: PlanContext) -> WorkflowBlueprint:
    """input -> [outline] -> draft -> [polish] -> tools -> output."""
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("Brief", "创作要求"),
        {
            "input_type": "text",
            "schema": _schema(
                {"topic": _text(ctx.t("What to write about", "写作主题"), min_length=1)},
                {
                    "audience": _text(ctx.t("Who will read it", "目标读者")),
                    "tone": _text(ctx.t("Voice and style", "语气与风格")),
                },
            ),
        },
    )
    brief = ctx.t(
        "Topic: {{ input.topic }}\nAudience: {{ input.audience or 'general readers' }}\n"
        "Tone: {{ input.tone or 'clear and engaging' }}",
        "主题：{{ input.topic }}\n读者：{{ input.audience or '普通读者' }}\n"
        "语气：{{ input.tone or '清晰、有吸引力' }}",
    )
    system = " ".join(
        [
            ctx.t("You are an experienced writer and editor.", "你是一名经验丰富的作者和编辑。"),
            _language_rule(
                ctx,
                default_en="Write in the language of the topic.",
                default_zh="使用主题所用的语言写作。",
            ),
            _requested(ctx),
        ]
    )
    path = [inp]
    draft_prompt = ctx.t("Write the complete piece.\n\n", "请完成全文。\n\n") + brief
    if ctx.complexity != "simple":
        outline = b.add(
            "llm",
            ctx.t("Outline", "拟定大纲"),
            _llm(
                ctx,
                system,
                ctx.t("Write a concise outline.\n\n", "请拟定一份简洁的大纲。\n\n") + brief,
                0.5,
            ),
        )
        path.append(outline)
        draft_prompt += ctx.t(
            f"\n\nFollow this outline:\n{output_of(outline)}",
            f"\n\n按照以下大纲写作：\n{output_of(outline)}",
        )
    final = b.add("llm", ctx.t("Write draft", "撰写正文"), _llm(ctx, system, draft_prompt, 0.7))
    path.append(final)
    if ctx.complexity == "advanced":
        final = b.add(
            "llm",
            ctx.t("Edit and polish", "润色修改"),
            _llm(
                ctx,
                system,
                ctx.t(
                    "Edit this draft for clarity, accuracy and flow. "
                    "Return only the improved text.\n\n",
                    "请从清晰度、准确性和流畅度方面润色以下草稿，只返回修改后的全文。\n\n",
                )
                + output_of(final),
                0.3,
            ),
        )
        path.append(final)
    tools = add_tools(
        b,
        ctx,
        message=output_of(final),
        subject=ctx.t("New content: {{ input.topic }}", "新内容：{{ input.topic }}"),
    )
    out = b.add(
        "output",
        ctx.t("Content", "生成内容"),
        {"value": output_of(final), "format": "text"},
    )
    b.chain(*path, *tools, out)
    return _build(b, ctx, "Content generation", "内容生成")


def data_analysis(ctx: PlanContext) -> WorkflowBlueprint:
    """input -> [api fetch] -> analyze -> [report] -> tools -> output."""
    b = BlueprintBuilder()
    sources = [u for u in values(ctx.entities, "url") if integration_of_url(u) is None]
    question = {"question": _text(ctx.t("What to find out", "想要了解的问题"))}
    if sources:
        # The prompt names where the data lives: fetch it instead of asking for it.
        inp = b.add(
            "input",
            ctx.t("Question", "分析问题"),
            {"input_type": "text", "schema": _schema({}, question)},
        )
        api = b.add(
            "api",
            ctx.t("Fetch data", "获取数据"),
            {"method": "GET", "url": literal(sources[0], 2_000), "timeout_s": 30},
        )
        path = [inp, api]
        data = output_of(api)
    else:
        inp = b.add(
            "input",
            ctx.t("Data", "待分析数据"),
            {
                "input_type": "text",
                "schema": _schema(
                    {
                        "data": {
                            "type": ["string", "array", "object"],
                            "description": ctx.t(
                                "The data: CSV, JSON or text", "数据：CSV、JSON 或文本"
                            ),
                        }
                    },
                    question,
                ),
            },
        )
        path = [inp]
        data = "{{ input.data }}"
    system = " ".join(
        [
            ctx.t(
                "You are a careful data analyst. Base every statement on the data given; "
                "say so when the data cannot answer the question.",
                "你是一名严谨的数据分析师。所有结论都必须基于给定数据；数据无法回答时请明确说明。",
            ),
            _language_rule(
                ctx,
                default_en="Answer in the language of the question.",
                default_zh="使用问题所用的语言回答。",
            ),
            _requested(ctx),
        ]
    )
    analysis = b.add(
        "llm",
        ctx.t("Analyze", "分析数据"),
        _llm(
            ctx,
            system,
            ctx.t(
                "Question: {{ input.question or 'What are the key findings?' }}\n\n"
                "List the key findings, trends and anomalies, with the numbers behind them.\n\n"
                "Data:\n",
                "问题：{{ input.question or '主要结论是什么？' }}\n\n"
                "请列出关键发现、趋势和异常，并给出支撑的数字。\n\n数据：\n",
            )
            + data,
            0.2,
        ),
    )
    path.append(analysis)
    final = analysis
    mapping = {"analysis": output_of(analysis)}
    if ctx.complexity != "simple":
        final = b.add(
            "llm",
            ctx.t("Write report", "撰写报告"),
            _llm(
                ctx,
                system,
                ctx.t(
                    "Write a short report for decision makers from these findings:\n\n",
                    "请根据以下分析结果，为决策者撰写一份简短报告：\n\n",
                )
                + output_of(analysis),
                0.4,
            ),
        )
        path.append(final)
        mapping["report"] = output_of(final)
    tools = add_tools(
        b,
        ctx,
        message=output_of(final),
        subject=ctx.t("Data analysis report", "数据分析报告"),
    )
    out = b.add("output", ctx.t("Findings", "分析结果"), {"mapping": mapping, "format": "json"})
    b.chain(*path, *tools, out)
    return _build(b, ctx, "Data analysis", "数据分析")


def general(ctx: PlanContext) -> WorkflowBlueprint:
    """The fallback for anything else: input -> llm -> tools -> output."""
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("User input", "用户输入"),
        {
            "input_type": "text",
            "schema": _schema(
                {"user_message": _text(ctx.t("The user's request", "用户的请求"), min_length=1)}
            ),
        },
    )
    system = " ".join(
        [
            ctx.t(
                "You are a capable assistant. Carry out the task below for each user message.",
                "你是一名能干的助手。请针对每条用户消息完成下述任务。",
            ),
            ctx.t(f"Task: {ctx.request_context()}", f"任务：{ctx.request_context()}"),
            _language_rule(
                ctx,
                default_en="Reply in the user's language.",
                default_zh="使用用户所用的语言回复。",
            ),
        ]
    )
    llm = b.add(
        "llm", ctx.t("Respond", "生成回复"), _llm(ctx, system, "{{ input.user_message }}", 0.7)
    )
    tools = add_tools(
        b,
        ctx,
        message=output_of(llm),
        subject=ctx.t("Workflow result", "工作流结果"),
    )
    out = b.add(
        "output",
        ctx.t("Result", "输出结果"),
        {"value": output_of(llm), "format": "text"},
    )
    b.chain(inp, llm, *tools, out)
    title = summarize(ctx.prompt, 60)
    return _build(b, ctx, f"Workflow: {title}", f"工作流：{title}")


TEMPLATES: dict[str, Template] = {
    CUSTOMER_SUPPORT: customer_support,
    CONTENT_GENERATION: content_generation,
    DATA_ANALYSIS: data_analysis,
    GENERAL: general,
}


def template_for(category: str) -> Template:
    return TEMPLATES.get(category, general)
