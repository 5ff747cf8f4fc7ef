"""The pieces of a clause the structure reader needs: where a condition's predicate
ends and its consequence starts, what a loop goes over, and the cue words for filters,
selections and dispositions."""

from __future__ import annotations

import re

from .actions import Action, detect
from .lexicon import IF, MEASURE, TRIGGER_EVENT, UNLESS, ZH_THEN, en, rx
from .predicates import analyze_predicate, comparison_end, has_comparison

# "出现 OOM 就告警", "包含敏感词则…": whether something shows up is the test
_APPEARS = rx("出现", "包含", "含有", "带有", "提到", "命中", "匹配到?")
_WHEN = rx(en("when"), en("whenever"), "当", "一旦")
CONSEQUENT = rx(
    en(
        r"(?:send|post|notify|alert|email|text|ping|forward|escalate|reply|respond|answer|"
        r"summari[sz]e|translate|write|draft|create|generate|call|fetch|save|store|log|add|"
        r"mark|assign|route|move|archive|delete|flag|tag|open|assign|ask|use|return|notify|"
        r"warn|inform|tell|remind|escalate|hand|forward|only)"
    ),
    # "page oncall via sms": to page is to alert a person, not a web page
    en(
        r"page(?=\s+(?:the\s+|our\s+)?(?:on-?call|oncall|me|us|someone|sre|ops|devops|team|engineer))"
    ),
    en("then"),
    "请(?!求|假|问|示)",
    "(?:短信|邮件|电话|钉钉|飞书|企业微信)?(?:通知|提醒|告警)",
    "发送",
    "推送",
    "转发",
)
_MODAL_BEFORE = re.compile(
    r"(?i)(?<![a-z])(?:can't|cannot|can\s+not|couldn't|doesn't|don't|didn't|won't|not|"
    r"unable\s+to|fails?\s+to|failed\s+to|can|could|does|did)\s+$"
)
NOUN_BEFORE = re.compile(
    r"(?i)(?<![a-z])(?:a|an|the|new|this|that|each|every|incoming|any|our|my|your|its)\s+$"
)
OTHER_ARM = rx(
    en("others?"),
    en(r"the\s+rest"),
    en("remaining"),
    en(r"everything\s+else"),
    "其他",
    "其余",
    "其它",
    "剩下",
)
SOURCE_KINDS = frozenset({"api", "knowledge"})
# "keep only the ones about AI", "只保留…": a filter is a branch the rest runs in
FILTER = rx(
    en(
        r"(?:keep|select|pick|take|filter|only\s+keep)\s+(?:only\s+)?(?:the\s+)?"
        r"(?:ones|items|those|stories|articles|posts|emails|messages|tickets|results|entries|"
        r"headlines|news|rows)\s+(?:about|that|which|with|where|mentioning|related\s+to|on)"
    ),
    en(r"filter\s+(?:out|for|by)"),
    # "flag any with a missing PO number", "flag the ones without a receipt"
    en(r"flag\s+(?:any|the\s+ones|those|ones|all)\s+(?:with|that|which|where|missing|without)"),
    en(r"ignore\s+(?:the\s+)?(?:ones|those|items)\s+(?:that|which|about|with)"),
    "只保留",
    "筛选出?",
    "过滤(?:出|掉)?",
    "挑出",
    "只看",
    "排除",
)
# "挑出最重要的五条", "pick the top 3": choosing the best few is a ranking, not a filter
TOP_N = rx(
    "最[\u4e00-\u9fff]{1,4}的",
    r"前\s*(?:\d+|[一二三四五六七八九十]+)",
    r"(?:\d+|[一二三四五六七八九十]+)\s*(?:条|个|篇|项|件|名)",
    en(r"(?:the\s+)?top\s+\d+"),
    en(r"(?:the\s+)?(?:most|best)\s+\w+"),
)
# "已过期的用 Telegram 提醒我", "差评就…的": a clause opening with a state and 的 applies
# its action to the items in that state
QUALIFIER = re.compile(
    # "金额不符的发邮件": a short subject may come before the state
    r"(?P<p>(?:[\u4e00-\u9fff]{0,3}?(?:已|未|没有?|不|超支|超标|亏损|缺勤|迟到|超过|大于|小于|低于|高于|逾期|过期|失败|异常|重要|紧急|差评|好评|负面|"
    r"正面|符合|满足|包含|含有|涉及|属于)[\u4e00-\u9fffA-Za-z0-9%]{0,8}?|有(?!新)[\u4e00-\u9fff]{1,6}?))的"
    # "截止日期在明天之前的", "金额1000以上的": a bound
    r"|(?P<bound>[\u4e00-\u9fffA-Za-z0-9%]{1,10}?(?:之前|以前|之后|以后|以上|以下|以内))的"
    # "7 天内到期的", "30日内过期的": a time bound on a deadline
    r"|(?P<due>\d+\s*(?:天|日|小时|周|个月)(?:内|以上|之内)[\u4e00-\u9fff]{0,2}?(?:到期|过期|截止|失效|"
    r"(?:没有?|未|不)[\u4e00-\u9fff]{1,4}?))的"
    # "overdue ones get a reminder", "unpaid invoices go to finance"
    r"|(?i:(?P<en>(?:overdue|expired|late|unpaid|failed|inactive|stale|invalid|duplicate|"
    r"high[\s-]risk|low[\s-]risk|high[\s-]value|flagged|suspicious|delayed|strong|weak|"
    r"promising|relevant|irrelevant|matching|unanswered|unresolved)\s+(?:ones?|items?|tasks?|"
    r"orders?|invoices?|tickets?|entries|records?|rows?|emails?|messages?|users?|customers?|"
    r"accounts?|payments?|transactions?|shipments?|candidates?|applicants?|leads?)"
    # "users who haven't logged in for 7 days get …"
    r"|(?:users?|customers?|members?|subscribers?|those|anyone|people|ones|students?|leads?)\s+"
    r"(?:who|that)\s+(?:haven't|hasn't|have\s+not|has\s+not|didn't|did\s+not)\s+[\w\s-]{1,24}?"
    r"(?:in|within|for)\s+(?:the\s+(?:last|past)\s+)?\d+\s+(?:days?|hours?|weeks?|months?)"
    # "anything marked delayed, …", "ones flagged as spam go …"
    r"|(?:anything|everything|any|those|ones|items?|entries|rows)\s+(?:that\s+(?:is|are)\s+)?"
    r"(?:marked|flagged|labell?ed|tagged|rated|classified)\s+(?:as\s+)?[\w-]+"
    # "anything about bullying should go to the principal": a topic picks the ones
    r"|(?:anything|everything|any\s+(?:questions?|messages?|emails?|tickets?)|questions?|"
    r"messages?|ones)\s+(?:about|regarding|mentioning|concerning|involving|related\s+to)\s+"
    r"(?:the\s+|a\s+|an\s+)?[\w-]+)(?![A-Za-z]))"
)
DROP = rx(en("out"), en("ignore"), "掉", "排除")
SELECTIVE = rx(
    en(
        r"(?:the\s+)?(?:top|best|highest[\s-]scor\w+|strongest|shortlisted|qualified|hot(?:test)?|"
        r"promising)"
    ),
    # "email the ones above 8": a threshold on the score just given
    en(
        r"(?:the\s+)?(?:ones|those|candidates|applicants|people|leads|items)\s+(?:that\s+|who\s+)?"
        r"(?:scor\w+\s+)?(?:above|over|higher\s+than|with\s+(?:a\s+)?scores?\s+(?:above|over))"
        r"\s+\d+(?:\.\d+)?"
    ),
    r"(?:高于|超过|大于|不低于|达到)\s*\d+(?:\.\d+)?\s*分(?:以上)?的",
    "高意向",
    "得分最高",
    "高分",
    "优秀的",
    "排名靠前",
)
HEAD = re.compile(
    r"^\s*(?:(?:but|while|and)\s+)?(?:(?:find|pick|select|filter|keep|take|identify|spot|catch)"
    r"(?:\s+out)?\s+)?"
    r"(?:(?:the|all|any|for|only)\s+)?(?:对于|凡是|如果是|是|找出|筛选出?|挑出|选出|其中)?",
    re.IGNORECASE,
)
# What a branch may do without any step: drop, keep, publish, approve …
DISPOSITION = rx(
    en(
        r"(?:delete|archive|discard|drop|ignore|hide|block|publish|approve|reject|skip|close|"
        r"mark|flag)\w*"
    ),
    en(r"go(?:es)?\s+to"),
    "删除",
    "退回|驳回|打回",
    "标记",
    "标出",
    "标红",
    "归档",
    "忽略",
    "屏蔽",
    "隐藏",
    "发布",
    "通过",
    "拒绝",
    "丢弃",
    "跳过",
)


