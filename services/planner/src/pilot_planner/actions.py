"""The actions one clause asks for: fetch (api), look up (knowledge), an LLM operation
(summarize, translate, classify …), send or store (tool), or hand off to a human.

Inside a clause, actions are put in data-flow order (what is fetched, then what is done
with it, then where it goes), because prose names them in any order ("post a summary of
the weather to Slack").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from .apis import api_call
from .entities import INTEGRATION_PATTERNS, extract_entities, integration_of_url, values
from .lexicon import (
    ESCALATE,
    HTTP,
    LLM_OPS,
    NOTIFY_PERSON,
    RETRIEVAL,
    SEND,
    TOOLS,
    WEBHOOK_WORD,
    en,
    rx,
)

ActionKind = Literal["api", "knowledge", "llm", "tool", "escalate"]
_RANK = {"api": 0, "knowledge": 0, "llm": 1, "tool": 2, "escalate": 3}
# A storage tool read from ("读取数据库中的记录", "pull tickets from Jira") is a step too:
# it produces what the rest works on, so it ranks with the fetches.
_READ_RANK = 0

LANGUAGES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("English", "英文", rx(en("english"), "英文", "英语")),
    ("Chinese", "中文", rx(en("chinese"), en("mandarin"), "中文", "汉语", "简体")),
    ("Japanese", "日文", rx(en("japanese"), "日文", "日语")),
    ("Korean", "韩文", rx(en("korean"), "韩文", "韩语")),
    ("French", "法文", rx(en("french"), "法文", "法语")),
    ("German", "德文", rx(en("german"), "德文", "德语")),
    ("Spanish", "西班牙文", rx(en("spanish"), "西班牙文", "西班牙语")),
    ("Russian", "俄文", rx(en("russian"), "俄文", "俄语")),
    ("Portuguese", "葡萄牙文", rx(en("portuguese"), "葡萄牙语")),
    ("Italian", "意大利文", rx(en("italian"), "意大利语")),
    ("Arabic", "阿拉伯文", rx(en("arabic"), "阿拉伯语")),
)
_SAVE = rx(
    en(
        r"(?:save|store|write|add|log|record|append|insert|update|sync|put|create|open|file|raise)\w*"
    ),
    "写入",
    "提交",
    "预约",
    "安排",
    "查询",
    en(r"(?:run|query|execute|book|schedule)\w*"),
    en("against"),
    "保存",
    "记录",
    "存入",
    "存到",
    "同步",
    "添加",
    "录入",
    "更新",
)
# what a storage tool holds, named right after it with no reading verb: "-> jira ticket";
# in Chinese the making is said ("建 Jira 单"), as "把上周的Jira工单统计" reads them
_NEW_RECORD = re.compile(r"(?i)\s*(?:tickets?|issues?|cards?|pages?)(?![a-z])")
_READ_VERB = re.compile(
    r"(?i)(?<![a-z])(?:pull|get|fetch|read|grab|list|load|query|collect|find|search)\w*|[\u4e00-\u9fff]"
)
_MAKE_ZH = re.compile(r"(?:建|创建|新建|开|提)(?:一个|一张|个|张)?\s*$")
_LOOKUP_VERB = re.compile(
    r"^(?:根据|基于|依据|参考|检索|查询|查阅|查|搜索|从|用|在|按照?|对照|翻阅|翻看|翻)\s*"
)
_STORAGE_TOOLS = frozenset({"google_sheets", "notion", "database", "jira", "calendar"})
_SOURCE_BEFORE = re.compile(
    r"(?i)(?:(?<![a-z])(?:from|incoming|received|inbound)(?![a-z])|收到|来自|从)[^,，。;；]{0,8}$|新的?$"
)
_SOURCE_AFTER = re.compile(
    r"^\s*(?:的|里的|中的|里收到|收件|inbox|messages?\b|threads?\b|群消息|消息"
    # "someone in the Telegram group asks …": where the asker is, so where runs start
    r"|(?:group|channel|chat|server|workspace|account)s?\s+(?:asks?|posts?|messages?|writes?|"
    r"says?|mentions?|reports?|requests?)\b)",
    re.IGNORECASE,
)
_SEND_VERB_BEFORE = re.compile(
    r"(?i)(?:(?<![a-z])(?:send|post|notify|alert|ping|push|forward|share|deliver|publish)\w*"
    r"(?:\W+\w+){0,3}\W+$|(?:发送?|推送|通知|提醒|转发|转交|转|同步)(?:到|至|给)?[^，,。]{0,4}$)"
)
# "邮件发他", "微信发我": the channel first, then to whom it goes
_CHANNEL_AFTER_ZH = re.compile(
    r"^.{0,4}?(?:通知|提醒|告警|推送|发送|发给|群|消息)|^\s*发(?:他|她|我|给|出去|过去)"
)
_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+")
_PHONE = re.compile(r"(?<!\d)(?:\+?\d{1,3}[\s-]?)?1[3-9]\d{9}(?!\d)|\+\d{8,15}")
_LABEL_LIST = re.compile(
    # "question classifier: billing / tech / sales -> …": the labels follow the colon
    r"(?:into|as|between|by|(?:classifier|router)\s*:|(?:whether|if)\s+(?:it'?s|it\s+is|this\s+is|"
    r"they'?re|they\s+are)(?:\s+an?)?)\s+(?P<en>[\w\s,/'-]+?)"
    r"(?=$|[.;:，。；]|\s*(?:-+>|→|=>)|\s+(?:and\s+then|then)"
    r"|,?\s+and\s+(?:route|send|forward|post|move|assign|escalate|notify|email|put)\w*(?![\w-]))"
    r"|(?:分为|分成|归为|分类为|分类成|判断是(?!不是|否)|标记为|(?:意图|类别|类型|分类|分类器|路由)[：:]|"
    r"(?:路由|分流|分发)(?:到|给))"
    r"(?P<zh>[\u4e00-\u9fffA-Za-z、，,和或与及/ ]+)",
    re.IGNORECASE,
)


@dataclass
class Action:
    kind: ActionKind
    op: str  # llm: the operation; tool: the tool; api: "fetch"; knowledge: "retrieve"
    text: str  # the clause it came from
    pos: int  # where its cue sits in the prompt
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Detected:
    actions: list[Action]
    sources: list[str]  # channels named as where data comes from ("incoming emails")


def target_language(text: str) -> tuple[str, str] | None:
    """The language a clause translates into: the one named after into/to/成/为."""
    best: tuple[int, tuple[str, str]] | None = None
    for name, zh, pattern in LANGUAGES:
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 8) : m.start()].lower()
            into = re.search(r"(?:into|to|in|成|为|译|到)\s*$", before) is not None
            rank = 0 if into else 1
            if best is None or (rank, m.start()) < (best[0], -1):
                best = (rank, (name, zh))
    return best[1] if best else None


def labels_of(text: str) -> list[str]:
    """Labels listed for a classification ("into urgent, normal or spam")."""
    # "emergency (leak, no heat)": the aside says what the label covers, it is no label;
    # "by product area (billing, api, dashboard)": unless the list is the aside
    found = _labels(re.sub(r"\s*[(（][^()（）]*[)）]", "", text))
    aside = re.search(r"[(（]([^()（）]*)[)）]", text)
    if not found and aside is not None and re.search(r"[,，、/]|\sor\s", aside.group(1)):
        found = _labels("into " + aside.group(1))
    return found


def _labels(text: str) -> list[str]:
    m = _LABEL_LIST.search(text)
    if not m:
        return []
    raw = m.group("en") or m.group("zh") or ""
    parts = re.split(r",|，|、|/|\s+or\s+|\s+and\s+|和|或|与|及|还是", raw)
    labels: list[str] = []
    for part in parts:
        if re.search(r"(?i)(?<![a-z])(?:go|goes|gets?|are|is|should|will|get)(?![a-z])", part):
            break  # "by webhook, warnings go to Slack": what follows is routing, not labels
        if re.match(
            r"(?i)\s*(?:reply|respond|send|post|email|notify|forward|create|open|log|save|store|"
            r"draft|write|then|dispatch|assign|route|escalate|alert|ping)(?![a-z])",
            part,
        ):
            break  # "whether it's a bug and reply": what is done next, not a label
        if re.match(
            r"\s*(?:分别|各自|记录|存到|存入|写入|发到|发给|转给|推送|通知|同步|交给|建|统计|汇总|然后)",
            part,
        ):
            break  # "…还是咨询，分别记录到 Notion": what is done with them, not a label
        words = part.strip().lower()
        words = re.sub(r"^(?:the|an?)\s+", "", words)
        words = re.sub(r"\s+(?:ones?|emails?|messages?|tickets?|categories|category)$", "", words)
        # "紧急的打电话，一般的发邮件": the label is what comes before 的, its action after
        words = re.sub(r"^([\u4e00-\u9fff]{1,6}?)的.+$", r"\1", words)
        words = re.sub(
            r"^([\u4e00-\u9fffa-z]{2,6}?(?:问题|类|咨询|需求|工单|订单|客户|用户)?)"
            r"(?:查|转|发|用|直接|由|交|回复|回答|推送|通知|走|进入|给).*$",
            r"\1",
            words,
        )
        # "服务三类", "低三档": the count of kinds closes the list
        words = re.sub(r"(?:[一二三四五六七八九十两几\d]+)?(?:类|种|档|级|层|组)$", "", words)
        words = re.sub(r"(?:类|的|邮件|工单|消息)$", "", words)
        if re.match(r"其他|其余|其它|剩下|others?$|the rest$|everything else$", words):
            continue  # the other arm is the branch's default, not a label
        slug = re.sub(r"[^\w]+", "_", words).strip("_")
        if slug and len(slug) <= 24 and slug not in labels:
            labels.append(slug)
    return labels if 2 <= len(labels) <= 6 else []


def _llm_ops(text: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    spans: dict[str, tuple[int, int]] = {}
    for op, pattern in LLM_OPS:
        m = pattern.search(text)
        if m:
            found.append((m.start(), op))
            spans[op] = m.span()
    ops = {op for _, op in found}
    if "classify" in ops and "analyze" in ops:
        # "sentiment analysis", "情感分析": one classification, not also an analysis
        c_start, c_end = spans["classify"]
        if c_start <= spans["analyze"][0] <= c_end + 3:
            ops.discard("analyze")
            found = [(p, op) for p, op in found if op != "analyze"]
    # "write"/"generate" only stands when nothing more specific is asked ("生成摘要" is a
    # summary); moderation says what to detect, so "detect" adds no extraction step.
    drop = set()
    if len(ops) > 1:
        drop.add("write")
    if ops & {"moderate", "classify"}:
        drop.add("extract")
    if "moderate" in ops:
        drop.add("classify")
    return sorted((pos, op) for pos, op in found if op not in drop)


def _is_sink(text: str, start: int, end: int, name: str) -> bool:
    before = text[max(0, start - 30) : start]
    after = text[end:]
    if name in ("sms", "calculator", "web_search", "phone"):
        return True
    if _SEND_VERB_BEFORE.search(before):
        return True  # "send a Slack message", "发到飞书"
    if _SOURCE_AFTER.match(after) or _SOURCE_BEFORE.search(text[max(0, start - 16) : start]):
        return False
    if name in _STORAGE_TOOLS:
        if (_NEW_RECORD.match(after) and not _READ_VERB.search(before)) or _MAKE_ZH.search(before):
            return True  # "high sev -> jira ticket", "建 Jira 单": a record is made
        return (
            _SAVE.search(before) is not None
            or _SAVE.search(after[:6]) is not None
            or re.search(r"(?i)(?:to|into)\s+(?:the\s+|our\s+|a\s+)?$|(?:到|至|进)\s*$", before)
            is not None
        )
    if SEND.search(before) or _CHANNEL_AFTER_ZH.match(after):
        return True
    if name == "email" and re.match(r"(?i)\s*(?:please\s+)?send(?![a-z])", text[:start]):
        return True  # "send each subscriber a personalized email"
    if name == "email" and re.search(
        r"(?i)(?<![a-z])(?:gets?|got|receives?|received)\s+(?:an?|the|our|their|his|her|my)\s+"
        r"(?:[\w-]+\s+){0,2}$",
        before,
    ):
        return True  # "warm leads get a follow-up email"
    if name == "email" and (
        re.match(
            r"\s+(?:it|them|me|him|her|us|the|a|an|to|anyone|everyone|everybody|all|those|each|"
            r"every|any|our|my|their|his|your)\b",
            after,
            re.I,
        )
        or (
            text[start:end].lower() in ("email", "e-mail")
            and re.search(r"(?i)(?:^|(?<![a-z])(?:and|then|also|please|to)|[,;])\s*$", before)
            is not None
        )
        or re.match(r"\s+(?:[A-Z]{2,}|[a-z0-9._%+-]+@)", after) is not None  # "emails HR"
        or _ADDRESS.search(text)
    ):
        return True  # "email it to …", "Email ops@…": a verb, or an address to send to
    # a chat channel is almost always where something goes; an email, what comes in
    return name != "email"


def _channels(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    taken = [False] * len(text)
    patterns = [*INTEGRATION_PATTERNS, *((name, (p.pattern,)) for name, p in TOOLS)]
    for name, cues in patterns:
        for cue in cues:
            for m in re.finditer(cue, text, re.IGNORECASE):
                if any(taken[m.start() : m.end()]):
                    continue
                taken[m.start() : m.end()] = [True] * (m.end() - m.start())
                found.append((m.start(), m.end(), name))
    return sorted(found)


def detect(text: str, offset: int, *, allow: frozenset[str] | None = None) -> Detected:
    """Actions of one clause (`offset`: where it starts in the prompt). `allow` limits the
    kinds (a predicate may fetch or look something up, but sends nothing)."""
    entities = extract_entities(text)
    urls = values(entities, "url")
    plain_urls = [u for u in urls if integration_of_url(u) is None]
    actions: list[Action] = []
    sources: list[str] = []

    def add(kind: ActionKind, op: str, pos: int, **params: Any) -> None:
        if allow is None or kind in allow:
            actions.append(Action(kind, op, text, offset + pos, params))

    models = values(entities, "model")
    clause_model = models[0] if models else None
    knowledge = RETRIEVAL.search(text)
    if knowledge:
        # "根据产品说明书": the source is what is looked up, not the verb before it
        source = re.sub(_LOOKUP_VERB, "", knowledge.group().strip())
        add("knowledge", "retrieve", knowledge.start(), source=source)
    http = HTTP.search(text)
    webhook = WEBHOOK_WORD.search(text)
    if (http and not (knowledge and http.start() > knowledge.start() and "下载" not in text)) or (
        plain_urls and not webhook
    ):
        pos = http.start() if http else text.find(plain_urls[0])
        add("api", "fetch", pos, call=api_call(text, plain_urls))
    for pos, op in _llm_ops(text):
        params: dict[str, Any] = {}
        if clause_model:
            params["model"] = clause_model
        if op == "translate":
            lang = target_language(text)
            if lang:
                params["language"] = lang
        if op == "classify":
            labels = labels_of(text)
            if labels:
                params["labels"] = labels
        add("llm", op, pos, **params)
    seen_tools: set[str] = set()
    reads: set[str] = set()  # storage read from: not where results go
    for start, end, name in _channels(text):
        if name in seen_tools:
            continue
        if _is_sink(text, start, end, name):
            seen_tools.add(name)
            add("tool", name, start)
        elif name in _STORAGE_TOOLS:
            seen_tools.add(name)
            reads.add(name)
            add("tool", name, start, read=True)
        elif name not in sources:
            sources.append(name)
    if _PHONE.search(text) and "sms" not in seen_tools and re.search(r"(?i)sms|短信|text", text):
        add("tool", "sms", _PHONE.search(text).start())  # type: ignore[union-attr]
    emailing = re.search(r"(?i)(?<![a-z])(?:by|via|through|and|then)\s+e-?mailing\s+\w", text)
    if emailing and "email" not in seen_tools:
        seen_tools.add("email")  # "reorder them by emailing the supplier"
        add("tool", "email", emailing.start())
    address = _ADDRESS.search(text)
    if address and "email" not in seen_tools and SEND.search(text[: address.start()]):
        seen_tools.add("email")  # "alert ops@example.com": an address is where mail goes
        add("tool", "email", address.start())
    hashtag = re.search(r"(?<![\w&])#[A-Za-z][\w-]*", text)
    if hashtag and not seen_tools - reads and SEND.search(text[: hashtag.start()]):
        seen_tools.add("slack")  # "post them to #announcements": a Slack channel
        add("tool", "slack", hashtag.start())
    person = NOTIFY_PERSON.search(text)
    if person and not seen_tools - reads and "email" not in sources:
        add("tool", "email", person.start())
    escalate = ESCALATE.search(text)
    if escalate and text[max(0, escalate.start() - 1) : escalate.start()] != "#":
        add("escalate", "escalate", escalate.start())
    actions.sort(key=_order)
    return Detected(actions, sources)


def _order(action: Action) -> tuple[int, int]:
    # a web search, like a read, produces what the clause's other steps work on
    source = action.params.get("read") or (action.kind == "tool" and action.op == "web_search")
    return (_READ_RANK if source else _RANK[action.kind], action.pos)
