"""Users and their API keys. A key is stored only as its sha256: the key itself is shown
once, when it is issued, and never again."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias

from pydantic import Field

from .base import PilotModel, new_id, utcnow

Role: TypeAlias = Literal["admin", "user"]
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class User(PilotModel):
    id: str = Field(default_factory=new_id)
    username: str = Field(pattern=USERNAME_PATTERN, description="unique; letters, digits, . _ -")
    role: Role = "user"
    created_at: datetime = Field(default_factory=utcnow)


class ApiKeyRecord(PilotModel):
    """A stored API key. `id` is the key's public id, which is also part of the key
    (`pilot_<id>_<secret>`), so a presented key is found without scanning hashes."""

    id: str
    user_id: str
    key_hash: str = Field(description="sha256 of the whole key, hex")
    name: str = "default"
    created_at: datetime = Field(default_factory=utcnow)
