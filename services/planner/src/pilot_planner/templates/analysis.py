"""The original plan's data_analysis template."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..apis import api_call
from ..builder import BlueprintBuilder, PlanContext, output_of
from ..entities import integration_of_url, values
from ..lexicon import HTTP
from ..tools import add_tools
from .common import build, input_schema, language_rule, llm_config, requested, text_field


def data_analysis(ctx: PlanContext) -> WorkflowBlueprint:
    """input -> [api fetch] -> analyze -> [report] -> tools -> output."""
    b = BlueprintBuilder()
    sources = [u for u in values(ctx.entities, "url") if integration_of_url(u) is None]
    question = {"question": text_field(ctx.t("What to find out", "想要了解的问题"))}
    if sources or HTTP.search(ctx.prompt):
        # The prompt names where the data lives: fetch it instead of asking for it.
        call = api_call(ctx.prompt, sources)
        needed = {name: text_field(about) for name, about in call.input_fields.items()}
        inp = b.add(
            "input",
            ctx.t("Question", "分析问题"),
            {"input_type": "text", "schema": input_schema(needed, question)},
        )
        api = b.add(
            "api",
            ctx.t("Fetch data", "获取数据"),
            {"method": "GET", "url": call.url, "timeout_s": 30},
        )
        path = [inp, api]
        data = output_of(api)
    else:
        inp = b.add(
            "input",
            ctx.t("Data", "待分析数据"),
            {
                "input_type": "text",
                "schema": input_schema(
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
            language_rule(
                ctx,
                default_en="Answer in the language of the question.",
                default_zh="使用问题所用的语言回答。",
            ),
            requested(ctx),
        ]
    )
    analysis = b.add(
        "llm",
        ctx.t("Analyze", "分析数据"),
        llm_config(
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
            llm_config(
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
    return build(b, ctx, "Data analysis", "数据分析")
