"""The workflow's input: which fields its steps read, named for what the prompt is about
("ticket", "question", "orders"), and the JSON schema the input node checks them with."""

from __future__ import annotations

import re
from typing import Any

from pilot_shared.contracts import BlueprintStep

from .builder import PlanContext
from .lexicon import en, rx
from .structure import Plan

_BY_CATEGORY: dict[str, str] = {
    "customer_support": "user_message",
    "rag_qa": "question",
    "translation": "text",
    "content_generation": "topic",
    "data_analysis": "data",
    "email_triage": "email",
    "lead_qualification": "lead",
    "content_moderation": "content",
    "list_report": "items",
}
# Things a prompt works on, and the field that carries one of them.
_NOUNS: tuple[tuple[str, Any], ...] = tuple(
    (name, rx(*cues))
    for name, cues in (
        ("ticket", (en("tickets?"), "工单")),
        ("review", (en("reviews?"), "评论", "评价")),
        ("article", (en("articles?"), en(r"blog\s+posts?"), "文章")),
        ("document", (en("documents?"), en("contracts?"), "合同", "文件")),
        ("resume", (en("resumes?"), en(r"cvs?"), "简历")),
        ("feedback", (en("feedback"), "反馈")),
        ("question", (en("questions?"), "问题", "提问")),
        ("comment", (en("comments?"), en("posts?"), "帖子", "留言")),
        ("transcript", (en("transcripts?"), en(r"meeting\s+notes"), "会议记录", "纪要")),
        ("code", (en(r"code"), en(r"pull\s+requests?"), "代码")),
        ("text", (en("text"), en("paragraphs?"), "文本", "这段话", "内容")),
    )
)
_LIST_NAMES_ZH: dict[str, str] = {
    "订单": "orders",
    "评论": "reviews",
    "评价": "reviews",
    "客户": "customers",
    "邮件": "emails",
    "文章": "articles",
    "产品": "products",
    "商品": "products",
    "工单": "tickets",
    "线索": "leads",
    "简历": "resumes",
    "问题": "questions",
    "用户": "users",
    "员工": "employees",
    "链接": "urls",
    "网址": "urls",
    "数据": "rows",
    "行": "rows",
    "记录": "records",
    "发票": "invoices",
    "合同": "contracts",
}
_ZH_FIELDS: dict[str, str] = {
    "user_message": "用户消息",
    "question": "用户问题",
    "text": "文本",
    "topic": "主题",
    "data": "数据",
    "email": "邮件",
    "content": "内容",
    "lead": "销售线索",
    **{en_name: f"{zh}列表" for zh, en_name in _LIST_NAMES_ZH.items()},
}
_INPUT_REF = re.compile(r"(?<![\w.])input\.([A-Za-z_]\w*)")


def _identifier(text: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:40] or "items"


# Where a run can come from: a message on a channel, or a trigger on a storage tool
# ("whenever a new row is added to Google Sheets").
_TRIGGERS = (
    "email",
    "slack",
    "wecom",
    "dingtalk",
    "feishu",
    "webhook",
    "telegram",
    "discord",
    "wechat",
    "google_sheets",
    "jira",
    "notion",
    "database",
)


class InputFields:
    def __init__(self, ctx: PlanContext, plan: Plan, category: str) -> None:
        self.ctx = ctx
        self.plan = plan
        self.category = category
        self.types: dict[str, dict[str, Any]] = {}

    @property
    def input_type(self) -> str:
        """What starts a run: an email, a chat message, a webhook call, a schedule, text."""
        for source in self.plan.sources:
            if source in _TRIGGERS:
                return source
        return "schedule" if self.plan.schedule else "text"

    @property
    def primary(self) -> str:
        if "email" in self.plan.sources:
            return "email"
        if self.category in _BY_CATEGORY and self.category != "list_report":
            return _BY_CATEGORY[self.category]
        for name, cue in _NOUNS:
            if cue.search(self.ctx.prompt):
                return name
        return "user_message"

    def label(self, schema: dict[str, Any] | None = None) -> str:
        """The input node's name: what a run starts from (`schema`: the fields it got)."""
        names = {
            "email": ("Incoming email", "收到的邮件"),
            "slack": ("Slack message", "Slack 消息"),
            "wecom": ("WeCom message", "企业微信消息"),
            "dingtalk": ("DingTalk message", "钉钉消息"),
            "feishu": ("Feishu message", "飞书消息"),
            "webhook": ("Webhook call", "Webhook 请求"),
            "telegram": ("Telegram message", "Telegram 消息"),
            "discord": ("Discord message", "Discord 消息"),
            "wechat": ("WeChat message", "微信消息"),
            "google_sheets": ("New spreadsheet row", "表格新增行"),
            "jira": ("New Jira issue", "新的 Jira 工单"),
            "notion": ("New Notion page", "新的 Notion 页面"),
            "database": ("New database record", "数据库新记录"),
            "schedule": ("Scheduled run", "定时触发"),
        }
        if self.input_type in names:
            return self.ctx.t(*names[self.input_type])
        used = list((schema or {}).get("properties") or {}) or [self.primary]
        field = used[0].replace("_", " ")
        return self.ctx.t(field.capitalize(), _ZH_FIELDS.get(used[0], "输入"))

    def primary_template(self) -> str:
        return "{{ input." + self.primary + " }}"

    def declare(self, fields: dict[str, str]) -> None:
        for name, description in fields.items():
            self.types.setdefault(name, {"type": "string", "description": description})

    def declare_number(self, name: str) -> None:
        self.types[name] = {"type": "number", "description": self.ctx.t(name, name)}

    def declare_limit(self, subject: str) -> str:
        """An input field for a threshold the prompt names without a number."""
        name = f"{subject}_limit" if subject != "value" else "limit"
        self.types[name] = {
            "type": "number",
            "description": self.ctx.t(f"The {subject} limit", f"{subject} 的阈值"),
        }
        return name

    def declare_list(self, noun: str) -> str:
        name = _LIST_NAMES_ZH.get(noun) or next(
            (v for k, v in _LIST_NAMES_ZH.items() if k in noun), None
        )
        if name is None:
            word = _identifier(noun.split()[-1] if noun.split() else "items")
            name = word if word.endswith("s") else re.sub(r"(?<=[^aeiou])y$", "ie", word) + "s"
        self.types[name] = {
            "type": "array",
            "description": self.ctx.t(f"The {name} to go through", f"要逐个处理的{noun}"),
            "minItems": 1,
        }
        return name

    def schema(self, steps: list[BlueprintStep]) -> dict[str, Any]:
        """Every field a step reads, required; typed as declared, text otherwise."""
        used: list[str] = []
        for step in steps:
            for name in _INPUT_REF.findall(repr(step.config)):
                if name not in used:
                    used.append(name)
        properties: dict[str, Any] = {}
        for name in used:
            properties[name] = self.types.get(name) or {
                "type": "string",
                "description": self.ctx.t(f"The {name.replace('_', ' ')}", name),
                "minLength": 1,
            }
        return {"type": "object", "properties": properties, "required": used}
