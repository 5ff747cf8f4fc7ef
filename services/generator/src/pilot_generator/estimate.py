"""What a run of a workflow will roughly cost and take, before it runs.

Cost: a token estimate per LLM call (its static prompt text, plus a typical size for each
value it reads) priced by `pilot_shared.pricing`. Time: typical latencies per node type,
summed along the slowest path, since parallel branches overlap. Both are rough by nature;
they tell a user whether a workflow is a cent or a dollar, two seconds or a minute.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from pilot_shared.contracts import ConditionNode, LLMNode, LoopNode, Node, Workflow
from pilot_shared.graph import Graph, GraphValidationError
from pilot_shared.pricing import DEFAULT_MODEL, cost_usd, estimate_tokens

# Typical sizes, in tokens.
INPUT_VALUE_TOKENS = 100  # one `input.*` value a template reads
DEFAULT_COMPLETION_TOKENS = 256  # an LLM answer without max_tokens
CLASSIFY_INSTRUCTION_TOKENS = 60
CLASSIFY_COMPLETION_TOKENS = 3
# Typical latencies, in seconds.
LLM_FIRST_TOKEN_S = 0.4
LLM_TOKENS_PER_S = 150.0
TYPE_LATENCY_S: dict[str, float] = {
    "input": 0.0,
    "output": 0.0,
    "condition": 0.01,
    "loop": 0.0,
    "api": 0.5,
    "knowledge": 0.3,
    "tool": 0.5,
}
NOMINAL_ITERATIONS = 5  # a loop's item count is unknown until it runs

_EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_NODE_OUTPUT = re.compile(r"nodes\.([A-Za-z_][A-Za-z0-9_\-]*)")


@dataclass(frozen=True)
class NodeEstimate:
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0


@dataclass(frozen=True)
class Estimate:
    cost_usd: float
    seconds: float
    nodes: dict[str, NodeEstimate] = field(default_factory=dict)

    @property
    def execution_time(self) -> str:
        return format_duration(self.seconds)


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return "<1s"
    if seconds < 60:
        return f"~{round(seconds)}s"
    if seconds < 3600:
        return f"~{round(seconds / 60)}min"
    return f"~{seconds / 3600:.1f}h"


def _read_tokens(template: str, completions: dict[str, int]) -> int:
    """Tokens a rendered template will have: its static text, plus each value it reads."""
    static = estimate_tokens(_EXPRESSION.sub("", template))
    dynamic = 0
    for expr in _EXPRESSION.findall(template):
        refs = _NODE_OUTPUT.findall(expr)
        if refs:
            dynamic += sum(completions.get(r, DEFAULT_COMPLETION_TOKENS) for r in refs)
        elif "input" in expr or "item" in expr:
            dynamic += INPUT_VALUE_TOKENS
    return static + dynamic


def _llm_call(model: str, prompt_tokens: int, completion_tokens: int) -> NodeEstimate:
    return NodeEstimate(
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost_usd(model, prompt_tokens, completion_tokens),
        seconds=LLM_FIRST_TOKEN_S + completion_tokens / LLM_TOKENS_PER_S,
    )


def estimate_node(node: Node, completions: dict[str, int]) -> NodeEstimate:
    """One execution of one node. `completions`: tokens each upstream node outputs."""
    if isinstance(node, LLMNode):
        cfg = node.config
        prompt = _read_tokens(cfg.prompt, completions)
        if cfg.system_prompt:
            prompt += _read_tokens(cfg.system_prompt, completions)
        completion = min(cfg.max_tokens or DEFAULT_COMPLETION_TOKENS, DEFAULT_COMPLETION_TOKENS)
        return _llm_call(cfg.model, prompt, completion)
    if isinstance(node, ConditionNode) and node.config.mode == "llm_classify":
        prompt = CLASSIFY_INSTRUCTION_TOKENS + _read_tokens(node.config.input or "", completions)
        return _llm_call(node.config.model or DEFAULT_MODEL, prompt, CLASSIFY_COMPLETION_TOKENS)
    return NodeEstimate(seconds=TYPE_LATENCY_S.get(node.type, 0.1))


def _longest_path(ids: list[str], graph: Graph, weight: dict[str, float]) -> float:
    """Slowest path through `ids` (in topological order), along edges between them."""
    members = set(ids)
    finish: dict[str, float] = {}
    for nid in ids:
        start = max(
            (
                finish[c.source]
                for c in graph.incoming.get(nid, [])
                if c.source in members and c.source in finish
            ),
            default=0.0,
        )
        finish[nid] = start + weight[nid]
    return max(finish.values(), default=0.0)


def estimate(workflow: Workflow) -> Estimate:
    graph = Graph(workflow)
    try:
        order = graph.topological_order()
    except GraphValidationError:
        order = [n.id for n in workflow.nodes]
    per_node: dict[str, NodeEstimate] = {}
    completions: dict[str, int] = {}
    for nid in order:
        est = estimate_node(graph.nodes[nid], completions)
        per_node[nid] = est
        completions[nid] = est.completion_tokens or INPUT_VALUE_TOKENS

    # A loop body runs once per item: cost scales with the items, time with the rounds
    # its concurrency allows.
    runs: dict[str, int] = {nid: 1 for nid in order}
    weight = {nid: per_node[nid].seconds for nid in order}
    body_members: set[str] = set()
    # Inner loops come later in topological order: weigh them first.
    loops = [n for nid in reversed(order) if isinstance(n := graph.nodes[nid], LoopNode)]
    for node in loops:
        iterations = min(node.config.max_iterations, NOMINAL_ITERATIONS)
        body = [nid for nid in order if nid in set(node.config.body)]
        for nid in body:
            runs[nid] *= iterations
        body_members |= set(body)
        rounds = math.ceil(iterations / node.config.concurrency)
        weight[node.id] += rounds * _longest_path(body, graph, weight)

    cost = sum(per_node[nid].cost_usd * runs[nid] for nid in order)
    main = [nid for nid in order if nid not in body_members]
    seconds = _longest_path(main, graph, weight)
    return Estimate(cost_usd=round(cost, 6), seconds=seconds, nodes=per_node)
