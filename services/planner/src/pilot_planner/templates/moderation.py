"""Content moderation: input (user content) -> condition (llm_classify: flagged / spam)
-> flagged: integrations alerted, held for review | approved -> outputs."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..builder import BlueprintBuilder, PlanContext, output_of
from ..tools import add_tools
from .common import build, input_schema, llm_config, requested, text_field


def content_moderation(ctx: PlanContext) -> WorkflowBlueprint:
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("User content", "用户内容"),
        {
            "input_type": "text",
            "schema": input_schema(
                {
                    "content": text_field(
                        ctx.t("The post or comment to check", "待审核的帖子或评论"), min_length=1
                    )
                }
            ),
        },
    )
    path = [inp]
    subject = "{{ input.content }}"
    if ctx.complexity == "advanced":
        reason = b.add(
            "llm",
            ctx.t("Explain possible violations", "说明潜在违规点"),
            llm_config(
                ctx,
                ctx.t(
                    "You are a content moderator. List any policy violations in the content "
                    "(harassment, hate, violence, sexual content, spam, personal data), "
                    "or say 'none'.",
                    "你是一名内容审核员。请列出内容中的违规点（骚扰、仇恨、暴力、色情、垃圾信息、"
                    "个人隐私），没有则回答“无”。",
                )
                + " "
                + requested(ctx),
                "{{ input.content }}",
                0.0,
            ),
        )
        path.append(reason)
        subject = "{{ input.content }}\n\n" + output_of(reason)
    check = b.add(
        "condition",
        ctx.t("Moderate", "内容审核"),
        {
            "mode": "llm_classify",
            "labels": ["flagged", "spam"],
            "default_handle": "approved",
            "input": subject,
            "model": ctx.model,
        },
    )
    b.chain(*path, check)
    tools = add_tools(
        b,
        ctx,
        message=ctx.t("Flagged content: {{ input.content }}", "违规内容：{{ input.content }}"),
        subject=ctx.t("Content flagged for review", "有内容需要人工复核"),
    )
    held = b.add(
        "output",
        ctx.t("Held for review", "待人工复核"),
        {
            "mapping": {"decision": "{{ nodes." + check + ".output }}", "published": "{{ false }}"},
            "format": "json",
        },
    )
    b.chain(check, *tools, held, first_handle="flagged")
    b.connect(check, held, "spam")
    ok = b.add(
        "output",
        ctx.t("Approved", "审核通过"),
        {"mapping": {"decision": "approved", "published": "{{ true }}"}, "format": "json"},
    )
    b.connect(check, ok, "approved")
    return build(b, ctx, "Content moderation", "内容审核")
