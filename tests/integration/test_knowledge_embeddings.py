"""Hybrid retrieval over a real HTTP embeddings endpoint (the OpenAI-compatible test
server): configured through settings, as a deployment would, not with an in-process
embedder."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from pilot_runners.registry import build_registry
from pilot_runners.settings import RunnerSettings
from pilot_shared.contracts import NODE_ADAPTER, NodeTask
from pilot_shared.knowledge import KnowledgeStore
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.support.fake_openai import FakeOpenAI


def knowledge_task(kb_id: str, query: str) -> NodeTask:
    node = NODE_ADAPTER.validate_python(
        {
            "id": "kb",
            "type": "knowledge",
            "config": {"knowledge_base_id": kb_id, "query": "{{ input.q }}", "top_k": 2},
        }
    )
    return NodeTask(
        task_id="e1:kb:1",
        execution_id="e1",
        workflow_id="wf",
        node=node,
        context={"input": {"q": query}, "nodes": {}},
    )


async def emit(text: str) -> None:
    pass


async def test_hybrid_retrieval_calls_the_embeddings_endpoint(
    settings: PilotSettings, db: AsyncDatabase[Document], fake_openai: FakeOpenAI
) -> None:
    store = KnowledgeStore(db)
    kb = await store.create_kb("Docs", owner_id="u1")
    await store.add_documents(
        kb["_id"],
        [
            {"title": "pets.txt", "content": "Cats and dogs are welcome in every room."},
            {"title": "parking.txt", "content": "Parking is free for hotel guests."},
            {"title": "pool.txt", "content": "The pool opens at seven in the morning."},
        ],
    )
    runner_settings = RunnerSettings(
        **settings.model_dump(exclude={"llm_api_key"}),
        embeddings_base_url=fake_openai.base_url,
        embeddings_api_key="embed-key",
        embeddings_model="text-embedding-3-small",
    )
    registry = build_registry(runner_settings, db=db)
    try:
        handler = registry.handler_for("knowledge")
        outcome = await handler(knowledge_task(kb["_id"], "are dogs welcome"), emit)
        assert outcome.input["mode"] == "hybrid"
        assert outcome.output[0]["source"] == "pets.txt"
        assert outcome.output[0]["score"] > 0
        # chunks embedded once, then one request per query, all with the configured key
        await handler(knowledge_task(kb["_id"], "when does the pool open"), emit)
        bodies = [r["body"] for r in fake_openai.embedding_requests]
        assert len(bodies) == 3
        assert len(bodies[0]["input"]) == 3 and bodies[1]["input"] == ["are dogs welcome"]
        assert all(b["model"] == "text-embedding-3-small" for b in bodies)
        assert all(
            r["headers"]["authorization"] == "Bearer embed-key"
            for r in fake_openai.embedding_requests
        )
    finally:
        await registry.aclose()


async def test_a_failing_embeddings_endpoint_falls_back_to_bm25(
    settings: PilotSettings, db: AsyncDatabase[Document], fake_openai: FakeOpenAI
) -> None:
    store = KnowledgeStore(db)
    kb = await store.create_kb("Docs", owner_id="u1")
    await store.add_documents(kb["_id"], [{"title": "a.txt", "content": "Refunds take 5 days."}])
    runner_settings = RunnerSettings(
        **settings.model_dump(exclude={"llm_api_key"}),
        embeddings_base_url=f"http://127.0.0.1:{fake_openai.port}/nowhere",
    )
    registry = build_registry(runner_settings, db=db)
    try:
        outcome = await registry.handler_for("knowledge")(
            knowledge_task(kb["_id"], "refunds"), emit
        )
        assert outcome.input["mode"].startswith("bm25 (embeddings failed")
        assert outcome.output[0]["source"] == "a.txt"
    finally:
        await registry.aclose()
