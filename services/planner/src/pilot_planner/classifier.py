"""The trained intent classifier: which built-in workflow a prompt is closest to.

`make train-intent` fits TF-IDF features and a logistic regression with scikit-learn
(`intent_training.py`) and exports the fitted numbers to `models/intent.json`. This module
reads that file and reproduces the fitted model's arithmetic in plain Python: no pickle
(which would run code on load and breaks across scikit-learn versions), no numpy import on
the planner's path, and a test checks that its probabilities equal scikit-learn's.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

MODEL_FILE = "intent.json"
_WORD = re.compile(r"[a-z][a-z0-9+#-]*|\d+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LONG_WORD = re.compile(r"[a-z]{3,}")
_SUFFIX = re.compile(r"(?:ing|ed|es|s|ion|ions|er|ers)$")


def features(text: str) -> list[str]:
    """The tokens the model sees: English words, word pairs, crude stems and 4-letter
    pieces (so "translation" and "translate" share evidence with little data), and Chinese
    characters and character pairs (Chinese has no spaces; pairs carry most of its words)."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    out = [f"w:{w}" for w in words]
    out += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    for word in _LONG_WORD.findall(lowered):
        out.append("s:" + _SUFFIX.sub("", word)[:6])
        out += [f"g:{word[i : i + 4]}" for i in range(len(word) - 3)]
    for run in _CJK_RUN.findall(lowered):
        out += [f"c:{ch}" for ch in run]
        out += [f"c:{run[i : i + 2]}" for i in range(len(run) - 1)]
    return out


@dataclass(frozen=True)
class IntentModel:
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]  # one row per class
    intercept: tuple[float, ...]
    accuracy: float | None = None  # on the held-out split, when it was trained

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IntentModel:
        return cls(
            classes=tuple(data["classes"]),
            vocabulary=dict(data["vocabulary"]),
            idf=tuple(data["idf"]),
            coef=tuple(tuple(row) for row in data["coef"]),
            intercept=tuple(data["intercept"]),
            accuracy=data.get("accuracy"),
        )

    def vector(self, text: str) -> dict[int, float]:
        """TF-IDF, L2-normalized (TfidfVectorizer's defaults), as {feature: weight}."""
        counts = Counter(f for f in features(text) if f in self.vocabulary)
        weights = {self.vocabulary[f]: n * self.idf[self.vocabulary[f]] for f, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {i: w / norm for i, w in weights.items()} if norm else {}

    def probabilities(self, text: str) -> dict[str, float]:
        x = self.vector(text)
        scores = [
            b + sum(row[i] * w for i, w in x.items())
            for row, b in zip(self.coef, self.intercept, strict=True)
        ]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def predict(self, text: str) -> tuple[str, float]:
        probs = self.probabilities(text)
        best = max(probs, key=lambda c: probs[c])
        return best, probs[best]


def shipped_model(name: str) -> dict[str, Any] | None:
    """A model file shipped in `pilot_planner/models`, parsed; None when it has not been
    trained (the rules work alone then)."""
    try:
        raw = resources.files("pilot_planner.models").joinpath(name).read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    data: dict[str, Any] = json.loads(raw)
    return data


@cache
def load_model() -> IntentModel | None:
    """The shipped intent model, or None."""
    data = shipped_model(MODEL_FILE)
    return None if data is None else IntentModel.from_dict(data)
