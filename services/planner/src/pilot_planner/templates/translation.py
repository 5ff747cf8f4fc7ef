"""Translation: input (text, target language) -> translate -> [review] -> tools -> output.
The language the prompt names becomes the default target."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..actions import target_language
from ..builder import BlueprintBuilder, PlanContext, output_of
from ..tools import add_tools
from .common import build, input_schema, llm_config, requested, text_field


def translation(ctx: PlanContext) -> WorkflowBlueprint:
    b = BlueprintBuilder()
    named = target_language(ctx.prompt)
    default = named[0] if named else ("English" if ctx.wording == "zh" else "Chinese")
    inp = b.add(
        "input",
        ctx.t("Text to translate", "待翻译文本"),
        {
            "input_type": "text",
            "schema": input_schema(
                {"text": text_field(ctx.t("The text to translate", "要翻译的文本"), min_length=1)},
                {
                    "target_language": {
                        **text_field(ctx.t("Language to translate into", "目标语言")),
                        "default": default,
                    }
                },
            ),
        },
    )
    target = "{{ input.target_language or '" + default + "' }}"
    system = " ".join(
        [
            ctx.t(
                "You are a professional translator. Translate the text into the target "
                "language, keeping meaning, tone, formatting, names and numbers. Return only "
                "the translation.",
                "你是一名专业译者。请把文本翻译成目标语言，保持原意、语气、格式、专有名词和数字，"
                "只返回译文。",
            ),
            requested(ctx),
        ]
    )
    name = ctx.t(f"Translate to {default}", f"翻译成{named[1] if named else default}")
    draft = b.add(
        "llm",
        name,
        llm_config(
            ctx,
            system,
            ctx.t("Target language: ", "目标语言：") + target + "\n\n{{ input.text }}",
            0.2,
        ),
    )
    path = [inp, draft]
    final = draft
    if ctx.complexity != "simple":
        final = b.add(
            "llm",
            ctx.t("Review the translation", "校对译文"),
            llm_config(
                ctx,
                ctx.t(
                    "You review translations. Compare the source and the translation; fix "
                    "mistranslations and awkward phrasing. Return only the corrected translation.",
                    "你负责校对译文。请对照原文和译文，修正误译和不通顺之处，只返回修改后的译文。",
                ),
                ctx.t(
                    "Source:\n{{ input.text }}\n\nTranslation:\n",
                    "原文：\n{{ input.text }}\n\n译文：\n",
                )
                + output_of(draft),
                0.1,
            ),
        )
        path.append(final)
    tools = add_tools(b, ctx, message=output_of(final), subject=ctx.t("Translation", "译文"))
    out = b.add("output", ctx.t("Translation", "译文"), {"value": output_of(final)})
    b.chain(*path, *tools, out)
    return build(b, ctx, "Translation", "文本翻译")
