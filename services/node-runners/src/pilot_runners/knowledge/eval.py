"""Retrieval check (`make eval-retrieval`): 200 short generated documents in a knowledge
base in a real store, 20 questions whose answers sit in known documents; prints hit@1,
hit@3 and MRR of BM25 retrieval through the knowledge node, and fails below hit@3 0.9.

Deterministic: the corpus comes from a seeded generator. Each document is a short product
note with facts that other documents share words with (same categories, same cities, the
same words like "warranty" and "delivery"), so a question has to match the distinctive
terms, not just the topic.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pilot_shared.contracts import NODE_ADAPTER, NodeTask, new_id
from pilot_shared.knowledge import KnowledgeStore

ADJECTIVES = [
    "Amber",
    "Bold",
    "Cobalt",
    "Dusk",
    "Ember",
    "Frost",
    "Granite",
    "Harbor",
    "Ivory",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Onyx",
    "Pebble",
    "Quartz",
    "Raven",
    "Sable",
    "Tidal",
]
NOUNS = [
    "kettle",
    "lamp",
    "backpack",
    "blender",
    "router",
    "headset",
    "desk",
    "scooter",
    "camera",
    "speaker",
]
CITIES = [
    "Lyon",
    "Osaka",
    "Denver",
    "Porto",
    "Tallinn",
    "Hangzhou",
    "Austin",
    "Kraków",
    "Nairobi",
    "Perth",
    "Bergen",
    "Quito",
]
MATERIALS = [
    "bamboo",
    "aluminium",
    "walnut",
    "recycled plastic",
    "steel",
    "ceramic",
    "carbon fibre",
    "linen",
]
COLORS = ["teal", "crimson", "charcoal", "mustard", "olive", "navy", "coral", "ivory"]


@dataclass
class Doc:
    id: str
    title: str
    text: str
    facts: dict[str, Any]


def corpus(n: int = 200, seed: int = 5) -> list[Doc]:
    rng = random.Random(seed)
    names = [f"{a} {b}" for a in ADJECTIVES for b in NOUNS]
    rng.shuffle(names)
    docs = []
    for i in range(n):
        name = names[i]
        facts = {
            "name": name,
            "city": rng.choice(CITIES),
            "warranty": rng.randint(1, 6),
            "material": rng.choice(MATERIALS),
            "color": rng.choice(COLORS),
            "price": rng.randint(19, 499),
            "delivery": rng.randint(2, 14),
            "code": f"{rng.choice('BCDFGHJKLMNPRSTV')}{rng.randint(100, 999)}",
        }
        text = (
            f"The {name} is assembled in {facts['city']} from {facts['material']} and comes in "
            f"{facts['color']}. It costs {facts['price']} dollars, ships within "
            f"{facts['delivery']} days, and carries a {facts['warranty']}-year warranty. "
            f"Support tickets about it use the product code {facts['code']}."
        )
        docs.append(Doc(f"doc{i:03d}", f"{name} product note", text, facts))
    return docs


QUESTION_FORMS = [
    ("Where is the {name} assembled?", "city"),
    ("How long is the warranty on the {name}?", "warranty"),
    ("What is the {name} made of?", "material"),
    ("Which colour does the {name} come in?", "color"),
    ("How much does the {name} cost?", "price"),
    ("How many days does the {name} take to ship?", "delivery"),
    ("Which product has the support code {code}?", "name"),
]


def questions(docs: list[Doc], n: int = 20, seed: int = 11) -> list[tuple[str, str, str]]:
    """(question, expected doc id, the answer as it appears in that document)."""
    rng = random.Random(seed)
    out = []
    for doc in rng.sample(docs, n):
        form, field = rng.choice(QUESTION_FORMS)
        out.append((form.format(**doc.facts), doc.id, str(doc.facts[field])))
    return out


async def run_eval(mongodb_url: str, *, top_k: int = 3) -> dict[str, float]:
    from pilot_runners.handlers.knowledge import KnowledgeHandler
    from pilot_shared.store import create_store_client, ensure_indexes

    client = create_store_client(mongodb_url)
    db = client[f"eval_retrieval_{new_id()[:8]}"]
    try:
        await ensure_indexes(db)
        store = KnowledgeStore(db)
        kb = await store.create_kb("eval products")
        docs = corpus()
        t0 = time.perf_counter()
        await store.add_documents(
            kb["_id"],
            [{"id": d.id, "title": d.title, "content": d.text, "kind": "text"} for d in docs],
        )
        ingest_s = time.perf_counter() - t0
        handler = KnowledgeHandler(db)
        hits1 = hits3 = 0
        rr = 0.0
        answer_in_text = 0
        qs = questions(docs)

        async def emit(text: str) -> None:
            pass

        for i, (question, expected, answer) in enumerate(qs):
            task = NodeTask(
                task_id=f"eval:{i}",
                execution_id="eval",
                workflow_id="eval",
                node=NODE_ADAPTER.validate_python(
                    {
                        "id": "kb",
                        "type": "knowledge",
                        "config": {
                            "knowledge_base_id": kb["_id"],
                            "query": "{{ input.q }}",
                            "top_k": top_k,
                        },
                    }
                ),
                context={"input": {"q": question}, "nodes": {}},
            )
            outcome = await handler(task, emit)
            ids = [h["doc_id"] for h in outcome.output]
            if ids[:1] == [expected]:
                hits1 += 1
            if expected in ids[:top_k]:
                hits3 += 1
                rr += 1 / (ids.index(expected) + 1)
                if any(answer in h["text"] for h in outcome.output if h["doc_id"] == expected):
                    answer_in_text += 1
            else:
                print(f"  miss: {question!r} expected {expected}, got {ids}")
        n = len(qs)
        return {
            "documents": len(docs),
            "questions": n,
            "hit@1": hits1 / n,
            f"hit@{top_k}": hits3 / n,
            "mrr": rr / n,
            "answer_in_retrieved_text": answer_in_text / n,
            "ingest_s": ingest_s,
            "index_builds": float(handler.cache.builds if handler.cache else 0),
        }
    finally:
        await client.drop_database(db.name)
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mongodb-url", help="use this store instead of an embedded one")
    parser.add_argument("--min-hit3", type=float, default=0.9)
    args = parser.parse_args(argv)
    if args.mongodb_url:
        results = asyncio.run(run_eval(args.mongodb_url))
    else:
        from pilot.embedded import document_store, mongodb_url

        with tempfile.TemporaryDirectory() as tmp:
            store = document_store(Path(tmp))
            store.start()
            try:
                results = asyncio.run(run_eval(mongodb_url(store)))
            finally:
                store.stop()
    for key, value in results.items():
        print(f"{key:>26}: {value:.3f}" if isinstance(value, float) else f"{key:>26}: {value}")
    ok = results["hit@3"] >= args.min_hit3
    print(
        f"retrieval check {'PASSED' if ok else 'FAILED'}: hit@3 {results['hit@3']:.2f} "
        f"(needs >= {args.min_hit3})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
