"""GroupCommit: callers arriving during a write share the next one, and each waits for
its own items to be written (or gets the write's error)."""

from __future__ import annotations

import asyncio

import pytest

from pilot_shared.store import GroupCommit


async def test_callers_during_a_write_share_the_next_one() -> None:
    writes: list[list[int]] = []
    writing = asyncio.Event()
    release = asyncio.Event()

    async def write(items: list[int]) -> None:
        writes.append(items)
        writing.set()
        if len(writes) == 1:
            await release.wait()

    group = GroupCommit(write)
    first = asyncio.create_task(group.submit([1]))
    await writing.wait()  # the first write is in flight
    rest = [asyncio.create_task(group.submit([n, n * 10])) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    assert not any(t.done() for t in [first, *rest])  # nobody returns before its write
    release.set()
    await asyncio.gather(first, *rest)
    assert writes == [[1], [2, 20, 3, 30, 4, 40]]


async def test_a_failed_write_fails_every_caller_in_it_and_not_the_next() -> None:
    calls = 0

    async def write(items: list[int]) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if calls == 1:
            raise ConnectionError("store down")

    group = GroupCommit(write)
    results = await asyncio.gather(group.submit([1]), group.submit([2]), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    await group.submit([3])  # the writer recovers
    with pytest.raises(ConnectionError):
        calls = 0
        await group.submit([4])
