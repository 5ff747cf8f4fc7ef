"""An OpenAI-compatible chat-completions server for tests: real HTTP, real SSE streaming,
real usage figures. It answers with whatever its `responder` returns and records every
request, so tests can check what πlot sent and what it did with the answer."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from pilot.embedded import free_port


@dataclass
class Reply:
    """What the server answers to one request."""

    content: str = "Hello from the test model."
    prompt_tokens: int | None = None  # None: counted from the request (1 per word)
    completion_tokens: int | None = None  # None: one per streamed piece
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    include_usage: bool = True
    chunks: list[str] | None = None  # streamed pieces; default: the content split in words


Responder = Callable[[dict[str, Any]], Reply]


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


def _prompt_tokens(body: dict[str, Any]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))


def hashed_embedding(text: str, dims: int = 64) -> list[float]:
    """A deterministic bag-of-words vector: texts sharing words point the same way."""
    import hashlib
    import math

    vector = [0.0] * dims
    for word in text.lower().split():
        word = word.strip(".,?!:;")
        if word:
            vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dims] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


@dataclass
class FakeOpenAI:
    responder: Responder = field(default=lambda body: Reply())
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    embed: Callable[[str], list[float]] = field(default=hashed_embedding)
    embedding_requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"body": body, "headers": dict(request.headers)})
        reply = self.responder(body)
        if reply.status != 200:
            return JSONResponse(
                {"error": reply.error or {"message": "error", "type": "server_error"}},
                status_code=reply.status,
                headers=reply.headers,
            )
        model = body.get("model", "test-model")
        pieces = reply.chunks if reply.chunks is not None else _words(reply.content)
        prompt_tokens = (
            reply.prompt_tokens if reply.prompt_tokens is not None else _prompt_tokens(body)
        )
        completion_tokens = (
            reply.completion_tokens if reply.completion_tokens is not None else len(pieces)
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        created = int(time.time())
        if not body.get("stream"):
            payload: dict[str, Any] = {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "".join(pieces)},
                    }
                ],
            }
            if reply.include_usage:
                payload["usage"] = usage
            return JSONResponse(payload, headers=reply.headers)

        want_usage = (
            bool((body.get("stream_options") or {}).get("include_usage")) and reply.include_usage
        )

        async def stream() -> Any:
            def frame(delta: dict[str, Any], finish: str | None = None) -> str:
                chunk = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }
                return f"data: {json.dumps(chunk)}\n\n"

            yield frame({"role": "assistant", "content": ""})
            for piece in pieces:
                yield frame({"content": piece})
                await asyncio.sleep(0)
            yield frame({}, "stop")
            if want_usage:
                chunk = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream", headers=reply.headers)

    async def _embeddings(self, request: Request) -> Response:
        body = await request.json()
        self.embedding_requests.append({"body": body, "headers": dict(request.headers)})
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        tokens = sum(len(str(t).split()) for t in texts)
        return JSONResponse(
            {
                "object": "list",
                "model": body.get("model", "test-embedding"),
                "data": [
                    {"object": "embedding", "index": i, "embedding": self.embed(str(t))}
                    for i, t in enumerate(texts)
                ],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "test-model", "object": "model"}]})

    @contextmanager
    def serve(self) -> Iterator[FakeOpenAI]:
        self.port = self.port or free_port()
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("fake OpenAI server did not start")
            time.sleep(0.01)
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(5)
