"""The knowledge node: retrieves the chunks of a knowledge base that best answer its
(templated) query. BM25 always; hybrid with embeddings when an OpenAI-compatible
embeddings endpoint is configured. The output is a list of hits
{text, score, source, doc_id, chunk_id, title} an llm node can cite in its prompt."""

from __future__ import annotations

import asyncio
from typing import Any

from openai import AsyncOpenAI
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from pilot_shared.contracts import KnowledgeNode, NodeTask
from pilot_shared.knowledge import Embedder, KnowledgeIndex, KnowledgeStore
from pilot_shared.store import Document
from pilot_shared.templating import render

from ..outcome import EmitChunk, NodeFailure, NodeOutcome
from .llm import as_text

_EMBED_BATCH = 256


def openai_embedder(client: AsyncOpenAI, model: str) -> Embedder:
    async def embed(texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for at in range(0, len(texts), _EMBED_BATCH):
            response = await client.embeddings.create(
                model=model, input=texts[at : at + _EMBED_BATCH]
            )
            out.extend(list(d.embedding) for d in sorted(response.data, key=lambda d: d.index))
        return out

    return embed


class IndexCache:
    """One built index per knowledge base, kept while the base's version is unchanged."""

    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store
        self._indexes: dict[str, KnowledgeIndex] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.builds = 0

    async def get(self, kb_id: str) -> KnowledgeIndex:
        kb = await self.store.get_kb(kb_id)
        if kb is None:
            raise NodeFailure("validation", f"knowledge base {kb_id!r} not found")
        version = int(kb.get("version", 0))
        cached = self._indexes.get(kb_id)
        if cached is not None and cached.version == version:
            return cached
        async with self._locks.setdefault(kb_id, asyncio.Lock()):
            cached = self._indexes.get(kb_id)
            if cached is not None and cached.version == version:
                return cached
            chunks = await self.store.load_chunks(kb_id)
            index = await asyncio.to_thread(KnowledgeIndex.build, chunks, version)
            self.builds += 1
            self._indexes[kb_id] = index
            return index


class KnowledgeHandler:
    def __init__(
        self, db: AsyncDatabase[Document] | None, embedder: Embedder | None = None
    ) -> None:
        self.cache = IndexCache(KnowledgeStore(db)) if db is not None else None
        self.embedder = embedder

    async def __call__(self, task: NodeTask, emit_chunk: EmitChunk) -> NodeOutcome:
        assert isinstance(task.node, KnowledgeNode)
        config = task.node.config
        if not config.knowledge_base_id:
            raise NodeFailure("validation", "the knowledge node names no knowledge_base_id")
        if self.cache is None:
            raise NodeFailure("internal", "knowledge bases need a store; this runner has none")
        query = as_text(render(config.query, task.context)).strip()
        if not query:
            return NodeOutcome(output=[], input={"query": query})
        try:
            index = await self.cache.get(config.knowledge_base_id)
        except PyMongoError as exc:
            raise NodeFailure(
                "store", f"cannot read the knowledge base: {type(exc).__name__}", retryable=True
            ) from None
        try:
            hits = await index.search(query, config.top_k, embedder=self.embedder)
        except NodeFailure:
            raise
        except Exception as exc:  # the embeddings endpoint failed: BM25 alone still answers
            if self.embedder is None:
                raise
            hits = await index.search(query, config.top_k)
            mode = f"bm25 (embeddings failed: {type(exc).__name__})"
        else:
            mode = "hybrid" if self.embedder is not None else "bm25"
        output: list[dict[str, Any]] = [h.as_dict() for h in hits]
        return NodeOutcome(
            output=output,
            input={"query": query, "knowledge_base_id": config.knowledge_base_id, "mode": mode},
        )
