"""The offline strategy: deterministic rules and the shipped intent model, no network.
Always available, and what the LLM strategy falls back to.

It reads the prompt's shape (steps, branches, loops, sources, channels: `structure.py`) and
composes the graph from it (`compose.py`). A prompt that only names a kind of workflow
("创建一个客户支持聊天机器人", "an email triage workflow") gets that built-in template
instead, which carries what such a workflow usually needs beyond what the prompt says.
"""

from __future__ import annotations

from pilot_shared.contracts import Entity, UserPreferences, WorkflowBlueprint, WorkflowIntent

from .builder import PlanContext
from .compose import Composer
from .entities import extract_entities, name_spans
from .injection import strip_injection
from .intent import classify
from .language import detect_language
from .needs import add_missing
from .structure import Plan, read_plan
from .templates import GENERAL, info, template_for

# Below this the intent is too unsure to impose a template's extra steps.
TEMPLATE_CONFIDENCE = 0.45
_NEUTRAL_REQUEST = {"en": "A general assistant", "zh": "通用助手"}


def plan_kinds(plan: Plan) -> set[str]:
    """What a plan asks for, in a template's `covers` terms: action kinds and LLM ops."""
    kinds: set[str] = set()
    for action in plan.actions():
        if action.kind == "llm":
            kinds |= {op for op, _ in action.params.get("ops", [])} or {action.op}
        elif action.kind != "escalate":
            kinds.add(action.kind)
    return kinds


def choose_template(plan: Plan, intent: WorkflowIntent) -> str | None:
    """The template that stands for this prompt, or None to compose it: a template only
    when the prompt asks for nothing beyond what the template does, with no branches or
    loops of its own to honor, and when the intent is clear."""
    if intent.category == GENERAL or intent.confidence < TEMPLATE_CONFIDENCE:
        return None
    if plan.has_control or not plan_kinds(plan) <= info(intent.category).covers:
        return None
    if any(s in _CHATS for s in plan.sources):
        return None  # a chat bot answers in its chat: composed, with the reply step
    steps = [
        a
        for a in plan.actions()
        if a.kind != "escalate" and not (a.kind == "tool" and a.op in NOTIFY_CHANNELS)
    ]
    if len(steps) > 1:
        return None  # the prompt spells out its steps: compose them
    return intent.category


class OfflinePlanner:
    name = "offline"

    def __init__(self, default_model: str = "gpt-4o-mini") -> None:
        self.default_model = default_model

    def extract_entities(self, prompt: str) -> list[Entity]:
        return extract_entities(prompt)

    def analyze_intent(self, prompt: str, entities: list[Entity] | None = None) -> WorkflowIntent:
        found = extract_entities(prompt) if entities is None else entities
        # Product and model names say nothing about the writer's language.
        language = detect_language(prompt, ignore=name_spans(found))
        return classify(prompt, language)

    def suggest_workflow_structure(
        self,
        intent: WorkflowIntent,
        entities: list[Entity],
        preferences: UserPreferences,
        *,
        prompt: str,
        plan: Plan | None = None,
    ) -> WorkflowBlueprint:
        plan = plan or read_plan(prompt)
        sinks = tuple(dict.fromkeys(a.op for a in plan.actions() if a.kind == "tool"))
        ctx = PlanContext(
            prompt=prompt,
            intent=intent,
            entities=entities,
            preferences=preferences,
            default_model=self.default_model,
            sinks=sinks,
        )
        template = choose_template(plan, intent)
        if template is not None or not (plan.actions() or plan.has_control):
            blueprint = template_for(template or intent.category)(ctx)
            return _fed_by(blueprint, plan.sources)
        return Composer(ctx, plan, intent.category).compose()

    def explain(self, prompt: str, intent: WorkflowIntent, plan: Plan | None = None) -> str:
        """How the offline planner read the prompt, for `strategy_reason`."""
        plan = plan or read_plan(prompt)
        template = choose_template(plan, intent)
        if template is not None:
            return f"offline rules: the {template} template (intent {intent.confidence:.2f})"
        if not (plan.actions() or plan.has_control):
            return f"offline rules: the {intent.category} template (nothing more specific asked)"
        items = plan.walk()
        parts = [f"{len(plan.actions())} steps"]
        branches = sum(type(i).__name__ == "Branch" for i in items)
        loops = sum(type(i).__name__ == "Loop" for i in items)
        if branches:
            parts.append(f"{branches} branch{'es' if branches > 1 else ''}")
        if loops:
            parts.append(f"{loops} loop{'s' if loops > 1 else ''}")
        shape = ", ".join(parts)
        added = [a.params["backstop"] for a in plan.actions() if "backstop" in a.params]
        if added:
            shape += f"; an LLM step the needs model asked for, p={added[0]:.2f}"
        return f"offline rules: composed from the prompt ({shape}; intent {intent.category})"

    async def plan(
        self, prompt: str, preferences: UserPreferences, *, reason: str = ""
    ) -> WorkflowBlueprint:
        return self.plan_now(prompt, preferences, reason=reason)

    def plan_now(
        self, prompt: str, preferences: UserPreferences, *, reason: str = ""
    ) -> WorkflowBlueprint:
        """`plan` without the coroutine (no I/O happens here), for benchmarks and the CLI."""
        cleaned, dropped = strip_injection(prompt)
        if dropped and not cleaned.strip():
            language = "zh" if detect_language(prompt) != "en" else "en"
            cleaned = _NEUTRAL_REQUEST[language]
        entities = self.extract_entities(cleaned)
        intent = self.analyze_intent(cleaned, entities)
        plan = read_plan(cleaned)
        if choose_template(plan, intent) is None:
            add_missing(plan, cleaned, _BACKSTOP_OPS.get(intent.category, "write"))
        blueprint = self.suggest_workflow_structure(
            intent, entities, preferences, prompt=cleaned, plan=plan
        )
        why = reason or self.explain(cleaned, intent, plan)
        if dropped:
            why += (
                f"; ignored {dropped} sentence{'s' if dropped > 1 else ''} addressed to the "
                "planner rather than describing the workflow"
            )
        return blueprint.model_copy(update={"strategy": "offline", "strategy_reason": why})


# The operation of an LLM step the needs model adds, by what the workflow is for.
_BACKSTOP_OPS = {"data_analysis": "analyze", "customer_support": "answer"}
_CHANNELS = ("email", "slack", "wecom", "dingtalk", "feishu", "webhook")
# Where a template sends its results; any other tool is a step of its own.
NOTIFY_CHANNELS = frozenset(
    {"email", "slack", "wecom", "dingtalk", "feishu", "webhook", "sms", "telegram", "discord"}
)
_CHATS = ("slack", "wecom", "dingtalk", "feishu", "telegram", "discord", "wechat")


def _fed_by(blueprint: WorkflowBlueprint, sources: list[str]) -> WorkflowBlueprint:
    """A template's input says where runs come from when the prompt does ("收到的邮件")."""
    source = next((s for s in sources if s in _CHANNELS), None)
    first = blueprint.steps[0] if blueprint.steps else None
    if source is None or first is None or first.type != "input":
        return blueprint
    step = first.model_copy(update={"config": {**first.config, "input_type": source}})
    return blueprint.model_copy(update={"steps": [step, *blueprint.steps[1:]]})
