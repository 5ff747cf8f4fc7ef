"""Email triage: input (an email) -> condition (llm_classify: urgent / spam / other) ->
urgent: integrations alerted; spam: archived; other: a drafted reply -> outputs."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..builder import BlueprintBuilder, PlanContext, output_of
from ..tools import add_tools
from .common import build, input_schema, language_rule, llm_config, requested, text_field


def email_triage(ctx: PlanContext) -> WorkflowBlueprint:
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("Incoming email", "收到的邮件"),
        {
            "input_type": "email",
            "schema": input_schema(
                {
                    "email": text_field(
                        ctx.t("The email: subject and body", "邮件：主题和正文"), min_length=1
                    )
                },
                {"sender": text_field(ctx.t("Who sent it", "发件人"))},
            ),
        },
    )
    labels = ["urgent", "spam"] if ctx.complexity == "simple" else ["urgent", "spam", "billing"]
    route = b.add(
        "condition",
        ctx.t("Classify the email", "邮件分类"),
        {
            "mode": "llm_classify",
            "labels": labels,
            "default_handle": "other",
            "input": "{{ input.email }}",
            "model": ctx.model,
        },
    )
    b.connect(inp, route)
    summary = b.add(
        "llm",
        ctx.t("Summarize the urgent email", "总结紧急邮件"),
        llm_config(
            ctx,
            ctx.t(
                "Summarize this urgent email in two sentences: what is asked, by when.",
                "请用两句话总结这封紧急邮件：对方要求什么、截止何时。",
            )
            + " "
            + requested(ctx),
            "{{ input.email }}",
            0.2,
        ),
    )
    tools = add_tools(
        b,
        ctx,
        message=ctx.t(
            "Urgent email from {{ input.sender or 'unknown' }}: ",
            "紧急邮件（{{ input.sender or '未知发件人' }}）：",
        )
        + output_of(summary),
        subject=ctx.t("Urgent email", "紧急邮件"),
    )
    urgent = b.add(
        "output",
        ctx.t("Urgent: team alerted", "紧急：已通知团队"),
        {"mapping": {"category": "urgent", "summary": output_of(summary)}, "format": "json"},
    )
    b.chain(route, summary, *tools, urgent, first_handle="urgent")
    spam = b.add(
        "output",
        ctx.t("Spam: archived", "垃圾邮件：已归档"),
        {"mapping": {"category": "spam"}, "format": "json"},
    )
    b.connect(route, spam, "spam")
    system = " ".join(
        [
            ctx.t(
                "You draft polite, concise replies to business email.",
                "你负责为商务邮件起草礼貌、简洁的回复。",
            ),
            language_rule(
                ctx,
                default_en="Reply in the email's language.",
                default_zh="使用来信所用的语言回复。",
            ),
            requested(ctx),
        ]
    )
    reply = b.add(
        "llm",
        ctx.t("Draft a reply", "起草回复"),
        llm_config(
            ctx, system, ctx.t("Email:\n{{ input.email }}", "邮件：\n{{ input.email }}"), 0.4
        ),
    )
    done = b.add(
        "output",
        ctx.t("Reply drafted", "已起草回复"),
        {
            "mapping": {"category": "{{ nodes." + route + ".output }}", "reply": output_of(reply)},
            "format": "json",
        },
    )
    b.chain(route, reply, done, first_handle="other")
    if "billing" in labels:
        b.connect(route, reply, "billing")
    return build(b, ctx, "Email triage", "邮件分拣")