def offset_of(match: re.Match[str] | None, actions: list[Action]) -> int:
    """Where a cue sits in the prompt, given a match within one clause's actions' text."""
    if match is None or not actions:
        return 0
    clause_start = actions[0].pos - actions[0].text.find(actions[0].text.strip()[:1])
    return clause_start + match.start()


def same_action(action: Action, others: list[Action]) -> bool:
    return any(a.kind == action.kind and a.op == action.op and a.pos == action.pos for a in others)


_NOUN_STOP = re.compile(
    r"(?i)^(?:in|on|from|of|and|then|to|with|that|which|we|i|you|they|is|are|do|does|"
    r"classify|summari[sz]e|translate|send|check|write|draft|score|extract|analy[sz]e|"
    r"older|newer|over|above|below|under|with|whose|than|more|less|where)$"
)


def noun_after(text: str) -> str:
    """What a loop goes over: the words after "for each" up to a verb or a comma."""
    words: list[str] = []
    text = re.sub(r"'s\b", "", text)  # "each candidate's resume"
    # "the list of product URLs": what is in the list
    text = re.sub(
        r"(?i)^\s*(?:the\s+|a\s+|our\s+)?(?:list|set|batch|collection|array|table)\s+of\s+",
        "",
        text,
    )
    for word in re.findall(r"[A-Za-z][\w-]*|[,，;:.。]", text)[:6]:
        if not word[0].isalpha() or _NOUN_STOP.match(word):
            break
        skip = ("the", "our", "my", "these", "those", "a", "an", "all", "open", "new", "unread")
        if word.lower() in (*skip, "recent", "latest", "pending", "today") and not words:
            continue
        words.append(word.lower())
        if len(words) == 2:
            break
    if words and re.match(r"\s*(?:of\s+)?(?:the\s+|our\s+)?[A-Za-z]", text):
        return " ".join(words)
    zh = re.match(
        rf"\s*(?:一)?{MEASURE}?([\u4e00-\u9fff]{{1,4}}?)(?:[，,的里中]|进行|检查|生成|做|并|$)",
        text,
    )
    return zh.group(1) if zh else "items"


