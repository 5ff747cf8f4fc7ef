"""/api/users: admins create users; everyone manages their own API keys.
/api/auth/token: a short-lived bearer token for an API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from pilot_shared.contracts import User

from ..auth.schemas import TokenResponse
from ..auth.tokens import issue_token
from ..deps import AdminDep, CallerDep, DatabaseDep, LimitParam, ResourcesDep, SkipParam, UsersDep
from ..errors import COMMON_ERRORS, ForbiddenError, error_responses
from . import service
from .schemas import (
    ApiKeyInfo,
    CreatedKey,
    CreatedUser,
    CreateKeyRequest,
    CreateUserRequest,
    UserList,
)

router = APIRouter(tags=["users"], responses=error_responses(*COMMON_ERRORS))


@router.post(
    "/api/users",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedUser,
    responses=error_responses(403, 409, _403="Only admins create users"),
    summary="Create a user and their first API key (admins only)",
)
async def create_user(body: CreateUserRequest, db: DatabaseDep, _: AdminDep) -> CreatedUser:
    """The answer holds the new user's API key: the only time it is shown."""
    return await service.add_user(db, body)


@router.get(
    "/api/users",
    response_model=UserList,
    responses=error_responses(403),
    summary="List users (admins only)",
)
async def list_users(
    users: UsersDep,
    _: AdminDep,
    skip: SkipParam = 0,
    limit: LimitParam = 50,
) -> UserList:
    return UserList(
        items=await users.list(skip=skip, limit=limit),
        skip=skip,
        limit=limit,
        total=await users.count(),
    )


@router.get("/api/users/me", response_model=User, summary="Who you are")
async def me(caller: CallerDep) -> User:
    return caller.user


@router.get(
    "/api/users/me/api-keys",
    response_model=list[ApiKeyInfo],
    summary="Your API keys (ids and names; never the keys)",
)
async def list_keys(caller: CallerDep, db: DatabaseDep) -> list[ApiKeyInfo]:
    return await service.list_keys(db, caller)


@router.post(
    "/api/users/me/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedKey,
    summary="Create another API key (e.g. to rotate one)",
)
async def create_key(body: CreateKeyRequest, caller: CallerDep, db: DatabaseDep) -> CreatedKey:
    """The answer holds the key: the only time it is shown."""
    return await service.add_key(db, caller, body.name)


@router.delete(
    "/api/users/me/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        404, 409, _409="Your only key, or the key this request used, cannot be deleted"
    ),
    summary="Delete one of your API keys (tokens issued for it stop working)",
)
async def delete_key(
    key_id: Annotated[str, Path(max_length=64)], caller: CallerDep, db: DatabaseDep
) -> None:
    await service.delete_key(db, caller, key_id)


@router.post(
    "/api/auth/token",
    response_model=TokenResponse,
    responses=error_responses(403, _403="Tokens are issued for API keys, not for other tokens"),
    tags=["auth"],
    summary="Exchange your API key for a short-lived bearer token",
)
async def token(caller: CallerDep, resources: ResourcesDep) -> TokenResponse:
    """For browsers (WebSocket and EventSource take a token in `?access_token=`) and for
    handing out access that expires by itself. Deleting the key revokes its tokens."""
    if caller.via != "api_key":
        raise ForbiddenError("authenticate with an API key to get a token")
    ttl = resources.settings.jwt_ttl_s
    access_token, _ = issue_token(resources.signing_secret, caller.id, caller.key_id, ttl)
    return TokenResponse(access_token=access_token, expires_in=ttl)
