"""A whole run through the executor and runners over NATS: a knowledge node feeds two llm
nodes (different models) against the OpenAI-compatible test server; the requests carry the
cited chunks, the answers stream, and the execution's usage and cost are exactly the sum
of what the server reported, priced from the table."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.knowledge import KnowledgeStore
from pilot_shared.pricing import cost_usd
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_execution import execute, of_type, services, workflow
from tests.support.fake_openai import FakeOpenAI, Reply


async def test_usage_and_cost_add_up_across_a_run(
    settings: PilotSettings, db: AsyncDatabase[Document], fake_openai: FakeOpenAI
) -> None:
    store = KnowledgeStore(db)
    kb = await store.create_kb("faq")
    await store.add_documents(
        kb["_id"],
        [
            {
                "title": "refunds.md",
                "content": "# Refunds\nRefunds are paid within 5 business days.",
            },
            {"title": "shipping.md", "content": "# Shipping\nParcels to Europe take 7 days."},
        ],
    )
    usage = {"gpt-4o": (120, 9), "gpt-4o-mini": (80, 4)}

    def respond(body: dict[str, Any]) -> Reply:
        prompt, completion = usage[body["model"]]
        return Reply(
            content=f"answer from {body['model']}",
            prompt_tokens=prompt,
            completion_tokens=completion,
        )

    fake_openai.responder = respond
    cite = (
        "{% for h in nodes.kb.output %}[{{ loop.index }}] {{ h.text }} ({{ h.source }})\n"
        "{% endfor %}Q: {{ input.q }}"
    )
    wf = workflow(
        [
            {"id": "in", "type": "input"},
            {
                "id": "kb",
                "type": "knowledge",
                "config": {"knowledge_base_id": kb["_id"], "query": "{{ input.q }}", "top_k": 1},
            },
            {"id": "draft", "type": "llm", "config": {"model": "gpt-4o", "prompt": cite}},
            {
                "id": "polish",
                "type": "llm",
                "config": {"model": "gpt-4o-mini", "prompt": "Polish: {{ nodes.draft.output }}"},
            },
            {
                "id": "out",
                "type": "output",
                "config": {
                    "mapping": {
                        "answer": "{{ nodes.polish.output }}",
                        "sources": "{{ nodes.kb.output | map(attribute='source') | list }}",
                    }
                },
            },
        ],
        [
            ("in", "kb", None),
            ("kb", "draft", None),
            ("draft", "polish", None),
            ("polish", "out", None),
        ],
    )
    async with services(settings, llm=fake_openai) as app:
        _, events = await execute(app, settings, db, wf, {"q": "How long do refunds take?"})
    assert events[-1].type == "execution.completed", events[-1].data
    first, second = fake_openai.requests
    assert first["body"]["model"] == "gpt-4o" and first["body"]["stream"] is True
    assert first["body"]["messages"][-1]["content"] == (
        "[1] Refunds\nRefunds are paid within 5 business days. (refunds.md)\n"
        "Q: How long do refunds take?"
    )
    assert second["body"]["messages"][-1]["content"] == "Polish: answer from gpt-4o"
    chunks = "".join(e.data["text"] for e in of_type(events, "node.chunk") if e.node_id == "polish")
    assert chunks == "answer from gpt-4o-mini"
    expected = round(cost_usd("gpt-4o", 120, 9) + cost_usd("gpt-4o-mini", 80, 4), 10)
    total = events[-1].data["usage"]
    assert (total["prompt_tokens"], total["completion_tokens"]) == (200, 13)
    assert total["cost_usd"] == expected and total["estimated"] is False
    assert events[-1].data["output"] == {
        "answer": "answer from gpt-4o-mini",
        "sources": ["refunds.md"],
    }
