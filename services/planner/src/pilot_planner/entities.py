"""Entities a prompt names: integrations, models, URLs, channels, addresses, a reply language.

Rules, not a model: every pattern is bounded by ASCII word edges (never `\\b`, which does
not fire between a Chinese character and a Latin letter, as in "发到slack").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pilot_shared.contracts import Entity


def _word(pattern: str) -> str:
    return rf"(?<![A-Za-z0-9_])(?:{pattern})(?![A-Za-z0-9_])"


# Canonical integration names and what a prompt may call them. Order matters: longer names
# are matched (and masked) first, so 企业微信 is wecom and not also wechat.
INTEGRATION_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wecom", ("企业微信", "企微", _word("wecom"), _word("wework"), _word(r"wechat\s+work"))),
    ("dingtalk", ("钉钉", _word(r"ding\s?talk"))),
    ("feishu", ("飞书", _word("feishu"), _word("lark"))),
    ("wechat", ("微信", _word("wechat"))),
    ("slack", (_word("slack"),)),
    (
        "email",
        (
            "电子邮件",
            "邮件",
            "邮箱",
            "收件箱",
            _word(r"e-?mails?"),
            _word("inbox"),
            _word("mailbox(?:es)?"),
            _word(r"mailing\s+lists?"),
            # mail services named for the mail itself: "my unread gmail"
            _word("gmail"),
            _word(r"outlook(?=\s+(?:mail|inbox|e-?mails?))"),
            # mail senders by product name
            _word(r"mailchimp|sendgrid|mailgun|postmark|amazon\s+ses"),
        ),
    ),
    # alerting and automation services take events over a webhook
    ("webhook", (_word("webhooks?"), _word(r"pagerduty|opsgenie|zapier|ifttt|make\.com"))),
    ("discord", (_word("discord"),)),
    ("telegram", (_word("telegram"),)),
)

# Names a user may put in `user_preferences.integrations`, mapped to canonical ones.
INTEGRATION_ALIASES: dict[str, str] = {
    "企业微信": "wecom",
    "企微": "wecom",
    "wework": "wecom",
    "wechat_work": "wecom",
    "钉钉": "dingtalk",
    "ding_talk": "dingtalk",
    "飞书": "feishu",
    "lark": "feishu",
    "微信": "wechat",
    "e-mail": "email",
    "mail": "email",
    "邮件": "email",
    "邮箱": "email",
    "webhooks": "webhook",
}

# Incoming-webhook hosts that say which integration a URL belongs to.
_URL_HOSTS: dict[str, str] = {
    "hooks.slack.com": "slack",
    "qyapi.weixin.qq.com": "wecom",
    "oapi.dingtalk.com": "dingtalk",
    "open.feishu.cn": "feishu",
    "open.larksuite.com": "feishu",
    "discord.com": "discord",
}

_MODEL = re.compile(
    _word(
        r"(?:gpt-?4o(?:[-\s]mini)?|gpt-?4\.1(?:-mini|-nano)?|gpt-?4(?:-turbo)?|gpt-?3\.5(?:-turbo)?"
        r"|claude(?:-[a-z0-9.]+)*|qwen[0-9.]*(?:-[a-z0-9.]+)*|deepseek(?:-[a-z0-9.]+)*"
        r"|llama-?[0-9.]+(?:-[a-z0-9.]+)*|gemini(?:-[a-z0-9.]+)+|mistral(?:-[a-z0-9.]+)*"
        # vendors' families, named with a version or size ("glm-4", "yi-large",
        # "moonshot-v1-8k", "ernie-4.0", "doubao-pro-32k", "o3-mini")
        r"|(?:chat)?glm-?[0-9][a-z0-9.]*(?:-[a-z0-9.]+)*|yi-(?:large|medium|lightning|spark|"
        r"vision|[0-9][a-z0-9.]*)(?:-[a-z0-9.]+)*|moonshot-v[0-9][a-z0-9.]*(?:-[a-z0-9.]+)*"
        r"|kimi(?:-[a-z0-9.]+)*|ernie(?:-?bot)?(?:-[a-z0-9.]+)*|doubao(?:-[a-z0-9.]+)*"
        r"|baichuan[0-9]*(?:-[a-z0-9.]+)*|hunyuan(?:-[a-z0-9.]+)*|abab[0-9][a-z0-9.]*(?:-[a-z0-9.]+)*"
        r"|minimax-[a-z0-9.]+(?:-[a-z0-9.]+)*|mixtral(?:-[a-z0-9.]+)*|gemma-?[0-9][a-z0-9.]*"
        r"(?:-[a-z0-9.]+)*|phi-[0-9][a-z0-9.]*(?:-[a-z0-9.]+)*|command-r(?:-plus)?|grok-?[0-9]"
        r"[a-z0-9.]*(?:-[a-z0-9.]+)*|o[134](?:-mini|-preview|-pro)?|internlm[0-9]*(?:-[a-z0-9.]+)*"
        r"|spark-(?:lite|pro|max|[0-9][a-z0-9.]*)|step-[0-9][a-z0-9.]*(?:-[a-z0-9.]+)*)"
    ),
    re.IGNORECASE,
)
# A model named by what is said around it, for families not listed above: "use acme-3
# to …", "用 foo-v2 写", "the zeta-7b model".
_MODEL_IN_CONTEXT = re.compile(
    r"(?i)(?:(?<![A-Za-z])(?:use|using|with|via|run\s+on|用|使用|调用|采用|通过)\s*"
    r"(?P<a>[a-z][a-z]+-v?[0-9][a-z0-9.]*(?:-[a-z0-9.]+)*)(?![A-Za-z0-9_])"
    r"|(?<![A-Za-z0-9_])(?P<b>[a-z][a-z]+-v?[0-9][a-z0-9.]*(?:-[a-z0-9.]+)*)\s*"
    r"(?:(?<![A-Za-z])models?(?![A-Za-z])|模型|大模型))"
)
# Versioned names that are not models.
_NOT_MODELS = re.compile(
    r"(?i)^(?:utf|iso|sha|md|base|covid|rfc|ipv|http|tls|ssl|win|windows|ubuntu|debian|python|"
    r"node|php|es|ecma|mp|vue|react|angular|java|jdk|ie|usb|wifi|pm|sars|h|x|v|top)-"
)
_MODEL_NAMES_ZH: dict[str, str] = {
    "通义千问": "qwen-plus",
    "千问": "qwen-plus",
    "深度求索": "deepseek-chat",
}
# A bare family name stands for that family's usual default.
_BARE_MODELS: dict[str, str] = {
    "claude": "claude-3-5-sonnet",
    "deepseek": "deepseek-chat",
    "qwen": "qwen-plus",
    "gpt-3.5": "gpt-3.5-turbo",
    "mistral": "mistral-small",
}

_URL = re.compile(r"https?://[^\s<>\"'，。；、）)\]]+", re.IGNORECASE)
_ADDRESS = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_CHANNEL = re.compile(r"(?<![A-Za-z0-9_&#])#[A-Za-z0-9][A-Za-z0-9_\-]{0,79}")
_REPLY_LANGUAGE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("zh", re.compile(r"用中文|中文回复|中文回答|in (?:chinese|mandarin)", re.IGNORECASE)),
    ("en", re.compile(r"用英文|用英语|英文回复|英语回复|英文回答|in english", re.IGNORECASE)),
)


@dataclass(frozen=True)
class _Found:
    start: int
    entity: Entity


def normalize_model(name: str) -> str:
    model = name.lower().rstrip(".-")
    model = re.sub(r"^gpt(?=[0-9])", "gpt-", model)
    model = re.sub(r"\s+", "-", model)  # "GPT-4o mini"
    return _BARE_MODELS.get(model, model)


def normalize_integration(name: str) -> str | None:
    """A canonical integration name, or None for a name that is not a plain identifier."""
    key = name.strip().lower()
    key = INTEGRATION_ALIASES.get(key, key)
    return key if re.fullmatch(r"[a-z][a-z0-9_\-]{0,39}", key) else None


def integration_of_url(url: str) -> str | None:
    """The integration whose incoming-webhook host `url` points at, if any."""
    return _URL_HOSTS.get((urlsplit(url).hostname or "").lower())


def extract_entities(prompt: str) -> list[Entity]:
    """Every entity the prompt names, in order of first appearance, each value once."""
    found: list[_Found] = []
    text = prompt

    def mask(match: re.Match[str]) -> None:
        nonlocal text
        text = text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]

    for m in list(_URL.finditer(text)):
        url = m.group().rstrip(".,;:!?")
        found.append(_Found(m.start(), Entity(kind="url", value=url, text=url)))
        integration = integration_of_url(url)
        if integration:
            found.append(_Found(m.start(), Entity(kind="integration", value=integration, text=url)))
        mask(m)
    for m in list(_ADDRESS.finditer(text)):
        found.append(
            _Found(m.start(), Entity(kind="email_address", value=m.group(), text=m.group()))
        )
        mask(m)
    for m in list(_CHANNEL.finditer(text)):
        found.append(_Found(m.start(), Entity(kind="channel", value=m.group(), text=m.group())))
    for m in list(_MODEL.finditer(text)):
        found.append(
            _Found(
                m.start(), Entity(kind="model", value=normalize_model(m.group()), text=m.group())
            )
        )
        mask(m)
    for m in list(_MODEL_IN_CONTEXT.finditer(text)):
        name = m.group("a") or m.group("b")
        if name and not _NOT_MODELS.match(name):
            start = m.start("a") if m.group("a") else m.start("b")
            found.append(_Found(start, Entity(kind="model", value=name.lower(), text=name)))
            text = text[:start] + " " * len(name) + text[start + len(name) :]
    for zh_name, model in _MODEL_NAMES_ZH.items():
        for m in list(re.finditer(zh_name, text)):
            found.append(_Found(m.start(), Entity(kind="model", value=model, text=zh_name)))
            mask(m)
    for integration, patterns in INTEGRATION_PATTERNS:
        for pattern in patterns:
            for m in list(re.finditer(pattern, text, re.IGNORECASE)):
                found.append(
                    _Found(m.start(), Entity(kind="integration", value=integration, text=m.group()))
                )
                mask(m)
    for language, cue in _REPLY_LANGUAGE:
        for m in cue.finditer(text):
            found.append(_Found(m.start(), Entity(kind="language", value=language, text=m.group())))

    found.sort(key=lambda f: f.start)
    seen: set[tuple[str, str]] = set()
    entities: list[Entity] = []
    for f in found:
        key = (f.entity.kind, f.entity.value)
        if key not in seen:
            seen.add(key)
            entities.append(f.entity)
    return entities


def name_spans(entities: list[Entity]) -> list[str]:
    """Text of entities that are names (products, models, addresses), which say nothing
    about the language the prompt is written in."""
    return [e.text for e in entities if e.kind != "language"]


def values(entities: list[Entity], kind: str) -> list[str]:
    return [e.value for e in entities if e.kind == kind]
