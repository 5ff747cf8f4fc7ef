"""Typed access to the documents πlot stores. Services share these, not each other's code."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from .contracts import (
    ApiKeyRecord,
    Execution,
    ExecutionEvent,
    NodeRun,
    User,
    Workflow,
    WorkflowShare,
    WorkflowVersion,
    share_id,
    version_id,
)
from .store import (
    API_KEYS,
    EVENTS,
    EXECUTIONS,
    NODE_RUNS,
    USERS,
    WORKFLOW_SHARES,
    WORKFLOW_VERSIONS,
    WORKFLOWS,
    Document,
    from_document,
    to_document,
)

_DUPLICATE_KEY = 11000

Sort = list[tuple[str, int]]


class WorkflowRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[WORKFLOWS]

    async def insert(self, workflow: Workflow) -> None:
        await self.col.insert_one(to_document(workflow))

    async def replace(self, workflow: Workflow) -> None:
        await self.col.replace_one({"_id": workflow.id}, to_document(workflow), upsert=True)

    async def replace_if_version(self, workflow: Workflow, expected_version: int) -> bool:
        """Optimistic concurrency: store `workflow` only if the stored one is still at
        `expected_version`. False when another writer saved first (or it was deleted)."""
        result = await self.col.replace_one(
            {"_id": workflow.id, "version": expected_version}, to_document(workflow)
        )
        return result.matched_count == 1

    async def find(
        self, query: dict[str, Any], *, sort: Sort, skip: int = 0, limit: int = 50
    ) -> list[Workflow]:
        cursor = self.col.find(query).sort(sort).skip(skip).limit(limit)
        return [Workflow.model_validate(from_document(d)) async for d in cursor]

    async def count(self, query: dict[str, Any]) -> int:
        return await self.col.count_documents(query)

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

    async def set_fields_if_version(
        self, execution_id: str, fields: dict[str, Any], expected_version: int
    ) -> bool:
        """`$set` the fields only if the document still has `expected_version` (optimistic
        concurrency; the caller includes the next `version` in `fields`). False when
        another writer got there first."""
        result = await self.col.update_one(
            {"_id": execution_id, "version": _version_filter(expected_version)},
            {"$set": fields},
        )
        return result.matched_count == 1

    async def version(self, execution_id: str) -> int | None:
        """The stored version of the execution (None when it does not exist)."""
        doc = await self.col.find_one({"_id": execution_id}, {"version": 1})
        if doc is None:
            return None
        return int(doc.get("version") or 0)

    async def clear_outbox(self, execution_id: str, version: int) -> None:
        """Forget a flushed outbox, unless a later write has replaced it already."""
        await self.col.update_one(
            {"_id": execution_id, "version": _version_filter(version)},
            {"$set": {"outbox": None}},
        )

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

    async def count_active(self, owner_id: str) -> int:
        """Executions of this owner that have not finished (pending or running)."""
        return await self.col.count_documents(
            {"owner_id": owner_id, "status": {"$in": ["pending", "running"]}}
        )

    async def list(
        self,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        owner_id: str | None = None,
        skip: int = 0,
        limit: int = 50,
    ) -> list[Execution]:
        query = _execution_query(workflow_id=workflow_id, status=status, owner_id=owner_id)
        cursor = self.col.find(query).sort("created_at", DESCENDING).skip(skip).limit(limit)
        return [Execution.model_validate(from_document(d)) async for d in cursor]

    async def count(
        self,
        *,
        workflow_id: str | None = None,
        status: str | None = None,
        owner_id: str | None = None,
    ) -> int:
        query = _execution_query(workflow_id=workflow_id, status=status, owner_id=owner_id)
        return await self.col.count_documents(query)


def _version_filter(version: int) -> Any:
    # documents written before the version field existed count as version 0
    return {"$in": [0, None]} if version == 0 else version


def _execution_query(**fields: str | None) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


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

    async def upsert_many(self, runs: list[NodeRun]) -> None:
        """Every run of one executor step in one round trip (the hot path)."""
        if len(runs) == 1:
            await self.upsert(runs[0])
        elif runs:
            docs = [to_document(run) for run in runs]
            await self.col.bulk_write(
                [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs], ordered=False
            )

    async def list(
        self,
        execution_id: str,
        *,
        node_id: str | None = None,
        skip: int = 0,
        limit: int = 0,
    ) -> list[NodeRun]:
        """The execution log of one execution (every attempt of every node), oldest first;
        `limit` 0 means all."""
        query: dict[str, Any] = {"execution_id": execution_id}
        if node_id is not None:
            query["node_id"] = node_id
        cursor = self.col.find(query).sort("started_at", ASCENDING).skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return [NodeRun.model_validate(from_document(d)) async for d in cursor]

    async def count(self, execution_id: str, *, node_id: str | None = None) -> int:
        query: dict[str, Any] = {"execution_id": execution_id}
        if node_id is not None:
            query["node_id"] = node_id
        return await self.col.count_documents(query)


def node_run_id(execution_id: str, node_id: str, attempt: int, iteration: str = "") -> str:
    return f"{execution_id}:{node_id}:{iteration}:{attempt}"


class UserRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[USERS]

    async def insert(self, user: User) -> None:
        """Raises DuplicateKeyError when the username is taken (unique index)."""
        await self.col.insert_one(to_document(user))

    async def get(self, user_id: str) -> User | None:
        doc = await self.col.find_one({"_id": user_id})
        return User.model_validate(from_document(doc)) if doc else None

    async def get_by_username(self, username: str) -> User | None:
        doc = await self.col.find_one({"username": username})
        return User.model_validate(from_document(doc)) if doc else None

    async def list(self, *, skip: int = 0, limit: int = 50) -> list[User]:
        cursor = self.col.find({}).sort("created_at", ASCENDING).skip(skip).limit(limit)
        return [User.model_validate(from_document(d)) async for d in cursor]

    async def count(self, query: dict[str, Any] | None = None) -> int:
        return await self.col.count_documents(query or {})


class ApiKeyRepository:
    """Stored API keys: hashes only, looked up by the key id the key carries."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[API_KEYS]

    async def insert(self, record: ApiKeyRecord) -> None:
        await self.col.insert_one(to_document(record))

    async def get(self, key_id: str) -> ApiKeyRecord | None:
        doc = await self.col.find_one({"_id": key_id})
        return ApiKeyRecord.model_validate(from_document(doc)) if doc else None

    async def list_for_user(self, user_id: str) -> list[ApiKeyRecord]:
        cursor = self.col.find({"user_id": user_id}).sort("created_at", ASCENDING)
        return [ApiKeyRecord.model_validate(from_document(d)) async for d in cursor]

    async def delete(self, key_id: str, user_id: str) -> bool:
        result = await self.col.delete_one({"_id": key_id, "user_id": user_id})
        return result.deleted_count == 1


