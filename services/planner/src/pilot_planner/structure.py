"""A prompt's shape: actions in order, branches (with their arms) and loops (with their
bodies), read clause by clause with a stack of open scopes.

Scope rules, chosen to match how people write:
- a condition's arm holds the clauses after it until "otherwise" (which opens the other
  arm of the latest branch), a "then", "finally", a new sentence, or a clause that gathers
  results ("all", "汇总");
- a loop's body holds everything after "for each" until "finally" or a gathering clause;
  the fetch that produces the loop's items stays before it;
- "C if P" (the condition after its consequence) moves C into the branch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .actions import Action, detect, labels_of
from .clause_parts import (
    CONSEQUENT,
    DISPOSITION,
    DROP,
    FILTER,
    HEAD,
    NOUN_BEFORE,
    OTHER_ARM,
    QUALIFIER,
    SELECTIVE,
    SOURCE_KINDS,
    TOP_N,
    noun_after,
    offset_of,
    same_action,
    split_condition,
)
from .clauses import Clause, blank_opaque, split_clauses
from .courtesy import drop_courtesy
from .entities import extract_entities, values
from .lexicon import (
    AGGREGATE,
    ARROW,
    CHECK_WHETHER,
    IF,
    LOOP,
    MEASURE,
    OTHERWISE,
    SCHEDULE,
    SENTENCE_END,
)
from .numerals import digits
from .plan import Branch, Item, Loop, Plan
from .predicates import (
    CONCEPTS,
    NOT_FOUND,
    Predicate,
    analyze_predicate,
    bare_band,
    has_comparison,
    kind_label,
)

__all__ = ["Branch", "Item", "Loop", "Plan", "read_plan"]


# Where a batch of items sits: "for each new hire in the spreadsheet" goes over a list.
_COLLECTION = re.compile(
    r"(?i)(?<![a-z])(?:in|from|on)\s+(?:the\s+|our\s+|this\s+|my\s+)?(?:[\w-]+\s+){0,2}"
    r"(?:list|spreadsheet|sheet|table|file|csv|database|batch|crm|hubspot|salesforce|pipedrive|"
    r"airtable|notion|inbox|backlog|queue|pipeline)(?![a-z])"
    r"|(?:列表|名单|表格|清单|文件)(?:里|中|上)"
)


# Several things a fetch is made for: "our 5 store cities", "Beijing, Shanghai and
# Shenzhen", "三地", "各门店".
_MANY = re.compile(
    r"(?i)(?<![a-z])(?:for|in|of|across|at)\s+(?:all\s+)?(?:our\s+|the\s+|these\s+|my\s+)?"
    r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|several|multiple|all)\s+(?:[a-z]+\s+)?"
    r"(?P<noun>cities|stores|shops|locations|regions|sites|offices|warehouses|branches|servers|"
    r"hosts|repos|repositories|accounts|products|tickers|stocks|coins|urls|websites|domains)"
    r"(?![a-z])"
    r"|(?<![A-Za-z])(?:for|in)\s+(?-i:[A-Z][a-z]+)(?:,\s*(?-i:[A-Z][a-z]+))+,?\s+and\s+"
    r"(?-i:[A-Z][a-z]+)(?![a-z])"
    r"|(?:[二三四五六七八九十两几多]|\d+)\s*(?:个|家|座)?[\u4e00-\u9fff]{0,2}?(?P<zh>城市|门店|地区|仓库|服务器|站点|网站|地(?=[的明今每近，,。\s]|$))"
    r"|各(?P<zh2>城市|门店|地区|仓库|服务器|站点|网站)"
)


# A clause that opens with the kind of thing it handles: "shipping questions get
# answered …", "warnings go to Slack", "问物流的…", "一般的发飞书". Read as a route only
# where the prompt routes (a branch is open, or an "everything else" arm follows).
_ROUTE_HEAD = re.compile(
    r"(?i)^\s*(?P<en>[a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)\s+(?:(?:ones|questions|requests|tickets|"
    r"emails|messages|alerts|comments|leads|issues|reviews|inquiries|enquiries|orders|cases|"
    r"items|posts)(?=\s+[a-z])|(?:go(?:es)?|gets?|are|should|will|->|→)(?![a-z]))"
    r"|^\s*(?:问|是|属于|关于)?(?P<zh>[\u4e00-\u9fff]{1,4}?)(?:类|相关)?的(?=[\u4e00-\u9fff])"
)
_NOT_A_LABEL = re.compile(
    r"(?i)^(?:it|they|this|that|these|those|we|i|you|he|she|all|any|the|then|and|also|"
    r"new|incoming|他们|我们|你|我|所有|全部|新)(?:\s|$)"
)


# A clause that opens with a verb does a step; it names no kind to route.
_VERB_FIRST = re.compile(
    r"(?i)^(?:grab|get|pull|fetch|read|send|post|check|create|open|make|draft|write|summari[sz]e|"
    r"classify|triage|score|rank|tag|label|route|forward|email|notify|alert|ping|call|look|find|"
    r"search|monitor|watch|track|save|store|log|add|update|sync|upload|download|generate|"
    r"translate|analy[sz]e|review|extract|parse|collect|compile|build|run|use|have|let|ask|tell|"
    r"give|reply|respond|answer|escalate|move|assign|archive|delete|flag|mark|text|go|put|list|"
    r"show|keep|drop|filter|pick|select|remind|schedule|book|invite|plan)(?![a-z])"
)


# A step applied to the items in some state: "email anyone who hasn't replied", "reorder
# anything below the safety level", "remind the ones without a receipt".
_OBJECT_TEST = re.compile(
    r"(?i)(?<![a-z])(?:email|e-mail|notify|text|remind|ping|nudge|message|call|flag|reorder|"
    r"restock|escalate|archive|delete|remove|cancel|refund|chase|follow\s+up\s+with|"
    r"send\s+(?:[\w-]+\s+){0,3}to)\s+(?:the\s+ones|those|anyone|anybody|anything|everyone|"
    r"any\s+[\w-]+|(?:all\s+)?(?:the\s+)?(?:customers|users|people|members|students|leads|"
    r"items|products|orders|invoices|tickets|employees|tenants|vendors|suppliers|accounts|"
    r"subscribers|candidates|applicants|participants|attendees))\s+"
    r"(?P<state>(?:who|that|which|whose|with|without|missing|below|under|above|over|older\s+than|"
    r"not\s+yet|still)(?![a-z]).*)$"
)


# A person signs off before something goes out: "after a human approves", "hold each draft
# for a team lead to approve", "主管审核通过后再发出". πlot has no pause node; the sign-off
# is a yes/no test whose "yes" arm sends.
_APPROVAL = re.compile(
    r"(?i)(?<![a-z])(?:(?:after|once|when|until|before)\s+(?:a|an|the|my|our)?\s*(?:[\w-]+\s+){0,2}?"
    r"(?:approves?|approved|signs?\s+off|okays?)|(?:for|until)\s+(?:a|an|the|my|our)\s+"
    r"(?:[\w-]+\s+){0,2}?to\s+(?:approve|sign\s+off|okay)|(?:once|if|when)\s+approved|"
    r"after\s+(?:approval|sign[\s-]?off)|(?:human|manual|manager|editor|editorial)\s+"
    r"(?:approval|sign[\s-]?off))(?![a-z])"
    r"|(?:审核|审批|复核|确认)(?:通过|无误|同意)?后|批准后|同意后"
)


_REPLY_CHANNELS = frozenset(
    {"email", "slack", "wecom", "dingtalk", "feishu", "telegram", "discord", "wechat"}
)
_GOES_OUT = re.compile(r"(?i)goes\s+out|is\s+sent|send|发出|发送|回复")


# What changed in something watched: "a new entry shows up", "the price changes".
_CHANGE = re.compile(
    r"(?i)(?<![a-z])(?:new\s+(?:\w+\s+){0,2}(?:shows?\s+up|appears?|is\s+(?:posted|listed|added)|"
    r"gets\s+(?:posted|listed|added))|(?:anything|something|it|the\s+\w+)\s+changes?|"
    r"(?:changed|updated)(?![a-z]))"
)


# A level that makes a noun a state to test ("high sev", "critical alerts", "low stock").
_LEVEL = re.compile(
    r"(?i)\s*(?:high|low|critical|severe|major|minor|urgent|bad|poor|big|large|small|p[0-3])"
    r"(?![a-z])|\s*(?:高|低|严重|紧急|重要|差|大)"
)


# A clause that starts by naming the data a step uses ("参考天气预报", "based on the
# forecast"): what it fetches feeds the step before it.
_USES_DATA = re.compile(
    r"(?i)^[\s,，]*(?:(?:并|再|同时|and|then)\s*)?"
    r"(?:参考|根据|基于|结合|依据|依照|按照|对照|"
    r"(?:(?:based|depending)\s+on|using|given|according\s+to|referring\s+to|in\s+light\s+of|"
    r"with\s+(?:the\s+)?help\s+of|drawing\s+on|taking)(?![a-z]))"
)


@dataclass
class _Scope:
    items: list[Item]
    owner: Branch | Loop | None = None
    arm: str | None = None


class _Reader:
    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        self.masked = blank_opaque(prompt)
        self.root = _Scope([])
        self.stack: list[_Scope] = [self.root]
        self.plan = Plan(self.root.items)
        self.skip_to = 0

    # --- scopes -------------------------------------------------------------------

    @property
    def top(self) -> _Scope:
        return self.stack[-1]

    def close_arms(self) -> None:
        while isinstance(self.top.owner, Branch):
            self.stack.pop()

    def empty_arm(self) -> bool:
        """The latest branch's arm was just opened and holds nothing yet."""
        return isinstance(self.top.owner, Branch) and not self.top.items

    def close_all(self) -> None:
        del self.stack[1:]

    def last_branch(self) -> Branch | None:
        """The branch an "otherwise" or a label belongs to: the open one, else the last
        item of the current scope."""
        for scope in reversed(self.stack):
            if isinstance(scope.owner, Branch):
                return scope.owner
            if scope.items and isinstance(scope.items[-1], Branch):
                return scope.items[-1]
            if isinstance(scope.owner, Loop):
                break
        return None

    def open_arm(self, branch: Branch, arm: str) -> None:
        while self.top.owner is not None and self.top.owner is not branch:
            if isinstance(self.top.owner, Loop) and branch not in self._branches_in(self.top):
                break
            self.stack.pop()
        if self.top.owner is branch:
            self.stack.pop()
        branch.arms.setdefault(arm, [])
        self.stack.append(_Scope(branch.arms[arm], branch, arm))

    @staticmethod
    def _branches_in(scope: _Scope) -> list[Branch]:
        return [i for i in scope.items if isinstance(i, Branch)]

    def add(self, actions: Sequence[Item]) -> None:
        self.top.items.extend(actions)

    # --- clauses ------------------------------------------------------------------

    def read(self) -> Plan:
        clauses = split_clauses(self.prompt)
        self.plan.schedule = SCHEDULE.search(self.prompt) is not None
        previous: Clause | None = None
        for i, clause in enumerate(clauses):
            following = clauses[i + 1] if i + 1 < len(clauses) else None
            self.clause(clause, previous, following)
            previous = clause
        self.answer_from_lookups()
        return self.plan

    def answer_from_lookups(self) -> None:
        """ "Look up the SOP in our wiki and post it to the on-call channel": what is
        retrieved is passages, so a lookup with no LLM step after it gets one that answers
        from them."""
        if any(a.kind == "llm" for a in self.plan.actions()):
            return

        def visit(items: list[Item]) -> bool:
            for i, item in enumerate(items):
                if isinstance(item, Action) and item.kind == "knowledge":
                    after = items[i + 1] if i + 1 < len(items) else None
                    if isinstance(after, Branch) and after.pos <= item.pos:
                        return True  # "check whether the FAQ covers it": the test reads it
                    items.insert(i + 1, Action("llm", "answer", item.text, item.pos + 1))
                    return True
                arms = item.arms.values() if isinstance(item, Branch) else []
                body = [item.body] if isinstance(item, Loop) else []
                if any(visit(inner) for inner in [*arms, *body]):
                    return True
            return False

        visit(self.root.items)

    def text_of(self, clause: Clause) -> str:
        return self.masked[clause.start : clause.start + len(clause.text)]

    def clause(self, clause: Clause, previous: Clause | None, following: Clause | None) -> None:
        if clause.start < self.skip_to:
            return  # read already, with a clause before it (a list cut at its commas)
        text = self.text_of(clause)
        if previous is not None and clause.sentence != previous.sentence:
            self.close_arms()
        if clause.final:
            self.close_all()
        elif clause.then and not self.empty_arm():
            self.close_arms()
        if len(self.stack) > 1 and AGGREGATE.search(text) and not LOOP.match(text):
            self.close_all()

        otherwise = OTHERWISE.match(text)
        if otherwise:
            branch = self.last_branch()
            if branch is not None:
                self.open_arm(branch, "else")
                self.actions(text[otherwise.end() :], clause.start + otherwise.end())
                return
        if self.approval(text, clause.start) or self.respectively(text, clause.start):
            return
        if self.route(text, clause.start) or self.implicit_branch(text, clause.start):
            return
        loop = self.loop_marker(text)
        in_loop = any(isinstance(scope.owner, Loop) for scope in self.stack)
        if loop is not None and isinstance(self.top.owner, Loop) and not self.top.owner.body:
            # "遍历订单列表，对每一个订单…": the same loop, said twice
            self.top.owner.noun = noun_after(text[loop.end() :]) or self.top.owner.noun
        elif loop is not None and not in_loop:
            self.open_loop(text, clause.start, loop)
            return
        elif not in_loop and self.per_item_fetch(text, clause.start):
            return
        # inside a loop, "each" means the current item ("fetch each page"): loops do not nest
        if self.check_whether(text, clause.start):
            return
        if self.arrow_state(text, clause, following):
            return
        if SELECTIVE.search(text) and self.scores(text, clause.start):
            self.actions(text, clause.start)
            return
        if self.band(text, clause.start):
            return
        if self.condition(text, clause, previous, following):
            return
        if self.object_test(text, clause.start):
            return
        self.actions(text, clause.start)

    def object_test(self, text: str, offset: int) -> bool:
        """ "email anyone who hasn't replied", "reorder anything below the safety level",
        "remind the ones without a receipt": the step applies to the items in a state, so
        it runs in the arm of a test on that state."""
        m = _OBJECT_TEST.search(text)
        if m is None or IF.search(text):
            return False
        found = detect(self.prompt[offset : offset + len(text)], offset)
        inside = [
            a for a in found.actions if a.kind not in SOURCE_KINDS and not a.params.get("read")
        ]
        if not inside:
            return False
        self.plan.sources += [s for s in found.sources if s not in self.plan.sources]
        self.add([a for a in found.actions if a not in inside])
        state = self.prompt[offset + m.start("state") : offset + m.end("state")]
        branch = Branch(Predicate("yesno", state, labels=("yes",)), offset + m.start())
        branch.arms["then"] = list(inside)
        self.top.items.append(branch)
        self.stack.append(_Scope(branch.arms["then"], branch, "then"))
        return True

    def band(self, text: str, offset: int) -> bool:
        """ "金额 500 以下自动通过，500 到 2000 经理审批，2000 以上总监审批": a band with no
        unit, right after a test of the same number, is one more case of it."""
        found = bare_band(text)
        branch = self.last_branch()
        if found is None or branch is None or branch.predicate.kind != "threshold":
            return False
        predicate, end = found
        if self.merge_tier(replace(predicate, subject=branch.predicate.subject)) is None:
            return False
        self.actions(text[end:], offset + end)
        return True

    def respectively(self, text: str, offset: int) -> bool:
        """ "判断是功能建议、bug 还是咨询，分别记录到 Notion、Jira 和表格", "…, sending them
        to Slack, Jira and email respectively": the places go to the labels in order."""
        # the list of places runs over the commas that cut clauses: read to the sentence end
        end = SENTENCE_END.search(self.masked, offset)
        stop = end.start() if end else len(self.prompt)
        if not re.search(r"(?i)分别|(?<![a-z])respectively(?![a-z])", self.masked[offset:stop]):
            return False
        branch = self.last_branch()
        if branch is None or len(branch.labels) < 2 or any(branch.arms[k] for k in branch.labels):
            return False
        found = detect(self.prompt[offset:stop], offset)
        # every place named after "respectively" is a destination, even a store
        sends = [replace(a, params={}) for a in found.actions if a.kind == "tool"]
        if len(sends) != len(branch.labels):
            return False
        self.add([a for a in found.actions if a.kind not in ("tool", "escalate")])
        for label, send in zip(branch.labels, sends, strict=True):
            branch.arms[label].append(send)
        self.skip_to = stop
        return True

    def approval(self, text: str, offset: int) -> bool:
        """A sign-off (see _APPROVAL): what is sent goes in the branch's "yes" arm; what
        is prepared stays before it."""
        m = _APPROVAL.search(text)
        if m is None:
            return False
        found = detect(self.prompt[offset : offset + len(text)], offset)
        self.plan.sources += [s for s in found.sources if s not in self.plan.sources]
        sends = [a for a in found.actions if a.kind == "tool" and not a.params.get("read")]
        self.add([a for a in found.actions if a not in sends])
        if not sends and _GOES_OUT.search(text, m.end() - 1):
            # "审核通过后再发出": it goes back where the run came from
            back = [s for s in self.plan.sources if s in _REPLY_CHANNELS][:1]
            sends = [Action("tool", s, text, offset + m.end()) for s in back]
        if not sends:
            # "draft the replies …, hold each for a lead to approve before it goes out": the
            # send was named before
            earlier = [a for a in self.top.items if isinstance(a, Action) and a.kind == "tool"]
            sends = earlier[-1:]
            for a in sends:
                self.top.items.remove(a)
        branch = Branch(Predicate("yesno", m.group(), labels=("approved",)), offset + m.start())
        branch.arms["approved"] = list(sends)
        self.top.items.append(branch)
        self.stack.append(_Scope(branch.arms["approved"], branch, "approved"))
        return True

    def arrow_state(self, text: str, clause: Clause, following: Clause | None) -> bool:
        """ "low review (1-2 stars) -> draft an apology", "high sev -> jira ticket": a
        clause that asks for nothing and names a state, before an arrow, is the test of a
        branch whose arm is what the arrow leads to. An event ("new order ->") is a trigger."""
        if following is None or following.sentence != clause.sentence:
            return False
        gap = self.masked[clause.start + len(clause.text) : following.start]
        if not ARROW.match(gap) or detect(clause.text, clause.start).actions:
            return False
        predicate = analyze_predicate(clause.text)
        label = self.arrow_label(clause.text) if predicate is not None else None
        if label is not None:
            # "triage by urgency; urgent → nurse, routine → reply, refills → pharmacy": after
            # a classification, what stands before each arrow is a kind it routes
            predicate = Predicate("concept", clause.text, labels=(label,))
        if predicate is None or (predicate.kind == "yesno" and not _LEVEL.match(text)):
            return self.condition(text, clause, None, following) if has_comparison(text) else False
        branch = self.last_branch()
        if (
            predicate.kind == "concept"
            and branch is not None
            and branch.predicate.kind == "concept"
        ):
            name = predicate.labels[0]
            if not branch.labels and "then" in branch.arms:
                branch.arms = {branch.predicate.labels[0]: branch.arms.pop("then"), **branch.arms}
            branch.predicate = Predicate(
                "concept",
                branch.predicate.text,
                labels=tuple(dict.fromkeys([*branch.labels, name])),
            )
            self.open_arm(branch, name)
            return True
        branch = Branch(predicate, clause.start)
        self.top.items.append(branch)
        self.open_arm(branch, predicate.labels[0] if predicate.kind == "concept" else "then")
        return True

    def arrow_label(self, text: str) -> str | None:
        """A short kind before an arrow, when a classification or a route comes before it."""
        head = text.strip().lower()
        if not re.fullmatch(r"[a-z][a-z-]*(?:\s+[a-z][a-z-]*){0,2}|[\u4e00-\u9fff]{1,6}", head):
            return None
        if _VERB_FIRST.match(head) or _NOT_A_LABEL.match(head):
            return None
        last = self.top.items[-1] if self.top.items else None
        routed = isinstance(last, Action) and last.kind == "llm" and last.op == "classify"
        branch = self.last_branch()
        routed = routed or (branch is not None and branch.predicate.kind == "concept")
        return re.sub(r"[^\w]+", "_", head).strip("_") if routed else None

    def scores(self, text: str, offset: int) -> bool:
        """Whether a score was given already or in this clause: "the ones above 8" then
        selects on it."""
        found = detect(self.prompt[offset : offset + len(text)], offset).actions
        return any(a.op == "score" for a in [*self.plan.actions(), *found])

    def check_whether(self, text: str, offset: int) -> bool:
        """ "判断是否有风险", "check whether it is covered by the FAQ": the branch a later
        clause fills ("有风险就…", "if not, …")."""
        m = CHECK_WHETHER.search(text) or FILTER.search(text)
        if m is None or IF.search(text[m.end() :]):
            return False
        if FILTER.fullmatch(m.group()) and TOP_N.match(text[m.end() :].lstrip()):
            return False  # a ranking: the clause's actions say it
        self.actions(text[: m.start()], offset)
        end = len(text)
        # "check if it is phishing and warn the user": what to do may follow in the clause
        for verb in CONSEQUENT.finditer(text, m.end() + 1):
            if not NOUN_BEFORE.search(text[: verb.start()]) and any(
                a.kind not in SOURCE_KINDS for a in detect(text[verb.start() :], 0).actions
            ):
                end = verb.start()
                break
        question = self.prompt[offset + m.end() : offset + end]
        # what the question is checked against is read first ("matches the order in our DB")
        self.add(
            [
                a
                for a in detect(question, offset + m.end()).actions
                if a.kind in SOURCE_KINDS or a.params.get("read")
            ]
        )
        predicate = analyze_predicate(question) or Predicate("yesno", question, labels=("yes",))
        if predicate.kind == "failure":
            predicate = Predicate("yesno", question, labels=("yes",))
        negated = DROP.search(m.group()) is not None  # "filter out …": the rest goes on
        branch = Branch(predicate, offset + m.start(), negated=negated)
        self.top.items.append(branch)
        if end < len(text) or FILTER.match(m.group()):
            self.open_arm(branch, "else" if negated else "then")
            self.actions(text[end:], offset + end)
        return True

    def actions(self, text: str, offset: int) -> None:
        found = detect(self.prompt[offset : offset + len(text)], offset)
        self.plan.sources += [s for s in found.sources if s not in self.plan.sources]
        # model names are blanked in the masked text: read them from the prompt
        self.model_only(self.prompt[offset : offset + len(text)], offset, found.actions)
        if self.selective(text, found.actions):
            return
        if self.source_of_step(text, found.actions):
            return
        self.add(found.actions)
        self.routers(found.actions)

    def source_of_step(self, text: str, actions: list[Action]) -> bool:
        """ "规划三天的京都行程，参考天气预报", "draft the plan, based on the forecast": a
        clause that only names the data the step before it uses is read before that step
        (a person draws the weather call first, then the planning that reads it)."""
        if not actions or not _USES_DATA.match(text):
            return False
        if not all(a.kind in ("api", "knowledge") or a.params.get("read") for a in actions):
            return False
        items = self.top.items
        if not items or not isinstance(items[-1], Action) or items[-1].kind != "llm":
            return False
        at = len(items) - 1
        items[at:at] = actions
        return True

    def routers(self, actions: list[Action]) -> None:
        """A classification into listed labels routes by them ("classify each as positive
        or negative")."""
        for action in actions:
            if action.kind == "llm" and action.op == "classify":
                # a label list runs over the commas that cut clauses: read to the sentence end
                end = SENTENCE_END.search(self.masked, action.pos)
                labels = labels_of(self.prompt[action.pos : end.start() if end else None])
                if labels:
                    action.params["labels"] = labels
                    self.open_router(action)

    def model_only(self, text: str, offset: int, actions: list[Action]) -> None:
        """ "…, using qwen-max", "powered by deepseek-chat": a model named in a clause that
        asks for no LLM step is the model of the LLM step before it, or of one of its own."""
        if any(a.kind == "llm" for a in actions):
            return
        if re.search(r"(?i)fall\s*back|fail\s*over|backup|备用|降级|兜底|回退", text):
            return  # "fall back to gpt-4o": the fallback of a step, not a step
        model = next(iter(values(extract_entities(text), "model")), None)
        if model is None:
            return
        earlier = [a for a in self.plan.actions() if a.kind == "llm"]
        if earlier and "model" not in earlier[-1].params:
            earlier[-1].params["model"] = model
        else:
            actions.append(Action("llm", "write", text, offset, {"model": model}))

    def selective(self, text: str, actions: list[Action]) -> bool:
        """ "Score the resumes and email the top candidates": sending only the best of what
        was scored is a threshold on the score."""
        m = SELECTIVE.search(text)
        scored = any(isinstance(a, Action) and a.op == "score" for a in self.top.items)
        scored = scored or any(a.op == "score" for a in actions if a.pos < offset_of(m, actions))
        if m is None or not scored or not any(a.kind == "tool" for a in actions):
            return False
        before = [a for a in actions if a.kind != "tool" and a.pos < offset_of(m, actions)]
        inside: list[Item] = [a for a in actions if a not in before]
        self.add(before)
        said = analyze_predicate(m.group())  # "the ones above 8": the threshold it names
        predicate = (
            Predicate("threshold", m.group(), op=said.op, value=said.value, subject="score")
            if said is not None and said.kind == "threshold"
            else Predicate("threshold", m.group(), op=">=", value=70.0, subject="score")
        )
        branch = Branch(predicate, m.start())
        branch.arms["then"] = inside
        self.top.items.append(branch)
        return True

    def open_router(self, action: Action) -> None:
        """ "Classify into A, B or C": one branch per label; later clauses that start with
        a label ("urgent ones go to Slack") fill that label's arm."""
        labels = action.params["labels"]
        if "model" not in action.params:  # "use gpt-4 to classify": that model's own step
            self.top.items.remove(action)
        predicate = Predicate("concept", action.text, labels=tuple(labels))
        branch = Branch(predicate, action.pos, arms={label: [] for label in labels})
        branch.arms["else"] = []
        self.top.items.append(branch)

    def route(self, text: str, offset: int) -> bool:
        branch = self.last_branch()
        if branch is None or len(branch.labels) < 2:
            return False
        head = text[:20].lower()
        for label in branch.labels:
            spoken = label.replace("_", " ")
            if re.match(r"[\u4e00-\u9fff]{3,}$", spoken) and head.startswith(spoken[-2:]):
                spoken = spoken[-2:]  # "建议…" for the label "功能建议"
            # "Emergencies text the plumber" for the label "emergency"
            plural = re.escape(spoken[:-1]) + "ies" if spoken.endswith("y") else re.escape(spoken)
            if re.search(rf"(?<![a-z])(?:{re.escape(spoken)}|{plural})", head):
                self.open_arm(branch, label)
                rest = re.sub(
                    rf"^.*?(?:{plural}|{re.escape(spoken)})", "", text, count=1, flags=re.I
                )
                self.actions(rest, offset + len(text) - len(rest))
                return True
        if OTHER_ARM.search(head):
            self.open_arm(branch, "else")
            self.actions(text, offset)
            return True
        return False

    def implicit_branch(self, text: str, offset: int) -> bool:
        """ "Urgent emails go to WeCom", "负面评论发送到企业微信", "回答不了的转人工": a clause
        that opens with what it applies to is a branch arm for it."""
        head = HEAD.sub("", text, count=1)
        skipped = len(text) - len(head)
        predicate: Predicate | None = None
        end = 0
        q_state = False  # the clause names a state of the items ("anything flagged late")
        for label, cue in CONCEPTS:
            m = cue.match(head)
            if m:
                predicate, end = Predicate("concept", m.group(), labels=(label,)), m.end()
                break
        if predicate is None:
            predicate, end = self.route_head(head, offset)
        if predicate is None:
            m = NOT_FOUND.match(head)
            q = QUALIFIER.match(head)
            if m is not None:
                predicate, end = Predicate("not_found", m.group()), m.end()
            elif q is not None:
                state = q.group("p") or q.group("en") or q.group("bound") or q.group("due")
                predicate = analyze_predicate(state) or Predicate("yesno", state)
                if predicate.kind == "yesno":
                    predicate = Predicate("yesno", state, labels=("yes",))
                end = q.end()
                q_state = True
            else:
                return False
        rest_at = offset + skipped + end
        rest = self.prompt[rest_at : offset + len(text)]
        # "anything marked delayed, have the AI write …": a clause that only names the
        # state opens the arm the next clauses of the sentence fill
        alone = (
            (predicate.kind != "concept" or q_state)
            and not rest.strip(" ,，")
            and self.more_in_sentence(offset, len(text))
        )
        # "答不上来的让他去找 HR": what to do when there is no answer is a reply of its own
        referred = predicate.kind == "not_found" and bool(rest.strip(" ,，的"))
        if not (alone or referred or detect(rest, rest_at).actions or DISPOSITION.search(rest)):
            return False
        branch = self.last_branch()
        if (
            predicate.kind == "concept"
            and branch is not None
            and branch.predicate.kind == "concept"
        ):
            if not branch.labels and "then" in branch.arms:  # "if negative …" said before
                first = branch.predicate.labels[0]
                branch.arms = {first: branch.arms.pop("then"), **branch.arms}
            label = predicate.labels[0]
            branch.predicate = Predicate(
                "concept",
                branch.predicate.text,
                labels=tuple(dict.fromkeys([*branch.labels, label])),
            )
            self.open_arm(branch, label)
        else:
            branch = Branch(predicate, offset)
            if predicate.kind == "concept":
                branch.arms[predicate.labels[0]] = []
                self.top.items.append(branch)
                self.open_arm(branch, predicate.labels[0])
            else:
                self.top.items.append(branch)
                self.open_arm(branch, "then")
        self.actions(rest, rest_at)
        return True

    @staticmethod
    def route_label(text: str) -> str | None:
        """The kind a clause opens with when it routes that kind somewhere (_ROUTE_HEAD)."""
        m = _ROUTE_HEAD.match(_blank_asides(text))
        if m is None:
            return None
        label = (m.group("en") or m.group("zh") or "").strip().lower()
        if not label or _NOT_A_LABEL.match(label) or LOOP.search(label) or IF.search(label):
            return None
        if _VERB_FIRST.match(label):
            return None  # "grab github issues …": a step, not a kind
        if not (detect(text, 0).actions or DISPOSITION.search(text[m.end() :])):
            return None
        return label

    def more_in_sentence(self, offset: int, length: int) -> bool:
        """Whether the sentence goes on after the clause at `offset` with steps."""
        end = SENTENCE_END.search(self.masked, offset)
        stop = end.start() if end else len(self.masked)
        later = offset + length
        return later < stop and bool(detect(self.prompt[later:stop], later).actions)

    def route_head(self, head: str, offset: int) -> tuple[Predicate | None, int]:
        """A label of a route that is not a known concept (see _ROUTE_HEAD)."""
        m = _ROUTE_HEAD.match(_blank_asides(head))
        if m is None:
            return None, 0
        label = (m.group("en") or m.group("zh") or "").strip().lower()
        label = re.sub(r"\s+ones?$", "", label)  # "small ones" is the kind "small"
        if not label or _NOT_A_LABEL.match(label) or LOOP.search(label) or IF.search(label):
            return None, 0
        branch = self.last_branch()
        routing = branch is not None and branch.predicate.kind == "concept"
        if not routing and LOOP.search(head[m.end() :]):
            return None, 0  # "问卷的开放题逐条做情感分析": the items are gone through, not routed
        if not routing:
            end = SENTENCE_END.search(self.masked, offset)
            later = self.masked[offset + len(head) : end.start() if end else None]
            routing = OTHERWISE.search(later) is not None or OTHER_ARM.search(later) is not None
            # "big accounts go to the AE on Slack, small ones get a nurture email": two
            # kinds in a row, each with its own step, are a route too
            routing = routing or (
                not _VERB_FIRST.match(label)
                and any(
                    self.route_label(piece) is not None
                    for piece in re.split(r"[,;，；]", later)[1:]
                )
            )
        if not routing:
            return None, 0
        slug = re.sub(r"[^\w]+", "_", label).strip("_")
        # the verb after the kind belongs to what is done ("small ones | get the email")
        verb = re.search(r"\s+(?:go(?:es)?|gets?|are|should|will)$", m.group(), re.I)
        return Predicate("concept", m.group(), labels=(slug,)), (verb.start() if verb else m.end())

    # --- loops ----------------------------------------------------------------------

    def loop_marker(self, text: str) -> re.Match[str] | None:
        for m in LOOP.finditer(text):
            if any(s.start() <= m.start() < s.end() for s in SCHEDULE.finditer(text)):
                continue  # "every morning" is a schedule
            # what the marker goes over is said right after it ("every email I receive");
            # "read the new rows …, write a caption for each property" still loops
            after = text[m.end() : m.end() + 40]
            # (after a fetch, "for each new post" goes over what was fetched: a loop)
            if not self.fetched() and (
                re.search(r"(?i)incoming|I\s+(?:get|receive)|收到的|新的?(?:邮件|消息)", text)
                or re.search(r"(?i)(?<![a-z])new\s", after)
                or re.match(r"\s*新(?!闻|年|手|能源|加坡)", after)
            ):
                if _COLLECTION.search(text):
                    return m  # "each new hire in the HR spreadsheet": a batch, still a loop
                return None  # "every email I receive": one run per email, not a loop
            return m
        return None

    def per_item_fetch(self, text: str, offset: int) -> bool:
        """ "Pull weather for our 5 store cities", "查询北京、上海、广州三地的天气": a fetch
        named for several places or things runs once per item; what uses all the answers
        comes after the loop."""
        # a list of names runs over the commas that cut clauses: read to the sentence end
        end = SENTENCE_END.search(self.masked, offset)
        many = _MANY.search(self.masked[offset : end.start() if end else None])
        if many is None or many.start() >= len(text):
            return False
        found = detect(self.prompt[offset : offset + len(text)], offset)
        fetches = [a for a in found.actions if a.kind == "api" and not a.params["call"].is_list]
        if not fetches:
            return False
        self.plan.sources += [s for s in found.sources if s not in self.plan.sources]
        noun = many.group("noun") or many.group("zh") or many.group("zh2") or "items"
        noun = re.sub(r"(?<=ch)es$|(?<=[^s])s$", "", re.sub(r"ies$", "y", noun.lower()))
        names = re.findall(r"(?-i:[A-Z][a-z]+)", many.group()) if many.group("noun") is None else []
        for a in fetches:
            call = a.params["call"]
            if names and names[0] in call.url:  # the first named place was baked in: each one
                a.params["call"] = replace(call, url=call.url.replace(names[0], "{{ item }}"))
                noun = "city" if "wttr" in call.url else noun
        self.add([Loop(noun, offset + many.start(), body=list(fetches))])
        self.add([a for a in found.actions if a not in fetches])
        return True

    def open_loop(self, text: str, offset: int, marker: re.Match[str]) -> None:
        # a fetch named before the marker produces the items: it runs before the loop; so
        # does one that returns a list the loop goes over ("go through all GitHub issues")
        head = detect(self.prompt[offset : offset + marker.start()], offset)
        before = [a for a in head.actions if a.kind in SOURCE_KINDS or a.params.get("read")]
        whole = detect(self.prompt[offset : offset + len(text)], offset).actions
        # so does a storage tool the items are read from ("all tasks in Notion")
        before += [
            a
            for a in whole
            if ((a.kind == "api" and a.params["call"].is_list) or a.params.get("read"))
            and not same_action(a, before)
        ]
        # "fetch the diff of each open PR from GitHub": the service is named after the
        # marker; the fetch before it calls that service, not an unnamed URL
        named = [
            a for a in whole if a.kind == "api" and "api_url" not in a.params["call"].input_fields
        ]
        for a in before:
            if a.kind == "api" and "api_url" in a.params["call"].input_fields and named:
                a.params["call"] = named[0].params["call"]
        self.add(before)
        noun = noun_after(text[marker.end() :])
        before_marker = re.search(
            r"(?:把|将|对)(?:[^，,。]{0,8}?的)?([\u4e00-\u9fff]{1,6})$", text[: marker.start()]
        )
        if before_marker and re.fullmatch(f"逐(?:一|{MEASURE})|依次|挨个", marker.group()):
            noun = before_marker.group(1)  # "把合同逐条审阅": the items are named before
        loop = Loop(noun, offset + marker.start())
        self.add([loop])
        self.stack.append(_Scope(loop.body, loop))
        rest_start = marker.end()
        body_text = text[:rest_start] + text[rest_start:]
        found = detect(self.prompt[offset : offset + len(body_text)], offset)
        self.plan.sources += [s for s in found.sources if s not in self.plan.sources]
        remaining = [a for a in found.actions if a not in before and not same_action(a, before)]
        tail = text[rest_start:]
        if IF.search(tail) or has_comparison(tail):
            # "for each order over 1000, notify finance": the rest is a condition
            cond_at = IF.search(tail)
            start = cond_at.start() if cond_at else 0
            pre = [a for a in remaining if a.pos < offset + rest_start + start]
            self.add(pre)
            sub = Clause(
                self.prompt[offset + rest_start + start : offset + len(text)],
                offset + rest_start + start,
                -1,
                False,
            )
            if not self.condition(self.text_of(sub), sub, None, None):
                self.add([a for a in remaining if a not in pre])
            return
        kept = FILTER.search(tail)
        if kept is not None:
            # "go over the invoices one at a time and flag any with a missing PO number"
            at = offset + rest_start + kept.start()
            self.add([a for a in remaining if a.pos < at])
            if self.check_whether(self.masked[at : offset + len(text)], at):
                return
            self.add([a for a in remaining if a.pos >= at])
            return
        self.add(remaining)

    # --- conditions ------------------------------------------------------------------

    def condition(
        self, text: str, clause: Clause, previous: Clause | None, following: Clause | None
    ) -> bool:
        split = split_condition(text)
        if split is None:
            return False
        p_start, p_end, c_start, negated, when = split
        offset = clause.start
        predicate_text = self.prompt[offset + p_start : offset + p_end]
        predicate = analyze_predicate(predicate_text, when=when)
        # a predicate may name a source ("if the weather API reports rain"): fetch first
        # so may a store it reads ("spending in the sheet", "表格里的支出"): read it first
        sources = [
            a
            for a in detect(predicate_text, offset + p_start).actions
            if a.kind in SOURCE_KINDS or a.params.get("read")
        ]
        channels = detect(predicate_text, offset + p_start).sources  # "a Feishu message …"
        self.plan.sources += [s for s in channels if s not in self.plan.sources]
        if predicate is None and _CHANGE.search(predicate_text) and self.fetched():
            # "monitor the docket page … email me when a new entry shows up": what is
            # watched is fetched each run, so its change is a test, not a trigger
            predicate = Predicate("yesno", predicate_text, labels=("yes",))
        if predicate is None:  # "when a new email arrives": a trigger
            found = detect(predicate_text, offset + p_start)
            # "when a row is added to Google Sheets": the tool is where runs come from
            found.sources += [a.op for a in found.actions if a.kind == "tool"]
            self.plan.sources += [s for s in found.sources if s not in self.plan.sources]
            self.add(sources)
            self.actions(text[c_start:], offset + c_start)
            return True
        self.add(sources)
        branch = (
            self.merge_into(predicate)
            or self.merge_kind(predicate, predicate_text)
            or self.merge_tier(predicate)
        )
        pending = self.top.items[-1] if self.top.items else None
        if branch is None and isinstance(pending, Branch) and not any(pending.arms.values()):
            # the clause answers a question asked just before ("判断是否有风险，有风险就…")
            branch = pending
            self.open_arm(branch, "else" if negated else "then")
        elif branch is None:
            branch = Branch(predicate, offset + p_start, negated=negated)
            arm = "else" if negated else "then"
            # "C if P": the consequence came first, in the clause before
            consequent = text[c_start:].strip(" ,，")
            if (
                not consequent
                and previous is not None
                and previous.sentence == clause.sentence
                and (following is None or following.sentence != clause.sentence)
            ):
                moved: list[Item] = [
                    a
                    for a in self.top.items
                    if isinstance(a, Action)
                    and a.kind not in SOURCE_KINDS
                    and a.pos >= previous.start
                ]
                for a in moved:
                    self.top.items.remove(a)
                self.top.items.append(branch)
                branch.arms[arm] = moved
                self.stack.append(_Scope(branch.arms[arm], branch, arm))
                return True
            self.top.items.append(branch)
            self.open_arm(branch, arm)
        self.actions(text[c_start:], offset + c_start)
        return True

    def fetched(self) -> bool:
        """A page or API is called before this point (what a change is seen in)."""
        return any(a.kind == "api" for a in self.plan.actions())

    def merge_into(self, predicate: Predicate) -> Branch | None:
        """A second "if" on the same kind of question joins the branch before it as one
        more arm ("if negative …; if positive …")."""
        if predicate.kind != "concept":
            return None
        branch = self.last_branch()
        if branch is None or branch.predicate.kind != "concept" or branch.arms.get("else"):
            return None
        label = predicate.labels[0]
        if label in branch.labels or branch.labels:
            if label not in branch.arms and "then" in branch.arms:
                # first merge: the "then" arm becomes the first label's arm
                branch.arms = {branch.predicate.labels[0]: branch.arms.pop("then"), **branch.arms}
                branch.predicate = Predicate(
                    "concept", branch.predicate.text, labels=(branch.predicate.labels[0],)
                )
            self.open_arm(branch, label)
            branch.predicate = Predicate(
                "concept", branch.predicate.text, labels=tuple(dict.fromkeys([*branch.labels]))
            )
            return branch
        return None

    def merge_kind(self, predicate: Predicate, text: str) -> Branch | None:
        """ "If it's spam, delete it; if it's a question, draft an answer; otherwise …",
        "是广告就删除，是提问就回复，其它的不处理": tests of what kind the same thing is,
        one after another, are one route with an arm per kind (not a test nested in the
        first one's arm)."""
        if predicate.kind not in ("concept", "yesno"):
            return None
        label = kind_label(text)
        branch = self.last_branch()
        if label is None or branch is None or branch.negated or branch.arms.get("else"):
            return None
        if branch.predicate.kind not in ("concept", "yesno"):
            return None
        if not branch.labels:
            first = kind_label(branch.predicate.text) or (
                branch.predicate.labels[0] if branch.predicate.kind == "concept" else None
            )
            if first is None or "then" not in branch.arms or first == label:
                return None
            branch.arms = {first: branch.arms.pop("then"), **branch.arms}
        self.open_arm(branch, label)
        branch.predicate = Predicate(
            "concept", branch.predicate.text, labels=tuple(dict.fromkeys(branch.labels))
        )
        return branch

    def merge_tier(self, predicate: Predicate) -> Branch | None:
        """ "under $1k auto-pay, $1k to $10k goes to the controller, above $10k the CFO
        gets an email", "80 分以上…，60 到 80 分…，60 分以下…": bands of the same number,
        one after another, are one condition with a case per band."""
        if predicate.kind != "threshold" or predicate.open_limit:
            return None
        branch = self.last_branch()
        if branch is None or branch.negated or branch.arms.get("else"):
            return None
        first = branch.predicate
        if first.kind != "threshold" or first.open_limit:
            return None
        if "value" not in (first.subject, predicate.subject) and first.subject != predicate.subject:
            return None
        if (first.op, first.value, first.upper) == (predicate.op, predicate.value, predicate.upper):
            return None
        if not branch.tiers:
            if "then" not in branch.arms:
                return None
            label = tier_label(first)
            branch.tiers[label] = first
            branch.arms = {label: branch.arms.pop("then"), **branch.arms}
        label = tier_label(predicate)
        if label in branch.tiers:
            return None
        branch.tiers[label] = replace(predicate, subject=first.subject)
        self.open_arm(branch, label)
        return branch


def _blank_asides(text: str) -> str:
    """ "detractors (0-6) get a call": the aside blanked, same length (offsets hold)."""
    return re.sub(r"[(（][^()（）]*[)）]", lambda m: " " * len(m.group()), text)


def tier_label(p: Predicate) -> str:
    """A case handle that says the band: "under_1000", "1000_to_10000", "over_10000"."""

    def n(v: float) -> str:
        return str(int(v)) if v.is_integer() else str(v).replace(".", "_")

    if p.upper is not None:
        return f"{n(p.value)}_to_{n(p.upper)}"
    word = {">": "over", ">=": "from", "<": "under", "<=": "up_to", "==": "equals"}[p.op]
    return f"{word}_{n(p.value)}"


def read_plan(prompt: str) -> Plan:
    # numbers in words ("一千块以上", "three stars or less") are read as the digits they are
    return _Reader(digits(drop_courtesy(prompt))).read()
