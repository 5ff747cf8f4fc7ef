"""Tool steps for integrations (Slack, email, 企业微信, 钉钉, 飞书, webhooks, …).

Params carry what the prompt told us (a channel, an address, a webhook URL) and the message
to send; whatever is missing is left for the user to fill in on the canvas rather than
invented here.
"""

from __future__ import annotations

import re
from typing import Any

from .builder import BlueprintBuilder, PlanContext
from .entities import integration_of_url, values

_CHAT_WEBHOOKS = ("wecom", "dingtalk", "feishu")
_PHONE = re.compile(r"(?<!\d)(?:\+?\d{1,3}[\s-]?)?1[3-9]\d{9}(?!\d)|\+\d{8,15}")


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
    elif name == "sms":
        params = {"message": message}
        phones = _PHONE.findall(ctx.prompt)
        if phones:
            params["to"] = phones[0]
    elif name == "calculator":
        params = {"expression": message}
    elif name == "web_search":
        params = {"query": message, "max_results": 5}
    elif name in ("google_sheets", "database", "notion", "jira", "calendar"):
        params = {"action": "append", "record": {"content": message, "subject": subject}}
    else:
        params = {"text": message}
    return {"tool": name, "params": params}


def tool_name(ctx: PlanContext, name: str) -> str:
    """The step name: "Send to Slack", or what a non-channel tool does."""
    if name in _ACTION_NAMES:
        return ctx.t(*_ACTION_NAMES[name])
    return ctx.t(f"Send to {_EN_NAMES.get(name, name)}", f"发送到{_ZH_NAMES.get(name, name)}")


def read_name(ctx: PlanContext, name: str) -> str:
    """The step name of a storage tool read from: "Read from Jira"."""
    return ctx.t(f"Read from {_EN_NAMES.get(name, name)}", f"读取{_ZH_NAMES.get(name, name)}")


def add_tools(b: BlueprintBuilder, ctx: PlanContext, message: str, subject: str) -> list[str]:
    """One unconnected tool step per integration, in the order the user asked for them."""
    return [
        b.add("tool", tool_name(ctx, name), tool_config(name, ctx, message, subject))
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
    "sms": "SMS",
    "discord": "Discord",
    "telegram": "Telegram",
    "google_sheets": "Google Sheets",
    "database": "the database",
    "notion": "Notion",
    "jira": "Jira",
    "calendar": "the calendar",
}
_ZH_NAMES = {
    "wecom": "企业微信",
    "dingtalk": "钉钉",
    "feishu": "飞书",
    "wechat": "微信",
    "email": "邮件",
    "slack": "Slack",
    "webhook": "Webhook",
    "sms": "短信",
    "discord": "Discord",
    "telegram": "Telegram",
    "google_sheets": "表格",
    "database": "数据库",
    "notion": "Notion",
    "jira": "Jira",
    "calendar": "日历",
}
_ACTION_NAMES: dict[str, tuple[str, str]] = {
    "email": ("Send email", "发送邮件"),
    "sms": ("Send SMS", "发送短信"),
    "phone": ("Phone call", "电话通知"),
    "calculator": ("Calculate", "计算"),
    "web_search": ("Search the web", "联网搜索"),
    "google_sheets": ("Save to spreadsheet", "写入表格"),
    "database": ("Save to database", "写入数据库"),
    "notion": ("Save to Notion", "保存到 Notion"),
    "jira": ("Create Jira issue", "创建 Jira 工单"),
    "calendar": ("Add to calendar", "添加到日历"),
}
