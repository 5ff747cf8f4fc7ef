"""LangGraph, in-process, with its in-memory checkpointer: the same graphs, each node
calling the test model once over one shared HTTP client."""

from __future__ import annotations

import asyncio
import operator
import os
import time
from typing import Annotated, Any, TypedDict

import httpx

from .stats import Figures, overheads, percentile
from .workloads import Spec


class State(TypedDict, total=False):
    k: int
    items: list[int]
    item: int
    outputs: Annotated[dict[str, Any], operator.or_]
    results: Annotated[list[Any], operator.add]
    body_s: Annotated[float, operator.add]


def build(spec: Spec, http: httpx.AsyncClient, model: str) -> Any:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    async def call(prompt: str) -> tuple[Any, float]:
        t0 = time.perf_counter()
        response = await http.post(
            "/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": prompt}]},
        )
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"], time.perf_counter() - t0

    def llm(nid: str) -> Any:
        async def node(state: State) -> State:
            out, took = await call(f"Say ok to {state.get('k')}")
            return {"outputs": {nid: out}, "body_s": took}

        return node

    async def body(state: State) -> State:
        out, took = await call(f"Say ok to {state.get('item')}")
        return {"results": [out], "body_s": took}

    def passthrough(nid: str) -> Any:
        def node(state: State) -> State:
            return {"outputs": {nid: state.get("k")}}

        return node

    graph = StateGraph(State)
    for nid, kind in spec.nodes:
        if kind == "llm":
            graph.add_node(nid, llm(nid))
        else:
            graph.add_node(nid, passthrough(nid))
    if spec.items:
        graph.add_node("body_1", body)
    graph.add_edge(START, "input_1")
    for source, target in spec.edges:
        if source == "loop_1":
            continue
        graph.add_edge(source, target)
    if spec.items:
        # the loop node fans its items out to the body (Send), which joins at the output
        graph.add_conditional_edges(
            "loop_1", lambda s: [Send("body_1", {"item": i}) for i in s.get("items", [])]
        )
        graph.add_edge("body_1", "output_1")
    graph.add_edge("output_1", END)
    return graph.compile(checkpointer=InMemorySaver())


def rss_kb() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def bench(
    spec: Spec, llm_url: str, *, sequential: int, concurrent: int, model: str = "bench"
) -> Figures:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=llm_url, limits=limits, timeout=60) as http:
        app = build(spec, http, model)
        runs = 0
        config_extra = {"max_concurrency": spec.loop_concurrency} if spec.items else {}

        async def run() -> float:
            nonlocal runs
            runs += 1
            state: State = {"k": runs, "items": list(range(spec.items))}
            config: Any = {"configurable": {"thread_id": f"t{runs}"}, **config_extra}
            final = await app.ainvoke(state, config)
            return float(final.get("body_s", 0.0))

        for _ in range(3):  # warm-up
            await run()
        samples = []
        for _ in range(sequential):
            t0 = time.perf_counter()
            body = await run()
            samples.append((time.perf_counter() - t0, body))
        per_node = overheads(samples, spec.node_steps)

        before = rss_kb()
        peak = before
        done = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_kb())
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        t0 = time.perf_counter()
        outcomes = await asyncio.gather(*(run() for _ in range(concurrent)), return_exceptions=True)
        wall = time.perf_counter() - t0
        done.set()
        await sampler
    errors = sum(isinstance(o, BaseException) for o in outcomes)
    return Figures(
        "LangGraph",
        spec.name,
        overhead_p50_ms=percentile(per_node, 50),
        overhead_p99_ms=percentile(per_node, 99),
        steps_per_s=concurrent * spec.node_steps / wall,
        mem_per_exec_kb=(peak - before) / concurrent,
        errors=errors,
        note=f"{concurrent} concurrent runs, in-memory checkpointer",
    )
