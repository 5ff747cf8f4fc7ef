"""Users and API keys, shared by the gateway (`POST /api/users`, authentication) and the
`pilot` command (`pilot users create`, the admin key of `pilot up`).

A key is `pilot_<key id>_<secret>`: 256 random bits, so a plain sha256 is a safe hash
(there is nothing to brute-force), and the key id finds the stored hash in one lookup.
Keys are shown once, when issued; only their hashes are stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from .contracts import ApiKeyRecord, Role, User
from .repositories import ApiKeyRepository, UserRepository
from .store import Document

KEY_PREFIX = "pilot"
ADMIN_USERNAME = "admin"


class UsernameTakenError(Exception):
    def __init__(self, username: str) -> None:
        super().__init__(f"the username {username!r} is taken")
        self.username = username


def new_api_key() -> tuple[str, str]:
    """(key id, key)."""
    key_id = secrets.token_hex(8)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str | None:
    """The key id a presented key claims, or None when it is not shaped like a key."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or len(key_id) != 16 or not secret:
        return None
    return key_id


def key_matches(record: ApiKeyRecord, key: str) -> bool:
    return hmac.compare_digest(record.key_hash, hash_key(key))


async def issue_key(db: AsyncDatabase[Document], user_id: str, name: str = "default") -> str:
    """A new key for the user; the only time the key itself exists outside the client."""
    key_id, key = new_api_key()
    await ApiKeyRepository(db).insert(
        ApiKeyRecord(id=key_id, user_id=user_id, key_hash=hash_key(key), name=name)
    )
    return key


async def create_user(
    db: AsyncDatabase[Document], username: str, role: Role = "user"
) -> tuple[User, str]:
    """The new user and their first API key. Raises UsernameTakenError."""
    user = User(username=username, role=role)
    try:
        await UserRepository(db).insert(user)
    except DuplicateKeyError:
        raise UsernameTakenError(username) from None
    return user, await issue_key(db, user.id)


async def ensure_admin(db: AsyncDatabase[Document]) -> tuple[User, str] | None:
    """On first start: create the admin user and return it with its key. None when an
    admin exists already (its key cannot be shown again: only its hash is stored)."""
    users = UserRepository(db)
    if await users.count({"role": "admin"}) > 0:
        return None
    username = ADMIN_USERNAME
    if await users.get_by_username(username) is not None:
        username = f"{ADMIN_USERNAME}-{secrets.token_hex(3)}"
    try:
        return await create_user(db, username, role="admin")
    except UsernameTakenError:
        # Another process created the admin at the same moment: theirs stands.
        return None
