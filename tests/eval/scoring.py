"""Scoring generated workflows against the evaluation set's expectations.

A case says which node types a person would draw, how many branches a condition should
have, whether there is a loop, which integrations and models the prompt names. A
workflow is scored by node-type F1 (over the set of types it uses) and by those checks;
"all required" means every expected type, branch count, loop, integration and model is
there. `known_failure` marks a prompt that fails today: it stays in the set, reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pilot_shared.contracts import (
    ApiNode,
    ConditionNode,
    InputNode,
    LLMNode,
    LoopNode,
    ToolNode,
    UserPreferences,
    Workflow,
)
from pilot_shared.graph import Graph, GraphValidationError, validate_workflow

PROMPTS = Path(__file__).with_name("prompts.jsonl")
_API_HOSTS = {
    "api.github.com": "github",
    "wttr.in": "weather",
    "open.er-api.com": "exchange_rates",
    "api.coingecko.com": "crypto",
}


@dataclass(frozen=True)
class Case:
    id: str
    lang: str
    prompt: str
    node_types: frozenset[str]
    branches: int = 0
    loop: bool = False
    integrations: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    preferences: UserPreferences = field(default_factory=UserPreferences)
    known_failure: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        return cls(
            id=data["id"],
            lang=data.get("lang", "en"),
            prompt=data["prompt"],
            node_types=frozenset(data["node_types"]),
            branches=int(data.get("branches", 0)),
            loop=bool(data.get("loop", False)),
            integrations=tuple(data.get("integrations", ())),
            models=tuple(data.get("models", ())),
            preferences=UserPreferences.model_validate(data.get("preferences", {})),
            known_failure=data.get("known_failure"),
        )


def load_cases(path: Path = PROMPTS) -> list[Case]:
    lines = path.read_text("utf-8").splitlines()
    return [Case.from_dict(json.loads(line)) for line in lines if line.strip()]


@dataclass
class Score:
    case: Case
    types: frozenset[str]
    f1: float
    missing: frozenset[str]
    extra: frozenset[str]
    branches: int
    has_loop: bool
    integrations: frozenset[str]
    models: frozenset[str]
    valid: bool
    error: str = ""

    @property
    def branches_ok(self) -> bool:
        return self.branches >= self.case.branches

    @property
    def loop_ok(self) -> bool:
        return self.has_loop or not self.case.loop

    @property
    def integrations_ok(self) -> bool:
        return set(self.case.integrations) <= self.integrations

    @property
    def models_ok(self) -> bool:
        return set(self.case.models) <= self.models

    @property
    def all_required(self) -> bool:
        return (
            self.valid
            and not self.missing
            and self.branches_ok
            and self.loop_ok
            and self.integrations_ok
            and self.models_ok
        )

    def problems(self) -> list[str]:
        out = []
        if not self.valid:
            out.append(f"invalid: {self.error}")
        if self.missing:
            out.append("missing " + ",".join(sorted(self.missing)))
        if self.extra:
            out.append("extra " + ",".join(sorted(self.extra)))
        if not self.branches_ok:
            out.append(f"branches {self.branches}<{self.case.branches}")
        if not self.loop_ok:
            out.append("no loop")
        if not self.integrations_ok:
            out.append("no " + ",".join(sorted(set(self.case.integrations) - self.integrations)))
        if not self.models_ok:
            out.append("model " + ",".join(sorted(set(self.case.models) - self.models)))
        return out


def f1(expected: frozenset[str], got: frozenset[str]) -> float:
    if not expected and not got:
        return 1.0
    hit = len(expected & got)
    if hit == 0:
        return 0.0
    precision, recall = hit / len(got), hit / len(expected)
    return 2 * precision * recall / (precision + recall)


def integrations_of(workflow: Workflow) -> set[str]:
    """Every integration a workflow touches: its tools, where its input comes from, and
    the well-known APIs it calls."""
    found: set[str] = set()
    for node in workflow.nodes:
        if isinstance(node, ToolNode):
            found.add(node.config.tool)
        elif isinstance(node, InputNode):
            found.add(node.config.input_type)
        elif isinstance(node, ApiNode):
            host = (urlsplit(node.config.url).hostname or "").lower()
            if host in _API_HOSTS:
                found.add(_API_HOSTS[host])
    return found


def branch_count(workflow: Workflow) -> int:
    """The most branches any one node routes to: a condition's distinct handles, or a node
    with an error route plus its normal path. Inside a loop body an arm with nothing
    connected is a branch too: it ends that item's iteration (there is no join to reach)."""
    graph = Graph(workflow)
    best = 0
    for node in workflow.nodes:
        handles = {c.source_handle for c in graph.outgoing.get(node.id, [])}
        if isinstance(node, ConditionNode):
            if node.id in graph.loop_of:
                handles |= set(node.config.handles())
            best = max(best, len(handles - {"error"}))
        elif "error" in handles:
            best = max(best, len(handles))
    return best


def score(case: Case, workflow: Workflow) -> Score:
    types = frozenset(n.type for n in workflow.nodes)
    try:
        validate_workflow(workflow)
        valid, error = True, ""
    except GraphValidationError as exc:
        valid, error = False, str(exc)
    models = {n.config.model for n in workflow.nodes if isinstance(n, LLMNode)}
    return Score(
        case=case,
        types=types,
        f1=f1(case.node_types, types),
        missing=case.node_types - types,
        extra=types - case.node_types,
        branches=branch_count(workflow),
        has_loop=any(isinstance(n, LoopNode) and n.config.body for n in workflow.nodes),
        integrations=frozenset(integrations_of(workflow)),
        models=frozenset(models),
        valid=valid,
        error=error,
    )
