"""Reading a bounded window of execution history from the store.

Figures are computed in Python over the newest `limit` executions rather than with
aggregation pipelines: nx-27017 does `$group`/`$sum`, but percentiles need the values
themselves, and one code path must serve MongoDB and the embedded store alike. What costs
time on nx-27017 is each document it returns (a few thousand a second), so only what a
figure needs is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.contracts import Execution, NodeRun
from pilot_shared.store import EXECUTIONS, NODE_RUNS, Document, from_document

from .schemas import Window

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
# `$in` lists stay short: a few hundred ids per query.
_ID_CHUNK = 500
# Timestamps are stored as ISO strings, whose order is not quite the instants' order
# (a whole second sorts after its fractions); the store filters with this margin and the
# exact comparison is made here.
_MARGIN = timedelta(seconds=2)
# Heavy fields no figure needs.
_EXECUTION_EXCLUDE = {"input_data": 0, "output": 0, "outbox": 0, "loop_states": 0}
_EXECUTION_EXCLUDE_ALL = {**_EXECUTION_EXCLUDE, "node_states": 0}
_NODE_RUN_EXCLUDE = {"input": 0, "output": 0}


@dataclass
class History:
    executions: list[Execution]
    window: Window
    node_runs: list[NodeRun] = field(default_factory=list)


def _iso(moment: datetime) -> str | None:
    """The stored form's prefix (a 4-digit year, so strings order as instants); None when
    the instant is outside what a UTC datetime can hold (then it bounds nothing)."""
    try:
        return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()
    except OverflowError:
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _shifted(moment: datetime, by: timedelta) -> datetime:
    try:
        return _aware(moment) + by
    except OverflowError:  # year 1 or 9999: the bound is as wide as it gets anyway
        return _aware(moment)


def _created_filter(since: datetime | None, until: datetime | None) -> dict[str, Any]:
    bounds: dict[str, str] = {}
    lo = _iso(_shifted(since, -_MARGIN)) if since is not None else None
    hi = _iso(_shifted(until, _MARGIN)) if until is not None else None
    if lo is not None:
        bounds["$gte"] = lo
    if hi is not None:
        bounds["$lt"] = hi
    return {"created_at": bounds} if bounds else {}


async def load_executions(
    db: AsyncDatabase[Document],
    query: dict[str, Any],
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    with_states: bool = True,
) -> History:
    """The newest `limit` executions matching `query`, created in [since, until); without
    their per-node states (which hold node outputs) unless `with_states`."""
    lo = _aware(since) if since is not None else None
    hi = _aware(until) if until is not None else None
    cursor = (
        db[EXECUTIONS]
        .find(
            {**query, **_created_filter(since, until)},
            projection=_EXECUTION_EXCLUDE if with_states else _EXECUTION_EXCLUDE_ALL,
        )
        .sort("created_at", DESCENDING)
        # the margin may let in a few just outside the bounds: read enough to drop them
        .limit(limit + 100)
    )
    executions: list[Execution] = []
    truncated = False
    async for doc in cursor:
        execution = Execution.model_validate(from_document(doc))
        created = _aware(execution.created_at)
        if (lo is not None and created < lo) or (hi is not None and created >= hi):
            continue
        if len(executions) == limit:
            truncated = True
            break
        executions.append(execution)
    created_at = [_aware(e.created_at) for e in executions]
    window = Window(
        count=len(executions),
        from_=min(created_at) if created_at else None,
        to=max(created_at) if created_at else None,
        limit=limit,
        truncated=truncated,
    )
    return History(executions, window)


async def load_node_runs(db: AsyncDatabase[Document], execution_ids: list[str]) -> list[NodeRun]:
    """Every attempt of every node of these executions."""
    runs: list[NodeRun] = []
    for start in range(0, len(execution_ids), _ID_CHUNK):
        chunk = execution_ids[start : start + _ID_CHUNK]
        cursor = db[NODE_RUNS].find({"execution_id": {"$in": chunk}}, projection=_NODE_RUN_EXCLUDE)
        runs.extend([NodeRun.model_validate(from_document(doc)) async for doc in cursor])
    return runs


async def load_workflow_history(
    db: AsyncDatabase[Document],
    workflow_id: str,
    *,
    since: datetime | None,
    limit: int,
    with_states: bool = True,
) -> History:
    history = await load_executions(
        db,
        {"workflow_id": workflow_id},
        since=since,
        until=None,
        limit=limit,
        with_states=with_states,
    )
    history.node_runs = await load_node_runs(db, [e.id for e in history.executions])
    return history
