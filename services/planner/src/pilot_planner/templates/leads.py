"""Lead qualification: input (a lead) -> [enrich via API] -> llm (score, structured) ->
condition (score >= threshold) -> qualified: integrations alerted | nurture -> outputs."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..builder import BlueprintBuilder, PlanContext
from ..instructions import SCORE_SCHEMA
from ..predicates import threshold
from ..tools import add_tools
from .common import build, input_schema, llm_config, requested, text_field


def lead_qualification(ctx: PlanContext) -> WorkflowBlueprint:
    b = BlueprintBuilder()
    inp = b.add(
        "input",
        ctx.t("New lead", "新线索"),
        {
            "input_type": "text",
            "schema": input_schema(
                {
                    "lead": text_field(
                        ctx.t("Who the lead is and what they asked", "线索信息与需求"), min_length=1
                    )
                },
                {"company": text_field(ctx.t("Company name", "公司名称"))},
            ),
        },
    )
    named = threshold(ctx.prompt)
    cut = (
        int(named.value)
        if named and named.subject in ("score", "value") and named.value <= 100
        else 70
    )
    system = " ".join(
        [
            ctx.t(
                "You qualify B2B sales leads. Score the lead from 0 to 100 on fit, need, budget "
                "and timing, and give a one-sentence reason.",
                "你负责评估 B2B 销售线索。请从匹配度、需求、预算和时机四方面为线索打 0 到 100 分，"
                "并用一句话说明理由。",
            ),
            requested(ctx),
        ]
    )
    config = llm_config(
        ctx,
        system,
        ctx.t(
            "Lead:\n{{ input.lead }}\nCompany: {{ input.company or 'unknown' }}",
            "线索：\n{{ input.lead }}\n公司：{{ input.company or '未知' }}",
        ),
        0.0,
    )
    config.update(json_schema=SCORE_SCHEMA, stream=False)
    score = b.add("llm", ctx.t("Score the lead", "线索打分"), config)
    b.connect(inp, score)
    check = b.add(
        "condition",
        ctx.t(f"Score ≥ {cut}?", f"分数 ≥ {cut}？"),
        {"expression": f"nodes.{score}.output.score >= {cut}"},
    )
    b.connect(score, check)
    path = [check]
    if ctx.complexity != "simple":
        intro = b.add(
            "llm",
            ctx.t("Draft an intro email", "起草跟进邮件"),
            llm_config(
                ctx,
                ctx.t(
                    "Write a short, personal first email to this qualified lead.",
                    "请给这位高意向线索写一封简短、有针对性的首次联系邮件。",
                ),
                ctx.t(
                    "Lead:\n{{ input.lead }}\nWhy they qualify: ",
                    "线索：\n{{ input.lead }}\n评估理由：",
                )
                + "{{ nodes."
                + score
                + ".output.reason }}",
                0.6,
            ),
        )
        path.append(intro)
    tools = add_tools(
        b,
        ctx,
        message=ctx.t(
            "Qualified lead ({{ nodes." + score + ".output.score }}): {{ input.lead }}",
            "高意向线索（{{ nodes." + score + ".output.score }} 分）：{{ input.lead }}",
        ),
        subject=ctx.t("New qualified lead", "新的高意向线索"),
    )
    hot = b.add(
        "output",
        ctx.t("Qualified", "高意向"),
        {
            "mapping": {
                "qualified": "{{ true }}",
                "score": "{{ nodes." + score + ".output.score }}",
            },
            "format": "json",
        },
    )
    b.chain(*path, *tools, hot, first_handle="true")
    nurture = b.add(
        "output",
        ctx.t("Nurture", "继续培育"),
        {
            "mapping": {
                "qualified": "{{ false }}",
                "score": "{{ nodes." + score + ".output.score }}",
                "reason": "{{ nodes." + score + ".output.reason }}",
            },
            "format": "json",
        },
    )
    b.connect(check, nurture, "false")
    return build(b, ctx, "Lead qualification", "销售线索评估")
