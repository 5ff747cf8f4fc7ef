"""Authentication, users and API keys, tokens, limits and the request id, against a real
gateway, NATS and store."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator

import jwt
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from pilot_gateway.auth.tokens import issue_token, load_signing_secret
from pilot_shared.settings import PilotSettings
from pilot_shared.store import API_KEYS, USERS, Document
from tests.integration.test_gateway_harness import (
    Gateway,
    error_of,
    gateway_settings,
    running_gateway,
    simple_workflow_json,
)


@pytest.fixture
async def gateway(settings: PilotSettings) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(settings)) as gw:
        yield gw


async def test_every_api_route_needs_a_credential(gateway: Gateway) -> None:
    async with gateway.client(api_key="") as anonymous:
        for method, path in [
            ("GET", "/api/workflows"),
            ("POST", "/api/workflows"),
            ("GET", "/api/workflows/x"),
            ("POST", "/api/workflows/x/execute"),
            ("GET", "/api/executions/x"),
            ("GET", "/api/executions/x/events"),
            ("POST", "/api/workflows/generate"),
            ("GET", "/api/users/me"),
        ]:
            r = await anonymous.request(method, path, json={})
            assert r.status_code == 401, (method, path, r.text)
            assert r.headers["www-authenticate"].startswith("Bearer")
            body = error_of(r)
            assert body["error"] == "unauthorized" and "Authorization: Bearer" in body["detail"]
        for public in ("/healthz", "/readyz", "/openapi.json", "/docs", "/asyncapi.json"):
            assert (await anonymous.get(public)).status_code == 200, public
    for bad in ("nonsense", "pilot_0123456789abcdef_wrong", "a.b.c"):
        async with gateway.client(api_key=bad) as client:
            r = await client.get("/api/users/me")
            assert r.status_code == 401 and r.json()["error"] == "unauthorized", bad


async def test_admins_create_users_whose_keys_are_shown_once_and_stored_hashed(
    gateway: Gateway, db: AsyncDatabase[Document]
) -> None:
    async with gateway.client() as admin:
        r = await admin.post("/api/users", json={"username": "alice"})
        assert r.status_code == 201, r.text
        created = r.json()
        key = created["api_key"]
        assert set(created) == {"id", "username", "role", "created_at", "api_key"}
        assert created["role"] == "user" and key.startswith("pilot_")

        r = await admin.post("/api/users", json={"username": "alice"})
        assert r.status_code == 409 and r.json()["error"] == "conflict"
        r = await admin.post("/api/users", json={"username": "no spaces allowed"})
        assert r.status_code == 422

        users = (await admin.get("/api/users")).json()
        assert "alice" in {u["username"] for u in users["items"]}
        assert "api_key" not in json.dumps(users) and key not in json.dumps(users)

    async with gateway.client(api_key=key) as alice:
        me = (await alice.get("/api/users/me")).json()
        assert me["username"] == "alice" and me["id"] == created["id"]
        r = await alice.post("/api/users", json={"username": "mallory"})
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert (await alice.get("/api/users")).status_code == 403
        keys = (await alice.get("/api/users/me/api-keys")).json()
        assert len(keys) == 1 and key not in json.dumps(keys)

    # The store has the sha256 of the key, never the key.
    record = await db[API_KEYS].find_one({"user_id": created["id"]})
    assert record is not None
    assert record["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    everything = json.dumps(
        [d async for d in db[API_KEYS].find({})] + [d async for d in db[USERS].find({})],
        default=str,
    )
    assert key not in everything and key.split("_")[2] not in everything


async def test_keys_rotate_and_the_last_or_current_key_cannot_be_deleted(
    gateway: Gateway,
) -> None:
    first = await gateway.create_user("bob")
    async with gateway.client(api_key=first) as bob:
        first_id = (await bob.get("/api/users/me/api-keys")).json()[0]["id"]
        r = await bob.delete(f"/api/users/me/api-keys/{first_id}")
        assert r.status_code == 409 and "only API key" in r.json()["detail"]
        r = await bob.post("/api/users/me/api-keys", json={"name": "ci"})
        assert r.status_code == 201
        second = r.json()["api_key"]
        r = await bob.delete(f"/api/users/me/api-keys/{first_id}")
        assert r.status_code == 409 and "authenticated with that key" in r.json()["detail"]
    async with gateway.client(api_key=second) as bob:
        assert (await bob.delete(f"/api/users/me/api-keys/{first_id}")).status_code == 204
        assert (await bob.delete("/api/users/me/api-keys/nope")).status_code == 404
    async with gateway.client(api_key=first) as old:
        assert (await old.get("/api/users/me")).status_code == 401


async def test_tokens_are_minted_from_keys_and_die_with_them(
    gateway: Gateway, db: AsyncDatabase[Document]
) -> None:
    key = await gateway.create_user("carol")
    async with gateway.client(api_key=key) as carol:
        r = await carol.post("/api/auth/token")
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        assert r.json()["token_type"] == "bearer" and r.json()["expires_in"] == 3600
        spare = (await carol.post("/api/users/me/api-keys", json={"name": "spare"})).json()
    async with gateway.client(api_key=token) as by_token:
        me = (await by_token.get("/api/users/me")).json()
        assert me["username"] == "carol"
        r = await by_token.post("/api/auth/token")
        assert r.status_code == 403  # a token cannot extend itself
        r = await by_token.post("/api/workflows", json=simple_workflow_json())
        assert r.status_code == 201 and r.json()["owner_id"] == me["id"]

    secret = await load_signing_secret(db)
    claims = jwt.decode(token, secret, algorithms=["HS256"], issuer="pilot")
    expired, _ = issue_token(secret, claims["sub"], claims["kid"], ttl_s=-10)
    forged = jwt.encode({**claims, "sub": "someone-else"}, "not-the-secret-" * 4, algorithm="HS256")
    unsigned = jwt.encode({**claims}, key="", algorithm="none")
    for bad, says in ((expired, "expired"), (forged, "not valid"), (unsigned, "not valid")):
        async with gateway.client(api_key=bad) as client:
            r = await client.get("/api/users/me")
            assert r.status_code == 401 and says in r.json()["detail"], r.text

    # Deleting the key the token was minted with revokes the token.
    async with gateway.client(api_key=spare["api_key"]) as carol:
        keys = (await carol.get("/api/users/me/api-keys")).json()
        original = next(k["id"] for k in keys if k["id"] != spare["id"])
        assert (await carol.delete(f"/api/users/me/api-keys/{original}")).status_code == 204
    async with gateway.client(api_key=token) as by_token:
        r = await by_token.get("/api/users/me")
        assert r.status_code == 401 and "deleted" in r.json()["detail"]


async def test_rate_limits_answer_429_with_retry_after_per_user(settings: PilotSettings) -> None:
    limited = gateway_settings(
        settings, rate_limit_per_minute=6, rate_limit_burst=3, auth_failures_per_minute=8
    )
    async with running_gateway(limited) as gw:
        alice, bob = await gw.create_user("alice"), await gw.create_user("bob")
        async with gw.client(api_key=alice) as client:
            statuses = [(await client.get("/api/users/me")).status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            r = await client.get("/api/users/me")
            assert r.status_code == 429
            body = error_of(r)
            assert body["error"] == "rate_limited" and "6 a minute" in body["detail"]
            assert int(r.headers["retry-after"]) == body["retry_after_s"]
        async with gw.client(api_key=bob) as client:  # a budget per user
            assert (await client.get("/api/users/me")).status_code == 200
        async with gw.client(api_key="pilot_0123456789abcdef_guess") as guesser:
            statuses = [(await guesser.get("/api/users/me")).status_code for _ in range(3)]
            assert statuses == [401, 401, 429]  # guessing keys is throttled per address


async def test_concurrent_executions_are_capped_per_user(settings: PilotSettings) -> None:
    # No executor runs: executions stay pending, holding their slots.
    async with running_gateway(gateway_settings(settings, max_concurrent_executions=2)) as gw:
        alice, bob = await gw.create_user("alice"), await gw.create_user("bob")
        for key in (alice, bob):
            async with gw.client(api_key=key) as client:
                workflow = (await client.post("/api/workflows", json=simple_workflow_json())).json()
                url = f"/api/workflows/{workflow['id']}/execute"
                run = {"input_data": {"user_message": "hi"}}
                assert (await client.post(url, json=run)).status_code == 202
                assert (await client.post(url, json=run)).status_code == 202
                r = await client.post(url, json=run)
                assert r.status_code == 429, r.text
                assert r.json()["error"] == "too_many_executions" and r.headers["retry-after"]
                assert "the limit is 2" in r.json()["detail"]


async def test_body_and_prompt_caps_are_configurable(settings: PilotSettings) -> None:
    capped = gateway_settings(settings, max_body_bytes=2_000, max_prompt_chars=50)
    async with running_gateway(capped) as gw, gw.client() as client:
        r = await client.post("/api/workflows/generate", json={"prompt": "x" * 3_000})
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
        r = await client.post("/api/workflows/generate", json={"prompt": "x" * 51})
        assert r.status_code == 422 and "the limit is 50" in r.json()["detail"]


async def test_the_request_id_is_in_the_response_and_the_log(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    from pilot_gateway.request_id import RequestIdLogFilter

    caplog.handler.addFilter(RequestIdLogFilter())
    with caplog.at_level(logging.INFO, logger="pilot_gateway"):
        async with gateway.client(headers={"X-Request-ID": "walkthrough-7"}) as client:
            r = await client.post(
                "/api/workflows", json={**simple_workflow_json(), "variables": {"n": 10**30}}
            )
    assert r.status_code == 422 and r.json()["error"] == "unstorable_value"
    assert r.headers["x-request-id"] == "walkthrough-7" == r.json()["request_id"]
    lines = [rec for rec in caplog.records if "unstorable" in rec.getMessage()]
    assert lines and all(rec.request_id == "walkthrough-7" for rec in lines)


async def test_store_round_trips_the_account_and_collaboration_documents(
    db: AsyncDatabase[Document],
) -> None:
    """The store contract (DESIGN.md §2) for the documents this issue added."""
    from pilot_shared.accounts import create_user as create_account
    from pilot_shared.contracts import (
        Execution,
        Workflow,
        WorkflowShare,
        WorkflowVersion,
        share_id,
        version_id,
    )
    from pilot_shared.repositories import (
        ApiKeyRepository,
        ExecutionRepository,
        ShareRepository,
        UserRepository,
        WorkflowRepository,
        WorkflowVersionRepository,
    )

    user, key = await create_account(db, "dana")
    assert await UserRepository(db).get(user.id) == user
    assert await UserRepository(db).get_by_username("dana") == user
    (record,) = await ApiKeyRepository(db).list_for_user(user.id)
    assert await ApiKeyRepository(db).get(record.id) == record and key.split("_")[1] == record.id

    workflow = Workflow.model_validate({**simple_workflow_json("版本"), "owner_id": user.id})
    workflows = WorkflowRepository(db)
    await workflows.insert(workflow)
    newer = workflow.model_copy(update={"version": 2, "name": "v2"})
    assert await workflows.replace_if_version(newer, expected_version=1)
    assert not await workflows.replace_if_version(newer, expected_version=1)  # stale
    assert (await workflows.get(workflow.id)) == newer

    versions = WorkflowVersionRepository(db)
    for wf in (workflow, newer):
        version = WorkflowVersion(
            id=version_id(wf.id, wf.version),
            workflow_id=wf.id,
            version=wf.version,
            saved_by=user.id,
            workflow=wf,
        )
        await versions.put(version)
        await versions.put(version)  # idempotent
    assert [v.version for v in await versions.list(workflow.id)] == [2, 1]
    got = await versions.get(workflow.id, 1)
    assert got is not None and got.workflow == workflow and await versions.count(workflow.id) == 2

    shares = ShareRepository(db)
    share = WorkflowShare(
        id=share_id(workflow.id, "u2"),
        workflow_id=workflow.id,
        user_id="u2",
        role="editor",
        created_by=user.id,
    )
    await shares.put(share)
    assert await shares.get(workflow.id, "u2") == share
    assert await shares.workflow_ids_for_user("u2") == [workflow.id]
    assert await shares.delete(workflow.id, "u2") and await shares.get(workflow.id, "u2") is None

    executions = ExecutionRepository(db)
    for i, status in enumerate(("pending", "running", "completed")):
        await executions.insert(
            Execution(id=f"x{i}", workflow_id=workflow.id, owner_id=user.id, status=status)
        )
    assert await executions.count_active(user.id) == 2
    assert await executions.count(workflow_id=workflow.id) == 3
