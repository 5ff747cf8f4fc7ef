"""Helpers every built-in template uses: input schemas, LLM configs, the wording of
language rules and of the request a workflow was made for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pilot_shared.contracts import WorkflowBlueprint

from ..builder import BlueprintBuilder, PlanContext

Template = Callable[[PlanContext], WorkflowBlueprint]


def input_schema(
    required: dict[str, dict[str, Any]], optional: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
    }


def text_field(description: str, *, min_length: int = 0) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "string", "description": description}
    if min_length:
        field["minLength"] = min_length
    return field


def llm_config(
    ctx: PlanContext, system_prompt: str, prompt: str, temperature: float
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model": ctx.model,
        "system_prompt": system_prompt,
        "prompt": prompt,
        "temperature": temperature,
    }
    if ctx.fallback_models:
        config["fallback_models"] = ctx.fallback_models
    return config


def language_rule(ctx: PlanContext, *, default_en: str, default_zh: str) -> str:
    if ctx.reply_language == "en":
        return ctx.t("Always answer in English.", "始终使用英文回答。")
    if ctx.reply_language == "zh":
        return ctx.t("Always answer in Chinese.", "始终使用中文回答。")
    return ctx.t(default_en, default_zh)


def requested(ctx: PlanContext) -> str:
    return ctx.t(
        f"This workflow was requested as: “{ctx.request_context()}”.",
        f"该工作流的需求描述：“{ctx.request_context()}”。",
    )


def build(b: BlueprintBuilder, ctx: PlanContext, en: str, zh: str) -> WorkflowBlueprint:
    return b.build(
        name=ctx.t(en, zh), description=ctx.intent.summary, intent=ctx.intent, entities=ctx.entities
    )
