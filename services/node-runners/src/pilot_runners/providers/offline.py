"""The offline provider: no network, no key, the same answer for the same prompt.

It lets every workflow run end to end (and every test be exact) when no LLM endpoint is
configured. Its answers say plainly that they were composed offline.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from pilot_shared.contracts import Usage

from .base import ChatReply, ChatRequest, OnDelta, estimated_usage, priced_usage

# Nothing is spent offline: usage is counted (estimated) but priced at zero.
OFFLINE_PRICE_MODEL = "offline"
_EXCERPT_CHARS = 160
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Streamed pieces; wide punctuation travels with the CJK text around it.
_PIECE = re.compile(
    r"\s*[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]{1,2}"
    r"|\s*[^\s\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+\s*"
    r"|\s+"
)

# Common labels in other words, so that offline classification of Chinese text works too.
_LABEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "refund": ("退款", "退钱", "退货", "money back"),
    "complaint": ("投诉", "不满", "complain"),
    "billing": ("账单", "付款", "扣费", "invoice", "payment", "charge"),
    "technical": ("故障", "报错", "bug", "error", "crash", "技术"),
    "shipping": ("物流", "快递", "发货", "delivery"),
    "urgent": ("紧急", "马上", "asap", "immediately"),
    "positive": ("好评", "满意", "great", "love", "thanks", "谢谢"),
    "negative": ("差评", "失望", "terrible", "awful", "hate"),
    "question": ("?", "？", "请问", "how", "what", "why"),
    "help": ("帮助", "帮忙", "求助", "support"),
}


def is_chinese(text: str) -> bool:
    return len(_CJK.findall(text)) >= 2


def pieces(text: str) -> list[str]:
    """Stream units: words (with their trailing space) for Latin text, one or two
    characters at a time for Chinese. Joined, they give back `text` exactly."""
    out = _PIECE.findall(text)
    assert "".join(out) == text
    return out


def compose_reply(request: ChatRequest) -> str:
    model = request.model
    excerpt = " ".join(request.prompt.split())
    if len(excerpt) > _EXCERPT_CHARS:
        excerpt = excerpt[: _EXCERPT_CHARS - 1] + "…"
    if is_chinese(request.prompt):
        return (
            f"[offline {model}] 您好！我已收到您的请求：“{excerpt}”。"
            "我会一步一步协助您处理：请补充相关的细节（例如订单号或出现问题的时间），"
            "以便我们尽快为您解决。"
            "（此回复由离线模式生成；设置 PILOT_LLM_API_KEY 即可使用真实模型。）"
        )
    return (
        f'[offline {model}] Thanks for your message. You asked: "{excerpt}". '
        "Here is how I would help: I will look into this step by step; please share any "
        "details that matter (such as an order number or when the problem started) so it "
        "can be resolved quickly. (Composed offline; set PILOT_LLM_API_KEY to use a real model.)"
    )


def skeleton(schema: dict[str, Any], text: str) -> Any:
    """A value of the shape `schema` asks for, with the reply in its string fields."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "object":
        props: dict[str, Any] = schema.get("properties") or {}
        return {key: skeleton(sub, text) for key, sub in props.items()}
    if kind == "array":
        return []
    if kind in ("number", "integer"):
        return 0
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return text


class OfflineProvider:
    name = "offline"

    async def chat(self, request: ChatRequest, on_delta: OnDelta | None = None) -> ChatReply:
        text = compose_reply(request)
        if request.json_schema is not None:
            text = json.dumps(skeleton(request.json_schema, text), ensure_ascii=False)
        if on_delta is not None and request.stream:
            for piece in pieces(text):
                await on_delta(piece)
                await asyncio.sleep(0)  # let the chunks leave while the "model" writes
        prompt = "\n".join(m["content"] for m in request.messages())
        # the model that answered is the offline stand-in, whatever the node asked for
        return ChatReply(text, estimated_usage(OFFLINE_PRICE_MODEL, prompt, text), "offline")

    async def classify(self, text: str, labels: list[str], model: str) -> tuple[str | None, Usage]:
        """Keyword match: the first label whose name (or a common synonym) the text contains."""
        lowered = text.lower()
        chosen = None
        for label in labels:
            words = {
                label.lower(),
                label.lower().replace("_", " "),
                label.lower().replace("-", " "),
            }
            words.update(_LABEL_SYNONYMS.get(label.lower(), ()))
            if any(w and w in lowered for w in words):
                chosen = label
                break
        return chosen, priced_usage(OFFLINE_PRICE_MODEL, 0, 0, estimated=True)

    async def aclose(self) -> None:
        return None
