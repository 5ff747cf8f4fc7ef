"""Tool steps for integrations (Slack, email, 企业微信, 钉钉, 飞书, webhooks, …).

Params carry what the prompt told us (a channel, an address, a webhook URL) and the message
to send; whatever is missing is left for the user to fill in on the canvas rather than
invented here.
"""

from __future__ import annotations

from typing import Any

from .builder import BlueprintBuilder, PlanContext
from .entities import integration_of_url, values

_CHAT_WEBHOOKS = ("wecom", "dingtalk", "feishu")


def tool_config(name: str, ctx: PlanContext, message: str, subject: str) -> dict[str, Any]:
    urls = values(ctx.entities, "url")
    params: dict[str, Any]
    if name == "slack":
        channels = values(ctx.entities, "channel")
        params = {"channel": channels[0] if channels else "#general", "text": message}
    elif name == "email":
        params = {"subject": subject, "body": message}
        addresses = values(ctx.entities, "email_address")
        if addresses:
            params["to"] = addresses
    elif name in _CHAT_WEBHOOKS:
        params = {"msgtype": "text", "content": message}
        own = [u for u in urls if integration_of_url(u) == name]
        if own:
            params["webhook_url"] = own[0]
    elif name == "webhook":
        params = {"method": "POST", "payload": {"subject": subject, "text": message}}
        plain = [u for u in urls if integration_of_url(u) is None]
        if plain:
            params["url"] = plain[0]
    else:
        params = {"text": message}
    return {"tool": name, "params": params}


def add_tools(b: BlueprintBuilder, ctx: PlanContext, message: str, subject: str) -> list[str]:
    """One unconnected tool step per integration, in the order the user asked for them."""
    return [
        b.add(
            "tool",
            ctx.t(f"Send to {_EN_NAMES.get(name, name)}", f"发送到{_ZH_NAMES.get(name, name)}"),
            tool_config(name, ctx, message, subject),
        )
        for name in ctx.integrations
    ]


_EN_NAMES = {
    "wecom": "WeCom",
    "dingtalk": "DingTalk",
    "feishu": "Feishu",
    "wechat": "WeChat",
    "email": "email",
    "slack": "Slack",
    "webhook": "webhook",
    "discord": "Discord",
    "telegram": "Telegram",
}
_ZH_NAMES = {
    "wecom": "企业微信",
    "dingtalk": "钉钉",
    "feishu": "飞书",
    "wechat": "微信",
    "email": "邮件",
    "slack": "Slack",
    "webhook": "Webhook",
}
