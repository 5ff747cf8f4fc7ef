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
