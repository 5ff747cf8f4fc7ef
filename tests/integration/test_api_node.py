"""The api node over real HTTP: templated method/URL/headers/query/body, secrets by name
(never echoed), JSON/text output, the size cap, and failures classified for retries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from pilot_runners.registry import Registry, build_registry
from pilot_runners.settings import RunnerSettings
from pilot_runners.task import run_task
from pilot_shared.contracts import NODE_ADAPTER, NodeResult, NodeTask
from pilot_shared.store import Document
from tests.support.http_servers import CountingServer

CONTEXT = {
    "input": {"city": "Paris", "n": 3, "verb": "put"},
    "nodes": {"prev": {"output": {"id": "u1"}}},
}


def api_task(config: dict[str, Any]) -> NodeTask:
    return NodeTask(
        task_id="e1:api:1",
        execution_id="e1",
        workflow_id="wf",
        node=NODE_ADAPTER.validate_python({"id": "api", "type": "api", "config": config}),
        context=CONTEXT,
    )


@pytest.fixture
async def registry(db: AsyncDatabase[Document], tmp_path: Path) -> AsyncIterator[Registry]:
    reg = build_registry(
        RunnerSettings(
            data_dir=tmp_path, http_allowlist=["127.0.0.1"], http_max_response_bytes=10_000
        ),
        db=db,
    )
    yield reg
    await reg.aclose()


async def run_api(registry: Registry, config: dict[str, Any]) -> NodeResult:
    async def emit(text: str) -> None:
        pass

    return await run_task(api_task(config), registry.handler_for("api"), emit)


async def test_everything_is_templated_and_secrets_stay_hidden(registry: Registry) -> None:
    assert registry.secrets is not None
    await registry.secrets.put("API_TOKEN", "tok-SUPERSECRET")
    with CountingServer(body=b'{"temp": 21, "echo": "tok-SUPERSECRET"}').serve() as server:
        result = await run_api(
            registry,
            {
                "method": "POST",
                "url": server.url + "/users/{{ nodes.prev.output.id }}/weather",
                "headers": {
                    "Authorization": "Bearer {{ secrets.API_TOKEN }}",
                    "X-City": "{{ input.city }}",
                },
                "query": {"days": "{{ input.n }}", "key": "{{ secrets['API_TOKEN'] }}"},
                "body": {"city": "{{ input.city }}", "n": "{{ input.n }}"},
            },
        )
        assert result.status == "completed", result.error
        (req,) = server.requests
    assert req.method == "POST" and urlsplit(req.path).path == "/users/u1/weather"
    assert parse_qs(urlsplit(req.path).query) == {"days": ["3"], "key": ["tok-SUPERSECRET"]}
    assert req.headers["Authorization"] == "Bearer tok-SUPERSECRET"
    assert req.headers["X-City"] == "Paris"
    assert json.loads(req.body) == {"city": "Paris", "n": 3}  # a lone {{ }} keeps its type
    assert result.output == {"temp": 21, "echo": "***"}  # the parsed body, secrets masked
    assert "SUPERSECRET" not in result.model_dump_json()

    async def emit(text: str) -> None:
        pass

    with CountingServer().serve() as server:
        outcome = await registry.handler_for("api")(
            api_task(
                {"url": server.url, "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"}}
            ),
            emit,
        )
    assert outcome.input["headers"]["Authorization"] == "Bearer ***"


async def test_form_body_and_text_output(registry: Registry) -> None:
    with CountingServer(body=b"plain answer", content_type="text/plain").serve() as server:
        result = await run_api(
            registry,
            {
                "method": "POST",
                "url": server.url,
                "body": {"q": "{{ input.city }}"},
                "body_type": "form",
            },
        )
        (req,) = server.requests
    assert result.status == "completed", result.error
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert req.body == b"q=Paris"
    assert result.output == "plain answer"


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, False), (400, False)]
)
async def test_status_codes_are_classified(
    registry: Registry, status: int, retryable: bool
) -> None:
    with CountingServer(status=status, body=b'{"error": "x"}').serve() as server:
        result = await run_api(registry, {"url": server.url})
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "http" and result.error.retryable is retryable
    assert f"HTTP {status}" in result.error.message


async def test_response_size_cap(registry: Registry) -> None:
    with CountingServer(body=b"x" * 5000, content_type="text/plain").serve() as server:
        ok = await run_api(registry, {"url": server.url})
        capped = await run_api(registry, {"url": server.url, "max_response_bytes": 1000})
    assert ok.status == "completed" and ok.output == "x" * 5000
    assert capped.status == "failed" and capped.error is not None
    assert "1000-byte cap" in capped.error.message and not capped.error.retryable


async def test_blocked_request_is_not_retryable(
    db: AsyncDatabase[Document], tmp_path: Path
) -> None:
    reg = build_registry(RunnerSettings(data_dir=tmp_path), db=db)
    try:
        with CountingServer().serve() as server:
            result = await run_api(reg, {"url": server.url + "/x"})
            assert server.requests == []
        metadata = await run_api(reg, {"url": "http://169.254.169.254/latest/meta-data/"})
    finally:
        await reg.aclose()
    for r in (result, metadata):
        assert r.status == "failed" and r.error is not None
        assert r.error.kind == "blocked" and not r.error.retryable
        assert "SSRF guard" in r.error.message and "PILOT_HTTP_ALLOWLIST" in r.error.message


async def test_connection_refused_is_retryable(registry: Registry) -> None:
    from pilot.embedded import free_port

    result = await run_api(registry, {"url": f"http://127.0.0.1:{free_port()}/", "timeout_s": 2})
    assert result.status == "failed" and result.error is not None and result.error.retryable


async def test_the_method_is_templated_and_checked(registry: Registry) -> None:
    with CountingServer().serve() as server:
        result = await run_api(
            registry, {"method": "{{ input.verb }}", "url": server.url + "/x", "body": {"a": 1}}
        )
        assert result.status == "completed", result.error
        assert [(r.method, r.path) for r in server.requests] == [("PUT", "/x")]
        bad = await run_api(registry, {"method": "{{ input.city }}", "url": server.url + "/x"})
        assert bad.status == "failed" and bad.error is not None
        assert bad.error.kind == "validation" and "PARIS" in bad.error.message
        assert len(server.requests) == 1
    with pytest.raises(ValueError, match="method must be one of"):
        api_task({"method": "TRACE", "url": "http://example.com"})


async def test_every_call_carries_an_idempotency_key_stable_across_redelivery(
    registry: Registry,
) -> None:
    with CountingServer().serve() as server:
        config = {"method": "POST", "url": server.url + "/pay", "body": {"amount": 5}}
        await run_api(registry, config)
        await run_api(registry, config)  # the same task again, as a redelivery would be
        own = {**config, "headers": {"idempotency-key": "mine"}}
        await run_api(registry, own)
    keys = [
        next(v for k, v in r.headers.items() if k.lower() == "idempotency-key")
        for r in server.requests
    ]
    assert keys == ["e1:api:1", "e1:api:1", "mine"]
