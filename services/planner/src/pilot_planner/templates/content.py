"""The original plan's content_generation template."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..builder import BlueprintBuilder, PlanContext, output_of
from ..tools import add_tools
from .common import build, input_schema, language_rule, llm_config, requested, text_field


def content_generation(ctx: PlanContext) -> WorkflowBlueprint:
    """input -> [outline] -> draft -> [polish] -> tools -> output."""
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("Brief", "创作要求"),
        {
            "input_type": "text",
            "schema": input_schema(
                {"topic": text_field(ctx.t("What to write about", "写作主题"), min_length=1)},
                {
                    "audience": text_field(ctx.t("Who will read it", "目标读者")),
                    "tone": text_field(ctx.t("Voice and style", "语气与风格")),
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
            language_rule(
                ctx,
                default_en="Write in the language of the topic.",
                default_zh="使用主题所用的语言写作。",
            ),
            requested(ctx),
        ]
    )
    path = [inp]
    draft_prompt = ctx.t("Write the complete piece.\n\n", "请完成全文。\n\n") + brief
    if ctx.complexity != "simple":
        outline = b.add(
            "llm",
            ctx.t("Outline", "拟定大纲"),
            llm_config(
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
    final = b.add(
        "llm", ctx.t("Write draft", "撰写正文"), llm_config(ctx, system, draft_prompt, 0.7)
    )
    path.append(final)
    if ctx.complexity == "advanced":
        final = b.add(
            "llm",
            ctx.t("Edit and polish", "润色修改"),
            llm_config(
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
    return build(b, ctx, "Content generation", "内容生成")
