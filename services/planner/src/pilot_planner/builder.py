"""What the offline templates build with: the facts drawn from a prompt (`PlanContext`)
and a small builder that numbers steps the way the generator names nodes."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from pilot_shared.contracts import (
    BlueprintEdge,
    BlueprintStep,
    Entity,
    NodeType,
    UserPreferences,
    WorkflowBlueprint,
    WorkflowIntent,
)

from .entities import normalize_integration, values

Wording = Literal["en", "zh"]
# Enough of the request for a system prompt to carry its specifics, not a whole document.
MAX_CONTEXT_CHARS = 1_000
MAX_INTEGRATIONS = 8

# Steps that call out over the network retry transient failures by default; a failed
# notification should not cost the user the answer it was carrying.
_RETRIES: dict[str, int] = {"llm": 3, "api": 3, "tool": 3, "knowledge": 2}
_ON_ERROR: dict[str, dict[str, Any]] = {"tool": {"strategy": "continue", "default_output": None}}


def literal(text: str, limit: int = MAX_CONTEXT_CHARS) -> str:
    """User text made safe to embed in a template: it must stay text, never become a
    `{{ … }}`/`{% … %}` that the sandbox would evaluate or the validator reject."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return re.sub(r"\{(?=[{%#])", "{ ", text)


def output_of(key: str) -> str:
    """The template that reads step `key`'s output."""
    return "{{ nodes." + key + ".output }}"


@dataclass(frozen=True)
class PlanContext:
    prompt: str
    intent: WorkflowIntent
    entities: list[Entity]
    preferences: UserPreferences
    default_model: str
    # Where the prompt sends results, as read from it (None: every integration it names)
    sinks: tuple[str, ...] | None = None

    @property
    def wording(self) -> Wording:
        """The language of node names and instructions: the user's preference, else the
        prompt's (a mixed prompt is a Chinese speaker's, who named English terms)."""
        if self.preferences.language is not None:
            return self.preferences.language
        return "en" if self.intent.language == "en" else "zh"

    def t(self, en: str, zh: str) -> str:
        return zh if self.wording == "zh" else en

    @property
    def model(self) -> str:
        models = values(self.entities, "model")
        return models[0] if models else self.default_model

    @property
    def fallback_models(self) -> list[str]:
        return values(self.entities, "model")[1:]

    @property
    def reply_language(self) -> str | None:
        """An explicitly requested reply language ("用英文回复"), else None."""
        found = values(self.entities, "language")
        return found[0] if found else None

    @property
    def integrations(self) -> list[str]:
        """Preferences first (the user chose them), then those the prompt names; once each."""
        names: list[str] = []
        named = values(self.entities, "integration") if self.sinks is None else list(self.sinks)
        for raw in [*self.preferences.integrations, *named]:
            name = normalize_integration(raw)
            if name and name not in names:
                names.append(name)
        return names[:MAX_INTEGRATIONS]

    @property
    def preferred_integrations(self) -> list[str]:
        """Integrations the user chose in their preferences (the prompt's own are placed
        where the prompt says)."""
        names: list[str] = []
        for raw in self.preferences.integrations:
            name = normalize_integration(raw)
            if name and name not in names:
                names.append(name)
        return names[:MAX_INTEGRATIONS]

    @property
    def complexity(self) -> str:
        return self.preferences.complexity

    def request_context(self) -> str:
        return literal(self.prompt)


@dataclass
class BlueprintBuilder:
    steps: list[BlueprintStep] = field(default_factory=list)
    edges: list[BlueprintEdge] = field(default_factory=list)
    _counts: Counter[str] = field(default_factory=Counter)

    def add(self, type_: NodeType, name: str, config: dict[str, Any]) -> str:
        """Add a step; its key is `<type>_<n>`, the id the generator will give the node,
        so that templates reading `nodes.<key>.output` need no rewriting."""
        self._counts[type_] += 1
        key = f"{type_}_{self._counts[type_]}"
        retry = {"max_attempts": _RETRIES[type_]} if type_ in _RETRIES else None
        self.steps.append(
            BlueprintStep(
                key=key,
                type=type_,
                name=name,
                config=config,
                retry=retry,
                on_error=_ON_ERROR.get(type_),
            )
        )
        return key

    def step(self, key: str) -> BlueprintStep:
        return next(s for s in self.steps if s.key == key)

    def update(self, key: str, **changes: Any) -> None:
        """Replace fields of a step already added (`config` is merged, not replaced)."""
        i = next(i for i, s in enumerate(self.steps) if s.key == key)
        if "config" in changes:
            changes["config"] = {**self.steps[i].config, **changes["config"]}
        self.steps[i] = self.steps[i].model_copy(update=changes)

    def connect(self, source: str, target: str, handle: str | None = None) -> None:
        self.edges.append(BlueprintEdge(source=source, target=target, handle=handle))

    def chain(self, *keys: str, first_handle: str | None = None) -> str:
        """Connect keys in order (the first edge with `first_handle`); returns the last."""
        for i, (a, b) in enumerate(itertools.pairwise(keys)):
            self.connect(a, b, first_handle if i == 0 else None)
        return keys[-1]

    def build(
        self, *, name: str, description: str, intent: WorkflowIntent, entities: list[Entity]
    ) -> WorkflowBlueprint:
        return WorkflowBlueprint(
            name=name[:200],
            description=description,
            intent=intent,
            entities=list(entities),
            steps=list(self.steps),
            edges=list(self.edges),
            strategy="offline",
        )
