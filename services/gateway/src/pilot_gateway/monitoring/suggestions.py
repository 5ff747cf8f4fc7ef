"""Advice drawn from a workflow's real execution history (not from its structure alone):
where the time goes, where the money goes, which nodes fail, which branches never run."""

from __future__ import annotations

from collections import Counter

from pilot_shared.contracts import (
    ERROR_HANDLE,
    TERMINAL_EXECUTION_STATUSES,
    ConditionNode,
    LLMNode,
    Workflow,
)
from pilot_shared.pricing import PRICES, cost_usd

from .history import History
from .schemas import Severity, Suggestion, SuggestionList, WorkflowStats

# A node failing or retrying on more than this share of its runs is flaky.
FLAKY_THRESHOLD = 0.2
# An LLM node spending at least this share of the workflow's cost is a hot spot.
HOTSPOT_SHARE = 0.2
NO_HISTORY = "no executions in the window yet: suggestions come from execution history"

_SEVERITY_ORDER: dict[Severity, int] = {"critical": 0, "warning": 1, "info": 2}
# Model name prefixes of one provider: a cheaper model is only suggested from the same one,
# so the swap needs no new key or endpoint.
_PROVIDERS = {
    "gpt-": "openai",
    "o1": "openai",
    "o3": "openai",
    "o4": "openai",
    "claude": "anthropic",
    "deepseek": "deepseek",
    "qwen": "qwen",
    "gemini": "google",
    "mistral": "mistral",
    "llama": "meta",
}


def provider_of(model: str) -> str:
    if "/" in model:  # OpenRouter style: "openai/gpt-4o"
        return model.split("/", 1)[0].lower()
    name = model.lower()
    for prefix, provider in _PROVIDERS.items():
        if name.startswith(prefix):
            return provider
    return name.split("-", 1)[0]


def cheaper_model(model: str, prompt_tokens: int, completion_tokens: int) -> str | None:
    """The cheapest chat model of the same provider that would have cost less for these
    tokens (a blend of 1M each way when there were none)."""
    if not prompt_tokens and not completion_tokens:
        prompt_tokens = completion_tokens = 1_000_000
    current = cost_usd(model, prompt_tokens, completion_tokens)
    provider = provider_of(model)
    candidates = [
        (cost_usd(name, prompt_tokens, completion_tokens), name)
        for name in PRICES
        if name != model
        and "embedding" not in name
        and provider_of(name) == provider
        and (PRICES[name].input_per_m or PRICES[name].output_per_m)
    ]
    cheaper = sorted(c for c in candidates if c[0] < current)
    return cheaper[0][1] if cheaper else None


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _bottleneck(stats: WorkflowStats, history: History) -> list[Suggestion]:
    # a loop's own time is its body's time: counting both would name the loop every time
    timed = [n for n in stats.nodes if n.total_ms > 0 and n.node_type != "loop"]
    if len(timed) < 2:
        return []
    node = max(timed, key=lambda n: n.total_ms)
    execution_ms = sum(
        e.duration_ms or 0.0 for e in history.executions if e.status in TERMINAL_EXECUTION_STATUSES
    )
    node_ms = sum(n.total_ms for n in timed)
    # parallel branches can add up to more than the wall time: the share is capped at all
    share = min(1.0, node.total_ms / execution_ms) if execution_ms else node.total_ms / node_ms
    advice = {
        "llm": "use a faster model, lower max_tokens, or cache repeated prompts",
        "api": "check the remote API's latency, lower its timeout, or cache its answers",
        "loop": "raise the loop's concurrency or shorten its body",
        "knowledge": "lower top_k or narrow the knowledge base",
    }.get(node.node_type, "look at what this node waits on")
    return [
        Suggestion(
            kind="bottleneck",
            node_id=node.node_id,
            title=f"{node.node_id} is the bottleneck ({_pct(share)} of the execution time)",
            detail=f"{node.node_id} ({node.node_type}) took {node.total_ms:.0f} ms over "
            f"{node.attempts} attempts (mean {node.mean_ms or 0:.0f} ms, p95 "
            f"{node.p95_ms or 0:.0f} ms): {advice}.",
            evidence={
                "share_of_execution_time": round(share, 4),
                "share_of_node_time": round(node.total_ms / node_ms, 4),
                "node_total_ms": node.total_ms,
                "execution_total_ms": round(execution_ms, 3),
                "mean_ms": node.mean_ms,
                "p95_ms": node.p95_ms,
                "attempts": node.attempts,
            },
            severity="warning" if share >= 0.5 else "info",
        )
    ]


