"""What each LLM operation is told to do, in English and Chinese: a step name, a system
prompt, and a temperature that suits the task (low for extraction, higher for writing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .builder import PlanContext

# A marker an answering step writes when its documents hold no answer, so that a
# condition can route "找不到答案时" without a second model call.
NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class Op:
    name_en: str
    name_zh: str
    system_en: str
    system_zh: str
    temperature: float


OPS: dict[str, Op] = {
    "summarize": Op(
        "Summarize",
        "总结要点",
        "Summarize the text below in a few clear bullet points. Keep names, numbers and "
        "dates exact; add nothing that is not in the text.",
        "请用几条清晰的要点总结下面的内容。保留其中的名称、数字和日期，不要添加原文没有的信息。",
        0.3,
    ),
    "translate": Op(
        "Translate",
        "翻译",
        "Translate the text below. Keep its meaning, tone and formatting; return only the "
        "translation.",
        "请翻译下面的内容，保持原意、语气和格式，只返回译文。",
        0.2,
    ),
    "classify": Op(
        "Classify",
        "分类",
        "Classify the text below. Answer with the single best label and nothing else.",
        "请对下面的内容进行分类，只回答最合适的一个类别名称。",
        0.0,
    ),
    "moderate": Op(
        "Check content",
        "内容审核",
        "Review the content below for policy violations (harassment, hate, violence, sexual "
        "content, spam, personal data). Answer 'flagged' or 'ok', then one sentence why.",
        "请审核下面的内容是否违规（骚扰、仇恨、暴力、色情、垃圾信息、个人隐私）。"
        "回答 flagged 或 ok，再用一句话说明原因。",
        0.0,
    ),
    "score": Op(
        "Score",
        "打分评估",
        "Score the item below from 0 to 100 against the criteria in the request, and give "
        "a one-sentence reason.",
        "请根据需求中的标准，为下面的对象打 0 到 100 分，并用一句话说明理由。",
        0.0,
    ),
    "extract": Op(
        "Extract details",
        "提取信息",
        "Extract the key facts from the text below (who, what, when, amounts, ids) as a "
        "short list. Use only what the text says.",
        "请从下面的内容中提取关键信息（人物、事项、时间、金额、编号），以简短列表给出，只使用原文信息。",
        0.0,
    ),
    "analyze": Op(
        "Analyze",
        "分析",
        "Analyze the data below: list the key findings, trends and anomalies, with the "
        "numbers behind them. Say so when the data cannot answer the question.",
        "请分析下面的数据：列出关键发现、趋势和异常，并给出支撑的数字；数据不足以回答时请明确说明。",
        0.2,
    ),
    "rewrite": Op(
        "Rewrite",
        "润色改写",
        "Rewrite the text below for clarity and flow, keeping its meaning. Return only the "
        "improved text.",
        "请在保持原意的前提下润色改写下面的内容，使其更清晰流畅，只返回修改后的全文。",
        0.4,
    ),
    "answer": Op(
        "Answer",
        "生成回答",
        "Answer the message below helpfully and concisely.",
        "请有帮助地、简洁地回答下面的消息。",
        0.3,
    ),
    "write": Op(
        "Write",
        "撰写内容",
        "Write what the request asks for, based on the material below. Be clear, concrete "
        "and well structured.",
        "请根据下面的材料完成需求中要求撰写的内容，做到清晰、具体、有条理。",
        0.7,
    ),
    "review": Op(
        "Review and refine",
        "审阅润色",
        "Check the draft below against the request: fix factual slips, gaps and unclear "
        "wording. Return only the final text.",
        "请对照需求检查下面的草稿：修正事实错误、遗漏和表达不清之处，只返回最终文本。",
        0.2,
    ),
}

# How the "answer" step introduces itself, by what the workflow is for.
ROLES: dict[str, tuple[str, str]] = {
    "customer_support": (
        "You are a friendly, professional customer support agent.",
        "你是一名友好、专业的客服。",
    ),
    "rag_qa": (
        "You answer questions using only the documents provided.",
        "你只根据提供的文档回答问题。",
    ),
    "email_triage": ("You handle incoming email for a busy team.", "你负责为团队处理来信。"),
    "content_generation": (
        "You are an experienced writer and editor.",
        "你是一名经验丰富的作者和编辑。",
    ),
    "data_analysis": ("You are a careful data analyst.", "你是一名严谨的数据分析师。"),
    "lead_qualification": ("You qualify sales leads.", "你负责评估销售线索。"),
    "content_moderation": ("You are a content moderator.", "你是一名内容审核员。"),
}


def op_name(ctx: PlanContext, op: str, params: dict[str, Any]) -> str:
    spec = OPS[op]
    language = params.get("language")
    if op == "translate" and language:
        return ctx.t(f"Translate to {language[0]}", f"翻译成{language[1]}")
    return ctx.t(spec.name_en, spec.name_zh)


def system_prompt(
    ctx: PlanContext,
    ops: list[tuple[str, dict[str, Any]]],
    category: str,
    *,
    with_documents: bool = False,
    labels: list[str] | None = None,
) -> str:
    """One system prompt for one step doing `ops` in order (several when a simple
    workflow merges consecutive steps)."""
    parts: list[str] = []
    role = ROLES.get(category)
    if role and any(op in ("answer", "write") for op, _ in ops):
        parts.append(ctx.t(*role))
    for i, (op, params) in enumerate(ops):
        spec = OPS[op]
        text = ctx.t(spec.system_en, spec.system_zh)
        if len(ops) > 1:
            text = ctx.t(f"Step {i + 1}: ", f"第{i + 1}步：") + text
        language = params.get("language")
        if op == "translate" and language:
            text += ctx.t(f" Target language: {language[0]}.", f"目标语言：{language[1]}。")
        if op == "classify" and labels:
            text += ctx.t(" Labels: ", "可选类别：") + ", ".join(labels) + "."
        parts.append(text)
    if with_documents:
        parts.append(
            ctx.t(
                "Use only the documents given. If they do not contain the answer, reply "
                f"exactly {NOT_FOUND}.",
                f"只使用给出的文档作答；文档中没有答案时，只回复 {NOT_FOUND}。",
            )
        )
    if ctx.reply_language and not any(op == "translate" for op, _ in ops):
        parts.append(
            ctx.t("Always answer in English.", "始终使用英文回答。")
            if ctx.reply_language == "en"
            else ctx.t("Always answer in Chinese.", "始终使用中文回答。")
        )
    parts.append(
        ctx.t(
            f"This workflow was requested as: “{ctx.request_context()}”.",
            f"该工作流的需求描述：“{ctx.request_context()}”。",
        )
    )
    return " ".join(parts)


def temperature(ops: list[str]) -> float:
    return min(OPS[op].temperature for op in ops)


SCORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": {"type": "number"}, "reason": {"type": "string"}},
    "required": ["score", "reason"],
}
