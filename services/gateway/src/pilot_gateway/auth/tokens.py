"""Bearer tokens (JWT, HS256): short-lived, minted from an API key, revocable with it.

The signing secret comes from `PILOT_JWT_SECRET`, or is generated once and kept in the
store, so every gateway of a deployment signs and accepts the same tokens.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass

import jwt
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from pilot_shared.store import SECRETS, Document

ISSUER = "pilot"
ALGORITHM = "HS256"
_SECRET_ID = "jwt_signing_secret"


class InvalidTokenError(Exception):
    pass


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    key_id: str  # the API key it was minted with: deleting the key revokes the token
    expires_at: int


def looks_like_jwt(credential: str) -> bool:
    return credential.count(".") == 2


def issue_token(secret: str, user_id: str, key_id: str, ttl_s: int) -> tuple[str, int]:
    """(token, expiry as a unix time)."""
    now = int(time.time())
    expires_at = now + ttl_s
    claims = {"iss": ISSUER, "sub": user_id, "kid": key_id, "iat": now, "exp": expires_at}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at


def verify_token(secret: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # never "none", never whatever the token claims
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidTokenError("the token has expired; get a new one") from None
    except jwt.PyJWTError:
        raise InvalidTokenError("the token is not valid") from None
    user_id, key_id = claims.get("sub"), claims.get("kid")
    if not isinstance(user_id, str) or not isinstance(key_id, str):
        raise InvalidTokenError("the token is not valid")
    return TokenClaims(user_id, key_id, int(claims["exp"]))


async def load_signing_secret(db: AsyncDatabase[Document]) -> str:
    """The deployment's secret, created by whichever gateway starts first."""
    col = db[SECRETS]
    doc = await col.find_one({"_id": _SECRET_ID})
    if doc is None:
        # Another gateway may win the race to create it: then its secret is used.
        with contextlib.suppress(DuplicateKeyError):
            await col.insert_one({"_id": _SECRET_ID, "value": secrets.token_urlsafe(48)})
        doc = await col.find_one({"_id": _SECRET_ID})
    if doc is None:
        raise RuntimeError("the token signing secret could not be stored")
    return str(doc["value"])
