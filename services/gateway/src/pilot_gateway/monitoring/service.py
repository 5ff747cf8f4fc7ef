"""A workflow's stats and a user's usage, computed from execution history."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.contracts import TERMINAL_EXECUTION_STATUSES, NodeRun, Usage, Workflow
from pilot_shared.repositories import ShareRepository, UserRepository, WorkflowRepository
from pilot_shared.store import Document

from ..auth.schemas import Caller
from ..errors import NotFoundError
from ..workflows.access import access_level
from .history import History, load_executions
from .schemas import (
    CostSummary,
    Durations,
    NodeStats,
    Tokens,
    UsageDay,
    UsageReport,
    UsageScope,
    UsageTotals,
    WorkflowStats,
    WorkflowUsage,
)

TOP_WORKFLOWS = 5


class UserNotFoundError(NotFoundError):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id!r} does not exist")


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of values at or below
    it (always one of the values, so a p95 of real durations is a real duration)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def durations(values: list[float]) -> Durations:
    if not values:
        return Durations(count=0)
    return Durations(
        count=len(values),
        mean_ms=round(sum(values) / len(values), 3),
        p50_ms=percentile(values, 50),
        p95_ms=percentile(values, 95),
    )


def _tokens(prompt: int, completion: int) -> Tokens:
    return Tokens(prompt=prompt, completion=completion, total=prompt + completion)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class _NodeAcc:
    node_type: str
    attempts: int = 0
    # the last attempt of each run: (execution, loop, iteration) -> (attempt, status)
    finals: dict[tuple[str, str | None, int | None], tuple[int, str]] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)
    failed_attempts: int = 0
    usage: Usage = field(default_factory=Usage)

    def add(self, run: NodeRun) -> None:
        self.attempts += 1
        key = (run.execution_id, run.loop_id, run.iteration)
        if key not in self.finals or run.attempt > self.finals[key][0]:
            self.finals[key] = (run.attempt, run.status)
        if run.duration_ms is not None:
            self.durations.append(run.duration_ms)
        if run.status == "failed":
            self.failed_attempts += 1
        if run.usage is not None:
            # summed unrounded, so the total is the plain sum of the stored figures
            self.usage = Usage(
                prompt_tokens=self.usage.prompt_tokens + run.usage.prompt_tokens,
                completion_tokens=self.usage.completion_tokens + run.usage.completion_tokens,
                cost_usd=self.usage.cost_usd + run.usage.cost_usd,
            )


def node_stats(workflow: Workflow, runs: list[NodeRun]) -> list[NodeStats]:
    accs: dict[str, _NodeAcc] = {}
    for run in runs:
        accs.setdefault(run.node_id, _NodeAcc(run.node_type)).add(run)
    names = {node.id: node.name for node in workflow.nodes}
    # the workflow's order first; then nodes that ran in an older version only
    order = [n.id for n in workflow.nodes if n.id in accs] + sorted(
        n for n in accs if n not in names
    )
    out = []
    for node_id in order:
        acc = accs[node_id]
        settled = len(acc.finals)
        completed = sum(1 for _, status in acc.finals.values() if status == "completed")
        out.append(
            NodeStats(
                node_id=node_id,
                node_type=acc.node_type,
                name=names.get(node_id),
                runs=settled,
                attempts=acc.attempts,
                completed=completed,
                failed=settled - completed,
                success_rate=_rate(completed, settled),
                retries=acc.attempts - settled,
                mean_ms=durations(acc.durations).mean_ms,
                p95_ms=percentile(acc.durations, 95),
                total_ms=round(sum(acc.durations), 3),
                cost_usd=round(acc.usage.cost_usd, 10),
                tokens=_tokens(acc.usage.prompt_tokens, acc.usage.completion_tokens),
            )
        )
    return out


def workflow_stats(workflow: Workflow, history: History) -> WorkflowStats:
    executions = history.executions
    by_status = Counter(e.status for e in executions)
    finished = [e for e in executions if e.status in TERMINAL_EXECUTION_STATUSES]
    nodes = node_stats(workflow, history.node_runs)
    cost = round(sum(n.cost_usd for n in nodes), 10)
    prompt = sum(n.tokens.prompt for n in nodes)
    completion = sum(n.tokens.completion for n in nodes)
    return WorkflowStats(
        workflow_id=workflow.id,
        window=history.window,
        runs=len(executions),
        by_status=dict(sorted(by_status.items())),
        success_rate=_rate(by_status.get("completed", 0), len(finished)),
        duration=durations([e.duration_ms for e in finished if e.duration_ms is not None]),
        cost=CostSummary(
            total_usd=cost,
            per_run_usd=round(cost / len(executions), 10) if executions else None,
        ),
        tokens=_tokens(prompt, completion),
        nodes=nodes,
    )


# --- usage ----------------------------------------------------------------------------


@dataclass
class _UsageAcc:
    runs: int = 0
    prompt: int = 0
    completion: int = 0
    cost: float = 0.0

    def add(self, usage: Usage) -> None:
        self.runs += 1
        self.prompt += usage.prompt_tokens
        self.completion += usage.completion_tokens
        self.cost += usage.cost_usd


async def _usage_scope(
    db: AsyncDatabase[Document], caller: Caller, user_id: str | None
) -> tuple[UsageScope, str | None]:
    """Whose usage the caller asked for and may see. Another user's is a 404 to a
    non-admin, as if that user did not exist."""
    if user_id is None:
        return ("all", None) if caller.is_admin else ("self", caller.id)
    if user_id == caller.id:
        return "self", caller.id
    if not caller.is_admin or await UserRepository(db).get(user_id) is None:
        raise UserNotFoundError(user_id)
    return "user", user_id


async def _visible_names(
    db: AsyncDatabase[Document], caller: Caller, workflow_ids: Iterable[str]
) -> dict[str, str | None]:
    """Names of workflows the caller may see (admins see names of all they are shown)."""
    workflows, shares = WorkflowRepository(db), ShareRepository(db)
    names: dict[str, str | None] = {}
    for workflow_id in workflow_ids:
        workflow = await workflows.get(workflow_id)
        visible = workflow is not None and (
            caller.is_admin or await access_level(shares, caller, workflow) is not None
        )
        names[workflow_id] = workflow.name if workflow is not None and visible else None
    return names


def _day(moment: datetime) -> date:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


async def usage_report(
    db: AsyncDatabase[Document],
    caller: Caller,
    *,
    user_id: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> UsageReport:
    scope, owner = await _usage_scope(db, caller, user_id)
    query = {"owner_id": owner} if owner is not None else {}
    history = await load_executions(
        db, query, since=since, until=until, limit=limit, with_states=False
    )
    per_day: dict[tuple[str, date], _UsageAcc] = defaultdict(_UsageAcc)
    per_workflow: dict[str, _UsageAcc] = defaultdict(_UsageAcc)
    totals = _UsageAcc()
    for execution in history.executions:
        # the execution's usage is the sum of its node attempts' (failed ones too)
        per_day[(execution.owner_id, _day(execution.created_at))].add(execution.usage)
        per_workflow[execution.workflow_id].add(execution.usage)
        totals.add(execution.usage)
    users = UserRepository(db)
    usernames: dict[str, str | None] = {}
    for uid in {uid for uid, _ in per_day}:
        user = await users.get(uid)
        usernames[uid] = user.username if user is not None else None
    by_cost = sorted(per_workflow.items(), key=lambda kv: (-kv[1].cost, kv[0]))[:TOP_WORKFLOWS]
    by_runs = sorted(per_workflow.items(), key=lambda kv: (-kv[1].runs, kv[0]))[:TOP_WORKFLOWS]
    names = await _visible_names(db, caller, {wid for wid, _ in by_cost + by_runs})

    def top(items: list[tuple[str, _UsageAcc]]) -> list[WorkflowUsage]:
        return [
            WorkflowUsage(
                workflow_id=wid, name=names.get(wid), runs=acc.runs, cost_usd=round(acc.cost, 10)
            )
            for wid, acc in items
        ]

    return UsageReport(
        scope=scope,
        user_id=owner,
        since=since,
        until=until,
        window=history.window,
        totals=UsageTotals(
            runs=totals.runs,
            tokens=_tokens(totals.prompt, totals.completion),
            cost_usd=round(totals.cost, 10),
        ),
        days=[
            UsageDay(
                user_id=uid,
                username=usernames.get(uid),
                day=day,
                runs=acc.runs,
                tokens=_tokens(acc.prompt, acc.completion),
                cost_usd=round(acc.cost, 10),
            )
            for (uid, day), acc in sorted(per_day.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ],
        top_by_cost=top(by_cost),
        top_by_runs=top(by_runs),
    )
