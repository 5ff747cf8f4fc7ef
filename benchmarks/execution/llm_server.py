"""The test model every peer calls: the repository's OpenAI-compatible test server in a
process of its own (so it does not share a GIL with whoever measures), answering at once,
or after the delay its model name asks for (`bench-200ms`).

    python -m benchmarks.execution.llm_server PORT
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pilot.embedded import ManagedProcess, free_port
from tests.support.fake_openai import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parents[2]

_DELAY = re.compile(r"-(\d+)ms$")


def delay_s(model: str) -> float:
    match = _DELAY.search(model)
    return int(match.group(1)) / 1000 if match else 0.0


class BenchLLM(FakeOpenAI):
    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        wait = delay_s(str(body.get("model", "")))
        if wait:
            await asyncio.sleep(wait)
        response = await super()._chat(request)
        self.requests.clear()  # hundreds of thousands of calls: keep none
        return response


def answer(body: dict[str, Any]) -> Reply:
    return Reply(content="ok", prompt_tokens=1, completion_tokens=1)


@contextmanager
def running(workdir: Path) -> Iterator[str]:
    """This server in a process of its own for the length of the block; yields its base URL."""
    port = free_port()
    llm = ManagedProcess(
        "llm",
        [sys.executable, "-m", "benchmarks.execution.llm_server", str(port)],
        workdir / "logs" / "llm.log",
        port=port,
        env={"PYTHONPATH": str(ROOT)},
    )
    llm.start()
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        llm.stop()


def main() -> None:
    server = BenchLLM(responder=answer, port=int(sys.argv[1]))
    with server.serve():
        threading.Event().wait()


if __name__ == "__main__":
    main()
