"""Typed access to the documents πlot stores. Services share these, not each other's code."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from .contracts import Execution, ExecutionEvent, NodeRun, Workflow
from .store import (
    EVENTS,
    EXECUTIONS,
    NODE_RUNS,
    WORKFLOWS,
    Document,
    from_document,
    to_document,
)

_DUPLICATE_KEY = 11000


class WorkflowRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[WORKFLOWS]

    async def insert(self, workflow: Workflow) -> None:
        await self.col.insert_one(to_document(workflow))

    async def replace(self, workflow: Workflow) -> None:
        await self.col.replace_one({"_id": workflow.id}, to_document(workflow), upsert=True)

    async def get(self, workflow_id: str) -> Workflow | None:
        doc = await self.col.find_one({"_id": workflow_id})
        return Workflow.model_validate(from_document(doc)) if doc else None

    async def list(
        self, owner_id: str | None = None, *, skip: int = 0, limit: int = 50
    ) -> list[Workflow]:
        query: dict[str, Any] = {} if owner_id is None else {"owner_id": owner_id}
        cursor = self.col.find(query).sort("updated_at", DESCENDING).skip(skip).limit(limit)
        return [Workflow.model_validate(from_document(d)) async for d in cursor]

    async def delete(self, workflow_id: str) -> bool:
        return (await self.col.delete_one({"_id": workflow_id})).deleted_count == 1


class ExecutionRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[EXECUTIONS]

    async def insert(self, execution: Execution) -> None:
        await self.col.insert_one(to_document(execution))

    async def get(self, execution_id: str) -> Execution | None:
        doc = await self.col.find_one({"_id": execution_id})
        return Execution.model_validate(from_document(doc)) if doc else None

    async def set_fields(self, execution_id: str, fields: dict[str, Any]) -> None:
        """`$set` whole fields (or `node_states.<id>` sub-documents) in JSON form."""
        await self.col.update_one({"_id": execution_id}, {"$set": fields})

    async def allocate_seq(self, execution_id: str, count: int = 1) -> int:
        """Reserve `count` event sequence numbers atomically; returns the first."""
        doc = await self.col.find_one_and_update(
            {"_id": execution_id},
            {"$inc": {"last_seq": count}},
            projection={"last_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise KeyError(execution_id)
        return int(doc["last_seq"]) - count + 1

    async def list(
        self,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        owner_id: str | None = None,
        skip: int = 0,
        limit: int = 50,
    ) -> list[Execution]:
        query: dict[str, Any] = {}
        for key, value in (
            ("workflow_id", workflow_id),
            ("status", status),
            ("owner_id", owner_id),
        ):
            if value is not None:
                query[key] = value
        cursor = self.col.find(query).sort("created_at", DESCENDING).skip(skip).limit(limit)
        return [Execution.model_validate(from_document(d)) async for d in cursor]


class EventRepository:
    """Execution events, one document each, keyed by (execution_id, seq)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[EVENTS]

    async def insert_many(self, events: list[ExecutionEvent]) -> None:
        """Idempotent: an event already stored (same execution and seq) is skipped, so a
        redelivered message that re-emits events does not duplicate them."""
        if not events:
            return
        docs = []
        for e in events:
            doc = e.model_dump(mode="json")
            doc["_id"] = f"{e.execution_id}:{e.seq:08d}"
            docs.append(doc)
        try:
            await self.col.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(err.get("code") != _DUPLICATE_KEY for err in exc.details.get("writeErrors", [])):
                raise

    async def list_after(
        self, execution_id: str, after_seq: int = 0, limit: int = 1000
    ) -> list[ExecutionEvent]:
        cursor = (
            self.col.find({"execution_id": execution_id, "seq": {"$gt": after_seq}})
            .sort("seq", ASCENDING)
            .limit(limit)
        )
        out = []
        async for d in cursor:
            d.pop("_id", None)
            out.append(ExecutionEvent.model_validate(d))
        return out


class NodeRunRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[NODE_RUNS]

    async def upsert(self, run: NodeRun) -> None:
        doc = to_document(run)
        await self.col.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def list(self, execution_id: str) -> list[NodeRun]:
        cursor = self.col.find({"execution_id": execution_id}).sort("started_at", ASCENDING)
        return [NodeRun.model_validate(from_document(d)) async for d in cursor]


def node_run_id(execution_id: str, node_id: str, attempt: int, iteration: str = "") -> str:
    return f"{execution_id}:{node_id}:{iteration}:{attempt}"
