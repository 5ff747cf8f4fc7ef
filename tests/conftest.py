"""Shared fixtures: a real nx-27017 store started once per session with a fresh database per
test, and a real nats-server (JetStream) started fresh for each test that asks for one, so
durable consumers and work queues never carry messages from one test into the next."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from pilot.embedded import ManagedProcess, document_store, mongodb_url, nats_server, nats_url
from pilot_shared.bus import ensure_streams_at
from pilot_shared.contracts import new_id
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document, create_store_client, ensure_indexes
from tests.support.fake_openai import FakeOpenAI


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` first (a stable sort keeps the rest in order): `make test`'s
    workers take whole files in this order, so a minutes-long file does not start last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@dataclass
class Runtime:
    store: ManagedProcess
    data_dir: Path

    @property
    def mongodb_url(self) -> str:
        return mongodb_url(self.store)


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    data_dir = tmp_path_factory.mktemp("runtime")
    store = document_store(data_dir)
    store.start()
    try:
        yield Runtime(store, data_dir)
    finally:
        store.stop()


@pytest.fixture
def nats_proc(tmp_path: Path) -> Iterator[ManagedProcess]:
    """A fresh nats-server with JetStream for one test (kill/restart it to test recovery)."""
    proc = nats_server(tmp_path)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
async def nats_server_url(nats_proc: ManagedProcess) -> str:
    url = nats_url(nats_proc)
    await ensure_streams_at(url)
    return url


@pytest.fixture
def db_name() -> str:
    """A database of its own for each test, so tests never see each other's documents."""
    return f"t_{new_id()[:12]}"


@pytest.fixture
async def store_client(runtime: Runtime) -> AsyncIterator[AsyncMongoClient[Document]]:
    client = create_store_client(runtime.mongodb_url)
    yield client
    await client.close()


@pytest.fixture
async def db(store_client: AsyncMongoClient[Document], db_name: str) -> AsyncDatabase[Document]:
    database = store_client[db_name]
    await ensure_indexes(database)
    return database


@pytest.fixture
def settings(runtime: Runtime, nats_server_url: str, db_name: str, tmp_path: Path) -> PilotSettings:
    """Settings of every service in a test: this test's NATS, the shared store, its own db."""
    return PilotSettings(
        nats_url=nats_server_url,
        mongodb_url=runtime.mongodb_url,
        mongodb_db=db_name,
        data_dir=tmp_path,
    )


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible server on a free port; set `.responder` to script its answers."""
    with FakeOpenAI().serve() as server:
        yield server
