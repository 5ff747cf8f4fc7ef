"""`pilot users …`: manage users and API keys directly in the store of a data dir.

Which store: `PILOT_MONGODB_URL` when set; else the one a running `pilot up` on that data
dir uses (it leaves its URLs in `<data-dir>/pilot-up.json`); else the embedded store is
started on the data dir for the moment the command needs it.

Keys go to stdout alone (`KEY=$(pilot users create bob)` works); everything else goes to
stderr. A key is shown once: only its hash is stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pilot_shared.accounts import UsernameTakenError, create_user, ensure_admin, issue_key
from pilot_shared.contracts import Role, User
from pilot_shared.repositories import UserRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import create_store_client

from .embedded import document_store, mongodb_url

RUNTIME_FILE = "pilot-up.json"
ADMIN_KEY_FILE = "admin.key"


def write_runtime(data_dir: Path, info: dict[str, str]) -> None:
    (data_dir / RUNTIME_FILE).write_text(json.dumps({"pid": os.getpid(), **info}))


def clear_runtime(data_dir: Path) -> None:
    (data_dir / RUNTIME_FILE).unlink(missing_ok=True)


def _running_store(data_dir: Path) -> str | None:
    """The store URL of a `pilot up` running on this data dir, if one is."""
    try:
        info = json.loads((data_dir / RUNTIME_FILE).read_text())
        os.kill(int(info["pid"]), 0)  # signal 0: is it alive?
    except (OSError, ValueError, KeyError, TypeError):
        return None
    url = info.get("mongodb_url")
    return str(url) if url else None


@contextmanager
def store_url(data_dir: Path) -> Iterator[str]:
    external = os.environ.get("PILOT_MONGODB_URL")
    if external:
        yield external
        return
    running = _running_store(data_dir)
    if running:
        yield running
        return
    store = document_store(data_dir)
    store.start()
    try:
        yield mongodb_url(store)
    finally:
        store.stop()


async def _with_db(url: str, action: str, username: str, role: Role) -> tuple[User, str]:
    client = create_store_client(url)
    try:
        db = client[PilotSettings().mongodb_db]
        if action == "create":
            return await create_user(db, username, role)
        user = await UserRepository(db).get_by_username(username)
        if user is None:
            raise LookupError(f"no user is called {username!r}")
        return user, await issue_key(db, user.id, name="cli")
    finally:
        await client.close()


def run_users(*, action: str, username: str, data_dir: Path, admin: bool = False) -> int:
    """`create`: a new user and their key; `key`: a new key for an existing user."""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with store_url(data_dir) as url:
            user, key = asyncio.run(_with_db(url, action, username, "admin" if admin else "user"))
    except UsernameTakenError as exc:
        print(
            f"error: {exc}; `pilot users key {username}` gives that user a new key",
            file=sys.stderr,
        )
        return 1
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{user.role} {user.username!r} (id {user.id}); API key (shown once):", file=sys.stderr)
    print(key, flush=True)
    return 0


def write_admin_key(data_dir: Path, key: str) -> Path:
    path = data_dir / ADMIN_KEY_FILE
    # Created private: the key is a password.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return path


def ensure_admin_key(url: str, data_dir: Path) -> tuple[str | None, Path]:
    """First start: create the admin, write its key to <data-dir>/admin.key and return it.
    Later starts: (None, path) — the key cannot be shown again, only its hash is kept."""

    async def ensure() -> str | None:
        client = create_store_client(url)
        try:
            created = await ensure_admin(client[PilotSettings().mongodb_db])
        finally:
            await client.close()
        return created[1] if created is not None else None

    key = asyncio.run(ensure())
    path = data_dir / ADMIN_KEY_FILE
    if key is not None:
        write_admin_key(data_dir, key)
    return key, path
