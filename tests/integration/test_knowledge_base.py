"""Knowledge bases end to end in a real store: the gateway router creates a base and adds
text, markdown, HTML and PDF documents; the knowledge node retrieves with scores and
sources, caches its index per base version; the 200-document retrieval check passes."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from pilot_gateway.auth.schemas import Caller
from pilot_gateway.deps import get_caller, get_db
from pilot_gateway.errors import install_error_handlers
from pilot_gateway.knowledge.endpoints import router
from pilot_runners.handlers.knowledge import KnowledgeHandler
from pilot_runners.knowledge.eval import run_eval
from pilot_shared.contracts import NODE_ADAPTER, NodeTask, User
from pilot_shared.knowledge import KnowledgeStore
from pilot_shared.store import KB_CHUNKS, Document
from tests.conftest import Runtime
from tests.unit.test_knowledge import minimal_pdf

ALICE = Caller(user=User(id="u_alice", username="alice"), via="api_key", key_id="k1")
BOB = Caller(user=User(id="u_bob", username="bob"), via="api_key", key_id="k2")


@pytest.fixture
async def client(db: AsyncDatabase[Document]) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.dependency_overrides[get_db] = lambda: db
    app.dependency_overrides[get_caller] = lambda: ALICE
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        yield http, app


def knowledge_task(kb_id: str, query: str, top_k: int = 3) -> NodeTask:
    return NodeTask(
        task_id="e1:kb:1",
        execution_id="e1",
        workflow_id="wf",
        node=NODE_ADAPTER.validate_python(
            {
                "id": "kb",
                "type": "knowledge",
                "config": {"knowledge_base_id": kb_id, "query": "{{ input.q }}", "top_k": top_k},
            }
        ),
        context={"input": {"q": query}, "nodes": {}},
    )


async def emit(text: str) -> None:
    pass


async def test_api_ingests_every_kind_and_the_node_retrieves(
    client: tuple[httpx.AsyncClient, FastAPI], db: AsyncDatabase[Document]
) -> None:
    http, app = client
    r = await http.post(
        "/api/knowledge-bases", json={"name": "Support", "chunk_chars": 200, "overlap_chars": 40}
    )
    assert r.status_code == 201, r.text
    kb = r.json()
    assert kb["owner_id"] == "u_alice" and kb["version"] == 0
    long_text = " ".join(f"Paragraph {i} is filler about nothing in particular." for i in range(30))
    docs: list[dict[str, Any]] = [
        {
            "title": "refunds.txt",
            "content": "Refunds are paid within 5 business days. " + long_text,
        },
        {"title": "shipping.md", "content": "# Shipping\n\nWe ship to **Europe** in 7 days."},
        {
            "title": "office.html",
            "content": "<h1>Office</h1><p>Our office is in Lyon.</p><script>x</script>",
        },
        {
            "title": "invoices.pdf",
            "content_base64": base64.b64encode(minimal_pdf("Invoices are due in 30 days")).decode(),
        },
    ]
    r = await http.post(f"/api/knowledge-bases/{kb['id']}/documents", json={"documents": docs})
    assert r.status_code == 201, r.text
    added = r.json()["items"]
    assert [d["kind"] for d in added] == ["text", "markdown", "html", "pdf"]
    assert added[0]["chunks"] > 3  # chunked with overlap
    chunks = [c async for c in db[KB_CHUNKS].find({"doc_id": added[0]["id"]}).sort("index", 1)]
    assert len(chunks) == added[0]["chunks"]
    assert chunks[1]["text"][:15] in chunks[0]["text"]  # the overlap

    r = await http.get(f"/api/knowledge-bases/{kb['id']}")
    assert r.json()["version"] == 1 and r.json()["documents"] == 4
    r = await http.post(
        f"/api/knowledge-bases/{kb['id']}/query", json={"query": "when are invoices due?"}
    )
    assert r.status_code == 200
    top = r.json()["hits"][0]
    assert top["source"] == "invoices.pdf" and "30 days" in top["text"] and top["score"] > 0

    handler = KnowledgeHandler(db)
    outcome = await handler(knowledge_task(kb["id"], "how long do refunds take"), emit)
    first = outcome.output[0]
    assert first["source"] == "refunds.txt" and first["doc_id"] == added[0]["id"]
    assert "5 business days" in first["text"] and first["score"] > 0
    assert {"text", "score", "source", "doc_id"} <= set(first)
    await handler(knowledge_task(kb["id"], "office city"), emit)
    assert handler.cache is not None and handler.cache.builds == 1  # cached per version

    # another document: new version, the node rebuilds its index and finds it
    r = await http.post(
        f"/api/knowledge-bases/{kb['id']}/documents",
        json={"documents": [{"title": "hours.txt", "content": "Opening hours are 9 to 17."}]},
    )
    assert r.status_code == 201
    outcome = await handler(knowledge_task(kb["id"], "opening hours"), emit)
    assert outcome.output[0]["source"] == "hours.txt" and handler.cache.builds == 2

    # delete a document: its chunks go too
    r = await http.delete(f"/api/knowledge-bases/{kb['id']}/documents/{added[0]['id']}")
    assert r.status_code == 204
    assert await db[KB_CHUNKS].count_documents({"doc_id": added[0]["id"]}) == 0

    # other users do not see the base
    app.dependency_overrides[get_caller] = lambda: BOB
    assert (await http.get(f"/api/knowledge-bases/{kb['id']}")).status_code == 404
    assert (await http.get("/api/knowledge-bases")).json()["items"] == []


async def test_bad_documents_are_rejected(client: tuple[httpx.AsyncClient, FastAPI]) -> None:
    http, _ = client
    kb = (await http.post("/api/knowledge-bases", json={"name": "x"})).json()
    bad_pdf = {
        "title": "a.pdf",
        "kind": "pdf",
        "content_base64": base64.b64encode(b"nope").decode(),
    }
    r = await http.post(f"/api/knowledge-bases/{kb['id']}/documents", json={"documents": [bad_pdf]})
    assert r.status_code == 400 and "PDF" in r.text
    r = await http.post(
        f"/api/knowledge-bases/{kb['id']}/documents", json={"documents": [{"title": "t"}]}
    )
    assert r.status_code == 422
    assert (
        await http.post("/api/knowledge-bases/nope/query", json={"query": "x"})
    ).status_code == 404


async def test_node_fails_clearly_for_a_missing_base(db: AsyncDatabase[Document]) -> None:
    from pilot_runners.outcome import NodeFailure

    with pytest.raises(NodeFailure, match="not found"):
        await KnowledgeHandler(db)(knowledge_task("kb_missing", "x"), emit)
    kb = await KnowledgeStore(db).create_kb("empty")
    assert (await KnowledgeHandler(db)(knowledge_task(kb["_id"], "x"), emit)).output == []


async def test_retrieval_check_200_documents_20_questions(runtime: Runtime) -> None:
    results = await run_eval(runtime.mongodb_url)
    assert results["documents"] == 200 and results["questions"] == 20
    assert results["hit@3"] >= 0.9
