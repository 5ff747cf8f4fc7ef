"""The original plan's customer_support template."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..builder import BlueprintBuilder, PlanContext, output_of
from ..lexicon import RETRIEVAL
from ..tools import add_tools
from .common import build, input_schema, language_rule, llm_config, requested, text_field


def customer_support(ctx: PlanContext) -> WorkflowBlueprint:
    """input -> [knowledge] -> llm (reply) -> condition (sentiment) -> reply | escalation."""
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("Customer message", "客户消息"),
        {
            "input_type": "text",
            "schema": input_schema(
                {
                    "user_message": text_field(
                        ctx.t("What the customer wrote", "客户发送的消息"), min_length=1
                    )
                }
            ),
        },
    )
    path = [inp]
    context = ""
    # the prompt naming a knowledge base or docs to answer from asks for the lookup too
    if ctx.complexity == "advanced" or RETRIEVAL.search(ctx.prompt):
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
            language_rule(
                ctx,
                default_en="Reply in the customer's language.",
                default_zh="使用客户所用的语言回复。",
            ),
            requested(ctx),
        ]
    )
    llm = b.add(
        "llm",
        ctx.t("Draft reply", "生成回复"),
        llm_config(
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
    return build(b, ctx, "Customer support chatbot", "客户支持聊天机器人")
