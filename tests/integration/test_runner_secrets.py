"""Workflow secrets: encrypted at rest, the key generated once and kept in the data dir,
names found in templates, values masked; and the command that stores them."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pymongo.asynchronous.database import AsyncDatabase

from pilot_runners import secrets as cli
from pilot_shared.secrets import (
    SecretError,
    SecretStore,
    load_or_create_key,
    mask,
    referenced_names,
)
from pilot_shared.store import WORKFLOW_SECRETS, Document
from tests.conftest import Runtime


def test_key_is_generated_once_and_private(tmp_path: Path) -> None:
    first = load_or_create_key(None, tmp_path)
    assert load_or_create_key(None, tmp_path) == first
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    configured = Fernet.generate_key().decode()
    assert load_or_create_key(configured, tmp_path) == configured.encode()


def test_references_and_masking() -> None:
    templates = {
        "url": "https://x/{{ secrets.A }}",
        "headers": {"Authorization": "Bearer {{ secrets['B_2'] }}"},
        "body": ["{{ input.q }}", '{{ secrets["C"] | upper }}'],
    }
    assert referenced_names(templates) == {"A", "B_2", "C"}
    assert referenced_names("{{ input.secrets }}") == set()
    assert mask({"k": ["tok-1 and tok-12"]}, ["tok-1", "tok-12"]) == {"k": ["*** and ***"]}


async def test_values_are_encrypted_at_rest(db: AsyncDatabase[Document], tmp_path: Path) -> None:
    store = SecretStore(db, load_or_create_key(None, tmp_path))
    await store.put("API_TOKEN", "very-secret-value")
    raw = await db[WORKFLOW_SECRETS].find_one({"_id": "API_TOKEN"})
    assert raw is not None and "very-secret-value" not in str(raw)
    assert await store.resolve(["API_TOKEN"]) == {"API_TOKEN": "very-secret-value"}
    with pytest.raises(SecretError, match="'NOPE' is not defined"):
        await store.resolve(["API_TOKEN", "NOPE"])
    other = SecretStore(db, Fernet.generate_key())
    with pytest.raises(SecretError, match="cannot be decrypted"):
        await other.resolve(["API_TOKEN"])
    with pytest.raises(ValueError):
        await store.put("bad name", "x")


def test_the_command_stores_lists_and_deletes(
    runtime: Runtime,
    db_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PILOT_MONGODB_URL", runtime.mongodb_url)
    monkeypatch.setenv("PILOT_MONGODB_DB", db_name)
    monkeypatch.setenv("PILOT_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "stdin", io.StringIO("hunter2\n"))
    assert cli.main(["set", "SMTP_PASSWORD"]) == 0
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "SMTP_PASSWORD" in out and "hunter2" not in out
    assert cli.main(["delete", "SMTP_PASSWORD"]) == 0
    assert cli.main(["delete", "SMTP_PASSWORD"]) == 1
