"""What a condition clause tests: a threshold on a number, a concept an LLM can label
(negative, urgent, spam …), "nothing was found", a failure, or a yes/no question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
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
    # the top of a range ("$1k to $10k", "60 到 80 分"): op is ">=" on value, "<=" on this
    upper: float | None = None

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


_AMOUNT = (
    r"[$¥€£]?\s*\d+(?:[.,]\d+)*\s*(?:[kK](?![a-zA-Z])|[mM](?![a-zA-Z])|万|千|百万|%|percent)?"
    r"\s*(?:分|元|块钱?|美元|天|日|小时|个|件|单|人|次|度|星|points?|dollars?|days?|hours?|units?|"
    r"stars?)?"
)
# "80 分以上", "5k or more", "60 分以下": the comparison after its number
POSTFIX = re.compile(
    rf"(?P<num>{_AMOUNT})\s*(?:(?P<ge>(?:及|或)?以上|\+|or\s+(?:more|above|higher)|and\s+(?:up|above))"
    rf"|(?P<le>(?:及|或)?以下|(?:及|或)?以内|or\s+(?:less|below|under|fewer)|and\s+(?:under|below)))",
    re.IGNORECASE,
)
# "$1k to $10k", "60 到 80 分", "between 5 and 10"
RANGE = re.compile(
    rf"(?i)(?<![A-Za-z0-9_.-])(?:between\s+)?(?P<lo>{_AMOUNT})\s*(?:to|-|–|~|到|至|and)\s*"
    rf"(?P<hi>{_AMOUNT})(?![A-Za-z0-9_])(?!\s*(?:days?\s+ago|[:：]))"
)


def _postfix(text: str) -> Predicate | None:
    m = POSTFIX.search(text)
    if m is not None:
        value = _number(m.group("num"))
        if value is not None:
            return Predicate("threshold", text, op=">=" if m.group("ge") else "<=", value=value)
    # "判断激烈程度（1-5 分）", "rate it (1-10)": a scale in brackets is no test
    r = RANGE.search(re.sub(r"[(（][^()（）]*[)）]", lambda m: " " * len(m.group()), text))
    # a bare "3-5" is a count ("3-5 bullet points"), not a band: a currency, unit or
    # "between" says it is one
    banded = r is not None and (
        r.group().lower().startswith("between")
        or re.search(r"[$¥€£kK万千分元块天%星]|dollars?|points?|percent|stars?", r.group())
        is not None
    )
    if r is not None and banded:
        lo, hi = _number(r.group("lo")), _number(r.group("hi"))
        # "$1k to $10k": a unit said once applies to both ends
        unit_hi, unit_lo = r.group("hi").strip()[-1:], r.group("lo").strip()[-1:]
        if (
            lo is not None
            and hi is not None
            and unit_hi in "kK万千"
            and unit_lo not in "kK万千"
            and lo < hi / 1000
        ):
            lo *= 1000 if unit_hi in "kK千" else 10_000
        if lo is not None and hi is not None and lo < hi:
            return Predicate("threshold", text, op=">=", value=lo, upper=hi)
    return None


_SPELLED_SPAN = re.compile(r"(?i)\s*(?:a|an|one)\s+(day|week|fortnight|month|year)(?![a-z])")
_SPAN_DAYS = {"day": 1.0, "week": 7.0, "fortnight": 14.0, "month": 30.0, "year": 365.0}


def threshold(text: str, *, open_limit: bool = False) -> Predicate | None:
    """A comparison with a number; with `open_limit`, also one without ("below the safety
    level"), whose limit becomes an input."""
    after = _postfix(text)
    if after is not None:
        for name, cue in SUBJECTS:
            if cue.search(text):
                return replace(after, subject=name)
        return after
    for op, pattern in COMPARATORS:
        m = pattern.search(text)
        if not m:
            continue
        value = _number(text[m.end() :])
        spelled = _SPELLED_SPAN.match(text[m.end() :])
        if value is None and spelled is not None:  # "older than a week"
            value = _SPAN_DAYS[spelled.group(1).lower()]
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


# "it's a question", "a blog comment is spam", "是提问", "属于售后问题": a test of what kind
# a thing is. Several in a row on one subject are one route with an arm per kind.
_KIND_EN = re.compile(
    r"(?i)^\s*(?:it|this|that|they|the\s+[\w-]+(?:\s+[\w-]+)?|an?\s+[\w-]+(?:\s+[\w-]+)?)\s*"
    r"(?:is|'s|are|was)\s+(?!not\b|no\b|n't)(?:an?\s+|about\s+|related\s+to\s+|regarding\s+)?"
    r"(?P<l>[a-z][\w-]*(?:\s+[a-z][\w-]*)?)\s*[.!]?\s*$"
)
_KIND_ZH = re.compile(
    r"^\s*[\u4e00-\u9fffA-Za-z]{0,6}?(?:是|属于|关于|涉及)(?!否|不是|不)"
    r"(?P<l>[\u4e00-\u9fffA-Za-z]{1,6}?)(?:类|相关|方面)?(?:的(?:问题|话|情况)?|问题)?\s*$"
)
# "the tracking API says it's out for delivery", "it says delivered": what a source
# reports, said as its verdict
_SAYS_EN = re.compile(
    r"(?i)^\s*(?:it|this|that|they|the\s+[\w-]+(?:\s+[\w-]+){0,3})\s+"
    r"(?:says?|shows?|reads?|reports?|returns?|comes\s+back(?:\s+as)?)\s+(?:that\s+)?"
    r"(?:(?:my|the|our|it|its|this)\s+(?:[\w-]+\s+){0,2}?(?:is|are|was|has\s+been)\s+|it'?s\s+)?"
    r"(?!not\b|no\b)(?:an?\s+)?(?P<l>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})\s*[.!]?\s*$"
)
_NOT_KIND = re.compile(r"(?i)^(?:done|ready|true|false|ok|okay|empty|new|there|it|one)$")


def kind_label(text: str) -> str | None:
    """The kind a yes/no or concept test names ("if it's a question" -> "question"), or
    None when the test is about something else (a number, a state, whether it exists)."""
    if has_comparison(text) or NOT_FOUND.search(text):
        return None
    m = _KIND_EN.match(text) or _SAYS_EN.match(text) or _KIND_ZH.match(text)
    if m is None or _NOT_KIND.match(m.group("l")):
        return None
    # "if it says delivered just text me": the adverb belongs to what is done
    label = re.sub(r"(?i)\s+(?:just|then|only|simply|please|also)$", "", m.group("l").strip())
    slug = re.sub(r"[^\w]+", "_", label.lower()).strip("_")
    return slug or None


def comparison_end(text: str) -> int | None:
    """Where the comparison that opens a clause ends ("above $10k| the CFO gets an email",
    "60 到 80 分|延长试用期"), or None when the clause does not open with one."""
    ends: list[int] = []
    for m in (POSTFIX.search(text), RANGE.search(text)):
        if m is not None and m.start() <= 12:
            ends.append(m.end())
    for _, pattern in COMPARATORS:
        m = pattern.search(text)
        if m is not None and m.start() <= 12:
            n = NUMBER.match(text, m.end()) or NUMBER.match(text, m.end() + 1)
            if n is not None and re.search(r"\d", n.group()):
                ends.append(n.end())
    if not ends:
        return None
    end = min(ends)
    unit = re.match(
        r"\s*(?:分|元|块钱?|美元|天|日|小时|个|件|单|人|次|度|以上|以下|以内|的)+", text[end:]
    )
    return end + unit.end() if unit else end


_BARE_BAND = re.compile(
    r"^\s*(?P<lo>\d+(?:\.\d+)?)\s*(?:到|至|-|~|–|to)\s*(?P<hi>\d+(?:\.\d+)?)\s*"
    r"(?:分|元|块|points?|stars?)?(?:之间|的)?"
)


def bare_band(text: str) -> tuple[Predicate, int] | None:
    """A band with no unit that opens a clause ("500 到 2000 经理审批", "2-3 get a hold
    email"): only read as one next to other bands of the same number."""
    m = _BARE_BAND.match(text)
    if m is None:
        return None
    lo, hi = float(m.group("lo")), float(m.group("hi"))
    if lo >= hi:
        return None
    return Predicate("threshold", m.group(), op=">=", value=lo, upper=hi), m.end()
