"""Monitoring endpoints: a workflow's stats and suggestions, and usage per user and day.

Each reads a bounded window of history (the newest `limit` executions), and says which
(`window`: count, from, to), so a figure never silently covers less than it seems to."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from ..deps import CallerDep, DatabaseDep, ViewableWorkflow
from ..errors import COMMON_ERRORS, error_responses
from .history import DEFAULT_LIMIT, MAX_LIMIT, load_workflow_history
from .schemas import SuggestionList, UsageReport, WorkflowStats
from .service import usage_report, workflow_stats
from .suggestions import suggestions

router = APIRouter(tags=["monitoring"], responses=error_responses(*COMMON_ERRORS))

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_8601_only(value: object) -> object:
    # pydantic reads a bare number as a Unix time; the documented format is ISO 8601
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-11-25T00:00:00Z")
    return value


Moment = Annotated[datetime, BeforeValidator(_iso_8601_only)]

WindowLimit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description="Cover at most this many executions, newest first"),
]
Since = Annotated[
    Moment | None,
    Query(description="Only executions created at or after this time (ISO 8601; UTC if naive)"),
]


@router.get(
    "/api/workflows/{workflow_id}/stats",
    response_model=WorkflowStats,
    responses=error_responses(404),
    summary="A workflow's runs, success rate, durations, cost and tokens, per node too",
)
async def get_workflow_stats(
    found: ViewableWorkflow,
    db: DatabaseDep,
    since: Since = None,
    limit: WindowLimit = DEFAULT_LIMIT,
) -> WorkflowStats:
    """Durations are of finished executions (p50/p95 by nearest rank); cost and tokens sum
    every node attempt of the covered executions, failed attempts included."""
    history = await load_workflow_history(
        db, found.workflow.id, since=since, limit=limit, with_states=False
    )
    return workflow_stats(found.workflow, history)


@router.get(
    "/api/workflows/{workflow_id}/suggestions",
    response_model=SuggestionList,
    responses=error_responses(404),
    summary="Advice from a workflow's execution history",
)
async def get_workflow_suggestions(
    found: ViewableWorkflow,
    db: DatabaseDep,
    since: Since = None,
    limit: WindowLimit = DEFAULT_LIMIT,
) -> SuggestionList:
    """The bottleneck node, LLM cost hot spots (with a cheaper model of the same provider),
    flaky nodes lacking retries or an error route, and branches never taken. With no
    history the list is empty and `note` says why."""
    history = await load_workflow_history(db, found.workflow.id, since=since, limit=limit)
    return suggestions(found.workflow, workflow_stats(found.workflow, history), history)


@router.get(
    "/api/usage",
    response_model=UsageReport,
    responses=error_responses(404, _404="`user_id` names no user you may see"),
    summary="Runs, tokens and cost per user and UTC day; top workflows",
)
async def get_usage(
    caller: CallerDep,
    db: DatabaseDep,
    since: Since = None,
    until: Annotated[
        Moment | None, Query(description="Only executions created before this time")
    ] = None,
    user_id: Annotated[
        str | None,
        Query(
            description="Admins: this user's usage (default: everyone's). Others: only their own"
        ),
    ] = None,
    limit: WindowLimit = MAX_LIMIT,
) -> UsageReport:
    """A user sees the executions they started; an admin sees everyone's, or one user's."""
    return await usage_report(db, caller, user_id=user_id, since=since, until=until, limit=limit)
