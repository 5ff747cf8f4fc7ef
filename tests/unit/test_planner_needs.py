"""The needs model: a learned backstop that adds the LLM step the rules did not read.
Trained with scikit-learn, shipped as numbers, read in plain Python with scikit-learn's
probabilities; it adds a step only when confident and only where none was read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pilot_generator.generator import WorkflowGenerator
from pilot_planner import needs, needs_training
from pilot_planner.actions import Action
from pilot_planner.needs import NeedsModel, add_missing, load_needs
from pilot_planner.offline import OfflinePlanner
from pilot_planner.plan import Loop
from pilot_planner.structure import read_plan
from pilot_shared.contracts import LLMNode, ToolNode, UserPreferences
from pilot_shared.graph import Graph, validate_workflow


@pytest.fixture(scope="module")
def examples() -> list[dict[str, object]]:
    return needs_training.load_examples()


def test_the_labelled_set_has_both_languages_and_batches(examples: list[dict[str, object]]) -> None:
    zh = sum(any("\u4e00" <= ch <= "\u9fff" for ch in str(e["text"])) for e in examples)
    assert 0.35 <= zh / len(examples) <= 0.65
    assert len({e["group"] for e in examples}) >= 5  # batches to hold out in turn


def test_shipped_model_loads_and_is_small() -> None:
    model = load_needs()
    assert model is not None and set(model.coef) == set(needs.TYPES)
    assert Path(needs_training.MODEL).stat().st_size < 1_000_000


def test_plain_python_matches_scikit_learn(examples: list[dict[str, object]]) -> None:
    subset = [e for i, e in enumerate(examples) if i % 5 == 0]
    texts = [str(e["text"]) for e in subset]
    vectorizer, models = needs_training._fit(texts, needs_training._labels(subset))
    exported = NeedsModel.from_dict(
        json.loads(json.dumps(needs_training.export(vectorizer, models)))
    )
    probe = ["Plan a trip to Lisbon and email it to me", "把日报发到飞书群", "hello", "规划行程"]
    for t, model in models.items():
        expected = model.predict_proba(vectorizer.transform(probe))[:, 1]
        for text, p in zip(probe, expected, strict=True):
            assert exported.probabilities(text)[t] == pytest.approx(float(p), abs=2e-3)


def _sure(monkeypatch: pytest.MonkeyPatch, p_llm: float) -> None:
    """A stand-in model that says "needs an LLM" with probability `p_llm` for any text."""
    import math

    z = math.log(p_llm / (1 - p_llm))
    fake = NeedsModel(vocabulary={}, idf=(), coef={"llm": ()}, intercept={"llm": z})
    monkeypatch.setattr(needs, "load_needs", lambda: fake)


def test_a_confident_model_adds_the_step_before_what_goes_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _sure(monkeypatch, 0.9)
    plan = read_plan("pull the station readings from the weather API and post them to Slack")
    assert add_missing(plan, "…", "write") == pytest.approx(0.9)
    kinds = [(a.kind, a.op) for a in plan.items if isinstance(a, Action)]
    assert kinds.index(("llm", "write")) < kinds.index(("tool", "slack"))


def test_in_a_loop_the_step_goes_before_the_send_in_the_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _sure(monkeypatch, 0.9)
    plan = read_plan("for each supplier in the list, send them a Slack message")
    add_missing(plan, "…", "write")
    (loop,) = [i for i in plan.items if isinstance(i, Loop)]
    ops = [a.op for a in loop.body if isinstance(a, Action)]
    assert ops.index("write") < ops.index("slack")


@pytest.mark.parametrize(
    ("prompt", "p"),
    [
        ("pull the station readings from the weather API and post them to Slack", 0.5),
        ("summarize the station readings and post them to Slack", 0.99),  # one was read
        ("if the message is a complaint, forward it to the manager", 0.99),  # the test is one
    ],
)
def test_no_step_when_unsure_or_when_an_llm_is_there(
    monkeypatch: pytest.MonkeyPatch, prompt: str, p: float
) -> None:
    _sure(monkeypatch, p)
    plan = read_plan(prompt)
    before = len(plan.walk())
    assert add_missing(plan, prompt, "write") is None
    assert len(plan.walk()) == before


def test_the_added_step_is_in_a_valid_graph_and_the_reason_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _sure(monkeypatch, 0.8)
    prompt = "every Friday pull the sales figures from the API and save them to Notion"
    blueprint = OfflinePlanner().plan_now(prompt, UserPreferences())
    assert "needs model" in blueprint.strategy_reason
    wf = WorkflowGenerator().generate_workflow(blueprint, prompt=prompt)
    validate_workflow(wf)
    (llm,) = [n for n in wf.nodes if isinstance(n, LLMNode)]
    sends = [n for n in wf.nodes if isinstance(n, ToolNode)]
    assert sends and all(llm.id in Graph(wf).ancestors(n.id) for n in sends)
