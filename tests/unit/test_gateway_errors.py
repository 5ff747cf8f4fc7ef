"""The error model and the middleware, on a small app built from the gateway's parts (no
NATS or store needed): every failure is JSON `{"error", "detail", "request_id"}` with the
right status, and every response and log line carries the request id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from pilot_gateway.errors import PilotError, install_error_handlers
from pilot_gateway.http_metrics import REQUEST_DURATION, HttpMetricsMiddleware
from pilot_gateway.middleware import BodyLimitMiddleware, CatchAllMiddleware
from pilot_gateway.request_id import RequestIdLogFilter, RequestIdMiddleware
from pilot_shared.telemetry import metrics_registry

LIMIT = 1_000


class TeapotError(PilotError):
    status_code = 418
    kind = "teapot"


class Item(BaseModel):
    name: str
    count: int = 0


def small_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=LIMIT)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(HttpMetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)

    @app.post("/items/{item_id}")
    async def create(item_id: str, item: Item) -> Item:
        return item

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("database password is hunter2")

    @app.get("/teapot")
    async def teapot() -> None:
        raise TeapotError("short and stout", extra={"handle": "left"})

    return app


def without_request_id(r: httpx.Response) -> dict[str, object]:
    """The error body minus its request id, after checking it matches the header."""
    body = dict(r.json())
    assert body.pop("request_id") == r.headers["x-request-id"]
    return body


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=small_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_a_valid_request_passes_through(client: httpx.AsyncClient) -> None:
    r = await client.post("/items/1", json={"name": "a", "count": 2})
    assert r.status_code == 200 and r.json() == {"name": "a", "count": 2}


async def test_malformed_json_is_a_400_saying_so(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/items/1", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "malformed_json" and "not valid JSON" in body["detail"]


async def test_validation_errors_name_the_fields(client: httpx.AsyncClient) -> None:
    r = await client.post("/items/1", json={"count": "many"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "validation"
    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "name"), ("body", "count")}
    assert "body.name: Field required" in body["detail"]


async def test_pilot_errors_carry_their_status_kind_and_extras(client: httpx.AsyncClient) -> None:
    r = await client.get("/teapot")
    assert r.status_code == 418
    assert without_request_id(r) == {
        "error": "teapot",
        "detail": "short and stout",
        "handle": "left",
    }


async def test_unexpected_exceptions_are_a_generic_500(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdLogFilter())  # as install_request_id_logging does
    r = await client.get("/boom", headers={"X-Request-ID": "trace-me-42"})
    assert r.status_code == 500
    assert r.headers["x-request-id"] == "trace-me-42"
    assert without_request_id(r) == {"error": "internal", "detail": "internal error"}
    assert "hunter2" not in r.text
    logged = [rec for rec in caplog.records if "unhandled error in GET /boom" in rec.message]
    assert logged
    assert logged[0].request_id == "trace-me-42"  # the log line names the same request
    assert (await client.post("/items/1", json={"name": "ok"})).status_code == 200


async def test_unknown_routes_and_methods_are_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/nowhere")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = await client.get("/items/1")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


async def test_a_declared_oversized_body_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/items/1", json={"name": "x" * (LIMIT * 2)})
    assert r.status_code == 413
    body = r.json()
    assert body["error"] == "payload_too_large"
    assert "1,000 bytes" in body["detail"]


async def test_an_oversized_chunked_body_is_counted_and_refused(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 200
        yield b'"}'

    r = await client.post(
        "/items/1", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"


async def test_a_body_at_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    prefix, suffix = b'{"name": "', b'"}'
    body = prefix + b"x" * (LIMIT - len(prefix) - len(suffix)) + suffix
    assert len(body) == LIMIT
    r = await client.post("/items/1", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200


async def test_request_durations_are_labelled_by_route_template(client: httpx.AsyncClient) -> None:
    def count(route: str, status: str) -> float:
        value = metrics_registry().get_sample_value(
            "pilot_http_request_duration_seconds_count",
            {"method": "POST", "route": route, "status": status},
        )
        return value or 0.0

    before_ok, before_bad = count("/items/{item_id}", "200"), count("/items/{item_id}", "422")
    await client.post("/items/abc123", json={"name": "a"})
    await client.post("/items/def456", json={})
    assert count("/items/{item_id}", "200") == before_ok + 1
    assert count("/items/{item_id}", "422") == before_bad + 1
    labels = {s.labels["route"] for m in REQUEST_DURATION.collect() for s in m.samples}
    assert not any("abc123" in label or "def456" in label for label in labels)

    r = await client.request("BREW", "/nowhere")
    assert r.status_code == 404
    assert metrics_registry().get_sample_value(
        "pilot_http_request_duration_seconds_count",
        {"method": "other", "route": "unmatched", "status": "404"},
    )


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    ok = await client.post("/items/1", json={"name": "a"})
    missing = await client.get("/nowhere")
    assert len({ok.headers["x-request-id"], missing.headers["x-request-id"]}) == 2
    assert missing.json()["request_id"] == missing.headers["x-request-id"]
    # a sane id from the client is kept; anything else (log forging) is replaced
    kept = await client.get("/nowhere", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    forged = await client.get("/nowhere", headers={"X-Request-ID": "x" * 200})
    assert forged.headers["x-request-id"] != "x" * 200