class WorkflowVersionRepository:
    """Every saved version of a workflow, one document each, keyed by (workflow, version)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[WORKFLOW_VERSIONS]

    async def put(self, version: WorkflowVersion) -> None:
        """Idempotent: saving the same version twice leaves one document."""
        doc = version.model_dump(mode="json")
        doc["_id"] = doc.pop("id")
        await self.col.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def get(self, workflow_id: str, version: int) -> WorkflowVersion | None:
        doc = await self.col.find_one({"_id": version_id(workflow_id, version)})
        return WorkflowVersion.model_validate(from_document(doc)) if doc else None

    async def list(
        self, workflow_id: str, *, skip: int = 0, limit: int = 50
    ) -> list[WorkflowVersion]:
        cursor = (
            self.col.find({"workflow_id": workflow_id})
            .sort("version", DESCENDING)
            .skip(skip)
            .limit(limit)
        )
        return [WorkflowVersion.model_validate(from_document(d)) async for d in cursor]

    async def count(self, workflow_id: str) -> int:
        return await self.col.count_documents({"workflow_id": workflow_id})

    async def delete_for_workflow(self, workflow_id: str) -> None:
        await self.col.delete_many({"workflow_id": workflow_id})


class ShareRepository:
    """Who, besides the owner, may see or edit a workflow: one document per user."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[WORKFLOW_SHARES]

    async def put(self, share: WorkflowShare) -> None:
        doc = to_document(share)
        await self.col.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def get(self, workflow_id: str, user_id: str) -> WorkflowShare | None:
        doc = await self.col.find_one({"_id": share_id(workflow_id, user_id)})
        return WorkflowShare.model_validate(from_document(doc)) if doc else None

    async def list_for_workflow(self, workflow_id: str) -> list[WorkflowShare]:
        cursor = self.col.find({"workflow_id": workflow_id}).sort("created_at", ASCENDING)
        return [WorkflowShare.model_validate(from_document(d)) async for d in cursor]

    async def workflow_ids_for_user(self, user_id: str) -> list[str]:
        cursor = self.col.find({"user_id": user_id}, projection={"workflow_id": 1})
        return [str(d["workflow_id"]) async for d in cursor]

    async def delete(self, workflow_id: str, user_id: str) -> bool:
        result = await self.col.delete_one({"_id": share_id(workflow_id, user_id)})
        return result.deleted_count == 1

    async def delete_for_workflow(self, workflow_id: str) -> None:
        await self.col.delete_many({"workflow_id": workflow_id})
