"""A learned backstop for the rules: which node types a prompt needs.

The rules miss steps whose wording they do not know yet ("plan a 3-day itinerary",
"给出 3 个选题", "tell me what to prepare"): every fresh batch of prompts brings new verbs.
`needs_training.py` fits one TF-IDF + logistic regression per node type on the labelled
prompts and exports `models/needs.json`; this module reads it and, like `classifier.py`,
redoes the arithmetic in plain Python. When the model is confident a type is needed and
the plan has none, `add_missing` puts the step where it naturally goes.

Only the LLM step is added today: held out batch by batch, it was the one type where a
confident prediction the rules missed was mostly right (`tests/eval/README.md`).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

from .actions import Action
from .classifier import features, shipped_model
from .plan import Branch, Item, Loop, Plan

MODEL_FILE = "needs.json"
TYPES = ("llm",)
# How sure the model must be before a step the rules did not read is added.
THRESHOLD = 0.6


@dataclass(frozen=True)
class NeedsModel:
    vocabulary: dict[str, int]
    idf: tuple[float, ...]
    coef: dict[str, tuple[float, ...]]
    intercept: dict[str, float]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NeedsModel:
        return cls(
            vocabulary=dict(data["vocabulary"]),
            idf=tuple(data["idf"]),
            coef={t: tuple(row) for t, row in data["coef"].items()},
            intercept={t: float(b) for t, b in data["intercept"].items()},
        )

    def probabilities(self, text: str) -> dict[str, float]:
        """P(type needed) per type: TF-IDF, L2-normalized, then a logistic per type."""
        counts = Counter(f for f in features(text) if f in self.vocabulary)
        weights = {self.vocabulary[f]: n * self.idf[self.vocabulary[f]] for f, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        out: dict[str, float] = {}
        for t, row in self.coef.items():
            z = self.intercept[t] + sum(row[i] * w / norm for i, w in weights.items())
            out[t] = 1.0 / (1.0 + math.exp(-z))
        return out


@cache
def load_needs() -> NeedsModel | None:
    """The shipped needs model, or None."""
    data = shipped_model(MODEL_FILE)
    return None if data is None else NeedsModel.from_dict(data)


def _asks_an_llm(plan: Plan) -> bool:
    """An LLM step, or a branch an LLM decides (a concept or yes/no test is classified by
    the model in the condition itself)."""
    for item in plan.walk():
        if isinstance(item, Action) and item.kind == "llm":
            return True
        if isinstance(item, Branch) and item.predicate.kind in ("concept", "yesno"):
            return True
    return False


def _is_sink(item: Item) -> bool:
    return (
        isinstance(item, Action)
        and item.kind in ("tool", "escalate")
        and not item.params.get("read")
        and item.op not in ("web_search", "calculator")
    )


def _insert_before_sink(items: list[Item], step: Action) -> bool:
    """Before the first step that sends or stores (in a loop body when the sending
    happens there), so what goes out is what the LLM made."""
    for i, item in enumerate(items):
        if _is_sink(item) or isinstance(item, Branch):
            items.insert(i, step)
            return True
        if isinstance(item, Loop) and any(_is_sink(b) for b in item.body):
            return _insert_before_sink(item.body, step)
    return False


def add_missing(plan: Plan, prompt: str, op: str) -> float | None:
    """Adds an LLM step (operation `op`) to `plan` when the model is confident one is
    needed and the rules read none; returns the model's probability when it did."""
    model = load_needs()
    if model is None or not plan.items or _asks_an_llm(plan):
        return None
    p = model.probabilities(prompt).get("llm", 0.0)
    if p < THRESHOLD:
        return None
    step = Action("llm", op, prompt, len(prompt), {"backstop": round(p, 2)})
    if not _insert_before_sink(plan.items, step):
        plan.items.append(step)
    return p
