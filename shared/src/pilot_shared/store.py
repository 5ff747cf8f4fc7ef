"""The document store: client factory, collection names and indexes.

One code path serves MongoDB and the embedded nx-27017, so it keeps to what both do well
(DESIGN.md §2): list items are their own documents, fields are replaced with `$set`, and
hot-path writes are batched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .contracts import PilotModel

Document = dict[str, Any]

WORKFLOWS = "workflows"
EXECUTIONS = "executions"
NODE_RUNS = "node_runs"
EVENTS = "execution_events"
GENERATIONS = "generations"
USERS = "users"
API_KEYS = "api_keys"
WORKFLOW_VERSIONS = "workflow_versions"
WORKFLOW_SHARES = "workflow_shares"
# Values generated once and shared by every process of a deployment (e.g. the gateway's
# token-signing secret when none is configured).
SECRETS = "secrets"
# Named secrets that workflows reference as `{{ secrets.NAME }}` (api and tool nodes); the
# values are encrypted (Fernet) and only the node runners decrypt them.
WORKFLOW_SECRETS = "workflow_secrets"
# Knowledge bases: one document per base, per added document and per chunk.
KNOWLEDGE_BASES = "kb"
KB_DOCUMENTS = "kb_documents"
KB_CHUNKS = "kb_chunks"


def create_store_client(url: str, *, timeout_ms: int = 5000) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        url, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, tz_aware=True
    )


def database(client: AsyncMongoClient[Document], name: str) -> AsyncDatabase[Document]:
    return client[name]


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    await db[EVENTS].create_index([("execution_id", ASCENDING), ("seq", ASCENDING)], unique=True)
    await db[EXECUTIONS].create_index([("workflow_id", ASCENDING), ("created_at", DESCENDING)])
    await db[NODE_RUNS].create_index([("execution_id", ASCENDING)])
    await db[WORKFLOWS].create_index([("owner_id", ASCENDING), ("updated_at", DESCENDING)])
    await db[EXECUTIONS].create_index([("owner_id", ASCENDING), ("status", ASCENDING)])
    await db[USERS].create_index([("username", ASCENDING)], unique=True)
    await db[API_KEYS].create_index([("user_id", ASCENDING)])
    await db[WORKFLOW_VERSIONS].create_index(
        [("workflow_id", ASCENDING), ("version", DESCENDING)], unique=True
    )
    await db[WORKFLOW_SHARES].create_index([("user_id", ASCENDING)])
    await db[WORKFLOW_SHARES].create_index([("workflow_id", ASCENDING)])
    await db[KB_DOCUMENTS].create_index([("kb_id", ASCENDING)])
    await db[KB_CHUNKS].create_index([("kb_id", ASCENDING), ("doc_id", ASCENDING)])


def to_document(model: PilotModel) -> Document:
    """JSON-mode dump with `id` as `_id`: timestamps are ISO strings, which sort correctly
    and read back the same from either store."""
    doc = model.model_dump(mode="json")
    doc["_id"] = doc.pop("id")
    return doc


def from_document(doc: Document) -> Document:
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    return doc


T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Writes that many callers wait for, carried out together (group commit).

    The first caller's items are written at once; callers arriving while that write is
    in flight are queued and written together as soon as it returns. Every caller still
    waits until its own items are stored (or gets the write's error), so nothing is
    weaker than writing alone: an idle system pays no extra latency, and a busy one
    pays one round trip (and one driver call's CPU) for many callers.
    """

    def __init__(self, write: Callable[[list[T]], Awaitable[None]], max_items: int = 1000) -> None:
        self._write = write
        self._max_items = max_items
        self._queue: list[tuple[list[T], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._group: list[tuple[list[T], asyncio.Future[None]]] = []

    async def submit(self, items: list[T]) -> None:
        if not items:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((items, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        try:
            while self._queue:
                group = self._group = []
                count = 0
                while self._queue and (
                    not group or count + len(self._queue[0][0]) <= self._max_items
                ):
                    entry = self._queue.pop(0)
                    group.append(entry)
                    count += len(entry[0])
                try:
                    await self._write([item for items, _ in group for item in items])
                except Exception as exc:
                    for _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for _, done in group:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._writer = None
            # cancelled (shutting down): nobody may wait forever for a write never made
            for _, done in [*self._group, *self._queue]:
                if not done.done():
                    done.set_exception(RuntimeError("the store writer stopped"))
            self._queue.clear()
            self._group = []