def _cost_hotspots(workflow: Workflow, stats: WorkflowStats) -> list[Suggestion]:
    total = stats.cost.total_usd
    if total <= 0:
        return []
    models = {n.id: n.config.model for n in workflow.nodes if isinstance(n, LLMNode)}
    out = []
    for node in sorted(stats.nodes, key=lambda n: -n.cost_usd):
        share = node.cost_usd / total
        if node.node_type != "llm" or node.cost_usd <= 0 or share < HOTSPOT_SHARE:
            continue
        model = models.get(node.node_id)
        suggested = (
            cheaper_model(model, node.tokens.prompt, node.tokens.completion) if model else None
        )
        evidence: dict[str, object] = {
            "cost_usd": node.cost_usd,
            "share_of_cost": round(share, 4),
            "model": model,
            "suggested_model": suggested,
            "prompt_tokens": node.tokens.prompt,
            "completion_tokens": node.tokens.completion,
            "runs": node.runs,
        }
        if suggested is not None:
            would_cost = cost_usd(suggested, node.tokens.prompt, node.tokens.completion)
            evidence["cost_with_suggested_usd"] = would_cost
            evidence["saving_usd"] = round(node.cost_usd - would_cost, 10)
            detail = (
                f"{node.node_id} spent ${node.cost_usd:.6f} ({_pct(share)} of the cost) on "
                f"{model}; the same tokens on {suggested} would cost ${would_cost:.6f}."
            )
        else:
            detail = (
                f"{node.node_id} spent ${node.cost_usd:.6f} ({_pct(share)} of the cost) on "
                f"{model}, already the cheapest priced model of its provider: shorten the "
                "prompt or lower max_tokens."
            )
        out.append(
            Suggestion(
                kind="cost_hotspot",
                node_id=node.node_id,
                title=f"{node.node_id} is {_pct(share)} of the cost"
                + (f": try {suggested}" if suggested else ""),
                detail=detail,
                evidence=evidence,
                severity="warning" if share >= 0.5 and suggested else "info",
            )
        )
    return out


def _failure_kinds(history: History) -> dict[str, tuple[Counter[str], int]]:
    """Per node: the kinds of its failures, and how many of them were retryable."""
    kinds: dict[str, tuple[Counter[str], int]] = {}
    for run in history.node_runs:
        if run.status != "failed":
            continue
        counter, retryable = kinds.get(run.node_id, (Counter(), 0))
        counter[run.error.kind if run.error else "unknown"] += 1
        kinds[run.node_id] = (counter, retryable + bool(run.error and run.error.retryable))
    return kinds


