"""The gateway's pure parts of authentication, limits, versions and docs: no servers."""

from __future__ import annotations

import asyncio

import pytest

from pilot_gateway.app import create_app
from pilot_gateway.auth.tokens import InvalidTokenError, issue_token, verify_token
from pilot_gateway.errors import BadRequestError
from pilot_gateway.limits import (
    ExecutionSlots,
    RateLimitedError,
    RateLimiter,
    TooManyExecutionsError,
)
from pilot_gateway.request_id import accepted_request_id
from pilot_gateway.settings import GatewaySettings
from pilot_gateway.workflows.endpoints import based_on
from pilot_gateway.workflows.schemas import NodeUpdate
from pilot_gateway.workflows.service import InvalidNodeError, NodeNotFoundError, updated_nodes
from pilot_shared.accounts import hash_key, key_id_of, new_api_key
from pilot_shared.contracts import Workflow

SECRET = "s" * 48


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_rate_limiter_allows_bursts_then_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.retry_after("a") for _ in range(3)] == [None, None, None]
    assert limiter.retry_after("a") == pytest.approx(1.0)
    assert limiter.retry_after("b") is None  # every key has its own bucket
    clock.now = 1.0
    assert limiter.retry_after("a") is None
    clock.now = 1.5
    with pytest.raises(RateLimitedError) as err:
        limiter.check("a")
    assert err.value.status_code == 429 and err.value.headers["Retry-After"] == "1"
    assert "60 a minute" in err.value.detail


async def test_execution_slots_cap_each_user_under_concurrency() -> None:
    slots = ExecutionSlots(limit=2)
    running: dict[str, int] = {"alice": 0}

    async def count(user: str) -> int:
        await asyncio.sleep(0)  # a store round trip: other requests interleave here
        return running[user]

    async def start() -> bool:
        try:
            async with slots.reserve("alice", count):
                running["alice"] += 1
        except TooManyExecutionsError:
            return False
        return True

    results = await asyncio.gather(*(start() for _ in range(5)))
    assert sorted(results) == [False, False, False, True, True]
    assert slots._locks == {}  # nothing kept for idle users


def test_api_keys_carry_their_id_and_are_hashed() -> None:
    key_id, key = new_api_key()
    assert key.startswith(f"pilot_{key_id}_") and len(key) > 60
    assert key_id_of(key) == key_id
    assert hash_key(key) != hash_key(key + "x") and len(hash_key(key)) == 64
    for junk in ("", "pilot_", "pilot_short_x", "bearer_0123456789abcdef_x", "a.b.c"):
        assert key_id_of(junk) is None


def test_tokens_verify_only_with_their_secret_and_before_expiry() -> None:
    token, _ = issue_token(SECRET, "u1", "k1", ttl_s=60)
    claims = verify_token(SECRET, token)
    assert (claims.user_id, claims.key_id) == ("u1", "k1")
    with pytest.raises(InvalidTokenError, match="not valid"):
        verify_token("t" * 48, token)
    expired, _ = issue_token(SECRET, "u1", "k1", ttl_s=-1)
    with pytest.raises(InvalidTokenError, match="expired"):
        verify_token(SECRET, expired)


def test_a_short_jwt_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        GatewaySettings(jwt_secret="short")


def test_request_ids_from_clients_are_kept_only_when_sane() -> None:
    assert accepted_request_id("abc-123.x:y_z") == "abc-123.x:y_z"
    for bad in (None, "", "has space", "new\nline", "x" * 65):
        assert accepted_request_id(bad) != bad and len(accepted_request_id(bad)) == 32


def test_if_match_names_a_version() -> None:
    assert [based_on(v) for v in ('"3"', 'W/"3"', "3", " 4 ", "*", "", None)] == [
        3,
        3,
        3,
        4,
        None,
        None,
        None,
    ]
    for bad in ("three", "-1", '"3", "4"', "1" * 16):
        with pytest.raises(BadRequestError):
            based_on(bad)


WORKFLOW = Workflow.model_validate(
    {
        "nodes": [
            {"id": "input_1", "type": "input"},
            {
                "id": "llm_1",
                "type": "llm",
                "config": {"prompt": "{{ input.q }}", "temperature": 0.5},
            },
        ],
        "connections": [{"id": "c1", "source": "input_1", "target": "llm_1"}],
    }
)


def test_a_node_edit_merges_config_and_revalidates() -> None:
    update = NodeUpdate(config={"temperature": 0.2, "max_tokens": 50}, name="Ask")
    llm = updated_nodes(WORKFLOW, "llm_1", update)[1]
    assert llm.name == "Ask" and llm.config.prompt == "{{ input.q }}"  # type: ignore[union-attr]
    assert (llm.config.temperature, llm.config.max_tokens) == (0.2, 50)  # type: ignore[union-attr]
    reset = updated_nodes(WORKFLOW, "llm_1", NodeUpdate(config={"temperature": None}))[1]
    assert reset.config.temperature == 0.7  # type: ignore[union-attr]
    with pytest.raises(InvalidNodeError) as err:
        updated_nodes(WORKFLOW, "llm_1", NodeUpdate(config={"temprature": 1}))
    assert err.value.extra["errors"][0]["loc"] == ["body", "config", "temprature"]
    with pytest.raises(NodeNotFoundError):
        updated_nodes(WORKFLOW, "nope", NodeUpdate(name="x"))


def test_the_openapi_document_is_complete() -> None:
    spec = create_app(GatewaySettings(nats_url="nats://127.0.0.1:1")).openapi()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    public = {"/healthz", "/readyz", "/metrics", "/asyncapi", "/asyncapi.json"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert operation.get("summary"), (method, path)
            if path in public:
                continue
            assert operation["security"] == [{"bearer": []}], (method, path)
            for code in ("401", "422", "429"):
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorResponse"), (method, path, code)
            for parameter in operation.get("parameters", []):  # absent, never null
                assert "anyOf" not in parameter["schema"], (method, path, parameter["name"])
    examples = [
        name
        for name, schema in spec["components"]["schemas"].items()
        if "examples" in schema or "example" in schema
    ]
    assert {
        "GenerateWorkflowRequest",
        "CreateUserRequest",
        "CreatedUser",
        "NodeUpdate",
        "WorkflowUpdate",
        "ShareRequest",
        "TokenResponse",
        "ErrorResponse",
        "ExecuteRequest",
    } <= set(examples)


def test_the_asyncapi_document_describes_every_subject_without_secrets() -> None:
    import json

    from pilot_gateway.asyncapi import specification_json

    spec = json.loads(specification_json("nats://user:hunter2@bus.internal:4222", "test"))
    assert spec["asyncapi"].startswith("3.")
    addresses = {channel["address"] for channel in spec["channels"].values()}
    assert {
        "pilot.cmd.plan",
        "pilot.cmd.generate",
        "pilot.cmd.run",
        "pilot.tasks.{node_type}",
        "pilot.results",
        "pilot.events.generation.{generation_id}",
        "pilot.events.execution.{workflow_id}.{execution_id}",
        "pilot.events.workflow.{workflow_id}",
    } <= addresses
    schemas = spec["components"]["schemas"]
    assert {"PlanRequest", "RunRequest", "NodeTask", "ExecutionEvent", "WorkflowChange"} <= set(
        schemas
    )
    assert "hunter2" not in json.dumps(spec) and spec["servers"]["development"]["host"] == (
        "bus.internal:4222"
    )
