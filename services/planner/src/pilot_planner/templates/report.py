"""A report over a list of items: input (a list) -> loop (for each item: llm) -> llm
(write the report from every item's result) -> tools -> output."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..builder import BlueprintBuilder, PlanContext, output_of
from ..tools import add_tools
from .common import build, input_schema, llm_config, requested


def list_report(ctx: PlanContext) -> WorkflowBlueprint:
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("Items", "条目列表"),
        {
            "input_type": "json",
            "schema": input_schema(
                {
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "description": ctx.t("The items to report on", "要汇总的条目"),
                    }
                }
            ),
        },
    )
    loop = b.add(
        "loop",
        ctx.t("For each item", "逐条处理"),
        {
            "mode": "for_each",
            "items": "{{ input.items }}",
            "body": [],
            "concurrency": 4,
            "max_iterations": 100,
        },
    )
    each = b.add(
        "llm",
        ctx.t("Summarize the item", "总结单条"),
        llm_config(
            ctx,
            ctx.t(
                "Summarize this item in one or two sentences, keeping its key figures.",
                "请用一两句话总结这一条，保留关键数字。",
            )
            + " "
            + requested(ctx),
            ctx.t("Item {{ loop.index }}:\n{{ item }}", "第 {{ loop.index }} 条：\n{{ item }}"),
            0.2,
        ),
    )
    body = [each]
    if ctx.complexity == "advanced":
        rate = b.add(
            "llm",
            ctx.t("Assess the item", "评估单条"),
            llm_config(
                ctx,
                ctx.t(
                    "Rate the item's importance (high / medium / low) and say why in one sentence.",
                    "请评估这一条的重要性（高/中/低），并用一句话说明理由。",
                ),
                output_of(each),
                0.0,
            ),
        )
        b.connect(each, rate)
        body.append(rate)
    b.update(loop, config={"body": body})
    b.connect(inp, loop)
    b.connect(loop, each, "body")
    report = b.add(
        "llm",
        ctx.t("Write the report", "撰写报告"),
        llm_config(
            ctx,
            ctx.t(
                "Write a concise report from the per-item notes below: an overview, then the "
                "notable items, then recommendations.",
                "请根据下面逐条的要点撰写一份简洁的报告：先总体概况，再列出重点条目，最后给出建议。",
            )
            + " "
            + requested(ctx),
            output_of(loop),
            0.4,
        ),
    )
    tools = add_tools(b, ctx, message=output_of(report), subject=ctx.t("Report", "汇总报告"))
    out = b.add("output", ctx.t("Report", "报告"), {"value": output_of(report)})
    b.chain(loop, report, *tools, out)
    return build(b, ctx, "Report over a list", "列表汇总报告")
