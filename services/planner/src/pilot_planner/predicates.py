"""What a condition clause tests: a threshold on a number, a concept an LLM can label
(negative, urgent, spam …), "nothing was found", a failure, or a yes/no question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .lexicon import COMPARATORS, NUMBER, en, rx

PredicateKind = Literal["threshold", "concept", "not_found", "failure", "yesno"]

CONCEPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "negative",
        rx(
            en("negative"),
            en("angry"),
            en("unhappy"),
            en("dissatisfied"),
            en("upset"),
            en("frustrated"),
            en(r"bad\s+reviews?"),
            en(r"(?:1|one|2|two)[\s-]stars?"),
            en(r"low\s+ratings?"),
            "一星",
            "1星",
            "负面",
            "不满",
            "生气",
            "愤怒",
            "差评",
            "抱怨",
            "情绪激动",
        ),
    ),
    ("positive", rx(en("positive"), en("happy"), en("satisfied"), "正面", "好评", "满意")),
    (
        "urgent",
        rx(
            en("urgent"),
            en("critical"),
            en(r"high[\s-]priority"),
            en("emergency"),
            en("p0"),
            en("severe"),
            "紧急",
            "加急",
            "严重",
            "高优先级",
        ),
    ),
    ("spam", rx(en("spam"), en("junk"), "垃圾")),
    ("complaint", rx(en(r"complain\w*"), "投诉")),
    ("refund", rx(en(r"refunds?"), "退款", "退货")),
    (
        "flagged",
        rx(
            en("inappropriate"),
            en(r"toxic\w*"),
            en("offensive"),
            en("harmful"),
            en(r"violat\w*"),
            en("nsfw"),
            en("unsafe"),
            en("abusive"),
            en(r"flag(?:ged)?"),
            "违规",
            "不当",
            "敏感",
            "违法",
            "辱骂",
            "不合规",
        ),
    ),
    (
        "qualified",
        rx(
            en("qualified"),
            en(r"hot\s+leads?"),
            en(r"good\s+fit"),
            en(r"high[\s-]intent"),
            en("promising"),
            "高意向",
            "优质",
            "合格",
            "意向强",
        ),
    ),
    ("vip", rx(en("vip"), "大客户")),
    (
        "high_risk",
        rx(
            en(r"high[\s-]risk"),
            en("risky"),
            en("suspicious"),
            en(r"fraud\w*"),
            "高风险",
            "有风险",
            "可疑",
            "欺诈",
        ),
    ),
    ("bug", rx(en("bugs?"), en(r"technical\s+(?:issues?|problems?)"), "故障", "技术问题")),
)
NOT_FOUND = rx(
    en(r"(?:not|n't|never)\s+(?:be\s+)?(?:found|find|answer\w*|know\w*|covered|in\s+the)"),
    en(r"no\s+(?:answer|result|match|relevant)\w*"),
    en(r"(?:can't|cannot|can\s+not|unable\s+to|fails?\s+to)\s+(?:find|answer|help|resolve|solve)"),
    en(r"(?:low|little)\s+confidence"),
    en(r"confidence\s+is\s+low"),
    en(r"(?:not|isn't|is\s+not)\s+sure"),
    en(r"unsure"),
    en(r"uncertain"),
    en(r"(?:not|isn't|is\s+not)\s+confident"),
    en(r"unanswer\w*"),
    en(r"nothing\s+(?:is\s+|was\s+)?(?:found|relevant)"),
    "找不到",
    "没有找到",
    "未找到",
    "查不到",
    "无法回答",
    "答不上",
    "不知道",
    "没有答案",
    "没有相关",
    "未命中",
    "无结果",
    "回答不了",
    "答不了",
    "答不上来",
    "无法解答",
    "解决不了",
    "处理不了",
    "不会回答",
    "帮不了",
    "无法解决",
    "无法处理",
    "没把握",
    "不确定",
)
FAILURE = rx(
    en(r"fails?"),
    en("failed"),
    en(r"errors?"),
    en(r"(?:goes|is)\s+down"),
    en("unreachable"),
    en(r"times?\s+out"),
    "失败",
    "出错",
    "报错",
    "错误",
    "异常",
    "超时",
    "挂了",
)
_CALL_FAILS = rx(
    en(
        r"(?:api|call|request|fetch|it|this|that|site|website|server|service|endpoint|page)\w*"
        r"(?:\s+\w+){0,3}\s+(?:fails?|failed|errors?|times?\s+out|is\s+down|goes\s+down)"
    ),
    "(?:接口|调用|请求|抓取|服务|网站|访问|它)[\u4e00-\u9fff]{0,4}(?:失败|出错|报错|错误|超时|挂了|异常)",
)
# A state a "when" clause tests ("whenever something is degraded"): a branch, not a trigger.
_STATE = rx(
    en(
        r"(?:is|are|gets?|becomes?|goes|looks|seems|was|were|changes?\s+to|turns?)\s+(?:\w+\s+)?"
        r"(?:degraded|down|broken|late|overdue|missing|empty|slow|high|low|unavailable|offline|"
        r"stale|expired|invalid|wrong|outdated|abnormal|unusual|critical|failing|red)"
    ),
    en(r"(?:doesn't|does\s+not|didn't|can't|cannot|won't|isn't)\s+\w+"),
    # what someone says is a question about the message, not an event
    en(r"(?:says?|mentions?|wants?\s+to|requests?|threatens?|contains?)"),
    en(r"(?:is|are)\s+(?:about|related\s+to|in\s+[A-Z]\w+)"),
    "涉及",
    "关于",
    "包含",
    "说要",
    "说想",
    "提到",
    "要求",
    "想要",
    "表示",
    "缺货",
    "售罄",
    "断货",
    "下架",
    en(r"out\s+of\s+stock"),
    en(r"sold\s+out"),
    "不可用",
    "异常",
    "延迟",
    "过期",
    "为空",
    "缺失",
    "下降",
    "上升",
    "不足",
    "下雨",
    "降雨",
)
SUBJECTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("temperature", rx(en("temperatures?"), en("temp"), en("degrees?"), "气温", "温度", "度")),
    ("rate", rx(en(r"(?:exchange\s+)?rates?"), "汇率")),
    (
        "amount",
        rx(
            en("amount"),
            en(r"order\s+(?:value|total)"),
            en("total"),
            en("spend"),
            "金额",
            "总额",
            "总价",
            "消费",
            "元",
        ),
    ),
    ("price", rx(en("prices?"), en("costs?"), "价格", "价钱", "股价", "币价", "售价", "费用")),
    ("score", rx(en("scores?"), en("ratings?"), "分数", "评分", "得分", "分")),
    ("stars", rx(en("stars"), "星标", "star")),
    ("sales", rx(en("sales"), en("revenue"), "销售额", "销量", "营收")),
    ("stock", rx(en("stock"), en("inventory"), "库存")),
    ("count", rx(en("count"), en(r"number\s+of"), en("quantity"), "数量", "个数", "次数")),
    ("balance", rx(en("balance"), "余额")),
    ("days", rx(en("days"), "天")),
)


@dataclass(frozen=True)
class Predicate:
    kind: PredicateKind
    text: str
    op: str = ">"
    value: float = 0.0
    subject: str = "value"
    labels: tuple[str, ...] = field(default_factory=tuple)
    # a threshold the prompt does not quantify ("低于安全值"): the user sets it as input
    open_limit: bool = False

    @property
    def handles(self) -> tuple[str, str]:
        """(the handle whose branch runs when the predicate holds, the other one)."""
        if self.kind == "threshold":
            return ("true", "false")
        if self.kind == "not_found":
            return ("true", "false")
        if self.kind == "failure":
            return ("error", "")
        return (self.labels[0] if self.labels else "yes", "other")


def _number(text: str) -> float | None:
    m = NUMBER.search(text)
    if not m:
        return None
    value = float(m.group("num").replace(",", ""))
    unit = (m.group("unit") or "").lower()
    value *= {"k": 1_000, "千": 1_000, "万": 10_000, "百万": 1_000_000}.get(unit, 1)
    return -value if m.group("sign") else value


def threshold(text: str, *, open_limit: bool = False) -> Predicate | None:
    """A comparison with a number; with `open_limit`, also one without ("below the safety
    level"), whose limit becomes an input."""
    for op, pattern in COMPARATORS:
        m = pattern.search(text)
        if not m:
            continue
        value = _number(text[m.end() :])
        if value is None and not open_limit:
            continue
        subject = "value"
        named = re.search(r"([a-z]+(?:_[a-z0-9]+)+)\W*(?:is\s+|was\s+)?$", text[: m.start()])
        if named:  # "if error_rate is above 5": the prompt names the field itself
            return Predicate(
                "threshold",
                text,
                op=op,
                value=value or 0.0,
                subject=named.group(1),
                open_limit=value is None,
            )
        # the thing compared is named before the comparison, or as its unit after it
        for name, cue in SUBJECTS:
            if cue.search(text[: m.start()]) or cue.search(text[m.end() :][:12]):
                subject = name
                break
        return Predicate(
            "threshold", text, op=op, value=value or 0.0, subject=subject, open_limit=value is None
        )
    return None


def concepts(text: str) -> list[str]:
    return [label for label, cue in CONCEPTS if cue.search(text)]


def analyze_predicate(text: str, *, when: bool = False) -> Predicate | None:
    """The predicate of a condition clause; None when the clause only says when the
    workflow starts ("when a new email arrives"), which is a trigger, not a branch."""
    found = threshold(text)
    if found:
        return found
    if NOT_FOUND.search(text):
        return Predicate("not_found", text)
    labels = concepts(text)
    if labels:
        return Predicate("concept", text, labels=tuple(labels[:1]))
    open_ended = threshold(text, open_limit=True)
    if open_ended is not None and open_ended.op in (">", "<"):
        return open_ended
    if FAILURE.search(text):
        # "if the API call fails" is about the call; "if a payment failed", about the data
        if _CALL_FAILS.search(text):
            return Predicate("failure", text)
        return Predicate("concept", text, labels=("failed",))
    if not text.strip():
        return None
    if when and not _STATE.search(text):
        return None  # "when a new email arrives": an event starts the workflow
    return Predicate("yesno", text, labels=("yes",))


def has_comparison(text: str) -> bool:
    return threshold(text) is not None