def _flaky(workflow: Workflow, stats: WorkflowStats, history: History) -> list[Suggestion]:
    nodes = {n.id: n for n in workflow.nodes}
    failures = _failure_kinds(history)
    out = []
    for node in stats.nodes:
        spec = nodes.get(node.node_id)
        if spec is None or not node.attempts:
            continue
        failed_attempts = node.attempts - node.completed
        failure_rate = failed_attempts / node.attempts
        retry_rate = node.retries / node.runs if node.runs else 0.0
        if max(failure_rate, retry_rate) <= FLAKY_THRESHOLD:
            continue
        no_retry = spec.retry.max_attempts <= 1
        fails_run = spec.on_error.strategy == "fail"
        if not (no_retry or fails_run):
            continue
        kinds, retryable = failures.get(node.node_id, (Counter(), 0))
        fixes = []
        if no_retry and retryable:
            fixes.append('add a retry policy (e.g. "retry": {"max_attempts": 3})')
        elif no_retry:
            # a retry of a refused request (a blocked URL, a bad config) fails the same way
            fixes.append(
                f"its failures are not retryable ({', '.join(sorted(kinds))}): fix the "
                "node's config or inputs; a retry policy would not help"
            )
        if fails_run:
            fixes.append(
                'set on_error to "continue" with a default_output, "error_branch" or '
                '"fallback" so one failure does not fail the run'
            )
        out.append(
            Suggestion(
                kind="flaky_node",
                node_id=node.node_id,
                title=f"{node.node_id} fails {_pct(failure_rate)} of its attempts",
                detail=f"{node.node_id} ({node.node_type}) failed {failed_attempts} of "
                f"{node.attempts} attempts and was retried {node.retries} times: "
                + "; ".join(fixes)
                + ".",
                evidence={
                    "attempts": node.attempts,
                    "failed_attempts": failed_attempts,
                    "failure_rate": round(failure_rate, 4),
                    "retries": node.retries,
                    "retry_rate": round(retry_rate, 4),
                    "runs_failed": node.failed,
                    "retryable_failures": retryable,
                    "error_kinds": dict(sorted(kinds.items())),
                    "max_attempts": spec.retry.max_attempts,
                    "on_error": spec.on_error.strategy,
                    "threshold": FLAKY_THRESHOLD,
                },
                severity="critical" if node.failed / max(node.runs, 1) >= 0.5 else "warning",
            )
        )
    return out


def _untaken(workflow: Workflow, history: History) -> list[Suggestion]:
    finished = [e for e in history.executions if e.status in TERMINAL_EXECUTION_STATUSES]
    if not finished:
        return []
    ran = {r.node_id for r in history.node_runs}
    out: list[Suggestion] = []
    covered: set[str] = set()
    for node in workflow.nodes:
        if not isinstance(node, ConditionNode):
            continue
        decided = [
            e.node_states[node.id].handle
            for e in finished
            if node.id in e.node_states and e.node_states[node.id].status == "completed"
        ]
        if not decided:
            continue
        targets: dict[str, list[str]] = {}
        for c in workflow.connections:
            if c.source == node.id and c.source_handle and c.source_handle != ERROR_HANDLE:
                targets.setdefault(c.source_handle, []).append(c.target)
        for handle, nodes in sorted(targets.items()):
            if handle in decided or any(t in ran for t in nodes):
                continue
            covered.update(nodes)
            out.append(
                Suggestion(
                    kind="branch_never_taken",
                    node_id=node.id,
                    title=f'branch "{handle}" of {node.id} was never taken',
                    detail=f'{node.id} decided {len(decided)} times and never chose "{handle}", '
                    f"so {', '.join(nodes)} never ran: check the condition, or remove the "
                    "branch if it is dead.",
                    evidence={
                        "handle": handle,
                        "decisions": len(decided),
                        "taken": {h: decided.count(h) for h in sorted({str(d) for d in decided})},
                        "targets": nodes,
                    },
                    severity="info",
                )
            )
    for node in workflow.nodes:
        if node.id in covered or node.id in ran:
            continue
        skipped = sum(
            1
            for e in finished
            if node.id in e.node_states and e.node_states[node.id].status == "skipped"
        )
        if skipped and skipped == len(finished):
            out.append(
                Suggestion(
                    kind="branch_never_taken",
                    node_id=node.id,
                    title=f"{node.id} was skipped in every execution",
                    detail=f"{node.id} was skipped in all {skipped} finished executions: the "
                    "branch leading to it is never taken.",
                    evidence={"skipped": skipped, "finished_executions": len(finished)},
                    severity="info",
                )
            )
    return out


def suggestions(workflow: Workflow, stats: WorkflowStats, history: History) -> SuggestionList:
    if not history.executions:
        return SuggestionList(
            workflow_id=workflow.id, window=history.window, suggestions=[], note=NO_HISTORY
        )
    found = [
        *_bottleneck(stats, history),
        *_cost_hotspots(workflow, stats),
        *_flaky(workflow, stats, history),
        *_untaken(workflow, history),
    ]
    found.sort(key=lambda s: _SEVERITY_ORDER[s.severity])
    note = None if found else "nothing to improve was found in this window"
    return SuggestionList(
        workflow_id=workflow.id, window=history.window, suggestions=found, note=note
    )
