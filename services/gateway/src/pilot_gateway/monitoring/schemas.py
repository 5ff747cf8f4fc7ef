"""Shapes of the monitoring endpoints: a workflow's stats, usage per user and day, and
suggestions drawn from execution history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pilot_shared.contracts import ExecutionStatus

# One policy for every monitoring response: `from` is a Python keyword, so it is an alias.
_CONFIG = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class Window(BaseModel):
    """Which executions a figure covers: the newest `limit` created at or after `since`
    (and before `until`, where the endpoint takes it)."""

    model_config = _CONFIG

    count: int = Field(description="Executions covered")
    from_: datetime | None = Field(
        default=None, alias="from", description="Creation time of the oldest covered execution"
    )
    to: datetime | None = Field(
        default=None, description="Creation time of the newest covered execution"
    )
    limit: int = Field(description="At most this many executions, newest first")
    truncated: bool = Field(
        description="More executions matched than `limit`: older ones are not covered"
    )


class Durations(BaseModel):
    """Durations in milliseconds (nearest-rank percentiles)."""

    count: int = Field(description="How many durations the figures come from")
    mean_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None


class Tokens(BaseModel):
    prompt: int = 0
    completion: int = 0
    total: int = 0


class CostSummary(BaseModel):
    total_usd: float = Field(description="Sum of every node attempt's cost, failed ones too")
    per_run_usd: float | None = Field(description="`total_usd` / executions covered")


class NodeStats(BaseModel):
    node_id: str
    node_type: str
    name: str | None = None
    runs: int = Field(description="Settled runs (a loop body node counts once per iteration)")
    attempts: int = Field(description="Attempts, retries included")
    completed: int
    failed: int
    success_rate: float | None = Field(description="completed / runs")
    retries: int = Field(description="Attempts after the first")
    mean_ms: float | None = None
    p95_ms: float | None = None
    total_ms: float = 0.0
    cost_usd: float = 0.0
    tokens: Tokens = Field(default_factory=Tokens)


class WorkflowStats(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workflow_id": "f3a…",
                    "window": {
                        "count": 20,
                        "from": "2026-11-25T10:00:00Z",
                        "to": "2026-11-25T11:00:00Z",
                        "limit": 500,
                        "truncated": False,
                    },
                    "runs": 20,
                    "by_status": {"completed": 18, "failed": 2},
                    "success_rate": 0.9,
                    "duration": {"count": 20, "mean_ms": 820.0, "p50_ms": 700.0, "p95_ms": 1900.0},
                    "cost": {"total_usd": 0.0042, "per_run_usd": 0.00021},
                    "tokens": {"prompt": 1200, "completion": 3400, "total": 4600},
                    "nodes": [],
                }
            ]
        }
    )

    workflow_id: str
    window: Window
    runs: int
    by_status: dict[ExecutionStatus, int]
    success_rate: float | None = Field(
        description="completed / finished (completed, failed or cancelled); null when none finished"
    )
    duration: Durations = Field(description="Of finished executions")
    cost: CostSummary
    tokens: Tokens
    nodes: list[NodeStats] = Field(description="Per node, in the workflow's order")


class UsageDay(BaseModel):
    user_id: str
    username: str | None = None
    day: date = Field(description="UTC day the executions were created")
    runs: int
    tokens: Tokens
    cost_usd: float


class WorkflowUsage(BaseModel):
    workflow_id: str
    name: str | None = Field(default=None, description="null when the workflow is deleted")
    runs: int
    cost_usd: float


class UsageTotals(BaseModel):
    runs: int
    tokens: Tokens
    cost_usd: float


UsageScope = Literal["self", "user", "all"]


class UsageReport(BaseModel):
    model_config = _CONFIG

    scope: UsageScope = Field(
        description="Whose usage: the caller's, one user's (admins), or everyone's (admins)"
    )
    user_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    window: Window
    totals: UsageTotals
    days: list[UsageDay] = Field(description="Per user and UTC day, oldest first")
    top_by_cost: list[WorkflowUsage]
    top_by_runs: list[WorkflowUsage]


SuggestionKind = Literal["bottleneck", "cost_hotspot", "flaky_node", "branch_never_taken"]
Severity = Literal["info", "warning", "critical"]


class Suggestion(BaseModel):
    kind: SuggestionKind
    node_id: str
    title: str
    detail: str
    evidence: dict[str, Any] = Field(description="The figures the advice rests on")
    severity: Severity


class SuggestionList(BaseModel):
    workflow_id: str
    window: Window
    suggestions: list[Suggestion]
    note: str | None = Field(
        default=None, description="Why the list is empty, when it is (e.g. no history yet)"
    )
