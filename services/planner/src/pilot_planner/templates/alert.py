"""API-to-notification alert: input -> api (fetch) -> condition (a threshold on a number in
the answer) -> integrations alerted | nothing to report -> outputs."""

from __future__ import annotations

from pilot_shared.contracts import WorkflowBlueprint

from ..apis import api_call
from ..builder import BlueprintBuilder, PlanContext, output_of
from ..entities import integration_of_url, values
from ..expressions import safe_number
from ..predicates import threshold
from ..tools import add_tools
from .common import build, input_schema, llm_config, requested, text_field


def api_alert(ctx: PlanContext) -> WorkflowBlueprint:
    b = BlueprintBuilder()
    urls = [u for u in values(ctx.entities, "url") if integration_of_url(u) is None]
    call = api_call(ctx.prompt, urls)
    rule = threshold(ctx.prompt, open_limit=True)
    fields = {name: text_field(description) for name, description in call.input_fields.items()}
    optional = (
        {}
        if rule and not rule.open_limit
        else {
            "threshold": {
                "type": "number",
                "description": ctx.t("Alert above this value", "超过该值时提醒"),
            }
        }
    )
    inp = b.add(
        "input",
        ctx.t("Check settings", "检查参数"),
        {"input_type": "schedule", "schema": input_schema(fields, optional)},
    )
    api = b.add(
        "api",
        ctx.t(f"Call {call.name}", f"调用{call.name_zh or call.name}接口"),
        {"method": "GET", "url": call.url, "timeout_s": 30},
    )
    b.connect(inp, api)
    if rule and not rule.open_limit:
        path = call.numbers.get(rule.subject) or call.numbers.get("value") or rule.subject
        value = int(rule.value) if rule.value.is_integer() else rule.value
        expression = f"{safe_number(f'nodes.{api}.output', path)} {rule.op} {value}"
    else:
        path = call.numbers.get("value") or "value"
        op = rule.op if rule else ">"
        expression = f"{safe_number(f'nodes.{api}.output', path)} {op} (input.threshold or 0)"
    check = b.add(
        "condition", ctx.t("Over the threshold?", "是否超过阈值"), {"expression": expression}
    )
    b.connect(api, check)
    message = ctx.t(f"Alert from {call.name}: ", f"{call.name_zh or call.name}提醒：") + output_of(
        api
    )
    path_nodes = [check]
    if ctx.complexity == "advanced":
        explain = b.add(
            "llm",
            ctx.t("Explain the alert", "解读告警"),
            llm_config(
                ctx,
                ctx.t(
                    "Explain in two sentences what this data shows and why it crossed "
                    "the threshold.",
                    "请用两句话说明这份数据反映了什么、为什么触发了阈值。",
                )
                + " "
                + requested(ctx),
                output_of(api),
                0.2,
            ),
        )
        path_nodes.append(explain)
        message = output_of(explain)
    tools = add_tools(b, ctx, message=message, subject=ctx.t("Threshold alert", "阈值告警"))
    alerted = b.add(
        "output",
        ctx.t("Alert sent", "已发送提醒"),
        {"mapping": {"alerted": "{{ true }}", "data": output_of(api)}, "format": "json"},
    )
    b.chain(*path_nodes, *tools, alerted, first_handle="true")
    quiet = b.add(
        "output",
        ctx.t("Nothing to report", "无需提醒"),
        {"mapping": {"alerted": "{{ false }}", "data": output_of(api)}, "format": "json"},
    )
    b.connect(check, quiet, "false")
    return build(b, ctx, "API alert", "接口数据告警")
