"""A small SSE reader for tests (the frames of DESIGN.md §4: id, event, data)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class SseFrame:
    id: str | None
    event: str | None
    data: Any


async def read_sse(response: httpx.Response) -> AsyncIterator[SseFrame]:
    fields: dict[str, str] = {}
    data_lines: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data_lines:
                raw = "\n".join(data_lines)
                try:
                    data: Any = json.loads(raw)
                except ValueError:
                    data = raw
                yield SseFrame(fields.get("id"), fields.get("event"), data)
            fields, data_lines = {}, []
            continue
        if line.startswith(":"):
            continue  # keep-alive comment
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data_lines.append(value)
        else:
            fields[name] = value
