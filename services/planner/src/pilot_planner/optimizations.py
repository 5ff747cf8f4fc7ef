"""Concrete ways to make a workflow cheaper, faster or sturdier (the original plan's
`suggest_optimizations`). Each suggestion names the nodes and the change to make, as a
patch a client can apply:

- a cheaper model for simple steps (classifying, extracting, translating, summarizing);
- retries with backoff on steps that call the network (api, tool, knowledge);
- one LLM call instead of two consecutive ones that only feed each other;
- running steps in parallel when one does not read what the step before it produced;
- a fallback model for LLM steps that have none.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from pilot_shared.contracts import ConditionNode, LLMNode, Node, Workflow
from pilot_shared.graph import Graph
from pilot_shared.pricing import price_of
from pilot_shared.templating import referenced_nodes

SuggestionKind = Literal[
    "cheaper_model", "add_retries", "merge_llm_calls", "parallelize", "add_fallback"
]

# A model is "expensive" from this input price (USD per 1M tokens) on.
EXPENSIVE_INPUT_PER_M = 1.0
# The cheap model of each family a simple step can move to.
CHEAP_MODELS: tuple[tuple[str, str], ...] = (
    ("claude", "claude-3-haiku"),
    ("qwen", "qwen-turbo"),
    ("deepseek", "deepseek-chat"),
    ("gpt", "gpt-4o-mini"),
)
_SIMPLE = re.compile(
    r"(?i)classif|categori|label|extract|translat|summar|tag|detect|sentiment|keyword|"
    r"分类|提取|抽取|翻译|总结|摘要|标签|识别|情感|情绪"
)
_NETWORK_TYPES = ("api", "tool", "knowledge")
_SLOW_TYPES = ("llm", "api", "tool", "knowledge")


class Suggestion(BaseModel):
    kind: SuggestionKind
    title: str
    detail: str
    node_ids: list[str]
    # The change, as {node_id: {field: value}} merged into the node (`config` merged too).
    patch: dict[str, dict[str, Any]] = Field(default_factory=dict)
    saving: str = ""


def cheap_model_for(model: str) -> str:
    base = model.rsplit("/", 1)[-1].lower()
    for family, cheap in CHEAP_MODELS:
        if base.startswith(family):
            return cheap
    return "gpt-4o-mini"


def _is_simple(node: Node) -> bool:
    if isinstance(node, ConditionNode):
        return node.config.mode == "llm_classify"
    if isinstance(node, LLMNode):
        text = " ".join([node.name, node.config.system_prompt or ""])
        return bool(_SIMPLE.search(text)) or node.config.temperature <= 0.1
    return False


def _model_of(node: Node) -> str | None:
    if isinstance(node, LLMNode):
        return node.config.model
    if isinstance(node, ConditionNode) and node.config.mode == "llm_classify":
        return node.config.model
    return None


def cheaper_models(workflow: Workflow) -> list[Suggestion]:
    out: list[Suggestion] = []
    for node in workflow.nodes:
        model = _model_of(node)
        if model is None or not _is_simple(node):
            continue
        price = price_of(model)
        cheap = cheap_model_for(model)
        cheap_price = price_of(cheap)
        if (
            price.input_per_m < EXPENSIVE_INPUT_PER_M
            or cheap_price.input_per_m >= price.input_per_m
        ):
            continue
        ratio = (price.input_per_m + price.output_per_m) / (
            cheap_price.input_per_m + cheap_price.output_per_m
        )
        out.append(
            Suggestion(
                kind="cheaper_model",
                title=f"Use {cheap} for {node.name or node.id}",
                detail=(
                    f"{node.id} does a simple task ({node.type}) on {model}; {cheap} does it "
                    f"well for about {ratio:.0f}x less."
                ),
                node_ids=[node.id],
                patch={node.id: {"config": {"model": cheap}}},
                saving=f"~{ratio:.0f}x cheaper per call",
            )
        )
    return out


def retries(workflow: Workflow) -> list[Suggestion]:
    out: list[Suggestion] = []
    for node in workflow.nodes:
        if node.type in _NETWORK_TYPES and node.retry.max_attempts <= 1:
            out.append(
                Suggestion(
                    kind="add_retries",
                    title=f"Retry {node.name or node.id} on failure",
                    detail=(
                        f"{node.id} calls the network; a timeout or a 5xx fails the run. Retry "
                        "up to 3 times with exponential backoff."
                    ),
                    node_ids=[node.id],
                    patch={
                        node.id: {
                            "retry": {"max_attempts": 3, "initial_delay_ms": 500, "multiplier": 2.0}
                        }
                    },
                )
            )
    return out


def _readers(workflow: Workflow) -> dict[str, set[str]]:
    """node id -> ids of the nodes whose templates read its output."""
    readers: dict[str, set[str]] = {n.id: set() for n in workflow.nodes}
    for node in workflow.nodes:
        for ref in referenced_nodes(node.config.model_dump_json()):
            if ref in readers:
                readers[ref].add(node.id)
    return readers


def merges(workflow: Workflow) -> list[Suggestion]:
    graph = Graph(workflow)
    readers = _readers(workflow)
    out: list[Suggestion] = []
    for node in workflow.nodes:
        if not isinstance(node, LLMNode):
            continue
        nexts = graph.outgoing.get(node.id, [])
        if len(nexts) != 1 or nexts[0].source_handle is not None:
            continue
        after = graph.nodes[nexts[0].target]
        if not isinstance(after, LLMNode) or len(graph.incoming.get(after.id, [])) != 1:
            continue
        if readers[node.id] - {after.id} or after.config.model != node.config.model:
            continue  # someone else needs the intermediate result, or the models differ
        if node.config.json_schema or after.config.json_schema:
            continue
        out.append(
            Suggestion(
                kind="merge_llm_calls",
                title=f"Merge {node.id} and {after.id} into one LLM call",
                detail=(
                    f"{after.id} only works on {node.id}'s answer and nothing else reads it: one "
                    "call with both instructions saves a round trip and the repeated context."
                ),
                node_ids=[node.id, after.id],
            )
        )
    return out


def parallel(workflow: Workflow) -> list[Suggestion]:
    """A slow step that does not read its predecessor's output (directly or through the
    nodes between) can start from the predecessor's own inputs instead, in parallel."""
    graph = Graph(workflow)
    out: list[Suggestion] = []
    for node in workflow.nodes:
        incoming = graph.incoming.get(node.id, [])
        if node.type not in _SLOW_TYPES or len(incoming) != 1 or node.id in graph.loop_of:
            continue
        edge = incoming[0]
        before = graph.nodes[edge.source]
        if edge.source_handle is not None or before.type not in _SLOW_TYPES:
            continue
        reads = referenced_nodes(node.config.model_dump_json())
        if edge.source in reads or before.id in graph.loop_of:
            continue
        sources = [c.source for c in graph.incoming.get(before.id, [])]
        if not sources or any(c.source_handle for c in graph.incoming.get(before.id, [])):
            continue
        out.append(
            Suggestion(
                kind="parallelize",
                title=f"Run {node.id} alongside {before.id}",
                detail=(
                    f"{node.id} does not use {before.id}'s output; connect it from "
                    f"{', '.join(sources)} instead so both run at the same time."
                ),
                node_ids=[before.id, node.id],
            )
        )
    return out


def fallbacks(workflow: Workflow) -> list[Suggestion]:
    out: list[Suggestion] = []
    for node in workflow.nodes:
        if isinstance(node, LLMNode) and not node.config.fallback_models:
            alternative = "claude-3-haiku" if node.config.model.startswith("gpt") else "gpt-4o-mini"
            out.append(
                Suggestion(
                    kind="add_fallback",
                    title=f"Give {node.id} a fallback model",
                    detail=(
                        f"If {node.config.model} is down or rate-limited, {alternative} "
                        "answers instead."
                    ),
                    node_ids=[node.id],
                    patch={node.id: {"config": {"fallback_models": [alternative]}}},
                )
            )
    return out


def suggest_optimizations(workflow: Workflow) -> list[Suggestion]:
    """Most valuable first: money, then failures, then latency, then resilience."""
    return [
        *cheaper_models(workflow),
        *retries(workflow),
        *merges(workflow),
        *parallel(workflow),
        *fallbacks(workflow),
    ]
