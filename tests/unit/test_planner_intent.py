"""The intent classifier: trained in the repo with scikit-learn, shipped as a JSON file,
read by the planner in plain Python with the same probabilities as scikit-learn's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilot_planner import intent_training
from pilot_planner.classifier import IntentModel, features, load_model
from pilot_planner.intent import classify
from pilot_planner.templates import TEMPLATES


@pytest.fixture(scope="module")
def examples() -> list[dict[str, str]]:
    return intent_training.load_examples()


def test_the_labeled_set(examples: list[dict[str, str]]) -> None:
    labels = {e["label"] for e in examples}
    assert labels == set(TEMPLATES)  # one class per built-in template
    zh = sum(any("\u4e00" <= ch <= "\u9fff" for ch in e["text"]) for e in examples)
    assert 0.4 <= zh / len(examples) <= 0.6
    held_out = {e["group"] for e in examples if intent_training.is_held_out(e["group"])}
    assert 0.1 < len(held_out) / len({e["group"] for e in examples}) < 0.4


def test_shipped_model_loads_and_is_small() -> None:
    model = load_model()
    assert model is not None and set(model.classes) == set(TEMPLATES)
    path = Path(intent_training.MODEL)
    assert path.stat().st_size < 1_000_000
    assert model.accuracy is not None and model.accuracy >= 0.7


def test_plain_python_matches_scikit_learn(examples: list[dict[str, str]], tmp_path: Path) -> None:
    subset = [e for i, e in enumerate(examples) if i % 3 == 0]
    pipeline = intent_training._fit([e["text"] for e in subset], [e["label"] for e in subset])
    exported = IntentModel.from_dict(json.loads(json.dumps(intent_training.export(pipeline, None))))
    probe = ["Alert me on Slack when BTC is above 60k", "把这段话翻译成法语", "hello world", "客服"]
    expected = pipeline.predict_proba(probe)
    for text, row in zip(probe, expected, strict=True):
        ours = exported.probabilities(text)
        for label, p in zip(pipeline[1].classes_, row, strict=True):
            assert ours[str(label)] == pytest.approx(float(p), abs=2e-3)


def test_training_is_deterministic(examples: list[dict[str, str]], tmp_path: Path) -> None:
    subset = [e for i, e in enumerate(examples) if i % 4 == 0]
    one, two = tmp_path / "a.json", tmp_path / "b.json"
    intent_training.train(subset, one)
    intent_training.train(subset, two)
    assert one.read_bytes() == two.read_bytes()


def test_features_cover_both_languages() -> None:
    f = features("Translate 翻译成英文")
    assert "w:translate" in f and "c:翻译" in f and "c:英" in f and "s:transl" in f


@pytest.mark.parametrize(
    ("prompt", "category"),
    [
        ("Monitor the exchange rate API and alert me when it is too high", "api_alert"),
        ("对每一个门店的数据逐条分析，最后汇总成报告", "list_report"),
        ("Score new leads and send the hot ones to sales", "lead_qualification"),
        ("检测评论中的违规内容", "content_moderation"),
    ],
)
def test_classifies_unseen_prompts(prompt: str, category: str) -> None:
    assert classify(prompt, "en").category == category
