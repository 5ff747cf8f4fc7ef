"""/api/knowledge-bases: knowledge bases as a feature of their own.

Create a base, add documents (plain text, markdown, HTML, or PDF sent as base64), list
them, delete them, and query the base with the same BM25 retrieval the knowledge node uses
(`pilot_shared.knowledge`). A base belongs to its creator; admins see every base.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field, model_validator

from pilot_shared.knowledge import (
    DEFAULT_CHUNK_CHARS,
    DEFAULT_OVERLAP_CHARS,
    KnowledgeError,
    KnowledgeIndex,
    KnowledgeStore,
)

from ..deps import CallerDep, DatabaseDep
from ..errors import COMMON_ERRORS, BadRequestError, NotFoundError, error_responses

router = APIRouter(
    prefix="/api/knowledge-bases",
    tags=["knowledge"],
    responses=error_responses(*COMMON_ERRORS),
)

KbId = Annotated[str, Path(min_length=1, max_length=64, description="A knowledge base id")]
DocId = Annotated[str, Path(min_length=1, max_length=64, description="A document id")]


class KnowledgeBaseCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    chunk_chars: int = Field(default=DEFAULT_CHUNK_CHARS, ge=100, le=8000)
    overlap_chars: int = Field(default=DEFAULT_OVERLAP_CHARS, ge=0, le=2000)


class KnowledgeBaseOut(BaseModel):
    id: str
    name: str
    description: str = ""
    owner_id: str | None = None
    chunk_chars: int
    overlap_chars: int
    version: int
    documents: int
    chunks: int
    created_at: str
    updated_at: str


class KnowledgeBaseList(BaseModel):
    items: list[KnowledgeBaseOut]


class DocumentIn(BaseModel):
    title: str = Field(default="", max_length=500)
    source: str | None = Field(default=None, max_length=2000)
    kind: Literal["text", "markdown", "html", "pdf"] | None = None
    content: str | None = Field(default=None, description="The document as text")
    content_base64: str | None = Field(default=None, description="The document's bytes (PDF)")

    @model_validator(mode="after")
    def _one_content(self) -> DocumentIn:
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of 'content' and 'content_base64'")
        return self


class DocumentsAdd(BaseModel):
    documents: list[DocumentIn] = Field(min_length=1, max_length=500)


class DocumentOut(BaseModel):
    id: str
    kb_id: str
    title: str
    source: str
    kind: str
    chars: int
    chunks: int
    created_at: str


class DocumentList(BaseModel):
    items: list[DocumentOut]


class QueryIn(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    top_k: int = Field(default=3, ge=1, le=50)


class Hit(BaseModel):
    text: str
    score: float
    source: str
    doc_id: str
    chunk_id: str
    title: str = ""
    bm25: float = 0.0


class QueryOut(BaseModel):
    kb_id: str
    version: int
    query: str
    hits: list[Hit]


def _out(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}


async def _owned(store: KnowledgeStore, kb_id: str, caller: Any) -> dict[str, Any]:
    kb = await store.get_kb(kb_id)
    if kb is None or (kb.get("owner_id") != caller.id and not caller.is_admin):
        raise NotFoundError(f"knowledge base {kb_id!r} not found")
    return kb


# one built index per base version, per gateway process
_indexes: dict[str, KnowledgeIndex] = {}


@router.post(
    "", status_code=201, response_model=KnowledgeBaseOut, summary="Create a knowledge base"
)
async def create_knowledge_base(
    body: KnowledgeBaseCreate, caller: CallerDep, db: DatabaseDep
) -> dict[str, Any]:
    try:
        kb = await KnowledgeStore(db).create_kb(
            body.name,
            description=body.description,
            owner_id=caller.id,
            chunk_chars=body.chunk_chars,
            overlap_chars=body.overlap_chars,
        )
    except KnowledgeError as exc:
        raise BadRequestError(str(exc)) from None
    return _out(kb)


@router.get("", response_model=KnowledgeBaseList, summary="List your knowledge bases")
async def list_knowledge_bases(caller: CallerDep, db: DatabaseDep) -> dict[str, Any]:
    kbs = await KnowledgeStore(db).list_kbs(None if caller.is_admin else caller.id)
    return {"items": [_out(kb) for kb in kbs]}


@router.get(
    "/{kb_id}",
    response_model=KnowledgeBaseOut,
    responses=error_responses(404),
    summary="Get a knowledge base",
)
async def get_knowledge_base(kb_id: KbId, caller: CallerDep, db: DatabaseDep) -> dict[str, Any]:
    return _out(await _owned(KnowledgeStore(db), kb_id, caller))


@router.delete(
    "/{kb_id}", status_code=204, responses=error_responses(404), summary="Delete a knowledge base"
)
async def delete_knowledge_base(kb_id: KbId, caller: CallerDep, db: DatabaseDep) -> Response:
    store = KnowledgeStore(db)
    await _owned(store, kb_id, caller)
    await store.delete_kb(kb_id)
    _indexes.pop(kb_id, None)
    return Response(status_code=204)


@router.post(
    "/{kb_id}/documents",
    status_code=201,
    response_model=DocumentList,
    responses=error_responses(400, 404),
    summary="Add documents (text, markdown, HTML, or PDF as base64): extracted and chunked",
)
async def add_documents(
    kb_id: KbId, body: DocumentsAdd, caller: CallerDep, db: DatabaseDep
) -> dict[str, Any]:
    store = KnowledgeStore(db)
    await _owned(store, kb_id, caller)
    items: list[dict[str, Any]] = []
    for i, doc in enumerate(body.documents):
        content: str | bytes
        if doc.content_base64 is not None:
            try:
                content = base64.b64decode(doc.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise BadRequestError(f"documents[{i}].content_base64 is not base64") from None
        else:
            content = doc.content or ""
        item: dict[str, Any] = {"content": content, "title": doc.title, "source": doc.source}
        if doc.kind is not None:
            item["kind"] = doc.kind
        items.append(item)
    try:
        added = await store.add_documents(kb_id, items)
    except KnowledgeError as exc:
        raise BadRequestError(str(exc)) from None
    return {"items": [_out(d) for d in added]}


@router.get(
    "/{kb_id}/documents",
    response_model=DocumentList,
    responses=error_responses(404),
    summary="List a knowledge base's documents",
)
async def list_documents(kb_id: KbId, caller: CallerDep, db: DatabaseDep) -> dict[str, Any]:
    store = KnowledgeStore(db)
    await _owned(store, kb_id, caller)
    return {"items": [_out(d) for d in await store.list_documents(kb_id)]}


@router.delete(
    "/{kb_id}/documents/{doc_id}",
    status_code=204,
    responses=error_responses(404),
    summary="Delete a document and its chunks",
)
async def delete_document(
    kb_id: KbId, doc_id: DocId, caller: CallerDep, db: DatabaseDep
) -> Response:
    store = KnowledgeStore(db)
    await _owned(store, kb_id, caller)
    if not await store.delete_document(kb_id, doc_id):
        raise NotFoundError(f"document {doc_id!r} not found")
    return Response(status_code=204)


@router.post(
    "/{kb_id}/query",
    response_model=QueryOut,
    responses=error_responses(404),
    summary="Retrieve the chunks that best answer a query (BM25), with scores and sources",
)
async def query_knowledge_base(
    kb_id: KbId, body: QueryIn, caller: CallerDep, db: DatabaseDep
) -> dict[str, Any]:
    store = KnowledgeStore(db)
    kb = await _owned(store, kb_id, caller)
    version = int(kb.get("version", 0))
    index = _indexes.get(kb_id)
    if index is None or index.version != version:
        chunks = await store.load_chunks(kb_id)
        index = await asyncio.to_thread(KnowledgeIndex.build, chunks, version)
        _indexes[kb_id] = index
    hits = await index.search(body.query, body.top_k)
    return {
        "kb_id": kb_id,
        "version": version,
        "query": body.query,
        "hits": [h.as_dict() for h in hits],
    }
