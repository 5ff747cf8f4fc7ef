"""The document store: client factory, collection names and indexes.

One code path serves MongoDB and the embedded nx-27017, so it keeps to what both do well
(DESIGN.md §2): list items are their own documents, fields are replaced with `$set`, and
hot-path writes are batched.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .contracts import PilotModel

Document = dict[str, Any]

WORKFLOWS = "workflows"
EXECUTIONS = "executions"
NODE_RUNS = "node_runs"
EVENTS = "execution_events"
GENERATIONS = "generations"


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
