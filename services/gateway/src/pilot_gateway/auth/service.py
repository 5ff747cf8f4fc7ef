"""Authentication: a bearer credential (an API key or a token) in, the calling user out.

Every failure is the same 401 kind, with a detail that says what to send; which part of
a presented key was wrong is not revealed.
"""

from __future__ import annotations

from typing import Literal

from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.accounts import key_id_of, key_matches
from pilot_shared.repositories import ApiKeyRepository, UserRepository
from pilot_shared.store import Document

from ..errors import PilotError
from .schemas import Caller
from .tokens import InvalidTokenError, looks_like_jwt, verify_token

HOW_TO = (
    "send `Authorization: Bearer <key>` with an API key (from `pilot users create` or "
    "POST /api/users) or a token from POST /api/auth/token"
)


class UnauthorizedError(PilotError):
    status_code = 401
    kind = "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="pilot"'})


async def authenticate(
    credential: str | None, db: AsyncDatabase[Document], signing_secret: str
) -> Caller:
    if not credential:
        raise UnauthorizedError(f"authentication required: {HOW_TO}")
    keys = ApiKeyRepository(db)
    via: Literal["api_key", "token"]
    if looks_like_jwt(credential):
        try:
            claims = verify_token(signing_secret, credential)
        except InvalidTokenError as exc:
            raise UnauthorizedError(f"{exc}; {HOW_TO}") from None
        record = await keys.get(claims.key_id)
        if record is None or record.user_id != claims.user_id:
            raise UnauthorizedError("the API key this token was issued for has been deleted")
        via = "token"
    else:
        key_id = key_id_of(credential)
        record = await keys.get(key_id) if key_id is not None else None
        if record is None or not key_matches(record, credential):
            raise UnauthorizedError(f"the API key is not valid; {HOW_TO}")
        via = "api_key"
    user = await UserRepository(db).get(record.user_id)
    if user is None:
        raise UnauthorizedError("the user of this API key no longer exists")
    return Caller(user=user, via=via, key_id=record.id)
