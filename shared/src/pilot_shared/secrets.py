"""Workflow secrets: values stored encrypted in the store, referenced by name.

Shared by the node runners (which decrypt) and any service that stores secrets (the
gateway, the `python -m pilot_runners.secrets` command): both need the same key, from
PILOT_SECRET_KEY or the file `secret.key` in the data dir.

A workflow says `{{ secrets.SLACK_WEBHOOK }}` in an api node's URL, headers, query or
body (or a tool's params); the runner decrypts only the names the node uses, renders with
them, and masks every value in whatever it echoes back (the node's input, errors, output).
The workflow, its exports, events and logs only ever hold the name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pymongo.asynchronous.database import AsyncDatabase

from .contracts import utcnow
from .store import WORKFLOW_SECRETS, Document

MASK = "***"


class SecretError(ValueError):
    """A secret that is missing or cannot be decrypted; the message names it, never its value."""


SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# `secrets.NAME`, `secrets['NAME']`, `secrets["NAME"]` inside any template
_REFERENCE = re.compile(r"""\bsecrets\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['"]([A-Za-z_]\w*)['"]\s*\])""")
_KEY_FILE = "secret.key"


def load_or_create_key(configured: str | None, data_dir: Path) -> bytes:
    """The configured Fernet key, else the one persisted in the data dir (made once)."""
    if configured:
        return configured.encode()
    path = Path(data_dir) / _KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:  # O_EXCL: two runners starting at once agree on the first key written
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def referenced_names(*templates: Any) -> set[str]:
    """Secret names used by templates (strings, or lists/dicts of them, searched deeply)."""
    names: set[str] = set()
    for value in _strings(templates):
        for m in _REFERENCE.finditer(value):
            names.add(m.group(1) or m.group(2))
    return names


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from _strings(v)


def mask(value: Any, secrets: Iterable[str]) -> Any:
    """`value` with every secret value replaced by ***, deeply."""
    hidden = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not hidden:
        return value

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            for s in hidden:
                v = v.replace(s, MASK)
            return v
        if isinstance(v, Mapping):
            return {walk(k) if isinstance(k, str) else k: walk(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        return v

    return walk(value)


class SecretStore:
    def __init__(self, db: AsyncDatabase[Document], key: bytes | Callable[[], bytes]) -> None:
        self._col = db[WORKFLOW_SECRETS]
        self._key = key
        self._fernet_: Fernet | None = None

    @property
    def _fernet(self) -> Fernet:
        # the key (maybe a file in the data dir) is loaded on first use, not at start-up
        if self._fernet_ is None:
            self._fernet_ = Fernet(self._key() if callable(self._key) else self._key)
        return self._fernet_

    async def put(self, name: str, value: str, *, owner_id: str | None = None) -> None:
        if not SECRET_NAME.match(name):
            raise ValueError(f"invalid secret name {name!r}")
        token = self._fernet.encrypt(value.encode()).decode()
        await self._col.update_one(
            {"_id": name},
            {"$set": {"ciphertext": token, "owner_id": owner_id, "updated_at": utcnow()}},
            upsert=True,
        )

    async def delete(self, name: str) -> bool:
        return (await self._col.delete_one({"_id": name})).deleted_count == 1

    async def names(self) -> list[str]:
        return sorted([str(d["_id"]) async for d in self._col.find({}, {"_id": 1})])

    async def resolve(self, names: Iterable[str]) -> dict[str, str]:
        """Decrypted values of `names`; a missing or undecryptable one raises SecretError."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        found = {d["_id"]: d async for d in self._col.find({"_id": {"$in": wanted}})}
        out: dict[str, str] = {}
        for name in wanted:
            doc = found.get(name)
            if doc is None:
                raise SecretError(f"secret {name!r} is not defined")
            try:
                out[name] = self._fernet.decrypt(str(doc["ciphertext"]).encode()).decode()
            except InvalidToken:
                raise SecretError(
                    f"secret {name!r} cannot be decrypted with this PILOT_SECRET_KEY"
                ) from None
        return out
