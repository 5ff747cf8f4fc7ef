"""Managing users and their API keys through the API (the `pilot users` command does the
same directly against the store)."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.accounts import UsernameTakenError, create_user, issue_key, key_id_of
from pilot_shared.repositories import ApiKeyRepository
from pilot_shared.store import Document

from ..auth.schemas import Caller
from ..errors import ConflictError, NotFoundError
from .schemas import ApiKeyInfo, CreatedKey, CreatedUser, CreateUserRequest


class UsernameTakenConflict(ConflictError):
    pass


class ApiKeyNotFoundError(NotFoundError):
    def __init__(self, key_id: str) -> None:
        super().__init__(f"you have no API key {key_id!r}")


class LastKeyError(ConflictError):
    pass


async def add_user(db: AsyncDatabase[Document], body: CreateUserRequest) -> CreatedUser:
    try:
        user, key = await create_user(db, body.username, body.role)
    except UsernameTakenError as exc:
        raise UsernameTakenConflict(f"{exc}; choose another username") from None
    return CreatedUser(
        id=user.id, username=user.username, role=user.role, created_at=user.created_at, api_key=key
    )


async def list_keys(db: AsyncDatabase[Document], caller: Caller) -> list[ApiKeyInfo]:
    records = await ApiKeyRepository(db).list_for_user(caller.id)
    return [ApiKeyInfo(id=r.id, name=r.name, created_at=r.created_at) for r in records]


async def add_key(db: AsyncDatabase[Document], caller: Caller, name: str) -> CreatedKey:
    key = await issue_key(db, caller.id, name)
    record = await ApiKeyRepository(db).get(key_id_of(key) or "")
    assert record is not None, "a key just issued is stored"
    return CreatedKey(id=record.id, name=record.name, created_at=record.created_at, api_key=key)


async def delete_key(db: AsyncDatabase[Document], caller: Caller, key_id: str) -> None:
    keys = ApiKeyRepository(db)
    mine = await keys.list_for_user(caller.id)
    if not any(r.id == key_id for r in mine):
        raise ApiKeyNotFoundError(key_id)
    if len(mine) == 1:
        raise LastKeyError("this is your only API key: create another one before deleting it")
    if key_id == caller.key_id:
        raise LastKeyError(
            "this request was authenticated with that key: delete it using another key"
        )
    await keys.delete(key_id, caller.id)