def _consequent_at(text: str, start: int) -> int:
    """Where the consequence starts in "if it is urgent notify Slack": at the first verb
    whose rest asks for something (not "call" in "if the API call fails"); else the end."""
    for verb in CONSEQUENT.finditer(text, start + 1):
        if NOUN_BEFORE.search(text[: verb.start()]):
            continue  # "a new email arrives": a noun, not the verb "email"
        if _MODAL_BEFORE.search(text[: verb.start()]):
            continue  # "if it can't answer": the verb is what is tested
        rest = detect(text[verb.start() :], 0).actions
        if any(a.kind not in SOURCE_KINDS for a in rest):
            return verb.start()
    return len(text)


def split_condition(text: str) -> tuple[int, int, int, bool, bool] | None:
    """(predicate start, predicate end, consequent start, negated, is "when") of a
    condition clause, or None when the clause states no condition."""
    marker = IF.search(text) or UNLESS.search(text)
    negated = False
    when = False
    if marker is not None:
        negated = UNLESS.fullmatch(marker.group()) is not None
        when = _WHEN.fullmatch(marker.group()) is not None
        p_start = marker.end()
        zh = ZH_THEN.search(text, p_start) or re.compile("直接(?=[\u4e00-\u9fff])").search(
            text, p_start
        )
        if zh:
            return p_start, zh.start(), zh.end(), negated, when
        at = _consequent_at(text, p_start)
        return p_start, at, at, negated, when
    # Chinese without 如果: "找不到答案时转人工", "响应时间超过2秒就发短信", "有风险就发邮件"
    zh = ZH_THEN.search(text)
    if zh:
        head = text[: zh.start()]
        predicate = analyze_predicate(head)
        # a short state before 时 is a test too ("宕机时发短信"), unless it is an event
        # that starts the run ("收到邮件时")
        # "有新的订单就…" is an event that starts the run, not a test
        short_test = (
            zh.group() in ("就", "则", "便")
            and (len(head.strip()) <= 8 or _APPEARS.search(head) is not None)
            and not TRIGGER_EVENT.search(head)
        )
        # "有 loss 发散的就…": the items that have something are tested
        short_test = short_test or (
            zh.group() in ("就", "则", "便")
            and re.fullmatch(r"\s*有(?!新)[^，,。]{1,14}的\s*", head) is not None
        )
        short_test = short_test or (
            zh.group() in ("时", "的时候", "的话") and not TRIGGER_EVENT.search(head)
        )
        # "玩家说充值没到账的就…": the ones a relative clause picks are tested
        short_test = short_test or (
            zh.group() in ("就", "则", "便")
            and head.rstrip().endswith("的")
            and len(head.strip()) <= 16
            and not TRIGGER_EVENT.search(head)
        )
        # "是提问就起草回复": what kind it is, even when the kind names an event
        short_test = short_test or re.fullmatch(r"\s*(?:是|属于)[^，,。]{1,8}", head) is not None
        if predicate is not None and (
            predicate.kind != "yesno" or (short_test and bool(head.strip()))
        ):
            return 0, zh.start(), zh.end(), False, False
        if zh.group() in ("时", "的时候") and TRIGGER_EVENT.search(head):
            # "新案件录入数据库时…": the event starts the run; where it happens is the source
            return 0, zh.start(), zh.end(), False, True
    if has_comparison(text):
        # "above $10k the CFO gets an email": the comparison opens the clause and what
        # follows it is what to do
        opened = comparison_end(text)
        if (
            opened is not None
            and opened < len(text)
            and (detect(text[opened:], 0).actions or DISPOSITION.search(text[opened:]))
        ):
            return 0, opened, opened, False, False
        cut = re.search(r"的(?=[\u4e00-\u9fff])|[,，]", text)
        if cut:
            return 0, cut.start(), cut.end(), False, False
        at = _consequent_at(text, 0)
        if at == len(text) and CONSEQUENT.match(text.lstrip()):
            # "email parents of students whose attendance fell below 90%": the action
            # comes first and applies to the items the comparison picks
            return 0, len(text), 0, False, False
        return 0, at, at, False, False  # what to do follows, here or in the next clauses
    return None
