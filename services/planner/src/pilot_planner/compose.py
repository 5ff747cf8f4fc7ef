"""Plan -> blueprint: one step per action, a condition per branch (its arms on their
`source_handle`s), a loop per loop (its body behind the "body" handle, listed in
`config.body`), joined back together where the prose goes on.

Data flows along the path: every step reads the value the step before it produced
(`{{ nodes.<key>.output }}`), the first one reads the workflow input, a loop body reads
`{{ item }}`, and after a branch the next step reads whichever arm ran
(`{{ nodes.a.output or nodes.b.output }}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from pilot_shared.contracts import WorkflowBlueprint

from .actions import Action
from .apis import ApiCall
from .builder import BlueprintBuilder, PlanContext, literal, output_of
from .expressions import safe_number
from .fields import InputFields
from .instructions import NOT_FOUND, SCORE_SCHEMA, op_name, system_prompt, temperature
from .intent import summarize
from .lexicon import en, rx
from .predicates import Predicate
from .structure import Branch, Item, Loop, Plan
from .tools import read_name, tool_config, tool_name

Tail = tuple[str, str | None]
_CHATS = ("slack", "wecom", "dingtalk", "feishu", "telegram", "discord", "wechat")
_MESSAGING = frozenset(
    {"email", "sms", "slack", "wecom", "dingtalk", "feishu", "telegram", "discord", "wechat"}
)
_MESSAGE = rx(
    en(
        r"(?:welcome|greeting|reminder|thank[\s-]?you|invitation|follow[\s-]?up|birthday|"
        r"apolog|congratulat|outreach|personali[sz]ed|personally|thank)\w*"
    ),
    "欢迎",
    "祝福",
    "挽留",
    "优惠",
    "道歉",
    "问候",
    "感谢",
    "邀请",
    "催办",
    "跟进",
)


@dataclass
class Flow:
    tails: list[Tail]
    value: str  # template of the data at this point
    question: str  # template of what was asked (the input, or the loop item)
    docs: str | None = None  # retrieved documents, for the next answering step
    last: str | None = None  # key of the last step on the path
    api: tuple[str, ApiCall] | None = None  # the latest fetch, for thresholds on its answer
    scored: str | None = None  # the latest scoring step, for thresholds on its score
    in_loop: bool = False
    depth: int = 0  # inside how many branch arms or loop bodies
    arm: str | None = None  # the label of the branch arm this path is on
    ended: Flow | None = None  # the path as it was before a hand-off ended it


def _maybe(expression: str) -> str:
    """`nodes.x.output` -> `(nodes.x or {}).output`: None, not an error, when x was skipped."""
    return re.sub(r"^nodes\.(\w+)\.", r"(nodes.\1 or {}).", expression)


def _band(left: str, p: Predicate) -> str:
    """The test of one band of a number (a sandboxed expression)."""

    def n(v: float) -> str:
        return str(int(v)) if v.is_integer() else str(v)

    if p.upper is not None:
        return f"{left} >= {n(p.value)} and {left} <= {n(p.upper)}"
    return f"{left} {p.op} {n(p.value)}"


def _expr(template: str) -> str:
    m = re.fullmatch(r"\{\{\s*(.*?)\s*\}\}", template)
    return m.group(1) if m else repr(template)


def normalize(items: list[Item], *, merge_llm: bool) -> list[Item]:
    """- a classification right before a branch on what it classifies is that branch's
      own question (one `llm_classify` condition, not an LLM step and a condition);
    - with `merge_llm` (complexity "simple"), consecutive LLM steps become one."""
    out: list[Item] = []
    for i, item in enumerate(items):
        following = items[i + 1] if i + 1 < len(items) else None
        if (
            isinstance(item, Action)
            and item.kind == "llm"
            and item.op in ("classify", "moderate")
            and isinstance(following, Branch)
            and following.predicate.kind in ("concept", "yesno")
            and "model" not in item.params  # "use gpt-4 to classify": that model's step
        ):
            continue
        if (
            isinstance(item, Action)
            and item.kind == "llm"
            and item.op == "moderate"
            and not isinstance(following, Branch)
        ):
            # content moderation decides something: flagged content goes another way
            item = Branch(Predicate("concept", item.text, labels=("flagged",)), item.pos)
        previous = out[-1] if out else None
        if (
            merge_llm
            and isinstance(item, Action)
            and item.kind == "llm"
            and isinstance(previous, Action)
            and previous.kind == "llm"
            and item.op != "score"
        ):
            ops = previous.params.get("ops") or [(previous.op, previous.params)]
            out[-1] = Action(
                "llm",
                previous.op,
                previous.text,
                previous.pos,
                {**previous.params, "ops": [*ops, (item.op, item.params)]},
            )
            continue
        out.append(item)
    return out


def _with_review(items: list[Item]) -> list[Item]:
    """Advanced: a last pass over what the main line's final LLM step wrote, before it goes
    anywhere."""
    last = max(
        (i for i, item in enumerate(items) if isinstance(item, Action) and item.kind == "llm"),
        default=None,
    )
    if last is None:
        return items
    review = Action("llm", "review", items[last].text, items[last].pos)  # type: ignore[union-attr]
    return [*items[: last + 1], review, *items[last + 1 :]]


class Composer:
    def __init__(self, ctx: PlanContext, plan: Plan, category: str) -> None:
        self.ctx = ctx
        self.plan = plan
        self.category = category
        self.b = BlueprintBuilder()
        self.fields = InputFields(ctx, plan, category)
        self.sent: set[str] = set()
        self.conditions: list[str] = []

    # --- entry ----------------------------------------------------------------------

    def compose(self) -> WorkflowBlueprint:
        ctx = self.ctx
        inp = self.b.add("input", self.fields.label(), {"input_type": self.fields.input_type})
        primary = self.fields.primary_template()
        flow = Flow([(inp, None)], primary, primary, last=inp)
        items = list(self.plan.items)
        if ctx.complexity == "advanced":
            items = _with_review(items)
        flow = self.walk(items, flow)
        chat = next((s for s in self.plan.sources if s in _CHATS), None)
        if chat and not self.sent and flow.tails:
            flow = self.tool(chat, flow)  # a chat-triggered workflow answers in that chat
        for name in ctx.preferred_integrations:
            if name not in self.sent:
                if not flow.tails and flow.ended is not None:
                    flow = flow.ended  # after a hand-off the path it left still sends
                flow = self.tool(name, flow)
        if flow.tails:
            self.output(flow)
        schema = self.fields.schema(self.b.steps)
        self.b.update(inp, name=self.fields.label(schema), config={"schema": schema})
        summary = summarize(ctx.prompt, 60)
        return self.b.build(
            name=ctx.t(f"Workflow: {summary}", f"工作流：{summary}"),
            description=ctx.intent.summary,
            intent=ctx.intent,
            entities=ctx.entities,
        )

    def primary_read(self) -> bool:
        """Whether some step already reads the workflow's main input field: only then is
        it worth quoting again as "the request" (and requiring it as input)."""
        needle = self.fields.primary_template()
        return any(needle in repr(step.config) for step in self.b.steps[1:])

    # --- walking the plan -------------------------------------------------------------

    def walk(self, items: list[Item], flow: Flow) -> Flow:
        for item in normalize(items, merge_llm=self.ctx.complexity == "simple"):
            if not flow.tails and flow.ended is not None:
                # a hand-off read before the steps that follow it: a side exit, and the
                # rest still runs (no step may be left unreachable)
                flow = flow.ended
            if isinstance(item, Action):
                flow = self.action(item, flow)
            elif isinstance(item, Branch):
                flow = self.branch(item, flow)
            else:
                flow = self.loop(item, flow)
        return flow

    def attach(self, key: str, flow: Flow) -> None:
        for source, handle in flow.tails:
            self.b.connect(source, key, handle)

    def action(self, action: Action, flow: Flow) -> Flow:
        if action.kind == "api":
            return self.api(action.params["call"], flow)
        if action.kind == "knowledge":
            return self.knowledge(action, flow)
        if action.kind == "llm":
            ops = action.params.get("ops") or [(action.op, action.params)]
            return self.llm(ops, flow, model=action.params.get("model"))
        if action.kind == "tool":
            if (
                action.op in _MESSAGING
                and "nodes.llm_" not in flow.value
                and _MESSAGE.search(action.text)
            ):
                # "send a welcome email": someone has to write it first
                flow = self.llm([("write", {})], flow)
            if action.params.get("read"):
                return self.read(action.op, flow)
            return self.tool(action.op, flow)
        return self.escalate(flow)

    def api(self, call: ApiCall, flow: Flow) -> Flow:
        url = call.url
        if flow.in_loop and call.url == "{{ input.api_url }}":
            # "for each URL, fetch the page": the item is (or carries) what to call
            url, call = "{{ item.url or item }}", replace(call, input_fields={})
        elif flow.in_loop and len(call.input_fields) == 1:
            # "weather for our 5 store cities": each item is the one thing the call needs
            (name,) = call.input_fields
            url = url.replace("{{ input." + name + " }}", "{{ item }}")
            call = replace(call, input_fields={})
        config: dict[str, Any] = {"method": call.method, "url": url, "timeout_s": 30}
        if call.method != "GET":
            config["body"] = {"data": flow.value}
        key = self.b.add(
            "api", self.ctx.t(f"Call {call.name}", f"调用{call.name_zh or call.name}接口"), config
        )
        self.fields.declare(call.input_fields)
        self.attach(key, flow)
        return replace(flow, tails=[(key, None)], value=output_of(key), last=key, api=(key, call))

    def knowledge(self, action: Action, flow: Flow) -> Flow:
        source = action.params.get("source") or ""
        name = (
            self.ctx.t(f"Search {source}", f"检索{source}")
            if source
            else self.ctx.t("Search knowledge base", "检索知识库")
        )
        top_k = 5 if self.ctx.complexity == "advanced" else 3
        key = self.b.add("knowledge", name[:80], {"query": flow.question, "top_k": top_k})
        self.attach(key, flow)
        return replace(
            flow, tails=[(key, None)], value=output_of(key), docs=output_of(key), last=key
        )

    def llm(
        self, ops: list[tuple[str, dict[str, Any]]], flow: Flow, *, model: str | None = None
    ) -> Flow:
        ctx = self.ctx
        names = [op for op, _ in ops]
        with_docs = flow.docs is not None and bool({"answer", "write", "summarize"} & set(names))
        labels = next((p.get("labels") for op, p in ops if op == "classify"), None)
        config: dict[str, Any] = {
            "model": model or ctx.model,
            "system_prompt": system_prompt(
                ctx, ops, self.category, with_documents=with_docs, labels=labels
            ),
            "prompt": self.prompt_for(flow, with_docs),
            "temperature": temperature(names),
        }
        if ctx.fallback_models:
            config["fallback_models"] = ctx.fallback_models
        if names[-1] == "score":
            config["json_schema"] = SCORE_SCHEMA
            config["stream"] = False
        name = " + ".join(op_name(ctx, op, p) for op, p in ops)
        key = self.b.add("llm", name[:80], config)
        self.attach(key, flow)
        return replace(
            flow,
            tails=[(key, None)],
            value=output_of(key),
            docs=None if with_docs else flow.docs,
            last=key,
            scored=key if names[-1] == "score" else flow.scored,
        )

    def prompt_for(self, flow: Flow, with_docs: bool) -> str:
        t = self.ctx.t
        if with_docs and flow.docs:
            return t(
                f"Question:\n{flow.question}\n\nDocuments:\n{flow.docs}",
                f"问题：\n{flow.question}\n\n参考文档：\n{flow.docs}",
            )
        if flow.value != flow.question and not flow.in_loop and self.primary_read():
            return t(
                f"Request:\n{flow.question}\n\nMaterial:\n{flow.value}",
                f"原始请求：\n{flow.question}\n\n材料：\n{flow.value}",
            )
        return flow.value

    def tool(self, name: str, flow: Flow) -> Flow:
        ctx = self.ctx
        self.sent.add(name)
        subject = ctx.t("Workflow update", "工作流通知")
        if flow.arm:
            subject = ctx.t(f"Flagged: {flow.arm}", f"提醒：{flow.arm}")
        message = flow.value
        if flow.api is not None and flow.value == output_of(flow.api[0]):
            message = (
                ctx.t(f"Update from {flow.api[1].name}: ", f"{flow.api[1].name}更新：") + flow.value
            )
        if flow.last is not None and self.b.step(flow.last).type == "condition":
            message = ctx.t("Alert: ", "提醒：") + message
        config = tool_config(name, ctx, message, subject)
        key = self.b.add("tool", tool_name(ctx, name), config)
        self.attach(key, flow)
        return replace(flow, tails=[(key, None)], last=key)

    def read(self, name: str, flow: Flow) -> Flow:
        """A storage tool the data comes from ("读取数据库中的销售记录"): queried first, its
        records are what the next step works on."""
        config = {"tool": name, "params": {"action": "query", "query": flow.value}}
        key = self.b.add("tool", read_name(self.ctx, name), config)
        self.attach(key, flow)
        return replace(flow, tails=[(key, None)], value=output_of(key), last=key)

    def escalate(self, flow: Flow) -> Flow:
        ctx = self.ctx
        key = self.b.add(
            "output",
            ctx.t("Hand off to a human", "转人工处理"),
            {
                "mapping": {
                    "escalated": "{{ true }}",
                    "request": flow.question,
                    "draft": flow.value,
                },
                "format": "json",
            },
        )
        self.attach(key, flow)
        return replace(flow, tails=[], last=key, ended=flow)

    # --- branches ---------------------------------------------------------------------

    def branch(self, branch: Branch, flow: Flow) -> Flow:
        p = branch.predicate
        if (
            p.kind == "failure"
            and flow.last
            and self.b.step(flow.last).type in ("api", "tool", "llm")
        ):
            return self.error_route(branch, flow)
        if p.kind == "failure":
            p = Predicate("yesno", p.text, labels=("yes",))
        config, name = self.condition_config(p, flow, branch)
        key = self.b.add("condition", name, config)
        if flow.depth == 0:  # on the main line: upstream of everything after it
            self.conditions.append(key)
        self.attach(key, flow)
        if branch.labels:  # one arm per label, the rest on the default handle
            handles = {label: label for label in branch.labels}
            handles["else"] = "other"
        else:
            yes, no = p.handles
            handles = {"then": no, "else": yes} if branch.negated else {"then": yes, "else": no}
        before = replace(flow, last=key, depth=flow.depth + 1)
        ends: list[Flow] = []
        for arm_name, handle in handles.items():
            items = branch.arms.get(arm_name, [])
            label = handle if handle not in ("true", "false", "other") else None
            start = replace(before, tails=[(key, handle)], arm=label)
            ends.append(self.walk(items, start) if items else start)
        return self.join(flow, ends, key)

    def error_route(self, branch: Branch, flow: Flow) -> Flow:
        """ "If the API call fails": the step carries on with no output instead of failing
        the run, and a condition on that empty output takes the failure arm."""
        assert flow.last is not None
        self.b.update(flow.last, on_error={"strategy": "continue", "default_output": None})
        failed = Predicate("not_found", branch.predicate.text, subject="call")
        return self.branch(Branch(failed, branch.pos, branch.negated, branch.arms), flow)

    def join(self, before: Flow, ends: list[Flow], anchor: str) -> Flow:
        tails: list[Tail] = [t for end in ends for t in end.tails]
        values: list[str] = []
        for end in ends:
            if end.tails and end.value not in values:
                values.append(end.value)
        if len(values) > 1:
            # a skipped arm's nodes are not in the context at all: read them defensively
            value = "{{ " + " or ".join(_maybe(_expr(v)) for v in values) + " }}"
        else:
            value = values[0] if values else before.value
        return replace(
            before, tails=tails, value=value, last=anchor, depth=before.depth, arm=before.arm
        )

    def condition_config(
        self, p: Predicate, flow: Flow, branch: Branch
    ) -> tuple[dict[str, Any], str]:
        ctx = self.ctx
        if p.kind == "threshold" and branch.tiers:
            left = self.subject(p, flow)
            cases = [{"handle": label, "when": _band(left, t)} for label, t in branch.tiers.items()]
            return (
                {"cases": cases, "default_handle": "other"},
                ctx.t(f"{p.subject.capitalize()} band", f"{p.subject} 区间"),
            )
        if p.kind == "threshold":
            left = self.subject(p, flow)
            value: float | str = int(p.value) if p.value.is_integer() else p.value
            if p.open_limit:
                value = "input." + self.fields.declare_limit(p.subject)
            expression = _band(left, p) if p.upper is not None else f"{left} {p.op} {value}"
            return (
                {"expression": expression},
                ctx.t(f"{p.subject.capitalize()} {p.op} {value}?", f"{p.subject} {p.op} {value}？"),
            )
        if p.kind == "not_found":
            if p.subject == "call" and flow.last:
                expression = f"not nodes.{flow.last}.output"
            elif flow.last and self.b.step(flow.last).type == "llm":
                step = self.b.step(flow.last)
                if NOT_FOUND not in step.config.get("system_prompt", ""):
                    self.b.update(
                        flow.last,
                        config={
                            "system_prompt": step.config.get("system_prompt", "")
                            + ctx.t(
                                f" If you cannot answer, reply exactly {NOT_FOUND}.",
                                f" 无法回答时，只回复 {NOT_FOUND}。",
                            )
                        },
                    )
                expression = f"'{NOT_FOUND}' in ({_expr(flow.value)} or '')"
            else:
                expression = f"not {_expr(flow.value)}"
            name = ctx.t("Answer found?", "是否找到答案")
            if p.subject == "call":
                name = ctx.t("Call failed?", "调用是否失败")
            return {"expression": expression}, name
        labels = list(branch.labels) or list(p.labels)
        config = {
            "mode": "llm_classify",
            "labels": labels,
            "default_handle": "other",
            "input": flow.value,
            "model": ctx.model,
        }
        if p.kind == "yesno":
            question = literal(p.text.strip(), 200)
            config["input"] = (
                ctx.t(f"Is this true: {question}?\n\n", f"判断是否满足：{question}\n\n")
                + flow.value
            )
            return config, ctx.t("Check condition", "条件判断")
        return config, ctx.t("Route by " + " / ".join(labels), "分流：" + " / ".join(labels))[:80]

    def subject(self, p: Predicate, flow: Flow) -> str:
        """What a threshold compares: the loop item's field, a fetched answer's field, a
        score, or a number the user supplies as input."""
        if flow.scored is not None and p.subject in ("score", "value"):
            return safe_number(f"nodes.{flow.scored}.output", "score")
        if flow.in_loop and flow.question == "{{ item }}":
            return safe_number("item", p.subject)
        if flow.api is not None:
            key, call = flow.api
            path = call.numbers.get(p.subject) or call.numbers.get("value") or p.subject
            return safe_number(f"nodes.{key}.output", path)
        self.fields.declare_number(p.subject)
        return f"input.{p.subject}"

    # --- loops ----------------------------------------------------------------------

    def loop(self, loop: Loop, flow: Flow) -> Flow:
        ctx = self.ctx
        if flow.in_loop:  # loops do not nest (the validator refuses it): run the body inline
            return self.walk(loop.body, flow)
        fetched = flow.api is not None and flow.value == output_of(flow.api[0])
        if fetched or (flow.docs is not None and flow.value == flow.docs):
            items = flow.value
        else:
            items = "{{ input." + self.fields.declare_list(loop.noun) + " }}"
        key = self.b.add(
            "loop",
            ctx.t(f"For each {loop.noun}", f"遍历每个{loop.noun}")[:80],
            {
                "mode": "for_each",
                "items": items,
                "body": [],
                "concurrency": 4,
                "max_iterations": 100,
            },
        )
        self.attach(key, flow)
        first = len(self.b.steps)
        body_flow = Flow(
            [(key, "body")],
            "{{ item }}",
            "{{ item }}",
            last=key,
            in_loop=True,
            depth=flow.depth + 1,
        )
        body = loop.body or [Action("llm", self.default_op(), "", loop.pos)]
        self.walk(body, body_flow)
        members = [s.key for s in self.b.steps[first:]]
        self.b.update(key, config={"body": members})
        return replace(flow, tails=[(key, None)], value=output_of(key), last=key, docs=None)

    def default_op(self) -> str:
        return {"data_analysis": "analyze", "content_generation": "write"}.get(
            self.category, "summarize"
        )

    # --- the end --------------------------------------------------------------------

    def output(self, flow: Flow) -> None:
        ctx = self.ctx
        config: dict[str, Any]
        if self.conditions:
            config = {
                "mapping": {"result": flow.value, "route": output_of(self.conditions[-1])},
                "format": "json",
            }
        else:
            config = {"value": flow.value, "format": "text"}
        key = self.b.add("output", ctx.t("Result", "输出结果"), config)
        self.attach(key, flow)
