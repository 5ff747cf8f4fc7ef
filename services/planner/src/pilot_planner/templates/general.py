"""The fallback template: input -> llm -> tools -> output."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..builder import BlueprintBuilder, PlanContext, output_of
from ..intent import summarize
from ..tools import add_tools
from .common import build, input_schema, language_rule, llm_config, text_field


def general(ctx: PlanContext) -> WorkflowBlueprint:
    """The fallback for anything else: input -> llm -> tools -> output."""
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("User input", "用户输入"),
        {
            "input_type": "text",
            "schema": input_schema(
                {
                    "user_message": text_field(
                        ctx.t("The user's request", "用户的请求"), min_length=1
                    )
                }
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
            language_rule(
                ctx,
                default_en="Reply in the user's language.",
                default_zh="使用用户所用的语言回复。",
            ),
        ]
    )
    llm = b.add(
        "llm",
        ctx.t("Respond", "生成回复"),
        llm_config(ctx, system, "{{ input.user_message }}", 0.7),
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
    return build(b, ctx, f"Workflow: {title}", f"工作流：{title}")
